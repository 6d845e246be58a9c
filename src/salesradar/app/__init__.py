"""Application state: insight status, deliveries, holdout, team settings (SQLAlchemy + Alembic)."""

# imported for their tables, so Base.metadata holds every migration's schema
import salesradar.app.audit  # who changed what (migration 0008)
import salesradar.app.commitments  # vendor commitments (migration 0004)
import salesradar.app.management  # account plans, targets, commissions (0003)
import salesradar.app.refresh_state  # what the last refresh was computed from (0010)
import salesradar.app.rep_outcomes  # outcomes a rep logs on an insight (migration 0009)
import salesradar.app.schedule  # refresh runs and schedule (0009)
import salesradar.app.uploads  # saved upload mappings (0009)
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
