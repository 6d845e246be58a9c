"""The served demo company (shared with tests/web), and the warnings allowed here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.web_helpers import Site, close_clients, demo_site

# ibis 12 calls DuckDB's fetch_arrow_table, deprecated in duckdb 1.5 (fixed in later ibis); the
# app's server thread runs those queries while a test waits for its answer
FETCH_WARNING = r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings(FETCH_WARNING))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return demo_site(tmp_path_factory)


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every HTTP client a test opened (an open socket is a ResourceWarning, an error)."""
    yield
    close_clients()
