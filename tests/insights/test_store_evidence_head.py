"""upsert_many reads the head of every known insight's evidence and tells from it alone that
an evidence judged another day changed; the other columns and the whole evidence are read and
compared only where the head cannot tell. The counts and the stored rows are what comparing
everything gives."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from salesradar.insights import InsightStore
from salesradar.insights.model import Insight
from salesradar.insights.store import _judged_another_day

from .insight_helpers import T0, make_insight, memory_store

DAY1 = {"as_of": "2026-11-22", "now": "2026-11-23T00:00:00", "gap_days": 41}
DAY2 = {**DAY1, "as_of": "2026-11-23", "now": "2026-11-24T00:00:00"}


@pytest.mark.parametrize(("head", "evidence", "expected"), [
    ('{"as_of": "2026-11-22", "now": "2026-11-23T0', DAY2, True),  # another day
    ('{"as_of": "2026-11-23", "now": "2026-11-24T0', DAY2, False),  # the same day: compare
    ('{"as_of": "2026-11-22", "now": "2026-11-23T0', {"gap_days": 41}, True),  # no as_of now
    ('{"as_of": "2026-11-22", "now": "2026-11-23T0', {"as_of": 20261122}, True),  # not text
    ('{"now": "2026-11-23T00:00:00", "as_of": "202', DAY2, False),  # another first key
    ('{"as_of": "2026-11-2\\u0032", "now": "2026-1', DAY2, False),  # an escape
    ('{"as_of": "2026-1', DAY2, False),  # the value cut off
    ('{"as_of":"2026-11-22","now":"2026-11-23T00:', DAY2, False),  # not json.dumps' spacing
    ("", DAY2, False),
    (None, DAY2, False),
])
def test_the_head_tells_only_a_day_judged_otherwise(
        head: str | None, evidence: dict[str, Any], expected: bool) -> None:
    assert _judged_another_day(head, evidence) is expected


def _with(insight: Insight, evidence: dict[str, Any], **changes: Any) -> Insight:
    return replace(insight, evidence=evidence, **changes)


def _stored(store: InsightStore) -> list[tuple[Any, ...]]:
    with store.db.engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT id, dedup_key, owner_rep_id, priority, value_at_stake, what_en, "
            "evidence, last_seen_at, detected_at FROM insights ORDER BY id"))]


def _set_evidence(store: InsightStore, key: str, raw: str) -> None:
    with store.db.engine.begin() as c:
        c.execute(text("UPDATE insights SET evidence = :e WHERE dedup_key = :k"),
                  {"e": raw, "k": key})


def test_counts_and_rows_as_comparing_everything() -> None:
    store = memory_store()
    base = make_insight("C-1")
    first = [_with(make_insight(c), DAY1) for c in ("C-1", "C-2", "C-3", "C-4", "C-5", "C-6")]
    assert store.upsert_many(first, T0).new == 6
    # C-5: stored by another writer with its keys in another order (same values); C-6: an
    # evidence whose first key is not as_of (an older version's)
    _set_evidence(store, first[4].dedup_key, json.dumps(dict(reversed(list(DAY1.items())))))
    _set_evidence(store, first[5].dedup_key, json.dumps({"gap_days": 41, "as_of": "x"}))
    again = T0 + timedelta(days=1)
    second = [
        _with(make_insight("C-1", at=again), DAY2),  # judged the next day: updated
        _with(make_insight("C-2", at=again), DAY1),  # the same evidence and words: seen
        _with(make_insight("C-3", at=again, rep="r2"), DAY1),  # a new owner: updated
        _with(make_insight("C-4", at=again), {**DAY1, "gap_days": 42}),  # same day, new number
        _with(make_insight("C-5", at=again), DAY1),  # the same values: seen
        _with(make_insight("C-6", at=again), {"gap_days": 41, "as_of": "x"}),  # the same: seen
    ]
    counts = store.upsert_many(second, again)
    assert (counts.new, counts.updated, counts.unchanged, counts.resolved) == (0, 3, 3, 0)
    rows = {r[1]: r for r in _stored(store)}
    assert json.loads(rows[base.dedup_key][6]) == DAY2
    assert rows[second[1].dedup_key][6] == json.dumps(DAY1)  # not rewritten
    assert rows[second[2].dedup_key][2] == "r2"
    assert json.loads(rows[second[3].dedup_key][6])["gap_days"] == 42
    # seen again, not rewritten: the other writer's text stays
    assert rows[second[4].dedup_key][6] == json.dumps(dict(reversed(list(DAY1.items()))))
    assert all(str(r[7]).startswith("2026-11-24 06:00:00") for r in rows.values())
    # a day judged again with other words only (the evidence the same): still updated
    third_at = again + timedelta(days=1)
    third = [_with(make_insight("C-2", at=third_at), DAY1, en=replace(base.en, what="other"))]
    counts = store.upsert_many(third, third_at, kinds=[])
    assert (counts.updated, counts.unchanged) == (1, 0)
    assert {r[1]: r for r in _stored(store)}[third[0].dedup_key][5] == "other"
