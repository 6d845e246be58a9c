"""A small demo company built once by `salesradar demo`, with its sample commitment recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salesradar", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "160"})


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The demo workspace file and the id of the demo's sample commitment."""
    folder = tmp_path_factory.mktemp("reports-demo")
    built = cli("demo", "--out", str(folder), "--customers", "120", "--years", "2", "--json",
                cwd=folder)
    assert built.returncode == 0, built.stderr
    ws = folder / "salesradar.duckdb"
    added = cli("commitment", "add", "--file", str(folder / "data" / "commitment.yaml"),
                "--workspace", str(ws), "--json", cwd=folder)
    assert added.returncode == 0, added.stderr
    return ws, int(json.loads(added.stdout)["commitment"]["id"])
