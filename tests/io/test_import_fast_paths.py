"""The importer's shortcuts give what the long way gives: the first import of a table takes the
typed table's place (nothing copied), a key check skips its grouping when no key repeats, and an
upsert joins the file to the table once. Expected values are written out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import INVOICE_HEADER, write_csv
from salesradar.errors import ImportRejected
from salesradar.io import Mapping, import_file, importer
from salesradar.schema import ColumnType
from salesradar.schema.tables import TABLES, Column
from salesradar.workspace import Workspace


class Recorder:
    """The workspace's connection, recording every statement it runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.statements: list[str] = []

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


@pytest.fixture
def recorded(ws: Workspace) -> Iterator[Recorder]:
    recorder = Recorder(ws.con)
    ws._con = recorder  # type: ignore[assignment]  # the importer reads ws.con
    yield recorder
    ws._con = recorder.con


def columns_of(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[Any, ...]]:
    return con.execute(f'DESCRIBE "{name}"').fetchall()


def user_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


SAMPLE: dict[ColumnType, str] = {
    ColumnType.ID: "X1",
    ColumnType.TEXT: "some text",
    ColumnType.DATE: "2024-01-02",
    ColumnType.TIMESTAMP: "2024-01-02 03:04:05",
    ColumnType.PERIOD: "2024-03",
    ColumnType.MONEY: "12.5",
    ColumnType.NUMBER: "1.5",
    ColumnType.INTEGER: "3",
    ColumnType.BOOLEAN: "yes",
}


def sample(column: Column) -> str:
    if column.type is ColumnType.ENUM:
        return column.values[0]
    return SAMPLE[column.type]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_first_import_of_every_table_keeps_its_declared_columns(
    name: str, tmp_path: Path
) -> None:
    spec = TABLES[name]
    path = write_csv(tmp_path / f"{name}.csv", ",".join(spec.column_names),
                     [",".join(sample(c) for c in spec.columns)])
    with Workspace.open(tmp_path / "fresh.duckdb") as fresh:
        declared = columns_of(fresh.con, name)  # what the DDL alone creates
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        recorder = Recorder(ws.con)
        ws._con = recorder  # type: ignore[assignment]
        report = import_file(ws, name, path)
        ws._con = recorder.con
        assert columns_of(ws.con, name) == declared
        assert report.inserted == 1
        assert ws.con.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (1,)
        # the typed table took the empty table's place: no row was copied
        assert not [s for s in recorder.statements if s.startswith(f'INSERT INTO "{name}"')]
        assert importer.TYPED_TABLE not in user_tables(ws.con)


def test_first_import_values_are_the_converted_file(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER + ",channel", [
        " A ,1,05/02/2024,17850.0,S1,2,\"1,234.50\",7.25,R1,web",
        "A,2,06/02/2024,C2,S2,-1,(3),1-,,",
    ])
    report = import_file(ws, "invoice_lines", path)
    assert (report.rows_read, report.inserted, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert ws.con.execute(
        "SELECT invoice_id, line_no, invoice_date, customer_id, sku, quantity, net_revenue, "
        "cost, rep_id, channel, description FROM invoice_lines ORDER BY line_no"
    ).fetchall() == [
        ("A", 1, dt.date(2024, 2, 5), "17850", "S1", 2.0, Decimal("1234.5000"),
         Decimal("7.2500"), "R1", "web", None),
        ("A", 2, dt.date(2024, 2, 6), "C2", "S2", -1.0, Decimal("-3.0000"),
         Decimal("-1.0000"), None, None, None),
    ]


def test_rejected_first_import_leaves_no_trace(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,1,10,5,R1", "A,2,2024-01-01,C1,S1,1,oops,5,R1",
    ])
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(ImportRejected):
            import_file(ws, "invoice_lines", bad)
        assert ws.con.execute("SELECT count(*) FROM invoice_lines").fetchone() == (0,)
        assert ws.con.execute("SELECT count(*) FROM _salesradar_imports").fetchone() == (0,)
        assert importer.TYPED_TABLE not in user_tables(ws.con)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:  # nothing half-written on disk either
        assert importer.TYPED_TABLE not in user_tables(ws.con)
        good = write_csv(tmp_path / "good.csv", INVOICE_HEADER, [
            "A,1,2024-01-01,C1,S1,1,10,5,R1", "A,2,2024-01-01,C1,S1,1,11,5,R1",
        ])
        assert import_file(ws, "invoice_lines", good).inserted == 2
        assert ws.con.execute("SELECT sum(net_revenue) FROM invoice_lines").fetchone() == (
            Decimal("21.0000"),)


def test_a_typed_column_unlike_the_table_is_inserted_and_converted(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = importer._build_typed

    def build_with_text_quantity(con: Any, *args: Any, **kwargs: Any) -> Any:
        result = build(con, *args, **kwargs)
        con.execute(f"ALTER TABLE {importer.TYPED_TABLE} ALTER quantity TYPE VARCHAR")
        return result

    monkeypatch.setattr(importer, "_build_typed", build_with_text_quantity)
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,2.5,10,5,R1", "B,1,2024-01-02,C1,S1,-1,-3,-1,R1",
    ])
    assert import_file(ws, "invoice_lines", path).inserted == 2
    assert columns_of(ws.con, "invoice_lines")[5][:2] == ("quantity", "DOUBLE")
    assert ws.con.execute(
        "SELECT invoice_id, quantity FROM invoice_lines ORDER BY 1").fetchall() == [
        ("A", 2.5), ("B", -1.0)]


def test_repeated_keys_are_found_when_some_key_values_are_empty(
    ws: Workspace, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,1,10,5,R1", ",1,2024-01-01,C1,S1,1,10,5,R1",
        ",1,2024-01-01,C1,S1,1,10,5,R1",
    ])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    duplicates = [i for i in caught.value.issues if i.reason == "duplicate key"]
    assert [(i.row, i.value) for i in duplicates] == [
        (None, None), (4, "invoice_id=None, line_no=1; rows 3, 4")]
    assert duplicates[0].count == 1


def test_generated_line_numbers_never_repeat_a_key(ws: Workspace, tmp_path: Path) -> None:
    header = INVOICE_HEADER.replace("line_no,", "")
    path = write_csv(tmp_path / "l.csv", header, [
        "A,2024-01-01,C1,S1,1,10,5,R1", "B,2024-01-01,C1,S1,1,10,5,R1",
        "A,2024-01-01,C1,S2,1,10,5,R1", ",2024-01-01,C1,S1,1,10,5,R1",
        ",2024-01-01,C1,S2,1,10,5,R1",
    ])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    reasons = {i.reason for i in caught.value.issues if i.severity == "error"}
    assert reasons == {"required value is empty"}  # the empty invoice ids; no duplicate key


def test_upsert_of_new_lines_only_deletes_nothing(
    ws: Workspace, recorded: Recorder, tmp_path: Path
) -> None:
    first = ["A,1,2024-01-01,C1,S1,1,10,5,R1", "A,2,2024-01-01,C1,S2,1,11,5,R1"]
    import_file(ws, "invoice_lines", write_csv(tmp_path / "a.csv", INVOICE_HEADER, first))
    recorded.statements.clear()
    report = import_file(ws, "invoice_lines", write_csv(
        tmp_path / "b.csv", INVOICE_HEADER, [*first, "B,1,2024-01-02,C1,S1,1,7,5,R1"]))
    assert (report.inserted, report.updated, report.unchanged) == (1, 0, 2)
    assert not [s for s in recorded.statements if s.startswith("DELETE")]
    report = import_file(ws, "invoice_lines", write_csv(
        tmp_path / "c.csv", INVOICE_HEADER, ["A,2,2024-01-01,C1,S2,1,12,5,R1",
                                             "C,1,2024-01-03,C1,S1,1,1,1,R1"]))
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert ws.con.execute(
        "SELECT invoice_id, line_no, net_revenue FROM invoice_lines ORDER BY 1, 2").fetchall() == [
        ("A", 1, Decimal("10.0000")), ("A", 2, Decimal("12.0000")), ("B", 1, Decimal("7.0000")),
        ("C", 1, Decimal("1.0000"))]
    log = ws.con.execute("SELECT table_name, source, rows_read, inserted, updated, unchanged, "
                         "changed FROM _salesradar_imports ORDER BY import_id").fetchall()
    assert log == [
        ("invoice_lines", str(tmp_path / "a.csv"), 2, 2, 0, 0, True),
        ("invoice_lines", str(tmp_path / "b.csv"), 3, 1, 0, 2, True),
        ("invoice_lines", str(tmp_path / "c.csv"), 2, 1, 1, 0, True),
    ]


def test_skipped_rows_are_counted_when_every_row_is_skipped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,,S1,1,10,5,R1", "A,2,2024-01-01, ,S1,1,10,5,R1",
    ])
    mapping = Mapping(table="invoice_lines", skip_if_empty=("customer_id",))
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        report = import_file(ws, "invoice_lines", path, mapping)
        assert (report.rows_read, report.rows_skipped, report.inserted) == (2, 2, 0)
        report = import_file(ws, "invoice_lines", path, mapping)
        assert (report.rows_skipped, report.inserted, report.unchanged) == (2, 0, 0)


def test_a_source_path_with_quotes_is_logged_as_it_is(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "it's \"here\""
    folder.mkdir()
    path = write_csv(folder / "l.csv", INVOICE_HEADER, ["A,1,2024-01-01,C1,S1,1,10,5,R1"])
    import_file(ws, "invoice_lines", path)
    assert ws.con.execute("SELECT source, source_bytes FROM _salesradar_imports").fetchall() == [
        (str(path), path.stat().st_size)]


@pytest.mark.parametrize("in_memory", [True, False])
@pytest.mark.parametrize(("keys", "repeats"), [
    ([], False),
    ([("A", 1)], False),
    ([("A", 1), ("A", 2), ("B", 1)], False),
    ([("A", 1), ("B", 1), ("A", 1)], True),
    ([("A", None), ("B", 1), ("A", None)], True),
    ([(None, None), (None, 1), ("A", None)], False),
])
def test_repeated_key_test_sorting_hashes_agrees_with_counting_them(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, in_memory: bool,
    keys: list[tuple[str | None, int | None]], repeats: bool,
) -> None:
    """The hashes sorted in memory or, for a table above the limit, counted by DuckDB."""
    if not in_memory:
        monkeypatch.setattr(importer, "MAX_SORTED_HASHES", 0)
    ws.con.execute(f"CREATE TEMP TABLE {importer.TYPED_TABLE} (invoice_id VARCHAR, line_no BIGINT)")
    for invoice, line in keys:
        ws.con.execute(f"INSERT INTO {importer.TYPED_TABLE} VALUES (?, ?)", [invoice, line])
    try:
        assert importer._may_repeat(ws.con, '"invoice_id", "line_no"') is repeats
    finally:
        ws.con.execute(f"DROP TABLE {importer.TYPED_TABLE}")


def test_unknown_managers_are_found_among_the_file_and_the_table(
    ws: Workspace, tmp_path: Path
) -> None:
    """A reference to the table itself: ids known from the file or from the stored rows."""
    write_csv(tmp_path / "r1.csv", "rep_id,name,manager_id", ["M1,Boss,"])
    import_file(ws, "reps", tmp_path / "r1.csv")
    path = write_csv(tmp_path / "r2.csv", "rep_id,name,manager_id",
                     ["R1,Dana,M1", "R2,Avi,M2", "M2,Ori,", "R3,Noa,M9", "R4,Eli,M9", "R5,Gil,M8"])
    report = import_file(ws, "reps", path)
    (warning,) = [i for i in report.issues if i.severity == "warning"]
    assert (warning.column, warning.count) == ("manager_id", 3)
    assert sorted(warning.value.split(", ")) == ["M8", "M9"]  # type: ignore[union-attr]
    assert warning.reason == "2 manager_id value(s) are not in reps"


def test_date_order_is_chosen_by_the_rows_each_order_fails_to_read(
    ws: Workspace, tmp_path: Path
) -> None:
    """One day-first-only date on one row, one month-first-only date on three: month-first
    fails one row, day-first three (by distinct values the two would tie, and day-first win)."""
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,13/01/2024,C1,S1,1,10,5,R1", "A,2,01/13/2024,C1,S1,1,10,5,R1",
        "A,3,01/13/2024,C1,S1,1,10,5,R1", "A,4,01/13/2024,C1,S1,1,10,5,R1",
    ])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    assert [(i.row, i.value, i.reason) for i in caught.value.issues if i.row is not None] == [
        (2, "13/01/2024", "not a date (expected mm/dd/yyyy or yyyy-mm-dd)")]
