"""Load test of the web app on the 10M-line demo workspace: 50 concurrent users on loopback.

    python bench/bench_web.py [--lines 10000000] [--users 50] [--duration 60] [--think 1 3]

Builds the workspace once (generate, import, score every model, insights; cached in
bench/out/web_<lines>/, `--rebuild` to start over), creates one login per simulated user (admins
and managers see the CEO dashboard and the team's inbox, reps their own inbox), starts
`salesradar serve` on a free loopback port, logs every user in through the login form, then lets
them browse for `--duration` seconds: each user opens its pages in turn with a random think time
between them (like locust's `between(1, 3)`; `--think 0 0` for back-to-back requests). Prints, per
page: requests, errors, p50/p95/p99 and max in milliseconds, and the throughput. The target of
issue 6: dashboard and inbox p95 under 200 ms with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import numpy as np

PASSWORD = "bench-Load-Test-50"


@dataclass(frozen=True)
class BenchUser:
    username: str
    role: str
    rep_id: str | None
    team: str | None

    @property
    def pages(self) -> tuple[str, ...]:
        """What this user opens in turn: a rep has no CEO dashboard (``/`` sends it to /inbox)."""
        return ("/inbox",) if self.role == "rep" else ("/", "/inbox")


def build(folder: Path, lines: int, rebuild: bool) -> Path:
    """The 10M-line demo workspace with scores and insights, built once and reused."""
    from salesradar.app import AppDB
    from salesradar.demo import generate
    from salesradar.insights import InsightStore
    from salesradar.io.folder import import_folder
    from salesradar.pipeline import refresh
    from salesradar.workspace import Workspace

    workspace = folder / "salesradar.duckdb"
    app_db = folder / "salesradar.app.sqlite"  # the default store of salesradar.duckdb
    if rebuild:
        for stale in (workspace, Path(f"{workspace}.wal"), app_db):
            stale.unlink(missing_ok=True)
    if workspace.exists() and app_db.exists():
        return workspace
    started = time.perf_counter()
    data = folder / "data"
    if not (data / "invoice_lines.parquet").exists():
        generate(data, customers=50_000, years=3, skus=5_000, reps=50, lines=lines,
                 fmt="parquet", seed=7)
    with Workspace.open(workspace) as ws:
        import_folder(ws, data)
        refresh(ws, InsightStore(AppDB.open(f"sqlite:///{app_db}")), deliver=False)
    print(f"built {workspace} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return workspace


def bench_users(workspace: Path, count: int) -> list[BenchUser]:
    """``count`` users: a fifth admins, a manager per team lead, the rest reps (cycling over
    the reps when there are fewer reps than users)."""
    import duckdb

    with duckdb.connect(str(workspace), read_only=True) as con:
        reps = con.sql("SELECT rep_id, role, team FROM reps ORDER BY rep_id").fetchall()
    leads = [(r, t) for r, role, t in reps if role == "team_lead"]
    sellers = [r for r, role, _ in reps if role == "rep"]
    users = [BenchUser(f"bench_admin_{i:02d}", "admin", None, None) for i in range(count // 5)]
    users += [BenchUser(f"bench_mgr_{r}", "manager", r, t) for r, t in leads[: count // 5]]
    users += [BenchUser(f"bench_rep_{i:02d}", "rep", sellers[i % len(sellers)], None)
              for i in range(count - len(users))]
    return users


def create_users(workspace: Path, users: list[BenchUser]) -> None:
    """The logins, through the function behind `salesradar user add` (50 CLI starts would take
    minutes of CPU); existing ones are kept."""
    from salesradar.app import AppDB
    from salesradar.app.users import add_user, list_users

    db = AppDB.open(None, workspace=workspace)
    try:
        existing = {u.username for u in list_users(db)}
        for user in users:
            if user.username not in existing:
                add_user(db, user.username, PASSWORD, role=user.role, rep_id=user.rep_id,
                         team=user.team)
    finally:
        db.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workspace: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "salesradar", "serve", "--workspace", str(workspace),
             "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"salesradar serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    sys.exit("salesradar serve did not answer within 120 s")


class CsrfField(HTMLParser):
    """Finds the value of the login form's hidden ``csrf_token`` input."""

    def __init__(self) -> None:
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("name") == "csrf_token":
            self.value = fields.get("value")


async def log_in(client: httpx.AsyncClient, user: BenchUser) -> None:
    form = await client.get("/login")
    parser = CsrfField()
    parser.feed(form.text)
    response = await client.post("/login", data={"username": user.username,
                                                 "password": PASSWORD,
                                                 "csrf_token": parser.value or ""})
    if response.status_code != 303:
        raise RuntimeError(f"{user.username} could not log in: {response.status_code}")


Samples = dict[str, list[float]]


async def browse(client: httpx.AsyncClient, user: BenchUser, until: float,
                 think: tuple[float, float], max_requests: int, seed: int, samples: Samples,
                 errors: dict[str, int]) -> None:
    """One logged-in user opening its pages in turn until the time is up."""
    rng = random.Random(seed)
    done = 0
    while time.monotonic() < until and done < max_requests:
        page = user.pages[done % len(user.pages)]
        started = time.perf_counter()
        try:
            response = await client.get(page)
            ok = response.status_code == 200 and "/login" not in str(response.url)
        except httpx.HTTPError:
            ok = False
        name = "dashboard /" if page == "/" else f"inbox ({user.role})"
        samples[name].append((time.perf_counter() - started) * 1000)
        errors[name] += 0 if ok else 1
        done += 1
        await asyncio.sleep(rng.uniform(*think))


async def timed_login(client: httpx.AsyncClient, user: BenchUser, samples: Samples) -> None:
    started = time.perf_counter()
    await log_in(client, user)
    samples["login (GET form + POST)"].append((time.perf_counter() - started) * 1000)


async def load(base: str, users: list[BenchUser], duration: float, think: tuple[float, float],
               max_requests: int) -> tuple[Samples, dict[str, int], float]:
    """Log every user in at once (argon2 on each: timed apart), then browse for ``duration``."""
    samples: Samples = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in users]
    try:
        await asyncio.gather(*(timed_login(c, u, samples) for c, u in zip(clients, users,
                                                                          strict=True)))
        started = time.monotonic()
        await asyncio.gather(*(browse(c, u, started + duration, think, max_requests, i,
                                      samples, errors)
                               for i, (c, u) in enumerate(zip(clients, users, strict=True))))
        return samples, errors, time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()


def wait_warm(port: int, timeout: float = 900) -> float:
    """Seconds until the server reports its caches warm (``GET /healthz``: the company's and
    every manager's dashboard computed in the background after the start)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
        if health.get("warm", True):
            return time.monotonic() - started
        time.sleep(1)
    sys.exit(f"the server was not warm after {timeout:.0f} s")


async def warm_up(base: str, users: list[BenchUser]) -> list[str]:
    """The first page of each kind after the warm-up, one request at a time: an admin's, every
    manager's (each team has its own dashboard) and a rep's. The load test then measures the
    steady state."""
    first = [next(u for u in users if u.role == "admin"), *(u for u in users if u.role ==
             "manager"), next(u for u in users if u.role == "rep")]
    lines = []
    for user in first:
        async with httpx.AsyncClient(base_url=base, timeout=900) as client:
            await log_in(client, user)
            for page in user.pages:
                started = time.perf_counter()
                response = await client.get(page)
                lines.append(f"first {page} as {user.username}: "
                             f"{time.perf_counter() - started:.1f} s ({response.status_code})")
    return lines


def report(samples: Samples, errors: dict[str, int], seconds: float) -> None:
    print("| page | requests | errors | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(samples):
        p50, p95, p99 = np.percentile(samples[name], [50, 95, 99])
        print(f"| {name} | {len(samples[name]):,} | {errors[name]} | {p50:.0f} | {p95:.0f} | "
              f"{p99:.0f} | {max(samples[name]):.0f} |")
    pages = [name for name in samples if not name.startswith("login")]
    total = sum(len(samples[name]) for name in pages)
    print(f"\n{total:,} requests in {seconds:.0f} s ({total / seconds:.1f}/s)")
    met = all(np.percentile(samples[n], 95) < 200 and errors[n] == 0 for n in pages)
    verdict = "met" if met else "NOT met"
    print(f"target (dashboard and inbox p95 under 200 ms, no errors): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds of browsing")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0),
                        metavar=("MIN", "MAX"), help="seconds between a user's pages")
    parser.add_argument("--max-requests", type=int, default=200, help="per user")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    folder = args.out / f"web_{args.lines}"
    folder.mkdir(parents=True, exist_ok=True)
    workspace = build(folder, args.lines, args.rebuild)
    users = bench_users(workspace, args.users)
    create_users(workspace, users)
    port = free_port()
    server = start_server(workspace, port, folder / "serve.log")
    try:
        cold = [f"caches warm {wait_warm(port):.0f} s after the server answered"]
        cold += asyncio.run(warm_up(f"http://127.0.0.1:{port}", users))
        samples, errors, seconds = asyncio.run(load(
            f"http://127.0.0.1:{port}", users, args.duration, tuple(args.think),
            args.max_requests))
    finally:
        server.terminate()
        server.wait(timeout=30)
    roles = ", ".join(f"{sum(u.role == r for u in users)} {r}s" for r in ("admin", "manager",
                                                                        "rep"))
    print(f"{len(users)} users ({roles}), think {args.think[0]:g}-{args.think[1]:g} s, "
          f"{args.lines:,}-line workspace; {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("\n".join(cold) + "\n")
    report(samples, errors, seconds)


if __name__ == "__main__":
    main()
