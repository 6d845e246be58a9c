"""Account management and sales performance through the CLI, on the generated demo workspace."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salesradar.cli.main import app

from .conftest import run


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An app database of these tests' own (plans, targets, saved forecasts)."""
    return f"sqlite:///{tmp_path_factory.mktemp('manage-app') / 'app.sqlite'}"


def manage(*args: str, workspace: Path, app_db: str | None = None) -> Any:
    """One command with --json, run in this process (the commands a user types; the
    subprocess runs below check the exit code and the printed text as a user sees them)."""
    extra = ("--app-db", app_db) if app_db else ()
    result = CliRunner().invoke(app, [*args, *extra, "--workspace", str(workspace), "--json"])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


def test_account_plan_lifecycle(workspace: Path, app_db: str) -> None:
    review = manage("account", "review", "--quarter", "2026Q3", workspace=workspace,
                    app_db=app_db)
    a_tier = next(t for t in review["tiers"] if t["tier"] == "A")
    customer = a_tier["rows"][0]["customer_id"]
    draft = manage("account", "plan", customer, "--draft", workspace=workspace, app_db=app_db)
    assert draft["tier"] == "A" and draft["revenue_target"] >= draft["revenue_today"] > 0
    assert draft["opportunities"], "cross-sell and stopped items pre-fill the opportunities"
    created = manage("account", "plan", customer, "--create", "--need", "weekly delivery",
                     "--action", "Quarterly business review|R08|2026-12-01",
                     workspace=workspace, app_db=app_db)
    assert created["plan"]["version"] == 1
    assert created["plan"]["needs"] == ["weekly delivery"]
    assert created["tracking"]["customer_id"] == customer
    revised = manage("account", "plan", customer, "--revise", "--target", "1000000",
                     workspace=workspace, app_db=app_db)
    assert (revised["plan"]["version"], revised["plan"]["revenue_target"]) == (2, 1_000_000)
    history = manage("account", "plan", customer, "--history", workspace=workspace,
                     app_db=app_db)
    assert [h["version"] for h in history] == [1, 2]
    action_id = str(revised["plan"]["actions"][0]["id"])
    done = manage("account", "action", action_id, "done", workspace=workspace, app_db=app_db)
    assert done["status"] == "done"
    review = manage("account", "review", "--quarter", "2026Q4", workspace=workspace,
                    app_db=app_db)
    assert review["totals"]["with_plan"] == 1 and review["partial"] is True
    # a C account is refused, in one paragraph with exit 2
    c_tier = next(t for t in review["tiers"] if t["tier"] == "C")
    result = run("account", "plan", c_tier["rows"][0]["customer_id"], "--create",
                 "--workspace", str(workspace), "--app-db", app_db, cwd=workspace.parent)
    assert result.returncode == 2
    assert "account plans are for A and B accounts" in result.stderr


def test_account_analyses(workspace: Path) -> None:
    contacts = manage("account", "contacts", workspace=workspace)
    assert contacts and all(r["tier"] in ("A", "B") for r in contacts)
    assert any(r["flags"] for r in contacts)
    prof = manage("account", "profitability", workspace=workspace)
    company = prof["company"]
    assert company["profit"] == pytest.approx(company["gross_profit"] - company["cost_to_serve"])
    assert company["loss_making"] > 0 and company["expensive_to_serve_count"] > 0
    risk = manage("account", "risk", workspace=workspace)
    c = risk["concentration"]
    assert 0 < c["top1"] <= c["top3"] <= c["top5"] <= 1
    assert risk["credit"]["dso_days"] > 0 and risk["headlines_he"]


def test_performance(workspace: Path, app_db: str, tmp_path: Path) -> None:
    pacing = manage("plan", "pacing", workspace=workspace, app_db=app_db)
    assert pacing["reps"] and pacing["elapsed_days"] <= pacing["days"]
    rep = pacing["reps"][0]["rep_id"]
    manage("plan", "set", rep, "revenue", pacing["period"][:7], "1234567",
           workspace=workspace, app_db=app_db)
    again = manage("plan", "pacing", workspace=workspace, app_db=app_db)
    mine = next(r for r in again["reps"] if r["rep_id"] == rep)
    assert (mine["target"], mine["source"]) == (1234567, "app")
    fc = manage("forecast", "--save", workspace=workspace, app_db=app_db)
    assert len(fc["periods"]) == 3 and fc["saved"] == 3
    for p in fc["periods"]:
        assert p["total"] == pytest.approx(p["repeat"] + p["new_business"])
        assert p["repeat"] > 0 and p["low"] <= p["total"] <= p["high"]
    assert manage("forecast", "--accuracy", workspace=workspace, app_db=app_db) == []
    funnel = manage("funnel", workspace=workspace)
    assert funnel["reps"] and all(r["calls"] >= 0 for r in funnel["reps"])
    plan_file = workspace.parent / "data" / "commission-plan.yaml"
    pay = manage("commissions", "--plan", str(plan_file), "--keep", workspace=workspace,
                 app_db=app_db)
    assert pay["reps"] and pay["total_payout"] == pytest.approx(
        sum(r["payout"] for r in pay["reps"]))
    assert all(r["payout"] <= pay["cap"] for r in pay["reps"])
    by_name = manage("commissions", "--plan", pay["plan"], "--period", pay["period"][:7],
                     workspace=workspace, app_db=app_db)
    assert by_name["total_payout"] == pytest.approx(pay["total_payout"])
    cards = manage("scorecard", workspace=workspace)
    assert {c["model"] for c in cards} == {"centre", "account"}
    one = manage("scorecard", cards[0]["rep_id"], workspace=workspace)
    assert one["rep_id"] == cards[0]["rep_id"] and one["improvements"]


def test_hebrew_text_output(workspace: Path) -> None:
    result = run("scorecard", "--lang", "he", "--workspace", str(workspace),
                 cwd=workspace.parent)
    assert result.returncode == 0, result.stderr
    assert "חציון הצוות" in result.stdout or "טוב יותר" in result.stdout
    result = run("account", "review", "--quarter", "2026Q3", "--lang", "he",
                 "--workspace", str(workspace), cwd=workspace.parent)
    assert result.returncode == 0, result.stderr
    assert "סקירת לקוחות רבעונית 2026Q3" in result.stdout


DOCS = Path(__file__).parents[2] / "docs"


def documented_commands(name: str) -> list[list[str]]:
    """The ``salesradar ...`` command lines of the ```sh blocks of docs/<name>."""
    text = (DOCS / name).read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if command.startswith("salesradar "):
                commands.append(shlex.split(command)[1:])
    return commands


@pytest.mark.parametrize("doc", ["accounts.md", "performance.md"])
def test_documented_commands_exist(doc: str) -> None:
    # every documented command line parses (names, arguments and options) up to --help
    commands = documented_commands(doc)
    assert len(commands) >= 9
    for args in commands:
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
