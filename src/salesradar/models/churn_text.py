"""The churn explanation in words, in English and Hebrew.

:meth:`salesradar.models.churn.ChurnModel.explain` passes one customer's numbers (its feature
values ``c``, the value at stake per quarter, the probability and its top reason groups);
this module words them. The rhythm and the money follow :mod:`salesradar.models.cadence`
(typical gap = median gap, value at stake per quarter). Hebrew follows the insight texts'
style: numbers before "יום", money as :func:`salesradar.models.text.money` writes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from salesradar.lang import Lang, parse_lang
from salesradar.models.text import money

__all__ = ["explanation", "reason_text"]


# group -> (recent window column, window before it)
_WINDOWS = {
    "orders": ("orders_w1", "orders_w2"),
    "revenue": ("revenue_w1", "revenue_w2"),
    "breadth": ("skus_w1", "skus_w2"),
}

_EN = {
    "rhythm": "orders every ~{gap}; last order {last} ago",
    "once": "ordered once, {last} ago",
    "stake": "{value} a quarter at stake",
    "no_value": "no net revenue in its last year of orders",
    "chance": "{p:.0%} chance of no order in the next {h} days",
    "bought_once": "has bought only once so far; many one-time buyers do not come back",
    "gap_ratio": "{r:.1f}× its usual gap since the last order",
    "orders": "{now} in the last {w} days vs {before:.0f} in the {w} before",
    "revenue": "{now} in the last {w} days vs {before} in the {w} before",
    "breadth": "bought {now} in the last {w} days vs {before:.0f} before",
    "returns": "returned {share:.0%} of what it bought in the last year",
    "margin": "margin {rate:.0%} over the last year",
    "payments": "{share:.0%} of invoices paid late in the last year (on average {days:.0f} days)",
    "no_contact": "no contact person on file",
    "contacts": "only {n:.0f} contact(s) on file",
    "season": "bought {value} in this season last year ({orders} in the {h} days from this date "
              "a year ago)",
    "season_none": "no order in this season last year (the {h} days from this date a year ago)",
    "season_new": "not yet a customer in this season last year (the {h} days from this date a "
                  "year ago)",
}
_HE = {
    "rhythm": "מזמין כל ~{gap}; הזמנה אחרונה לפני {last}",
    "once": "הזמין פעם אחת, לפני {last}",
    "stake": "{value} לרבעון בסיכון",
    "no_value": "ללא הכנסה נטו בשנת ההזמנות האחרונה שלו",
    "chance": "סיכוי של {p:.0%} שלא יזמין ב-{h} הימים הבאים",
    "bought_once": "קנה רק פעם אחת עד כה; רבים מהקונים החד-פעמיים לא חוזרים",
    "gap_ratio": "עבר פי {r:.1f} מהמרווח הרגיל שלו מאז ההזמנה האחרונה",
    "orders": "{now} ב-{w} הימים האחרונים לעומת {before:.0f} ב-{w} הימים שלפניהם",
    "revenue": "{now} ב-{w} הימים האחרונים לעומת {before} ב-{w} הימים שלפניהם",
    "breadth": "קנה {now} ב-{w} הימים האחרונים לעומת {before:.0f} לפני כן",
    "returns": "החזיר {share:.0%} ממה שקנה בשנה האחרונה",
    "margin": "רווח גולמי {rate:.0%} בשנה האחרונה",
    "payments": "{share:.0%} מהחשבוניות שולמו באיחור בשנה האחרונה (בממוצע {days:.0f} יום)",
    "no_contact": "אין איש קשר רשום",
    "contacts": "רק {n:.0f} אנשי קשר רשומים",
    "season": "קנה ב-{value} בעונה הזו בשנה שעברה ({orders} ב-{h} הימים מתאריך זה לפני שנה)",
    "season_none": "לא הזמין בעונה הזו בשנה שעברה ({h} הימים מתאריך זה לפני שנה)",
    "season_new": "עוד לא היה לקוח בעונה הזו בשנה שעברה ({h} הימים מתאריך זה לפני שנה)",
}
_TEXTS: dict[str, dict[str, str]] = {"en": _EN, "he": _HE}


def _check(lang: str) -> dict[str, str]:
    return _TEXTS[parse_lang(lang)]


def _days(value: float, lang: str) -> str:
    n = round(value)
    if lang == "he":
        return "יום אחד" if n == 1 else f"{n} יום"
    return f"{n} day" if n == 1 else f"{n} days"


def _count(value: float, noun: str, lang: str) -> str:
    n = round(value)
    if lang == "he":
        he = {"order": ("הזמנה אחת", "הזמנות"), "different item": ("פריט אחד", "פריטים שונים")}
        one, many = he[noun]
        return one if n == 1 else f"{n} {many}"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def explanation(
    c: dict[str, float],
    value: float,
    probability: float,
    horizon_days: int,
    window_days: int,
    reasons: Sequence[str],
    *,
    currency: str = "₪",
    lang: Lang = "en",
) -> list[str]:
    """The lines of one customer's explanation: rhythm and money, the probability, then one
    line per reason group in ``reasons`` (strongest first), at most five lines."""
    t = _check(lang)
    if c["purchase_days"] >= 2 and not math.isnan(c["median_gap"]):
        rhythm = t["rhythm"].format(gap=_days(c["median_gap"], lang),
                                    last=_days(c["recency_days"], lang))
    else:
        rhythm = t["once"].format(last=_days(c["recency_days"], lang))
    stake = t["stake"].format(value=money(value, currency)) if value > 0 else t["no_value"]
    lines = [f"{rhythm}; {stake}", t["chance"].format(p=probability, h=horizon_days)]
    for group in reasons:
        text = reason_text(group, c, window_days, currency=currency, lang=lang,
                           season_days=horizon_days)
        if text:
            lines.append(text)
    return lines[:5]


def reason_text(
    group: str, c: dict[str, float], w: int, *, currency: str = "₪", lang: Lang = "en",
    season_days: int = 90,
) -> str:
    """One reason in the customer's terms (empty when its numbers are missing).

    ``w`` is the recent window of the features, ``season_days`` the length of "this season
    last year" (the model's horizon).
    """
    t = _check(lang)

    def known(*names: str) -> bool:
        return all(not math.isnan(c[n]) for n in names)

    if group == "rhythm" and c["purchase_days"] < 2:
        return t["bought_once"]
    if group == "rhythm" and known("gap_ratio"):
        return t["gap_ratio"].format(r=c["gap_ratio"])
    if group in _WINDOWS:
        recent, before = _WINDOWS[group]
        if c[recent] == 0 and c[before] == 0:
            return ""  # nothing in either window: the first line already says how long ago
    if group == "orders":
        return t["orders"].format(now=_count(c["orders_w1"], "order", lang), w=w,
                                  before=c["orders_w2"])
    if group == "revenue":
        return t["revenue"].format(now=money(c["revenue_w1"], currency), w=w,
                                   before=money(c["revenue_w2"], currency))
    if group == "breadth":
        return t["breadth"].format(now=_count(c["skus_w1"], "different item", lang), w=w,
                                   before=c["skus_w2"])
    if group == "returns" and known("returns_share") and c["returns_share"] >= 0.01:
        return t["returns"].format(share=c["returns_share"])
    if group == "margin" and known("margin_rate"):
        return t["margin"].format(rate=c["margin_rate"])
    if group == "payments" and known("late_share", "mean_days_late"):
        return t["payments"].format(share=c["late_share"], days=c["mean_days_late"])
    if group == "season" and known("orders_last_season", "revenue_last_season"):
        if c["orders_last_season"] == 0:
            newer = c.get("tenure_days", math.inf) < 365  # first order after that season
            return t["season_new" if newer else "season_none"].format(h=season_days)
        return t["season"].format(value=money(c["revenue_last_season"], currency),
                                  orders=_count(c["orders_last_season"], "order", lang),
                                  h=season_days)
    if group == "contacts" and known("contacts"):
        return t["no_contact"] if c["contacts"] == 0 else t["contacts"].format(n=c["contacts"])
    return ""
