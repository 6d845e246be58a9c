"""The vendor commitments table: one row per commitment, its full terms as JSON (migration 0004).

The columns people filter and list by (name, vendor, model, metric, period) are real columns; the
rest of the terms (baseline definition, fees, refund, path) live in ``terms`` as the dictionary
:meth:`salesradar.commitments.model.Commitment.to_dict` writes, so new terms need no migration.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.models import Base


class CommitmentRow(Base):
    """One vendor commitment as stored."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(200), index=True)
    model: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
