"""Priority's REST API: full then incremental sync, credit notes, re-sent invoices, paging."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from salesradar.connectors.base import ConnectorAuthError, ConnectorError
from salesradar.connectors.secrets import CredentialSource
from salesradar.connectors.store import Connection, save_connection
from salesradar.connectors.sync import sync_connection
from salesradar.workspace import writing

from .conftest import FAST, T0, Sleeper, invoice
from .fakes import PriorityServer, priority_time


def lines(workspace: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute("SELECT invoice_id, line_no, invoice_date::VARCHAR, customer_id, "
                           "sku, quantity, net_revenue::DOUBLE, rep_id, description "
                           "FROM invoice_lines ORDER BY 1, 2").fetchall()


def scalar(workspace: Path, sql: str) -> object:
    with duckdb.connect(str(workspace), read_only=True) as con:
        row = con.execute(sql).fetchone()
    return row[0] if row else None


def test_full_then_incremental(workspace: Path, priority: PriorityServer, erp: str,
                               sleeper: Sleeper) -> None:
    first = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    by_object = {o.object: o for o in first.objects}
    assert by_object["AINVOICES"].fetched == 3
    assert by_object["AINVOICES"].inserted == 4
    assert by_object["CUSTOMERS"].fetched == 2 and by_object["AGENTS"].fetched == 2
    assert lines(workspace) == [
        ("CN2500001", 1, "2025-02-05", "C100", "P1", -2.0, -65.0, "01", "שמן זית"),
        ("IN2500001", 1, "2025-02-03", "C100", "P1", 10.0, 325.0, "01", "שמן זית"),
        ("IN2500001", 2, "2025-02-03", "C100", "P2", 4.0, 48.0, "01", "Tahini"),
        ("IN2500002", 1, "2025-02-04", "C200", "P2", 20.0, 230.0, "02", "Tahini"),
    ]
    assert scalar(workspace, "SELECT name FROM customers WHERE customer_id = 'C100'") == \
        'מעדניית השרון בע"מ'
    assert scalar(workspace, "SELECT category FROM products WHERE sku = 'P1'") == "שמנים"
    # the mark is the newest UDATE in UTC (+02:00 in the source)
    assert by_object["AINVOICES"].high_water == "2025-03-02 07:30:00"

    # one invoice re-sent with a line removed and another changed; a new invoice
    changed = invoice("IN2500001", 3, "C100", "01", T0 + timedelta(hours=3),
                      [("P1", "שמן זית", 12, 32.5)])
    priority.entities["AINVOICES"][0] = changed
    priority.entities["AINVOICES"].append(
        invoice("IN2500003", 6, "C200", "02", T0 + timedelta(hours=3, minutes=1),
                [("P1", "שמן זית", 1, 35.0)]))
    second = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    inv = {o.object: o for o in second.objects}["AINVOICES"]
    assert inv.since == "2025-03-02 06:30:00"  # the mark less the one-hour overlap
    # the changed and the new invoice, and the credit note saved at the mark itself (inside
    # the overlap window, unchanged); IN2500002, older, is not fetched again
    assert inv.fetched == 3
    assert (inv.inserted, inv.updated, inv.deleted, inv.unchanged) == (1, 1, 1, 1)
    assert inv.changed == 3
    assert ("IN2500001", 2) not in [(r[0], r[1]) for r in lines(workspace)]
    assert scalar(workspace, "SELECT quantity FROM invoice_lines WHERE invoice_id = "
                  "'IN2500001'") == 12.0
    # the filter asked only for what changed
    filters = [s.query.get("$filter", "") for s in priority.seen if "AINVOICES" in s.path]
    assert "FINAL eq 'Y' and UDATE ge 2025-03-02T06:30:00+00:00" in filters

    third = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert third.changed == 0


def test_invoice_without_lines_is_deleted(workspace: Path, priority: PriorityServer,
                                          erp: str, sleeper: Sleeper) -> None:
    sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    emptied = invoice("IN2500002", 4, "C200", "02", T0 + timedelta(days=1), [])
    priority.entities["AINVOICES"][1] = emptied
    report = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert {o.object: o for o in report.objects}["AINVOICES"].deleted == 1
    assert scalar(workspace, "SELECT count(*) FROM invoice_lines WHERE invoice_id = "
                  "'IN2500002'") == 0


@pytest.mark.parametrize("mode", ["cap", "next_link"])
def test_paging_past_the_server_limit(workspace: Path, priority: PriorityServer, erp: str,
                                      sleeper: Sleeper, mode: str) -> None:
    """Priority cuts an answer at MAXFORMLINES without a link; an OData server may link the
    next page instead. Every invoice arrives either way."""
    priority.entities["AINVOICES"] = [
        invoice(f"IN26{i:05d}", 1 + i % 27, "C100", "01", T0 + timedelta(minutes=i // 3),
                [("P1", "x", 1, 10.0)]) for i in range(23)]
    if mode == "cap":
        priority.max_form_lines = 1  # below the connection's page size of 2
    else:
        priority.server_page = 1
    report = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert {o.object: o for o in report.objects}["AINVOICES"].fetched == 23
    assert scalar(workspace, "SELECT count(DISTINCT invoice_id) FROM invoice_lines") == 23


def test_many_invoices_with_one_update_time(workspace: Path, priority: PriorityServer,
                                            erp: str, sleeper: Sleeper) -> None:
    """More invoices share one UDATE than a page holds (a batch update): $skip within it."""
    priority.entities["AINVOICES"] = [
        invoice(f"IN27{i:05d}", 2, "C100", "01", T0, [("P1", "x", 1, 10.0)])
        for i in range(7)]
    report = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert {o.object: o for o in report.objects}["AINVOICES"].fetched == 7
    assert scalar(workspace, "SELECT count(*) FROM invoice_lines") == 7


def test_wrong_password_names_the_connection(workspace: Path, priority: PriorityServer,
                                             erp: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIORITY_CRED", "apiuser:wrong-password-123")
    with pytest.raises(ConnectorAuthError) as caught:
        sync_connection(workspace, erp, settings=FAST)
    message = str(caught.value)
    assert "connection 'erp' (priority)" in message and "HTTP 401" in message
    assert "wrong-password-123" not in message


def test_filter_dates_are_offsets(priority: PriorityServer) -> None:
    assert priority_time(T0) == "2025-03-02T09:30:00+02:00"


def test_a_company_adjusts_a_field(workspace: Path, priority: PriorityServer,
                                   tmp_path: Path, sleeper: Sleeper,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection's own mapping: a field the shipped one does not read is asked for in
    $select and lands in the canonical column."""
    for record, zone in zip(priority.entities["CUSTOMERS"], ("מרכז", "צפון"), strict=True):
        record["ZONEDES"] = zone
    own = tmp_path / "customers.yaml"
    own.write_text("table: customers\ncolumns:\n  customer_id: CUSTNAME\n  name: CUSTDES\n"
                   "  rep_id: AGENTCODE\n  region: ZONEDES\n", encoding="utf-8")
    monkeypatch.setenv("PRIORITY_CRED", "apiuser:s3cret-Pa55")
    with writing(workspace) as ws:
        save_connection(ws, Connection("erp2", "priority", priority.url,
                                       CredentialSource("env", "PRIORITY_CRED"), "demo",
                                       mappings={"customers": str(own)}))
    sync_connection(workspace, "erp2", settings=FAST, sleep=sleeper)
    selects = [s.query.get("$select", "") for s in priority.seen if "CUSTOMERS" in s.path]
    assert all(s.split(",")[-1] == "ZONEDES" for s in selects)
    assert scalar(workspace, "SELECT region FROM customers WHERE customer_id = 'C200'") == "צפון"


def test_a_form_without_update_date_is_read_whole(workspace: Path, priority: PriorityServer,
                                                  sleeper: Sleeper,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for record in priority.entities["CUSTOMERS"]:
        del record["UDATE"]
    monkeypatch.setenv("PRIORITY_CRED", "apiuser:s3cret-Pa55")
    for name, options in (("plain", {}), ("whole", {"read_whole": "CUSTOMERS"})):
        with writing(workspace) as ws:
            save_connection(ws, Connection(name, "priority", priority.url,
                                           CredentialSource("env", "PRIORITY_CRED"), "demo",
                                           options=options))
    with pytest.raises(ConnectorError, match=r"'plain' \(priority\): CUSTOMERS: HTTP 400: .*"
                       "unknown field UDATE"):
        sync_connection(workspace, "plain", settings=FAST, sleep=sleeper)
    report = sync_connection(workspace, "whole", settings=FAST, sleep=sleeper)
    customers = {o.object: o for o in report.objects}["CUSTOMERS"]
    assert (customers.fetched, customers.since, customers.high_water) == (2, None, None)
    assert scalar(workspace, "SELECT count(*) FROM customers") == 2
