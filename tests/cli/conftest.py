"""A demo workspace built once by `salesradar demo`, and a way to run the CLI as a user does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import demo_copy


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salesradar", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "160"})


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo company `salesradar demo` builds once per run (helpers.demo_copy)."""
    return demo_copy(tmp_path_factory, "cli-demo") / "salesradar.duckdb"


def as_json(*args: str, workspace: Path) -> Any:
    result = run(*args, "--workspace", str(workspace), "--json", cwd=workspace.parent)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
