"""The account commands' printed counts and labels agree with the data they summarize."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from salesradar.cli.main import app


def text(*args: str, workspace: Path) -> str:
    result = CliRunner().invoke(app, [*args, "--workspace", str(workspace)],
                                env={"COLUMNS": "160"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def test_flagged_contacts_count_every_strategic_account(workspace: Path) -> None:
    every = json.loads(text("account", "contacts", "--json", workspace=workspace))
    flagged = sum(1 for r in every if r["flags"])
    assert 0 < flagged < len(every)
    head = text("account", "contacts", "--flagged", workspace=workspace).splitlines()[0]
    assert f"{flagged} of {len(every)} accounts flagged" in head


def test_profitability_summary_names_the_flag_it_counts(workspace: Path) -> None:
    out = text("account", "profitability", workspace=workspace)
    assert "priced below their cost" not in out
    assert "whose price does not reflect their cost to serve" in " ".join(out.split())
