"""Insights and stores for the insight and delivery tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from salesradar.app import AppDB
from salesradar.insights import Insight, InsightStore, Kind, StoreSettings, Subject, Texts

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday


def make_insight(
    customer: str = "C-1", *, kind: Kind = Kind.CHURN_RISK, value: float = 10_000.0,
    priority: int = 50, rep: str | None = "r1", manager: str | None = "m1",
    team: str | None = "north", at: datetime = T0, **evidence: Any,
) -> Insight:
    return Insight(
        kind=kind, subject=Subject("customer", customer), owner_rep_id=rep, manager_id=manager,
        detected_at=at, priority=priority, value_at_stake=value,
        en=Texts(f"{customer} has not ordered for 41 days", "orders every ~12 days",
                 "Call the buyer this week"),
        he=Texts(f"הלקוח {customer} לא הזמין 41 יום", "מזמין כל ~12 יום", "להתקשר לקניין השבוע"),
        evidence={"gap_days": 41, "rhythm_days": 12, **evidence}, team=team,
    )


def memory_store(holdout_fraction: float = 0.0, **settings: Any) -> InsightStore:
    return InsightStore(
        AppDB.open("sqlite://"), StoreSettings(holdout_fraction=holdout_fraction, **settings)
    )
