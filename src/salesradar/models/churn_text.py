"""The churn explanation in words, in English and Hebrew, with the claims behind each number.

:meth:`salesradar.models.churn.ChurnModel.explain`, the churn insight and the customer 360 word
one customer from its *terms* (:mod:`salesradar.models.cadence`: purchase days, rhythm, last
order, money at stake) and its feature values ``c``. Every sentence states only what the
customer's own rows prove, and every number in it comes with a claim
(:mod:`salesradar.insights.claims`) the truth audit recomputes:

- a rhythm ("orders every ~12 days") only with at least three purchase days; with fewer the
  facts ("bought once: ₪3,528 on 07/12/2011", "bought twice, 41 days apart");
- a reason only when its direction holds for this customer (fewer orders *and* the number of
  orders fell; returns only when it returned something), with its numbers;
- money at stake as :mod:`salesradar.models.cadence` defines it (net, the last year of buying).

Hebrew follows the insight texts' style: numbers before "יום", money as
:func:`salesradar.models.text.money` writes it, dates dd/mm/yyyy.

>>> t = terms_of({"customer_id": "C1", "as_of": "2026-03-31", "purchase_days": 1,
...               "last_order": "2026-02-20", "first_order": "2026-02-20",
...               "last_order_sales": 3528.0, "days_since_last_order": 39,
...               "value_at_stake": 3528.0})
>>> rhythm_words(t)[0]
'bought once: ₪3.5k on 20/02/2026, 39 days ago'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import string
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.charts.labels import format_day
from salesradar.claims import Claim, claim, steady
from salesradar.dates import as_date
from salesradar.lang import Lang, parse_lang
from salesradar.models.cadence import RHYTHM_MIN_DAYS
from salesradar.models.text import day_texts, join_text, money, number_text

__all__ = [
    "explanation", "explanation_claims", "paused_longer_before", "reason_claims_json",
    "reason_holds", "reason_holds_columns", "reason_texts", "reason_words", "rhythm_claims",
    "rhythm_text", "rhythm_words", "stake_claims", "stake_text", "stake_words", "term_columns",
    "terms_of",
]

# group -> (recent window column, window before it)
_WINDOWS = {
    "orders": ("orders_w1", "orders_w2"),
    "revenue": ("revenue_w1", "revenue_w2"),
    "breadth": ("skus_w1", "skus_w2"),
}
# group -> the claim of its windows' numbers
_WINDOW_CLAIMS = {"orders": "purchase_days_in", "revenue": "net_revenue",
                  "breadth": "distinct_skus"}

_EN = {
    "rhythm": "orders every ~{gap}; last order {last} ago ({state})",
    "past": "past its rhythm",
    "past_paused": "past its rhythm, but it paused {longest} before and came back",
    "past_longest": "past its rhythm; its longest pause before was {longest}",
    "within": "within its rhythm",
    "twice": "bought twice, {gap} apart; last order {last} ago",
    "once": "bought once: {value} on {day}, {last} ago",
    "stake": "{value} at stake: its net purchases in the year to its last order",
    "stake_lost": "bought {value} (net) in the year before it stopped",
    "no_value": "no net revenue in its last year of orders",
    "chance": "{p:.0%} chance of no order in the next {h} days",
    "by_rule": " (by the recency rule: the churn model did not beat it on this data)",
    "orders": "{now} in the last {w} days vs {before} in the {w} before",
    "revenue": "{now} in the last {w} days vs {before} in the {w} before",
    "breadth": "bought {now} in the last {w} days vs {before} in the {w} before",
    "returns": "returned {returned} of the {bought} it bought in its last year of orders",
    "season_none": "no order in this season last year ({start} to {end})",
    "no_contact": "no contact person on file",
}
_HE = {
    "rhythm": "מזמין כל ~{gap}; הזמנה אחרונה לפני {last} ({state})",
    "past": "מעבר לקצב שלו",
    "past_paused": "מעבר לקצב שלו, אבל כבר עבר {longest} בלי הזמנה וחזר",
    "past_longest": "מעבר לקצב שלו; ההפסקה הארוכה ביותר שלו לפני כן הייתה {longest}",
    "within": "בתוך הקצב שלו",
    "twice": "קנה פעמיים, בהפרש של {gap}; הזמנה אחרונה לפני {last}",
    "once": "קנה פעם אחת: {value} ב-{day}, לפני {last}",
    "stake": "{value} בסיכון: רכישותיו נטו בשנה שעד ההזמנה האחרונה",
    "stake_lost": "קנה ב-{value} (נטו) בשנה שלפני שהפסיק",
    "no_value": "ללא הכנסה נטו בשנת ההזמנות האחרונה שלו",
    "chance": "סיכוי של {p:.0%} שלא יזמין ב-{h} הימים הבאים",
    "by_rule": " (לפי כלל הזמן מאז ההזמנה האחרונה: מודל הנטישה לא גבר עליו בנתונים אלה)",
    "orders": "{now} ב-{w} הימים האחרונים לעומת {before} ב-{w} הימים שלפניהם",
    "revenue": "{now} ב-{w} הימים האחרונים לעומת {before} ב-{w} הימים שלפניהם",
    "breadth": "{now} ב-{w} הימים האחרונים לעומת {before} ב-{w} הימים שלפניהם",
    "returns": "החזיר {returned} מתוך {bought} שקנה בשנת ההזמנות האחרונה שלו",
    "season_none": "לא הזמין בעונה הזו בשנה שעברה ({start} עד {end})",
    "no_contact": "אין איש קשר רשום",
}
_TEXTS: dict[str, dict[str, str]] = {"en": _EN, "he": _HE}

#: a reason about returns needs at least this share of the year's purchases returned
RETURNS_MIN_SHARE = 0.05
#: a reason about orders, spend or items needs a fall of at least this share (a ₪75 credit
#: note against a steady spend is no reason)
MIN_DROP = 0.25

Terms = dict[str, Any]
Words = tuple[str, list[Claim]]
#: the terms the reasons read, one numpy column each (:func:`term_columns`)
TermColumns = Mapping[str, npt.NDArray[Any]]
# a claim of a reason: its name, value and where, each value a scalar or a column (one per row)
_ReasonClaim = tuple[str, Any, dict[str, Any]]


def _texts(lang: str) -> dict[str, str]:
    texts = _TEXTS.get(lang) if type(lang) is str else None
    return texts if texts is not None else _TEXTS[parse_lang(lang)]  # the latter raises


def _days(value: float, lang: str) -> str:
    n = round(value)
    if lang == "he":
        return "יום אחד" if n == 1 else f"{n} יום"
    return f"{n} day" if n == 1 else f"{n} days"


def _counts(values: npt.NDArray[Any], noun: str, lang: str) -> pa.Array:
    """``"no orders"``, ``"1 order"``, ``"3 orders"`` (in Hebrew ``"אף הזמנה"``,
    ``"הזמנה אחת"``, ``"3 הזמנות"``) per value, rounded half to even as :func:`round` does
    ("bought 0 different items" read as a form left blank)."""
    numbers = number_text(values)
    if lang == "he":
        he = {"order": ("אף הזמנה", "הזמנה אחת", "הזמנות"),
              "different item": ("אף פריט", "פריט אחד", "פריטים שונים")}
        none, one, many = he[noun]
    else:
        none = {"order": "no orders", "different item": "no items"}[noun]
        one, many = f"1 {noun}", f"{noun}s"
    result: pa.Array = pc.if_else(
        pc.equal(numbers, "0"), none,
        pc.if_else(pc.equal(numbers, "1"), one, join_text(numbers, f" {many}")))
    return result


def _moneys(values: npt.NDArray[Any], currency: str | None) -> pa.Array:
    """:func:`~salesradar.models.text.money` of each value (its rounding is Python's float
    formatting, which no array form reproduces digit for digit, so one call per value)."""
    return pa.array([money(v, currency) for v in values.tolist()], pa.string())


def _fill(template: str, rows: int, **fields: pa.Array | str) -> pa.Array:
    """``template.format(**fields)`` for each of ``rows`` rows (fields: a column or one text;
    no format specs)."""
    parts: list[pa.Array | str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(fields[name])
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.repeat(pa.scalar("".join(str(part) for part in parts)), rows)
    return join_text(*parts)


def _num(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


def _day(value: Any) -> dt.date | None:
    """:func:`~salesradar.dates.as_date`, ISO text and dates (what rows hold) read first."""
    kind = type(value)
    if kind is str:
        return dt.date.fromisoformat(value[:10])
    return value if kind is dt.date else as_date(value)


def terms_of(row: Mapping[str, Any]) -> Terms:
    """A customer's terms from a ``score_churn`` or :func:`~salesradar.models.cadence.
    customer_terms` row (dates as dates or ISO text; missing numbers as NaN)."""
    get = row.get
    as_of = _day(get("as_of"))
    last = _day(get("last_order"))
    days_since = _num(get("days_since_last_order"))
    if last is None and as_of is not None and not math.isnan(days_since):
        last = as_of - dt.timedelta(days=round(days_since))
    gap = _num(get("typical_gap_days", get("median_gap_days")))
    purchase_days = get("purchase_days")
    longest = _num(get("longest_gap_days"))
    return {
        "customer_id": str(get("customer_id")),
        "as_of": as_of,
        "purchase_days": int(_num(purchase_days)) if purchase_days is not None else 0,
        "first_order": _day(get("first_order")),
        "previous_order": _day(get("previous_order")),
        "last_order": last,
        "last_order_sales": _num(get("last_order_sales")),
        "days_since_last_order": days_since,
        "typical_gap_days": gap,
        "longest_gap_days": longest,
        "value_at_stake": _num(get("value_at_stake")),
        "year_sales": _num(get("year_sales")),
        "year_returns": _num(get("year_returns")),
    }


def has_rhythm(t: Terms) -> bool:
    """True when the customer has a rhythm: at least :data:`RHYTHM_MIN_DAYS` purchase days."""
    return t["purchase_days"] >= RHYTHM_MIN_DAYS and not math.isnan(t["typical_gap_days"])


def past_rhythm(t: Terms) -> bool:
    """True when the days since the last order exceed the customer's own rhythm."""
    return has_rhythm(t) and t["days_since_last_order"] > t["typical_gap_days"]


def paused_longer_before(t: Terms) -> bool:
    """True when the customer is past its rhythm but has paused at least this long before and
    came back (its longest gap between purchase days is no shorter than its silence now).

    On the public datasets these customers reorder within 90 days as often as those within
    their rhythm (docs/model-quality.md): being past the rhythm alone says nothing of them.
    """
    longest = t.get("longest_gap_days", math.nan)
    return past_rhythm(t) and not math.isnan(longest) and t["days_since_last_order"] <= longest


def _where(t: Terms) -> dict[str, Any]:
    return {"customer_id": t["customer_id"], "to": t["as_of"]}


def rhythm_claims(t: Terms) -> list[Claim]:
    """The claims behind :func:`rhythm_text` (the same in every language)."""
    w = _where(t)
    claims = [claim("purchase_days", t["purchase_days"], **w),
              claim("days_since_last_purchase", round(t["days_since_last_order"]), **w)]
    if has_rhythm(t):
        claims += [claim("median_gap_days", t["typical_gap_days"], **w),
                   claim("past_rhythm", past_rhythm(t), **w)]
        if past_rhythm(t) and not math.isnan(t.get("longest_gap_days", math.nan)):
            claims.append(claim("longest_gap_days", t["longest_gap_days"], **w))
    elif t["purchase_days"] == 2 and t["previous_order"] and t["last_order"]:
        claims += [claim("previous_purchase_day", t["previous_order"], **w),
                   claim("last_purchase_day", t["last_order"], **w)]
    else:
        claims += [claim("last_purchase_day", t["last_order"], **w),
                   claim("sales_on_day", t["last_order_sales"], customer_id=t["customer_id"],
                         day=t["last_order"])]
    return claims


def rhythm_text(t: Terms, *, currency: str | None = None, lang: Lang = "en") -> str:
    """The words of :func:`rhythm_words` alone (a second language needs no second claims)."""
    x = _texts(lang)
    last = _days(t["days_since_last_order"], lang)
    if has_rhythm(t):  # past its rhythm: past_rhythm(t), its rhythm known
        longest = t.get("longest_gap_days", math.nan)
        if not past_rhythm(t):
            state = x["within"]
        elif math.isnan(longest):  # terms from before the longest pause was kept
            state = x["past"]
        else:
            state = x["past_paused" if paused_longer_before(t) else "past_longest"].format(
                longest=_days(longest, lang))
        return x["rhythm"].format(gap=_days(t["typical_gap_days"], lang), last=last,
                                  state=state)
    if t["purchase_days"] == 2 and t["previous_order"] and t["last_order"]:
        apart = (t["last_order"] - t["previous_order"]).days
        return x["twice"].format(gap=_days(apart, lang), last=last)
    return x["once"].format(value=money(t["last_order_sales"], currency),
                            day=format_day(t["last_order"]), last=last)


def rhythm_words(t: Terms, *, currency: str | None = None, lang: Lang = "en") -> Words:
    """The customer's rhythm in words (or, below three purchase days, the facts), and the
    claims behind it."""
    return rhythm_text(t, currency=currency, lang=lang), rhythm_claims(t)


def stake_text(t: Terms, *, lost: bool = False, currency: str | None = None,
               lang: Lang = "en") -> str:
    """The words of :func:`stake_words` alone."""
    x, value = _texts(lang), t["value_at_stake"]
    if math.isnan(value) or value <= 0:
        return x["no_value"]
    return x["stake_lost" if lost else "stake"].format(value=money(value, currency))


def stake_claims(t: Terms) -> list[Claim]:
    """The claim behind :func:`stake_text` (the same in every language and either way)."""
    value = t["value_at_stake"]
    if math.isnan(value) or value <= 0:
        return [claim("value_at_stake", 0.0, **_where(t))]
    return [claim("value_at_stake", value, **_where(t))]


def stake_words(t: Terms, *, lost: bool = False, currency: str | None = None,
                lang: Lang = "en") -> Words:
    """The money at stake in words (for a customer that stopped, what it bought in the year
    before it stopped) and its claim."""
    return stake_text(t, lost=lost, currency=currency, lang=lang), stake_claims(t)


def term_columns(
    customer_id: npt.NDArray[Any], as_of: dt.date, days_since_last_order: npt.NDArray[Any],
    last_order: Any, year_sales: npt.NDArray[Any], year_returns: npt.NDArray[Any],
) -> dict[str, npt.NDArray[Any]]:
    """The terms the reasons read, as columns (one row per customer): ``customer_id`` (text),
    ``as_of`` and ``last_order`` (``datetime64[D]``; as in :func:`terms_of`, a missing last
    order is ``as_of`` less the days since it), ``year_sales`` and ``year_returns`` (NaN when
    missing). ``last_order`` may be a pyarrow date column."""
    if isinstance(last_order, pa.Array | pa.ChunkedArray):
        last_order = last_order.to_numpy(zero_copy_only=False)
    day = np.full(len(customer_id), np.datetime64(as_of, "D"))
    last = np.array(last_order, dtype="datetime64[D]")
    days = np.asarray(days_since_last_order, dtype=np.float64)
    back = np.isnat(last) & ~np.isnan(days)
    last[back] = day[back] - np.rint(days[back]).astype(np.int64).astype("timedelta64[D]")
    return {"customer_id": np.asarray(customer_id).astype(str), "as_of": day,
            "last_order": last, "year_sales": np.asarray(year_sales, dtype=np.float64),
            "year_returns": np.asarray(year_returns, dtype=np.float64)}


def _one_row(c: Mapping[str, float], t: Terms) -> tuple[dict[str, npt.NDArray[Any]],
                                                        dict[str, npt.NDArray[Any]]]:
    """One customer's feature values and terms as one-row columns."""
    columns = {name: np.asarray([value]) for name, value in c.items()}
    terms = {"customer_id": np.asarray([t["customer_id"]]).astype(str),
             "as_of": np.array([t["as_of"]], dtype="datetime64[D]"),
             "last_order": np.array([t.get("last_order")], dtype="datetime64[D]"),
             "year_sales": np.asarray([t.get("year_sales", math.nan)], dtype=np.float64),
             "year_returns": np.asarray([t.get("year_returns", math.nan)], dtype=np.float64)}
    return columns, terms


def _window(t: TermColumns, w: int, k: int) -> dict[str, Any]:
    """Window ``k`` (1 = the last ``w`` days, 2 = the ``w`` before) as claim bounds."""
    end = t["as_of"] - np.timedelta64((k - 1) * w, "D")
    return {"customer_id": t["customer_id"], "from": end - np.timedelta64(w - 1, "D"),
            "to": end}


def reason_holds_columns(
    group: str, c: Mapping[str, Any], t: Mapping[str, Any]
) -> npt.NDArray[np.bool_]:
    """:func:`reason_holds` for every row of the columns ``c`` (feature values) and ``t``
    (terms; scalars give a 0-d array). Missing features count as unknown."""
    def known(*names: str) -> Any:
        return np.logical_and.reduce([~np.isnan(c.get(n, math.nan)) for n in names])

    if group in _WINDOWS:  # fell, and by at least a quarter of what it was
        recent, before = _WINDOWS[group]
        return np.asarray(known(recent, before) & (c.get(before, math.nan) > 0)
                          & (c.get(recent, math.nan) <= (1.0 - MIN_DROP) * c.get(before, math.nan)))
    if group == "returns":
        sales, returned = t.get("year_sales", math.nan), t.get("year_returns", math.nan)
        return np.asarray(~np.isnan(sales) & ~np.isnan(returned) & (sales > 0)
                          & (returned >= RETURNS_MIN_SHARE * sales))
    if group == "season":
        return np.asarray(known("orders_last_season") & (c.get("orders_last_season", math.nan) == 0)
                          & (c.get("tenure_days", 0.0) >= 365))
    if group == "contacts":
        return np.asarray(known("contacts") & (c.get("contacts", math.nan) == 0))
    return np.asarray(False)


def reason_holds(group: str, c: Mapping[str, float], t: Terms) -> bool:
    """True when the reason group's direction holds for this customer, materially: fewer orders
    means the orders fell by at least :data:`MIN_DROP` (the same for spend and items); returns
    means it returned at least :data:`RETURNS_MIN_SHARE` of what it bought in its last year of
    buying (``t``'s ``year_returns`` of ``year_sales``)."""
    return bool(reason_holds_columns(group, c, t))


def reason_texts(
    group: str, c: Mapping[str, npt.NDArray[Any]], t: TermColumns, w: int, *,
    currency: str | None = None, lang: Lang = "en", season_days: int = 90,
) -> pa.Array:
    """The words of reason ``group`` for every row of the columns ``c`` (feature values) and
    ``t`` (:func:`term_columns`), whether or not it holds there (the caller keeps the rows
    where :func:`reason_holds_columns` says it does); ``""`` for a group with nothing
    recomputable to say. The one wording of a reason: :func:`reason_words` is its row."""
    x, rows = _texts(lang), len(t["customer_id"])
    if group == "orders":
        return _fill(x["orders"], rows, now=_counts(c["orders_w1"], "order", lang), w=str(w),
                     before=number_text(c["orders_w2"]))
    if group == "revenue":
        return _fill(x["revenue"], rows, now=_moneys(c["revenue_w1"], currency), w=str(w),
                     before=_moneys(c["revenue_w2"], currency))
    if group == "breadth":
        return _fill(x["breadth"], rows, now=_counts(c["skus_w1"], "different item", lang),
                     w=str(w), before=number_text(c["skus_w2"]))
    if group == "returns":
        return _fill(x["returns"], rows, returned=_moneys(t["year_returns"], currency),
                     bought=_moneys(t["year_sales"], currency))
    if group == "season":
        start, end = _season(t, season_days)
        return _fill(x["season_none"], rows, start=day_texts(start), end=day_texts(end))
    if group == "contacts":
        return _fill(x["no_contact"], rows)
    return _fill("", rows)


def _reason_claims(
    group: str, c: Mapping[str, npt.NDArray[Any]], t: TermColumns, w: int, season_days: int,
) -> list[_ReasonClaim]:
    """The claims behind :func:`reason_texts`' numbers, values and bounds as columns."""
    if group in _WINDOWS:
        (recent, before), name = _WINDOWS[group], _WINDOW_CLAIMS[group]
        return [("setting", w, {"setting": "window_days"}),
                (name, c[recent], _window(t, w, 1)), (name, c[before], _window(t, w, 2))]
    if group == "returns":  # over the lines of the money at stake
        year = {"customer_id": t["customer_id"], "to": t["as_of"],
                "from": t["last_order"] - np.timedelta64(364, "D")}
        return [("returned", t["year_returns"], year), ("gross_sales", t["year_sales"], year)]
    if group == "season":
        start, end = _season(t, season_days)
        return [("setting", season_days, {"setting": "season_days"}),
                ("purchase_days_in", 0, {"customer_id": t["customer_id"], "from": start,
                                         "to": end})]
    return []


def _season(t: TermColumns, season_days: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """"This season last year" of each row: the ``season_days`` from a year before the day
    judged (the features' ``orders_last_season``), first and last day."""
    start = np.asarray(t["as_of"], dtype="datetime64[D]") - np.timedelta64(364, "D")
    return start, start + np.timedelta64(season_days - 1, "D")


def _json_number(value: float) -> str:
    rounded = round(value, 4)  # as steady() rounds
    return repr(rounded) if math.isfinite(rounded) else json.dumps(rounded)


def _json_column(value: Any) -> pa.Array | str:
    """``json.dumps(steady(...))`` of a claim's value or bound: of each row for a column."""
    if not isinstance(value, np.ndarray):
        return json.dumps(steady(value))
    if value.dtype.kind == "M":  # a missing day is never a bound of a reason that holds
        return join_text('"', pa.array(np.datetime_as_string(value, unit="D")), '"')
    if value.dtype.kind == "f":  # Python's round and repr, exactly: one call per value
        return pa.array([_json_number(v) for v in value.tolist()], pa.string())
    return pa.array([encode_basestring_ascii(str(v)) for v in value.tolist()], pa.string())


def reason_claims_json(
    group: str, c: Mapping[str, npt.NDArray[Any]], t: TermColumns, w: int, *,
    season_days: int = 90,
) -> pa.Array:
    """Per row, the claims of :func:`reason_words` as ``json.dumps(steady(claims))`` writes
    them, without the list's brackets (``""`` when none), to join with other reasons'."""
    parts: list[pa.Array | str] = []
    for k, (name, value, where) in enumerate(_reason_claims(group, c, t, w, season_days)):
        parts += [", " if k else "", '{"claim": ', json.dumps(name), ', "value": ',
                  _json_column(value)]
        for key, bound in where.items():
            parts += [", ", json.dumps(key), ": ", _json_column(bound)]
        parts.append("}")
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.repeat(pa.scalar("".join(str(part) for part in parts)), len(t["customer_id"]))
    return join_text(*parts)


def _claim_dicts(claims: list[_ReasonClaim]) -> list[Claim]:
    """The claims of :func:`_reason_claims` on one-row columns, as :func:`claim` dicts."""
    def item(value: Any) -> Any:
        return value[0].item() if isinstance(value, np.ndarray) else value

    return [claim(name, item(value), **{k: item(v) for k, v in where.items()})
            for name, value, where in claims]


def reason_words(
    group: str, c: Mapping[str, float], t: Terms, w: int, *, currency: str | None = None,
    lang: Lang = "en", season_days: int = 90,
) -> Words:
    """One reason in the customer's terms, with its claims; empty when its direction does not
    hold (:func:`reason_holds`) or the group has nothing recomputable to say.

    ``w`` is the recent window of the features, ``season_days`` the length of "the same days a
    year ago" (the model's horizon). The rhythm group is said by :func:`rhythm_words`. The
    words are :func:`reason_texts`' (the whole score table's) on this customer's row.
    """
    _texts(lang)  # an unknown language is refused whatever holds
    if t["as_of"] is None or not reason_holds(group, c, t):
        return "", []
    columns, terms = _one_row(c, t)
    text = reason_texts(group, columns, terms, w, currency=currency, lang=lang,
                        season_days=season_days)[0].as_py()
    if not text:
        return "", []
    return text, _claim_dicts(_reason_claims(group, columns, terms, w, season_days))


def _lines(
    c: Mapping[str, float], t: Terms, probability: float, horizon_days: int, window_days: int,
    reasons: Sequence[str], *, lost: bool, currency: str | None = None, lang: Lang,
    by_rule: bool = False,
) -> tuple[list[str], list[Claim]]:
    x = _texts(lang)
    rhythm, claims = rhythm_words(t, currency=currency, lang=lang)
    stake, more = stake_words(t, lost=lost, currency=currency, lang=lang)
    claims += more
    chance = x["chance"].format(p=probability, h=horizon_days) + (x["by_rule"] if by_rule else "")
    lines = [f"{rhythm}; {stake}", chance]
    claims += [claim("model_output", round(probability, 4), output="churn_probability"),
               claim("setting", horizon_days, setting="horizon_days")]
    for group in reasons:
        text, more = reason_words(group, c, t, window_days, currency=currency, lang=lang,
                                  season_days=horizon_days)
        if text and text not in lines:
            lines.append(text)
            claims += more
        if len(lines) == 5:
            break
    return lines, claims


def explanation(
    c: Mapping[str, float], t: Terms, probability: float, horizon_days: int, window_days: int,
    reasons: Sequence[str], *, lost: bool = False, currency: str | None = None, lang: Lang = "en",
    by_rule: bool = False,
) -> list[str]:
    """The lines of one customer's explanation: rhythm (or the facts) and money, the
    probability (``by_rule``: the calibrated recency rule's, said so, because the model did
    not beat it on this workspace), then one line per reason group in ``reasons`` whose
    direction holds (strongest first), at most five lines."""
    return _lines(c, t, probability, horizon_days, window_days, reasons, lost=lost,
                  currency=currency, lang=lang, by_rule=by_rule)[0]


def explanation_claims(
    c: Mapping[str, float], t: Terms, probability: float, horizon_days: int, window_days: int,
    reasons: Sequence[str], *, lost: bool = False,
) -> list[Claim]:
    """The claims behind :func:`explanation`'s numbers (the same in both languages)."""
    return _lines(c, t, probability, horizon_days, window_days, reasons, lost=lost,
                  lang="en")[1]
