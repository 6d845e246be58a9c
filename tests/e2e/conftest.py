"""A served demo company and a real headless Chromium for the end-to-end tests.

Once per session: ``salesradar demo`` builds a small company and runs the pipeline (scores and
insights), ``salesradar user add`` creates an admin, a manager and a rep in English and in Hebrew,
and ``salesradar serve`` runs as a real subprocess on a free loopback port. Chromium is Debian's
(``scripts/setup-browser.sh``), driven by Playwright through its executable path; every request to
a host other than the app is aborted and recorded, so a page that needs the internet fails its test.
Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from helpers import demo_copy, free_port
from salesradar.app import AppDB
from salesradar.app.users import add_user
from salesradar.insights import InsightStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "e2e-Correct-Horse-42"
ASSETS = frozenset({"stylesheet", "script", "font", "image"})


def salesradar(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does; fail the test with its stderr when it fails."""
    result = subprocess.run([sys.executable, "-m", "salesradar", *args], cwd=cwd, text=True,
                            capture_output=True, timeout=timeout, check=False,
                            env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, f"salesradar {' '.join(args)}: {result.stderr}"
    return result


@dataclass(frozen=True)
class User:
    username: str
    role: str
    lang: str
    rep_id: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Demo:
    """The demo company as the tests see it: who owns which insights, before anyone acts."""

    folder: Path
    workspace: Path
    rep_id: str  # the rep with the most insights (the `rep` users)
    team: str  # that rep's team (the `manager` users lead it)
    manager_rep_id: str
    other_rep_id: str  # a rep of another team, with insights of its own
    insights: list[dict[str, Any]]  # every insight at the start, as `salesradar insights --json`
    users: dict[str, User] = field(default_factory=dict)

    def insight_ids(self, *, rep: str | None = None, team: str | None = None) -> set[int]:
        return {int(i["id"]) for i in self.insights
                if rep in (None, i["owner_rep_id"]) and team in (None, i["team"])}

    def customers_of(self, rep: str) -> list[str]:
        """Customers the rep's insights are about, most valuable first."""
        ranked = sorted((i for i in self.insights if i["owner_rep_id"] == rep
                         and i["evidence"].get("customer_id")),
                        key=lambda i: -float(i["value_at_stake"] or 0))
        return list(dict.fromkeys(str(i["evidence"]["customer_id"]) for i in ranked))


def _users(rep_id: str, team: str, manager_rep_id: str, other_rep_id: str) -> list[User]:
    users = []
    for lang, suffix in (("en", ""), ("he", "_he")):
        users += [User(f"admin{suffix}", "admin", lang),
                  User(f"manager{suffix}", "manager", lang, manager_rep_id, team),
                  User(f"rep{suffix}", "rep", lang, rep_id, team)]
    # users whose state the tests change (language, session), kept apart from the others
    users += [User("other_rep", "rep", "en", other_rep_id),
              User("switcher", "rep", "en", rep_id, team),
              User("leaver", "admin", "he"),
              User("actor", "rep", "en", rep_id, team),
              User("actor_he", "rep", "he", rep_id, team)]
    return users


def _add_users(folder: Path, db: AppDB, insights: list[dict[str, Any]]) -> list[User]:
    """Pick the demo's busiest rep, that rep's team and manager, and a rep of another team;
    create the test users for them."""
    workspace = folder / "salesradar.duckdb"
    per_rep = Counter(str(i["owner_rep_id"]) for i in insights if i["owner_rep_id"])
    rep_id = per_rep.most_common(1)[0][0]
    mine = next(i for i in insights if i["owner_rep_id"] == rep_id)
    team, manager = str(mine["team"]), str(mine["manager_id"])
    other = next(r for r, _ in per_rep.most_common()
                 if any(i["owner_rep_id"] == r and i["team"] != team for i in insights))
    users = _users(rep_id, team, manager, other)

    def add(user: User) -> None:
        args = ["user", "add", user.username, "--role", user.role, "--lang", user.lang,
                "--password", PASSWORD, "--workspace", str(workspace), "--json"]
        args += ["--rep-id", user.rep_id] if user.rep_id else []
        args += ["--team", user.team] if user.team and user.role == "manager" else []
        salesradar(*args, cwd=folder)

    # the admin, manager and rep of each language through the CLI, as a person does; the
    # users only some tests need straight through the function behind it (a CLI start costs
    # seconds of CPU)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(add, users[:6]))
    for user in users[6:]:
        add_user(db, user.username, PASSWORD, role=user.role, rep_id=user.rep_id,
                 team=user.team if user.role == "manager" else None, lang=user.lang)
    return users


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Build the demo company, read who owns what, create the users (all before serving, since
    the server holds the workspace)."""
    folder = demo_copy(tmp_path_factory, "e2e-demo")  # `salesradar demo`, built once a run
    workspace = folder / "salesradar.duckdb"
    db = AppDB.open(None, workspace=workspace)
    try:
        insights = [i.to_dict() for i in InsightStore(db).list_insights()]
        users = _add_users(folder, db, insights)
    finally:
        db.close()
    # a copy for the tests that change data at random (schemathesis), made before any server
    # holds the workspace
    (folder / "copy").mkdir()
    for name in ("salesradar.duckdb", "salesradar.app.sqlite"):
        shutil.copy2(folder / name, folder / "copy" / name)
    by_name = {u.username: u for u in users}
    return Demo(folder, workspace, str(by_name["rep"].rep_id), str(by_name["manager"].team),
                str(by_name["manager"].rep_id), str(by_name["other_rep"].rep_id), insights,
                by_name)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def serve(workspace: Path, log: Path) -> Iterator[Server]:
    """Run `salesradar serve` on a free loopback port until it answers; stop it afterwards."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "salesradar", "serve", "--workspace", str(workspace),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=workspace.parent, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"salesradar serve exited with {process.returncode}:\n"
                            f"{log.read_text(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"{server.url}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"salesradar serve did not answer within 90 s:\n"
                            f"{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[Server]:
    yield from serve(demo.workspace, demo.folder / "serve.log")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-browser.sh")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person does."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


class Sessions:
    """Logged-in browser states, one login per user per test session (the login is
    rate-limited), and fresh contexts built from them that only reach the app."""

    def __init__(self, browser: Browser, server: Server, folder: Path) -> None:
        self.browser, self.server, self.folder = browser, server, folder
        self.states: dict[str, Path] = {}
        self.outside: list[str] = []  # requests to any host but the app's, aborted
        self.broken: list[str] = []  # assets (styles, scripts, fonts, images) that failed

    def context(self, state: Path | None = None) -> BrowserContext:
        context = self.browser.new_context(
            base_url=self.server.url, storage_state=state, viewport={"width": 1280, "height": 900})
        app_host = urlsplit(self.server.url).netloc

        def only_the_app(route: Route) -> None:
            if urlsplit(route.request.url).netloc == app_host or route.request.url.startswith(
                    ("data:", "blob:")):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_app)
        context.on("response", lambda r: self.broken.append(f"{r.status} {r.url}")
                   if r.status >= 400 and r.request.resource_type in ASSETS else None)
        context.on("requestfailed", lambda r: self.broken.append(f"failed {r.url}")
                   if r.resource_type in ASSETS else None)
        return context

    def state(self, username: str) -> Path:
        if username not in self.states:
            context = self.context()
            page = context.new_page()
            login(page, username)
            assert "/login" not in page.url, f"{username} could not log in"
            path = self.folder / f"{username}.state.json"
            context.storage_state(path=path)
            context.close()
            self.states[username] = path
        return self.states[username]


@pytest.fixture(scope="session")
def sessions(browser: Browser, server: Server, demo: Demo) -> Sessions:
    return Sessions(browser, server, demo.folder)


@pytest.fixture
def open_as(sessions: Sessions) -> Iterator[Callable[[str | None], Page]]:
    """``open_as("rep")`` gives a page logged in as that user (``None``: anonymous). After the
    test, no page may have asked for anything outside the app (the product works offline)."""
    contexts: list[BrowserContext] = []
    before, broken = len(sessions.outside), len(sessions.broken)

    def open_page(username: str | None) -> Page:
        context = sessions.context(sessions.state(username) if username else None)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert sessions.outside[before:] == [], "pages reached outside the app"
    assert sessions.broken[broken:] == [], "assets the app did not serve"


def page_paths(demo: Demo) -> dict[str, str]:
    """Every page of the app, by name, with a customer and a rep that have insights."""
    customer = demo.customers_of(demo.rep_id)[0]
    return {"dashboard": "/", "inbox": "/inbox", "customers": "/customers",
            "customer-360": f"/customers/{customer}", "reps": "/reps",
            "rep-scorecard": f"/reps/{demo.rep_id}", "pipeline": "/pipeline"}


@dataclass
class Rendered:
    """A page as loaded once for read-only tests: its status and what it fetched wrongly."""

    page: Page
    status: int
    outside: list[str]
    broken: list[str]


@pytest.fixture(scope="session")
def rendered(sessions: Sessions, demo: Demo) -> Iterator[Callable[[str, str], Rendered]]:
    """``rendered("admin_he", "dashboard")``: the page loaded once per session and user, shared
    by the tests that only look at it (a page load costs a second or two)."""
    contexts: dict[str, BrowserContext] = {}
    cache: dict[tuple[str, str], Rendered] = {}

    def get(username: str, name: str) -> Rendered:
        if (username, name) not in cache:
            if username not in contexts:
                contexts[username] = sessions.context(sessions.state(username))
            page = contexts[username].new_page()
            outside, broken = len(sessions.outside), len(sessions.broken)
            response = page.goto(page_paths(demo)[name])
            cache[username, name] = Rendered(page, response.status if response else 0,
                                             sessions.outside[outside:],
                                             sessions.broken[broken:])
        return cache[username, name]

    yield get
    for context in contexts.values():
        context.close()


def snap(page: Page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/e2e/ (overwritten by each run)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture(scope="session")
def tokens(demo: Demo) -> dict[str, str]:
    """API tokens of the admin and the rep, on the copy of the workspace."""
    copy = demo.folder / "copy" / "salesradar.duckdb"
    return {name: str(json.loads(salesradar("user", "token", name, "--workspace", str(copy),
                                            "--json", cwd=copy.parent).stdout)["token"])
            for name in ("admin", "rep")}


@pytest.fixture(scope="session")
def copy_server(demo: Demo, tokens: dict[str, str]) -> Iterator[Server]:
    """A second server on the copy of the workspace, for tests that change data at random."""
    copy = demo.folder / "copy" / "salesradar.duckdb"
    yield from serve(copy, copy.parent / "serve.log")
