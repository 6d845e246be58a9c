"""The audit log: who changed what and when (imports, refreshes, settings, users, targets, plans,
commitments, delivery channels), one row per change, never updated or deleted.

Every layer that changes the company's configuration or data on a person's request calls
:func:`record` in the same step; admins read it with :func:`list_events` (the web's audit page
and its exports). Secrets never go into ``detail``: a password change is recorded as
"password set", not the password.

>>> from salesradar.app import AppDB
>>> db = AppDB.open("sqlite://")
>>> record(db, "dana", "settings.set", "currency", {"value": "USD"})
>>> [(e["actor"], e["action"], e["target"], e["detail"]) for e in list_events(db)]
[('dana', 'settings.set', 'currency', {'value': 'USD'})]
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.db import AppDB
from salesradar.app.models import Base

__all__ = ["AuditEvent", "count_events", "list_events", "record"]

_SECRET_WORDS = ("password", "token", "secret", "api_key", "apikey")


class AuditEvent(Base):
    """One change (migration 0008)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))  # user name, or "cli:<login>", "scheduler"
    action: Mapped[str] = mapped_column(String(60), index=True)  # area.verb: user.add ...
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON


def _clean(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """``detail`` without any value whose key names a secret."""
    if detail is None:
        return None
    return {k: ("(hidden)" if any(w in k.lower() for w in _SECRET_WORDS) else v)
            for k, v in detail.items()}


def record(db: AppDB, actor: str, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None, *, at: datetime | None = None) -> None:
    """Write one change to the log (secret-looking keys of ``detail`` are hidden)."""
    text = None if detail is None else json.dumps(_clean(detail), ensure_ascii=False,
                                                  default=str, allow_nan=False)
    with db.session() as s:
        s.add(AuditEvent(at=at or datetime.now(UTC), actor=actor[:100], action=action[:60],
                         target=None if target is None else str(target)[:300], detail=text))


def list_events(db: AppDB, *, action: str | None = None, actor: str | None = None,
                limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """The latest changes first; ``action`` matches a prefix (``"settings"``, ``"user.add"``)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    with db.session() as s:
        rows = s.scalars(query.limit(limit).offset(offset)).all()
        return [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                 "target": r.target, "detail": None if r.detail is None else json.loads(r.detail)}
                for r in rows]


def count_events(db: AppDB, *, action: str | None = None, actor: str | None = None) -> int:
    """How many changes :func:`list_events` would page through."""
    query = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    with db.session() as s:
        return int(s.scalar(query) or 0)
