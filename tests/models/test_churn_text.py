"""The churn explanation in English and Hebrew: each pattern of a real customer history says
only what that history proves (hand-made terms and feature values)."""

from __future__ import annotations

import math

import pytest

from salesradar.errors import UserInputError
from salesradar.models.churn_text import (
    explanation,
    explanation_claims,
    reason_holds,
    reason_words,
    terms_of,
)

AS_OF = "2026-03-31"
# a customer ordering every 12 days, last 41 days ago, 2 orders in the last 90 days against 7
# before, 3 different items against 9
C = {
    "purchase_days": 20.0, "recency_days": 41.0, "orders_w1": 2.0, "orders_w2": 7.0,
    "revenue_w1": 3_000.0, "revenue_w2": 12_500.0, "skus_w1": 3.0, "skus_w2": 9.0,
    "contacts": math.nan, "orders_last_season": math.nan, "tenure_days": 400.0,
}
T = terms_of({"customer_id": "C1", "as_of": AS_OF, "purchase_days": 20,
              "typical_gap_days": 12.0, "days_since_last_order": 41,
              "last_order": "2026-02-18", "previous_order": "2026-02-06",
              "first_order": "2025-01-01", "last_order_sales": 2_000.0,
              "value_at_stake": 38_000.0, "year_sales": 40_000.0, "year_returns": 2_000.0})


def test_a_rhythm_customer_past_its_rhythm() -> None:
    lines = explanation(C, T, 0.62, 90, 90, ["rhythm", "orders", "payments"])
    assert lines == [
        "orders every ~12 days; last order 41 days ago (past its rhythm); ₪38k at stake: its "
        "net purchases in the year to its last order",
        "62% chance of no order in the next 90 days",
        "2 orders in the last 90 days vs 7 in the 90 before",
    ]  # payments: nothing recomputable to say, so nothing said
    claims = explanation_claims(C, T, 0.62, 90, 90, ["rhythm", "orders"])
    by = {(c["claim"], c.get("from")): c["value"] for c in claims}
    assert by[("median_gap_days", None)] == 12.0 and by[("past_rhythm", None)] is True
    assert by[("purchase_days_in", "2026-01-01")] == 2.0  # (31/03 - 90 days, 31/03]
    assert by[("purchase_days_in", "2025-10-03")] == 7.0  # the 90 days before
    assert by[("value_at_stake", None)] == 38_000.0


def test_hebrew() -> None:
    lines = explanation(C, T, 0.62, 90, 90, ["orders"], lang="he")
    assert lines[0] == ("מזמין כל ~12 יום; הזמנה אחרונה לפני 41 יום (מעבר לקצב שלו); ₪38k "
                        "בסיכון: רכישותיו נטו בשנה שעד ההזמנה האחרונה")
    assert lines[1] == "סיכוי של 62% שלא יזמין ב-90 הימים הבאים"
    assert lines[2] == "2 הזמנות ב-90 הימים האחרונים לעומת 7 ב-90 הימים שלפניהם"


def test_inside_the_rhythm_it_is_not_called_past_it() -> None:
    within = {**T, "days_since_last_order": 5.0}
    assert "(within its rhythm)" in explanation(C, within, 0.5, 90, 90, [])[0]


def test_one_time_buyer_has_no_rhythm() -> None:
    once = terms_of({"customer_id": "C2", "as_of": AS_OF, "purchase_days": 1,
                     "days_since_last_order": 2, "last_order": "2026-03-29",
                     "last_order_sales": 3_528.0, "value_at_stake": 3_528.0})
    lines = explanation({**C, "purchase_days": 1.0}, once, 0.8, 90, 90, ["rhythm"])
    assert lines[0] == ("bought once: ₪3.5k on 29/03/2026, 2 days ago; ₪3.5k at stake: its net "
                        "purchases in the year to its last order")
    assert "every" not in " ".join(lines)


def test_two_purchase_days_are_a_fact_not_a_rhythm() -> None:
    twice = terms_of({"customer_id": "C3", "as_of": AS_OF, "purchase_days": 2,
                      "days_since_last_order": 60, "last_order": "2026-01-30",
                      "previous_order": "2025-12-20", "value_at_stake": 900.0})
    first = explanation(C, twice, 0.7, 90, 90, [])[0]
    assert first.startswith("bought twice, 41 days apart; last order 60 days ago")
    assert "every" not in first


def test_a_cancellation_after_the_last_order_leaves_nothing_at_stake() -> None:
    cancelled = {**T, "value_at_stake": 0.0}
    assert explanation(C, cancelled, 0.9, 90, 90, [])[0].endswith(
        "no net revenue in its last year of orders")


def test_reasons_hold_only_in_their_direction() -> None:
    growing = {**C, "orders_w1": 7.0, "orders_w2": 2.0, "revenue_w1": 9.0, "revenue_w2": 1.0}
    assert not reason_holds("orders", growing, T) and not reason_holds("revenue", growing, T)
    assert reason_words("orders", growing, T, 90) == ("", [])
    # returns: 2,000 of 40,000 (5%) holds; a customer that returned nothing never gets it
    assert reason_holds("returns", C, T)
    text, claims = reason_words("returns", C, T, 90)
    assert text == "returned ₪2.0k of the ₪40k it bought in its last year of orders"
    assert {c["claim"] for c in claims} == {"returned", "gross_sales"}
    assert not reason_holds("returns", C, {**T, "year_returns": 0.0})
    assert not reason_holds("returns", C, {**T, "year_returns": 100.0})  # 0.25%: too little
    # a fall must be material: 10,000 -> 9,925 (one small credit note) is no reason
    slight = {**C, "revenue_w1": 9_925.0, "revenue_w2": 10_000.0, "orders_w1": 3.0,
              "orders_w2": 4.0}
    assert not reason_holds("revenue", slight, T) and reason_holds("orders", slight, T)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UserInputError, match="en or he"):
        explanation(C, T, 0.5, 90, 90, [], lang="fr")  # type: ignore[arg-type]
