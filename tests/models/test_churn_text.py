"""The churn explanation in English and Hebrew, from hand-made feature values."""

from __future__ import annotations

import math

import pytest

from salesradar.errors import UserInputError
from salesradar.models.churn_text import explanation, reason_text

# a customer ordering every 12 days, last 41 days ago (3.4x its gap), 2 orders in the last 90
# days against 7 before, 3 different items against 9, 40% of invoices paid 18 days late
C = {
    "purchase_days": 20.0, "median_gap": 12.0, "recency_days": 41.0, "gap_ratio": 41 / 12,
    "orders_w1": 2.0, "orders_w2": 7.0, "revenue_w1": 3_000.0, "revenue_w2": 12_500.0,
    "skus_w1": 3.0, "skus_w2": 9.0, "returns_share": math.nan, "margin_rate": math.nan,
    "late_share": 0.4, "mean_days_late": 18.0, "contacts": math.nan,
}
REASONS = ["rhythm", "orders", "payments"]


def test_english() -> None:
    lines = explanation(C, 38_000.0, 0.62, 90, 90, REASONS)
    assert lines == [
        "orders every ~12 days; last order 41 days ago; ₪38k a quarter at stake",
        "62% chance of no order in the next 90 days",
        "3.4× its usual gap since the last order",  # 41 / 12 = 3.42
        "2 orders in the last 90 days vs 7 in the 90 before",
        "40% of invoices paid late in the last year (on average 18 days)",
    ]


def test_hebrew() -> None:
    lines = explanation(C, 38_000.0, 0.62, 90, 90, REASONS, lang="he")
    assert lines[0] == "מזמין כל ~12 יום; הזמנה אחרונה לפני 41 יום; ₪38k לרבעון בסיכון"
    assert lines[1] == "סיכוי של 62% שלא יזמין ב-90 הימים הבאים"
    assert lines[3] == "2 הזמנות ב-90 הימים האחרונים לעומת 7 ב-90 הימים שלפניהם"
    assert reason_text("breadth", C, 90, lang="he") == (
        "קנה 3 פריטים שונים ב-90 הימים האחרונים לעומת 9 לפני כן"
    )


def test_one_time_buyer_without_value() -> None:
    once = {**C, "purchase_days": 1.0, "median_gap": math.nan, "recency_days": 1.0}
    lines = explanation(once, 0.0, 0.8, 90, 90, ["rhythm"])
    assert lines[0] == "ordered once, 1 day ago; no net revenue in its last year of orders"
    assert lines[2].startswith("has bought only once so far")
    assert explanation(once, 0.0, 0.8, 90, 90, [], lang="he")[0] == (
        "הזמין פעם אחת, לפני יום אחד; ללא הכנסה נטו בשנת ההזמנות האחרונה שלו"
    )


def test_unknown_language_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="en or he"):
        explanation(C, 1.0, 0.5, 90, 90, [], lang="fr")  # type: ignore[arg-type]


def test_this_season_last_year() -> None:
    last = {**C, "orders_last_season": 3.0, "revenue_last_season": 12_400.0}
    lines = explanation(last, 38_000.0, 0.62, 60, 90, ["season"])
    assert lines[2] == ("bought ₪12k in this season last year (3 orders in the 60 days from "
                        "this date a year ago)")
    assert reason_text("season", last, 90, lang="he", season_days=60) == (
        "קנה ב-₪12k בעונה הזו בשנה שעברה (3 הזמנות ב-60 הימים מתאריך זה לפני שנה)"
    )
    none = {**last, "orders_last_season": 0.0, "revenue_last_season": -15.0, "tenure_days": 400.0}
    assert reason_text("season", none, 90) == (
        "no order in this season last year (the 90 days from this date a year ago)"
    )
    assert reason_text("season", none, 90, lang="he") == (
        "לא הזמין בעונה הזו בשנה שעברה (90 הימים מתאריך זה לפני שנה)"
    )
    # a customer whose first order came after that season
    assert reason_text("season", {**none, "tenure_days": 200.0}, 90) == (
        "not yet a customer in this season last year (the 90 days from this date a year ago)"
    )
    assert reason_text("season", {**none, "tenure_days": 200.0}, 90, lang="he") == (
        "עוד לא היה לקוח בעונה הזו בשנה שעברה (90 הימים מתאריך זה לפני שנה)"
    )
    # a history shorter than a year: unknown, so no line
    unknown = {**last, "orders_last_season": math.nan, "revenue_last_season": math.nan}
    assert reason_text("season", unknown, 90) == ""
