"""A repeated KPI request on an unchanged workspace reads its mart; an import makes it recompute.

Freshness is tracked in DuckDB workspaces only (they keep the import log), so this runs there.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.io.importer import import_file
from salesradar.metrics import compute_kpi
from salesradar.metrics.flags import KpiSettings
from salesradar.workspace import Workspace

HEADER = "invoice_id,line_no,invoice_date,customer_id,sku,quantity,net_revenue,cost,rep_id"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _march(ws: Workspace, **kw: Any) -> float:
    table = compute_kpi(ws.backend, "revenue", ("rep",), "month", **kw)
    rows = [r for r in table.to_pylist() if r["period"] == date(2024, 3, 1)]
    return float(rows[0]["value"])


def test_fresh_mart_is_read_and_an_import_makes_it_stale(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        import_file(ws, "invoice_lines", _csv(tmp_path / "a.csv",
                                              "I1,1,2024-03-04,c1,s1,1,100,60,r1"))
        assert _march(ws) == 100.0
        # Tamper with the stored mart: a second identical request must read it, not recompute.
        ws.con.execute("UPDATE mart_revenue_month_rep SET value = 42")
        assert _march(ws) == 42.0
        # another request (other thresholds, other range) recomputes, and rewrites the mart
        assert _march(ws, settings=KpiSettings(coverage_min=2.0)) == 100.0
        ws.con.execute("UPDATE mart_revenue_month_rep SET value = 42")
        assert _march(ws, start=date(2024, 3, 1)) == 100.0
        ws.con.execute("UPDATE mart_revenue_month_rep SET value = 42")
        # an import changes the data stamp: 100 + 50
        import_file(ws, "invoice_lines", _csv(tmp_path / "b.csv",
                                              "I2,1,2024-03-05,c2,s1,1,50,30,r1"))
        assert _march(ws, start=date(2024, 3, 1)) == 150.0


def test_a_reimport_that_changes_nothing_keeps_the_mart_and_the_data_version(
    tmp_path: Path,
) -> None:
    from salesradar.models.store import data_version

    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        first = _csv(tmp_path / "a.csv", "I1,1,2024-03-04,c1,s1,1,100,60,r1")
        import_file(ws, "invoice_lines", first)
        assert _march(ws) == 100.0
        version = data_version(ws)
        ws.con.execute("UPDATE mart_revenue_month_rep SET value = 42")
        report = import_file(ws, "invoice_lines", first)  # the same file again: logged, no write
        assert (report.inserted, report.updated, report.unchanged) == (0, 0, 1)
        logged = ws.con.execute("SELECT count(*), count(*) FILTER (WHERE changed) "
                                "FROM _salesradar_imports").fetchone()
        assert logged == (2, 1)
        assert data_version(ws) == version
        assert _march(ws) == 42.0  # the mart is still fresh: nothing to recompute
        # a changed line is a change: 100 -> 70
        import_file(ws, "invoice_lines", _csv(tmp_path / "b.csv",
                                              "I1,1,2024-03-04,c1,s1,1,70,60,r1"))
        assert data_version(ws) != version
        assert _march(ws) == 70.0


def test_not_persisted_always_computes(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        import_file(ws, "invoice_lines", _csv(tmp_path / "a.csv",
                                              "I1,1,2024-03-04,c1,s1,1,100,60,r1"))
        assert _march(ws) == 100.0
        ws.con.execute("UPDATE mart_revenue_month_rep SET value = 42")
        assert _march(ws, persist=False) == 100.0


def test_a_fresh_mart_lists_the_tables_once_and_builds_no_expression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesradar.metrics import compute

    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        import_file(ws, "invoice_lines", _csv(tmp_path / "a.csv",
                                              "I1,1,2024-03-04,c1,s1,1,100,60,r1"))
        calls: list[str] = []

        def listing(backend: Any) -> set[str]:
            calls.append("table_names")
            return table_names(backend)

        monkeypatch.setattr(compute, "table_names", listing)
        assert _march(ws) == 100.0  # computed and written: one listing
        assert calls == ["table_names"]

        def no_expression(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a fresh mart needs no expression")

        monkeypatch.setattr(compute, "kpi_expr", no_expression)
        assert _march(ws) == 100.0
        assert calls == ["table_names", "table_names"]
        # a bad request is still refused before the mart is looked at
        with pytest.raises(UserInputError):
            compute_kpi(ws.backend, "revenue", ("rep",), "fortnight")
