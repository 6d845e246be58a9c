"""Warnings allowed in the account tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# ibis 12 calls DuckDB's fetch_arrow_table, deprecated in duckdb 1.5 (fixed in later ibis)
FETCH_WARNING = r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings(FETCH_WARNING))
