"""Fixtures: the three fake servers with small realistic data (Hebrew names, a credit note),
a workspace with a connection to each, and HTTP settings with tiny waits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from salesradar.connectors.http import HttpSettings
from salesradar.connectors.secrets import CredentialSource
from salesradar.connectors.store import Connection, save_connection
from salesradar.workspace import writing

from .fakes import HubSpotServer, PriorityServer, SapServer, priority_time

FAST = HttpSettings(timeout=5.0, attempts=3, backoff=0.001, max_backoff=0.005,
                    rate_limit_budget=60.0, max_retry_after=30.0)
PRIORITY_SECRET = "apiuser:s3cret-Pa55"
SAP_SECRET = "manager:B1-secret-pw"
HUBSPOT_SECRET = "pat-eu1-11111111-2222-3333-4444-555555555555"
T0 = datetime(2025, 3, 2, 9, 30)


class Sleeper:
    """A sleep that only records: retries and rate-limit waits cost no test time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


def invoice(number: str, day: int, customer: str, agent: str, updated: datetime,
            items: list[tuple[str, str, float, float]], *, debit: str = "D") -> dict[str, Any]:
    """An AINVOICES record as Priority returns it, with its item subform."""
    return {
        "IVNUM": number, "IVDATE": priority_time(datetime(2025, 2, day)), "CUSTNAME": customer,
        "CDES": None, "AGENTCODE": agent, "DEBIT": debit, "IVTYPE": "A", "FINAL": "Y",
        "STATDES": "סופית", "UDATE": priority_time(updated),
        "AINVOICEITEMS_SUBFORM": [
            {"KLINE": i + 1, "PARTNAME": part, "PDES": desc, "TQUANT": qty, "PRICE": price,
             "QPRICE": round(qty * price, 2), "PERCENT": 0}
            for i, (part, desc, qty, price) in enumerate(items)],
    }


@pytest.fixture
def priority() -> Iterator[PriorityServer]:
    server = PriorityServer()
    server.entities["AGENTS"] = [
        {"AGENTCODE": "01", "AGENTNAME": "דנה כהן", "INACTIVE": None},
        {"AGENTCODE": "02", "AGENTNAME": "Yossi Levi", "INACTIVE": None}]
    server.entities["CUSTOMERS"] = [
        {"CUSTNAME": "C100", "CUSTDES": 'מעדניית השרון בע"מ', "AGENTCODE": "01",
         "UDATE": priority_time(T0)},
        {"CUSTNAME": "C200", "CUSTDES": "Galil Foods Ltd", "AGENTCODE": "02",
         "UDATE": priority_time(T0)}]
    server.entities["LOGPART"] = [
        {"PARTNAME": "P1", "PARTDES": "שמן זית כתית 1 ל'", "FAMILYNAME": "שמנים",
         "UDATE": priority_time(T0)},
        {"PARTNAME": "P2", "PARTDES": "Tahini 500g", "FAMILYNAME": "ממרחים",
         "UDATE": priority_time(T0)}]
    server.entities["AINVOICES"] = [
        invoice("IN2500001", 3, "C100", "01", T0 - timedelta(days=2),
                [("P1", "שמן זית", 10, 32.5), ("P2", "Tahini", 4, 12.0)]),
        invoice("IN2500002", 4, "C200", "02", T0 - timedelta(days=1),
                [("P2", "Tahini", 20, 11.5)]),
        invoice("CN2500001", 5, "C100", "01", T0, [("P1", "שמן זית", 2, 32.5)], debit="C"),
    ]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sap() -> Iterator[SapServer]:
    server = SapServer()
    server.entities["SalesPersons"] = [
        {"SalesEmployeeCode": -1, "SalesEmployeeName": "-No Sales Employee-", "Active": "tYES",
         "Email": None},
        {"SalesEmployeeCode": 3, "SalesEmployeeName": "רונית אברהם", "Active": "tYES",
         "Email": "ronit@example.co.il"}]
    server.entities["BusinessPartners"] = [
        {"CardCode": "C20000", "CardName": "סופר דוד בע\"מ", "CardType": "cCustomer",
         "SalesPersonCode": 3, "CreateDate": "2023-05-01T00:00:00Z",
         "UpdateDate": "2025-03-01T00:00:00Z", "UpdateTime": "10:15:00"},
        {"CardCode": "V10000", "CardName": "Supplier", "CardType": "cSupplier",
         "SalesPersonCode": -1, "CreateDate": "2023-05-01T00:00:00Z",
         "UpdateDate": "2025-03-01T00:00:00Z", "UpdateTime": "10:15:00"}]
    server.entities["Items"] = [
        {"ItemCode": "A100", "ItemName": "קפה טורקי 200 גר'", "ItemsGroupCode": 101,
         "Valid": "tYES", "SalesItem": "tYES", "UpdateDate": "2025-03-01T00:00:00Z",
         "UpdateTime": "09:00:00"},
        {"ItemCode": "A200", "ItemName": "Espresso beans", "ItemsGroupCode": 101,
         "Valid": "tNO", "SalesItem": "tYES", "UpdateDate": "2025-03-01T00:00:00Z",
         "UpdateTime": "09:00:00"}]
    server.entities["Invoices"] = [sap_doc(i, 1 + i % 25, [("A100", 3, 40.0, 22.0)])
                                   for i in range(1, 46)]
    server.entities["CreditNotes"] = [sap_doc(1, 10, [("A100", 1, 40.0, 22.0)])]
    server.start()
    yield server
    server.stop()


def sap_doc(number: int, day: int, lines: list[tuple[str, float, float, float]], *,
            updated: str = "2025-03-01", cancelled: bool = False) -> dict[str, Any]:
    """A marketing document (Invoices/CreditNotes) as the Service Layer returns it."""
    return {
        "DocEntry": 1000 + number, "DocNum": number, "DocDate": f"2025-02-{day:02d}T00:00:00Z",
        "CardCode": "C20000", "SalesPersonCode": 3, "UpdateDate": f"{updated}T00:00:00Z",
        "UpdateTime": "11:00:00", "Cancelled": "tYES" if cancelled else "tNO",
        "CancelStatus": "csYes" if cancelled else "csNo",
        "DocumentLines": [
            {"LineNum": i, "ItemCode": code, "ItemDescription": "קפה", "Quantity": qty,
             "Price": price, "LineTotal": qty * price, "GrossBuyPrice": cost,
             "SalesPersonCode": 3, "WarehouseCode": "01"}
            for i, (code, qty, price, cost) in enumerate(lines)],
    }


@pytest.fixture
def hubspot() -> Iterator[HubSpotServer]:
    server = HubSpotServer()
    server.owners = [
        {"id": "501", "email": "maya@example.co.il", "firstName": "מאיה", "lastName": "לוי",
         "userId": 9001, "archived": False, "teams": [{"id": "7", "name": "צפון",
                                                        "primary": True}]},
        {"id": "502", "email": "tom@example.com", "firstName": "Tom", "lastName": "Bar",
         "userId": 9002, "archived": False, "teams": []}]
    server.pipelines = [{"id": "default", "label": "Sales Pipeline", "stages": [
        {"id": "appointmentscheduled", "label": "Appointment Scheduled",
         "metadata": {"isClosed": "false", "probability": "0.2"}},
        {"id": "closedwon", "label": "Closed Won",
         "metadata": {"isClosed": "true", "probability": "1.0"}},
        {"id": "closedlost", "label": "Closed Lost",
         "metadata": {"isClosed": "true", "probability": "0.0"}}]}]
    server.add("companies", "11", name="חברת הגליל", hubspot_owner_id="501",
               industry="FOOD_BEVERAGES", country="Israel", annualrevenue="1200000")
    server.add("companies", "12", name="Negev Trading", hubspot_owner_id="502",
               industry=None, country="Israel", annualrevenue=None)
    server.add("contacts", "21", firstname="אבי", lastname="כהן", email="avi@galil.co.il",
               jobtitle="CEO", notes_last_updated="2025-01-01T10:00:00.000Z")
    server.add("contacts", "22", firstname="Noa", lastname=None, email="noa@x.com",
               jobtitle="Buyer", notes_last_updated=None)
    server.link("contacts", "companies", "21", "11", "Primary")
    server.link("contacts", "companies", "22", "12")
    server.add("deals", "31", dealname="הזמנה שנתית", pipeline="default",
               dealstage="closedwon", amount="50000", closedate="2025-01-20T00:00:00.000Z",
               hubspot_owner_id="501", hs_date_entered_appointmentscheduled=
               "2024-12-01T09:00:00.000Z", hs_date_entered_closedwon="2025-01-20T09:00:00.000Z")
    server.add("deals", "32", dealname="Pilot", pipeline="default",
               dealstage="appointmentscheduled", amount="8000", closedate=None,
               hubspot_owner_id="502",
               hs_date_entered_appointmentscheduled="2025-01-05T09:00:00.000Z")
    server.link("deals", "companies", "31", "11", "Primary")
    server.link("deals", "companies", "32", "12", "Primary")
    server.add("calls", "41", hs_timestamp="2025-01-10T08:00:00.000Z", hubspot_owner_id="501",
               hs_call_duration="185000",
               hs_call_disposition="f240bbac-87c9-4f6e-bf70-924b57d47db7")
    server.link("calls", "companies", "41", "11")
    server.link("calls", "deals", "41", "31")
    server.add("meetings", "51", hs_timestamp="2025-01-12T08:00:00.000Z",
               hubspot_owner_id="501", hs_meeting_outcome="COMPLETED",
               hs_meeting_start_time="2025-01-12T08:00:00.000Z",
               hs_meeting_end_time="2025-01-12T08:45:00.000Z")
    server.link("meetings", "companies", "51", "11")
    server.add("emails", "61", hs_timestamp="2025-01-13T08:00:00.000Z",
               hubspot_owner_id="502", hs_email_direction="EMAIL")
    server.link("emails", "companies", "61", "12")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws.duckdb"


def connect(workspace: Path, name: str, system: str, url: str, *, env: str,
            company: str | None = None, **options: Any) -> Connection:
    """Store a connection whose credential comes from the environment variable ``env``."""
    connection = Connection(name=name, system=system, url=url, company=company,
                            credential=CredentialSource("env", env), options=options)
    with writing(workspace) as ws:
        save_connection(ws, connection)
    return connection


@pytest.fixture
def erp(workspace: Path, priority: PriorityServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PRIORITY_CRED", PRIORITY_SECRET)
    connect(workspace, "erp", "priority", priority.url, env="PRIORITY_CRED", company="demo",
            page_size=2)
    return "erp"


@pytest.fixture
def b1(workspace: Path, sap: SapServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAP_CRED", SAP_SECRET)
    connect(workspace, "b1", "sap-b1", sap.url, env="SAP_CRED", company="SBODEMOIL",
            page_size=10)
    return "b1"


@pytest.fixture
def crm(workspace: Path, hubspot: HubSpotServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HUBSPOT_TOKEN", HUBSPOT_SECRET)
    connect(workspace, "crm", "hubspot", hubspot.url, env="HUBSPOT_TOKEN",
            search_interval=0, daily_reserve=10)
    return "crm"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every salesradar log line, and the INFO lines of the libraries (httpx logs each
    request's method, URL and status there). httpcore's DEBUG trace, off unless a user turns it
    on, shows raw response headers, a Service Layer session cookie among them."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="salesradar")
    return caplog
