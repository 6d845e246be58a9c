"""The insight run's fast paths give what the plain versions they replaced gave: Arrow rows
converted column by column, ``steady`` and ``claim`` without a call per plain value, the
repeat window without a window and self-join, the Hebrew amounts skipping texts without one,
the churn words without the second language's claims, and the cycle collector paused."""

from __future__ import annotations

import datetime as dt
import gc
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salesradar.claims import claim, steady
from salesradar.insights import generate, texts
from salesradar.insights.generate import _no_cycle_collection
from salesradar.insights.rules import (
    Context,
    RuleSettings,
    customers_behind_drop,
    plain,
    plain_rows,
    repeat_window,
)
from salesradar.insights.store import UpsertCounts
from salesradar.models.cadence import customer_terms
from salesradar.models.churn_text import (
    rhythm_claims,
    rhythm_text,
    rhythm_words,
    stake_claims,
    stake_text,
    stake_words,
    terms_of,
)
from salesradar.models.features import sharing_customer_days
from salesradar.workspace import Workspace


def _reference_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The conversion plain_rows replaced: row by row, value by value."""
    return [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def test_plain_rows_as_the_row_by_row_conversion() -> None:
    day = dt.date(2026, 3, 31)
    moment = dt.datetime(2026, 3, 31, 14, 5, 7, 120)
    table = pa.table({
        "text": pa.array(["a", None, "c", "d"]),
        "count": pa.array([1, 2, None, 4], pa.int64()),
        "flag": pa.array([True, None, False, True]),
        "finite": pa.array([1.5, None, -2.25, 0.0]),
        "odd": pa.array([math.nan, math.inf, -math.inf, 3.0]),
        "money": pa.array([Decimal("1.5000"), None, Decimal("-2.1250"), Decimal("0")],
                          pa.decimal128(18, 4)),
        "day": pa.array([day, None, day, day]),
        "at": pa.array([moment, moment, None, moment], pa.timestamp("us")),
        "at_utc": pa.array([moment, None, moment, moment], pa.timestamp("us", tz="UTC")),
        "names": pa.array([["x", "y"], None, [], ["z"]]),
        "numbers": pa.array([[1.0, math.nan], None, [math.inf], []]),
        "days": pa.array([[day], None, [], [day, None]]),
        "nothing": pa.array([None, None, None, None], pa.null()),
        "pair": pa.array([{"k": 1.5}, None, {"k": math.nan}, {"k": 2.0}]),
    })
    got = plain_rows(table)
    assert _same(got, _reference_rows(table))
    assert got[1]["odd"] is None and got[0]["money"] == 1.5 and got[0]["day"] == "2026-03-31"
    # chunked columns, duplicate names (the last one wins, at the first one's place), no rows
    chunked = pa.concat_tables([table, table.slice(1, 2)])
    assert _same(plain_rows(chunked), _reference_rows(chunked))
    twice = pa.table([pa.array([1, 2]), pa.array(["a", "b"]), pa.array([0.5, math.nan])],
                     names=["a", "b", "a"])
    assert _same(plain_rows(twice), _reference_rows(twice))
    assert plain_rows(table.slice(0, 0)) == []


def _reference_steady(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list | tuple):
        return [_reference_steady(v) for v in value]
    if isinstance(value, dict):
        return {k: _reference_steady(v) for k, v in value.items()}
    return value


def test_steady_as_the_recursive_version() -> None:
    value: dict[str, Any] = {
        "value": 7808.390000000001, "n": 3, "ok": True, "none": None, "text": "x",
        "np": np.float64(0.123456789), "nan": math.nan, "pair": (0.123456, "y"),
        "claims": [{"claim": "derived", "value": 1 / 3, "inputs": {
            "a": {"claim": "net_revenue", "value": 2 / 3, "to": "2026-03-31"},
            "b": [0.1 + 0.2, [1e-9, 5]]}}],
    }
    got = steady(value)
    assert _same(got, _reference_steady(value))
    assert got is not value and got["claims"][0] is not value["claims"][0]  # a copy
    for plain_value in (1.23456789, 7, "x", None, True, [1.23456, (2.3456789,)]):
        assert _same(steady(plain_value), _reference_steady(plain_value))


def test_claim_writes_dates_as_iso_text_and_drops_none() -> None:
    got = claim("purchase_days", 3, customer_id="C1", to=dt.date(2026, 1, 31), sku=None,
                at=dt.datetime(2026, 1, 31, 10, 30), share=np.float64(0.5), n=np.int64(2))
    assert got == {"claim": "purchase_days", "value": 3, "customer_id": "C1",
                   "to": "2026-01-31", "at": "2026-01-31", "share": 0.5, "n": 2}
    assert claim("last_purchase_day", dt.date(2026, 1, 2))["value"] == "2026-01-02"
    with pytest.raises(ValueError, match="unknown claim"):
        claim("no_such_claim", 1)


_OLD_REPEAT_WINDOW = """WITH d AS (
        SELECT customer_id, invoice_date::DATE AS day FROM invoice_lines
        WHERE invoice_date::DATE <= ? GROUP BY customer_id, invoice_date::DATE
        HAVING bool_or(net_revenue > 0)),
    r AS (SELECT customer_id, day,
                 row_number() OVER (PARTITION BY customer_id ORDER BY day) AS n FROM d)
    SELECT count(*) AS n, median(b.day - a.day)::DOUBLE AS days
    FROM r a JOIN r b ON a.customer_id = b.customer_id AND a.n = 1 AND b.n = 2"""


def test_repeat_window_as_the_window_and_self_join(ws: Workspace) -> None:
    """Customers without a customer id, days with only credit notes, zero or unknown revenue,
    several lines a day, one day only: the same count and median as the query it replaced."""
    rng = np.random.default_rng(3)
    start = dt.date(2026, 1, 1)
    rows = []
    for i in range(600):
        customer = None if i % 41 == 0 else f"C{i % 180}"
        for line in range(int(rng.integers(0, 7))):
            revenue = [None, -5.0, 0.0, 3.0, 12.5][int(rng.integers(0, 5))]
            day = start + dt.timedelta(days=int(rng.integers(0, 90)))
            rows.append((f"I{i}", line, day, customer, "S1", 1.0, revenue, None, "R1", None))
    ws.con.executemany(
        "INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, sku, "
        "quantity, net_revenue, cost, rep_id, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    cases = []
    for offset in range(0, 95, 4):
        day = start + dt.timedelta(days=offset)
        ctx = Context(ws, day, dt.datetime.combine(day, dt.time()), RuleSettings())
        n, days = ws.con.execute(_OLD_REPEAT_WINDOW, [day]).fetchone()  # type: ignore[misc]
        cases.append((ctx, None if (n or 0) < 10 else float(days)))
    assert [repeat_window(ctx) for ctx, _ in cases] == [expected for _, expected in cases]
    with sharing_customer_days(ws):  # a refresh's: from the shared customer-days
        assert [repeat_window(ctx) for ctx, _ in cases] == [expected for _, expected in cases]
    assert any(expected is not None for _, expected in cases)  # some days stated a window


def _old_customers_behind_drop(ctx: Context, rep: str, month: dt.date) -> list[dict[str, Any]]:
    """The version customers_behind_drop replaced: every customer's terms, then the rep's."""
    end = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1) - dt.timedelta(1)
    lines = ctx.ws.table("invoice_lines")
    day = lines.invoice_date.cast("date")
    mine = lines.filter((lines.rep_id == rep) & (day >= month - dt.timedelta(days=90))
                        & (day < month)).select("customer_id").distinct()
    terms = customer_terms(ctx.ws.table("invoice_lines"), end)
    terms = terms.filter(terms.customer_id.isin(mine.customer_id))
    behind = terms.filter(
        (terms.typical_gap_days <= (end - month).days + 1) & (terms.last_order < month)
        & (terms.value_at_stake > 0)
    ).order_by([terms.value_at_stake.desc(), terms.customer_id])
    return plain_rows(behind.to_pyarrow())


def test_customers_behind_drop_as_from_every_customers_terms(ws: Workspace) -> None:
    """Terms computed from the rep's customers' lines alone: the same customers, rhythms and
    money at stake as every customer's terms kept for the rep's (lines of other reps too,
    credit notes, customers who moved rep, with and without the shared customer-days)."""
    rng = np.random.default_rng(5)
    start = dt.date(2025, 9, 1)
    rows = []
    for i in range(1500):
        customer = f"C{int(rng.integers(0, 60))}"
        rep = f"R{int(rng.integers(0, 3))}"
        day = start + dt.timedelta(days=int(rng.integers(0, 300)))
        revenue = float(rng.choice([-40.0, 15.5, 120.25, 300.0, 0.0]))
        rows.append((f"I{i}", 1, day, customer, "S1", 1.0, revenue, None, rep, None))
    ws.con.executemany(
        "INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, sku, "
        "quantity, net_revenue, cost, rep_id, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    cases = [(Context(ws, month, dt.datetime.combine(month, dt.time()), RuleSettings()), rep,
              month)
             for month in (dt.date(2026, 3, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1))
             for rep in ("R0", "R1", "R2", "R9")]
    expected = [_old_customers_behind_drop(*case) for case in cases]
    assert _same([customers_behind_drop(*case) for case in cases], expected)
    with sharing_customer_days(ws):
        assert _same([customers_behind_drop(*case) for case in cases], expected)
    assert any(expected)  # some customers were behind a month


def _reference_hebrew(text: str) -> str:
    return texts._SHORT.sub(lambda m: m.group(1) + texts._HE_UNITS[m.group(2)], text)


@pytest.mark.parametrize("text", [
    "", "no amount", "Karmiel k M", "₪38k", "₪1.2M at stake", "-₪3.5k; ₪850; ₪12k",
    "USD\u00a012k", "zł\u00a01.5M", "a 12k without a sign", "₪.5k", "₪12.k and ₪3M.",
    "HK$4k, NZ$5M, $6k", "ABC\u00a07k", "₪-38k",
])
def test_hebrew_amounts_as_the_plain_substitution(text: str) -> None:
    assert texts._hebrew_amounts(text) == _reference_hebrew(text)


@pytest.mark.parametrize("row", [
    {"customer_id": "C1", "as_of": "2026-03-31", "purchase_days": 20, "median_gap_days": 12.0,
     "days_since_last_order": 41, "last_order": "2026-02-18", "value_at_stake": 38_000.0},
    {"customer_id": "C1", "as_of": "2026-03-31", "purchase_days": 9, "median_gap_days": 50.0,
     "days_since_last_order": 1, "last_order": "2026-03-30", "value_at_stake": 0.0},
    {"customer_id": "C2", "as_of": "2026-03-31", "purchase_days": 2, "days_since_last_order": 30,
     "last_order": "2026-03-01", "previous_order": "2026-01-19", "value_at_stake": 1_200.0},
    {"customer_id": "C3", "as_of": "2026-03-31", "purchase_days": 1, "days_since_last_order": 39,
     "last_order": "2026-02-20", "last_order_sales": 3_528.0, "value_at_stake": math.nan},
])
def test_churn_words_split_into_text_and_claims(row: dict[str, Any]) -> None:
    t = terms_of(row)
    for lang in ("en", "he"):
        assert rhythm_words(t, lang=lang) == (rhythm_text(t, lang=lang), rhythm_claims(t))
        for lost in (False, True):
            assert stake_words(t, lost=lost, lang=lang) == (
                stake_text(t, lost=lost, lang=lang), stake_claims(t))
    # the claims are the same whatever the language of the words
    assert rhythm_words(t, lang="he")[1] == rhythm_words(t, lang="en")[1]


def test_cycle_collection_paused_and_restored() -> None:
    assert gc.isenabled()
    with _no_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _no_cycle_collection():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with _no_cycle_collection():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_cycle_collection_paused_until_the_run_is_stored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """run_insights keeps the collector paused through the upsert too (the run's objects are
    freed before it resumes), and resumes it after."""
    seen: list[bool] = []

    class Store:
        db = None

        def upsert_many(self, insights: list[Any], run_at: Any, *, kinds: Any) -> Any:
            seen.append(gc.isenabled())
            return UpsertCounts()

    monkeypatch.setattr(generate, "_check_scores", lambda ws, kinds: None)
    monkeypatch.setattr(generate, "available_kinds", lambda ws: [])
    monkeypatch.setattr(generate, "generate_insights", lambda *a, **k: [])
    assert gc.isenabled()
    counts = generate.run_insights(None, Store(), settings=RuleSettings(),  # type: ignore[arg-type]
                                   run_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert seen == [False]
    assert gc.isenabled()
    assert counts["total"] == 0


def test_no_regex_match_is_missed_by_the_pre_check() -> None:
    """Every match of the amount pattern holds a digit or point right before k or M."""
    for m in texts._SHORT.finditer("₪38k ₪1.2M $.5k ₪-3k USD\u00a07M"):
        assert re.search(r"[\d.][kM]", m.group(0))
