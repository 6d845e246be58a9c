"""Importer: nasty inputs, all-or-nothing, idempotence, corrections, every issue reported."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import DATA, INVOICE_HEADER, MAPPINGS, write_csv
from salesradar.config import ImportSettings
from salesradar.errors import ImportRejected, Issue, UserInputError
from salesradar.io import Mapping, import_file, import_sql
from salesradar.workspace import Workspace


def rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    return ws.con.execute(sql).fetchall()


def invoice_lines(n: int, start: int = 0) -> list[str]:
    """n valid invoice lines, two per invoice."""
    return [
        f"INV{(i // 2):06d},{i % 2 + 1},2024-01-{i % 28 + 1:02d},C{i % 50},S{i % 7},2,"
        f"{10 + i % 5}.50,7.25,R{i % 3}"
        for i in range(start, start + n)
    ]


def errors_of(exc: ImportRejected) -> list[Issue]:
    return [i for i in exc.issues if i.severity == "error" and i.row is not None]


# --- encodings, delimiters and formats -------------------------------------------------------


def test_priority_export_in_windows_1255_with_hebrew_headers(ws: Workspace) -> None:
    report = import_file(ws, "invoice_lines", DATA / "priority_invoice_lines.csv",
                         MAPPINGS / "priority_invoice_lines.yaml")
    assert (report.inserted, report.encoding) == (5, "windows-1255")
    got = rows(ws, "SELECT invoice_id, line_no, invoice_date, customer_id, sku, quantity, "
                   "net_revenue, cost, rep_id, channel FROM invoice_lines ORDER BY 1, 2")
    # 02/01/2024 is 2 January (day first); ₪8,400.00 has a thousands comma; "₪32.00-" is the
    # trailing-minus return; cost is the formula כמות × עלות ליחידה = 120 × 4.10 = 492.
    assert got[0] == ("IV240001", 1, dt.date(2024, 1, 2), "1001", "MLK-1L", 120.0,
                      Decimal("708.0000"), Decimal("492.0000"), "07", "field")
    assert got[2][6] == Decimal("8400.0000")
    assert got[3][5:8] == (-10.0, Decimal("-32.0000"), Decimal("-20.0000"))
    assert got[4][2] == dt.date(2024, 2, 1)


def test_utf8_bom_and_canonical_headers_in_any_case(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    header = INVOICE_HEADER.upper().replace("NET_REVENUE", "Net Revenue")
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join([header, *invoice_lines(3)]).encode())
    report = import_file(ws, "invoice_lines", path)
    assert report.inserted == 3
    # 10.50 + 11.50 + 12.50
    assert rows(ws, "SELECT sum(net_revenue) FROM invoice_lines") == [(Decimal("34.5000"),)]


def test_semicolon_delimiter_with_decimal_comma(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "semi.csv", INVOICE_HEADER.replace(",", ";"),
                     ["A;1;03/04/2024;C1;S1;1,5;1.234,56;100,10;R1"])
    report = import_file(ws, "invoice_lines", path,
                         Mapping(table="invoice_lines", decimal=",", thousands="."))
    assert report.delimiter == ";"
    assert rows(ws, "SELECT invoice_date, quantity, net_revenue, cost FROM invoice_lines") == [
        (dt.date(2024, 4, 3), 1.5, Decimal("1234.5600"), Decimal("100.1000"))
    ]


def test_dates_in_two_formats_in_one_column(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mixed.csv", INVOICE_HEADER, [
        "A,1,2024-03-05,C1,S1,1,10,5,R1",
        "A,2,05/03/2024,C1,S1,1,10,5,R1",
        "A,3,2024-03-05 14:30:00,C1,S1,1,10,5,R1",
    ])
    import_file(ws, "invoice_lines", path)
    assert rows(ws, "SELECT DISTINCT invoice_date FROM invoice_lines") == [(dt.date(2024, 3, 5),)]


def test_month_first_dates_are_detected_when_day_first_cannot_parse(
    ws: Workspace, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "us.csv", INVOICE_HEADER, [
        "A,1,12/31/2024,C1,S1,1,10,5,R1", "A,2,01/02/2025,C1,S1,1,10,5,R1",
    ])
    import_file(ws, "invoice_lines", path)
    assert rows(ws, "SELECT invoice_date FROM invoice_lines ORDER BY line_no") == [
        (dt.date(2024, 12, 31),), (dt.date(2025, 1, 2),)
    ]


def test_excel_workbook_with_date_cells(ws: Workspace, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(INVOICE_HEADER.split(","))
    sheet.append(["X1", 1, dt.datetime(2024, 5, 6), 17850, "S1", 3, 30.5, 12, "R1"])
    sheet.append(["X1", 2, dt.datetime(2024, 5, 6), 17850, "S2", -1, -10, -4, "R1"])
    path = tmp_path / "lines.xlsx"
    book.save(path)
    import_file(ws, "invoice_lines", path)
    assert rows(ws, "SELECT invoice_date, customer_id, quantity FROM invoice_lines "
                    "ORDER BY line_no") == [
        (dt.date(2024, 5, 6), "17850", 3.0), (dt.date(2024, 5, 6), "17850", -1.0)
    ]


def test_parquet_keeps_types_and_float_ids_become_clean_ids(
    ws: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.table({
        "InvoiceNo": ["536365", "536365"],
        "InvoiceDate": pa.array([dt.datetime(2010, 12, 1, 8, 26)] * 2),
        "CustomerID": [17850.0, 17850.0],
        "StockCode": ["85123A", "71053"],
        "Quantity": [6, 6],
        "UnitPrice": [2.55, 3.39],
    }), path)
    mapping = Mapping(table="invoice_lines", columns={
        name: cm for name, cm in {
            "invoice_id": _source("invoice_id", "InvoiceNo"),
            "invoice_date": _source("invoice_date", "InvoiceDate"),
            "customer_id": _source("customer_id", "CustomerID"),
            "sku": _source("sku", "StockCode"),
            "quantity": _source("quantity", "Quantity"),
            "net_revenue": _formula("net_revenue", "{Quantity} * {UnitPrice}"),
        }.items()
    })
    import_file(ws, "invoice_lines", path, mapping)
    assert rows(ws, "SELECT invoice_id, line_no, invoice_date, customer_id, net_revenue "
                    "FROM invoice_lines ORDER BY line_no") == [
        ("536365", 1, dt.date(2010, 12, 1), "17850", Decimal("15.3000")),
        ("536365", 2, dt.date(2010, 12, 1), "17850", Decimal("20.3400")),
    ]


def _source(target: str, header: str) -> object:
    from salesradar.io import ColumnMapping

    return ColumnMapping(target, source=header)


def _formula(target: str, formula: str) -> object:
    from salesradar.io import ColumnMapping

    return ColumnMapping(target, formula=formula)


def test_sql_query_from_a_real_sqlite_database(ws: Workspace, tmp_path: Path) -> None:
    db = tmp_path / "erp.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE lines (doc TEXT, ln INT, d TEXT, cust TEXT, item TEXT, "
                    "qty REAL, amount REAL)")
        con.executemany("INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?)", [
            ("D1", 1, "2024-06-01", "C1", "S1", 2, 20.0),
            ("D1", 2, "2024-06-01", "C1", "S2", 1, 5.5),
        ])
    report = import_sql(
        ws, "invoice_lines", f"sqlite:///{db}",
        "SELECT doc AS invoice_id, ln AS line_no, d AS invoice_date, cust AS customer_id, "
        "item AS sku, qty AS quantity, amount AS net_revenue FROM lines",
    )
    assert report.inserted == 2
    assert rows(ws, "SELECT sum(net_revenue) FROM invoice_lines") == [(Decimal("25.5000"),)]


# --- bad files: clear errors, nothing loaded ---------------------------------------------------


def test_empty_file_is_rejected_clearly(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(UserInputError, match=r"empty\.csv is empty"):
        import_file(ws, "invoice_lines", path)


def test_header_only_file_is_rejected_clearly(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "header.csv", INVOICE_HEADER, [])
    with pytest.raises(UserInputError, match="header but no data rows"):
        import_file(ws, "invoice_lines", path)


def test_bad_row_in_the_middle_of_100k_rows_loads_nothing(ws: Workspace, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "first.csv", INVOICE_HEADER, invoice_lines(10))
    import_file(ws, "invoice_lines", good)
    lines = invoice_lines(100_000, start=1_000)
    lines[50_000] = lines[50_000].replace("2024-01-", "2024-13-")
    bad = write_csv(tmp_path / "big.csv", INVOICE_HEADER, lines)
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", bad)
    (issue,) = errors_of(caught.value)
    # the header is row 1, so list index 50,000 is spreadsheet row 50,002
    assert (issue.file, issue.row, issue.column) == ("big.csv", 50_002, "invoice_date")
    assert issue.value is not None and issue.value.startswith("2024-13-")
    assert rows(ws, "SELECT count(*) FROM invoice_lines") == [(10,)]


def test_every_problem_is_reported_not_only_the_first(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,1,10,5,R1",
        "A,2,not a date,C1,S1,1,10,5,R1",
        "A,3,2024-01-01,,S1,1,10,5,R1",
        "A,4,2024-01-01,C1,S1,two,10,5,R1",
        "A,5,2024-01-01,C1,S1,1,10,-5,R1",
        "A,6,2024-01-01,C1,S1,1,ten,5,R1",
    ])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    found = {(i.row, i.column) for i in errors_of(caught.value)}
    assert found == {(3, "invoice_date"), (4, "customer_id"), (5, "quantity"), (6, "cost"),
                     (7, "net_revenue")}
    assert caught.value.total_errors == 5
    negative_cost = next(i for i in errors_of(caught.value) if i.column == "cost")
    assert "opposite sign of quantity" in negative_cost.reason


def test_missing_required_column_names_the_column_and_the_fix(
    ws: Workspace, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", INVOICE_HEADER.replace("invoice_date", "invoice_dat"),
                     invoice_lines(2))
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    (issue,) = [i for i in caught.value.issues if i.severity == "error"]
    assert issue.column == "invoice_date"
    assert "missing required column" in issue.reason
    assert issue.hint is not None and "'invoice_dat'" in issue.hint and "mapping" in issue.hint


def test_malformed_csv_rows_are_reported_with_their_line(ws: Workspace, tmp_path: Path) -> None:
    lines = invoice_lines(5)
    lines[2] += ",extra,fields"
    path = write_csv(tmp_path / "ragged.csv", INVOICE_HEADER, lines)
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    (issue,) = errors_of(caught.value)
    assert issue.row == 4 and "malformed row" in issue.reason
    assert rows(ws, "SELECT count(*) FROM invoice_lines") == [(0,)]


def test_duplicate_invoice_lines_in_a_file_are_errors(ws: Workspace, tmp_path: Path) -> None:
    lines = invoice_lines(4)
    path = write_csv(tmp_path / "dup.csv", INVOICE_HEADER, [*lines, lines[1]])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path)
    (issue,) = errors_of(caught.value)
    assert issue.reason == "duplicate key"
    assert issue.value == "invoice_id=INV000000, line_no=2; rows 3, 6"


def test_identical_lines_without_line_numbers_are_kept_with_a_warning(
    ws: Workspace, tmp_path: Path
) -> None:
    header = INVOICE_HEADER.replace("line_no,", "")
    path = write_csv(tmp_path / "repeat.csv", header, [
        "A,2024-01-01,C1,S1,1,10,5,R1",
        "A,2024-01-01,C1,S1,1,10,5,R1",
        "B,2024-01-01,C1,S1,1,3,1,R1",
    ])
    report = import_file(ws, "invoice_lines", path)
    assert rows(ws, "SELECT invoice_id, line_no FROM invoice_lines ORDER BY 1, 2") == [
        ("A", 1), ("A", 2), ("B", 1)
    ]
    (warning,) = [i for i in report.issues if i.severity == "warning"]
    assert warning.count == 2 and "identical" in warning.reason


def test_unknown_customers_warn_by_default_and_fail_when_strict(
    ws: Workspace, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", "customer_id,name", ["C1,Cohen"])
    import_file(ws, "customers", tmp_path / "customers.csv")
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,1,10,5,R1", "A,2,2024-01-01,C9,S1,1,10,5,R1",
        "A,3,2024-01-01,C9,S1,1,10,5,R1",
    ])
    report = import_file(ws, "invoice_lines", path)
    (warning,) = [i for i in report.issues if i.severity == "warning"]
    assert (warning.column, warning.count, warning.value) == ("customer_id", 2, "C9")
    with pytest.raises(ImportRejected):
        import_file(ws, "invoice_lines", path,
                    settings=ImportSettings(unknown_references="error"))


def test_declared_encoding_that_does_not_match_fails_clearly(
    ws: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text("customer_id,name\nC1,כהן\n", encoding="utf-8")
    path_1255 = tmp_path / "heb.csv"
    path_1255.write_bytes("customer_id,name\nC1,כהן\n".encode("windows-1255"))
    import_file(ws, "customers", path_1255)  # detected as Windows-1255
    assert rows(ws, "SELECT name FROM customers") == [("כהן",)]
    with pytest.raises(UserInputError, match="not valid"):
        import_file(ws, "customers", path, Mapping(table="customers", encoding="ascii"))


def test_unknown_file_type_and_missing_file(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(UserInputError, match="unknown file type"):
        import_file(ws, "customers", tmp_path / "x.json")
    with pytest.raises(UserInputError, match="file not found"):
        import_file(ws, "customers", tmp_path / "nope.csv")


# --- idempotence and corrections ---------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, invoice_lines(20))
    first = import_file(ws, "invoice_lines", path)
    before = rows(ws, "SELECT * FROM invoice_lines ORDER BY ALL")
    second = import_file(ws, "invoice_lines", path)
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (20, 0, 0, 20)
    assert rows(ws, "SELECT * FROM invoice_lines ORDER BY ALL") == before


def test_corrected_reimport_updates_exactly_the_corrected_rows(
    ws: Workspace, tmp_path: Path
) -> None:
    lines = invoice_lines(20)
    import_file(ws, "invoice_lines", write_csv(tmp_path / "a.csv", INVOICE_HEADER, lines))
    lines[3] = lines[3].replace(",7.25,", ",8.00,")
    lines.append("NEW,1,2024-02-01,C1,S1,1,99,50,R1")
    report = import_file(ws, "invoice_lines", write_csv(tmp_path / "b.csv", INVOICE_HEADER, lines))
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 19)
    assert rows(ws, "SELECT cost FROM invoice_lines WHERE invoice_id = 'INV000001' "
                    "AND line_no = 2") == [(Decimal("8.0000"),)]
    assert rows(ws, "SELECT count(*) FROM invoice_lines") == [(21,)]


# --- other tables: enums, periods, values, skipped rows -----------------------------------------


def test_hubspot_deals_export_maps_stage_labels_to_outcomes(ws: Workspace) -> None:
    import_file(ws, "deals", DATA / "hubspot_deals.csv", MAPPINGS / "hubspot_deals.yaml")
    assert rows(ws, "SELECT deal_id, outcome, amount, created_at FROM deals ORDER BY 1") == [
        ("9001", "won", Decimal("12000.0000"), dt.date(2024, 1, 3)),
        ("9002", "lost", Decimal("8000.0000"), dt.date(2024, 1, 10)),
        ("9003", "open", Decimal("4500.0000"), dt.date(2024, 2, 1)),
    ]


def test_periods_in_several_notations_and_their_grain(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cts.csv", "customer_id,period,kind,amount", [
        "C1,2024-03,logistics,100", "C1,2024-Q2,service,50", "C1,2024,credit,20",
        "C1,03/2024,support,5",
    ])
    import_file(ws, "cost_to_serve", path)
    assert rows(ws, "SELECT kind, period, grain FROM cost_to_serve ORDER BY kind") == [
        ("credit", dt.date(2024, 1, 1), "year"),
        ("logistics", dt.date(2024, 3, 1), "month"),
        ("service", dt.date(2024, 4, 1), "quarter"),
        ("support", dt.date(2024, 3, 1), "month"),
    ]


def test_enum_synonyms_and_invalid_values(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reps.csv", "rep_id,model,active_from",
                     ["R1,Center,2024-01-01", "R2,Key Account,2024-01-01", "R3,boss,2024-01-01"])
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "reps", path)
    (issue,) = errors_of(caught.value)
    assert (issue.row, issue.value) == (4, "boss")
    assert issue.reason == "not one of: centre, account"


def test_skip_if_empty_drops_and_counts_rows(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, [
        "A,1,2024-01-01,C1,S1,1,10,5,R1", "A,2,2024-01-01,,S1,1,10,5,R1",
    ])
    report = import_file(ws, "invoice_lines", path,
                         Mapping(table="invoice_lines", skip_if_empty=("customer_id",)))
    assert (report.rows_read, report.rows_skipped, report.inserted) == (2, 1, 1)


def test_import_log_records_each_import(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, invoice_lines(3))
    import_file(ws, "invoice_lines", path)
    import_file(ws, "invoice_lines", path)
    assert rows(ws, "SELECT import_id, inserted, unchanged FROM _salesradar_imports "
                    "ORDER BY 1") == [(1, 3, 0), (2, 0, 3)]


def test_excel_unicode_text_export_is_utf16_with_tabs(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    text = "customer_id\tname\tregion\r\nC1\tכהן מזון\tמרכז\r\nC2\tלוי\tצפון\r\n"
    path.write_bytes(text.encode("utf-16"))  # with the BOM, as Excel writes it
    report = import_file(ws, "customers", path)
    assert (report.encoding, report.delimiter) == ("utf-16", "\t")
    assert rows(ws, "SELECT customer_id, name, region FROM customers ORDER BY 1") == [
        ("C1", "כהן מזון", "מרכז"), ("C2", "לוי", "צפון")
    ]


def test_title_lines_above_the_header_are_skipped_and_rows_still_match(
    ws: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Sales report\nPrinted 01/03/2024\n" + INVOICE_HEADER + "\n"
                    "A,1,2024-01-05,C1,S1,1,10,5,R1\nA,2,2024-01-05,C1,S1,1,oops,5,R1\n",
                    encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", path, Mapping(table="invoice_lines", skip_rows=2))
    (issue,) = errors_of(caught.value)
    assert (issue.row, issue.value) == (5, "oops")  # the fifth line of the file
