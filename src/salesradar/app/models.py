"""The application-state tables: insights, their status history, the outbox, holdout, team settings.

The schema is owned by the Alembic migrations in ``salesradar/app/migrations``; these ORM classes
must agree with them (``tests/app/test_migrations.py`` checks that autogenerate finds no diff).
Timestamps are stored as naive UTC and handed back as timezone-aware UTC (:class:`UTCDateTime`),
so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC, returned as aware UTC; naive input is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy's documented hook
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
    }


class InsightRow(Base):
    """One situation (kind + subject), kept across runs; updated, never duplicated."""

    __tablename__ = "insights"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(200))
    owner_rep_id: Mapped[str | None] = mapped_column(String(100), index=True)
    manager_id: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    value_at_stake: Mapped[float] = mapped_column(Float)
    what_en: Mapped[str] = mapped_column(Text)
    why_en: Mapped[str] = mapped_column(Text)
    next_step_en: Mapped[str] = mapped_column(Text)
    what_he: Mapped[str] = mapped_column(Text)
    why_he: Mapped[str] = mapped_column(Text)
    next_step_he: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    detected_at: Mapped[datetime]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), index=True)
    snoozed_until: Mapped[datetime | None]
    # value and priority when it was dismissed/snoozed: the baseline of "material change"
    quiet_value: Mapped[float | None] = mapped_column(Float)
    quiet_priority: Mapped[int | None] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)  # +1 each time it re-opens: a new delivery round
    holdout: Mapped[bool] = mapped_column(Boolean)
    sent_at: Mapped[datetime | None]  # first successful delivery, any channel
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_value: Mapped[float | None] = mapped_column(Float)
    outcome_at: Mapped[datetime | None]

    events: Mapped[list[InsightEvent]] = relationship(
        back_populates="insight", order_by="InsightEvent.id", cascade="all, delete-orphan"
    )


class InsightEvent(Base):
    """One status change of an insight (the history behind its current status)."""

    __tablename__ = "insight_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insight_id: Mapped[int] = mapped_column(ForeignKey("insights.id"), index=True)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    insight: Mapped[InsightRow] = relationship(back_populates="events")


class OutboxRow(Base):
    """One message to send: (message key, channel, recipient) is unique, so nothing queues twice.

    ``message_key`` is ``insight:<id>:r<round>`` for an instant push and
    ``digest:<rep>:<iso-week>`` for a weekly digest.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("message_key", "channel", "recipient", name="uq_outbox_message"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_key: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(100))
    insight_id: Mapped[int | None] = mapped_column(ForeignKey("insights.id"), index=True)
    insight_ids: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"ids": [...]}: all it covers
    kind: Mapped[str] = mapped_column(String(10))  # push or digest
    status: Mapped[str] = mapped_column(String(10))  # pending sending retry sent failed unknown
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class HoldoutAssignment(Base):
    """The experiment group of one dedup key, fixed the first time the key is seen."""

    __tablename__ = "holdout_assignments"

    dedup_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    holdout: Mapped[bool] = mapped_column(Boolean)
    fraction: Mapped[float] = mapped_column(Float)
    assigned_at: Mapped[datetime]


class TeamSettings(Base):
    """How a team works: operating model, pushes per rep per day, digest weekday (0 = Monday)."""

    __tablename__ = "team_settings"

    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    operating_model: Mapped[str] = mapped_column(String(10))  # centre or account
    daily_limit_per_rep: Mapped[int] = mapped_column(Integer)
    digest_weekday: Mapped[int] = mapped_column(Integer)


class CompanySetting(Base):
    """One company setting changed from its default (migration 0007); see
    :mod:`salesradar.app.settings` for the keys, their defaults and checks."""

    __tablename__ = "company_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))
