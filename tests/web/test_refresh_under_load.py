"""`salesradar run` under browsing load, and a run killed halfway (issue 13, item 2).

Real processes only: `salesradar serve` on a small demo company (a subprocess on a loopback
port), a bounded load client (threads with httpx) that walks every page and every GET route of
the API as an admin, a manager and a rep (the pages and the scoped workspace alike, cached and
uncached results), and `salesradar run` subprocesses. Every run must exit 0 and every answer
must be the route's usual status: no 503, no 500. A run SIGKILLed after its scoring leaves the
served data as they were, and the next run completes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from helpers import free_port
from salesradar.app.db import AppDB
from salesradar.app.users import add_user, create_token
from salesradar.insights import InsightStore
from salesradar.workspace import KILL_ENV, staging_path
from web.web_helpers import PASSWORD, login

MAX_REQUESTS = 20_000  # per load thread: the load is bounded even if a run hangs
RUN_TIMEOUT = 300  # seconds per `salesradar run`


def salesradar(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salesradar", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "COLUMNS": "160", **(env or {})})


@dataclass
class Company:
    folder: Path
    workspace: Path
    url: str
    token: str
    rep_id: str
    customer_id: str
    insight_id: int


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """A small demo company with an admin, a manager and a rep, served by `salesradar serve`."""
    folder = tmp_path_factory.mktemp("refresh-load")
    built = salesradar("demo", "--out", str(folder), "--customers", "60", "--years", "2",
                       "--json", cwd=folder, timeout=600)
    assert built.returncode == 0, built.stderr
    workspace = folder / "salesradar.duckdb"
    db = AppDB.open(None, workspace=workspace)
    try:
        insights = InsightStore(db).list_insights(status=["new", "sent", "acknowledged"])
        owners = Counter(i.owner_rep_id for i in insights if i.owner_rep_id)
        rep_id = str(owners.most_common(1)[0][0])
        team = next(i.team for i in insights if i.owner_rep_id == rep_id)
        mine = next(i for i in insights
                    if i.owner_rep_id == rep_id and i.evidence.get("customer_id"))
        add_user(db, "admin", PASSWORD, role="admin")
        add_user(db, "manager", PASSWORD, role="manager", team=team)
        add_user(db, "rep", PASSWORD, role="rep", rep_id=rep_id)
        token = create_token(db, "admin")
    finally:
        db.close()
    port = free_port()
    log = folder / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "salesradar", "serve", "--workspace", str(workspace),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-4000:]
            try:
                if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "salesradar serve did not answer within 90 s"
            time.sleep(0.3)
        yield Company(folder, workspace, url, token, rep_id, str(mine.evidence["customer_id"]),
                      mine.id)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def api_paths(c: Company) -> list[str]:
    """Every GET route of the API, its path parameters filled with ids of the demo company."""
    schema = httpx.get(f"{c.url}/openapi.json", timeout=30).json()
    values = {"name": "revenue", "customer_id": c.customer_id, "rep_id": c.rep_id,
              "insight_id": str(c.insight_id), "deal_id": "D00001", "commitment_id": "1",
              "kind": "ceo"}
    paths = []
    for path, ops in schema["paths"].items():
        if "get" not in ops:
            continue
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"no value for a parameter of {path}"
        paths.append(path + ("?format=html" if path.startswith("/api/v1/reports/") else ""))
    return paths


def page_paths(c: Company) -> list[str]:
    return ["/", "/inbox", "/customers", f"/customers/{c.customer_id}", "/reps",
            f"/reps/{c.rep_id}", "/pipeline", "/manage"]


@dataclass
class Load:
    """Threads that browse until told to stop (or :data:`MAX_REQUESTS` each)."""

    company: Company
    expected: dict[tuple[str, str], int]  # (who, path) -> the status it answers when idle
    stop: threading.Event = field(default_factory=threading.Event)
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for who in ("admin", "manager", "rep", "api"):
            thread = threading.Thread(target=self._browse, args=(who,), name=f"load-{who}")
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=300)
            assert not thread.is_alive(), f"{thread.name} did not stop"

    def _browse(self, who: str) -> None:
        paths = [p for (w, p) in self.expected if w == who]
        try:
            with client(self.company, who) as http:
                for n in range(MAX_REQUESTS):
                    if self.stop.is_set():
                        return
                    path = paths[n % len(paths)]
                    status = http.get(path).status_code
                    with self.lock:
                        self.answers[(who, path, status)] += 1
        except Exception as exc:  # a dropped connection is a failure too
            with self.lock:
                self.errors.append(f"{who}: {exc!r}")

    def unexpected(self) -> list[tuple[str, str, int, int]]:
        return [(who, path, status, n) for (who, path, status), n in self.answers.items()
                if status != self.expected[(who, path)]]

    def count(self, *statuses: int) -> int:
        return sum(n for (_w, _p, s), n in self.answers.items() if s in statuses)


@contextmanager
def client(c: Company, who: str) -> Iterator[httpx.Client]:
    """A client of ``who``: a user logged in through the form, or ``api`` with a token."""
    headers = {"Authorization": f"Bearer {c.token}"} if who == "api" else {}
    with httpx.Client(base_url=c.url, timeout=120, follow_redirects=False,
                      headers=headers) as http:
        if who != "api":
            login(http, who)
        yield http


def baseline(c: Company) -> dict[tuple[str, str], int]:
    """What every route answers each user while nothing runs (each is then cached or not)."""
    expected = {}
    for who in ("admin", "manager", "rep", "api"):
        paths = api_paths(c) if who == "api" else page_paths(c)
        with client(c, who) as http:
            for path in paths:
                expected[(who, path)] = http.get(path).status_code
    broken = {k: v for k, v in expected.items() if v >= 500}
    assert not broken, f"routes failing before any run: {broken}"
    return expected


def runs_under_load(c: Company, runs: int) -> tuple[list[int], Load]:
    load = Load(c, baseline(c))
    load.start()
    codes = []
    try:
        for _ in range(runs):
            done = salesradar("run", "-w", str(c.workspace), "--no-deliver", "--json",
                              cwd=c.folder)
            codes.append(done.returncode)
            assert done.returncode == 0, done.stderr[-3000:]
    finally:
        load.finish()
    return codes, load


def check(codes: list[int], load: Load, runs: int) -> None:
    assert codes == [0] * runs
    assert not load.errors
    assert load.count(503, 500) == 0, load.unexpected()
    assert not load.unexpected()
    assert sum(load.answers.values()) > len(load.expected)  # the load ran through the runs
    statuses = Counter[int]()
    for (_who, _path, status), n in load.answers.items():
        statuses[status] += n
    print(f"{runs} runs, exit codes {Counter(codes)}; {sum(statuses.values())} requests over "
          f"{len(load.expected)} routes, by status {dict(sorted(statuses.items()))}")


def test_runs_succeed_while_every_page_is_browsed(company: Company) -> None:
    codes, load = runs_under_load(company, 3)
    check(codes, load, 3)


@pytest.mark.slow
def test_twenty_runs_out_of_twenty_under_load(company: Company) -> None:
    codes, load = runs_under_load(company, 20)
    check(codes, load, 20)


def test_a_run_killed_halfway_leaves_the_served_data_and_the_next_run_completes(
    company: Company,
) -> None:
    c = company
    extra = c.folder / "more"
    extra.mkdir(exist_ok=True)
    # one more invoice of an existing customer: the run that imports it changes the revenue
    lines = (c.folder / "data" / "invoice_lines.csv").read_text().splitlines()
    first = lines[1].split(",")
    first[0], first[1], first[6] = "INV-9999999", "1", "1000000.00"
    (extra / "invoice_lines.csv").write_text(lines[0] + "\n" + ",".join(first) + "\n")
    with client(c, "api") as http:
        before = revenue(http)
        dashboard = http.get("/api/v1/dashboard").json()
        killed = salesradar("run", "-w", str(c.workspace), "--data", str(extra),
                            "--no-deliver", "--json", cwd=c.folder,
                            env={KILL_ENV: "insights"})  # after the import and the scoring
        assert killed.returncode == -9, killed.stderr[-3000:]
        assert staging_path(c.workspace).exists()  # it had written its copy, not the served file
        assert revenue(http) == pytest.approx(before, rel=1e-12)
        assert http.get("/api/v1/dashboard").json() == dashboard  # cached: the same version
        done = salesradar("run", "-w", str(c.workspace), "--data", str(extra), "--no-deliver",
                          "--json", cwd=c.folder)
        assert done.returncode == 0, done.stderr[-3000:]
        assert not staging_path(c.workspace).exists()
        assert revenue(http) == pytest.approx(before + 1_000_000, rel=1e-12)
        assert http.get("/api/v1/dashboard").json() != dashboard


def revenue(http: httpx.Client) -> float:
    """The company's revenue over all time, through the API."""
    answer = http.get("/api/v1/kpis/revenue")
    assert answer.status_code == 200, answer.text
    return float(answer.json()["rows"][0]["value"])
