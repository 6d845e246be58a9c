"""Shared fixtures: a fresh workspace per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salesradar.workspace import Workspace

# the served demo company of the API and page tests (fixtures `site`, `_close_clients`)
pytest_plugins = ("web.web_helpers",)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A new workspace file in the test's temporary folder."""
    with Workspace.open(tmp_path / "ws.duckdb") as workspace:
        yield workspace
