"""`salesradar serve` and `salesradar run` share the workspace file (docs/web.md).

The server opens the workspace read-only per request and never holds it, so another process can
open it for writing between requests; while that process holds it, cached pages and the inbox keep
answering and the rest answer 503 "workspace busy" in the one error shape.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from salesradar.api import create_app
from web.web_helpers import Site, login, serve

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # read-write: takes DuckDB's exclusive file lock
con.execute("CREATE TABLE IF NOT EXISTS _held (x INTEGER)")
print("holding", flush=True)
sys.stdin.readline()  # until the test says so
con.close()
"""


def writer(path: Path) -> subprocess.Popen[str]:
    """Another process that opens the workspace for writing and holds it until told to stop."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "holding"
    return process


def release(process: subprocess.Popen[str]) -> None:
    process.communicate("\n", timeout=60)  # also closes the pipes
    assert process.returncode == 0


def test_a_writer_can_take_the_workspace_while_the_app_serves(site: Site, tmp_path: Path) -> None:
    copy = tmp_path / "salesradar.duckdb"
    shutil.copy2(site.workspace, copy)
    url = serve(create_app(copy, site.db))
    with httpx.Client(base_url=url, follow_redirects=False, timeout=120) as client:
        login(client, "admin")
        assert client.get("/").status_code == 200  # computes and caches the dashboard
        assert client.get("/customers").status_code == 200
        held = writer(copy)  # fails here if the app still had the file open
        try:
            assert client.get("/").status_code == 200  # cached
            assert client.get("/inbox").status_code == 200  # the app database only
            busy = client.get("/api/v1/customers")
            assert busy.status_code == 503
            assert busy.json()["error"]["code"] == "workspace_busy"
            assert client.get("/customers").status_code == 503
        finally:
            release(held)
        # the writer changed the file: the next request sees the new version and recomputes
        assert client.get("/customers").status_code == 200
        assert client.get("/").status_code == 200


def test_the_dashboards_are_computed_before_anyone_asks(site: Site) -> None:
    import time

    from salesradar.access import EVERYTHING
    from salesradar.app.users import list_users

    app = create_app(site.workspace, site.db, warm=True)
    url = serve(app, lifespan="on")
    with httpx.Client(base_url=url, timeout=60) as client:
        deadline = time.monotonic() + 300
        while not client.get("/healthz").json()["warm"]:
            assert time.monotonic() < deadline, "the warm-up never finished"
            time.sleep(0.2)
    st = app.state.sr
    manager = next(u for u in list_users(site.db) if u.username == "manager")
    cached = {(name, scope) for name, scope, _version in st._cache}
    assert {("dashboard", EVERYTHING.key()), ("dashboard", st.scope(manager).key()),
            ("pipeline", EVERYTHING.key()), ("scorecards", EVERYTHING.key())} <= cached
