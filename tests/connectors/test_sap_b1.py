"""SAP Business One's Service Layer: login session, paging, increments, credit notes,
cancelled documents, an expired session."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from salesradar.connectors.base import ConnectorAuthError
from salesradar.connectors.sync import sync_connection

from .conftest import FAST, Sleeper, connect, sap_doc
from .fakes import SapServer


def rows(workspace: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_full_then_incremental(workspace: Path, sap: SapServer, b1: str,
                               sleeper: Sleeper) -> None:
    first = sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    by_object = {o.object: o for o in first.objects}
    assert by_object["Invoices"].fetched == 45  # 5 pages of 10 (Prefer: odata.maxpagesize)
    assert by_object["BusinessPartners"].fetched == 1  # customers only (CardType filter)
    assert sap.logins == 1
    pages = [s for s in sap.seen if s.path.endswith("/Invoices")]
    assert len(pages) == 5 and all("odata.maxpagesize=10" in s.headers["Prefer"] for s in pages)
    assert rows(workspace, "SELECT invoice_id, line_no, quantity, net_revenue::DOUBLE, "
                "cost::DOUBLE, rep_id FROM invoice_lines WHERE invoice_id IN ('IN1', 'CN1') "
                "ORDER BY 1") == [("CN1", 0, -1.0, -40.0, -22.0, "3"),
                                  ("IN1", 0, 3.0, 120.0, 66.0, "3")]
    assert rows(workspace, "SELECT name FROM customers") == [('סופר דוד בע"מ',)]
    assert rows(workspace, "SELECT sku, active FROM products ORDER BY 1") == [
        ("A100", True), ("A200", False)]
    assert rows(workspace, "SELECT name FROM reps WHERE rep_id = '3'") == [("רונית אברהם",)]

    # a later day: one invoice changed, one cancelled, one new
    sap.entities["Invoices"][0] = sap_doc(1, 1, [("A100", 5, 40.0, 22.0)], updated="2025-03-05")
    sap.entities["Invoices"][1] = sap_doc(2, 2, [("A100", 3, 40.0, 22.0)], updated="2025-03-05",
                                          cancelled=True)
    sap.entities["Invoices"].append(sap_doc(46, 20, [("A200", 1, 55.0, 30.0)],
                                            updated="2025-03-05"))
    second = sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    inv = {o.object: o for o in second.objects}["Invoices"]
    # UpdateDate holds a day: the mark's day (1 March) is read again, not the older days
    filters = [s.query.get("$filter") for s in sap.seen if s.path.endswith("/Invoices")]
    assert filters[-1] == "UpdateDate ge '2025-03-01'"
    assert (inv.inserted, inv.updated, inv.deleted) == (1, 1, 1)
    assert rows(workspace, "SELECT count(*) FROM invoice_lines WHERE invoice_id = 'IN2'") == \
        [(0,)]
    assert rows(workspace, "SELECT quantity FROM invoice_lines WHERE invoice_id = 'IN1'") == \
        [(5.0,)]
    assert sap.sessions == set()  # logged out


def test_expired_session_logs_in_again(workspace: Path, sap: SapServer, b1: str,
                                       sleeper: Sleeper) -> None:
    original = sap.answer

    def expire_once(seen):  # type: ignore[no-untyped-def]
        if seen.path.endswith("/Items") and sap.logins == 1:
            sap.sessions.clear()
        return original(seen)

    sap.answer = expire_once  # type: ignore[method-assign]
    report = sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    assert sap.logins == 2
    assert {o.object: o for o in report.objects}["Items"].fetched == 2


def test_wrong_password(workspace: Path, sap: SapServer, b1: str,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAP_CRED", "manager:not-the-password")
    with pytest.raises(ConnectorAuthError) as caught:
        sync_connection(workspace, b1, settings=FAST)
    message = str(caught.value)
    assert "connection 'b1' (sap-b1)" in message and "SBODEMOIL" in message
    assert "Login failed" in message and "not-the-password" not in message


def test_a_record_created_while_paging_is_read_once(workspace: Path, sap: SapServer, b1: str,
                                                    sleeper: Sleeper) -> None:
    """A customer created mid-sync with a code before the page boundary shifts the rest by
    one: the next page repeats a record, which must not reach the importer twice."""
    sap.entities["BusinessPartners"] = [
        {"CardCode": f"C{i:03d}", "CardName": f"לקוח {i}", "CardType": "cCustomer",
         "SalesPersonCode": 3, "CreateDate": "2024-01-01T00:00:00Z",
         "UpdateDate": "2025-03-01T00:00:00Z", "UpdateTime": "10:00:00"} for i in range(0, 30, 2)]
    original = sap.answer

    def insert_after_first_page(seen):  # type: ignore[no-untyped-def]
        answer = original(seen)
        if seen.path.endswith("/BusinessPartners") and "$skip" not in seen.query:
            sap.entities["BusinessPartners"].append(dict(
                sap.entities["BusinessPartners"][0], CardCode="C001", CardName="חדש"))
        return answer

    sap.answer = insert_after_first_page  # type: ignore[method-assign]
    report = sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    customers = {o.object: o for o in report.objects}["BusinessPartners"]
    assert customers.fetched == 15 and customers.inserted == 15


def test_rows_spooled_in_parts_import_the_same(workspace: Path, sap: SapServer, b1: str,
                                               sleeper: Sleeper, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 4 rows (documents of 3 lines never split between two parts): the same lines."""
    sap.entities["Invoices"] = [sap_doc(i, 1 + i % 25, [("A100", 1, 40.0, 22.0),
                                                        ("A200", 2, 10.0, 5.0),
                                                        ("A100", 3, 40.0, 22.0)])
                                for i in range(1, 12)]
    sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    whole = rows(workspace, "SELECT * FROM invoice_lines ORDER BY invoice_id, line_no")
    monkeypatch.setattr("salesradar.connectors.sync.SPOOL_ROWS", 4)
    other = tmp_path / "spooled.duckdb"
    monkeypatch.setenv("SAP_CRED", "manager:B1-secret-pw")
    connect(other, "b1", "sap-b1", sap.url, env="SAP_CRED", company="SBODEMOIL", page_size=10)
    report = sync_connection(other, b1, settings=FAST, sleep=sleeper)
    assert {o.object: o for o in report.objects}["Invoices"].inserted == 33
    assert rows(other, "SELECT * FROM invoice_lines ORDER BY invoice_id, line_no") == whole
    with duckdb.connect(str(other), read_only=True) as con:
        parts = con.execute("SELECT count(*) FROM _salesradar_imports WHERE source = "
                            "'b1:Invoices'").fetchone()
    assert parts is not None and parts[0] == 6  # 11 documents, at most 2 a part (6 rows)
