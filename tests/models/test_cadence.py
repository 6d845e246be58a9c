"""One rhythm and one money-at-stake definition, shared by churn, health and the customer view."""

from __future__ import annotations

import pytest

from salesradar.models.cadence import customer_rhythm, customer_terms, value_at_stake
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
    # T: two purchase days 41 days apart: no rhythm yet
    ("T", 100, "X", 80.0), ("T", 141, "X", 120.0),
    # B: a burst buyer: one big order in its whole history
    ("B", 590, "X", 21_500.0),
]
AS_OF = day(600)


@pytest.fixture(scope="module")
def terms() -> dict[str, dict[str, object]]:
    ws = workspace(ROWS)
    rows = customer_terms(ws.table("invoice_lines"), AS_OF).to_pyarrow().to_pylist()
    return {r["customer_id"]: r for r in rows}


def test_typical_gap_is_the_median(terms: dict[str, dict[str, object]]) -> None:
    assert set(terms) == {"W", "L", "O", "N", "T", "B"}  # F has not bought yet
    assert terms["W"]["typical_gap_days"] == 7
    assert terms["L"]["typical_gap_days"] == 250  # gaps 400 and 100
    assert terms["O"]["typical_gap_days"] is None and terms["O"]["purchase_days"] == 1
    assert terms["W"]["days_since_last_order"] == 530  # 600 - 70
    assert terms["O"]["last_order"] == day(10)  # the cancellation on day 20 is no order
    assert terms["W"]["previous_order"] == day(21) and terms["W"]["first_order"] == day(0)
    assert terms["W"]["last_order_sales"] == 100.0


def test_no_rhythm_below_three_purchase_days(terms: dict[str, dict[str, object]]) -> None:
    # two purchase days make one gap: a fact ("41 days apart"), not a rhythm
    t = terms["T"]
    assert (t["purchase_days"], t["typical_gap_days"]) == (2, None)
    assert (t["previous_order"], t["last_order"]) == (day(100), day(141))
    assert terms["B"]["typical_gap_days"] is None and terms["B"]["previous_order"] is None
    assert terms["L"]["purchase_days"] == 3 and terms["L"]["typical_gap_days"] == 250


def test_money_at_stake_is_the_net_year_to_the_last_order(
    terms: dict[str, dict[str, object]],
) -> None:
    # W: last order day 70; lines in (70 - 365, 600]: 5 x 100
    assert terms["W"]["value_at_stake"] == pytest.approx(500.0)
    # L: lines in (500 - 365, 600] = days 400 and 500 (day 0 is older): 300 + 300
    assert terms["L"]["value_at_stake"] == pytest.approx(600.0)
    # O: the cancellation ten days after its only order nets in: 200 - 50
    assert terms["O"]["value_at_stake"] == pytest.approx(150.0)
    assert (terms["O"]["year_sales"], terms["O"]["year_returns"]) == (200.0, 50.0)
    # N: 100 - 300 < 0 -> nothing at stake, never negative
    assert terms["N"]["value_at_stake"] == 0.0
    # B: one order of 21,500 is 21,500, never scaled up to a pace
    assert terms["B"]["value_at_stake"] == pytest.approx(21_500.0)


def test_churn_features_use_the_same_gap(terms: dict[str, dict[str, object]]) -> None:
    ws = workspace(ROWS)
    feats = churn_features(ws.table("invoice_lines"), [AS_OF]).to_pyarrow().to_pylist()
    for row in feats:
        if row["purchase_days"] >= 3:  # the model also sees the one gap of two purchase days
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
    worth = {r["customer_id"]: r for r in value_at_stake(lines, AS_OF).to_pyarrow().to_pylist()}
    assert set(rhythm) == set(worth) == set(terms)
    for customer, row in terms.items():
        assert {**rhythm[customer], **worth[customer]} == row


def test_no_health_score_without_a_rhythm() -> None:
    ws = workspace(ROWS)
    rows = {r["customer_id"]: r for r in health_scores(ws, AS_OF).to_pylist()}
    # O bought on one day, T on two: no rhythm, so no score (never 100, never an invented gap)
    for customer, days in (("O", "1"), ("T", "2")):
        assert rows[customer]["health"] is None
        assert rows[customer]["explanation"] == (
            f"no health score yet: bought on {days} day(s); a rhythm needs 3")
    assert rows["W"]["health"] is not None and "orders every ~" not in (
        rows["O"]["explanation"] or "")
