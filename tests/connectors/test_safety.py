"""A failed, interrupted or killed sync changes nothing and the next one completes; credentials
never reach the workspace, the status file, the logs or an error."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from salesradar.connectors.base import ConnectorError
from salesradar.connectors.secrets import CredentialSource
from salesradar.connectors.store import Connection, save_connection, status_path
from salesradar.connectors.sync import (
    connections_overview,
    last_sync_report,
    sync_connection,
    test_connection,
)
from salesradar.workspace import writing

from .conftest import FAST, HUBSPOT_SECRET, PRIORITY_SECRET, SAP_SECRET, Sleeper
from .fakes import HubSpotServer, PriorityServer, SapServer


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(workspace: Path, table: str) -> int:
    with duckdb.connect(str(workspace), read_only=True) as con:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def test_a_500_mid_sync_changes_nothing_and_the_next_sync_completes(
        workspace: Path, priority: PriorityServer, erp: str, sleeper: Sleeper) -> None:
    before = digest(workspace)
    priority.faults.fail_path, priority.faults.fail_from = "LOGPART", 1  # fails for good
    with pytest.raises(ConnectorError) as caught:
        sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert "connection 'erp' (priority): LOGPART: the server answered HTTP 500 3 times" in \
        str(caught.value)
    assert digest(workspace) == before  # not a byte changed: no data, no marks
    assert not Path(str(workspace) + ".next").exists()
    failed = last_sync_report(workspace, erp)
    assert failed is not None and failed["ok"] is False and "HTTP 500" in failed["error"]

    priority.faults.fail_from = None
    report = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert report.ok and count(workspace, "invoice_lines") == 4
    assert count(workspace, "customers") == 2


def test_passing_500s_are_retried(workspace: Path, sap: SapServer, b1: str,
                                  sleeper: Sleeper) -> None:
    sap.faults.fail_from, sap.faults.fail_count = 3, 2
    report = sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    assert report.ok and report.retries == 2
    assert count(workspace, "invoice_lines") == 46


def test_ctrl_c_mid_sync_changes_nothing(workspace: Path, hubspot: HubSpotServer, crm: str,
                                         sleeper: Sleeper) -> None:
    sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    before = digest(workspace)
    hubspot.modify("companies", "11", name="renamed")

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    hubspot.faults.storm = 1  # the connector waits on the 429 ... and is interrupted there
    with pytest.raises(KeyboardInterrupt):
        sync_connection(workspace, crm, settings=FAST, sleep=interrupt)
    assert digest(workspace) == before
    assert last_sync_report(workspace, crm)["error"] == "interrupted"  # type: ignore[index]
    report = sync_connection(workspace, crm, settings=FAST, sleep=sleeper)
    assert {o.object: o for o in report.objects}["companies"].updated == 1


def test_a_killed_sync_changes_nothing(workspace: Path, priority: PriorityServer, erp: str,
                                       sleeper: Sleeper) -> None:
    """SIGKILL at the last moment (everything written to the copy, nothing published)."""
    before = digest(workspace)
    code = ("import sys; from salesradar.connectors.sync import sync_connection; "
            "sync_connection(sys.argv[1], 'erp')")
    env = {**os.environ, "SALESRADAR_TEST_KILL_AT": "publishing"}
    done = subprocess.run([sys.executable, "-c", code, str(workspace)], env=env, timeout=60,
                          capture_output=True, check=False)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert digest(workspace) == before
    report = sync_connection(workspace, erp, settings=FAST, sleep=sleeper)
    assert report.ok and count(workspace, "invoice_lines") == 4


def test_credentials_never_leave_their_source(
        workspace: Path, priority: PriorityServer, sap: SapServer, hubspot: HubSpotServer,
        erp: str, b1: str, crm: str, sleeper: Sleeper, logs: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = [PRIORITY_SECRET, SAP_SECRET, HUBSPOT_SECRET, "s3cret-Pa55", "B1-secret-pw"]
    secrets += [base64.b64encode(s.encode()).decode() for s in secrets]
    errors: list[str] = []
    for name in (erp, b1, crm):
        sync_connection(workspace, name, settings=FAST, sleep=sleeper)
        errors.append(json.dumps(test_connection(workspace, name, settings=FAST)))
    sessions = {s.headers.get("Cookie", "") for s in sap.seen}
    # failures of every kind: 500s, a 429 storm past the budget, wrong credentials
    priority.faults.fail_from = 1
    hubspot.faults.storm = 10**6
    for name in (erp, crm):
        with pytest.raises(ConnectorError) as caught:
            sync_connection(workspace, name, settings=FAST, sleep=sleeper)
        errors.append(str(caught.value))
    monkeypatch.setenv("SAP_CRED", "manager:" + "x" * 12)
    with pytest.raises(ConnectorError) as caught:
        sync_connection(workspace, b1, settings=FAST, sleep=sleeper)
    errors.append(str(caught.value))
    overview = json.dumps(connections_overview(workspace), ensure_ascii=False, default=str)
    places = {
        "workspace": workspace.read_bytes().decode("latin-1"),
        "status file": status_path(workspace).read_text(encoding="utf-8"),
        "overview": overview,
        "logs": logs.text,
        "errors": "\n".join(errors),
    }
    assert "HTTP 500" in places["logs"] and "429" in places["logs"]
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a credential in the {where}"
    session_ids = [c.split("B1SESSION=")[1].split(";")[0] for c in sessions if "B1SESSION" in c]
    assert session_ids and not any(s in places["logs"] + places["workspace"] for s in session_ids)
    assert "env:PRIORITY_CRED" in overview  # where the credential lives, never what it is


def test_secrets_file_must_be_private(workspace: Path, priority: PriorityServer,
                                      tmp_path: Path, sleeper: Sleeper) -> None:
    secret = tmp_path / "priority.secret"
    secret.write_text(PRIORITY_SECRET + "\n", encoding="utf-8")
    secret.chmod(0o644)
    with writing(workspace) as ws:
        save_connection(ws, Connection("erp-file", "priority", priority.url,
                                       CredentialSource("file", str(secret)), "demo"))
    with pytest.raises(ConnectorError, match=r"may be read by others \(mode 0644\); make it "
                       r"private with: chmod 600"):
        sync_connection(workspace, "erp-file", settings=FAST, sleep=sleeper)
    secret.chmod(0o600)
    assert sync_connection(workspace, "erp-file", settings=FAST, sleep=sleeper).ok


def test_missing_environment_variable(workspace: Path, priority: PriorityServer, erp: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIORITY_CRED")
    with pytest.raises(ConnectorError, match="connection 'erp': the environment variable "
                       "PRIORITY_CRED is empty or not set"):
        sync_connection(workspace, erp, settings=FAST)


def test_unknown_connection(workspace: Path, erp: str) -> None:
    with pytest.raises(ConnectorError, match=r"no connection named 'nope' .*connections: erp"):
        sync_connection(workspace, "nope", settings=FAST)
