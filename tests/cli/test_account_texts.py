"""The account commands' printed counts and labels agree with the data they summarize."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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


ENGLISH = re.compile(r"\b(revenue|bought|churn risk|tier|health|stopped items|recommendations|"
                     r"baseline|target|fee|fixed|refund|incremental|vs the quarter|accounts "
                     r"with a plan|attainment|profit|also buy)\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def hebrew_words(out: str) -> str:
    """The output without identifiers and names in Latin letters the data itself holds."""
    return re.sub(r"(SKU|C|R)-?\d+", "", out)


def test_hebrew_terminal_output(workspace: Path, tmp_path: Path) -> None:
    rows = json.loads(text("account", "contacts", "--json", workspace=workspace))
    customer = rows[0]["customer_id"]
    app_db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    added = json.loads(text("commitment", "add", "--file",
                            str(workspace.parent / "data" / "commitment.yaml"), "--app-db",
                            app_db, "--json", workspace=workspace))
    outputs = [
        text("customer", customer, "--lang", "he", workspace=workspace),
        text("account", "review", "--quarter", "2026Q3", "--lang", "he", workspace=workspace),
        text("commitment", "verdict", str(added["commitment"]["id"]), "--lang", "he",
             "--app-db", app_db, workspace=workspace),
    ]
    # the commitment's name, vendor and model are the user's own words and ids
    outputs[2] = outputs[2].split("\n", 1)[1]
    for out in outputs:
        assert not ENGLISH.findall(hebrew_words(out).lower()), out
        assert not ISO_DATE.findall(out), out  # dates are dd/mm/yyyy in Hebrew
    assert re.search(r"\d{2}/\d{2}/\d{4}", outputs[2])
    assert "סקירת לקוחות רבעונית 2026Q3" in outputs[1] and "הכנסות" in outputs[1]


def narrow(*args: str, workspace: Path) -> str:
    """The command as a user runs it in an 80-column terminal."""
    result = subprocess.run([sys.executable, "-m", "salesradar", *args, "--workspace",
                             str(workspace)], cwd=workspace.parent, text=True,
                            capture_output=True, timeout=300, check=False,
                            env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    return result.stdout


def test_80_columns_never_cut_an_identifier(workspace: Path) -> None:
    names = [k["name"] for k in json.loads(text("kpi", "--list", "--json",
                                                workspace=workspace))]
    listed = narrow("kpi", "--list", workspace=workspace)
    words = set(re.findall(r"[\w.]+", listed))
    assert "…" not in listed
    assert set(names) <= words  # every name whole, on one line, ready to copy
    assert "invoice_lines" in words
    rows = json.loads(text("account", "contacts", "--json", workspace=workspace))
    table = narrow("account", "contacts", workspace=workspace)
    assert "…" not in table
    assert {r["customer_id"] for r in rows} <= set(re.findall(r"\w+", table))
