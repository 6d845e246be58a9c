"""On the demo company every KPI returns values, through the same call the CLI makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salesradar.demo import generate
from salesradar.io.folder import import_folder
from salesradar.metrics import compute_kpi, kpi_records, list_kpis
from salesradar.workspace import Workspace

# (dimensions, period) that suit each kind of KPI; every KPI supports the company total
PERIOD_FOR = {"concentration_top1": "quarter", "concentration_top3": "quarter",
              "concentration_top5": "quarter", "hhi": "quarter"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder: Path = tmp_path_factory.mktemp("demo")
    generate(folder / "data", customers=200, years=2, seed=11)
    with Workspace.open(folder / "ws.duckdb") as ws:
        import_folder(ws, folder / "data")
        yield ws


@pytest.mark.parametrize("name", [k.name for k in list_kpis()])
def test_every_kpi_returns_values_on_the_demo(demo: Workspace, name: str) -> None:
    period = PERIOD_FOR.get(name, "month")
    info = next(k for k in list_kpis() if k.name == name)
    if period not in info.periods:
        period = info.periods[0] if info.periods else None
    rows = kpi_records(compute_kpi(demo.backend, name, period=period))
    values = [r["value"] for r in rows if r["value"] is not None]
    assert values, f"{name} has no value on the demo workspace"
