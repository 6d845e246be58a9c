"""The commitment tests run KPIs on an in-memory DuckDB through Ibis, as the KPI tests do."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.conftest import ALLOWED_WARNINGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for rule in ALLOWED_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(rule))
