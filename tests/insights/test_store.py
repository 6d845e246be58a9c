"""The insight store: dedup across runs, resolution, lifecycle, quiet until material change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from salesradar.errors import UserInputError
from salesradar.insights import Kind, Status, UpsertCounts

from .insight_helpers import T0, make_insight, memory_store


def test_same_situation_is_one_insight_updated_across_runs() -> None:
    store = memory_store()
    first = store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0)
    assert first == UpsertCounts(new=2)
    again = store.upsert_many([make_insight("C-1"), make_insight("C-2", value=12_000)],
                              T0 + timedelta(days=1))
    assert again == UpsertCounts(updated=1, unchanged=1)
    rows = store.list_insights()
    assert len(rows) == 2
    c2 = next(r for r in rows if r.subject_id == "C-2")
    assert (c2.value_at_stake, c2.first_seen_at, c2.last_seen_at) == (
        12_000, T0, T0 + timedelta(days=1)
    )
    assert c2.dedup_key == "churn_risk:customer:C-2"


def test_missing_situations_resolve_and_come_back_as_a_new_round() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0)
    assert store.upsert_many([make_insight("C-1")], T0 + timedelta(days=1)).resolved == 1
    c2 = store.list_insights(status=["resolved"])[0]
    assert c2.subject_id == "C-2"
    back = store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0 + timedelta(days=2))
    assert back == UpsertCounts(unchanged=1, reopened=1)
    c2 = store.get(c2.id)
    assert (c2.status, c2.round) == (Status.NEW, 2)
    assert [h[2] for h in store.history(c2.id)] == ["new", "resolved", "new"]


def test_resolution_only_touches_the_kinds_the_run_evaluated() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1"), make_insight("C-1", kind=Kind.CROSS_SELL)], T0)
    counts = store.upsert_many([], T0 + timedelta(days=1), kinds=[Kind.CROSS_SELL])
    assert counts.resolved == 1
    assert {r.kind for r in store.list_insights(status=["new"])} == {"churn_risk"}


def test_a_run_with_one_key_twice_is_refused() -> None:
    with pytest.raises(UserInputError, match="twice"):
        memory_store().upsert_many([make_insight("C-1"), make_insight("C-1")], T0)


def test_lifecycle_and_illegal_transitions() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    store.transition(i.id, Status.SENT, T0)
    assert store.acknowledge(i.id, T0).status == Status.ACKNOWLEDGED
    with pytest.raises(UserInputError, match="acknowledged cannot become sent"):
        store.transition(i.id, "sent", T0)
    assert store.done(i.id, T0).status == Status.DONE
    for target in ("new", "acknowledged", "dismissed", "resolved"):
        with pytest.raises(UserInputError, match="final"):
            store.transition(i.id, target, T0)
    with pytest.raises(UserInputError, match="unknown status"):
        store.transition(i.id, "closed", T0)
    with pytest.raises(UserInputError, match="no insight with id 999"):
        store.acknowledge(999, T0)
    assert [h[2] for h in store.history(i.id)] == ["new", "sent", "acknowledged", "done"]


def test_snooze_needs_a_future_until() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    with pytest.raises(UserInputError, match="until"):
        store.snooze(i.id, T0 - timedelta(days=1), T0)
    with pytest.raises(UserInputError, match="only applies to snooze"):
        store.transition(i.id, "dismissed", T0, until=T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("value", "priority", "reopens"),
    [
        (10_000, 50, False),  # nothing changed
        (14_999, 50, False),  # +49.99%: not material
        (15_001, 50, True),  # +50.01%: material
        (4_999, 50, True),  # −50.01%: material either way
        (10_000, 49, False),  # priority fell
        (10_000, 51, True),  # priority rose
    ],
)
def test_dismissed_stays_quiet_until_material_change(
    value: float, priority: int, reopens: bool
) -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    store.dismiss(i.id, T0, note="customer on holiday")
    counts = store.upsert_many(
        [make_insight("C-1", value=value, priority=priority)], T0 + timedelta(days=1)
    )
    assert counts.reopened == int(reopens)
    after = store.get(i.id)
    assert after.status == (Status.NEW if reopens else Status.DISMISSED)
    assert after.round == (2 if reopens else 1)


def test_material_change_threshold_is_configurable() -> None:
    store = memory_store(material_change=0.1)
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    store.snooze(i.id, T0 + timedelta(days=30), T0)
    assert store.upsert_many([make_insight("C-1", value=11_500)], T0).reopened == 1


def test_snoozed_wakes_when_the_snooze_ends() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    store.snooze(i.id, T0 + timedelta(days=7), T0)
    assert store.upsert_many([make_insight("C-1")], T0 + timedelta(days=6)).unchanged == 1
    assert store.get(i.id).status == Status.SNOOZED
    assert store.upsert_many([make_insight("C-1")], T0 + timedelta(days=7)).reopened == 1
    assert store.get(i.id).status == Status.NEW


def test_record_outcome_validates() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1")], T0)
    (i,) = store.list_insights()
    stored = store.record_outcome(i.id, "recovered", 8_000, T0 + timedelta(days=20))
    assert (stored.outcome, stored.outcome_value) == ("recovered", 8_000)
    with pytest.raises(UserInputError, match="outcome must be"):
        store.record_outcome(i.id, "bought", 1, T0)
    with pytest.raises(UserInputError, match=">= 0"):
        store.record_outcome(i.id, "recovered", -1, T0)
    assert stored.to_dict()["status"] == "new"


def test_invalid_insights_are_refused() -> None:
    with pytest.raises(UserInputError, match="priority"):
        make_insight(priority=101)
    with pytest.raises(UserInputError, match="value_at_stake"):
        make_insight(value=-1)
    with pytest.raises(UserInputError, match="timezone"):
        make_insight(at=T0.replace(tzinfo=None))
    with pytest.raises(UserInputError, match="evidence of churn_risk:customer:C-1"):
        make_insight(gap=float("nan"))
    with pytest.raises(UserInputError, match="evidence"):
        make_insight(when=T0)
