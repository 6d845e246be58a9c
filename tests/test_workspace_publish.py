"""Writers build the next workspace beside the served one and publish it atomically
(salesradar.workspace.writing): readers never wait and never see half a write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from salesradar.errors import UserInputError, WorkspaceError
from salesradar.workspace import (
    KILL_ENV,
    WAIT_ENV,
    open_served,
    staging_path,
    write_wait,
    writer_lock,
    writing,
)


def count(path: Path) -> int:
    """Rows of the test table, read the way `serve` reads: a read-only open."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM t").fetchone()
        return int(row[0]) if row else -1
    finally:
        con.close()


@pytest.fixture
def served(tmp_path: Path) -> Path:
    path = tmp_path / "acme.duckdb"
    with writing(path) as ws:
        ws.con.execute("CREATE TABLE t (x INTEGER)")
    return path


def test_readers_see_the_old_file_until_the_publish_and_the_new_one_after(served: Path) -> None:
    reader = duckdb.connect(str(served), read_only=True)  # a request under way
    inode = served.stat().st_ino
    try:
        with writing(served) as ws:
            ws.con.execute("INSERT INTO t VALUES (1), (2)")
            assert ws.path == str(staging_path(served))
            assert ws.published == str(served)
            assert ws.status().path == str(served)
            assert count(served) == 0  # a new request meanwhile: the served data, no waiting
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # reads its file
    finally:
        reader.close()
    assert count(served) == 2
    assert served.stat().st_ino != inode
    assert sorted(p.name for p in served.parent.iterdir()) == [
        "acme.duckdb", "acme.duckdb.copy.lock", "acme.duckdb.lock"]


def test_a_failed_write_publishes_nothing_and_leaves_no_copy(served: Path) -> None:
    inode = served.stat().st_ino
    with pytest.raises(RuntimeError, match="boom"), writing(served) as ws:
        ws.con.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    assert count(served) == 0
    assert served.stat().st_ino == inode
    assert not staging_path(served).exists()


KILLED_WRITER = """
import sys
from salesradar.workspace import writing
with writing(sys.argv[1]) as ws:
    ws.con.execute("INSERT INTO t VALUES (1)")
"""


def test_a_killed_writer_leaves_the_served_file_and_the_next_writer_cleans_up(
    served: Path,
) -> None:
    (served.parent / "acme.duckdb.models").mkdir()
    (served.parent / "acme.duckdb.models" / "latest.json").write_text("{}")
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(served)],
                            env={**os.environ, KILL_ENV: "publishing"}, check=False,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr  # SIGKILL just before the publish
    assert staging_path(served).exists()
    assert count(served) == 0
    with writing(served) as ws:
        ws.con.execute("INSERT INTO t VALUES (7)")
    assert count(served) == 1
    assert sorted(p.name for p in served.parent.iterdir()) == [
        "acme.duckdb", "acme.duckdb.copy.lock", "acme.duckdb.lock", "acme.duckdb.models"]


def test_the_models_folder_is_published_with_the_data(served: Path) -> None:
    models = served.parent / "acme.duckdb.models"
    models.mkdir()
    (models / "latest.json").write_text("old")
    with writing(served) as ws:
        mine = Path(ws.path + ".models")  # where salesradar.models.store saves for this copy
        assert (mine / "latest.json").read_text() == "old"
        (mine / "latest.json").write_text("new")
        assert (models / "latest.json").read_text() == "old"
    assert (models / "latest.json").read_text() == "new"
    assert not Path(str(staging_path(served)) + ".models").exists()


def test_a_second_writer_waits_then_says_another_one_writes(served: Path) -> None:
    held = rf"another salesradar process \(pid {os.getpid()} since .*\) is writing"
    with writer_lock(served), pytest.raises(WorkspaceError, match=held), writing(served, wait=0):
        pass
    assert not staging_path(served).exists()


def test_no_copy_is_taken_while_a_command_has_the_served_file_open(served: Path) -> None:
    ws = open_served(served)  # what the CLI's reading commands open
    try:
        with pytest.raises(WorkspaceError, match=r"a salesradar command .* has the workspace"), \
                writing(served, wait=0):
            pass
    finally:
        ws.close()
    with writing(served, wait=0) as ws:  # closed: the lock went with it
        ws.con.execute("INSERT INTO t VALUES (1)")
    assert count(served) == 1


def test_a_write_ahead_log_left_beside_the_served_file_is_folded_in(served: Path) -> None:
    # a direct writer of an older version that died leaves its last changes in the WAL
    script = ("import duckdb, os, sys; con = duckdb.connect(sys.argv[1]); "
              "con.execute('INSERT INTO t VALUES (5)'); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(served)], check=True, timeout=60)
    wal = served.with_name(served.name + ".wal")
    assert wal.exists()
    with writing(served) as ws:
        assert ws.row_count("t") == 1
        ws.con.execute("INSERT INTO t VALUES (6)")
    assert not wal.exists()
    assert count(served) == 2


def test_a_new_workspace_appears_whole(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with writing(path) as ws:
        ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no) VALUES ('I1', 1)")
        assert not path.exists()
    assert path.exists()


def test_the_copy_is_not_counted_as_a_workspace_of_the_folder(served: Path) -> None:
    assert not staging_path(served).name.endswith(".duckdb")  # app.db globs *.duckdb


def test_the_wait_is_a_number_of_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WAIT_ENV, "2.5")
    assert write_wait() == 2.5
    monkeypatch.setenv(WAIT_ENV, "soon")
    with pytest.raises(UserInputError, match="SALESRADAR_WRITE_WAIT must be a number"):
        write_wait()
