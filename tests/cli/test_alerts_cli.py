"""insights, insight, deliver and impact as a user runs them, on a store seeded with insights."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from salesradar.app import AppDB
from salesradar.insights import Insight, InsightStore, Kind, StoreSettings, Subject, Texts

from .conftest import run


def seed(url: str) -> None:
    store = InsightStore(AppDB.open(url), StoreSettings(holdout_fraction=0.0))
    at = datetime(2026, 10, 30, 6, 0, tzinfo=UTC)
    store.upsert_many([
        Insight(kind=Kind.CHURN_RISK, subject=Subject("customer", f"C{i}"), owner_rep_id=rep,
                manager_id="M1", detected_at=at, priority=priority, value_at_stake=value,
                en=Texts(f"C{i} is drifting from its rhythm", "orders every ~12 days; last "
                         "order 41 days ago", "Call the buyer this week"),
                he=Texts(f"הלקוח C{i} מתרחק מהקצב שלו", "מזמין כל ~12 יום", "להתקשר השבוע"),
                evidence={"gap_days": 41})
        for i, (rep, priority, value) in enumerate([("R1", 90, 38_000.0), ("R2", 40, 5_000.0)])
    ], at)


@pytest.fixture
def app_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seed(url)
    return url


def call(*args: str, app_db: str, cwd: Path) -> dict | list:  # type: ignore[type-arg]
    result = run(*args, "--app-db", app_db, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_list_filter_and_move_an_insight(app_db: str, tmp_path: Path) -> None:
    rows = call("insights", app_db=app_db, cwd=tmp_path)
    assert [r["priority"] for r in rows] == [90, 40]  # highest priority first
    assert rows[0]["he"]["what"].startswith("הלקוח")
    mine = call("insights", "--rep", "R2", app_db=app_db, cwd=tmp_path)
    assert [r["owner_rep_id"] for r in mine] == ["R2"]
    moved = call("insight", str(rows[0]["id"]), "ack", app_db=app_db, cwd=tmp_path)
    assert moved["status"] == "acknowledged" and moved["history"]
    # dates relative to today: the test must pass on any day it runs
    in_a_month = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    snoozed = call("insight", str(rows[0]["id"]), "snooze", "--until", in_a_month,
                   app_db=app_db, cwd=tmp_path)
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"][:10] == in_a_month
    again = call("insight", str(rows[1]["id"]), "snooze", "--days", "14", app_db=app_db,
                 cwd=tmp_path)
    in_two_weeks = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
    assert again["status"] == "snoozed" and again["snoozed_until"][:10] == in_two_weeks


def test_snooze_without_a_date_and_illegal_moves_are_clear_errors(
    app_db: str, tmp_path: Path
) -> None:
    first = call("insights", app_db=app_db, cwd=tmp_path)[0]
    result = run("insight", str(first["id"]), "snooze", "--app-db", app_db, cwd=tmp_path)
    assert result.returncode == 2 and "--until" in result.stderr
    call("insight", str(first["id"]), "done", app_db=app_db, cwd=tmp_path)
    again = run("insight", str(first["id"]), "ack", "--app-db", app_db, cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_deliver_dry_run_sends_nothing_and_impact_reports(
    app_db: str, workspace: Path
) -> None:
    report = call("deliver", "--dry-run", "--workspace", str(workspace), app_db=app_db,
                  cwd=workspace.parent)
    assert report["sent"] == 0
    impact = call("impact", app_db=app_db, cwd=workspace.parent)
    assert isinstance(impact, list)


def test_run_twice_on_unchanged_data_creates_and_sends_nothing_new(workspace: Path) -> None:
    # `salesradar demo` (the fixture) already ran the pipeline once on this workspace
    result = run("run", "--workspace", str(workspace), "--json", cwd=workspace.parent)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    counts = summary["insights"]
    assert counts["total"] > 0
    assert (counts["new"], counts["reopened"], counts["resolved"]) == (0, 0, 0), counts
    # rescoring may nudge a probability in its last bits (DuckDB's parallel float sums), which
    # updates an insight's evidence in place; that is allowed, a new insight or message is not
    assert counts["unchanged"] + counts["updated"] == counts["total"], counts
    assert summary["delivery"]["sent"] == 0
    assert summary["top"] and summary["top"][0]["en"]["why"]


def test_ack_deliver_and_impact_speak_text_without_json(app_db: str, workspace: Path) -> None:
    first = call("insights", app_db=app_db, cwd=workspace.parent)[0]
    moved = run("insight", str(first["id"]), "ack", "--app-db", app_db, cwd=workspace.parent)
    assert moved.returncode == 0, moved.stderr
    assert not moved.stdout.lstrip().startswith("{")  # text, not raw JSON
    assert "acknowledged" in moved.stdout and "C0 is drifting from its rhythm" in moved.stdout
    assert "new → acknowledged" in moved.stdout
    # no channel in the environment: the zeros come with the reason
    env_free = [k for k in ("SALESRADAR_SMTP_HOST", "SALESRADAR_SLACK_WEBHOOK_URL",
                            "SALESRADAR_TEAMS_WEBHOOK_URL", "SALESRADAR_WEBHOOK_URL",
                            "SALESRADAR_HUBSPOT_TOKEN") if k in os.environ]
    assert not env_free
    dry = run("deliver", "--dry-run", "--workspace", str(workspace), "--app-db", app_db,
              cwd=workspace.parent)
    assert dry.returncode == 0, dry.stderr
    assert "no delivery channel is configured" in " ".join(dry.stdout.split())
    report = call("deliver", "--dry-run", "--workspace", str(workspace), app_db=app_db,
                  cwd=workspace.parent)
    assert "no delivery channel is configured" in report["reason"]
    impact = run("impact", "--app-db", app_db, cwd=workspace.parent)
    assert impact.returncode == 0, impact.stderr
    assert "no impact to measure" in " ".join(impact.stdout.split())
    assert "0/0" not in impact.stdout
