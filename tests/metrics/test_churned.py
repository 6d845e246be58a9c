"""Who churned: the customers behind churned_customers, on the hand-made workspace, every engine."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesradar.errors import UserInputError
from salesradar.metrics import compute_kpi
from salesradar.metrics.churned import churn_window, churned, churned_summary

from .conftest import load_tables
from .data import D, _line, arrow_table


def test_who_churned_in_march(backend: Any) -> None:
    # Active in Feb 2024 (net > 0): c1 120 − 10 = 110 (r1), c2 150 (r2), c4 60 (r2).
    # In Mar: c2 buys 55; c1 nothing; c4 20 − 20 = 0, not > 0. So c1 and c4 churned, c1 first.
    # c1's purchase days before Mar: Dec 10, Jan 5, Jan 6, Feb 3 (Feb 9 is a return, net −10):
    #   4 days, gaps 26, 1, 28 -> median 26; March has 31 days -> 31 / 26 = 1.19 expected
    #   purchases >= 1: it should have bought. Last purchase Feb 3 -> Mar 31 is 57 days later.
    # c4: one purchase day (Feb 20): no rhythm, so no verdict; Mar 31 − Feb 20 = 40 days.
    t = churned(backend, "2024-03")
    rows = t.to_pylist()
    assert [r["customer_id"] for r in rows] == ["c1", "c4"]
    c1, c4 = rows
    assert float(c1["value"]) == 110.0
    assert c1["last_purchase"] == date(2024, 2, 3)
    assert c1["purchase_days"] == 4
    assert c1["typical_gap_days"] == pytest.approx(26.0)
    assert c1["days_since_last"] == pytest.approx(57.0)
    assert c1["expected_purchases"] == pytest.approx(31 / 26)
    assert c1["should_have_bought"] is True
    assert float(c4["value"]) == 60.0
    assert c4["purchase_days"] == 1
    assert c4["typical_gap_days"] is None
    assert c4["days_since_last"] == pytest.approx(40.0)
    assert c4["should_have_bought"] is None
    summary = churned_summary(t, "2024-03")
    assert {k: v for k, v in summary.items() if not k.startswith("summary_")} == {
        "period": "2024-03-01", "window": "month", "previous_period": "2024-02-01",
        "customers": 2, "value": 170.0, "should_have_bought": 1}
    assert summary["summary_en"].startswith("2 customers who bought in the month from 01/02/2024")
    assert "₪170" in summary["summary_he"] and "1 מהם" in summary["summary_he"]


def test_who_churned_in_february_kept_its_rhythm(backend: Any) -> None:
    # Jan actives: c1, c2 (r3), c3 (r3, 20). In Feb c1 and c2 buy; c3 does not.
    # c3's purchase days: Dec 15, Jan 20 -> two purchase days, one gap of 36 days: no rhythm
    # (a rhythm needs 3 purchase days), so no "should have bought" verdict either way (the old
    # rule judged it on that one gap). Feb 29 − Jan 20 = 40 days.
    rows = churned(backend, "2024-02", by=("rep",)).to_pylist()
    assert [(r["rep_id"], r["customer_id"]) for r in rows] == [("r3", "c3")]
    assert rows[0]["purchase_days"] == 2 and rows[0]["typical_gap_days"] is None
    assert rows[0]["expected_purchases"] is None
    assert rows[0]["should_have_bought"] is None
    assert rows[0]["days_since_last"] == pytest.approx(40.0)


def test_rows_per_rep_are_the_kpi(backend: Any) -> None:
    # the list by rep has as many rows per rep as churned_customers by rep counts (Mar: r1 1, r2 1)
    rows = churned(backend, "2024-03", by=("rep",)).to_pylist()
    listed: dict[str, int] = {}
    for r in rows:
        listed[r["rep_id"]] = listed.get(r["rep_id"], 0) + 1
    kpi = compute_kpi(backend, "churned_customers", by=("rep",), period="month",
                      start=date(2024, 3, 1), end=date(2024, 3, 31), persist=False)
    counted = {r["rep_id"]: r["value"] for r in kpi.to_pylist()
               if r["period"] == date(2024, 3, 1) and r["value"]}
    assert listed == counted == {"r1": 1, "r2": 1}


def test_a_day_with_a_sale_and_a_larger_return_is_a_purchase_day(scratch: Any) -> None:
    # x buys on Jan 2 (100), buys 60 and returns 90 on Jan 20 (net -30, gross 60), buys on Feb 8
    # (100) and nothing in March; y's March line makes the data reach March.
    # Purchase days are days with gross sales (models.cadence, as the churn texts, health and the
    # customer view count them): Jan 2, Jan 20, Feb 8 -> gaps 18 and 19, median 18.5; March's
    # 31 days hold 31 / 18.5 = 1.68 purchases: x should have bought. (Counting only days with
    # net revenue > 0 would drop Jan 20: one gap of 37 days, 31 / 37 = 0.84, no verdict of overdue.)
    lines = [
        _line(1, D(2024, 1, 2), "x", "s1", 10, 100, 60, "r1", "field"),
        _line(2, D(2024, 1, 20), "x", "s1", 6, 60, 36, "r1", "field"),
        _line(3, D(2024, 1, 20), "x", "s2", -3, -90, -54, "r1", "field"),
        _line(4, D(2024, 2, 8), "x", "s1", 10, 100, 60, "r1", "field"),
        _line(5, D(2024, 3, 5), "y", "s1", 1, 10, 6, "r2", "web"),
    ]
    backend = load_tables(scratch, {"invoice_lines": arrow_table("invoice_lines", lines)})
    (x,) = churned(backend, "2024-03").to_pylist()
    assert x["customer_id"] == "x"
    assert float(x["value"]) == 100.0  # February's net revenue
    assert x["purchase_days"] == 3
    assert x["last_purchase"] == date(2024, 2, 8)
    assert x["typical_gap_days"] == pytest.approx(18.5)
    assert x["days_since_last"] == pytest.approx(52.0)  # Feb 8 -> Mar 31: 21 + 31
    assert x["expected_purchases"] == pytest.approx(31 / 18.5)
    assert x["should_have_bought"] is True


def test_quarter_window(backend: Any) -> None:
    # Q4 2023 actives: c1, c3; both buy in Q1 2024 -> nobody churned
    assert churned(backend, "2024-Q1").num_rows == 0
    # a date with --window picks the period holding it
    assert churn_window("2024-03-15", "quarter") == (date(2024, 1, 1), "quarter")


@pytest.mark.parametrize("period, window, message", [
    ("2024-03", "quarter", "is a month"),
    ("March", None, "cannot read period"),
    ("2024-03", "fortnight", "--window must be"),
    ("2025-01", None, "nothing to say"),
])
def test_mistakes(duckdb_backend: Any, period: str, window: str | None, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        churned(duckdb_backend, period, window=window)
