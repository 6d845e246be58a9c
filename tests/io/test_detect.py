"""The mapping detector: shipped exports recognized, other files mapped from Hebrew and English
headers and from their values, formats read off the sample, a missing column named, the
proposal imported as is and written as YAML that reads back the same."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from helpers import DATA, MAPPINGS, write_csv
from salesradar.errors import UserInputError
from salesradar.io import import_file, load_mapping
from salesradar.io.detect import MappingProposal, detect_mapping, match_shipped
from salesradar.io.mapping import Mapping, parse_mapping
from salesradar.io.mapping_file import mapping_to_yaml
from salesradar.io.sample import read_sample
from salesradar.io.synonyms import header_key
from salesradar.workspace import Workspace

DETECT = DATA / "detect"


def sources(proposal: MappingProposal) -> dict[str, str | None]:
    """Canonical column -> source header (or the formula) of a proposal."""
    return {c: p.source or p.formula for c, p in proposal.columns.items()}


def without_path(mapping: Mapping) -> Mapping:
    return dataclasses.replace(mapping, path=None)


# --- shipped exports ---------------------------------------------------------------------------


@pytest.mark.parametrize(("table_name", "path", "shipped"), [
    ("invoice_lines", DATA / "priority_invoice_lines.csv", "priority_invoice_lines"),
    ("deals", DATA / "hubspot_deals.csv", "hubspot_deals"),
    ("invoice_lines", DETECT / "sap_b1_invoice_lines.csv", "sap_b1_invoice_lines"),
    ("invoice_lines", DETECT / "hashavshevet_invoice_lines.csv", "hashavshevet_invoice_lines"),
], ids=lambda v: v if isinstance(v, str) else v.stem)
def test_shipped_exports_are_recognized_by_their_headers(
    table_name: str, path: Path, shipped: str
) -> None:
    proposal = detect_mapping(table_name, path)
    assert proposal.shipped == shipped
    shipped_mapping = load_mapping(MAPPINGS / f"{shipped}.yaml")
    assert without_path(proposal.mapping) == without_path(shipped_mapping)
    assert {p.reason for p in proposal.columns.values()} == {f"shipped export {shipped}"}
    assert {p.confidence for p in proposal.columns.values()} == {1.0}
    assert proposal.missing == ()


def test_a_shipped_export_offered_for_another_table_is_pointed_out() -> None:
    proposal = detect_mapping("customers", DATA / "hubspot_deals.csv")
    assert proposal.shipped is None
    assert any("shipped export hubspot_deals (table deals)" in n for n in proposal.notes)
    assert match_shipped(("Record ID", "Deal Name"), "deals") is None  # needs every column


def test_a_shipped_mapping_date_format_gives_way_to_the_files_own(tmp_path: Path) -> None:
    header, *body = (DETECT / "sap_b1_invoice_lines.csv").read_text().splitlines()
    us = [row.replace("04.01.2024", "1/4/2024").replace("22.01.2024", "1/22/2024")
          for row in body]
    proposal = detect_mapping("invoice_lines", write_csv(tmp_path / "sap.csv", header, us))
    assert proposal.shipped == "sap_b1_invoice_lines"
    assert proposal.mapping.date_formats == ("%m/%d/%Y",)
    assert any("this file writes %m/%d/%Y" in n for n in proposal.notes)


# --- headers and values ------------------------------------------------------------------------


def test_hebrew_headers_windows_1255_dd_mm_yyyy_shekels_and_trailing_minus() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "hebrew_invoice_lines.csv")
    assert proposal.shipped is None
    assert sources(proposal) == {
        "invoice_id": "מספר חשבונית", "invoice_date": "תאריך", "customer_id": "מספר לקוח",
        "sku": "קוד פריט", "quantity": "כמות", "net_revenue": 'סה"כ', "rep_id": "סוכן",
        "description": "תאור",
    }
    assert {p.reason for p in proposal.columns.values()} == {"header synonym"}
    f = proposal.formats
    assert (f.encoding, f.delimiter, f.date_formats, f.date_order) == (
        "windows-1255", ",", ("%d/%m/%Y",), "day-first")
    assert (f.decimal, f.thousands, f.currencies) == (".", ",", ("₪",))
    assert "trailing minus" in f.negatives
    # no line numbers: numbered per invoice, and an invoice sent again replaces its lines
    assert proposal.mapping.replace_documents
    assert proposal.missing == ()


def test_english_headers_us_dates_and_computed_cost() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "english_us_dates.csv")
    assert sources(proposal) == {
        "invoice_id": "Invoice No", "invoice_date": "Invoice Date", "customer_id": "Customer ID",
        "sku": "Item Code", "quantity": "Qty", "net_revenue": "Line Total",
        "cost": "{Qty} * {Unit Cost}", "rep_id": "Sales Rep", "description": "Description",
    }
    assert proposal.columns["customer_id"].reason == "canonical name"
    assert proposal.columns["cost"].reason == "formula: quantity × unit cost"
    f = proposal.formats
    assert (f.date_formats, f.date_order, f.currencies) == (("%m/%d/%Y",), "month-first", ("$",))
    assert "parentheses" in f.negatives


def test_semicolons_and_a_decimal_comma() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "semicolon_decimal_comma.csv")
    assert sources(proposal) == {
        "invoice_id": "Document", "invoice_date": "Date", "customer_id": "Customer",
        "sku": "SKU", "quantity": "Quantity", "net_revenue": "Amount",
    }
    f = proposal.formats
    assert (f.delimiter, f.decimal, f.thousands, f.date_formats) == (";", ",", ".", ("%d.%m.%Y",))


def test_a_missing_required_column_is_named_with_the_file() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "missing_customer.csv")
    assert proposal.missing == ("customer_id",)
    assert "MISSING required column customer_id" in proposal.to_yaml()
    with pytest.raises(UserInputError) as caught:
        proposal.require_complete()
    message = str(caught.value)
    assert "missing_customer.csv: no column found for customer_id (required in invoice_lines)" \
        in message
    assert "Invoice, Date, Item, Qty, Total" in message


def test_values_decide_where_headers_do_not(tmp_path: Path) -> None:
    # an unknown date header found by its values; ids are not taken for amounts; revenue computed
    path = write_csv(tmp_path / "x.csv", "Beleg,Wann,Kunde,SKU,Qty,Price,Account Balance", [
        'B1,2024-02-01,K1,S1,3,2.50,"₪1,200.50"', "B2,2024-02-02,K2,S2,1,10.00,₪80.25"])
    proposal = detect_mapping("invoice_lines", path)
    assert proposal.columns["invoice_date"].source == "Wann"
    assert proposal.columns["invoice_date"].reason == "value pattern"
    assert proposal.columns["net_revenue"].formula == "{Qty} * {Price}"
    # Beleg and Kunde are names no synonym knows: said, not guessed; "Account Balance" names an
    # account but holds amounts, so it is not taken for the customer's id
    assert set(proposal.missing) == {"invoice_id", "customer_id"}


def test_an_enum_found_by_its_values_beside_its_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "opportunity_id,deal_stage,engage_date,close_value", [
        "O1,Won,2024-01-01,100", "O2,Lost,2024-01-02,50", "O3,Engaging,2024-01-03,70"])
    proposal = detect_mapping("deals", path)
    assert sources(proposal) == {"deal_id": "opportunity_id", "stage": "deal_stage",
                                 "amount": "close_value", "created_at": "engage_date",
                                 "outcome": "deal_stage"}
    assert proposal.columns["outcome"].reason == "value pattern"


def test_equally_good_headers_are_reported_not_chosen_silently(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "Customer,Client,Name", ["1,2,A", "3,4,B"])
    proposal = detect_mapping("customers", path)
    choice = proposal.columns["customer_id"]
    assert (choice.source, choice.alternatives) == ("Customer", ("Client",))
    assert choice.confidence < 0.9
    assert any("'Customer' or 'Client' fit equally well" in n for n in proposal.notes)


def test_a_day_month_order_the_sample_cannot_prove_is_left_to_the_import(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "invoice,date,customer,sku,qty,total",
                     ["A,01/02/2024,C,S,1,5", "B,03/04/2024,C,S,1,5"])
    proposal = detect_mapping("invoice_lines", path)
    assert proposal.formats.date_order == "undecided"
    assert proposal.mapping.date_formats == ()
    assert any("every day in the first 2 rows is at most 12" in n for n in proposal.notes)


def test_header_keys_fold_quotes_punctuation_and_camel_case() -> None:
    assert header_key('מק"ט') == header_key("מק״ט") == header_key("מקט") == "מקט"
    assert header_key("Item No.") == header_key("item_no") == header_key("ItemNo") == "item no"
    assert header_key("\ufeffCustomerID") == "customer id"


# --- importing what was proposed ---------------------------------------------------------------


def test_the_hebrew_proposal_imports_as_is(ws: Workspace) -> None:
    path = DETECT / "hebrew_invoice_lines.csv"
    report = import_file(ws, "invoice_lines", path, detect_mapping("invoice_lines", path).mapping)
    assert report.inserted == 4
    got = ws.con.execute("SELECT invoice_id, line_no, invoice_date, customer_id, sku, quantity, "
                         "net_revenue, rep_id FROM invoice_lines ORDER BY 1, 2").fetchall()
    assert got == [
        ("50011", 1, dt.date(2024, 1, 3), "2001", "P-100", 10.0, Decimal("1250.0000"), "5"),
        ("50011", 2, dt.date(2024, 1, 3), "2001", "P-200", 4.0, Decimal("36.4000"), "5"),
        ("50012", 1, dt.date(2024, 1, 17), "2002", "P-100", 20.0, Decimal("2480.0000"), "8"),
        ("50013", 1, dt.date(2024, 2, 28), "2001", "P-200", -2.0, Decimal("-18.2000"), "5"),
    ]


def test_the_us_and_decimal_comma_proposals_import_as_is(ws: Workspace) -> None:
    for name in ("english_us_dates.csv", "semicolon_decimal_comma.csv"):
        path = DETECT / name
        import_file(ws, "invoice_lines", path, detect_mapping("invoice_lines", path).mapping)
    values = ws.con.execute(
        "SELECT invoice_id, line_no, invoice_date, quantity, net_revenue, cost FROM invoice_lines "
        "ORDER BY 1, 2").fetchall()
    assert values == [
        ("D-1", 1, dt.date(2024, 3, 5), 2.5, Decimal("1234.5000"), None),
        ("D-1", 2, dt.date(2024, 3, 5), 1.0, Decimal("99.9000"), None),
        ("D-2", 1, dt.date(2024, 3, 21), 10.0, Decimal("4938.0000"), None),
        ("INV-9001", 1, dt.date(2024, 1, 15), 12.0, Decimal("54.0000"), Decimal("37.2000")),
        ("INV-9001", 2, dt.date(2024, 1, 15), 6.0, Decimal("13.5000"), Decimal("8.4000")),
        ("INV-9002", 1, dt.date(2024, 2, 3), 100.0, Decimal("1420.0000"), Decimal("310.0000")),
        ("INV-9003", 1, dt.date(2024, 2, 29), -3.0, Decimal("-3.0000"), Decimal("-1.8000")),
    ]


@pytest.mark.parametrize("name", ["hebrew_invoice_lines.csv", "english_us_dates.csv",
                                  "semicolon_decimal_comma.csv", "sap_b1_invoice_lines.csv"])
def test_the_yaml_reads_back_as_the_same_mapping(name: str) -> None:
    proposal = detect_mapping("invoice_lines", DETECT / name)
    text = proposal.to_yaml()
    assert text.startswith(f"# proposed by salesradar for {name}")
    assert without_path(parse_mapping(yaml.safe_load(text), "m.yaml", "invoice_lines")) \
        == without_path(proposal.mapping)
    plain = mapping_to_yaml(proposal.mapping)  # the same file without the comments
    assert without_path(parse_mapping(yaml.safe_load(plain), "m.yaml")) \
        == without_path(proposal.mapping)


# --- corrections and preview, for an upload page ------------------------------------------------


def test_corrections_and_the_preview() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "hebrew_invoice_lines.csv")
    first = proposal.preview(1)[0]
    assert (first["invoice_date"], first["net_revenue"], first["sku"]) == (
        "03/01/2024", "₪1,250.00", "P-100")
    corrected = proposal.with_sources({"description": "שם לקוח", "rep_id": None})
    assert corrected.columns["description"].reason == "chosen by hand"
    assert "rep_id" not in corrected.columns and "rep_id" not in corrected.mapping.columns
    assert corrected.mapping.columns["description"].source == "שם לקוח"
    assert corrected.preview(1)[0]["description"] == "מכולת יוסי"
    dropped = proposal.with_sources({"customer_id": None})
    assert dropped.missing == ("customer_id",)
    with pytest.raises(UserInputError, match="has no column 'nope'"):
        proposal.with_sources({"sku": "nope"})


def test_formulas_are_computed_in_the_preview() -> None:
    proposal = detect_mapping("invoice_lines", DETECT / "english_us_dates.csv")
    assert [r["cost"] for r in proposal.preview()] == ["37.2", "8.4", "310", "-1.8"]


# --- reading only a sample -----------------------------------------------------------------------


def test_only_the_first_rows_are_read(tmp_path: Path) -> None:
    # a gzip cut in half: reading it to the end fails, the sample never gets there
    body = "".join(f"I{i},{i % 28 + 1:02d}/01/2024,C{i % 9},S{i % 5},1,{i}.50\n"
                   for i in range(200_000))
    whole = gzip.compress(("invoice,date,customer,sku,qty,total\n" + body).encode())
    path = tmp_path / "big.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(EOFError), gzip.open(path) as handle:
        handle.read()
    sample = read_sample(path, rows=100)
    assert len(sample.rows) == 100 and sample.headers[0] == "invoice"
    assert detect_mapping("invoice_lines", path).formats.date_formats == ("%d/%m/%Y",)


def test_parquet_and_excel_samples(tmp_path: Path) -> None:
    table = pa.table({"InvoiceNo": ["A", "B"], "InvoiceDate": [dt.datetime(2024, 1, 5),
                                                               dt.datetime(2024, 1, 6)],
                      "CustomerID": [17850.0, 13047.0], "StockCode": ["X", "Y"],
                      "Quantity": [6, 2], "UnitPrice": [2.55, 3.39]})
    pq.write_table(table, tmp_path / "retail.parquet")
    proposal = detect_mapping("invoice_lines", tmp_path / "retail.parquet")
    assert sources(proposal) == {
        "invoice_id": "InvoiceNo", "invoice_date": "InvoiceDate", "customer_id": "CustomerID",
        "sku": "StockCode", "quantity": "Quantity", "net_revenue": "{Quantity} * {UnitPrice}"}
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["מספר חשבונית", "תאריך", "מספר לקוח", 'מק"ט', "כמות", 'סה"כ'])
    sheet.append(["1", dt.datetime(2024, 3, 1), "7", "S", 2, 19.9])
    book.save(tmp_path / "book.xlsx")
    excel = detect_mapping("invoice_lines", tmp_path / "book.xlsx")
    assert excel.missing == () and excel.columns["sku"].source == 'מק"ט'
    assert excel.formats.date_order == "iso"


def test_rows_without_a_required_id_are_skipped_and_said(ws: Workspace, tmp_path: Path) -> None:
    # anonymous sales (no customer) in a retail export: skipped and counted, not a failed import
    path = write_csv(tmp_path / "r.csv", "InvoiceNo,InvoiceDate,CustomerID,StockCode,Quantity,"
                     "UnitPrice", ["A,2024-01-05,17850,S1,6,2.55", "B,2024-01-05,,S2,1,1.00",
                                   "C,2024-01-06,13047,S1,2,2.55"])
    proposal = detect_mapping("invoice_lines", path)
    assert proposal.mapping.skip_if_empty == ("customer_id",)
    assert any("customer_id: 1 of the first 3 rows have none" in n for n in proposal.notes)
    report = import_file(ws, "invoice_lines", path, proposal.mapping)
    assert (report.inserted, report.rows_skipped) == (2, 1)


def test_excel_day_numbers_are_pointed_out(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", "Invoice,Invoice Date,Customer,SKU,Qty,Total",
                     ["A,45000,C1,S1,1,5.00", "B,45001,C1,S1,1,5.00"])
    proposal = detect_mapping("invoice_lines", path)
    assert proposal.missing == ("invoice_date",)
    assert any(n.startswith("Invoice Date: numbers like Excel day numbers")
               for n in proposal.notes)


def test_title_lines_above_the_header_are_found(ws: Workspace, tmp_path: Path) -> None:
    # a report printed with its name and date above the header, then a blank line
    priority = (DATA / "priority_invoice_lines.csv").read_bytes()
    path = tmp_path / "report.csv"
    path.write_bytes("דוח שורות חשבוניות\nהופק 01/03/2024\n\n".encode("windows-1255")
                     + priority)
    proposal = detect_mapping("invoice_lines", path)
    assert (proposal.shipped, proposal.mapping.skip_rows) == ("priority_invoice_lines", 3)
    assert import_file(ws, "invoice_lines", path, proposal.mapping).inserted == 5

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Sales by line, Q1 2024"])
    sheet.append([])
    sheet.append(["Invoice No", "Date", "Customer", "Item Code", "Qty", "Amount"])
    sheet.append(["A1", "15/01/2024", "C1", "S1", 2, "19.90"])
    book.save(tmp_path / "report.xlsx")
    excel = detect_mapping("invoice_lines", tmp_path / "report.xlsx")
    assert excel.mapping.skip_rows == 2 and excel.missing == ()
    report = import_file(ws, "invoice_lines", tmp_path / "report.xlsx", excel.mapping)
    assert report.inserted == 1


def test_a_saved_mapping_is_recognized_before_the_shipped_ones(tmp_path: Path) -> None:
    first = detect_mapping("invoice_lines", DETECT / "hebrew_invoice_lines.csv")
    saved = first.with_sources({"description": "שם לקוח"}).mapping  # corrected, then saved
    again = detect_mapping("invoice_lines", DETECT / "hebrew_invoice_lines.csv",
                           saved={"our_erp": saved})
    assert (again.saved, again.shipped) == ("our_erp", None)
    assert again.mapping == saved
    assert again.columns["description"].reason == "saved mapping our_erp"


def test_a_header_one_field_short_of_its_rows_is_still_the_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", "invoice,date,customer,sku,qty,total",
                     ["A,2024-01-05,C,S,1,5,", "B,2024-01-06,C,S,1,5,"])
    sample = read_sample(path)
    assert (sample.skip_rows, sample.headers[0], len(sample.rows)) == (0, "invoice", 2)
