"""Small helpers for tests (importable as ``helpers`` via pytest's pythonpath)."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).parents[1] / "src" / "salesradar" / "io" / "mappings"
INVOICE_HEADER = "invoice_id,line_no,invoice_date,customer_id,sku,quantity,net_revenue,cost,rep_id"


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    """A CSV file from a header line and row lines (each already delimited)."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def _ephemeral_ports() -> tuple[int, int]:
    """The range the kernel picks ports from for bind(port 0) and outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A free loopback TCP port for a server that binds it later (a subprocess, a thread).

    Not port 0's answer: that port is in the kernel's ephemeral range, and between this check and
    the server's bind, any socket of another xdist worker (or another test run) binding port 0 or
    opening a connection may be given it. This one is picked at random below the ephemeral range,
    where the kernel never hands out ports by itself; the bind checks that no one holds it now.
    """
    low = _ephemeral_ports()[0]
    start = max(1024, low - 12_000)
    for _ in range(200):
        port = start + secrets.randbelow(low - start)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {start}-{low - 1}")


@contextmanager
def postgres_server(prefix: str) -> Iterator[Any]:
    """A real PostgreSQL server (``pgserver``, a Unix socket) for the block, its data in a new
    folder named ``prefix...``; stopped and removed after."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (CI, root shells); harmless here
        warnings.simplefilter("ignore")
        import pgserver

    # not under pytest's basetemp: a concurrent pytest run may prune it while the server runs
    data = Path(tempfile.mkdtemp(prefix=prefix))
    server: Any = pgserver.get_server(data, cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


DEMO_ARGS = ("--customers", "150", "--years", "2")  # of tests/web, api, cli, e2e and reports


def demo_copy(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A new folder ``name`` holding a copy of what ``salesradar demo --out FOLDER --customers 150
    --years 2 --json`` writes (data/, the workspace, its store and its models).

    The command runs once per test run: the API/page tests (tests/web), the CLI tests and the
    browser tests each built the same company (same arguments, same seed), and the report tests
    one of 120 customers, ~10-12 CPU s apiece.
    The first caller (of any xdist worker) builds it under a file lock in the run's own temporary
    folder (``pytest-N``: nothing is kept between runs); every caller then gets its own copy, so
    what one group writes (users, statuses, commitments) no other sees. A workspace copied with
    its store is followed by the store (``salesradar.app.db._bind``) as a moved workspace.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    built = root / "shared-demo"
    with (root / "shared-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not built.exists():
            # built in a folder that is then renamed: the store's recorded workspace path is
            # gone, so each copy is followed as a moved workspace, whatever --app-db names it
            building = root / "shared-demo-build"
            shutil.rmtree(building, ignore_errors=True)  # a build that failed half-way
            building.mkdir()
            result = subprocess.run(
                [sys.executable, "-m", "salesradar", "demo", "--out", str(building), *DEMO_ARGS,
                 "--json"], cwd=building, capture_output=True, text=True, timeout=600,
                check=False, env={**os.environ, "COLUMNS": "160"})
            assert result.returncode == 0, f"salesradar demo: {result.stderr}"
            json.loads(result.stdout)  # the --json output is one JSON document
            building.rename(built)
    folder = tmp_path_factory.mktemp(name)
    shutil.copytree(built, folder, dirs_exist_ok=True)
    return folder
