"""`salesradar connect ...` and `salesradar sync`, run in this process as a user runs them."""

from __future__ import annotations

import base64
import json
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesradar.cli.main import app, main

from .conftest import PRIORITY_SECRET
from .fakes import HubSpotServer, PriorityServer


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["salesradar", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


def test_connect_list_test_and_sync(run: Run, workspace: Path, priority: PriorityServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIORITY_CRED", PRIORITY_SECRET)
    ws = ["--workspace", str(workspace)]
    stored = run("connect", "priority", "erp", "--url", priority.url, "--company", "demo",
                 "--token-env", "PRIORITY_CRED", "--option", "page_size=100", *ws, "--json")
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout)["stored"]["credential"] == "env:PRIORITY_CRED"

    tested = run("connect", "test", "erp", *ws, "--json")
    assert tested.returncode == 0, tested.stderr
    assert json.loads(tested.stdout)["ok"] is True

    synced = run("sync", *ws, "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)["reports"][0]
    invoices = {o["object"]: o for o in report["objects"]}["AINVOICES"]
    assert (invoices["fetched"], invoices["changed"]) == (3, 4)
    assert invoices["high_water"] == "2025-03-02 07:30:00"

    again = run("sync", "erp", *ws)  # text: a line per connection and a table per object
    assert again.returncode == 0, again.stderr
    assert "synced erp (priority)" in again.stdout and "AINVOICES" in again.stdout

    listed = run("connect", "list", *ws, "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["last_sync"]["ok"] is True and entry["high_water"]["AINVOICES"]
    status = run("status", *ws, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tables"][0]["rows"] == 4
    shown = listed.stdout + synced.stdout + again.stdout + tested.stdout + status.stdout
    encoded = base64.b64encode(PRIORITY_SECRET.encode()).decode()
    assert "s3cret" not in shown and encoded not in shown


def test_errors_are_one_paragraph_naming_the_connection(
        run: Run, workspace: Path, hubspot: HubSpotServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = ["--workspace", str(workspace)]
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-not-the-right-one")
    assert run("connect", "hubspot", "crm", "--url", hubspot.url, "--token-env",
               "HUBSPOT_TOKEN", "--option", "search_interval=0", *ws).returncode == 0
    failed = run("sync", "crm", *ws, "--json")
    assert failed.returncode == 2
    error = json.loads(failed.stdout)["error"]
    assert error.startswith("connection 'crm' (hubspot): owners: the credentials were refused")
    assert "not-the-right-one" not in failed.stdout + failed.stderr

    loose = tmp_path / "token"
    loose.write_text("pat-na1-x", encoding="utf-8")
    loose.chmod(0o640)
    refused = run("connect", "hubspot", "crm2", "--secrets-file", str(loose), *ws)
    assert refused.returncode == 2 and "chmod 600" in refused.stderr
    both = run("connect", "hubspot", "crm3", "--secrets-file", str(loose), "--token-env", "X",
               *ws)
    assert both.returncode == 2 and "exactly one of --token-env" in both.stderr
    bad = run("connect", "hubspot", "crm4", "--token-env", "X", "--mapping", "nope=x.yaml", *ws)
    assert bad.returncode == 2 and "names no feed of hubspot" in bad.stderr


def test_documented_commands_parse() -> None:
    """Every `salesradar ...` line of docs/connectors.md's sh blocks parses, up to --help."""
    text = (Path(__file__).parents[2] / "docs" / "connectors.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("salesradar "):
                commands.append(shlex.split(line)[1:])
    assert len(commands) >= 6
    for args in commands:
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)


def test_one_failing_connection_does_not_stop_the_others(
        run: Run, workspace: Path, priority: PriorityServer, hubspot: HubSpotServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = ["--workspace", str(workspace)]
    monkeypatch.setenv("PRIORITY_CRED", PRIORITY_SECRET)
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-wrong")
    assert run("connect", "priority", "erp", "--url", priority.url, "--company", "demo",
               "--token-env", "PRIORITY_CRED", *ws).returncode == 0
    assert run("connect", "hubspot", "crm", "--url", hubspot.url, "--token-env",
               "HUBSPOT_TOKEN", *ws).returncode == 0
    result = run("sync", *ws, "--json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False
    by_name = {r["connection"]: r for r in data["reports"]}
    assert by_name["erp"]["ok"] is True and by_name["erp"]["changed"] == 10
    assert by_name["crm"]["ok"] is False and "HTTP 401" in by_name["crm"]["error"]
