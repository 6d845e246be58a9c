"""`--from-sql` on SQLite columns declared without a type (one column, several kinds of values)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from salesradar.errors import ImportRejected, UserInputError
from salesradar.io import import_sql
from salesradar.workspace import Workspace

COLUMNS = "invoice_id, line_no, invoice_date, customer_id, sku, quantity, net_revenue, cost, rep_id"


def untyped_database(path: Path, rows: list[tuple[object, ...]]) -> str:
    """A real SQLite file whose table declares no column types; its URL."""
    with sqlite3.connect(path) as con:
        con.execute(f"CREATE TABLE lines ({COLUMNS})")
        con.executemany("INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return f"sqlite:///{path}"


def test_integers_reals_and_text_in_one_column_import(ws: Workspace, tmp_path: Path) -> None:
    url = untyped_database(tmp_path / "erp.db", [
        ("A", 1, "2024-01-05", "C1", "S1", 1, 10.5, 5, "R1"),        # cost an integer...
        ("A", 2, "2024-01-06", 17, "S2", "2", 11, 5.5, "R1"),        # ...then a real
        ("B", 1.0, "05/01/2024", "C1", "S1", 1.5, "12.5", None, 7),  # text amount, real line_no
    ])
    report = import_sql(ws, "invoice_lines", url, "SELECT * FROM lines")
    assert report.inserted == 3
    got = ws.con.execute("SELECT invoice_id, line_no, invoice_date, customer_id, quantity, "
                         "net_revenue, cost, rep_id FROM invoice_lines ORDER BY 1, 2").fetchall()
    assert got == [
        ("A", 1, dt.date(2024, 1, 5), "C1", 1.0, Decimal("10.5000"), Decimal("5.0000"), "R1"),
        ("A", 2, dt.date(2024, 1, 6), "17", 2.0, Decimal("11.0000"), Decimal("5.5000"), "R1"),
        ("B", 1, dt.date(2024, 1, 5), "C1", 1.5, Decimal("12.5000"), None, "7"),
    ]
    # 10.5 + 11 + 12.5
    assert ws.con.execute("SELECT sum(net_revenue) FROM invoice_lines").fetchone() == \
        (Decimal("34.0000"),)


def test_a_value_that_is_no_number_names_its_row_and_column(ws: Workspace, tmp_path: Path) -> None:
    url = untyped_database(tmp_path / "erp.db", [
        ("A", 1, "2024-01-05", "C1", "S1", 1, 10, 5, "R1"),
        ("A", 2, "2024-01-05", "C1", "S1", "two", 10, 5, "R1"),
    ])
    with pytest.raises(ImportRejected) as caught:
        import_sql(ws, "invoice_lines", url, "SELECT * FROM lines ORDER BY line_no")
    (issue,) = [i for i in caught.value.issues if i.row is not None]
    assert (issue.row, issue.column, issue.value) == (2, "quantity", "two")


def test_a_missing_file_or_a_bad_query_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no SQLite database at"):
        import_sql(ws, "invoice_lines", f"sqlite:///{tmp_path / 'none.db'}", "SELECT 1")
    assert not (tmp_path / "none.db").exists()
    url = untyped_database(tmp_path / "erp.db", [])
    with pytest.raises(UserInputError, match="the query failed: no such table: missing_table"):
        import_sql(ws, "invoice_lines", url, "SELECT * FROM missing_table")
