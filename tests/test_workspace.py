"""Workspace: canonical tables with declared types, status with date ranges and feature reasons."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helpers import INVOICE_HEADER, write_csv
from salesradar.errors import UserInputError
from salesradar.io import import_file
from salesradar.schema import TABLES
from salesradar.workspace import Workspace, data_day, last_invoice_day


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


def test_the_data_day_is_the_last_invoice_date(ws: Workspace, tmp_path: Path) -> None:
    # no lines yet: no data day, and what needs one says why
    assert last_invoice_day(ws) is None
    with pytest.raises(UserInputError, match="no invoice lines"):
        data_day(ws)
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-05,C1,S1,1,10,5,R1", "B,1,2024-03-09,C1,S1,-1,-10,-5,R1",
    ])
    import_file(ws, "invoice_lines", path)
    # the last line is a return on 09/03/2024: still the last day of the data
    assert data_day(ws) == date(2024, 3, 9)
    # the same from the backend and from the lines table itself
    assert last_invoice_day(ws.backend) == last_invoice_day(ws.table("invoice_lines")) \
        == date(2024, 3, 9)
    # the churn model's default day: from the workspace in plain SQL, from its tables via Ibis
    from salesradar.models.churn import last_invoice_date
    from salesradar.models.features import CustomerTables

    assert last_invoice_date(ws) == last_invoice_date(CustomerTables.from_workspace(ws)) \
        == date(2024, 3, 9)


def test_a_bad_memory_limit_is_the_users_error_on_a_scoped_workspace_too(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesradar.access import Scope, scoped_workspace

    monkeypatch.setenv("SALESRADAR_MEMORY_LIMIT", "lots")
    with pytest.raises(UserInputError, match="SALESRADAR_MEMORY_LIMIT must be a size"):
        scoped_workspace(ws.path, Scope(frozenset({"R01"})))


def test_loaded_tables_are_those_with_a_row_also_through_a_scope(tmp_path: Path) -> None:
    from salesradar.access import Scope, scoped_workspace

    path = tmp_path / "ws.duckdb"
    with Workspace.open(path) as ws:
        assert ws.loaded_tables() == set()  # every canonical table exists, none holds a row
        import_file(ws, "invoice_lines", write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
            "A,1,2024-01-05,C1,S1,1,10,5,R1"]))
        ws.backend.create_table("score_churn", schema={"customer_id": "string"})
        assert ws.loaded_tables() == {"invoice_lines"}
        ws.con.execute("INSERT INTO score_churn VALUES ('C1')")
        assert ws.loaded_tables() == {"invoice_lines", "score_churn"}
    with scoped_workspace(path, Scope(frozenset({"R1"}))) as own:
        assert own.loaded_tables() == {"invoice_lines", "score_churn"}
    with scoped_workspace(path, Scope(frozenset({"R2"}))) as other:
        assert other.loaded_tables() == set()  # the views exist, but show none of R1's rows


def test_the_models_run_with_duckdbs_limit_lowered_by_their_reserve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the models run, DuckDB's limit leaves them 1.2 GB of the memory limit (at least
    half of it stays DuckDB's), on every cursor, and is restored after, also on an error."""
    from salesradar.engine import memory_for_models, open_duckdb

    def limit(con: Any) -> str:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])

    monkeypatch.setenv("SALESRADAR_MEMORY_LIMIT", "4GiB")
    con = open_duckdb(tmp_path / "ws.duckdb")
    assert limit(con) == "4.0 GiB"
    with memory_for_models(con):
        # 4 GiB - 1.2 GB = 3,094,967,296 bytes = 2.88 GiB
        assert limit(con) == limit(con.cursor()) == "2.8 GiB"
    assert limit(con) == "4.0 GiB"
    monkeypatch.setenv("SALESRADAR_MEMORY_LIMIT", "2GiB")  # half of 2 GiB stays DuckDB's
    con.execute("SET memory_limit = '2GiB'")
    with pytest.raises(RuntimeError, match="boom"), memory_for_models(con):
        assert limit(con) == "1.0 GiB"
        raise RuntimeError("boom")
    assert limit(con) == "2.0 GiB"
    con.close()


def test_an_arrow_table_is_written_with_the_types_and_values_ibis_gives() -> None:
    """write_arrow replaces a table with an Arrow table as Ibis's create_table does: the same
    column types (lists, dates, nulls) and values, in the same order."""
    import datetime as dt

    import pyarrow as pa

    table = pa.table({
        "customer_id": ["C2", "C1", None],
        "as_of": pa.array([dt.date(2026, 1, 2)] * 3, pa.date32()),
        "p": [0.25, None, 1.0],
        "reasons": pa.array([["a", "ב"], [], None], pa.list_(pa.string())),
        "n": pa.array([1, 2, None], pa.int64()),
    })
    with Workspace.open(":memory:") as ws:
        ws.backend.create_table("by_ibis", table, overwrite=True)
        ws.write_arrow("written", pa.table({"x": [1]}))
        ws.write_arrow("written", table)  # replaced
        described = [ws.con.execute(f"DESCRIBE {t}").fetchall() for t in ("by_ibis", "written")]
        rows = [ws.con.execute(f"FROM {t}").fetchall() for t in ("by_ibis", "written")]
    assert described[0] == described[1]
    assert rows[0] == rows[1] == [
        ("C2", dt.date(2026, 1, 2), 0.25, ["a", "ב"], 1), ("C1", dt.date(2026, 1, 2), None, [], 2),
        (None, dt.date(2026, 1, 2), 1.0, None, None)]
