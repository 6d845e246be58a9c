"""/admin/connections: a small company with one Priority connection (a local fake Priority
server), served: the page lists it, the test button answers "ok" or names the connection's
error without the credential, reps and managers get 403, and a refresh syncs first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.fakes import PriorityServer, priority_time
from salesradar.api import create_app
from salesradar.app.audit import list_events
from salesradar.app.db import AppDB
from salesradar.app.jobs import runner_for
from salesradar.app.users import add_user
from salesradar.connectors.secrets import CredentialSource
from salesradar.connectors.store import Connection, save_connection
from salesradar.workspace import writing
from web.web_helpers import OPEN_CLIENTS, PASSWORD, csrf_of, login, serve

ENV = "SR_WEB_TEST_PRIORITY_CRED"
SECRET = "apiuser:s3cret-Pa55"
WRONG = "apiuser:Wr0ng-Passw0rd-XYZ"
T0 = datetime(2025, 3, 2, 9, 30)
CUSTOMERS = 30


def invoice(number: str, day: datetime, customer: str, agent: str,
            items: list[tuple[str, float, float]]) -> dict[str, Any]:
    """An AINVOICES record with its item subform, as Priority returns it."""
    return {
        "IVNUM": number, "IVDATE": priority_time(day), "CUSTNAME": customer,
        "CDES": None, "AGENTCODE": agent, "DEBIT": "D", "IVTYPE": "A", "FINAL": "Y",
        "STATDES": "סופית", "UDATE": priority_time(day + timedelta(hours=2)),
        "AINVOICEITEMS_SUBFORM": [
            {"KLINE": i + 1, "PARTNAME": part, "PDES": part, "TQUANT": qty, "PRICE": price,
             "QPRICE": round(qty * price, 2), "PERCENT": 0}
            for i, (part, qty, price) in enumerate(items)],
    }


@dataclass
class Company:
    workspace: Path
    db: AppDB
    url: str
    priority: PriorityServer
    env: pytest.MonkeyPatch

    def client(self, username: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=60)
        OPEN_CLIENTS.append(client)
        login(client, username)
        return client


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """A workspace holding only a Priority connection, its app database and users, served."""
    folder = tmp_path_factory.mktemp("connections-company")
    workspace = folder / "ws.duckdb"
    priority = PriorityServer()
    priority.entities["AGENTS"] = [{"AGENTCODE": "01", "AGENTNAME": "דנה כהן",
                                    "INACTIVE": None}]
    priority.entities["CUSTOMERS"] = [
        {"CUSTNAME": f"C{n}", "CUSTDES": f"לקוח {n}", "AGENTCODE": "01",
         "UDATE": priority_time(T0)} for n in range(1, CUSTOMERS + 1)]
    priority.entities["LOGPART"] = [
        {"PARTNAME": "P1", "PARTDES": "שמן זית", "FAMILYNAME": "שמנים",
         "UDATE": priority_time(T0)}]
    # two years of monthly orders from 30 customers; every third one stops after a year
    priority.entities["AINVOICES"] = [
        invoice(f"IN{c:02d}{m:03d}", datetime(2024 + m // 12, 1 + m % 12, 1 + c % 27),
                f"C{c}", "01", [("P1", 2 + (c * m) % 5, 30.0)])
        for c in range(1, CUSTOMERS + 1) for m in range(24) if c % 3 or m < 12]
    priority.start()
    env = pytest.MonkeyPatch()
    env.setenv(ENV, SECRET)
    with writing(workspace) as ws:
        save_connection(ws, Connection(name="erp", system="priority", url=priority.url,
                                       company="demo", credential=CredentialSource("env", ENV),
                                       options={"page_size": 200}))
    db = AppDB.open(f"sqlite:///{folder / 'app.sqlite'}")
    add_user(db, "admin", PASSWORD, role="admin")
    add_user(db, "admin_he", PASSWORD, role="admin", lang="he")
    add_user(db, "manager", PASSWORD, role="manager", team="north")
    add_user(db, "rep", PASSWORD, role="rep", rep_id="01")
    yield Company(workspace, db, serve(create_app(workspace, db)), priority, env)
    env.undo()
    db.close()
    priority.stop()


def test_page_lists_the_connection(company: Company) -> None:
    page = company.client("admin").get("/admin/connections")
    assert page.status_code == 200, page.text
    assert 'data-testid="connection-erp"' in page.text
    assert 'data-testid="connection-erp-system">priority<' in page.text
    assert company.priority.url in page.text and f"env:{ENV}" in page.text
    assert 'data-testid="connection-erp-test"' in page.text
    assert SECRET not in page.text and "s3cret" not in page.text
    assert '<div class="scroll">' in page.text
    hub = company.client("admin").get("/admin")
    assert 'data-testid="admin-link-connections"' in hub.text
    hebrew = company.client("admin_he").get("/admin/connections")
    assert hebrew.status_code == 200 and "בדיקת החיבור" in hebrew.text


def test_the_test_button(company: Company) -> None:
    admin = company.client("admin")
    token = csrf_of(admin.get("/admin/connections").text)
    ok = admin.post("/admin/connections/test", data={"name": "erp", "csrf_token": token})
    assert ok.status_code == 200
    assert 'data-testid="connection-test-result" data-ok="1"' in ok.text
    assert "erp: ok" in ok.text and "agents_readable" in ok.text

    company.env.setenv(ENV, WRONG)
    try:
        bad = admin.post("/admin/connections/test", data={"name": "erp", "csrf_token": token})
    finally:
        company.env.setenv(ENV, SECRET)
    assert bad.status_code == 200
    assert 'data-testid="connection-test-result" data-ok="0"' in bad.text
    assert "'erp'" in bad.text or "&#39;erp&#39;" in bad.text
    assert "Wr0ng" not in bad.text and WRONG not in bad.text

    no_csrf = admin.post("/admin/connections/test", data={"name": "erp", "csrf_token": "x"})
    assert no_csrf.status_code == 403
    tests = list_events(company.db, action="connection.test")
    assert [e["detail"]["ok"] for e in tests][:2] == [False, True]
    assert all("Wr0ng" not in str(e) for e in tests)


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_not_for_reps_or_managers(company: Company, who: str) -> None:
    client = company.client(who)
    assert client.get("/admin/connections").status_code == 403
    token = csrf_of(client.get("/").text) if client.get("/").status_code == 200 else "x"
    post = client.post("/admin/connections/test", data={"name": "erp", "csrf_token": token})
    assert post.status_code == 403


def wait(job: Any) -> None:
    assert job.done.wait(60), job.to_dict()


def test_a_refresh_syncs_first(company: Company) -> None:
    job = runner_for(company.workspace).start_refresh(company.db, actor="admin",
                                                      deliver=False)
    wait(job)
    assert job.status == "done" and job.error is None, job.to_dict()
    stages = [s for s, _ in job.stages]
    assert "syncing" in stages and stages.index("syncing") < len(stages) - 1
    assert job.result["sync_fetched"] > 0, job.to_dict()
    assert job.result["sync_failed"] == 0
    objects = job.result["sync"][0]["objects"]
    assert objects["AINVOICES"]["fetched"] == 600 and objects["AINVOICES"]["changed"] > 0
    events = list_events(company.db, action="sync.run")
    assert events and events[0]["detail"]["error"] is None
    page = company.client("admin").get("/admin/connections")
    assert 'data-testid="connection-erp-last-ok"' in page.text
    assert 'data-testid="connection-erp-object-AINVOICES"' in page.text
    assert 'data-testid="connection-erp-marks"' in page.text

    # a connection that fails does not stop the refresh: its error is the run's error
    company.env.setenv(ENV, WRONG)
    try:
        failed = runner_for(company.workspace).start_refresh(company.db, actor="admin",
                                                             deliver=False)
        wait(failed)
    finally:
        company.env.setenv(ENV, SECRET)
    assert failed.status == "done", failed.to_dict()  # the refresh went on
    assert failed.result.get("sync_failed") == 1, failed.to_dict()
    assert failed.error and failed.error.startswith("sync: ") and "'erp'" in failed.error
    assert "Wr0ng" not in failed.error
    audit = list_events(company.db, action="sync.run")[0]["detail"]
    assert audit["failed"] == 1 and "erp" in audit["error"]
    page = company.client("admin").get("/admin/connections")
    assert 'data-testid="connection-erp-last-error"' in page.text


def test_empty_state(tmp_path: Path) -> None:
    db = AppDB.open(f"sqlite:///{tmp_path / 'app.sqlite'}")
    add_user(db, "admin", PASSWORD, role="admin")
    url = serve(create_app(tmp_path / "none.duckdb", db))
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
    OPEN_CLIENTS.append(client)
    login(client, "admin")
    page = client.get("/admin/connections")
    assert page.status_code == 200
    assert 'data-testid="no-connections"' in page.text and "salesradar connect" in page.text
    db.close()
