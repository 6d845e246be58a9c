"""Open the application database, bringing its schema up to date first.

SQLite by default (``salesradar-app.sqlite`` next to the workspace file), PostgreSQL or any
SQLAlchemy URL through ``SALESRADAR_APP_DB``. The schema is managed by the Alembic migrations
shipped in ``salesradar/app/migrations`` and applied by :func:`upgrade` every time the database
is opened, so users never run ``alembic`` by hand.

>>> db = AppDB.open("sqlite://")
>>> with db.session() as s:
...     s.query(TeamSettings).count()
0
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from salesradar.app.models import TeamSettings
from salesradar.config import workspace_path
from salesradar.errors import WorkspaceError

APP_DB_ENV = "SALESRADAR_APP_DB"
APP_DB_FILENAME = "salesradar-app.sqlite"
MIGRATIONS = Path(__file__).parent / "migrations"
_UPGRADE_LOCK = threading.Lock()

__all__ = ["APP_DB_ENV", "AppDB", "TeamSettings", "alembic_config", "database_url", "upgrade"]


def database_url(explicit: str | None = None, workspace: str | Path | None = None) -> str:
    """The app database URL: explicit, else ``$SALESRADAR_APP_DB``, else SQLite by the workspace."""
    if explicit:
        return explicit
    env = os.environ.get(APP_DB_ENV)
    if env:
        return env
    return f"sqlite:///{workspace_path(workspace).resolve().parent / APP_DB_FILENAME}"


def _engine(url: str) -> Engine:
    if url in ("sqlite://", "sqlite:///:memory:"):
        # one shared connection, or every new connection would see an empty in-memory database
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")  # concurrent runs wait, not fail
            cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for the shipped migrations, bound to ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def default_team_settings(team: str | None) -> TeamSettings:
    """A team never configured: centre model, 20 pushes per rep per day, digests on Monday."""
    return TeamSettings(
        team=team or "", operating_model="centre", daily_limit_per_rep=20, digest_weekday=0
    )


def upgrade(url_or_engine: str | Engine) -> None:
    """Apply every migration not yet applied to the database (idempotent)."""
    engine = _engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with _UPGRADE_LOCK:  # alembic's migration context is process-global: one at a time
            # "heads": feature areas add their tables as branches off 0001, each its own head
            command.upgrade(alembic_config(engine), "heads")
    except Exception as exc:  # a database we cannot reach or migrate is a workspace problem
        raise WorkspaceError(f"cannot bring the app database up to date: {exc}") from exc


class AppDB:
    """The application database: an engine plus a session factory, schema at head."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, workspace: str | Path | None = None) -> Self:
        """Open (creating and migrating as needed) the database at ``url`` or the default."""
        engine = _engine(database_url(url, workspace))
        upgrade(engine)
        return cls(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def scratch_session(self) -> Iterator[Session]:
        """A session whose changes are always rolled back (dry runs)."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    def team_settings(self, team: str | None) -> TeamSettings:
        """The settings of ``team``; a team never configured gets :func:`default_team_settings`."""
        with self.session() as s:
            row = s.get(TeamSettings, team) if team else None
            if row is None:
                return default_team_settings(team)
            s.expunge(row)
            return row

    def configured_teams(self) -> set[str]:
        """Teams whose settings were set explicitly."""
        with self.session() as s:
            return {str(t) for t in s.scalars(select(TeamSettings.team))}

    def set_team_settings(
        self, team: str, *, operating_model: str = "centre", daily_limit_per_rep: int = 20,
        digest_weekday: int = 0,
    ) -> None:
        """Create or replace the settings of one team."""
        from salesradar.errors import UserInputError

        if operating_model not in ("centre", "account"):
            raise UserInputError(
                f"operating_model must be 'centre' or 'account', got {operating_model!r}"
            )
        if daily_limit_per_rep < 0 or not 0 <= digest_weekday <= 6:
            raise UserInputError(
                "daily_limit_per_rep must be >= 0 and digest_weekday 0 (Monday) to 6 (Sunday), "
                f"got {daily_limit_per_rep} and {digest_weekday}"
            )
        with self.session() as s:
            s.merge(TeamSettings(
                team=team, operating_model=operating_model,
                daily_limit_per_rep=daily_limit_per_rep, digest_weekday=digest_weekday,
            ))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
