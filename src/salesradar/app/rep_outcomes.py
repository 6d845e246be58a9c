"""What a rep logs after acting on an insight: reached, no answer, ordered or lost, with a note.

The rep's word is kept beside the measured outcome, never mixed into it: the outcome measurement
(:mod:`salesradar.insights.outcomes`) judges delivered and holdout insights alike from the data,
and a holdout insight is never shown, so nobody can log for it; counting the reps' "ordered" as
recovered would tilt the uplift toward the delivered group. ``ordered`` and ``lost`` are an
insight's *reported outcome* (source ``rep``): :func:`reported_outcome` gives the latest, and
:func:`salesradar.insights.impact.reported` counts them per kind and rep, beside the measured
rates. ``reached`` and ``no_answer`` are steps on the way and only appear in the insight's trail.

>>> from salesradar.app import AppDB
>>> db = AppDB.open("sqlite://")
>>> log_outcome(db, 7, "ordered", "dana", note="2 pallets").outcome
'ordered'
>>> reported_outcome(db, 7)
'ordered'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.db import AppDB
from salesradar.app.models import Base
from salesradar.errors import UserInputError

__all__ = ["FINAL", "OUTCOMES", "LoggedOutcome", "RepOutcome", "log_outcome", "logged",
           "reported_outcome"]

OUTCOMES: tuple[str, ...] = ("reached", "no_answer", "ordered", "lost")
FINAL: tuple[str, ...] = ("ordered", "lost")  # the ones that settle the insight's outcome
NOTE_CHARS = 2000


class RepOutcome(Base):
    """One outcome a person logged on an insight (migration 0009)."""

    __tablename__ = "insight_rep_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insight_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class LoggedOutcome:
    """A logged outcome as the pages and the API show it."""

    id: int
    insight_id: int
    at: datetime
    actor: str
    outcome: str
    note: str | None
    source: str = "rep"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "insight_id": self.insight_id, "at": self.at.isoformat(),
                "actor": self.actor, "outcome": self.outcome, "note": self.note,
                "source": self.source}


def _of(row: RepOutcome) -> LoggedOutcome:
    return LoggedOutcome(row.id, row.insight_id, row.at, row.actor, row.outcome, row.note)


def log_outcome(db: AppDB, insight_id: int, outcome: str, actor: str, *,
                note: str | None = None, at: datetime | None = None) -> LoggedOutcome:
    """Store what ``actor`` reports about the insight (the caller checked it may see it)."""
    if outcome not in OUTCOMES:
        raise UserInputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    text = (note or "").strip()
    if len(text) > NOTE_CHARS:
        raise UserInputError(f"the note holds at most {NOTE_CHARS} characters")
    when = at or datetime.now(UTC)
    with db.session() as s:
        row = RepOutcome(insight_id=insight_id, at=when, actor=actor[:100], outcome=outcome,
                         note=text or None)
        s.add(row)
        s.flush()
        return _of(row)


def logged(db: AppDB, insight_ids: Iterable[int]) -> dict[int, list[LoggedOutcome]]:
    """The outcomes logged on each of ``insight_ids``, oldest first."""
    ids = sorted(set(insight_ids))
    out: dict[int, list[LoggedOutcome]] = {}
    if not ids:
        return out
    with db.session() as s:
        for start in range(0, len(ids), 500):
            query = (select(RepOutcome).where(RepOutcome.insight_id.in_(ids[start:start + 500]))
                     .order_by(RepOutcome.id))
            for row in s.scalars(query):
                out.setdefault(row.insight_id, []).append(_of(row))
    return out


def reported_outcome(db: AppDB, insight_id: int) -> str | None:
    """The latest ``ordered`` or ``lost`` a person logged on the insight, else None."""
    with db.session() as s:
        found = s.scalar(select(RepOutcome.outcome)
                         .where(RepOutcome.insight_id == insight_id,
                                RepOutcome.outcome.in_(FINAL))
                         .order_by(RepOutcome.id.desc()).limit(1))
    return found
