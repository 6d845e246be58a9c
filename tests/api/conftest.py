"""The served demo company (shared with tests/web)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from web.web_helpers import Site, close_clients, demo_site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return demo_site(tmp_path_factory)


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every HTTP client a test opened (an open socket is a ResourceWarning, an error)."""
    yield
    close_clients()
