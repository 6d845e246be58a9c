"""The OpenAPI schema of the running app, run through schemathesis: no operation answers 5xx.

Schemathesis generates requests from the schema (valid and invalid ones) against a second server
on a copy of the demo workspace (the requests change insight statuses at random): once with the
admin's API token and generated ids (mostly unknown ones), once with the rep's token and the ids
pinned to the rep's own customer, deal, insight and scorecard, so the scoped code paths run deep.
Bounded: a fixed seed and a few examples per operation, so it fits in CI.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from e2e.conftest import ARTIFACTS, Demo, Server

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_the_schema_lists_the_api_and_docs_are_served_locally(copy_server: Server) -> None:
    schema = httpx.get(f"{copy_server.url}/openapi.json", timeout=30).json()
    paths = set(schema["paths"])
    assert all(p.startswith("/api/v1/") for p in paths if p.startswith("/api")), sorted(paths)
    for needed in ("insights", "customers", "deals", "reps", "pipeline", "kpis", "whale-curve",
                   "concentration", "pvm"):
        assert any(f"/{needed}" in p for p in paths), f"no {needed} endpoint in {sorted(paths)}"
    docs = httpx.get(f"{copy_server.url}/docs", timeout=30)
    assert docs.status_code == 200
    assert "https://" not in docs.text.split("</head>")[0], "Swagger UI assets from a CDN"


def test_anonymous_api_requests_get_401_in_the_one_error_shape(copy_server: Server) -> None:
    response = httpx.get(f"{copy_server.url}/api/v1/insights", timeout=30)
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}


def pinned(demo: Demo) -> str:
    """A schemathesis config that fixes every path id to one the demo rep owns."""
    with duckdb.connect(str(demo.folder / "copy" / "salesradar.duckdb"), read_only=True) as con:
        row = con.execute("SELECT min(deal_id) FROM deals WHERE owner_rep_id = ?",
                          [demo.rep_id]).fetchone()
    assert row is not None and row[0] is not None, "the demo rep owns no deal"
    return "\n".join([
        "[parameters]",
        f'"path.customer_id" = "{demo.customers_of(demo.rep_id)[0]}"',
        f'"path.deal_id" = "{row[0]}"',
        f'"path.insight_id" = {min(demo.insight_ids(rep=demo.rep_id))}',
        f'"path.rep_id" = "{demo.rep_id}"',
        '"path.name" = "revenue"', ""])


@pytest.mark.parametrize("username", ["admin", "rep"])
def test_no_operation_answers_with_a_server_error(copy_server: Server, tokens: dict[str, str],
                                                  demo: Demo, username: str,
                                                  tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(pinned(demo) if username == "rep" else "")
    report = ARTIFACTS.parent / f"schemathesis-{username}"
    result = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(config), "run",
         f"{copy_server.url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "10", "--seed", "6", "--workers", "1", "--request-timeout", "30",
         "--header", f"Authorization: Bearer {tokens[username]}",
         "--report", "junit", "--report-dir", str(report)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # every operation of the schema was exercised, none skipped
    schema = httpx.get(f"{copy_server.url}/openapi.json", timeout=30).json()
    operations = sum(len(methods) for methods in schema["paths"].values())
    tested = re.search(r"Tested:\s+(\d+)", result.stdout)
    assert tested and int(tested.group(1)) == operations, result.stdout[-3000:]
