"""When the server refreshes by itself, and what each refresh did: the schedule and the runs.

The schedule is one row of the app database: ``off`` or ``daily HH:MM`` (the server's local
time). It is set from the browser (/admin/refresh), the API or ``salesradar schedule set``; the
server that serves the workspace runs it (:func:`salesradar.app.jobs.run_due`, checked every
half minute by a thread started with the app). A day's run is due from its time until midnight,
once: a server that was down at 02:00 runs it when it comes back the same day. Setting a time
already past today does not run today.

Every refresh, started by hand or by the schedule, is one row of ``refresh_runs`` with its
times, stage, status, counts and error: the history the refresh page shows.

>>> parse_schedule("daily 2:00"), parse_schedule("off"), parse_schedule("07:30")
(('daily', '02:00'), ('off', '02:00'), ('daily', '07:30'))
>>> s = Schedule("daily", "02:00", "2026-12-05")
>>> s.is_due(datetime(2026, 12, 6, 1, 59)), s.is_due(datetime(2026, 12, 6, 2, 0))
(False, True)
>>> Schedule("daily", "02:00", "2026-12-06").is_due(datetime(2026, 12, 6, 23, 0))
False
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.db import AppDB
from salesradar.app.models import Base
from salesradar.errors import UserInputError

__all__ = [
    "RefreshRun", "RefreshSchedule", "Schedule", "finish_run", "get_schedule", "list_runs",
    "mark_ran", "parse_schedule", "set_schedule", "start_run", "update_stage",
]

MODES = ("off", "daily")


class RefreshSchedule(Base):
    """The one schedule of the workspace (migration 0009); ``id`` is always 1."""

    __tablename__ = "refresh_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))  # off, daily
    at_time: Mapped[str] = mapped_column(String(5))  # HH:MM, server local time
    last_run_on: Mapped[str | None] = mapped_column(String(10))  # local day of the last run
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))


class RefreshRun(Base):
    """One refresh: started by hand ("now") or by the schedule (migration 0009)."""

    __tablename__ = "refresh_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    trigger: Mapped[str] = mapped_column(String(20))  # now, schedule, api
    actor: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str | None] = mapped_column(Text)  # JSON counts
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Schedule:
    """``mode`` off or daily, at ``at`` (HH:MM local); ``last_run_on`` the day last run."""

    mode: str = "off"
    at: str = "02:00"
    last_run_on: str | None = None

    def is_due(self, now: datetime) -> bool:
        """Whether a scheduled run should start at ``now`` (local time)."""
        if self.mode != "daily":
            return False
        return now.strftime("%H:%M") >= self.at and self.last_run_on != now.date().isoformat()

    def text(self) -> str:
        return "off" if self.mode == "off" else f"daily {self.at}"

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "at": self.at, "last_run_on": self.last_run_on,
                "text": self.text()}


def parse_schedule(text: str) -> tuple[str, str]:
    """``off``, ``daily HH:MM`` or ``HH:MM`` -> (mode, time); a clear error otherwise."""
    words = text.strip().lower().split()
    if words in (["off"], ["none"], ["never"]):
        return "off", "02:00"
    if words and words[0] == "daily":
        words = words[1:]
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", words[0]) if len(words) == 1 else None
    if not found:
        raise UserInputError(f"schedule: write off, or daily HH:MM (daily 02:00), not {text!r}")
    return "daily", f"{int(found.group(1)):02d}:{found.group(2)}"


def get_schedule(db: AppDB) -> Schedule:
    with db.session() as s:
        row = s.get(RefreshSchedule, 1)
        return Schedule() if row is None else Schedule(row.mode, row.at_time, row.last_run_on)


def set_schedule(db: AppDB, text: str, *, by: str | None = None,
                 now: datetime | None = None) -> Schedule:
    """Store the schedule ``text`` (see :func:`parse_schedule`) and record it in the audit log.
    A time already past today counts as run today (setting it starts nothing at once)."""
    from salesradar.app.audit import record

    mode, at = parse_schedule(text)
    now = now or datetime.now()
    last = now.date().isoformat() if now.strftime("%H:%M") >= at else None
    with db.session() as s:
        row = s.get(RefreshSchedule, 1)
        if row is None:
            row = RefreshSchedule(id=1, mode=mode, at_time=at, updated_at=datetime.now(UTC))
            s.add(row)
        before = "off" if row.mode == "off" else f"daily {row.at_time}"
        row.mode, row.at_time, row.last_run_on = mode, at, last
        row.updated_at, row.updated_by = datetime.now(UTC), by
    schedule = Schedule(mode, at, last)
    record(db, by or "unknown", "refresh.schedule", "refresh",
           {"schedule": schedule.text(), "before": before})
    return schedule


def mark_ran(db: AppDB, day: date) -> None:
    """Note that the scheduled run of ``day`` started (it is not due again that day)."""
    with db.session() as s:
        row = s.get(RefreshSchedule, 1)
        if row is not None:
            row.last_run_on = day.isoformat()


# -- runs ------------------------------------------------------------------------------------
def start_run(db: AppDB, trigger: str, actor: str) -> int:
    with db.session() as s:
        row = RefreshRun(started_at=datetime.now(UTC), status="running", trigger=trigger,
                         actor=actor[:100], stage="starting")
        s.add(row)
        s.flush()
        return int(row.id)


def update_stage(db: AppDB, run_id: int, stage: str) -> None:
    with db.session() as s:
        row = s.get(RefreshRun, run_id)
        if row is not None:
            row.stage = stage[:60]


def finish_run(db: AppDB, run_id: int, status: str, summary: dict[str, Any] | None = None,
               error: str | None = None) -> None:
    with db.session() as s:
        row = s.get(RefreshRun, run_id)
        if row is not None:
            row.status, row.finished_at = status, datetime.now(UTC)
            row.summary = None if summary is None else json.dumps(summary, default=str)
            row.error = error


def list_runs(db: AppDB, limit: int = 10, *, running: int | None = None
              ) -> list[dict[str, Any]]:
    """The latest runs first. A run still marked running that is not ``running`` (the one this
    server is running) was cut off by a stop of the server: shown as ``interrupted``."""
    with db.session() as s:
        rows = s.scalars(select(RefreshRun).order_by(RefreshRun.id.desc()).limit(limit)).all()
        out = []
        for r in rows:
            status = r.status
            if status == "running" and r.id != running:
                status = "interrupted"
            seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
            out.append({"id": r.id, "started_at": r.started_at.isoformat(),
                        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                        "seconds": seconds, "status": status, "trigger": r.trigger,
                        "actor": r.actor, "stage": r.stage,
                        "summary": json.loads(r.summary) if r.summary else None,
                        "error": r.error})
        return out
