"""One served demo company for the API and page tests: workspace, app database, users, tokens.

``salesradar demo`` builds it once per test session (about ten seconds); the app runs in a real
uvicorn server on a free loopback port and the tests talk HTTP to it with httpx (real routing,
cookies, forms, templates, DuckDB, SQLite).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from helpers import demo_copy
from salesradar.api import create_app
from salesradar.app.db import AppDB
from salesradar.app.users import add_user, create_token
from salesradar.cli.web import server_config
from salesradar.insights import InsightStore

PASSWORD = "web-tests-Correct-Horse"


@dataclass
class Site:
    """The demo company as the tests see it."""

    workspace: Path
    db: AppDB
    app: FastAPI
    url: str
    rep_id: str  # the rep with the most open insights (user ``rep``)
    team: str  # that rep's team (user ``manager`` leads it)
    other_rep_id: str  # a rep of another team with insights (user ``other``)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> InsightStore:
        return InsightStore(self.db)

    def client(self, username: str | None = None) -> httpx.Client:
        """A client, logged in as ``username`` through the login form (anonymous if None)."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=120)
        OPEN_CLIENTS.append(client)
        if username is not None:
            login(client, username)
        return client

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> Any:
    form = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(form.text)})
    assert response.status_code == 303, response.text
    return response


OPEN_CLIENTS: list[httpx.Client] = []


def close_clients() -> None:
    """Close the clients the test opened."""
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


def serve(app: FastAPI, *, lifespan: str = "off", forwarded_allow_ips: str | None = None) -> str:
    """Run ``app`` in a real uvicorn server on a free loopback port (a daemon thread that ends
    with the test session), configured as ``salesradar serve`` configures it; return its base
    URL. ``lifespan="on"`` runs the app's startup (the warm-up thread);
    ``forwarded_allow_ips``: the proxies trusted (``serve --forwarded-allow-ips``)."""
    # the server is given its socket already bound: a port closed and bound again later could
    # be taken in between by a socket of another xdist worker
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = server_config(app, "127.0.0.1", port, forwarded_allow_ips=forwarded_allow_ips)
    config.lifespan = lifespan
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, args=([sock],), daemon=True,
                     name=f"uvicorn-{port}").start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The demo company, built once per session: the API and page tests share it (this module
    is a pytest plugin of tests/conftest.py)."""
    folder = demo_copy(tmp_path_factory, "web-demo")  # `salesradar demo`, built once a run
    workspace = folder / "salesradar.duckdb"
    db = AppDB.open(workspace=folder / "salesradar.duckdb")  # its own store
    insights = InsightStore(db).list_insights(status=["new", "sent", "acknowledged"])
    per_rep = Counter(i.owner_rep_id for i in insights if i.owner_rep_id)
    rep_id = per_rep.most_common(1)[0][0]
    team = next(i.team for i in insights if i.owner_rep_id == rep_id)
    other = next(r for r, _ in per_rep.most_common()
                 if any(i.owner_rep_id == r and i.team != team for i in insights))
    assert rep_id and team and other
    add_user(db, "admin", PASSWORD, role="admin")
    add_user(db, "manager", PASSWORD, role="manager", team=team)
    add_user(db, "rep", PASSWORD, role="rep", rep_id=rep_id)
    add_user(db, "rep_he", PASSWORD, role="rep", rep_id=rep_id, lang="he")
    add_user(db, "other", PASSWORD, role="rep", rep_id=other)
    app = create_app(workspace, db)
    site = Site(workspace, db, app, serve(app), rep_id, str(team), other)
    site.tokens = {name: create_token(db, name) for name in ("admin", "manager", "rep", "other")}
    return site


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every HTTP client a test opened (an open socket is a ResourceWarning, an error)."""
    yield
    close_clients()
