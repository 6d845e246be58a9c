"""The churn reasons worded over columns (the score table's) say exactly what the per-customer
wording said before it became their row: the replaced per-row code is kept below as the
reference, and both word hand-made customers with missing, zero, negative, rounding-edge and
non-ASCII values, in English and Hebrew."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salesradar.claims import Claim, claim, steady
from salesradar.lang import Lang
from salesradar.models.churn import _GROUP_NAMES, ChurnModel, FeatureFrame
from salesradar.models.churn_text import (
    _EN,
    _HE,
    MIN_DROP,
    RETURNS_MIN_SHARE,
    reason_claims_json,
    reason_holds,
    reason_holds_columns,
    reason_texts,
    reason_words,
    term_columns,
    terms_of,
)
from salesradar.models.text import money

AS_OF = dt.date(2026, 3, 31)
GROUPS = ("orders", "revenue", "breadth", "returns", "season", "contacts", "rhythm", "margin",
          "payments")


# -- the replaced per-row code, verbatim but for names: the reference -------------------------
_REF_WINDOWS = {"orders": ("orders_w1", "orders_w2"), "revenue": ("revenue_w1", "revenue_w2"),
                "breadth": ("skus_w1", "skus_w2")}


def _ref_count(value: float, noun: str, lang: str) -> str:
    n = round(value)
    if lang == "he":
        he = {"order": ("אף הזמנה", "הזמנה אחת", "הזמנות"),
              "different item": ("אף פריט", "פריט אחד", "פריטים שונים")}
        none, one, many = he[noun]
        return none if n == 0 else one if n == 1 else f"{n} {many}"
    if n == 0:
        return "no orders" if noun == "order" else "no items"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ref_window(t: Mapping[str, Any], w: int, k: int) -> dict[str, Any]:
    as_of = t["as_of"]
    end = as_of - dt.timedelta(days=(k - 1) * w)
    return {"customer_id": t["customer_id"], "from": end - dt.timedelta(days=w - 1), "to": end}


def _ref_holds(group: str, c: Mapping[str, float], t: Mapping[str, Any]) -> bool:
    def known(*names: str) -> bool:
        return all(not math.isnan(c.get(n, math.nan)) for n in names)

    if group in _REF_WINDOWS:
        recent, before = _REF_WINDOWS[group]
        return (known(recent, before) and c[before] > 0
                and c[recent] <= (1.0 - MIN_DROP) * c[before])
    if group == "returns":
        sales, returned = t.get("year_sales", math.nan), t.get("year_returns", math.nan)
        return (not math.isnan(sales) and not math.isnan(returned) and sales > 0
                and returned >= RETURNS_MIN_SHARE * sales)
    if group == "season":
        return (known("orders_last_season") and c["orders_last_season"] == 0
                and c.get("tenure_days", 0.0) >= 365)
    if group == "contacts":
        return known("contacts") and c["contacts"] == 0
    return False


def _ref_words(group: str, c: Mapping[str, float], t: Mapping[str, Any], w: int, *,
               lang: str = "en", season_days: int = 90,
               currency: str | None = None) -> tuple[str, list[Claim]]:
    x = {"en": _EN, "he": _HE}[lang]
    if t["as_of"] is None or not _ref_holds(group, c, t):
        return "", []
    window = claim("setting", w, setting="window_days")
    if group == "orders":
        return (x["orders"].format(now=_ref_count(c["orders_w1"], "order", lang), w=w,
                                   before=round(c["orders_w2"])),
                [window, claim("purchase_days_in", c["orders_w1"], **_ref_window(t, w, 1)),
                 claim("purchase_days_in", c["orders_w2"], **_ref_window(t, w, 2))])
    if group == "revenue":
        return (x["revenue"].format(now=money(c["revenue_w1"], currency), w=w,
                                    before=money(c["revenue_w2"], currency)),
                [window, claim("net_revenue", c["revenue_w1"], **_ref_window(t, w, 1)),
                 claim("net_revenue", c["revenue_w2"], **_ref_window(t, w, 2))])
    if group == "breadth":
        return (x["breadth"].format(now=_ref_count(c["skus_w1"], "different item", lang), w=w,
                                    before=round(c["skus_w2"])),
                [window, claim("distinct_skus", c["skus_w1"], **_ref_window(t, w, 1)),
                 claim("distinct_skus", c["skus_w2"], **_ref_window(t, w, 2))])
    if group == "returns":
        year = {"customer_id": t["customer_id"], "to": t["as_of"],
                "from": t["last_order"] - dt.timedelta(days=364)}
        bought, returned = t["year_sales"], t["year_returns"]
        return (x["returns"].format(returned=money(returned, currency),
                                    bought=money(bought, currency)),
                [claim("returned", returned, **year), claim("gross_sales", bought, **year)])
    if group == "season":
        start = t["as_of"] - dt.timedelta(days=364)
        end = start + dt.timedelta(days=season_days - 1)
        return (x["season_none"].format(start=f"{start:%d/%m/%Y}", end=f"{end:%d/%m/%Y}"),
                [claim("setting", season_days, setting="season_days"),
                 claim("purchase_days_in", 0, customer_id=t["customer_id"], **{
                     "from": start, "to": end})])
    if group == "contacts":
        return x["no_contact"], []
    return "", []


# -- hand-made customers ------------------------------------------------------------------------
_COUNTS = [math.nan, 0.0, 1.0, 2.0, 2.5, 3.5, 4.0, 7.0, 12.0, -1.0, 0.5, 1.5]
_MONEY = [math.nan, -5_000.0, -0.4, 0.0, 0.5, 1.5, 2.675, 999.4999, 999.5, 1_000.0, 1_149.99,
          1_150.0, 9_949.99, 9_950.0, 9_999.6, 10_000.0, 12_500.0, 999_499.0, 1_234.56785,
          1_000_000.0, 1.05e6, 75_253_368.0, 0.00005, 336_262.4375, 1e17]
_IDS = ["C1", 'C"2', "C\\3", "לקוח 4", "C5\n", "C6 é", "C07"]


Case = tuple[dict[str, float], dict[str, Any], "dt.date | None"]


def _cases(n: int = 600) -> list[Case]:
    """Feature values, terms (:func:`terms_of`) and the last order as the terms table holds
    it (missing for some: terms_of then derives it from the days since the last order)."""
    rng = random.Random(17)
    cases = []
    for k in range(n):
        c = {"orders_w1": rng.choice(_COUNTS), "orders_w2": rng.choice(_COUNTS),
             "revenue_w1": rng.choice(_MONEY), "revenue_w2": rng.choice(_MONEY),
             "skus_w1": rng.choice(_COUNTS), "skus_w2": rng.choice(_COUNTS),
             "contacts": rng.choice([math.nan, 0.0, 2.0]),
             "orders_last_season": rng.choice([math.nan, 0.0, 1.0]),
             "tenure_days": rng.choice([math.nan, 364.0, 365.0, 900.0]),
             "recency_days": rng.choice([math.nan, 0.0, 2.5, 3.5, 41.0, 400.0])}
        if k % 7 == 0:
            del c["tenure_days"]  # counts as 0 days
        row = {"customer_id": _IDS[k % len(_IDS)] + str(k), "as_of": AS_OF,
               "purchase_days": rng.choice([None, 1, 2, 5]),
               "last_order": rng.choice([None, "2026-02-18", "2025-03-31"]),
               "days_since_last_order": c["recency_days"],
               "year_sales": rng.choice([None, *_MONEY]),
               "year_returns": rng.choice([None, *_MONEY])}
        if row["last_order"] is None and math.isnan(c["recency_days"]):
            row["year_sales"] = None  # returns hold only for a customer who bought (a date)
        raw = row["last_order"]
        cases.append((c, terms_of(row), None if raw is None else dt.date.fromisoformat(str(raw))))
    return cases


CASES = _cases()


def _columns(cases: list[Case]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The cases as the feature and term columns of a score table."""
    names = sorted({name for c, _, _ in cases for name in c})
    c_cols = {name: np.array([c.get(name, math.nan) for c, _, _ in cases]) for name in names}
    t_cols = term_columns(np.array([t["customer_id"] for _, t, _ in cases], dtype=object),
                          AS_OF, c_cols["recency_days"],
                          pa.array([last for _, _, last in cases], pa.date32()),
                          np.array([t["year_sales"] for _, t, _ in cases]),
                          np.array([t["year_returns"] for _, t, _ in cases]))
    return c_cols, t_cols


def test_the_cases_reach_every_reason() -> None:
    for group in ("orders", "revenue", "breadth", "returns", "season", "contacts"):
        held = [k for k, (c, t, _) in enumerate(CASES) if _ref_holds(group, c, t)]
        assert 20 <= len(held) < len(CASES), group


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("lang", ["en", "he"])
def test_one_customer_reads_as_before(group: str, lang: Lang) -> None:
    for c, t, _ in CASES:
        assert reason_holds(group, c, t) == _ref_holds(group, c, t)
        assert reason_words(group, c, t, 90, lang=lang, season_days=60) == _ref_words(
            group, c, t, 90, lang=lang, season_days=60)
    c, t, _ = CASES[0]
    assert reason_words("revenue", {**c, "revenue_w1": 50.0, "revenue_w2": 900.0}, t, 30,
                        currency="$") == ("$50 in the last 30 days vs $900 in the 30 before", [
        claim("setting", 30, setting="window_days"),
        claim("net_revenue", 50.0, customer_id=t["customer_id"], **{"from": "2026-03-02"},
              to="2026-03-31"),
        claim("net_revenue", 900.0, customer_id=t["customer_id"], **{"from": "2026-01-31"},
              to="2026-03-01")])


@pytest.mark.parametrize("group", GROUPS)
def test_columns_read_as_each_row(group: str) -> None:
    c_cols, t_cols = _columns(CASES)
    holds = reason_holds_columns(group, c_cols, t_cols)
    expected = np.array([_ref_holds(group, c, t) for c, t, _ in CASES])
    assert np.array_equal(np.broadcast_to(holds, expected.shape), expected)
    rows = np.flatnonzero(expected)
    c_rows = {name: values[rows] for name, values in c_cols.items()}
    t_rows = {name: values[rows] for name, values in t_cols.items()}
    languages: tuple[Lang, ...] = ("en", "he")
    for lang in languages:
        texts = reason_texts(group, c_rows, t_rows, 90, lang=lang,
                             season_days=60).to_pylist()
        assert texts == [_ref_words(group, CASES[k][0], CASES[k][1], 90, lang=lang,
                                    season_days=60)[0] for k in rows]
    claims = reason_claims_json(group, c_rows, t_rows, 90, season_days=60).to_pylist()
    assert claims == [json.dumps(steady(_ref_words(group, CASES[k][0], CASES[k][1], 90,
                                                   season_days=60)[1]))[1:-1] for k in rows]


def test_a_missing_last_order_is_as_of_less_the_days_since() -> None:
    t = term_columns(np.array(["A", "B", "C", "D"], dtype=object), AS_OF,
                     np.array([41.0, 2.5, 3.5, math.nan]),
                     pa.array([None, None, dt.date(2026, 1, 2), None], pa.date32()),
                     np.array([1.0, math.nan, 3.0, 4.0]), np.zeros(4))
    days = [None if np.isnat(d) else d.item() for d in t["last_order"]]
    assert days == [dt.date(2026, 2, 18), dt.date(2026, 3, 29), dt.date(2026, 1, 2), None]
    assert [terms_of({"as_of": AS_OF, "days_since_last_order": d})["last_order"]
            for d in (41.0, 2.5)] == days[:2]  # as terms_of: 2.5 rounds to 2


def _ref_reasons(frame: FeatureFrame, terms: dict[str, list[Any]], rank: np.ndarray,
                 order: np.ndarray, top_reasons: int, shap_rows: int) -> list[Any]:
    """The replaced loop of ChurnModel._reasons, on the reference wording."""
    en, he, kinds, claims = [], [], [], []
    for n, i in enumerate(rank):
        groups = [_GROUP_NAMES[int(g)] for g in order[i] if g >= 0] if n < shap_rows else []
        words_en: list[str] = []
        words_he: list[str] = []
        held: list[str] = []
        behind: list[Claim] = []
        if groups:
            c = {name: float(values[i]) for name, values in frame.columns.items()}
            t = terms_of({"customer_id": str(frame.customer_id[i]), "as_of": AS_OF,
                          "days_since_last_order": frame.columns["recency_days"][i],
                          **{name: values[i] for name, values in terms.items()}})
            for group in groups:
                if group == "rhythm" or not _ref_holds(group, c, t):
                    continue
                text, said = _ref_words(group, c, t, 90, season_days=90)
                if text:
                    words_en.append(text)
                    held.append(group)
                    behind.extend(said)
                    words_he.append(_ref_words(group, c, t, 90, season_days=90, lang="he")[0])
                if len(words_en) == top_reasons:
                    break
        en.append(words_en)
        he.append(words_he)
        kinds.append(held)
        claims.append(json.dumps(steady(behind)))
    return [en, he, kinds, claims]


@pytest.mark.parametrize(("top_reasons", "shap_rows"), [(3, 450), (1, 10_000), (0, 600),
                                                        (5, 0)])
def test_the_score_tables_reasons_are_the_per_row_loops(top_reasons: int, shap_rows: int) -> None:
    c_cols, _ = _columns(CASES)
    n = len(CASES)
    rng = np.random.default_rng(3)
    frame = FeatureFrame(np.array([t["customer_id"] for _, t, _ in CASES], dtype=object),
                         np.full(n, np.datetime64(AS_OF, "D")), c_cols)
    order = np.stack([rng.permutation(len(_GROUP_NAMES)) for _ in range(n)])
    order[rng.random(order.shape) < 0.2] = -1  # groups not pushing toward churn
    rank = rng.permutation(n)
    terms = {"last_order": [last for _, _, last in CASES],
             "year_sales": [None if math.isnan(t["year_sales"]) else t["year_sales"]
                            for _, t, _ in CASES],
             "year_returns": [None if math.isnan(t["year_returns"]) else t["year_returns"]
                              for _, t, _ in CASES]}
    arrow = {"last_order": pa.array(terms["last_order"], pa.date32()),
             "year_sales": pa.array(terms["year_sales"], pa.float64()),
             "year_returns": pa.array(terms["year_returns"], pa.float64())}
    model = ChurnModel(90, shap_rows=shap_rows)
    got = model._reasons(frame, rank, order, top_reasons, AS_OF, arrow)
    assert [column.to_pylist() for column in got] == _ref_reasons(
        frame, terms, rank, order, top_reasons, shap_rows)
    assert got[0].type == pa.list_(pa.string()) and got[3].type == pa.string()


def test_explain_reads_the_terms_saved_as_columns_or_as_lists() -> None:
    """A model saved before kept its last scores' terms as lists; now they are Arrow columns."""
    model = ChurnModel(90)
    model.scored_ = FeatureFrame(np.array(["A", "B"], dtype=object),
                                 np.full(2, np.datetime64(AS_OF, "D")),
                                 {"recency_days": np.array([41.0, 3.0])})
    lists = {"purchase_days": [5, None], "last_order": [dt.date(2026, 2, 18), None],
             "typical_gap_days": [12.0, None], "year_sales": [40_000.0, None]}
    types = {"purchase_days": pa.int64(), "last_order": pa.date32(),
             "typical_gap_days": pa.float64(), "year_sales": pa.float64()}
    model.scored_terms_ = lists
    before = [model._terms(i, AS_OF) for i in range(2)]
    model.scored_terms_ = {name: pa.chunked_array([pa.array(values, types[name])])
                           for name, values in lists.items()}
    assert [model._terms(i, AS_OF) for i in range(2)] == before
    assert before[1]["last_order"] == dt.date(2026, 3, 28) and before[0]["purchase_days"] == 5
