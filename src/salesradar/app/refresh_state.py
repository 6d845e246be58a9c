"""What the last refresh was computed from: a refresh of unchanged data has nothing to compute.

Scores, insights and outcomes are functions of the data, the day judged, the horizon, the
company's settings and this code. :func:`salesradar.pipeline.run` ends by recording that *key*
with the moment it ran and what it found (one row, migration 0010). The next refresh with the
same key, into a store nobody has written insights to since, keeps all of it: the insights are
marked seen again and snoozes that ended reopen, exactly what upserting the same insights would
do, without copying the workspace or scoring anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.db import AppDB
from salesradar.app.models import Base

__all__ = ["LastRefresh", "RefreshState", "last_refresh", "record_refresh"]


class RefreshState(Base):
    """The last refresh's key, moment and summary; ``id`` is always 1."""

    __tablename__ = "refresh_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    run_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)  # JSON: scores, insights and outcomes


@dataclass(frozen=True)
class LastRefresh:
    key: str
    run_at: datetime
    summary: dict[str, Any]


def last_refresh(db: AppDB) -> LastRefresh | None:
    """The last recorded refresh, if any."""
    with db.session() as s:
        row = s.get(RefreshState, 1)
        return None if row is None else LastRefresh(row.key, row.run_at, json.loads(row.summary))


def record_refresh(db: AppDB, key: str, run_at: datetime, summary: dict[str, Any]) -> None:
    """Record the refresh that just finished (replacing the previous record)."""
    text = json.dumps(summary, default=str, allow_nan=False)
    with db.session() as s:
        row = s.get(RefreshState, 1)
        if row is None:
            s.add(RefreshState(id=1, key=key, run_at=run_at, summary=text))
        else:
            row.key, row.run_at, row.summary = key, run_at, text
