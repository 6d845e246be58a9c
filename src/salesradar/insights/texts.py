"""The words of each insight kind, in English and Hebrew, built from the evidence numbers, and
the claims (:mod:`salesradar.claims`) behind every number they state.

>>> money(38_250.0)
'₪38k'
>>> evidence = {"customer_name": "Cohen Foods", "customer_id": "C1", "share": 0.2,
...             "revenue_12m": 1_200_000.0, "threshold": 0.15, "as_of": "2026-06-30"}
>>> en, he = render("concentration", evidence)
>>> en.what
"Cohen Foods is 20% of the last year's revenue"
>>> he.why.split(" ")[:2]
['₪1.2', 'מיליון']
>>> [(c["claim"], c["value"]) for c in claims_of("concentration", evidence)][:2]
[('net_revenue', 1200000.0), ('revenue_share', 0.2)]
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from salesradar.charts.labels import format_day
from salesradar.claims import Claim, claim
from salesradar.currency import SIGN_PATTERN, SYMBOLS, exact
from salesradar.insights.model import Texts
from salesradar.lang import hebrew_prefixes
from salesradar.models.churn_text import (
    rhythm_claims,
    rhythm_text,
    rhythm_words,
    stake_claims,
    stake_text,
    stake_words,
    terms_of,
)
from salesradar.models.crosssell.reasons import offer_reason
from salesradar.models.text import money

__all__ = ["claims_of", "money", "render", "render_with_claims"]

Evidence = dict[str, Any]


def _n(value: Any, digits: int = 0) -> str:
    v = float(value or 0.0)
    return f"{v:,.{digits}f}"


def _pct(value: Any, digits: int = 0) -> str:
    return f"{100 * float(value or 0.0):.{digits}f}%"


def _customer(e: Evidence) -> str:
    """The customer's name; a customer known only by its code is written between the marks
    of :data:`_BARE_CODE`, which :func:`render_with_claims` words in each language ("Customer
    18102", "לקוח 18102"): a bare "18102 stopped buying" reads as a quantity."""
    code = str(e.get("customer_id"))
    name = e.get("customer_name")
    return str(name) if name and str(name) != code else f"\ue000{code}\ue001"


_BARE_CODE = re.compile("\ue000([^\ue001]*)\ue001")
_CODE_WORD = {"en": "Customer ", "he": "לקוח "}


def _coded(text: str, lang: str) -> str:
    """A customer code between :func:`_customer`'s marks as "Customer 18102" / "לקוח 18102"."""
    if "\ue000" not in text:
        return text
    return _BARE_CODE.sub(lambda m: _CODE_WORD[lang] + m.group(1), text)


def _sku(e: Evidence) -> str:
    return str(e.get("sku_name") or e.get("sku"))


def _rep(e: Evidence) -> str:
    return str(e.get("rep_name") or e.get("rep_id"))


_CHURN_HEAD = {
    "past_rhythm": ("{c} is drifting from its rhythm", "{c} מתרחק מקצב ההזמנות שלו"),
    "lost": ("{c} has stopped ordering", "{c} הפסיק להזמין"),
    "not_reordered": ("{c} has not reordered in {d} days", "{c} לא הזמין שוב כבר {d} יום"),
    "revenue": ("{c} is buying less", "{c} קונה פחות"),
    "orders": ("{c} orders less often", "{c} מזמין בתדירות נמוכה יותר"),
    "breadth": ("{c} buys fewer items", "{c} קונה פחות פריטים"),
    "returns": ("{c} is sending goods back", "{c} מחזיר סחורה"),
}
_CHURN_NEXT = {
    "past_rhythm": ("Call the buyer at {c} this week: ask what changed and book the next order",
                    "להתקשר השבוע לקניין של {c}: לברר מה השתנה ולסגור את ההזמנה הבאה"),
    "lost": ("Plan a win-back call to {c}: find out why they left and make an offer",
             "לתכנן שיחת החזרה ל-{c}: לברר למה עזב ולהציע תנאים לחזור"),
    "not_reordered": ("Call {c}: ask how the last orders went and book the next one",
                      "להתקשר ל-{c}: לשאול איך היו ההזמנות האחרונות ולסגור את הבאה"),
    "revenue": ("Call {c}: ask whether part of what they buy now goes to another supplier",
                "להתקשר ל-{c}: לברר אם חלק מהרכש עובר עכשיו לספק אחר"),
    "orders": ("Call {c}: ask whether part of what they buy now goes to another supplier",
               "להתקשר ל-{c}: לברר אם חלק מהרכש עובר עכשיו לספק אחר"),
    "breadth": ("Go over with {c} the items they stopped taking and offer them again",
                "לעבור עם {c} על הפריטים שהפסיק לקחת ולהציע אותם שוב"),
    "returns": ("Ask {c} what went wrong with the returned goods and fix it before the next "
                "order", "לברר עם {c} מה השתבש בסחורה שהוחזרה ולתקן לפני ההזמנה הבאה"),
}


_BY_RECENCY_RULE = (" by the recency rule (the churn model did not beat it on this data)",
                    " לפי כלל הזמן מאז ההזמנה האחרונה (מודל הנטישה לא גבר עליו בנתונים אלה)")


def _churn_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    t = terms_of(e)
    c, lost = _customer(e), bool(e.get("lost"))
    situation = str(e.get("situation") or "past_rhythm")
    head = "lost" if lost else (situation if situation in ("past_rhythm", "not_reordered")
                                else str(e.get("lead_reason") or "revenue"))
    p = _pct(e["churn_probability"])
    by_rule = e.get("scored_by") == "recency_rule"  # the model lost its backtest here
    heads, steps, d = _CHURN_HEAD[head], _CHURN_NEXT[head], round(t["days_since_last_order"])
    if head == "not_reordered" and e.get("long_silent"):  # not "how did the last orders go"
        steps = _CHURN_NEXT["lost"]
    en = Texts(heads[0].format(c=c, d=d), "; ".join([
        rhythm_text(t, lang="en"), stake_text(t, lost=lost, lang="en"),
        f"churn risk {p}{_BY_RECENCY_RULE[0] if by_rule else ''}", *(e.get("reasons") or [])]),
        steps[0].format(c=c))
    he = Texts(heads[1].format(c=c, d=d), "; ".join([
        rhythm_text(t, lang="he"), stake_text(t, lost=lost, lang="he"),
        f"סיכון נטישה {p}{_BY_RECENCY_RULE[1] if by_rule else ''}",
        *(e.get("reasons_he") or [])]),
        steps[1].format(c=c))
    # the claims are the same in both languages: said once, with the English words
    claims = [*rhythm_claims(t), *stake_claims(t),
              claim("model_output", round(float(e["churn_probability"]), 4),
                    output="churn_probability")]
    reason_claims = e.get("reason_claims") or "[]"
    if reason_claims != "[]":  # most customers have none: nothing to parse
        claims += json.loads(reason_claims)
    return en, he, claims



def _no_repeat_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    t = terms_of(e)
    c, k = _customer(e), round(float(e["repeat_days"]))
    once_en, said = rhythm_words(t, lang="en")
    once_he = rhythm_text(t, lang="he")
    stake_en, more = stake_words(t, lang="en")
    stake_he = stake_text(t, lang="he")
    stake = float(t["value_at_stake"])
    # the one order's amount (rhythm_text's "bought once: ₪1.4k"), said already
    if stake > 0 and money(stake) == money(t["last_order_sales"]):
        stake_en, stake_he = "that order's value is at stake", "שווי ההזמנה הזו בסיכון"
    en = Texts(f"{c} has not placed a second order",
               f"{once_en}; half of the customers who ordered again did so within {k} days; "
               f"{stake_en}",
               f"Call {c}: check the first order arrived as expected and offer the next one")
    he = Texts(f"{c} עוד לא הזמין הזמנה שנייה",
               f"{once_he}; מחצית הלקוחות שהזמינו שוב עשו זאת תוך {k} יום; {stake_he}",
               f"להתקשר ל-{c}: לוודא שההזמנה הראשונה הגיעה כמצופה ולהציע את הבאה")
    return en, he, [*said, *more, claim("setting", k, setting="repeat_days")]



def _item_words(i: Evidence, as_of: str, customer: str) -> tuple[str, str, list[Claim]]:
    """One stopped item's facts in English and Hebrew, with the claims behind them."""
    sku = _sku(i)
    gap, usual, n = _n(i["gap_days"]), _n(i["median_gap"]), _n(i["purchases"])
    last, at = format_day(i["last_day"]), money(i["value_at_stake"])
    where = {"customer_id": customer, "sku": i["sku"], "to": as_of}
    claims = [claim("purchase_days", int(i["purchases"]), **where),
              claim("median_gap_days", float(i["median_gap"]), **where),
              claim("days_since_last_purchase", round(float(i["gap_days"])), **where),
              claim("last_purchase_day", i["last_day"], **where),
              claim("past_rhythm", True, **where),
              claim("value_at_stake", float(i["value_at_stake"]), **where)]
    if i.get("longest_gap") is not None:  # scores kept before the longest gap was: none
        claims.append(claim("longest_gap_days", float(i["longest_gap"]), **where))
    en = (f"{sku}: bought on {n} days, usually every ~{usual} days; none for {gap} days "
          f"(last {last}); {at} in the year to its last purchase")
    he = (f"{sku}: נקנה ב-{n} ימים שונים, בדרך כלל כל ~{usual} יום; אין רכישה כבר {gap} יום "
          f"(אחרונה {last}); {at} בשנה שעד הרכישה האחרונה שלו")
    returned = float(i.get("returned_after_last") or 0.0)
    if returned > 0:
        start = dt.date.fromisoformat(str(i["last_day"])[:10]) + dt.timedelta(days=1)
        claims.append(claim("returned", returned, **where, **{"from": start}))
        en += f"; returned {money(returned)} of it since"
        he += f"; החזיר ממנו {money(returned)} מאז"
    return en, he, claims


_ITEMS_SHOWN = 3  # a stopped-items card names its biggest items, then counts the rest


def _stopped_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    c, items = _customer(e), list(e["items"])
    as_of = str(e["as_of"])[:10]
    words = [_item_words(i, as_of, str(e["customer_id"])) for i in items]
    claims = [x for _, _, said in words for x in said]
    # the model lost its backtest here: the rule's note, once per card
    by_rule = items[0].get("scored_by") == "gap_rule"
    # "longer than any before" only where every item's longest gap is known (scores kept
    # before it was are worded as the rule then was)
    beyond = " and longer than any before" if all(
        i.get("longest_gap") is not None for i in items) else ""
    rule_en = ((" (each gap" if len(items) > 1 else " (gap") + f" over twice its usual{beyond}: "
               "the stopped-items model did not beat this rule on this data)") if by_rule else ""
    rule_he = ((" (כל פער" if len(items) > 1 else " (פער") + " של יותר מפי שניים מהרגיל"
               + (" וארוך מכל פער קודם" if beyond else "")
               + ": מודל הפריטים שנעצרו לא גבר על כלל זה בנתונים אלה)") if by_rule else ""
    if len(items) == 1:
        sku = _sku(items[0])
        words = [(en + rule_en, he + rule_he, said) for en, he, said in words]
        en = Texts(f"{c} stopped buying {sku}", words[0][0],
                   f"Ask {c} whether they switched supplier for {sku}; offer a reorder or a "
                   "matching price")
        he = Texts(f"{c} הפסיק לקנות את {sku}", words[0][1],
                   f"לברר עם {c} אם עבר לספק אחר עבור {sku}; להציע הזמנה חוזרת או מחיר תואם")
        return en, he, claims
    n, at = len(items), money(e["value_at_stake"])
    claims += [claim("setting", n, setting="items"),
               claim("sum_of", float(e["value_at_stake"]), of="value_at_stake")]
    shown, more = words[:_ITEMS_SHOWN], n - _ITEMS_SHOWN
    en_more = he_more = ""
    if more > 0:  # the rest are in the evidence (and the 360); the text stays readable
        claims.append(claim("setting", more, setting="items_not_listed"))
        en_more = f"; and {more} more item{'s' if more > 1 else ''}"
        he_more = f"; ועוד {more} פריטים" if more > 1 else "; ועוד פריט אחד"
    words = shown
    en = Texts(f"{c} stopped buying {n} items it bought regularly",
               f"{at} between them, each in the year to its last purchase; "
               + "; ".join(w[0] for w in words)
               + en_more + rule_en,
               f"Go through the {n} items with {c} in one call: ask whether they switched "
               "supplier and offer a reorder")
    he = Texts(f"{c} הפסיק לקנות {n} פריטים שקנה בקביעות",
               f"{at} ביחד, כל פריט בשנה שעד הרכישה האחרונה שלו; "
               + "; ".join(w[1] for w in words) + he_more
               + rule_he,
               f"לעבור עם {c} על {n} הפריטים בשיחה אחת: לברר אם עבר לספק אחר ולהציע הזמנה "
               "חוזרת")
    return en, he, claims



def _cross_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    """An offer in words (:func:`~salesradar.models.crosssell.reasons.offer_reason`: the
    recommender's numbers, the products by name) and the claims behind them: the fit used the
    lines on or before the day judged, its last year the 365 days up to it."""
    c, sku = _customer(e), _sku(e)
    end = dt.date.fromisoformat(str(e["as_of"])[:10])
    year = {"from": end - dt.timedelta(days=364), "to": end}
    anchor = (e.get("anchor") or {}).get("sku")
    claims: list[Claim] = [
        claim("sku_net_buyers", int(e["year_buyers"]), sku=e["sku"], **year),
        claim("median_buyer_spend", float(e["expected_value"]), sku=e["sku"], **year)]
    if anchor:
        claims += [claim("sku_buyers", int(e["anchor_buyers"]), sku=anchor, to=end),
                   claim("co_buyers", int(e["co_buyers"]), sku=e["sku"], with_sku=anchor,
                         to=end)]
    else:
        claims += [claim("sku_buyers", int(e["sku_buyers"]), sku=e["sku"], to=end),
                   claim("customers", int(e["customers"]), to=end,
                         exclude_skus=list(e.get("non_product_codes") or []))]
    offer = {**e, "name": e.get("sku_name"), "anchor_sku": anchor or None,
             "anchor_name": (e.get("anchor") or {}).get("name")}
    reason_en = offer_reason(offer, "en") or str(e.get("reason") or "")
    reason_he = offer_reason(offer, "he") or reason_en
    by_rule = e.get("scored_by") == "popularity"
    en = Texts(f"Offer {sku} to {c}",
               f"{reason_en}, about what it is worth a year to a customer who buys it"
               + ("; picked by popularity (the cross-sell model did not beat it on this data)"
                  if by_rule else ""),
               f"Mention {sku} on the next call or add a sample to the next delivery to {c}")
    he = Texts(f"להציע את {sku} ל-{c}",
               f"{reason_he}, בערך שוויו בשנה ללקוח שקונה אותו"
               + ("; נבחר לפי פופולריות (מודל ההמלצות לא גבר עליה בנתונים אלה)"
                  if by_rule else ""),
               f"להזכיר את {sku} בשיחה הבאה או לצרף דוגמה למשלוח הבא של {c}")
    return en, he, claims



def _active_drop_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    rep, month = str(e.get("rep_name") or e["group"]), _month_words(str(e["month"])[:7])
    # the expected count with its decimal: "5 vs 7.5 expected (33% lower)", not "vs 7"
    expected = float(e["expected"])
    value, exp = _n(e["value"]), _n(expected, 0 if expected == round(expected) else 1)
    ch = _pct(-float(e["change"] or 0.0))
    behind = list(e.get("customers") or [])
    start, end = str(e["month"])[:10], str(e["month_end"])[:10]
    claims: list[Claim] = [  # the counts of the month they name
        claim("model_output", float(e["value"]), output="active_customers",
              **{"from": start}, to=end),
        claim("model_output", float(e["expected"]), output="expected_active_customers"),
        claim("model_output", -float(e["change"] or 0.0), output="drop_share")]
    for c in behind:
        where = {"customer_id": c["customer_id"], "to": end}
        claims += [claim("median_gap_days", float(c["typical_gap_days"]), **where),
                   claim("purchase_days_in", 0, customer_id=c["customer_id"],
                         **{"from": start}, to=end),
                   claim("value_at_stake", float(c["value_at_stake"]), **where)]
    if behind:
        n, at = len(behind), money(e.get("value_at_stake"))
        claims += [claim("setting", n, setting="customers_behind"),
                   claim("sum_of", float(e["value_at_stake"]), of="value_at_stake")]
        names = ", ".join(_customer({"customer_id": c["customer_id"],
                                     "customer_name": c.get("name")}) for c in behind[:5])
        listed = f"({names}{', ...' if n > 5 else ''})"
        if n == 1:
            en_more = (f"; 1 of the customers who usually buy at least monthly bought nothing "
                       f"in {month} {listed}: {at} at stake")
            he_more = (f"; לקוח אחד שקונה בדרך כלל לפחות פעם בחודש לא קנה ב-{month} "
                       f"{listed}: {at} בסיכון")
        else:
            en_more = (f"; {n} of the customers who usually buy at least monthly bought "
                       f"nothing in {month} {listed}: {at} at stake between them")
            he_more = (f"; {n} מהלקוחות שקונים בדרך כלל לפחות פעם בחודש לא קנו ב-{month} "
                       f"{listed}: {at} בסיכון ביחד")
        if n == 1:
            step_en = f"Call {names}: ask why nothing was ordered in {month}"
            step_he = f"להתקשר ל-{names}: לברר למה לא הוזמן דבר ב-{month}"
        else:
            step_en = f"Call the regular customers who did not order in {month}, biggest first"
            step_he = f"להתקשר ללקוחות הקבועים שלא הזמינו ב-{month}, מהגדול לקטן"
    else:
        en_more = "; none of the regular customers is behind it (the missing ones buy rarely)"
        he_more = "; אף אחד מהלקוחות הקבועים אינו מאחורי הירידה (החסרים קונים לעיתים רחוקות)"
        step_en = (f"Go through the occasional customers who did not come back in {month} "
                   "with the rep")
        step_he = f"לעבור עם הנציג על הלקוחות המזדמנים שלא חזרו ב-{month}"
    en = Texts(f"Active customers of {rep} dropped in {month}",
               f"{value} active customers vs {exp} expected after seasonality ({ch} lower)"
               f"{en_more}", step_en)
    he = Texts(f"ירידה בלקוחות הפעילים של {rep} בחודש {month}",
               f"{value} לקוחות פעילים לעומת {exp} צפויים אחרי עונתיות (נמוך ב-{ch}){he_more}",
               step_he)
    return en, he, claims



def _period(text: str) -> dict[str, str]:
    """``{"from": ..., "to": ...}`` of an evidence period ``YYYY-MM-DD/YYYY-MM-DD``."""
    start, _, end = str(text).partition("/")
    return {"from": start, "to": end}


def _span(text: str) -> str:
    """An evidence period ``YYYY-MM-DD/YYYY-MM-DD`` as people read it: ``01/07/2026–30/09/2026``."""
    bounds = _period(text)
    return f"{format_day(bounds['from'])}–{format_day(bounds['to'])}"


def _margin_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    c, cid = _customer(e), str(e["customer_id"])
    m0, m1 = _pct(e["margin_before"], 1), _pct(e["margin_after"], 1)
    at, rev = money(e["gross_profit_lost"]), money(e["revenue_after"])
    before, after = _period(e["period_before"]), _period(e["period_after"])
    margin0 = claim("gross_margin", float(e["margin_before"]), customer_id=cid, **before)
    margin1 = claim("gross_margin", float(e["margin_after"]), customer_id=cid, **after)
    revenue1 = claim("costed_revenue", float(e["revenue_after"]), customer_id=cid, **after)
    claims = [margin0, margin1, revenue1,
              claim("derived", float(e["gross_profit_lost"]), formula="(m0 - m1) * r1",
                    inputs={"m0": margin0, "m1": margin1, "r1": revenue1})]
    driver = e.get("driver_name") or e.get("driver_sku")
    if driver and (e.get("driver_points") or 0) < 0:
        points = f"{-100 * float(e['driver_points']):.1f}"
        en_most = f"; {driver} alone took {points} points"
        he_most = f"; {driver} לבדו הוריד {points} נקודות"
        if e.get("driver_revenue_after") == 0:  # its share of the earlier margin, gone
            en_most += " (not bought in the last quarter)"
            he_most += " (לא נקנה ברבעון האחרון)"
        sku = str(e["driver_sku"])
        claims.append(claim("derived", -100 * float(e["driver_points"]),
                            formula="-100 * (gp1 / r1 - gp0 / r0)", inputs={
                                "gp0": claim("gross_profit", e["driver_gp_before"],
                                             customer_id=cid, sku=sku, **before),
                                "gp1": claim("gross_profit", e["driver_gp_after"],
                                             customer_id=cid, sku=sku, **after),
                                "r0": claim("costed_revenue", float(e["revenue_before"]),
                                            customer_id=cid, **before),
                                "r1": revenue1}))
    else:
        en_most = he_most = ""
    return (
        Texts(f"Margin on {c} is eroding",
              f"gross margin {m1} in {_span(e['period_after'])} vs {m0} in "
              f"{_span(e['period_before'])} "
              f"on {rev} revenue: {at} gross profit lost in the quarter{en_most}",
              f"Check the discounts and prices given to {c} and the cost of what they buy; "
              "restore price or change the mix"),
        Texts(f"שחיקת רווחיות אצל {c}",
              f"רווח גולמי {m1} בתקופה {_span(e['period_after'])} לעומת {m0} בתקופה "
              f"{_span(e['period_before'])} על הכנסות של {rev}: {at} רווח גולמי שאבד ברבעון"
              f"{he_most}",
              f"לבדוק הנחות ומחירים שניתנו ל-{c} ואת עלות המוצרים; להחזיר מחיר או לשנות תמהיל"),
        claims,
    )


STALE_LEAD_DAYS = 90  # a lead older than this is re-qualified, not called
#: lead sources in words (English, Hebrew); any other source is shown as the data write it
LEAD_SOURCES = {
    "web": ("the website", "האתר"), "website": ("the website", "האתר"),
    "referral": ("a referral", "המלצה"), "trade_show": ("a trade show", "תערוכה"),
    "cold": ("cold outreach", "פנייה יזומה"), "event": ("an event", "אירוע"),
    "partner": ("a partner", "שותף"), "email": ("email", "מייל"),
    "phone": ("a phone call", "שיחת טלפון"), "social": ("social media", "רשתות חברתיות"),
}


def _lead_source(source: Any) -> tuple[str, str]:
    """The lead's source in English and Hebrew words (``"unknown"`` when the data give none)."""
    if source is None or not str(source).strip():
        return "an unknown source", "לא ידוע"
    text = str(source).strip()
    return LEAD_SOURCES.get(text.lower(), (text, text))


def _lead_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    lead, hours, sla = str(e["lead_id"]), float(e["age_hours"]), _n(e["sla_hours"])
    age = f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"
    age_he = f"{hours:.0f} שעות" if hours < 72 else f"{hours / 24:.0f} יום"
    src, src_he = _lead_source(e.get("source"))
    now = str(e["now"])
    age_claim = claim("lead_age_hours", hours, lead_id=lead, at=now)
    claims = [age_claim, claim("setting", float(e["sla_hours"]), setting="sla_hours"),
              claim("record_count", 0, table="activities", where={"lead_id": lead},
                    date_column="at", to=now)]
    if hours >= 72:
        claims.append(claim("derived", hours / 24, formula="hours / 24",
                            inputs={"hours": age_claim}))
    if hours / 24 > STALE_LEAD_DAYS:  # too old to "call now": check it is still a lead
        return (
            Texts(f"Lead {lead} was never contacted and is now stale",
                  f"created {age} ago from {src}, no call, email or meeting since; the SLA "
                  f"was {sla} hours",
                  f"Re-qualify lead {lead}: check whether the need still exists before "
                  "calling, or close it"),
            Texts(f"הליד {lead} לא טופל ועבר זמנו",
                  f"נוצר לפני {age_he} (מקור: {src_he}), מאז ללא שיחה, מייל או פגישה; זמן "
                  f"התגובה הנדרש היה {sla} שעות",
                  f"לבדוק מחדש את הליד {lead}: לוודא שהצורך עדיין קיים לפני שמתקשרים, או "
                  "לסגור אותו"),
            claims,
        )
    return (
        Texts(f"Lead {lead} has not been contacted",
              f"created {age} ago from {src}, no call, email or meeting yet; the SLA is "
              f"{sla} hours",
              f"Call lead {lead} now; if there is no answer, email and retry within 24 hours"),
        Texts(f"לא נוצר קשר עם הליד {lead}",
              f"נוצר לפני {age_he} (מקור: {src_he}), עדיין ללא שיחה, מייל או פגישה; זמן התגובה "
              f"הנדרש {sla} שעות",
              f"להתקשר עכשיו לליד {lead}; אם אין מענה, לשלוח מייל ולנסות שוב תוך 24 שעות"),
        claims,
    )


def _month_bounds(period: str) -> dict[str, str]:
    start = dt.date.fromisoformat(f"{period}-01")
    nxt = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return {"from": start.isoformat(), "to": (nxt - dt.timedelta(days=1)).isoformat()}


def _month_words(period: str) -> str:
    """An evidence month ``2026-11`` as people write it: ``11/2026``."""
    year, _, month = period.partition("-")
    return f"{month}/{year}" if month else period


def _coverage_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    rep, period, rid = _rep(e), str(e["period"]), str(e["rep_id"])
    shown = _month_words(period)
    cov, need = f"{float(e['coverage']):.2f}", _n(e["coverage_min"])
    pipe, rem = money(e["open_pipeline"]), money(e["remaining"])
    month = _month_bounds(period)
    target = claim("record_sum", float(e["target"]), table="targets", column="value",
                   where={"rep_id": rid, "metric": "revenue", "period": month["from"]})
    won = claim("record_sum", float(e["won"]), table="deals", column="amount",
                where={"owner_rep_id": rid, "outcome": "won"}, date_column="close_date",
                **month)
    open_ = claim("record_sum", float(e["open_pipeline"]), table="deals", column="amount",
                  where={"owner_rep_id": rid, "outcome": "open"}, date_column="close_date",
                  **month)
    remaining = claim("derived", float(e["remaining"]), formula="target - won",
                      inputs={"target": target, "won": won})
    claims = [target, won, open_, remaining,
              claim("derived", float(e["coverage"]), formula="open / (target - won)",
                    inputs={"open": open_, "target": target, "won": won}),
              claim("setting", float(e["coverage_min"]), setting="coverage_min")]
    return (
        Texts(f"Pipeline of {rep} is too thin for {shown}",
              f"open pipeline closing in {shown} {pipe} vs {rem} of target still to win: "
              f"coverage {cov}x, below {need}x",
              "Add qualified opportunities closing this period or pull forward deals from "
              "next period; review with the manager this week"),
        Texts(f"צבר העסקאות של {rep} דל מדי עבור {shown}",
              f"עסקאות פתוחות שנסגרות ב-{shown}: {pipe} מול {rem} יעד שנותר: "
              f"כיסוי פי {cov}, מתחת לפי {need} הנדרש",
              "להוסיף הזדמנויות ממשיות שנסגרות בתקופה או להקדים עסקאות מהתקופה הבאה; "
              "לעבור על כך עם המנהל השבוע"),
        claims,
    )


def _forecast_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    rep, period, rid = _rep(e), str(e["period"]), str(e["rep_id"])
    shown = _month_words(period)
    # exact amounts: the sentence is a subtraction the reader checks (55k - 44k - 1.5k is not
    # 9.0k; 54,600 - 44,100 - 1,470 is 9,030)
    f, act = exact(float(e["forecast"])), exact(float(e["actual_so_far"]))
    rest_value = max(float(e["run_rate_rest"]), float(e["weighted_pipeline"]))
    rest = exact(rest_value)
    gap = exact(float(e["forecast"]) - float(e["projected"]))
    left = e["days_left"]
    month = _month_bounds(period)
    as_of = str(e["as_of"])[:10]
    commit = claim("record_value", float(e["forecast"]), table="forecast_submissions",
                   column="amount", where={"rep_id": rid, "period": month["from"],
                                           "category": "commit",
                                           "submitted_at": str(e["submitted_at"])})
    actual = claim("net_revenue", float(e["actual_so_far"]), rep_id=rid,
                   **{"from": month["from"]}, to=as_of)
    weights = dict(e.get("weights") or {"commit": 0.8, "best_case": 0.4, "pipeline": 0.1})
    after = (dt.date.fromisoformat(as_of) + dt.timedelta(days=1)).isoformat()
    known = dict(e.get("open_by_category") or {})
    pipes = {cat: claim("record_sum", float(known.get(cat, 0.0)), table="deals", column="amount",
                        where={"owner_rep_id": rid, "outcome": "open",
                               "forecast_category": cat},
                        date_column="close_date", to=month["to"], **{"from": after})
             for cat in weights}
    weighted = " + ".join(f"{w} * open_{cat}" for cat, w in weights.items())
    inputs = {"actual": actual, **{f"open_{cat}": c for cat, c in pipes.items()}}
    rest_formula = (f"max(actual / {e['days_elapsed']} * {left}, {weighted})")
    claims = [commit, actual,
              claim("setting", int(left), setting="days_left"),
              claim("derived", rest_value, formula=rest_formula, inputs=inputs),
              claim("derived", float(e["forecast"]) - float(e["projected"]),
                    formula=f"committed - actual - {rest_formula}",
                    inputs={**inputs, "committed": commit})]
    left_en = "the last day left" if int(left) == 1 else f"the {left} days left"
    left_he = "ביום האחרון שנותר" if int(left) == 1 else f"ב-{left} הימים שנותרו"
    if any(float(v or 0.0) > 0 for v in known.values()):
        step_en = "Review the commit deals one by one with the rep and update the forecast"
        step_he = "לעבור עם הנציג על עסקאות ההתחייבות אחת-אחת ולעדכן את התחזית"
    else:  # nothing open left to review
        step_en = (f"Update the forecast with the rep: no open deal is left to close in "
                   f"{shown}")
        step_he = f"לעדכן את התחזית עם הנציג: לא נשארה עסקה פתוחה שנסגרת ב-{shown}"
    # which of the two adds the rest (the larger), not "the one or the other"
    by_pipeline = float(e["weighted_pipeline"]) > float(e["run_rate_rest"])
    adds_en = "the weighted open pipeline" if by_pipeline else "the run rate"
    adds_he = "צבר העסקאות הפתוחות המשוקלל" if by_pipeline else "הקצב הנוכחי"
    return (
        Texts(f"Forecast of {rep} for {shown} is at risk",
              f"committed {f}; invoiced so far {act}, and {adds_en} adds {rest} in {left_en}: "
              f"{gap} short", step_en),
        Texts(f"התחזית של {rep} ל-{shown} בסיכון",
              f"התחייבות {f}; חשבוניות עד כה {act}, ו{adds_he} מוסיף {rest} {left_he}: "
              f"חסרים {gap}", step_he),
        claims,
    )


def _year(e: Evidence) -> dict[str, str]:
    """The trailing year [as_of − 364 days, as_of] of the evidence, as claim bounds."""
    end = dt.date.fromisoformat(str(e["as_of"])[:10])
    return {"from": (end - dt.timedelta(days=364)).isoformat(), "to": end.isoformat()}


def _concentration_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    c, share, rev = _customer(e), _pct(e["share"]), money(e["revenue_12m"])
    limit = _pct(e.get("threshold", 0.15))
    year, cid = _year(e), str(e["customer_id"])
    claims = [claim("net_revenue", float(e["revenue_12m"]), customer_id=cid, **year),
              claim("revenue_share", float(e["share"]), customer_id=cid, **year),
              claim("setting", float(e.get("threshold", 0.15)), setting="threshold")]
    return (
        Texts(f"{c} is {share} of the last year's revenue",
              f"{rev} of revenue in the last year, above the {limit} concentration "
              "threshold; losing it would hit the whole company",
              f"Write an account plan for {c} with executive contact, and grow other "
              "accounts to reduce dependence"),
        Texts(f"{c} מהווה {share} מההכנסות בשנה האחרונה",
              f"{rev} הכנסות בשנה האחרונה, מעל סף הריכוזיות של {limit}; אובדן הלקוח יפגע "
              "בכל החברה",
              f"לכתוב תוכנית לקוח ל-{c} עם קשר בדרג הנהלה, ולהגדיל לקוחות אחרים כדי "
              "להקטין את התלות"),
        claims,
    )


def _single_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    c, n, ex = _customer(e), int(e["contacts"]), int(e["executives"])
    rev = money(e["revenue_12m"])
    tier = e.get("tier") or "top"
    cid = str(e["customer_id"])
    claims = [claim("net_revenue", float(e["revenue_12m"]), customer_id=cid, **_year(e)),
              claim("record_count", n, table="contacts", where={"customer_id": cid}),
              claim("record_count", ex, table="contacts",
                    where={"customer_id": cid, "level": "executive"})]
    contacts_en = "1 contact on record" if n == 1 else f"{n} contacts on record"
    contacts_he = "איש קשר אחד רשום" if n == 1 else f"{n} אנשי קשר רשומים"
    if ex == 0:
        level_en = "none at executive level" if n > 1 else "not at executive level"
        level_he = "אף אחד מהם בדרג הנהלה" if n > 1 else "לא בדרג הנהלה"
    else:
        level_en = f"{ex} at executive level"
        level_he = "אחד מהם בדרג הנהלה" if ex == 1 else f"{ex} מהם בדרג הנהלה"
    return (
        Texts(f"{c} hangs on a single thread",
              f"tier {tier} account with {rev} in the last year; {contacts_en}, {level_en}",
              f"Meet a second person at {c}, ideally an executive, and add them to the CRM"),
        Texts(f"הקשר עם {c} תלוי באדם אחד",
              f"לקוח בדירוג {tier} עם {rev} בשנה האחרונה; {contacts_he}, {level_he}",
              f"לקבוע פגישה עם איש קשר נוסף ב-{c}, רצוי בדרג הנהלה, ולהוסיף אותו למערכת"),
        claims,
    )


def _overdue_claims(e: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    c, due = _customer(e), money(e["overdue_amount"])
    n, days, p = int(e["overdue_invoices"]), _n(e["max_days_overdue"]), _pct(
        e["churn_probability"])
    where = {"customer_id": str(e["customer_id"]), "to": str(e["as_of"])[:10]}
    claims = [claim("overdue_amount", float(e["overdue_amount"]), **where),
              claim("overdue_invoices", n, **where),
              claim("days_overdue_max", int(e["max_days_overdue"]), **where),
              claim("model_output", round(float(e["churn_probability"]), 4),
                    output="churn_probability")]
    if n == 1:
        unpaid_en = f"1 unpaid invoice, {days} days past due"
        unpaid_he = f"חשבונית אחת שלא שולמה, באיחור של {days} יום אחרי מועד הפירעון"
    else:
        unpaid_en = f"{n} unpaid invoices past due, the oldest by {days} days"
        unpaid_he = (f"{n} חשבוניות שלא שולמו אחרי מועד הפירעון, הוותיקה באיחור של {days} "
                     "יום")
    return (
        Texts(f"{c} owes {due} and may be leaving", f"{unpaid_en}; churn risk {p}",
              f"Call {c} together with finance: agree a payment plan before the next "
              "delivery"),
        Texts(f"{c} חייב {due} ועלול לעזוב", f"{unpaid_he}; סיכון נטישה {p}",
              f"להתקשר ל-{c} יחד עם מחלקת הכספים: לסכם הסדר תשלום לפני המשלוח הבא"),
        claims,
    )


_RENDER: dict[str, Callable[[Evidence], tuple[Texts, Texts, list[Claim]]]] = {
    "churn_risk": _churn_claims,
    "no_repeat_order": _no_repeat_claims,
    "stopped_item": _stopped_claims,
    "cross_sell": _cross_claims,
    "active_customers_drop": _active_drop_claims,
    "margin_erosion": _margin_claims,
    "lead_not_contacted": _lead_claims,
    "pipeline_coverage_low": _coverage_claims,
    "forecast_at_risk": _forecast_claims,
    "concentration": _concentration_claims,
    "single_threaded_account": _single_claims,
    "overdue_payments_at_risk": _overdue_claims,
}


# a short amount begins with a currency sign, so with one of their first characters: the
# lookahead, a plain character set, lets the engine pass over every other position at once
# instead of trying each sign there (a third of the time on a card's text, the same matches)
_SIGN_STARTS = "".join(sorted({re.escape(s[0]) for s in SYMBOLS.values()})) + "A-Z"
_SHORT = re.compile(rf"(?=[{_SIGN_STARTS}])({SIGN_PATTERN}-?[\d.]+)([kM])")
_MAYBE_SHORT = re.compile(r"[\d.][kM]")  # in every match of _SHORT, found much faster
_HE_UNITS = {"k": " אלף", "M": " מיליון"}


def _hebrew_amounts(text: str) -> str:
    """``₪38k`` → ``₪38 אלף``, ``₪1.2M`` → ``₪1.2 מיליון``."""
    if ("k" not in text and "M" not in text) or not _MAYBE_SHORT.search(text):
        return text  # no short amount (a digit or point right before k or M): nothing to do
    return _SHORT.sub(lambda m: m.group(1) + _HE_UNITS[m.group(2)], text)


def render(kind: str, evidence: Evidence) -> tuple[Texts, Texts]:
    """English and Hebrew texts (what, why, next step) of one insight from its evidence."""
    en, he, _ = render_with_claims(kind, evidence)
    return en, he


def _hebrew(text: str) -> str:
    return hebrew_prefixes(_hebrew_amounts(_coded(text, "he")))


def render_with_claims(kind: str, evidence: Evidence) -> tuple[Texts, Texts, list[Claim]]:
    """:func:`render` and :func:`claims_of` at once (a refresh writes both for every
    insight: one pass over the evidence instead of two)."""
    en, he, claims = _RENDER[str(kind)](evidence)
    if "\ue000" in en.what + en.why + en.next_step:
        en = Texts(_coded(en.what, "en"), _coded(en.why, "en"), _coded(en.next_step, "en"))
    return en, Texts(_hebrew(he.what), _hebrew(he.why), _hebrew(he.next_step)), claims


def claims_of(kind: str, evidence: Evidence) -> list[Claim]:
    """The claims (:mod:`salesradar.claims`) behind the numbers the texts of ``kind`` state
    (the same in both languages)."""
    return _RENDER[str(kind)](evidence)[2]
