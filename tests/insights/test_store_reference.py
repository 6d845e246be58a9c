"""``InsightStore.upsert_many`` against the plain ORM version it replaced (kept here as the
reference): over random runs and people's actions, every row, event and holdout assignment and
every count must come out the same."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from helpers import postgres_server
from salesradar.app import AppDB, HoldoutAssignment, InsightEvent, InsightRow
from salesradar.errors import UserInputError
from salesradar.insights import Insight, InsightStore, Kind, Status, StoreSettings, UpsertCounts
from salesradar.insights.holdout import in_holdout
from salesradar.insights.lifecycle import changed_materially
from salesradar.insights.store import _content, _reopen, add_event

from .insight_helpers import T0, make_insight


class ReferenceStore(InsightStore):
    """The upsert of before: every stored row loaded as an ORM object (in id order, as SQLite
    scans them), compared attribute by attribute; the rows only updated written by one ORM bulk
    update; each insight created as an ORM object with its event and holdout assignment."""

    def upsert_many(
        self, insights: Iterable[Insight], run_at: datetime, *, kinds: Iterable[Kind] | None = None
    ) -> UpsertCounts:
        batch: dict[str, Insight] = {}
        for insight in insights:
            if insight.dedup_key in batch:
                raise UserInputError(f"the run produced {insight.dedup_key!r} twice")
            batch[insight.dedup_key] = insight
        scope = {Kind(k).value for k in kinds} if kinds is not None else {k.value for k in Kind}
        counts = {"new": 0, "updated": 0, "unchanged": 0, "reopened": 0, "resolved": 0}
        with self.db.session() as s, s.no_autoflush:
            existing = {r.dedup_key: r for r in s.scalars(
                select(InsightRow).order_by(InsightRow.id))}
            missing = {k for k in batch if k not in existing}
            groups = {key: bool(held) for key, held in s.execute(
                select(HoldoutAssignment.dedup_key, HoldoutAssignment.holdout)) if key in missing}
            plain_updates: list[dict[str, Any]] = []
            for key, insight in batch.items():
                row = existing.get(key)
                if row is None:
                    self._reference_create(s, insight, run_at, groups)
                    counts["new"] += 1
                else:
                    counts[self._reference_update(s, row, insight, run_at, plain_updates)] += 1
            if plain_updates:
                s.execute(update(InsightRow), plain_updates)
            for key, row in existing.items():
                if key in batch or row.kind not in scope or row.resolved_at is not None:
                    continue
                row.resolved_at = run_at
                if row.status != Status.DONE:
                    add_event(s, row, Status.RESOLVED, run_at, "situation no longer found")
                counts["resolved"] += 1
        return UpsertCounts(**counts)

    def _reference_create(self, s: Session, insight: Insight, run_at: datetime,
                          groups: dict[str, bool]) -> None:
        row = InsightRow(
            dedup_key=insight.dedup_key, kind=insight.kind.value,
            subject_type=insight.subject.type, subject_id=insight.subject.id,
            detected_at=insight.detected_at, first_seen_at=run_at, last_seen_at=run_at,
            status=Status.NEW.value, round=1,
            holdout=self._reference_holdout(s, insight, run_at, groups), **_content(insight),
        )
        row.events.append(InsightEvent(at=run_at, from_status=None, to_status="new"))
        s.add(row)

    def _reference_holdout(self, s: Session, insight: Insight, run_at: datetime,
                           groups: dict[str, bool]) -> bool:
        eligible = self.settings.holdout_kinds
        if eligible is not None and insight.kind not in eligible:
            return False
        if insight.dedup_key in groups:
            return groups[insight.dedup_key]
        fraction = self.settings.holdout_fraction
        held = in_holdout(insight.dedup_key, salt=self.holdout_salt_used, fraction=fraction)
        s.add(HoldoutAssignment(dedup_key=insight.dedup_key, fraction=fraction,
                                assigned_at=run_at, holdout=held))
        groups[insight.dedup_key] = held
        return held

    def _reference_update(self, s: Session, row: InsightRow, insight: Insight, run_at: datetime,
                          plain_updates: list[dict[str, Any]]) -> str:
        content = _content(insight)
        changed = any(getattr(row, name) != value for name, value in content.items())
        status = Status(row.status)
        material = changed_materially(
            row.quiet_value, row.quiet_priority, insight.value_at_stake, insight.priority,
            self.settings.material_change,
        )
        note = None
        if row.resolved_at is not None:
            note = "situation found again"
        elif status == Status.DISMISSED and material:
            note = "situation changed materially since it was dismissed"
        elif status == Status.SNOOZED and material:
            note = "situation changed materially since it was snoozed"
        elif status == Status.SNOOZED and row.snoozed_until and row.snoozed_until <= run_at:
            note = "snooze ended"
        if note is None:
            plain_updates.append({"id": row.id, **(content if changed else {}),
                                  "last_seen_at": run_at, "detected_at": insight.detected_at})
            return "updated" if changed else "unchanged"
        for name, value in content.items():
            setattr(row, name, value)
        row.last_seen_at = run_at
        row.detected_at = insight.detected_at
        _reopen(s, row, run_at, note)
        return "reopened"


SETTINGS = StoreSettings(holdout_fraction=0.5, holdout_salt="s",
                         holdout_kinds=frozenset({Kind.CHURN_RISK}))
# evidence that is equal as values but not as JSON text, and a tuple (stored as a list)
EVIDENCE: list[dict[str, Any]] = [
    {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1.0, "b": 2}, {"a": 1, "b": 3}, {"xs": (1, 2)},
    {"xs": [1, 2]}, {"a": True, "b": 2},
]

insight_st = st.builds(
    lambda subject, kind, value, priority, rep, evidence, why, day: make_insight(
        subject, kind=kind, value=value, priority=priority, rep=rep,
        at=T0 + timedelta(days=day), why=why, **EVIDENCE[evidence]),
    subject=st.sampled_from([f"C-{n}" for n in range(6)]),
    kind=st.sampled_from([Kind.CHURN_RISK, Kind.CROSS_SELL]),
    value=st.sampled_from([0.0, 10_000.0, 14_000.0, 16_000.0, 40_000.0]),
    priority=st.sampled_from([40, 50, 60]),
    rep=st.sampled_from(["r1", "r2", None]),
    evidence=st.integers(0, len(EVIDENCE) - 1),
    why=st.sampled_from(["w1", "w2"]),
    day=st.integers(0, 2),
)
run_st = st.tuples(
    st.just("run"),
    st.lists(insight_st, max_size=10, unique_by=lambda i: i.dedup_key),
    st.sampled_from([None, None, [Kind.CHURN_RISK], [Kind.CROSS_SELL], []]),
    st.integers(0, 3),  # days after the previous step (0: the same run_at again)
)
person_st = st.tuples(
    st.just("person"),
    st.integers(0, 11),  # which stored insight (by id)
    st.sampled_from(["done", "dismissed", "snoozed", "snoozed", "sent", "acknowledged",
                     "resolved"]),
    st.integers(-1, 4),  # snooze for that many days
)


def _dump(db: AppDB) -> dict[str, list[Any]]:
    with db.engine.connect() as conn:
        return {table: list(conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")))
                for table, key in (("insights", "id"), ("insight_events", "id"),
                                   ("holdout_assignments", "dedup_key"))}


def _outcome(call: Any) -> Any:
    try:
        result = call()
    except UserInputError as exc:
        return ("refused", str(exc))
    return result.__dict__ if isinstance(result, UpsertCounts) else ("done", result.status)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(run_st, run_st, person_st), min_size=1, max_size=8))
def test_upsert_many_does_what_the_orm_version_did(steps: list[tuple[Any, ...]]) -> None:
    stores = [InsightStore(AppDB.open("sqlite://"), SETTINGS),
              ReferenceStore(AppDB.open("sqlite://"), SETTINGS)]
    for store in stores:  # a key assigned a group long ago, then gone from the store
        with store.db.session() as s:
            s.add(HoldoutAssignment(dedup_key="churn_risk:customer:C-5", holdout=True,
                                    fraction=1.0, assigned_at=T0))
    at = T0
    for step in steps:
        if step[0] == "run":
            _, insights, kinds, days = step
            at += timedelta(days=days)
            outcomes = [_outcome(partial(store.upsert_many, insights, at, kinds=kinds))
                        for store in stores]
        else:
            _, which, target, days = step
            ids = sorted(r.id for r in stores[0].list_insights())
            if not ids:
                continue
            insight_id = ids[which % len(ids)]
            until = at + timedelta(days=days) if target == Status.SNOOZED else None
            outcomes = [_outcome(partial(store.transition, insight_id, target, at, until=until))
                        for store in stores]
        assert outcomes[0] == outcomes[1]
        assert _dump(stores[0].db) == _dump(stores[1].db)
    for store in stores:
        store.db.close()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server("salesradar-store-pg-") as server:
        for name in ("store_new", "store_reference"):
            server.psql(f"CREATE DATABASE {name};")
        yield server.get_uri("{}").replace("postgresql://", "postgresql+psycopg://", 1)


def _scenario(store: InsightStore) -> tuple[list[Any], list[dict[str, list[Any]]]]:
    """Every path of a run: created from an empty store (more rows than one insert batch
    holds, some with a group kept from before, some of a kind without holdout), only seen
    again, updated (owner, texts, evidence equal as values), reopened three ways, resolved from
    four statuses, more keys than one IN (...) holds, and a run whose creations come before,
    between and after a reopening, followed by its resolutions. Returns each run's counts, and
    the tables after each run."""
    with store.db.session() as s:
        s.add(HoldoutAssignment(dedup_key="churn_risk:customer:C-5", holdout=True, fraction=1.0,
                                assigned_at=T0))
    day = timedelta(days=1)
    counts: list[Any] = []
    dumps: list[dict[str, list[Any]]] = []

    def run(insights: list[Insight], at: datetime, kinds: list[Kind] | None = None) -> None:
        counts.append(store.upsert_many(insights, at, kinds=kinds).__dict__)
        dumps.append(_dump(store.db))

    many = [make_insight(f"M-{n}", kind=Kind.CROSS_SELL, n=n) for n in range(1_100)]
    first = [make_insight(f"C-{n}", a=1, b=2) for n in range(8)]
    run(first[:4] + many[:700] + first[4:] + many[700:] +
        [make_insight(f"H-{n}", xs=(n, 1.5)) for n in range(300)], T0)
    ids = {r.subject_id: r.id for r in store.list_insights()}
    store.done(ids["C-1"], T0)
    store.snooze(ids["C-2"], T0 + 2 * day, T0)
    store.dismiss(ids["C-3"], T0)
    store.snooze(ids["C-4"], T0 + 30 * day, T0)
    store.dismiss(ids["C-6"], T0)
    second = [make_insight("C-0", b=2.0, a=1), make_insight("C-2", a=1, b=2),
              make_insight("C-5", rep="r2", a=1, b=2),
              make_insight("C-6", value=40_000, a=1, b=2), make_insight("C-7", why="w", a=1, b=2),
              make_insight("C-8", a=1, b=2), *many[:600]]
    run(second, T0 + day, kinds=[Kind.CHURN_RISK])
    run(second[:6] + many, T0 + 2 * day)  # C-2 wakes
    run(first, T0 + 3 * day, kinds=[Kind.CHURN_RISK])
    run([make_insight("N-1"), make_insight("C-8", a=1, b=2),
         make_insight("N-2", kind=Kind.CROSS_SELL), make_insight("C-5", a=1, b=2),
         make_insight("N-3", rep=None, manager=None, team=None), many[0]], T0 + 4 * day)
    return counts, dumps


def _same_as_reference(new: tuple[list[Any], list[Any]],
                       reference: tuple[list[Any], list[Any]]) -> None:
    counts, dumps = new
    assert counts == reference[0]
    assert counts[1:] == [
        {"new": 1, "updated": 2, "unchanged": 602, "reopened": 1, "resolved": 303},
        {"new": 0, "updated": 0, "unchanged": 1105, "reopened": 1, "resolved": 0},
        {"new": 0, "updated": 3, "unchanged": 2, "reopened": 3, "resolved": 1},
        {"new": 3, "updated": 0, "unchanged": 2, "reopened": 1, "resolved": 1106},
    ]
    assert counts[0] == {"new": 1408, "updated": 0, "unchanged": 0, "reopened": 0, "resolved": 0}
    for after_run, reference_dump in zip(dumps, reference[1], strict=True):
        # every row of every table, ids included: the insights created in the run's order, the
        # events of a run in its order (created and reopened alike), then its resolutions'
        for table, rows in after_run.items():
            assert rows == reference_dump[table], table
    created = dumps[0]["insights"]
    assert [r.subject_id for r in created] == \
        [f"C-{n}" for n in range(4)] + [f"M-{n}" for n in range(700)] + \
        [f"C-{n}" for n in range(4, 8)] + [f"M-{n}" for n in range(700, 1_100)] + \
        [f"H-{n}" for n in range(300)]
    assert [e.insight_id for e in dumps[0]["insight_events"]] == [r.id for r in created]
    last = dumps[-1]["insight_events"][len(dumps[-2]["insight_events"]):]
    assert [(e.to_status, e.note) for e in last[:4]] == [
        ("new", None), ("new", "situation found again"), ("new", None), ("new", None)]
    assert len(last) == 4 + 1106
    assert {e.note for e in last[4:]} == {"situation no longer found"}
    assert [e.insight_id for e in last[4:]] == sorted(e.insight_id for e in last[4:])


def test_upsert_many_on_sqlite_does_what_the_orm_version_did() -> None:
    done = []
    for cls in (InsightStore, ReferenceStore):
        with AppDB.open("sqlite://") as db:
            done.append(_scenario(cls(db, SETTINGS)))
    _same_as_reference(*done)


def test_upsert_many_on_postgres_does_what_the_orm_version_did(pg_url: str) -> None:
    done = []
    for cls, name in ((InsightStore, "store_new"), (ReferenceStore, "store_reference")):
        with AppDB.open(pg_url.format(name)) as db:
            done.append(_scenario(cls(db, SETTINGS)))
    _same_as_reference(*done)


def _first_runs(store: InsightStore) -> tuple[list[Any], list[dict[str, list[Any]]]]:
    """A first run into a store with no insight and no holdout group at all (more keys than
    one IN (...) holds, two kinds, one without holdout, evidence with Hebrew text, a float
    and a tuple), then a second run that sees some again, creates some and resolves the rest,
    then a third that finds a resolved one again next to new ones."""
    counts: list[Any] = []
    dumps: list[dict[str, list[Any]]] = []

    def run(insights: list[Insight], at: datetime) -> None:
        counts.append(store.upsert_many(insights, at).__dict__)
        dumps.append(_dump(store.db))

    first = [make_insight(f"F-{n}", kind=(Kind.CHURN_RISK, Kind.CROSS_SELL)[n % 2], n=n,
                          he="לקוח", x=n / 7, xs=(n, 0.5)) for n in range(1_200)]
    run(first, T0)
    second = [make_insight(f"F-{n}", n=n, he="לקוח", x=n / 7, xs=(n, 0.5))
              for n in range(0, 600, 2)] + [make_insight(f"G-{n}") for n in range(5)]
    run(second, T0 + timedelta(days=1))
    run([make_insight("F-1"), make_insight("G-9"), *second[:3]], T0 + timedelta(days=2))
    return counts, dumps


def _first_runs_same(new: tuple[list[Any], list[Any]],
                     reference: tuple[list[Any], list[Any]]) -> None:
    assert new[0] == reference[0]
    assert new[0][0] == {"new": 1_200, "updated": 0, "unchanged": 0, "reopened": 0,
                         "resolved": 0}
    for after_run, reference_dump in zip(new[1], reference[1], strict=True):
        for table, rows in after_run.items():
            assert rows == reference_dump[table], table
    created = new[1][0]["insights"]
    assert [r.subject_id for r in created] == [f"F-{n}" for n in range(1_200)]
    assert [e.insight_id for e in new[1][0]["insight_events"]] == [r.id for r in created]
    assert len(new[1][0]["holdout_assignments"]) == 600  # the churn risks only


def test_first_run_into_an_empty_sqlite_store_does_what_the_orm_version_did() -> None:
    done = []
    for cls in (InsightStore, ReferenceStore):
        with AppDB.open("sqlite://") as db:
            done.append(_first_runs(cls(db, SETTINGS)))
    _first_runs_same(*done)


def test_first_run_into_an_empty_postgres_store_does_what_the_orm_version_did(
        pg_url: str) -> None:
    done = []
    for cls, name in ((InsightStore, "store_new"), (ReferenceStore, "store_reference")):
        with AppDB.open(pg_url.format(name)) as db:
            with db.engine.begin() as conn:  # the database of the other test, emptied
                conn.execute(text("DELETE FROM insight_events"))
                conn.execute(text("DELETE FROM insights"))
                conn.execute(text("DELETE FROM holdout_assignments"))
            done.append(_first_runs(cls(db, SETTINGS)))
    _first_runs_same(*done)


def test_new_insights_get_their_own_ids_after_the_largest_rowid() -> None:
    """SQLite gives a new row a random free rowid once the largest one is taken: each created
    insight's event still points at that insight (its id read back by key)."""
    with AppDB.open("sqlite://") as db:
        store = InsightStore(db, SETTINGS)
        store.upsert_many([make_insight("LAST")], T0)
        with db.engine.begin() as conn:
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # until the commit
            conn.execute(text("UPDATE insights SET id = 9223372036854775807"))
            conn.execute(text("UPDATE insight_events SET insight_id = 9223372036854775807"))
        store.upsert_many([make_insight("LAST"), *(make_insight(f"N-{n}") for n in range(50))],
                          T0 + timedelta(days=1))
        dump = _dump(db)
        ids = {r.subject_id: r.id for r in dump["insights"]}
        assert len(set(ids.values())) == 51
        created = [e.insight_id for e in dump["insight_events"] if e.to_status == "new"]
        assert sorted(created) == sorted(ids.values())
