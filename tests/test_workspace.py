"""Workspace: canonical tables with declared types, status with date ranges and feature reasons."""

from __future__ import annotations

from pathlib import Path

from helpers import INVOICE_HEADER, write_csv
from salesradar.io import import_file
from salesradar.schema import TABLES
from salesradar.workspace import Workspace


def test_new_workspace_has_every_canonical_table_with_declared_types(ws: Workspace) -> None:
    for spec in TABLES.values():
        schema = ws.con.execute(f'DESCRIBE "{spec.name}"').fetchall()
        assert [(r[0], r[1]) for r in schema] == [(c.name, c.storage_type) for c in spec.columns]


def test_status_reports_rows_dates_and_why_features_are_off(
    ws: Workspace, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-05,C1,S1,1,10,5,R1", "B,1,2024-03-09,C1,S1,1,10,5,R1",
    ])
    import_file(ws, "invoice_lines", path)
    status = ws.status().to_dict()
    lines = next(t for t in status["tables"] if t["table"] == "invoice_lines")
    assert (lines["rows"], lines["first"], lines["last"]) == (2, "2024-01-05", "2024-03-09")
    features = {f["feature"]: f for f in status["features"]}
    assert features["sales KPIs"]["on"] is True
    assert features["pipeline KPIs"]["reason"] == "off: no `deals` table"
    assert features["lead response (centre model)"]["reason"] == \
        "off: no `leads`, `activities` tables"
    assert status["imports"] == 1


def test_workspace_persists_across_opens(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, ["A,1,2024-01-05,C1,S1,1,10,5,R1"])
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        import_file(ws, "invoice_lines", path)
    with Workspace.open(tmp_path / "w.duckdb", read_only=True) as again:
        assert again.table("invoice_lines").count().execute() == 1
