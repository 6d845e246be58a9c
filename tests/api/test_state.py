"""The web app's result cache: bounded, a failed computation leaves nothing behind, and a busy
workspace answers with the last result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salesradar.access import EVERYTHING
from salesradar.api.state import CACHE_ENTRIES, AppState
from salesradar.app.db import AppDB
from salesradar.errors import WorkspaceError


@pytest.fixture
def st(tmp_path: Path) -> Iterator[AppState]:
    db = AppDB.open("sqlite://")
    yield AppState(tmp_path / "salesradar.duckdb", db)
    db.close()


def test_the_last_results_are_bounded_with_the_cache(st: AppState) -> None:
    for n in range(2 * CACHE_ENTRIES):  # names embed request parameters: many distinct ones
        st.cached(f"pacing:{n}", EVERYTHING, lambda: "result")
    assert len(st._cache) == CACHE_ENTRIES
    assert len(st._latest) == CACHE_ENTRIES
    assert set(st._latest.values()) <= set(st._cache)


def test_a_failed_computation_leaves_no_lock_behind(st: AppState) -> None:
    def broken() -> int:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        st.cached("broken", EVERYTHING, broken)
    with pytest.raises(WorkspaceError):
        st.cached("busy", EVERYTHING, _busy)
    assert st._computing == {}
    assert st.cached("broken", EVERYTHING, lambda: 7) == 7


def _busy() -> int:
    raise WorkspaceError("a run holds the workspace")


def test_a_busy_workspace_answers_with_the_last_result(st: AppState) -> None:
    assert st.cached("dashboard", EVERYTHING, lambda: 1) == 1
    st.workspace.write_bytes(b"new data")  # a new version
    assert st.cached("dashboard", EVERYTHING, _busy) == 1
    assert st.cached("dashboard", EVERYTHING, lambda: 2) == 2
    st.workspace.write_bytes(b"newer data")
    assert st.cached("dashboard", EVERYTHING, _busy) == 2
