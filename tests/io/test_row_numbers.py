"""Reported rows are the file's own lines (header = line 1) and the sheet's own rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers import INVOICE_HEADER
from salesradar.errors import ImportRejected, Issue
from salesradar.io import Mapping, import_file
from salesradar.io.mapping import parse_mapping
from salesradar.workspace import Workspace

GOOD = "A,{n},2024-01-05,C1,S1,1,10,5,R1"


def good(n: int) -> str:
    return GOOD.format(n=n)


def rejected_rows(ws: Workspace, path: Path, mapping: Mapping | None = None) -> list[Issue]:
    """The row-level errors of an import that must fail, in file order."""
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path, mapping)
    assert ws.con.execute("SELECT count(*) FROM invoice_lines").fetchone() == (0,)
    return sorted((i for i in caught.value.issues if i.severity == "error" and i.row is not None),
                  key=lambda i: i.row or 0)


def write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def test_a_bad_date_after_a_blank_line_is_reported_on_its_own_line(
    ws: Workspace, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "blank.csv", [
        INVOICE_HEADER,                      # line 1
        good(1),                             # 2
        good(2),                             # 3
        "",                                  # 4: blank
        good(3),                             # 5
        "A,4,31/31/2024,C1,S1,1,10,5,R1",    # 6: bad date
        good(5),                             # 7
    ])
    (issue,) = rejected_rows(ws, path)
    assert (issue.row, issue.column, issue.value) == (6, "invoice_date", "31/31/2024")


def test_title_lines_blank_lines_and_a_total_line(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "report.csv", [
        "Sales report",                      # 1: title (skip_rows)
        "Printed 01/03/2024",                # 2: title (skip_rows)
        INVOICE_HEADER,                      # 3: header
        good(1),                             # 4
        "",                                  # 5
        good(2),                             # 6
        "",                                  # 7
        "",                                  # 8
        good(3),                             # 9
        "Total,,,,,,30,15,",                 # 10: the total line has no date
    ])
    issues = rejected_rows(ws, path, Mapping(table="invoice_lines", skip_rows=2))
    assert {i.row for i in issues} == {10}
    assert "invoice_date" in {i.column for i in issues}


def test_blank_lines_above_the_header(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "lead.csv", [
        "", "",                              # 1, 2
        INVOICE_HEADER,                      # 3
        good(1),                             # 4
        "A,2,2024-01-05,C1,S1,1,ten,5,R1",   # 5
    ])
    (issue,) = rejected_rows(ws, path)
    assert (issue.row, issue.value) == (5, "ten")


def test_a_quoted_cell_over_two_lines_counts_both_lines(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "quoted.csv", [
        INVOICE_HEADER,                          # 1
        'A,1,2024-01-05,C1,"S1',                 # 2: a SKU cell that spans
        'large",1,10,5,R1',                      # 3: ...this line
        "",                                      # 4
        good(2),                                 # 5
        "A,3,2024-01-05,C1,S1,1,10,-5,R1",       # 6: cost of the opposite sign
    ])
    (issue,) = rejected_rows(ws, path)
    assert (issue.row, issue.column) == (6, "cost")


def test_a_malformed_row_after_a_blank_and_a_quoted_line(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ragged.csv", [
        INVOICE_HEADER,                          # 1
        'A,1,2024-01-05,C1,"S1',                 # 2
        'large",1,10,5,R1',                      # 3
        "",                                      # 4
        "A,2,2024-01-05,C1,S2,1,10,5,R1,extra",  # 5: one field too many
        good(3),                                 # 6
    ])
    (issue,) = rejected_rows(ws, path)
    assert issue.row == 5 and "malformed" in issue.reason


def test_duplicate_keys_name_their_own_lines(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dup.csv", [INVOICE_HEADER, good(1), "", good(2), "", good(1)])
    (issue,) = rejected_rows(ws, path)
    assert issue.reason == "duplicate key"
    assert (issue.row, issue.value) == (6, "invoice_id=A, line_no=1; rows 2, 6")


def test_skipped_empty_rows_do_not_shift_the_lines(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "skip.csv", [
        INVOICE_HEADER,                       # 1
        "A,1,2024-01-05,,S1,1,10,5,R1",       # 2: no customer: skipped by skip_if_empty
        "",                                   # 3
        "A,2,2024-01-05,,S1,1,10,5,R1",       # 4: skipped
        "A,3,2024-13-05,C1,S1,1,10,5,R1",     # 5: bad date
    ])
    mapping = Mapping(table="invoice_lines", skip_if_empty=("customer_id",))
    (issue,) = rejected_rows(ws, path, mapping)
    assert (issue.row, issue.value) == (5, "2024-13-05")


def test_windows_1255_file_with_blank_lines(ws: Workspace, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "hebrew.csv", [
        INVOICE_HEADER.replace("sku", "מק\"ט").replace("invoice_id", "חשבונית"),  # 1
        "",                                                                         # 2
        "א,1,2024-01-05,C1,S1,1,10,5,R1",                                         # 3
        "",                                                                         # 4
        "א,2,2024-01-05,C1,S1,1,10,5,R1",                                         # 5
        "א,3,2024-01-05,C1,S1,1,עשר,5,R1",                                        # 6
    ], encoding="windows-1255")
    mapping = parse_mapping({"table": "invoice_lines",
                             "columns": {"invoice_id": "חשבונית", "sku": 'מק"ט'}}, "inline")
    (issue,) = rejected_rows(ws, path, mapping)
    assert (issue.row, issue.value) == (6, "עשר")


def test_excel_rows_are_the_sheets_rows(ws: Workspace, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Sales report"                      # row 1: title (skip_rows)
    header = INVOICE_HEADER.split(",")
    for column, name in enumerate(header, start=1):   # row 3: header, row 2 empty
        sheet.cell(row=3, column=column, value=name)
    values = [["A", 1, dt.datetime(2024, 5, 6), "C1", "S1", 1, 10, 5, "R1"],   # row 4
              None,                                                           # row 5: empty
              ["A", 2, "not a day", "C1", "S1", 1, 10, 5, "R1"],              # row 6
              ["A", 3, dt.datetime(2024, 5, 6), "C1", "S1", 1, 10, 5, "R1"]]  # row 7
    for row, cells in enumerate(values, start=4):
        for column, value in enumerate(cells or [], start=1):
            sheet.cell(row=row, column=column, value=value)
    path = tmp_path / "lines.xlsx"
    book.save(path)
    (issue,) = rejected_rows(ws, path, Mapping(table="invoice_lines", skip_rows=1))
    assert (issue.row, issue.value) == (6, "not a day")


def test_excel_blank_rows_are_skipped_and_the_rest_loads(ws: Workspace, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(INVOICE_HEADER.split(","))
    sheet.append(["A", 1, dt.datetime(2024, 5, 6), "C1", "S1", 1, 10, 5, "R1"])
    sheet.append([None] * 9)
    sheet.append(["A", 2, dt.datetime(2024, 5, 6), "C1", "S1", 2, 20, 10, "R1"])
    path = tmp_path / "gap.xlsx"
    book.save(path)
    report = import_file(ws, "invoice_lines", path)
    assert (report.rows_read, report.inserted) == (2, 2)
