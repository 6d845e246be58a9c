"""Numbers that cannot mislead: partial periods, unknown cost, changes in the KPI's unit.

A small hand-made set of invoice lines, on every engine:

    line  date        customer  revenue  cost
    1     2024-01-03  a         100      60
    2     2024-01-05  b         200      (none)
    3     2024-01-20  a         300      150
    4     2024-02-02  a         120      70
    5     2024-02-04  b          80      40
    6     2024-02-04  c          -5      -3     (a return)

The data end on 04/02/2024: February is partial, 4 of 29 days (2024 is a leap year).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from salesradar.metrics import compute_kpi, compute_kpis, kpi_records
from salesradar.metrics.compute import explain_kpi
from salesradar.metrics.periods import (
    data_last_day,
    describe_change,
    mark_partial,
    partial_period,
    partial_records,
    same_days_previous,
)
from salesradar.workspace import Workspace

from .conftest import load_tables
from .data import arrow_table

ROWS = [
    (1, date(2024, 1, 3), "a", 100, 60), (2, date(2024, 1, 5), "b", 200, None),
    (3, date(2024, 1, 20), "a", 300, 150), (4, date(2024, 2, 2), "a", 120, 70),
    (5, date(2024, 2, 4), "b", 80, 40), (6, date(2024, 2, 4), "c", -5, -3),
]


@pytest.fixture
def lines(scratch: Any) -> Any:
    rows = [{"invoice_id": f"I{n}", "line_no": 1, "invoice_date": day, "customer_id": c,
             "sku": "s", "quantity": 1, "net_revenue": rev, "cost": cost, "rep_id": "r1"}
            for n, day, c, rev, cost in ROWS]
    cts = [{"customer_id": "a", "period": date(2024, 1, 1), "grain": "month", "kind": "service",
            "amount": 10}]
    return load_tables(scratch, {"invoice_lines": arrow_table("invoice_lines", rows),
                                 "cost_to_serve": arrow_table("cost_to_serve", cts)})


def _by_period(con: Any, name: str) -> dict[str, dict[str, Any]]:
    return {r["period"]: r for r in kpi_records(compute_kpi(con, name, (), "month",
                                                            persist=False))}


def test_gross_margin_is_unknown_below_the_cost_coverage(lines: Any) -> None:
    # January: |100| + |300| of |600| has a cost → coverage 4/6, below 95%: unknown, not 100%
    # February: every line has a cost → coverage 1; profit (120−70)+(80−40)+(−5+3) = 88,
    # margin 88 / 195
    cov, gp, gm = (_by_period(lines, n) for n in ("cost_coverage", "gross_profit",
                                                  "gross_margin"))
    assert cov["2024-01-01"]["value"] == pytest.approx(4 / 6)
    assert gp["2024-01-01"]["value"] is None and gm["2024-01-01"]["value"] is None
    assert cov["2024-02-01"]["value"] == pytest.approx(1.0)
    assert gp["2024-02-01"]["value"] == pytest.approx(88)
    assert gm["2024-02-01"]["value"] == pytest.approx(88 / 195)
    # the change against an unknown January is unknown too
    assert gm["2024-02-01"]["change"] is None


def test_customer_profitability_is_unknown_without_cost(lines: Any) -> None:
    # January: a (100 − 60) + (300 − 150) − 10 cost to serve = 180; b's only line has no
    # cost: unknown, not 200
    got = {(r["period"], r["customer_id"]): r["value"] for r in kpi_records(compute_kpi(
        lines, "customer_profitability", ("customer",), "month", persist=False))}
    assert got[("2024-01-01", "a")] == pytest.approx(180)
    assert got[("2024-01-01", "b")] is None
    assert got[("2024-02-01", "b")] == pytest.approx(40)


def test_gross_margin_on_the_costed_lines_when_coverage_suffices(scratch: Any) -> None:
    # 1,000 with a cost of 600 and 40 without: coverage 1000/1040 = 96.2% ≥ 95%; margin and
    # profit over the costed lines only: 400 / 1000 = 40% (not 440 / 1040)
    rows = [{"invoice_id": "J1", "line_no": 1, "invoice_date": date(2024, 3, 1),
             "customer_id": "a", "sku": "s", "quantity": 1, "net_revenue": 1000, "cost": 600},
            {"invoice_id": "J2", "line_no": 1, "invoice_date": date(2024, 3, 2),
             "customer_id": "a", "sku": "s", "quantity": 1, "net_revenue": 40, "cost": None}]
    con = load_tables(scratch, {"invoice_lines": arrow_table("invoice_lines", rows)})
    got = compute_kpis(con, ["gross_margin", "gross_profit", "cost_coverage"], period="month")
    values = {n: kpi_records(t)[0]["value"] for n, t in got.items()}
    assert values["cost_coverage"] == pytest.approx(1000 / 1040)
    assert values["gross_margin"] == pytest.approx(0.4)
    assert values["gross_profit"] == pytest.approx(400)


def test_the_last_month_is_partial_and_compared_on_the_same_days(lines: Any) -> None:
    last = data_last_day(lines)
    assert last == date(2024, 2, 4)
    partial = partial_period(last, "month")
    assert partial is not None and (partial.days, partial.of_days) == (4, 29)
    assert partial.text("en") == "partial: 4 of 29 days"
    assert partial.text("he") == "חלקי: 4 מתוך 29 ימים"
    # 4 of 29 days is 13.8% of the month, under a quarter: too young to compare
    assert not partial.comparable
    assert same_days_previous(lines, ["revenue"], partial) == {}
    records = partial_records(lines, "revenue", kpi_records(
        compute_kpi(lines, "revenue", (), "month", persist=False)), "month")
    feb = next(r for r in records if r["period"] == "2024-02-01")
    assert feb["value"] == pytest.approx(195)
    assert (feb["previous"], feb["change"], feb["change_pct"]) == (None, None, None)
    assert feb["partial"]["compared_en"].startswith("too young to compare: 4 of 29 days")
    assert next(r for r in records if r["period"] == "2024-01-01")["partial"] is None


def test_a_partial_period_old_enough_is_compared_with_the_same_days(lines: Any) -> None:
    # as if the data ended on 21/02 (21 of 29 days): February is compared with 01/01–21/01
    # (100 + 200 + 300 = 600). Active customers on those days: a and b = 2.
    partial = partial_period(date(2024, 2, 21), "month")
    assert partial is not None and partial.comparable
    assert (partial.previous_start, partial.previous_end) == (date(2024, 1, 1),
                                                              date(2024, 1, 21))
    prev = same_days_previous(lines, ["revenue", "active_customers"], partial)
    assert prev["revenue"][()] == pytest.approx(600)
    assert prev["active_customers"][()] == 2
    early = partial_period(date(2024, 1, 31), "month")
    assert early is None  # the data end on the month's last day: a whole month
    quarter = partial_period(date(2024, 2, 4), "quarter")
    assert quarter is not None and (quarter.days, quarter.of_days) == (35, 91)
    assert same_days_previous(lines, ["revenue"], quarter)["revenue"] == {}  # no Q4 2023 rows


@pytest.mark.parametrize(("last", "grain", "prev_from", "prev_to"), [
    (date(2011, 12, 9), "month", date(2011, 11, 1), date(2011, 11, 9)),     # UCI I
    (date(2005, 5, 31), "year", date(2004, 1, 1), date(2004, 5, 31)),       # classicmodels
    (date(2026, 10, 30), "quarter", date(2026, 7, 1), date(2026, 7, 30)),   # the demo
    (date(2024, 5, 31), "quarter", date(2024, 1, 1), date(2024, 2, 29)),    # no 31/02
    (date(2024, 3, 30), "week", date(2024, 3, 18), date(2024, 3, 23)),      # Mon–Sat
])
def test_the_same_days_of_the_previous_period(last: date, grain: str, prev_from: date,
                                              prev_to: date) -> None:
    partial = partial_period(last, grain)
    assert partial is not None
    assert (partial.previous_start, partial.previous_end) == (prev_from, prev_to)


def test_no_flag_fires_on_a_partial_period() -> None:
    partial = partial_period(date(2011, 12, 9), "month")
    assert partial is not None and partial.comparable  # 9 of 31 days
    rows = [{"period": "2011-11-01", "value": 1600, "previous": 1500, "change": 100,
             "change_pct": 0.067, "flags": []},
            {"period": "2011-12-01", "value": 610, "previous": 1650, "change": -1040,
             "change_pct": -0.63, "flags": ["active_drop"]}]
    marked = mark_partial(rows, partial, {(): 615})
    dec = marked[1]
    assert dec["flags"] == [] and dec["previous"] == 615 and dec["change"] == -5
    assert dec["change_pct"] == pytest.approx(-5 / 615)
    assert dec["partial"]["text_en"] == "partial: 9 of 31 days"
    assert marked[0]["partial"] is None and marked[0]["change"] == 100
    json.loads(json.dumps(marked), parse_constant=_refuse)


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@pytest.mark.parametrize(("unit", "value", "previous", "kind", "text", "good"), [
    ("%", 0.175, 0.183, "points", "−0.8 pts", False),       # gross margin 18.3% → 17.5%
    ("%", 0.40, 0.485, "points", "−8.5 pts", False),        # win rate
    ("%", 0.10, -0.55, "points", "+65.0 pts", True),        # from a negative accuracy
    ("%", 0.30001, 0.3, "points", None, None),              # below 0.1 pts: no change
    ("money", 130.0, 100.0, "relative", "+30%", True),
    ("count", 99.998, 100.0, "relative", None, None),       # −0.002%: no red "−0%"
    ("count", 5.0, 0.0, "relative", None, None),            # from nothing: no "+∞%"
    ("ratio", 2.4, 2.1, "absolute", "+0.3×", True),
])
def test_a_change_speaks_in_the_unit_of_its_kpi(unit: str, value: float, previous: float,
                                                kind: str, text: str | None,
                                                good: bool | None) -> None:
    got = describe_change(unit, value, previous, higher_is_better=True)
    assert (got["kind"], got["text_en"], got["good"]) == (kind, text, good)
    if text is not None:
        assert got["text_he"] is not None


def test_revenue_per_rep_counts_selling_reps_only(scratch: Any) -> None:
    # reps: P President, no dates, never sold; S1 Sales Rep, no dates, sold 03/01 and 20/03
    # (active 03/01–20/03); S2 Sales Rep, no dates, never sold; M Sales Manager, no dates, sold
    # 10/02 only; S3 Sales Rep from 15/02, no sale yet; S4 no role, left 10/01, sold 05/01.
    # Jan: S1, S4 → (100 + 50) / 2 = 75 (every row of reps would give 150 / 5 = 30)
    # Feb: S1 (between its first and last sale), M (sold in Feb), S3 → 60 / 3 = 20
    # Mar: S1, S3 (M sold nothing and its span ended) → 90 / 2 = 45
    reps = [{"rep_id": "P", "role": "President"}, {"rep_id": "S1", "role": "Sales Rep"},
            {"rep_id": "S2", "role": "Sales Rep"}, {"rep_id": "M", "role": "Sales Manager (NA)"},
            {"rep_id": "S3", "role": "Sales Rep", "active_from": date(2024, 2, 15)},
            {"rep_id": "S4", "active_to": date(2024, 1, 10)}]
    sales = [("S1", date(2024, 1, 3), 100), ("S4", date(2024, 1, 5), 50),
             ("M", date(2024, 2, 10), 60), ("S1", date(2024, 3, 20), 90)]
    rows = [{"invoice_id": f"R{n}", "line_no": 1, "invoice_date": day, "customer_id": "a",
             "sku": "s", "quantity": 1, "net_revenue": rev, "cost": 1, "rep_id": rep}
            for n, (rep, day, rev) in enumerate(sales)]
    con = load_tables(scratch, {"invoice_lines": arrow_table("invoice_lines", rows),
                                "reps": arrow_table("reps", reps)})
    got = {r["period"]: r["value"] for r in kpi_records(
        compute_kpi(con, "revenue_per_rep", (), "month", persist=False))}
    assert got == {"2024-01-01": pytest.approx(75), "2024-02-01": pytest.approx(20),
                   "2024-03-01": pytest.approx(45)}
    # by rep: each selling rep's own revenue ÷ 1; S3 has no revenue row
    by_rep = {(r["period"], r["rep_id"]): r["value"] for r in kpi_records(
        compute_kpi(con, "revenue_per_rep", ("rep",), "month", persist=False))}
    assert by_rep[("2024-02-01", "M")] == pytest.approx(60)
    # the whole quarter: S1, S3, M, S4 → 300 / 4
    whole = kpi_records(compute_kpi(con, "revenue_per_rep", (), None, date(2024, 1, 1),
                                    date(2024, 3, 31), persist=False))
    assert whole[0]["value"] == pytest.approx(75)


def test_revenue_per_rep_by_rep_reads_the_lines_once_for_the_sales() -> None:
    # by rep, the (period, rep) that sold are the slices with revenue rows: the SQL reads the
    # lines for revenue per customer and for the reps' first and last sale, not a third time
    # to find who sold (on DuckDB that third reader also kept a copy of all the lines in memory)
    ws = Workspace.open(":memory:")
    assert explain_kpi(ws.backend, "revenue_per_rep", ("rep",), "month").count(
        "invoice_lines") == 2
