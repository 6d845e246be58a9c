"""A store with insights in it, and the people to route them to."""

from __future__ import annotations

from insights.insight_helpers import T0, make_insight, memory_store
from salesradar.delivery import Person
from salesradar.insights import InsightStore

__all__ = ["PEOPLE", "T0", "seeded_store"]

PEOPLE = {
    "r1": Person("r1", "Dana", "dana@example.com", hubspot_owner_id="501"),
    "m1": Person("m1", "Moshe", "moshe@example.com", lang="he"),
}


def seeded_store(*customers: str, store: InsightStore | None = None) -> InsightStore:
    """A store (in memory unless given) with a churn-risk insight per customer (default C-1)."""
    store = store or memory_store()
    store.upsert_many([make_insight(c) for c in customers or ("C-1",)], T0)
    return store
