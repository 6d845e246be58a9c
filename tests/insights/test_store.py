"""The insight store: dedup across runs, resolution, lifecycle, quiet until material change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Text, cast, func, select

from salesradar.app import HoldoutAssignment, InsightEvent, InsightRow
from salesradar.errors import UserInputError
from salesradar.insights import InsightStore, Kind, Status, UpsertCounts

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


def _events(store: InsightStore) -> list[tuple[int, int, str | None, str, str | None]]:
    with store.db.session() as s:
        return [(e.id, e.insight_id, e.from_status, e.to_status, e.note)
                for e in s.scalars(select(InsightEvent).order_by(InsightEvent.id))]


def test_gone_insights_resolve_by_status_and_their_events_follow_the_runs_own() -> None:
    store = memory_store()
    store.upsert_many([make_insight(f"C-{n}") for n in range(1, 6)], T0)
    ids = {r.subject_id: r.id for r in store.list_insights()}
    store.done(ids["C-2"], T0)
    store.snooze(ids["C-3"], T0 + timedelta(days=30), T0)
    store.dismiss(ids["C-4"], T0)
    before = len(_events(store))
    counts = store.upsert_many([make_insight("C-5"), make_insight("C-6")], T0 + timedelta(days=1))
    assert counts == UpsertCounts(new=1, unchanged=1, resolved=4)
    rows = {r.subject_id: r for r in store.list_insights()}
    assert {k: r.status for k, r in rows.items()} == {
        "C-1": Status.RESOLVED, "C-2": Status.DONE, "C-3": Status.RESOLVED,
        "C-4": Status.RESOLVED, "C-5": Status.NEW, "C-6": Status.NEW,
    }
    with store.db.session() as s:
        resolved_at = {k: at for k, at in s.execute(
            select(InsightRow.dedup_key, InsightRow.resolved_at))}
    assert [k.rsplit(":", 1)[1] for k, at in sorted(resolved_at.items()) if at] == [
        "C-1", "C-2", "C-3", "C-4"]  # a done insight is resolved too, keeping its status
    # the new insight's event first, then one per resolved insight by id (none for done)
    assert [e[1:] for e in _events(store)[before:]] == [
        (rows["C-6"].id, None, "new", None),
        (ids["C-1"], "new", "resolved", "situation no longer found"),
        (ids["C-3"], "snoozed", "resolved", "situation no longer found"),
        (ids["C-4"], "dismissed", "resolved", "situation no longer found"),
    ]
    # a later run resolves nothing twice
    again = store.upsert_many([make_insight("C-5"), make_insight("C-6")], T0 + timedelta(days=2))
    assert again == UpsertCounts(unchanged=2)


def test_a_resolved_insight_found_again_reopens_even_among_many_resolved() -> None:
    store = memory_store()
    store.upsert_many([make_insight(f"C-{n}") for n in range(30)], T0)
    store.upsert_many([], T0 + timedelta(days=1))  # all resolved
    counts = store.upsert_many([make_insight("C-7", value=1.0)], T0 + timedelta(days=2))
    assert counts == UpsertCounts(reopened=1)
    (row,) = store.list_insights(status=["new"])
    assert (row.subject_id, row.round, row.value_at_stake) == ("C-7", 2, 1.0)
    assert (row.last_seen_at, row.first_seen_at) == (T0 + timedelta(days=2), T0)
    assert [h[1:3] for h in store.history(row.id)] == [
        (None, "new"), ("new", "resolved"), ("resolved", "new")]


def test_evidence_is_compared_as_values_as_before() -> None:
    """Equal as Python values is unchanged (the stored JSON text stays as it is); a tuple never
    equals the list it is stored as, so such an insight is updated every run, as it always was."""
    store = memory_store()
    store.upsert_many([make_insight("C-1", a=1, b=2), make_insight("C-2", xs=(1, 2))], T0)
    with store.db.session() as s:
        stored = {k: text for k, text in s.execute(
            select(InsightRow.dedup_key, cast(InsightRow.evidence, Text)))}
    later = T0 + timedelta(days=1)
    same_values = make_insight("C-1", b=2.0, a=1.0)  # other key order, floats for ints
    assert store.upsert_many([same_values, make_insight("C-2", xs=(1, 2))], later) == \
        UpsertCounts(updated=1, unchanged=1)
    with store.db.session() as s:
        after = {k: text for k, text in s.execute(
            select(InsightRow.dedup_key, cast(InsightRow.evidence, Text)))}
    assert after == stored
    assert store.upsert_many([make_insight("C-1", a=1, b=3), make_insight("C-2", xs=[1, 2])],
                             later) == UpsertCounts(updated=1, unchanged=1)
    assert next(r for r in store.list_insights() if r.subject_id == "C-1").evidence["b"] == 3


def test_a_new_owner_and_new_texts_are_written() -> None:
    store = memory_store()
    store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0)
    counts = store.upsert_many([make_insight("C-1", rep="r2"), make_insight("C-2", team="south")],
                               T0 + timedelta(days=1))
    assert counts == UpsertCounts(updated=2)
    assert {r.subject_id: (r.owner_rep_id, r.team) for r in store.list_insights()} == {
        "C-1": ("r2", "north"), "C-2": ("r1", "south")}
    assert [r.subject_id for r in store.list_insights(owner_rep_id="r2")] == ["C-1"]


def test_a_key_seen_before_keeps_its_holdout_group() -> None:
    store = memory_store(holdout_fraction=0.0)
    with store.db.session() as s:
        s.add(HoldoutAssignment(dedup_key="churn_risk:customer:C-1", holdout=True, fraction=1.0,
                                assigned_at=T0))
    store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0)
    assert {r.subject_id: r.holdout for r in store.list_insights()} == {"C-1": True, "C-2": False}
    with store.db.session() as s:
        assert s.scalar(select(func.count()).select_from(HoldoutAssignment)) == 2


def test_many_new_keys_are_read_and_written_in_chunks() -> None:
    store = memory_store(holdout_fraction=0.5, holdout_salt="s")
    first = [make_insight(f"C-{n}") for n in range(1_200)]  # more keys than one IN (...) holds
    assert store.upsert_many(first, T0).new == 1_200
    second = [make_insight(f"C-{n}", value=11_000) for n in range(600, 1_900)]
    counts = store.upsert_many(second, T0 + timedelta(days=1))
    assert counts == UpsertCounts(new=700, updated=600, resolved=600)
    assert store.upsert_many(first, T0 + timedelta(days=2)) == \
        UpsertCounts(updated=600, reopened=600, resolved=700)
