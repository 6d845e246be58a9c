"""`status` and `whale-curve` say when cost is missing: gross profit is unknown, not revenue."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from helpers import INVOICE_HEADER, write_csv
from salesradar.cli.main import app
from salesradar.io import import_file
from salesradar.workspace import Workspace


def test_status_warns_when_the_lines_have_no_cost(tmp_path: Path) -> None:
    # 300 of revenue, 100 of it on a line with a cost: coverage 1/3, below 95%
    path = tmp_path / "ws.duckdb"
    with Workspace.open(path) as ws:
        import_file(ws, "invoice_lines", write_csv(tmp_path / "lines.csv", INVOICE_HEADER, [
            "I1,1,2026-03-05,A,S1,1,100,60,R1", "I2,1,2026-03-06,B,S1,2,200,,R1"]))
    runner = CliRunner()
    found = json.loads(runner.invoke(app, ["status", "-w", str(path), "--json"]).stdout)
    assert found["cost"]["coverage"] == 100 / 300
    assert found["cost"]["profit_known"] is False
    text = runner.invoke(app, ["status", "-w", str(path)]).stdout
    assert "Cost is known for 33.3% of revenue (95% needed): gross profit and margin are " \
           "unknown, not 100%" in " ".join(text.split())
    hebrew = runner.invoke(app, ["status", "-w", str(path), "--lang", "he"]).stdout
    assert "העלות ידועה ל-33.3% מההכנסות" in " ".join(hebrew.split())
    whale = runner.invoke(app, ["whale-curve", "-w", str(path)]).stdout
    assert "warning" in whale and "33.3%" in whale
    margin = runner.invoke(app, ["kpi", "gross_margin", "--period", "month", "-w", str(path)])
    assert "— no value: cost is known for less than 95% of the revenue" in " ".join(
        margin.stdout.split())
