"""No NaN in any JSON: every CLI ``--json`` output parses strictly (no NaN, no Infinity).

Every command prints JSON through :func:`salesradar.cli.output.print_json`, which writes an
unknown number as null; the commands below run on the demo workspace in one process and their
output is parsed with a ``parse_constant`` that refuses NaN and ±Infinity.
"""

from __future__ import annotations

import ast
import io
import json
import math
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salesradar.cli import output
from salesradar.cli.main import app


def refuse(name: str) -> Any:
    raise ValueError(f"{name} in JSON output")


def strict(text: str) -> Any:
    return json.loads(text, parse_constant=refuse)


def test_print_json_writes_unknown_numbers_as_null() -> None:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        output.print_json({"margin": math.nan, "rows": [{"x": math.inf, "y": 1.5}],
                           "t": (-math.inf,)})
    assert strict(buffer.getvalue()) == {"margin": None, "rows": [{"x": None, "y": 1.5}],
                                         "t": [None]}


def test_no_cli_module_writes_json_past_print_json() -> None:
    cli = Path(output.__file__).parent
    for path in sorted(cli.glob("*.py")):
        if path.name == "output.py":
            continue
        calls = [n for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, ast.Attribute) and n.attr in ("dumps", "dump")
                 and isinstance(n.value, ast.Name) and n.value.id == "json"]
        assert not calls, f"{path.name} writes JSON itself: use output.print_json"


COMMANDS = [
    ("status",), ("tables",), ("kpi", "--list"), ("kpi", "gross_margin", "--period", "month"),
    ("kpi", "revenue", "--by", "rep", "--period", "quarter"), ("kpi", "forecast_accuracy",
                                                              "--period", "month"),
    ("whale-curve",), ("pvm", "--from-period", "2025-Q1", "--to-period", "2025-Q2"),
    ("churned", "--period", "2025-06"), ("funnel",), ("scorecard",), ("forecast",),
    ("diagnostic",), ("insights",), ("impact",), ("account", "risk"),
    ("account", "profitability"), ("account", "contacts"), ("plan", "pacing"),
    ("commitment", "list"), ("products", "non-product"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_json_output_is_strict_json(workspace: Path, args: tuple[str, ...]) -> None:
    where = [] if args == ("tables",) else ["--workspace", str(workspace)]  # no workspace
    result = CliRunner().invoke(app, [*args, *where, "--json"])
    assert result.exit_code == 0, result.output
    strict(result.stdout)
