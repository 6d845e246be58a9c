"""One rhythm and one value-at-stake definition, shared by churn, health and the customer view."""

from __future__ import annotations

import pytest

from salesradar.models.cadence import customer_rhythm, customer_terms, quarterly_value
from salesradar.models.features import churn_features
from salesradar.models.tiers import health_scores

from .invoice_helpers import day, workspace

ROWS = [
    # W: weekly, then one long break: gaps 7, 7, 7, 49 -> median 7 (the mean would say 17.5)
    *[("W", d, "X", 100.0) for d in (0, 7, 14, 21, 70)],
    # L: an old order, then two in the last year of its orders
    ("L", 0, "X", 1000.0), ("L", 400, "X", 300.0), ("L", 500, "X", 300.0),
    # O: one order, and a cancellation after it (a day without a purchase)
    ("O", 10, "X", 200.0), ("O", 20, "X", -50.0),
    # N: an order netted below zero by a return on the same day
    ("N", 5, "X", 100.0), ("N", 5, "Y", -300.0),
    # F: first order after the "as of" date
    ("F", 700, "X", 100.0),
]
AS_OF = day(600)


@pytest.fixture(scope="module")
def terms() -> dict[str, dict[str, object]]:
    ws = workspace(ROWS)
    rows = customer_terms(ws.table("invoice_lines"), AS_OF).to_pyarrow().to_pylist()
    return {r["customer_id"]: r for r in rows}


def test_typical_gap_is_the_median(terms: dict[str, dict[str, object]]) -> None:
    assert set(terms) == {"W", "L", "O", "N"}  # F has not bought yet
    assert terms["W"]["typical_gap_days"] == 7
    assert terms["L"]["typical_gap_days"] == 250  # gaps 400 and 100
    assert terms["O"]["typical_gap_days"] is None and terms["O"]["purchase_days"] == 1
    assert terms["W"]["days_since_last_order"] == 530  # 600 - 70
    assert terms["O"]["last_order"] == day(10)  # the cancellation on day 20 is no order


def test_value_at_stake_per_quarter(terms: dict[str, dict[str, object]]) -> None:
    # W: 5 x 100 within a year of its last order, over max(70 - 0 + 1, 91) = 91 days
    assert terms["W"]["quarterly_value"] == pytest.approx(500.0)
    # L: the year up to day 500 holds days 400 and 500 (day 0 is older): 600 over 101 days
    assert terms["L"]["quarterly_value"] == pytest.approx(600 * 91 / 101)
    # O: one order of 200 counts as one quarter's worth; the later cancellation is outside
    assert terms["O"]["quarterly_value"] == pytest.approx(200.0)
    # N: 100 - 300 < 0 -> nothing at stake, never negative
    assert terms["N"]["quarterly_value"] == 0.0


def test_churn_features_use_the_same_gap(terms: dict[str, dict[str, object]]) -> None:
    ws = workspace(ROWS)
    feats = churn_features(ws.table("invoice_lines"), [AS_OF]).to_pyarrow().to_pylist()
    for row in feats:
        assert row["median_gap"] == terms[row["customer_id"]]["typical_gap_days"]
        assert row["recency_days"] == terms[row["customer_id"]]["days_since_last_order"]


def test_health_rhythm_uses_the_median_gap() -> None:
    ws = workspace(ROWS)
    w = {r["customer_id"]: r for r in health_scores(ws, day(100)).to_pylist()}["W"]
    # last order 30 days ago against a typical gap of 7: 30 / 7 = 4.3x, past 4x -> 0
    # (with the mean gap of 17.5 it would have been 1 - (30 / 17.5 - 1) / 3 = 0.76)
    assert w["rhythm_score"] == pytest.approx(0.0)


def test_the_two_halves_are_the_terms(terms: dict[str, dict[str, object]]) -> None:
    ws = workspace(ROWS)
    lines = ws.table("invoice_lines")
    rhythm = {r["customer_id"]: r for r in customer_rhythm(lines, AS_OF).to_pyarrow().to_pylist()}
    worth = {r["customer_id"]: r for r in quarterly_value(lines, AS_OF).to_pyarrow().to_pylist()}
    assert set(rhythm) == set(worth) == set(terms)
    for customer, row in terms.items():
        assert {**rhythm[customer], **worth[customer]} == row
