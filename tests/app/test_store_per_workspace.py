"""One application store per workspace: named after it, bound to it, old shared stores adopted."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from insights.insight_helpers import T0, make_insight
from salesradar.app import AppDB, OutboxRow
from salesradar.app.db import (
    APP_DB_ENV,
    LEGACY_APP_DB,
    StoreBinding,
    database_url,
    default_store_path,
)
from salesradar.errors import WorkspaceError
from salesradar.insights import InsightStore, StoreSettings
from salesradar.workspace import Workspace


@pytest.fixture(autouse=True)
def _no_env_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(APP_DB_ENV, raising=False)
    yield


def workspace(folder: Path, name: str) -> Path:
    """A real (empty) DuckDB workspace file."""
    path = folder / name
    with Workspace.open(path):
        pass
    return path


def record_company(db: AppDB, customers: list[str]) -> InsightStore:
    """One run's insights, a snooze of the first and a queued delivery of the second."""
    store = InsightStore(db, StoreSettings(holdout_fraction=0))
    store.upsert_many([make_insight(c) for c in customers], T0)
    first, second = sorted(store.list_insights(), key=lambda i: i.id)[:2]
    store.snooze(first.id, T0 + timedelta(days=7), T0)
    with db.session() as s:
        s.add(OutboxRow(message_key=f"insight:{second.id}:r1", channel="email", recipient="r1",
                        insight_id=second.id, insight_ids={"ids": [second.id]}, kind="push",
                        status="sent", attempts=1, created_at=T0, next_attempt_at=T0,
                        sent_at=T0))
    return store


def company_state(db: AppDB) -> tuple[list[tuple[str, str]], list[str]]:
    """(subject, status) of every insight, and every delivered message's subject."""
    store = InsightStore(db)
    insights = sorted((i.subject_id, str(i.status)) for i in store.list_insights())
    with db.session() as s:
        sent = [store.get(r.insight_id).subject_id for r in s.query(OutboxRow) if r.insight_id]
    return insights, sent


def test_the_default_store_is_named_after_the_workspace(tmp_path: Path) -> None:
    assert default_store_path(tmp_path / "uci1.duckdb") == tmp_path.resolve() / "uci1.app.sqlite"
    assert database_url(workspace=tmp_path / "cm.duckdb") == \
        f"sqlite:///{tmp_path.resolve() / 'cm.app.sqlite'}"


def test_two_workspaces_in_one_folder_keep_their_own_insights(tmp_path: Path) -> None:
    uci1, cm = workspace(tmp_path, "uci1.duckdb"), workspace(tmp_path, "cm.duckdb")
    with AppDB.open(workspace=uci1) as db:
        record_company(db, ["U-1", "U-2", "U-3"])
    with AppDB.open(workspace=cm) as db:
        store = record_company(db, ["M-1", "M-2"])
        # the second company's run resolves nothing of the first's
        assert store.upsert_many([make_insight("M-1"), make_insight("M-2")],
                                 T0 + timedelta(days=1)).resolved == 0
    with AppDB.open(workspace=uci1) as db:
        assert company_state(db) == ([("U-1", "snoozed"), ("U-2", "new"), ("U-3", "new")],
                                     ["U-2"])
        assert db.store_info().workspace == str(uci1.resolve())
    with AppDB.open(workspace=cm) as db:
        assert company_state(db) == ([("M-1", "snoozed"), ("M-2", "new")], ["M-2"])
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == ["cm.app.sqlite",
                                                                "uci1.app.sqlite"]


def test_a_store_refuses_another_workspace(tmp_path: Path) -> None:
    uci1, cm = workspace(tmp_path, "uci1.duckdb"), workspace(tmp_path, "cm.duckdb")
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    AppDB.open(url, workspace=uci1).close()
    with pytest.raises(WorkspaceError, match=r"serves the workspace .*uci1\.duckdb, not .*cm"):
        AppDB.open(url, workspace=cm)
    AppDB.open(url, workspace=uci1).close()  # its own workspace still opens it


def test_a_workspace_moved_with_its_store_keeps_it(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    with AppDB.open(workspace=workspace(old, "uci1.duckdb")) as db:
        record_company(db, ["U-1", "U-2"])
    old.rename(new)
    with AppDB.open(workspace=new / "uci1.duckdb") as db:
        assert db.store_info().workspace == str((new / "uci1.duckdb").resolve())
        assert len(company_state(db)[0]) == 2


def test_a_workspace_copied_with_its_store_keeps_it(tmp_path: Path) -> None:
    with AppDB.open(workspace=workspace(tmp_path, "uci1.duckdb")) as db:
        record_company(db, ["U-1", "U-2"])
    (tmp_path / "copy").mkdir()
    for name in ("uci1.duckdb", "uci1.app.sqlite"):
        shutil.copy2(tmp_path / name, tmp_path / "copy" / name)
    with AppDB.open(workspace=tmp_path / "copy" / "uci1.duckdb") as db:
        assert len(company_state(db)[0]) == 2
    # but the copy's store, named explicitly, still refuses the original workspace's twin
    with pytest.raises(WorkspaceError, match="serves the workspace"):
        AppDB.open(f"sqlite:///{tmp_path / 'copy' / 'uci1.app.sqlite'}",
                   workspace=tmp_path / "uci1.duckdb")


def legacy_store(folder: Path, customers: list[str]) -> Path:
    """A shared store as versions before issue 13 left it (no record of its workspace)."""
    path = folder / LEGACY_APP_DB
    with AppDB.open(f"sqlite:///{path}") as db:
        record_company(db, customers)
    return path


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    con.close()
    return counts


def test_a_legacy_store_beside_one_workspace_is_adopted_without_loss(tmp_path: Path) -> None:
    legacy = legacy_store(tmp_path, ["U-1", "U-2", "U-3"])
    before = table_counts(legacy)
    assert (before["insights"], before["outbox"]) == (3, 1)
    uci1 = workspace(tmp_path, "uci1.duckdb")
    with AppDB.open(workspace=uci1) as db:
        assert company_state(db) == ([("U-1", "snoozed"), ("U-2", "new"), ("U-3", "new")],
                                     ["U-2"])
        info = db.store_info()
        assert info.url.endswith("uci1.app.sqlite") and info.note is not None
        assert "adopted from" in info.note
    # the legacy file keeps every row, and now records where it went
    after = table_counts(legacy)
    assert {k: v for k, v in after.items() if k != "store_workspace"} == \
        {k: v for k, v in before.items() if k != "store_workspace"}
    # a second workspace created later does not reuse it: it starts a store of its own
    with AppDB.open(workspace=workspace(tmp_path, "cm.duckdb")) as db:
        assert company_state(db) == ([], [])


def test_a_legacy_store_shared_by_two_workspaces_is_never_guessed(tmp_path: Path) -> None:
    legacy = legacy_store(tmp_path, ["U-1", "M-1"])
    uci1, cm = workspace(tmp_path, "uci1.duckdb"), workspace(tmp_path, "cm.duckdb")
    before = table_counts(legacy)
    with pytest.raises(WorkspaceError, match="cannot be told apart") as caught:
        AppDB.open(workspace=cm)
    assert "--app-db" in str(caught.value) and "uci1.duckdb" in str(caught.value)
    assert not default_store_path(cm).exists()
    # the user says whose it is: opened once for uci1 explicitly, it is bound to uci1...
    AppDB.open(f"sqlite:///{legacy}", workspace=uci1).close()
    with AppDB.open(workspace=uci1) as db:  # ...adopted by uci1's default...
        assert len(company_state(db)[0]) == 2
        assert "adopted from" in (db.store_info().note or "")
    with AppDB.open(workspace=cm) as db:  # ...and cm starts its own
        assert company_state(db) == ([], [])
    after = table_counts(legacy)
    assert {k: v for k, v in after.items() if k != "store_workspace"} == \
        {k: v for k, v in before.items() if k != "store_workspace"}


def test_an_empty_legacy_store_is_simply_left_alone(tmp_path: Path) -> None:
    AppDB.open(f"sqlite:///{tmp_path / LEGACY_APP_DB}").close()
    workspace(tmp_path, "other.duckdb")
    with AppDB.open(workspace=workspace(tmp_path, "uci1.duckdb")) as db:
        assert db.store_info().note is None


def test_time_is_recorded_in_utc(tmp_path: Path) -> None:
    with AppDB.open(workspace=workspace(tmp_path, "uci1.duckdb")) as db, db.session() as s:
        row = s.get(StoreBinding, 1)
        assert row is not None and row.bound_at.tzinfo == UTC
        assert row.bound_at <= datetime.now(UTC)
