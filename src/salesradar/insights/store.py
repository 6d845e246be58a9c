"""The insight store: one row per situation, updated each run, with its status history.

>>> from salesradar.app import AppDB
>>> store = InsightStore(AppDB.open("sqlite://"))
>>> store.upsert_many([], run_at=datetime(2026, 11, 24, tzinfo=UTC))
UpsertCounts(new=0, updated=0, unchanged=0, reopened=0, resolved=0)

Each run hands every insight it found to :meth:`InsightStore.upsert_many`: a dedup key never seen
is a new insight (and gets its holdout group), a known one is updated in place, one that is no
longer found is resolved. Dismissed and snoozed insights stay quiet until their situation changes
materially (see :func:`salesradar.insights.lifecycle.changed_materially`) or the snooze runs out.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    DateTime,
    Row,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from salesradar.app import AppDB, HoldoutAssignment, InsightEvent, InsightRow
from salesradar.errors import UserInputError
from salesradar.insights.holdout import DEFAULT_FRACTION, holdout_salt, in_holdout
from salesradar.insights.lifecycle import (
    DEFAULT_MATERIAL_CHANGE,
    changed_materially,
    check_transition,
)
from salesradar.insights.model import Insight, Kind, Status, Texts

Outcome = Literal["recovered", "not_recovered"]
OUTCOMES: tuple[str, ...] = ("recovered", "not_recovered")


@dataclass(frozen=True)
class StoreSettings:
    """Thresholds of the store: material change, holdout fraction, salt and eligible kinds."""

    material_change: float = DEFAULT_MATERIAL_CHANGE
    holdout_fraction: float = DEFAULT_FRACTION
    holdout_salt: str | None = None  # None: $SALESRADAR_HOLDOUT_SALT, else a fixed default
    holdout_kinds: frozenset[Kind] | None = None  # None: every kind is eligible


@dataclass(frozen=True)
class UpsertCounts:
    """What one run did to the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    reopened: int = 0
    resolved: int = 0


@dataclass(frozen=True)
class StoredInsight:
    """An insight as stored, with its id, status, holdout group and outcome."""

    id: int
    dedup_key: str
    kind: str
    subject_type: str
    subject_id: str
    owner_rep_id: str | None
    manager_id: str | None
    team: str | None
    priority: int
    value_at_stake: float
    en: Texts
    he: Texts
    evidence: dict[str, Any]
    status: Status
    round: int
    holdout: bool
    detected_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    snoozed_until: datetime | None
    sent_at: datetime | None
    outcome: str | None
    outcome_value: float | None

    @classmethod
    def of(cls, row: InsightRow) -> StoredInsight:
        return cls(
            id=row.id, dedup_key=row.dedup_key, kind=row.kind, subject_type=row.subject_type,
            subject_id=row.subject_id, owner_rep_id=row.owner_rep_id, manager_id=row.manager_id,
            team=row.team, priority=row.priority, value_at_stake=row.value_at_stake,
            en=Texts(row.what_en, row.why_en, row.next_step_en),
            he=Texts(row.what_he, row.why_he, row.next_step_he),
            evidence=row.evidence, status=Status(row.status), round=row.round,
            holdout=row.holdout, detected_at=row.detected_at, first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, snoozed_until=row.snoozed_until, sent_at=row.sent_at,
            outcome=row.outcome, outcome_value=row.outcome_value,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the CLI prints with ``--json``)."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, Texts):
                out[name] = value.__dict__.copy()
            elif isinstance(value, datetime):
                out[name] = value.isoformat()
            else:
                out[name] = value.value if isinstance(value, Status) else value
        return out


# The columns a run may change on an existing insight, besides its evidence (in this order).
_CONTENT: tuple[str, ...] = (
    "owner_rep_id", "manager_id", "team", "priority", "value_at_stake",
    "what_en", "why_en", "next_step_en", "what_he", "why_he", "next_step_he",
)
_IN_CHUNK = 500  # keys per "IN (...)": far below any database's limit on bound parameters
_WRITE_CACHE_KIB = 256 * 1024  # SQLite page cache while a run writes (used only as needed)


def _content_values(insight: Insight) -> tuple[Any, ...]:
    """The values of :data:`_CONTENT` for ``insight``, in that order."""
    return (
        insight.owner_rep_id, insight.manager_id, insight.team, insight.priority,
        float(insight.value_at_stake),
        insight.en.what, insight.en.why, insight.en.next_step,
        insight.he.what, insight.he.why, insight.he.next_step,
    )


def _content(insight: Insight) -> dict[str, Any]:
    """The columns a run may change on an existing insight."""
    return {**dict(zip(_CONTENT, _content_values(insight), strict=True)),
            "evidence": insight.evidence}


def add_event(
    session: Session, row: InsightRow, to: Status, at: datetime, note: str | None = None
) -> None:
    """Move ``row`` to status ``to`` and write the change to its history."""
    session.add(InsightEvent(
        insight_id=row.id, at=at, from_status=row.status, to_status=to.value, note=note
    ))
    row.status = to.value


def _event(insight_id: int, at: datetime, from_status: str | None, to: Status,
           note: str | None = None) -> dict[str, Any]:
    """An ``insight_events`` row, to insert."""
    return {"insight_id": insight_id, "at": at, "from_status": from_status,
            "to_status": to.value, "note": note}


def _next_round(row: InsightRow) -> None:
    """What reopening clears: its resolution, snooze and quiet baseline; a round begins."""
    row.resolved_at = row.snoozed_until = row.quiet_value = row.quiet_priority = None
    row.round += 1


def _reopen(session: Session, row: InsightRow, at: datetime, note: str) -> None:
    """A quiet or resolved insight is new again, in its next round."""
    _next_round(row)
    add_event(session, row, Status.NEW, at, note)


class InsightStore:
    """Insights in the application database: upsert per run, lifecycle, outcomes."""

    def __init__(self, db: AppDB, settings: StoreSettings | None = None) -> None:
        self.db = db
        if settings is None:  # the company's holdout share (salesradar settings)
            from salesradar.app.settings import load_settings

            settings = StoreSettings(holdout_fraction=load_settings(db).holdout_share)
        self.settings = settings
        self._salt = holdout_salt(self.settings.holdout_salt)

    @property
    def holdout_salt_used(self) -> str:
        """The salt the holdout groups are drawn with (its setting, else the environment's)."""
        return self._salt

    # -- runs --------------------------------------------------------------------------------
    def upsert_many(
        self, insights: Iterable[Insight], run_at: datetime, *, kinds: Iterable[Kind] | None = None
    ) -> UpsertCounts:
        """Record one run's insights in one transaction; return what changed.

        ``kinds`` are the kinds this run evaluated (default: all); an insight of those kinds that
        is not in ``insights`` is resolved. A kind the run did not evaluate is left alone.

        Only the rows that matter are read, as plain columns: those of the run's keys, and the
        unresolved ones (which the run may resolve); the resolved history is never loaded. A row
        only seen again, or updated, is written by one statement per shape for all of them; the
        insights created, their holdout groups and every event are inserted the same way, in the
        run's order. ORM objects are built only for the insights reopened (rare).
        """
        _aware(run_at, "run_at")
        batch: dict[str, Insight] = {}
        for insight in insights:
            key = insight.dedup_key
            if key in batch:
                raise UserInputError(f"the run produced {key!r} twice")
            batch[key] = insight
        scope = {Kind(k).value for k in kinds} if kinds is not None else {k.value for k in Kind}
        counts = {"new": 0, "updated": 0, "unchanged": 0, "reopened": 0, "resolved": 0}
        with self.db.session() as s, s.no_autoflush, _write_cache(s):
            known = _known_rows(s, batch)
            loads = _json_loads(s)
            seen: list[dict[str, Any]] = []  # only seen again: last_seen_at and detected_at
            changed: list[dict[str, Any]] = []  # new content, same owner
            changed_owner: list[dict[str, Any]] = []  # new content and a new owner
            reopen: dict[int, str] = {}  # row id -> why it reopens
            found: list[tuple[Row[Any], Insight, bool]] = []
            for key, insight in batch.items():
                row = known.get(key)
                if row is None:
                    continue  # created below, in the run's order
                note = self._reopen_note(row, insight, run_at)
                if note is not None:
                    reopen[row.id] = note
                    continue
                found.append((row, insight, _judged_another_day(row.evidence_head,
                                                                insight.evidence)))
            # the stored content and evidence matter only where the evidence's head does not
            # already tell it changed: read there
            stored = _stored_content(s, [row.id for row, _, moved in found if not moved])
            for row, insight, moved in found:
                values = _content_values(insight)
                update_ = {"_id": row.id, "last_seen_at": run_at,
                           "detected_at": insight.detected_at}
                # as the ORM compared them: the stored columns, then the stored evidence
                # (parsed only when the other columns are equal) against the run's, as Python
                # values; an evidence judged another day differs whatever the columns
                if moved or (old := stored[row.id])[:-1] != values or (
                        (None if (text := old[-1]) is None else loads(text))
                        != insight.evidence):
                    update_.update(zip(_CONTENT, values, strict=True))
                    update_["evidence"] = insight.evidence_json  # as json.dumps writes it
                    # the owner is indexed: rewritten (index entries too) only when it moves
                    if row.owner_rep_id != insight.owner_rep_id:
                        changed_owner.append(update_)
                    else:
                        del update_["owner_rep_id"]
                        changed.append(update_)
                    counts["updated"] += 1
                else:
                    seen.append(update_)
                    counts["unchanged"] += 1
            for params in (seen, changed, changed_owner):
                _update_by_id(s, params, json_texts=("evidence",))
            reopened = _rows_by_id(s, list(reopen))
            groups = self._holdout_groups(s, [k for k in batch if k not in known])
            created: list[dict[str, Any]] = []  # the new rows, in the run's order
            assigned: list[dict[str, Any]] = []  # the holdout groups drawn for them
            # the events, in the run's order: a reopened insight's, or the dedup key of a
            # created one (its id is known once its row is inserted)
            events: list[dict[str, Any] | str] = []
            for key, insight in batch.items():
                row = known.get(key)
                if row is None:
                    created.append(self._new_row(key, insight, run_at, groups, assigned))
                    events.append(key)
                    counts["new"] += 1
                elif row.id in reopen:
                    events.append(_refresh_and_reopen(reopened[row.id], insight, run_at,
                                                      reopen[row.id]))
                    counts["reopened"] += 1
            ids = _insert_rows(s, created)
            _insert_many(s, _HOLDOUT, assigned)
            s.flush()  # the reopened rows
            # before the resolutions' events
            _insert_many(s, _EVENTS, [
                _event(ids[e], run_at, None, Status.NEW) if isinstance(e, str) else e
                for e in events])
            gone = sorted((row for key, row in known.items()
                           if key not in batch and row.kind in scope and row.resolved_at is None),
                          key=lambda row: row.id)
            counts["resolved"] = len(gone)
            _resolve(s, gone, run_at)
        return UpsertCounts(**counts)

    def _reopen_note(self, row: Row[Any], insight: Insight, run_at: datetime) -> str | None:
        """Why a known insight seen again reopens (None: it does not)."""
        status = Status(row.status)
        if row.resolved_at is not None:
            return "situation found again"
        if status in (Status.DISMISSED, Status.SNOOZED):
            material = changed_materially(
                row.quiet_value, row.quiet_priority, insight.value_at_stake, insight.priority,
                self.settings.material_change,
            )
            if status == Status.DISMISSED and material:
                return "situation changed materially since it was dismissed"
            if status == Status.SNOOZED and material:
                return "situation changed materially since it was snoozed"
            if status == Status.SNOOZED and row.snoozed_until and row.snoozed_until <= run_at:
                return "snooze ended"
        return None

    def _new_row(self, key: str, insight: Insight, run_at: datetime, groups: dict[str, bool],
                 assigned: list[dict[str, Any]]) -> dict[str, Any]:
        """The row of an insight created by this run (every column the insert sets; the others
        are NULL): new, in its first round, with its holdout group. ``key``: its dedup key."""
        return {
            "dedup_key": key, "kind": insight.kind.value,
            "subject_type": insight.subject.type, "subject_id": insight.subject.id,
            "detected_at": insight.detected_at, "first_seen_at": run_at, "last_seen_at": run_at,
            "status": Status.NEW.value, "round": 1,
            "holdout": self._holdout(key, insight.kind, run_at, groups, assigned),
            **dict(zip(_CONTENT, _content_values(insight), strict=True)),
            "evidence": insight.evidence_json,  # its JSON text, as json.dumps writes it
        }

    @staticmethod
    def _holdout_groups(s: Session, keys: list[str]) -> dict[str, bool]:
        """The groups already assigned to ``keys`` (a key seen before, then resolved and gone
        from the store, keeps its group), read by key."""
        groups: dict[str, bool] = {}
        if keys and _empty(s, _HOLDOUT):  # the first run: no group to look up key by key
            return groups
        for chunk in _chunks(keys):
            groups.update((key, bool(held)) for key, held in s.execute(
                select(HoldoutAssignment.dedup_key, HoldoutAssignment.holdout)
                .where(HoldoutAssignment.dedup_key.in_(chunk))))
        return groups

    def _holdout(self, key: str, kind: Kind, run_at: datetime, groups: dict[str, bool],
                 assigned: list[dict[str, Any]]) -> bool:
        """The holdout group of a new insight (its dedup key and kind): none for a kind not
        eligible, else the one its key was given before, else one drawn now (added to
        ``assigned``, to be inserted)."""
        eligible = self.settings.holdout_kinds
        if eligible is not None and kind not in eligible:
            return False
        if key in groups:
            return groups[key]
        fraction = self.settings.holdout_fraction
        held = in_holdout(key, salt=self._salt, fraction=fraction)
        assigned.append({"dedup_key": key, "holdout": held, "fraction": fraction,
                         "assigned_at": run_at})
        groups[key] = held
        return held

    def last_written_at(self) -> datetime | None:
        """The last moment a run wrote to the store: an insight seen or resolved."""
        with self.db.session() as s:
            moments = [s.scalar(select(func.max(InsightRow.last_seen_at))),
                       s.scalar(select(func.max(InsightRow.resolved_at)))]
        known = [m for m in moments if m is not None]
        return max(known) if known else None

    def seen_again(self, last_run: datetime, run_at: datetime) -> UpsertCounts:
        """What :meth:`upsert_many` does with the very insights of the run at ``last_run``, when
        the data and the settings have not changed since: each is seen again at ``run_at``, and
        a snooze that has run out reopens its insight. Nothing is created, changed or resolved
        (:mod:`salesradar.app.refresh_state`)."""
        _aware(run_at, "run_at")
        seen = (InsightRow.last_seen_at >= last_run) & InsightRow.resolved_at.is_(None)
        with self.db.session() as s:
            ended = list(s.scalars(select(InsightRow).where(
                seen, InsightRow.status == Status.SNOOZED.value,
                InsightRow.snoozed_until <= run_at)))
            for row in ended:
                _reopen(s, row, run_at, "snooze ended")
            # one statement for the rest: a company has tens of thousands of open insights
            marked = s.execute(update(InsightRow).where(seen).values(last_seen_at=run_at)
                               .execution_options(synchronize_session=False))
        total = int(getattr(marked, "rowcount", 0) or 0)
        return UpsertCounts(unchanged=total - len(ended), reopened=len(ended))

    def rewrite_texts(self, old_sign: str | None = None) -> int:
        """Write every stored insight's texts again from its evidence, in the current currency
        (after the company changes it); returns how many changed. The evidence holds every
        number the texts state; the phrases the churn model wrote at scoring time (its reasons)
        carry the ``old_sign``, which is replaced by the current one."""
        from salesradar.currency import symbol
        from salesradar.insights.texts import render

        sign = re.compile(rf"(?<![^\s(;:,-]){re.escape(old_sign)}(?=-?\d)") if old_sign else None

        def resigned(value: Any) -> Any:
            if isinstance(value, str) and sign is not None:
                return sign.sub(symbol(), value)
            if isinstance(value, list):
                return [resigned(v) for v in value]
            if isinstance(value, dict):
                return {k: resigned(v) for k, v in value.items()}
            return value

        changed = 0
        with self.db.session() as s:
            for row in s.scalars(select(InsightRow)):
                evidence = resigned(row.evidence)
                en, he = render(row.kind, evidence)
                texts = {"what_en": en.what, "why_en": en.why, "next_step_en": en.next_step,
                         "what_he": he.what, "why_he": he.why, "next_step_he": he.next_step,
                         "evidence": evidence}
                if any(getattr(row, k) != v for k, v in texts.items()):
                    changed += 1
                    for k, v in texts.items():
                        setattr(row, k, v)
        return changed

    # -- people ------------------------------------------------------------------------------
    def transition(
        self, insight_id: int, target: Status | str, at: datetime, *,
        until: datetime | None = None, note: str | None = None,
    ) -> StoredInsight:
        """Move an insight to ``target`` on a person's request; illegal moves raise."""
        _aware(at, "at")
        try:
            to = Status(target)
        except ValueError:
            raise UserInputError(
                f"unknown status {target!r}; use one of {', '.join(s.value for s in Status)}"
            ) from None
        with self.db.session() as s:
            row = self._row(s, insight_id)
            check_transition(Status(row.status), to)
            if to == Status.SNOOZED:
                if until is None or _aware(until, "until") <= at:
                    raise UserInputError("snooze needs an 'until' time after now")
                row.snoozed_until = until
            elif until is not None:
                raise UserInputError("'until' only applies to snooze")
            if to == Status.SENT and row.sent_at is None:
                row.sent_at = at
            if to in (Status.SNOOZED, Status.DISMISSED):
                row.quiet_value, row.quiet_priority = row.value_at_stake, row.priority
            add_event(s, row, to, at, note)
            return StoredInsight.of(row)

    def acknowledge(self, insight_id: int, at: datetime) -> StoredInsight:
        return self.transition(insight_id, Status.ACKNOWLEDGED, at)

    def done(self, insight_id: int, at: datetime) -> StoredInsight:
        return self.transition(insight_id, Status.DONE, at)

    def dismiss(self, insight_id: int, at: datetime, note: str | None = None) -> StoredInsight:
        return self.transition(insight_id, Status.DISMISSED, at, note=note)

    def snooze(self, insight_id: int, until: datetime, at: datetime) -> StoredInsight:
        return self.transition(insight_id, Status.SNOOZED, at, until=until)

    def record_outcome(
        self, insight_id: int, outcome: Outcome | str, value: float, observed_at: datetime
    ) -> StoredInsight:
        """Record what happened after the insight (e.g. the customer bought again, for ₪value)."""
        return self.record_outcomes([(insight_id, outcome, value)], observed_at)[0]

    def record_outcomes(
        self, outcomes: Iterable[tuple[int, Outcome | str, float]], observed_at: datetime
    ) -> list[StoredInsight]:
        """Record many outcomes (insight id, outcome, value) in one transaction."""
        at = _aware(observed_at, "observed_at")
        done = []
        with self.db.session() as s:
            for insight_id, outcome, value in outcomes:
                if outcome not in OUTCOMES:
                    raise UserInputError(
                        f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
                if value < 0:
                    raise UserInputError(f"outcome value must be >= 0, got {value}")
                row = self._row(s, insight_id)
                row.outcome, row.outcome_value, row.outcome_at = outcome, float(value), at
                done.append(StoredInsight.of(row))
        return done

    # -- reading -----------------------------------------------------------------------------
    def get(self, insight_id: int) -> StoredInsight:
        with self.db.session() as s:
            return StoredInsight.of(self._row(s, insight_id))

    def list_insights(
        self, *, status: Iterable[Status | str] | None = None, owner_rep_id: str | None = None,
        kind: Kind | str | None = None, holdout: bool | None = None, limit: int | None = None,
        outcome_pending_before: datetime | None = None,
    ) -> list[StoredInsight]:
        """Insights by priority (highest first), then value at stake, filtered as asked; the
        first ``limit`` of them when given. ``outcome_pending_before``: only those without an
        outcome yet, detected before that moment."""
        query = select(InsightRow)
        if outcome_pending_before is not None:
            query = query.where(InsightRow.outcome.is_(None),
                                InsightRow.detected_at < outcome_pending_before)
        if status is not None:
            query = query.where(InsightRow.status.in_([Status(x).value for x in status]))
        if owner_rep_id is not None:
            query = query.where(InsightRow.owner_rep_id == owner_rep_id)
        if kind is not None:
            query = query.where(InsightRow.kind == Kind(kind).value)
        if holdout is not None:
            query = query.where(InsightRow.holdout == holdout)
        query = query.order_by(
            InsightRow.priority.desc(), InsightRow.value_at_stake.desc(), InsightRow.id
        )
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self.db.session() as s:
            return [StoredInsight.of(r) for r in s.scalars(query)]

    def history(self, insight_id: int) -> list[tuple[datetime, str | None, str, str | None]]:
        """The status changes of one insight: (at, from, to, note), oldest first."""
        with self.db.session() as s:
            row = self._row(s, insight_id)
            return [(e.at, e.from_status, e.to_status, e.note) for e in row.events]

    @staticmethod
    def _row(s: Session, insight_id: int) -> InsightRow:
        row = s.get(InsightRow, insight_id)
        if row is None:
            raise UserInputError(f"no insight with id {insight_id}")
        return row


# The characters of a stored evidence's JSON text upsert_many reads with every known row:
# enough for the day it was judged ({"as_of": "YYYY-MM-DD", ...), see _judged_another_day
_HEAD_CHARS = 40
_AS_OF_HEAD = '{"as_of": "'
# What upsert_many reads of every stored insight it needs: what decides its fate, its owner
# and the head of its evidence; the rest of its content is read apart, only where the head
# does not tell that it changed (_stored_content).
_KNOWN = (
    InsightRow.id, InsightRow.dedup_key, InsightRow.kind, InsightRow.status,
    InsightRow.resolved_at, InsightRow.snoozed_until, InsightRow.quiet_value,
    InsightRow.quiet_priority, InsightRow.owner_rep_id,
    func.substr(cast(InsightRow.evidence, Text), 1, _HEAD_CHARS).label("evidence_head"),
)
_INSIGHTS: Table = InsightRow.__table__  # type: ignore[assignment]  # the class's Table
_EVENTS: Table = InsightEvent.__table__  # type: ignore[assignment]
_HOLDOUT: Table = HoldoutAssignment.__table__  # type: ignore[assignment]


@contextmanager
def _write_cache(s: Session) -> Iterator[None]:
    """On SQLite, a page cache that holds the run's rewritten pages until its commit.

    A run rewrites a page of the store for nearly every open insight, far more than SQLite's
    default cache (2 MB): it would spill dirty pages to the file mid-transaction, syncing the
    journal each time. The cache grows only as pages are used, and its size is put back after.
    """
    dbapi = s.connection().connection.dbapi_connection
    if s.get_bind().dialect.name != "sqlite" or dbapi is None:
        yield
        return
    (before,) = dbapi.execute("PRAGMA cache_size").fetchone()
    dbapi.execute(f"PRAGMA cache_size = {-_WRITE_CACHE_KIB}")
    try:
        yield
    finally:  # before the commit: pages not yet written stay in the cache whatever its size
        with suppress(sqlite3.Error):  # a connection gone bad is not reused anyway
            dbapi.execute(f"PRAGMA cache_size = {int(before)}")


def _chunks(keys: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(keys), _IN_CHUNK):
        yield keys[start:start + _IN_CHUNK]


def _known_rows(s: Session, batch: dict[str, Insight]) -> dict[str, Row[Any]]:
    """The stored rows upsert_many needs, by dedup key: every unresolved one, and those of the
    batch's keys (resolved ones included).

    A status is only ever ``resolved`` with ``resolved_at`` set (the runs set both, a reopen
    clears both, and no person may move an insight to resolved), so the unresolved rows are read
    through the status index, never by a scan of the resolved history. Read as plain rows
    through the session's connection (the ORM's loading adds nothing to columns but time).
    """
    resolved = Status.RESOLVED.value
    unresolved = select(*_KNOWN).where(
        InsightRow.resolved_at.is_(None),
        or_(InsightRow.status < resolved, InsightRow.status > resolved),
    )
    connection = s.connection()
    known = {row.dedup_key: row for row in connection.execute(unresolved)}
    missing = [key for key in batch if key not in known]
    if missing and not known and _empty(s, _INSIGHTS):  # the first run: nothing to look up
        return known
    for chunk in _chunks(missing):
        known.update((row.dedup_key, row) for row in connection.execute(
            select(*_KNOWN).where(InsightRow.dedup_key.in_(chunk))))
    return known


def _judged_another_day(head: str | None, evidence: dict[str, Any]) -> bool:
    """True when a stored evidence whose JSON text begins with ``head`` surely differs from
    ``evidence``: it begins with the day it was judged (``{"as_of": "<text>"``: its first key,
    as every insight's evidence begins, and a key json.dumps of a dict writes once), and that
    text, without an escape, is not ``evidence``'s ``as_of``. False when the head cannot tell
    (another first key, an escape, a value cut off, the same day): then everything is
    compared. A daily run judges a new day, so the head alone tells that nearly every known
    insight changed, without reading (or parsing) its other columns and evidence."""
    if head is None or not head.startswith(_AS_OF_HEAD):
        return False
    end = head.find('"', len(_AS_OF_HEAD))
    if end < 0:
        return False
    stored = head[len(_AS_OF_HEAD):end]
    return "\\" not in stored and evidence.get("as_of", _ABSENT) != stored


_ABSENT = object()  # a key not in a dict (never equal to a stored value)


def _stored_content(s: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The stored content of the insights ``ids`` by id: the columns of :data:`_CONTENT`,
    then the evidence as its JSON text (parsed on demand). Read only for the insights whose
    evidence's head does not tell that they changed (:func:`_judged_another_day`)."""
    connection = s.connection()
    columns = [getattr(InsightRow, name) for name in _CONTENT]
    stored: dict[int, tuple[Any, ...]] = {}
    for chunk in _chunks(ids):
        stored.update((row[0], tuple(row[1:])) for row in connection.execute(
            select(InsightRow.id, *columns, cast(InsightRow.evidence, Text))
            .where(InsightRow.id.in_(chunk))))
    return stored


def _json_loads(s: Session) -> Callable[[str], Any]:
    """How the database's JSON is parsed when read as a column (the engine's, else json's)."""
    return getattr(s.get_bind().dialect, "_json_deserializer", None) or json.loads


def _rows_by_id(s: Session, ids: list[int]) -> dict[int, InsightRow]:
    rows: dict[int, InsightRow] = {}
    for chunk in _chunks(ids):
        rows.update((row.id, row) for row in s.scalars(
            select(InsightRow).where(InsightRow.id.in_(chunk))))
    return rows


def _refresh_and_reopen(row: InsightRow, insight: Insight, run_at: datetime,
                        note: str) -> dict[str, Any]:
    """A known insight found again that reopens: its new content, then back to new; returns
    its event (to insert with the run's others)."""
    for name, value in _content(insight).items():
        setattr(row, name, value)
    row.last_seen_at = run_at
    row.detected_at = insight.detected_at
    _next_round(row)
    event = _event(row.id, run_at, row.status, Status.NEW, note)
    row.status = Status.NEW.value
    return event


def _insert_rows(s: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new insight rows (their ``evidence`` as its JSON text), their ids assigned in the
    list's order; return the ids by key.

    SQLite: one executemany of a one-row ``INSERT`` (:func:`_insert_many`), each row the next
    rowid, in the list's order; the ids are then read back in one query, as those above the
    largest id before the insert, and matched by their keys (a row another writer added in
    between has another key). Elsewhere (PostgreSQL), the database returns the ids of a
    batch in the order of its rows (an ``INSERT ... SELECT ... ORDER BY``, as the ORM's flush
    does).
    """
    if not rows:
        return {}
    if s.get_bind().dialect.name == "sqlite":
        connection = s.connection()
        before = connection.execute(select(func.max(_INSIGHTS.c.id))).scalar() or 0
        _insert_many(s, _INSIGHTS, rows, json_texts=("evidence",))
        ids = {key: id_ for key, id_ in connection.execute(
            select(_INSIGHTS.c.dedup_key, _INSIGHTS.c.id).where(_INSIGHTS.c.id > before))}
        if all(row["dedup_key"] in ids for row in rows):
            return ids
        # an id below the largest (SQLite picks one at random once the largest id is the
        # largest integer): read back by key
        for chunk in _chunks([row["dedup_key"] for row in rows]):
            ids.update((key, id_) for key, id_ in connection.execute(
                select(_INSIGHTS.c.dedup_key, _INSIGHTS.c.id)
                .where(_INSIGHTS.c.dedup_key.in_(chunk))))
        return ids
    loads = _json_loads(s)
    returning = insert(_INSIGHTS).returning(_INSIGHTS.c.dedup_key, _INSIGHTS.c.id,
                                            sort_by_parameter_order=True)
    return {key: id_ for key, id_ in s.execute(
        returning, [{**row, "evidence": loads(row["evidence"])} for row in rows])}


def _empty(s: Session, table: Table) -> bool:
    """True when ``table`` holds no row (one indexed probe, not a count)."""
    return s.connection().execute(select(1).select_from(table).limit(1)).first() is None


def _resolve(s: Session, gone: list[Row[Any]], at: datetime) -> None:
    """Resolve the unresolved insights no longer found (by id), each with its event; one that
    is done keeps its status and gets no event."""
    if not gone:
        return
    done = Status.DONE.value
    kept = [{"_id": row.id, "resolved_at": at} for row in gone if row.status == done]
    moved = [{"_id": row.id, "resolved_at": at, "status": Status.RESOLVED.value}
             for row in gone if row.status != done]
    for params in (kept, moved):
        _update_by_id(s, params)
    _insert_many(s, _EVENTS, [
        _event(row.id, at, row.status, Status.RESOLVED, "situation no longer found")
        for row in gone if row.status != done])


_BY_ID = update(_INSIGHTS).where(_INSIGHTS.c.id == bindparam("_id"))


def _update_by_id(s: Session, rows: list[dict[str, Any]],
                  json_texts: Sequence[str] = ()) -> None:
    """``UPDATE insights SET <columns> WHERE id = :_id`` for each of ``rows`` (dicts of the
    same keys: ``_id`` and the columns), one DBAPI executemany in the session's transaction
    (:func:`_execute_many`)."""
    if rows:
        connection = s.connection()
        _execute_many(connection, _BY_ID.compile(
            dialect=connection.dialect, column_keys=[k for k in rows[0] if k != "_id"]),
            rows, json_texts)


def _insert_many(s: Session, table: Table, rows: list[dict[str, Any]],
                 json_texts: Sequence[str] = ()) -> None:
    """``INSERT INTO <table> (<columns>) VALUES (...)`` for each of ``rows`` (dicts of the same
    keys), in their order: one DBAPI executemany in the session's transaction
    (:func:`_execute_many`), instead of SQLAlchemy's, which builds and converts every row's
    parameters one by one (most of the time of a first run's 30,000 insights, their events
    and holdout groups)."""
    if rows:
        connection = s.connection()
        _execute_many(connection, insert(table).compile(
            dialect=connection.dialect, column_keys=list(rows[0])), rows, json_texts)


def _execute_many(connection: Any, compiled: Any, rows: list[dict[str, Any]],
                  json_texts: Sequence[str]) -> None:
    """Run the compiled one-row statement for each of ``rows`` in one DBAPI executemany.

    Each value is converted by its column's type as SQLAlchemy would convert it (a timestamp
    to naive UTC, the evidence to JSON text), a column at a time and each distinct timestamp
    once. The JSON columns named in ``json_texts`` are given as the ``json.dumps`` text of
    their values (an insight's checked evidence): bound as they are where SQLAlchemy would
    write that same text (SQLite, its default serializer), else parsed and converted.
    """
    dialect = connection.dialect
    names: list[str] = list(compiled.positiontup or compiled.binds)
    columns: list[list[Any]] = []
    as_dumped = _binds_json_dumps(dialect)
    for name in names:
        kind = compiled.binds[name].type
        convert = kind.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        if name in json_texts:
            if not as_dumped:
                values = [convert(json.loads(v)) if convert is not None else json.loads(v)
                          for v in values]
        elif convert is not None and isinstance(getattr(kind, "impl_instance", kind), DateTime):
            converted = {value: convert(value) for value in set(values)}
            values = [converted[value] for value in values]
        elif convert is not None:
            values = [convert(value) for value in values]
        columns.append(values)
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    connection.exec_driver_sql(str(compiled), params)


def _binds_json_dumps(dialect: Any) -> bool:
    """True when a JSON column's bound value is exactly ``json.dumps`` of the value: SQLite
    with SQLAlchemy's default serializer (its text is bound with no further conversion)."""
    return dialect.name == "sqlite" and getattr(dialect, "_json_serializer", None) is None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise UserInputError(f"{name} must be timezone-aware, e.g. datetime.now(UTC)")
    return value.astimezone(UTC)
