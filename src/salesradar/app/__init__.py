"""Application state: insight status, deliveries, holdout, team settings (SQLAlchemy + Alembic)."""

import salesradar.app.commitments  # noqa: F401 - vendor commitments (migration 0004)
import salesradar.app.management  # noqa: F401 - account plans, targets, commissions (0003)
import salesradar.app.users  # noqa: F401 - web users, tokens, sessions (migration 0002)
from salesradar.app.db import APP_DB_ENV, AppDB, database_url, upgrade
from salesradar.app.models import (
    Base,
    HoldoutAssignment,
    InsightEvent,
    InsightRow,
    OutboxRow,
    TeamSettings,
)

__all__ = [
    "APP_DB_ENV",
    "AppDB",
    "Base",
    "HoldoutAssignment",
    "InsightEvent",
    "InsightRow",
    "OutboxRow",
    "TeamSettings",
    "database_url",
    "upgrade",
]
