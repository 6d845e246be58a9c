"""The shipped migrations create exactly the schema the ORM models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from salesradar.app import AppDB, Base, database_url, upgrade
from salesradar.app.db import APP_DB_ENV, alembic_config


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    db = AppDB.open(f"sqlite:///{tmp_path / 'app.sqlite'}")
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    db.close()


def test_upgrade_is_idempotent_and_records_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    upgrade(url)
    upgrade(url)
    with AppDB.open(url) as db, db.engine.connect() as conn:
        heads = ScriptDirectory.from_config(alembic_config(db.engine)).get_heads()
        assert set(MigrationContext.configure(conn).get_current_heads()) == set(heads)
        assert set(inspect(conn).get_table_names()) >= {
            "insights", "insight_events", "outbox", "holdout_assignments", "team_settings",
        }


def test_default_url_is_next_to_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(APP_DB_ENV, raising=False)
    url = database_url(workspace=tmp_path / "ws.duckdb")
    assert url == f"sqlite:///{tmp_path.resolve() / 'ws.app.sqlite'}"
    monkeypatch.setenv(APP_DB_ENV, "postgresql://u@h/db")
    assert database_url(workspace=tmp_path / "ws.duckdb") == "postgresql://u@h/db"
    assert database_url("sqlite://") == "sqlite://"


def test_team_settings_round_trip() -> None:
    with AppDB.open("sqlite://") as db:
        assert db.team_settings("north").operating_model == "centre"
        db.set_team_settings("north", operating_model="account", daily_limit_per_rep=3)
        settings = db.team_settings("north")
        assert (settings.operating_model, settings.daily_limit_per_rep) == ("account", 3)
        with pytest.raises(ValueError, match="operating_model"):
            db.set_team_settings("north", operating_model="sprint")


def test_the_shipped_heads_are_the_migrations_heads_and_an_old_database_still_migrates(
    tmp_path: Path,
) -> None:
    """Opening a database at the shipped heads skips Alembic (HEADS); the set must be the
    migrations folder's heads, and a database one migration behind is still brought up."""
    from alembic import command

    from salesradar.app.db import HEADS, _at_heads, _engine

    engine = _engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    assert set(ScriptDirectory.from_config(alembic_config(engine)).get_heads()) == HEADS
    assert not _at_heads(engine)  # a new database: no version table yet
    upgrade(engine)
    assert _at_heads(engine)
    command.downgrade(alembic_config(engine), "0010_refresh_state@-1")
    assert not _at_heads(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == HEADS
        assert "refresh_state" in inspect(conn).get_table_names()
