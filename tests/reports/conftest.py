"""The demo company `salesradar demo` builds, with its sample commitment recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import demo_copy


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salesradar", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "160"})


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The demo workspace file and the id of the demo's sample commitment."""
    # a copy of the demo company of tests/web, cli and e2e (`salesradar demo`, built once a run);
    # these tests only need a company with a sample commitment to report on, of any size
    folder = demo_copy(tmp_path_factory, "reports-demo")
    ws = folder / "salesradar.duckdb"
    added = cli("commitment", "add", "--file", str(folder / "data" / "commitment.yaml"),
                "--workspace", str(ws), "--json", cwd=folder)
    assert added.returncode == 0, added.stderr
    return ws, int(json.loads(added.stdout)["commitment"]["id"])
