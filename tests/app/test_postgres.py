"""The same migrations and store on a real PostgreSQL server (``pgserver``, a Unix socket)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helpers import postgres_server
from insights.insight_helpers import T0, make_insight
from salesradar.app import AppDB, Base
from salesradar.insights import InsightStore, StoreSettings


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server("salesradar-app-pg-") as server:
        server.psql("CREATE DATABASE salesradar_app_test;")
        uri = server.get_uri("salesradar_app_test")
        yield uri.replace("postgresql://", "postgresql+psycopg://", 1)


def test_migrations_and_store_on_postgres(pg_url: str) -> None:
    with AppDB.open(pg_url) as db:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        store = InsightStore(db, StoreSettings(holdout_fraction=0))
        assert store.upsert_many([make_insight("C-1")], T0).new == 1
        (insight,) = store.list_insights()
        store.snooze(insight.id, T0 + timedelta(days=2), T0)
        assert store.upsert_many([make_insight("C-1")], T0 + timedelta(days=2)).reopened == 1
        assert store.get(insight.id).first_seen_at == T0  # aware UTC back from PostgreSQL
