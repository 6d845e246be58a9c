"""/admin/refresh: "refresh now" runs to the end with its stages, one at a time; the last runs;
the schedule, which the server runs by itself (tested with a clock of the test's choosing).

The refresh writes a copy of the demo company on a server of its own, so the shared one stays
as it is.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from salesradar.api import create_app
from salesradar.app.audit import list_events
from salesradar.app.db import AppDB
from salesradar.app.jobs import run_due, runner_for, scheduler
from salesradar.app.schedule import get_schedule, list_runs, set_schedule
from salesradar.app.users import add_user, create_token
from web.web_helpers import OPEN_CLIENTS, PASSWORD, Site, csrf_of, login, serve


class Served:
    def __init__(self, workspace: Path, db: AppDB, url: str) -> None:
        self.workspace, self.db, self.url = workspace, db, url
        self.token = create_token(db, "admin")

    def admin(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=120)
        OPEN_CLIENTS.append(client)
        login(client, "admin")
        return client


@pytest.fixture(scope="module")
def copy(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A copy of the demo company, its own app database and admin, served."""
    folder = tmp_path_factory.mktemp("refresh-company")
    workspace = folder / "acme.duckdb"
    shutil.copy2(site.workspace, workspace)
    models = site.workspace.with_name(site.workspace.name + ".models")
    if models.is_dir():
        shutil.copytree(models, workspace.with_name(workspace.name + ".models"))
    db = AppDB.open(f"sqlite:///{folder / 'app.sqlite'}")
    add_user(db, "admin", PASSWORD, role="admin")
    yield Served(workspace, db, serve(create_app(workspace, db)))
    db.close()


def test_refresh_now_runs_to_done_one_at_a_time(copy: Served) -> None:
    client = copy.admin()
    page = client.get("/admin/refresh")
    assert page.status_code == 200 and 'data-testid="no-runs"' in page.text
    token = csrf_of(page.text)
    started = client.post("/admin/refresh/run", data={"csrf_token": token})
    assert started.status_code == 303
    second = client.post("/admin/refresh/run", data={"csrf_token": token})
    assert second.status_code == 409 and "already running" in second.text
    api = client.post("/api/v1/admin/refresh", headers={"Authorization": f"Bearer {copy.token}"})
    assert api.status_code == 409 and api.json()["error"]["code"] == "busy"
    running = client.get("/admin/refresh")
    assert 'data-testid="refresh-progress"' in running.text  # the page while it runs
    assert '<meta http-equiv="refresh"' in running.text  # without JavaScript: reloads
    seen = set()
    deadline = time.monotonic() + 120
    while True:
        status = client.get("/admin/refresh/status").json()
        seen.add(status["job"]["stage"].split(":")[0])
        if status["job"]["finished"]:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    job = status["job"]
    assert job["status"] == "done", job["error"]
    stages = [s["stage"].split(":")[0] for s in job["stages"]]
    assert {"starting", "scoring", "insights", "outcomes", "publishing", "delivering",
            "done"} <= set(stages)
    assert job["result"]["insights_total"] > 0
    runs = status["runs"]
    assert runs[0]["status"] == "done" and runs[0]["trigger"] == "now"
    assert runs[0]["seconds"] > 0 and runs[0]["summary"]["insights_total"] > 0
    after = client.get("/admin/refresh")
    assert 'data-testid="run-row" data-status="done"' in after.text
    assert 'data-testid="refresh-last-status"' in after.text
    done = [e["detail"]["status"] for e in list_events(copy.db, action="refresh.run")]
    assert done == ["done", "started"]
    over_api = client.get("/api/v1/admin/refresh",
                          headers={"Authorization": f"Bearer {copy.token}"}).json()
    assert over_api["job"]["status"] == "done" and over_api["runs"][0]["id"] == runs[0]["id"]

    # nothing has changed since: the next refresh keeps those results and says so
    assert client.post("/admin/refresh/run", data={"csrf_token": token}).status_code == 303
    deadline = time.monotonic() + 120
    while not (status := client.get("/admin/refresh/status").json())["job"]["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    again = status["job"]
    assert again["status"] == "done" and again["result"]["unchanged"] is True
    assert "scoring" not in {s["stage"].split(":")[0] for s in again["stages"]}
    assert again["result"]["insights_total"] == job["result"]["insights_total"]
    page = client.get("/admin/refresh").text
    assert page.count('data-testid="run-unchanged"') == 1


def test_the_schedule_is_set_in_the_page_and_kept(copy: Served) -> None:
    client = copy.admin()
    token = csrf_of(client.get("/admin/refresh").text)
    saved = client.post("/admin/refresh/schedule",
                        data={"csrf_token": token, "mode": "daily", "at": "02:00"})
    assert saved.status_code == 200 and "daily at 02:00" in saved.text
    assert get_schedule(copy.db).mode == "daily" and get_schedule(copy.db).at == "02:00"
    wrong = client.post("/admin/refresh/schedule",
                        data={"csrf_token": token, "mode": "daily", "at": "25:61"})
    assert wrong.status_code == 400 and get_schedule(copy.db).at == "02:00"
    over_api = client.put("/api/v1/admin/refresh/schedule", json={"schedule": "off"},
                          headers={"Authorization": f"Bearer {copy.token}"})
    assert over_api.status_code == 200 and over_api.json()["mode"] == "off"
    changes = [e["detail"]["schedule"] for e in list_events(copy.db, action="refresh.schedule")]
    assert changes == ["off", "daily 02:00"]


def test_the_server_runs_the_schedule_when_it_is_due(tmp_path: Path) -> None:
    """With a clock of the test's choosing: not before 02:00, once at 02:00, not twice a day.
    (An empty workspace: the run fails at once, which is all the schedule needs here.)"""
    db = AppDB.open(f"sqlite:///{tmp_path / 'app.sqlite'}")
    workspace = tmp_path / "empty.duckdb"
    set_schedule(db, "daily 02:00", by="test", now=datetime(2026, 12, 6, 1, 0))
    assert run_due(workspace, db, datetime(2026, 12, 6, 1, 59)) is None
    job = run_due(workspace, db, datetime(2026, 12, 6, 2, 0))
    assert job is not None and job.actor == "scheduler"
    assert job.done.wait(60)
    assert run_due(workspace, db, datetime(2026, 12, 6, 23, 0)) is None  # once a day
    assert list_runs(db)[0]["trigger"] == "schedule"
    # the loop the app's lifespan starts, on the next day's clock
    stop = threading.Event()
    loop = threading.Thread(target=scheduler, args=(workspace, db, stop),
                            kwargs={"every": 0.01, "clock": lambda: datetime(2026, 12, 7, 3, 0)})
    loop.start()
    deadline = time.monotonic() + 30
    while len(list_runs(db)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stop.set()
    loop.join(10)
    last = runner_for(workspace).last("refresh")
    assert last is not None and last.done.wait(60)
    assert get_schedule(db).last_run_on == "2026-12-07"
    assert len(list_runs(db)) == 2
    db.close()


def test_the_serving_app_starts_the_schedule_thread(site: Site) -> None:
    names = {t.name for t in threading.enumerate()}
    serve(create_app(site.workspace, site.db), lifespan="on")
    assert "salesradar-schedule" in {t.name for t in threading.enumerate()} - names
