"""Open the application database, bringing its schema up to date first.

SQLite by default, named after the workspace file (``uci1.duckdb`` -> ``uci1.app.sqlite`` beside
it), PostgreSQL or any SQLAlchemy URL through ``SALESRADAR_APP_DB``. The schema is managed by the
Alembic migrations shipped in ``salesradar/app/migrations`` and applied by :func:`upgrade` every
time the database is opened, so users never run ``alembic`` by hand.

A store serves one workspace: opened for a workspace, it records which (``store_workspace``, at
first use) and refuses any other. Older versions kept one ``salesradar-app.sqlite`` per folder,
shared by every workspace there; :func:`adopt_legacy_store` copies it to the new name when it can
only belong to this workspace, and refuses when it cannot tell (see its docstring). No row of it is
ever deleted or changed, only copied.

>>> db = AppDB.open("sqlite://")
>>> with db.session() as s:
...     s.query(TeamSettings).count()
0
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine, Integer, String, create_engine, event, inspect, make_url, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from salesradar.app.models import Base, TeamSettings
from salesradar.config import workspace_path
from salesradar.errors import WorkspaceError

if TYPE_CHECKING:  # Alembic loads only when a migration is due (see upgrade)
    from alembic.config import Config

APP_DB_ENV = "SALESRADAR_APP_DB"
APP_DB_SUFFIX = ".app.sqlite"
LEGACY_APP_DB = "salesradar-app.sqlite"  # the one store per folder of versions before issue 13
MIGRATIONS = Path(__file__).parent / "migrations"
_UPGRADE_LOCK = threading.Lock()

__all__ = [
    "APP_DB_ENV", "AppDB", "StoreBinding", "TeamSettings", "alembic_config", "database_url",
    "default_store_path", "upgrade",
]


class StoreBinding(Base):
    """The workspace a store serves (one row, written at first use; migration 0006)."""

    __tablename__ = "store_workspace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    workspace_path: Mapped[str] = mapped_column(String(4000))  # resolved path
    workspace_name: Mapped[str] = mapped_column(String(255))  # its file name
    bound_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(4000))


def default_store_path(workspace: str | Path | None = None) -> Path:
    """The workspace's own SQLite store beside it: ``uci1.duckdb`` -> ``uci1.app.sqlite``."""
    target = workspace_path(workspace).resolve()
    return target.with_name(target.stem + APP_DB_SUFFIX)


def database_url(explicit: str | None = None, workspace: str | Path | None = None) -> str:
    """The app database URL: explicit, else ``$SALESRADAR_APP_DB``, else SQLite by the workspace."""
    if explicit:
        return explicit
    env = os.environ.get(APP_DB_ENV)
    if env:
        return env
    return f"sqlite:///{default_store_path(workspace)}"


def shown_url(url: str) -> str:
    """A database URL as it may be printed: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: show nothing secret
        return url.split("@")[-1]


@dataclass(frozen=True)
class StoreInfo:
    """Which store a workspace uses, for ``salesradar status``."""

    url: str  # password hidden
    workspace: str | None  # the workspace path the store records
    note: str | None  # e.g. where it was adopted from

    def to_dict(self) -> dict[str, str | None]:
        return {"url": self.url, "workspace": self.workspace, "note": self.note}


def _workspaces_beside(workspace: Path) -> list[Path]:
    """The workspace files (``*.duckdb``) in the workspace's folder, the workspace included."""
    found = {p.resolve() for p in workspace.parent.glob("*.duckdb") if p.is_file()}
    return sorted(found | {workspace})


def _legacy_binding(legacy: Path) -> tuple[str | None, bool]:
    """The workspace a legacy store already records (or None), and whether it holds any row."""
    with closing(sqlite3.connect(f"file:{legacy}?mode=ro", uri=True)) as con:
        tables = [str(r[0]) for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('alembic_version', 'store_workspace')")]
        holds_rows = any(
            con.execute(
                'SELECT EXISTS (SELECT 1 FROM "{}")'.format(  # noqa: S608 - from sqlite_master
                    t.replace('"', '""'))
            ).fetchone()[0]
            for t in tables
        )
        bound = None
        if "store_workspace" in {str(r[0]) for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}:
            row = con.execute("SELECT workspace_path FROM store_workspace").fetchone()
            bound = None if row is None else str(row[0])
    return bound, holds_rows


def adopt_legacy_store(workspace: str | Path) -> Path | None:
    """Copy the folder's shared ``salesradar-app.sqlite`` to the workspace's own store, if it is
    this workspace's; return the copied store's source, or None when there is nothing to adopt.

    Only called while the workspace's own store does not exist yet. The legacy store is this
    workspace's when it already records this workspace (bound with ``--app-db``), or records none
    and this is the only workspace file in the folder. It is none of this workspace's when it
    records another one, or holds no row at all: the workspace then starts a store of its own.
    Unbound, with rows, beside several workspaces, its rows cannot be told apart: refused with
    the way out. The copy is an SQLite backup (consistent even while an old process writes); the
    legacy file then records the workspace it went to, so no second workspace adopts it.
    """
    target = workspace_path(workspace).resolve()
    own = default_store_path(target)
    legacy = target.parent / LEGACY_APP_DB
    if own.exists() or not legacy.is_file():
        return None
    bound, holds_rows = _legacy_binding(legacy)
    if bound is not None and bound != str(target):
        return None
    if bound is None:
        if not holds_rows:
            return None
        others = [p.name for p in _workspaces_beside(target) if p != target]
        if others:
            raise WorkspaceError(
                f"{legacy} is the application store that older versions shared by every "
                f"workspace in {target.parent} ({', '.join([target.name, *others])}); its "
                "insights, statuses, deliveries and holdout cannot be told apart, and salesradar "
                "will not hand one company's to another. Say which workspace it belongs to by "
                f"opening it once with that one: salesradar status -w <that>.duckdb --app-db "
                f"sqlite:///{legacy} . That workspace then adopts it as <that>.app.sqlite and "
                "the others start stores of their own; nothing in it is deleted"
            )
    partial = own.with_name(f"{own.name}.{os.getpid()}.{threading.get_ident()}.adopting")
    with closing(sqlite3.connect(f"file:{legacy}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(partial)) as copy:
        source.backup(copy)
    try:  # a link, not a rename: a store another process adopted meanwhile is never replaced
        own.hardlink_to(partial)
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    note = f"adopted from {legacy} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    engine = _engine(f"sqlite:///{legacy}")
    try:
        upgrade(engine)
        _bind(engine, target, note=f"copied to {own.name}; kept as it was, no longer used")
    finally:
        engine.dispose()
    engine = _engine(f"sqlite:///{own}")
    try:
        upgrade(engine)
        _bind(engine, target, note=note)
    finally:
        engine.dispose()
    return legacy


def _bind(
    engine: Engine, workspace: Path, *, note: str | None = None, beside: bool = False
) -> StoreBinding:
    """Record the workspace the store serves at first use; refuse another workspace.

    A workspace moved or copied with its store is followed: same file name, and either the store
    is the one named after it beside it (``beside``) or the recorded path is gone.
    """
    target = workspace.resolve()
    sessions = sessionmaker(engine, expire_on_commit=False)
    for _attempt in range(2):  # a concurrent first use may insert between our read and write
        try:
            with sessions() as s, s.begin():
                row = s.get(StoreBinding, 1)
                if row is None:
                    row = StoreBinding(id=1, workspace_path=str(target),
                                       workspace_name=target.name, bound_at=datetime.now(UTC),
                                       note=note)
                    s.add(row)
                elif row.workspace_path != str(target):
                    moved = row.workspace_name == target.name and \
                        (beside or not Path(row.workspace_path).exists())
                    if not moved:
                        raise WorkspaceError(
                            f"the application store {shown_url(str(engine.url))} serves the "
                            f"workspace {row.workspace_path}, not {target}: one store holds one "
                            "company's insights, statuses and deliveries. Use this workspace's "
                            f"own store (the default, {default_store_path(target).name} beside "
                            "it: drop --app-db / SALESRADAR_APP_DB) or another --app-db URL"
                        )
                    row.workspace_path = str(target)
                if note is not None:
                    row.note = note
                s.flush()
                s.expunge(row)
                return row
        except IntegrityError:
            continue
    raise WorkspaceError(f"cannot record the workspace of {shown_url(str(engine.url))}")


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


# the shipped migrations' heads; a database at exactly these is up to date (a test checks this
# set against the migrations folder, so a new migration cannot be forgotten here)
HEADS = frozenset({
    "0003", "0004", "0005_token_expiry", "0006_store_workspace", "0007_company_settings",
    "0008_audit_log", "0009_data_in_refresh", "0009_rep_outcomes", "0010_refresh_state",
})


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for the shipped migrations, bound to ``engine``."""
    from alembic.config import Config

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
    if _at_heads(engine):  # the usual case: nothing to migrate, and Alembic is not loaded
        return
    from alembic import command

    try:
        with _UPGRADE_LOCK:  # alembic's migration context is process-global: one at a time
            # "heads": feature areas add their tables as branches off 0001, each its own head
            command.upgrade(alembic_config(engine), "heads")
    except Exception as exc:  # a database we cannot reach or migrate is a workspace problem
        raise WorkspaceError(f"cannot bring the app database up to date: {exc}") from exc


def _at_heads(engine: Engine) -> bool:
    """Whether the database's recorded revisions are exactly the shipped heads (:data:`HEADS`).
    Any doubt (no version table, a database we cannot read) says no: Alembic then decides."""
    try:
        with engine.connect() as con:
            if not inspect(con).has_table("alembic_version"):
                return False
            found = {str(r[0]) for r in con.execute(sql_text(
                "SELECT version_num FROM alembic_version"))}
    except Exception:
        return False
    return found == HEADS


class AppDB:
    """The application database: an engine plus a session factory, schema at head."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, workspace: str | Path | None = None) -> Self:
        """Open (creating and migrating as needed) the database at ``url`` or the default.

        With a ``workspace``, the store is bound to it (and refuses another), and a legacy
        shared store of its folder is adopted first when the default is asked for.
        """
        resolved = database_url(url, workspace)
        if workspace is not None and not url and not os.environ.get(APP_DB_ENV):
            adopt_legacy_store(workspace)
        engine = _engine(resolved)
        try:
            upgrade(engine)
            if workspace is not None:
                beside = resolved == f"sqlite:///{default_store_path(workspace)}"
                _bind(engine, workspace_path(workspace), beside=beside)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def store_info(self) -> StoreInfo:
        """The store's URL (password hidden) and the workspace it records."""
        with self.session() as s:
            row = s.get(StoreBinding, 1)
            return StoreInfo(shown_url(str(self.engine.url)),
                             None if row is None else row.workspace_path,
                             None if row is None else row.note)

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
