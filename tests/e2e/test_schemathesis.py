"""The OpenAPI schema of the running app, run through schemathesis: no operation answers 5xx.

Schemathesis generates requests from the schema (valid and invalid ones) with an admin's API
token, against a second server on a copy of the demo workspace (the requests change insight
statuses at random). Bounded: a fixed seed, a few examples per operation and a time budget, so it
fits in CI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from e2e.conftest import ARTIFACTS, Server

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_the_schema_lists_the_api_and_docs_are_served_locally(copy_server: Server,
                                                              admin_token: str) -> None:
    schema = httpx.get(f"{copy_server.url}/openapi.json", timeout=30).json()
    paths = set(schema["paths"])
    assert all(p.startswith("/api/v1/") for p in paths if p.startswith("/api")), sorted(paths)
    for needed in ("insights", "customers", "reps", "pipeline", "kpis"):
        assert any(needed in p for p in paths), f"no {needed} endpoint in {sorted(paths)}"
    docs = httpx.get(f"{copy_server.url}/docs", timeout=30)
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "https://" not in docs.text.split("</head>")[0]


def test_anonymous_api_requests_get_401_in_the_one_error_shape(copy_server: Server) -> None:
    response = httpx.get(f"{copy_server.url}/api/v1/insights", timeout=30)
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}


def test_no_operation_answers_with_a_server_error(copy_server: Server, admin_token: str) -> None:
    report = ARTIFACTS.parent / "schemathesis"
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{copy_server.url}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "15", "--seed", "6",
         "--workers", "1", "--request-timeout", "30",
         "--header", f"Authorization: Bearer {admin_token}",
         "--report", "junit", "--report-dir", str(report)],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
