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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
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


def _content(insight: Insight) -> dict[str, Any]:
    """The columns a run may change on an existing insight."""
    return {
        "owner_rep_id": insight.owner_rep_id, "manager_id": insight.manager_id,
        "team": insight.team, "priority": insight.priority,
        "value_at_stake": float(insight.value_at_stake),
        "what_en": insight.en.what, "why_en": insight.en.why, "next_step_en": insight.en.next_step,
        "what_he": insight.he.what, "why_he": insight.he.why, "next_step_he": insight.he.next_step,
        "evidence": insight.evidence,
    }


def add_event(
    session: Session, row: InsightRow, to: Status, at: datetime, note: str | None = None
) -> None:
    """Move ``row`` to status ``to`` and write the change to its history."""
    session.add(InsightEvent(
        insight_id=row.id, at=at, from_status=row.status, to_status=to.value, note=note
    ))
    row.status = to.value


def _reopen(session: Session, row: InsightRow, at: datetime, note: str) -> None:
    """A quiet or resolved insight is new again, in its next round."""
    row.resolved_at = row.snoozed_until = row.quiet_value = row.quiet_priority = None
    row.round += 1
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
        """
        _aware(run_at, "run_at")
        batch: dict[str, Insight] = {}
        for insight in insights:
            if insight.dedup_key in batch:
                raise UserInputError(f"the run produced {insight.dedup_key!r} twice")
            batch[insight.dedup_key] = insight
        scope = {Kind(k).value for k in kinds} if kinds is not None else {k.value for k in Kind}
        counts = {"new": 0, "updated": 0, "unchanged": 0, "reopened": 0, "resolved": 0}
        with self.db.session() as s, s.no_autoflush:  # one flush at the end, not one per row
            existing = {r.dedup_key: r for r in s.scalars(select(InsightRow))}
            groups = self._holdout_groups(s, [k for k in batch if k not in existing])
            plain_updates: list[dict[str, Any]] = []  # rows only updated: one bulk statement
            for key, insight in batch.items():
                row = existing.get(key)
                if row is None:
                    self._create(s, insight, run_at, groups)
                    counts["new"] += 1
                else:
                    counts[self._update(s, row, insight, run_at, plain_updates)] += 1
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

    def _create(self, s: Session, insight: Insight, run_at: datetime,
                groups: dict[str, bool]) -> None:
        row = InsightRow(
            dedup_key=insight.dedup_key, kind=insight.kind.value,
            subject_type=insight.subject.type, subject_id=insight.subject.id,
            detected_at=insight.detected_at, first_seen_at=run_at, last_seen_at=run_at,
            status=Status.NEW.value, round=1,
            holdout=self._holdout(s, insight, run_at, groups), **_content(insight),
        )
        row.events.append(InsightEvent(at=run_at, from_status=None, to_status="new"))
        s.add(row)

    @staticmethod
    def _holdout_groups(s: Session, keys: list[str]) -> dict[str, bool]:
        """The groups already assigned to ``keys`` (a key seen before, then resolved and gone
        from the store, keeps its group), read in one query."""
        if not keys:
            return {}
        wanted = set(keys)
        rows = s.execute(select(HoldoutAssignment.dedup_key, HoldoutAssignment.holdout))
        return {key: bool(held) for key, held in rows if key in wanted}

    def _holdout(self, s: Session, insight: Insight, run_at: datetime,
                 groups: dict[str, bool]) -> bool:
        eligible = self.settings.holdout_kinds
        if eligible is not None and insight.kind not in eligible:
            return False
        if insight.dedup_key in groups:
            return groups[insight.dedup_key]
        fraction = self.settings.holdout_fraction
        held = in_holdout(insight.dedup_key, salt=self._salt, fraction=fraction)
        s.add(HoldoutAssignment(dedup_key=insight.dedup_key, fraction=fraction,
                                assigned_at=run_at, holdout=held))
        groups[insight.dedup_key] = held
        return held

    def _update(self, s: Session, row: InsightRow, insight: Insight, run_at: datetime,
                plain_updates: list[dict[str, Any]]) -> str:
        """Update a known insight: reopened through the session (with its event), otherwise
        its new values are added to ``plain_updates`` for one bulk update by id."""
        content = _content(insight)
        changed = any(getattr(row, name) != value for name, value in content.items())
        status = Status(row.status)
        material = changed_materially(
            row.quiet_value, row.quiet_priority, insight.value_at_stake, insight.priority,
            self.settings.material_change,
        )
        reopen_note = None
        if row.resolved_at is not None:
            reopen_note = "situation found again"
        elif status == Status.DISMISSED and material:
            reopen_note = "situation changed materially since it was dismissed"
        elif status == Status.SNOOZED and material:
            reopen_note = "situation changed materially since it was snoozed"
        elif status == Status.SNOOZED and row.snoozed_until and row.snoozed_until <= run_at:
            reopen_note = "snooze ended"
        if reopen_note is None:
            plain_updates.append({"id": row.id, **(content if changed else {}),
                                  "last_seen_at": run_at, "detected_at": insight.detected_at})
            return "updated" if changed else "unchanged"
        for name, value in content.items():
            setattr(row, name, value)
        row.last_seen_at = run_at
        row.detected_at = insight.detected_at
        _reopen(s, row, run_at, reopen_note)
        return "reopened"

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


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise UserInputError(f"{name} must be timezone-aware, e.g. datetime.now(UTC)")
    return value.astimezone(UTC)
