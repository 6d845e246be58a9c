"""The command line, run as a user runs it: a real process, its exit code, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import DATA, INVOICE_HEADER, MAPPINGS, write_csv

COMMANDS = ["import", "status", "tables", "demo-data", "demo"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesradar", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "120", **(env or {})}, timeout=120, check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--json" in result.stdout or command == "tables"


def test_import_then_status_as_json(tmp_path: Path) -> None:
    result = run("import", "invoice_lines", str(DATA / "priority_invoice_lines.csv"),
                 "--mapping", str(MAPPINGS / "priority_invoice_lines.yaml"), "--json",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["inserted"], report["encoding"]) == (5, "windows-1255")
    status = json.loads(run("status", "--json", cwd=tmp_path).stdout)
    assert status["workspace"] == "salesradar.duckdb"  # the default, in the current folder
    assert status["tables"][0] == {"table": "invoice_lines", "rows": 5,
                                   "date_column": "invoice_date", "first": "2024-01-02",
                                   "last": "2024-02-01"}


def test_workspace_from_the_environment(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", INVOICE_HEADER, ["A,1,2024-01-05,C1,S1,1,10,5,R1"])
    env = {"SALESRADAR_WORKSPACE": str(tmp_path / "env.duckdb")}
    assert run("import", "invoice_lines", str(path), cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "env.duckdb").exists()


def test_rejected_import_exits_2_with_every_row_and_no_traceback(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", INVOICE_HEADER, [
        "A,1,2024-01-05,C1,S1,1,10,5,R1", "A,2,32/01/2024,C1,S1,1,10,5,R1",
        "A,3,2024-01-05,C1,S1,1,abc,5,R1",
    ])
    text = run("import", "invoice_lines", str(path), cwd=tmp_path)
    assert text.returncode == 2
    assert "Traceback" not in text.stderr
    assert "bad.csv: 2 error(s); nothing was imported" in text.stderr
    assert "row 3 value '32/01/2024'" in text.stderr and "row 4 value 'abc'" in text.stderr
    as_json = run("import", "invoice_lines", str(path), "--json", cwd=tmp_path)
    assert as_json.returncode == 2
    payload = json.loads(as_json.stdout)
    assert payload["errors"] == 2
    assert {(i.get("row"), i["column"]) for i in payload["issues"] if "row" in i} == {
        (3, "invoice_date"), (4, "net_revenue")}


def test_user_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    result = run("import", "nonsense", "x.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown table 'nonsense'" in result.stderr and "Traceback" not in result.stderr
    result = run("import", "invoice_lines", cwd=tmp_path)
    assert result.returncode == 2 and "give either a FILE or --from-sql" in result.stderr


def test_tables_lists_the_canonical_schema_as_json(tmp_path: Path) -> None:
    tables = json.loads(run("tables", "--json", cwd=tmp_path).stdout)
    lines = next(t for t in tables if t["table"] == "invoice_lines")
    assert lines["key"] == ["invoice_id", "line_no"]
    assert {"name": "invoice_date", "type": "date", "required": True, "values": [],
            "description": "Invoice date"} in lines["columns"]


def test_reading_a_missing_workspace_says_how_to_start(tmp_path: Path) -> None:
    result = run("status", "--workspace", str(tmp_path / "nothing.duckdb"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no workspace at" in result.stderr and "salesradar demo" in result.stderr
    assert not (tmp_path / "nothing.duckdb").exists()


def _lang_commands() -> list[list[str]]:
    """The path of every command that takes --lang, e.g. ``["user", "add"]``."""
    import typer.main

    from salesradar.cli.main import app

    def walk(command: Any, path: list[str]) -> list[list[str]]:
        subcommands = getattr(command, "commands", None)  # a group
        if subcommands is not None:
            return [p for name, sub in subcommands.items() for p in walk(sub, [*path, name])]
        return [path] if any(p.name == "lang" for p in command.params) else []

    return walk(typer.main.get_command(app), [])


def test_every_lang_option_refuses_other_languages_the_same_way() -> None:
    from typer.testing import CliRunner

    from salesradar.cli.main import app
    from salesradar.errors import UserInputError

    paths = _lang_commands()
    assert {"customer", "demo", "run", "insights", "user add", "scorecard", "report"} <= {
        " ".join(p) for p in paths}
    for path in paths:
        # --lang is checked as it is read, before required options, arguments or any work
        result = CliRunner().invoke(app, [*path, "--lang", "fr"])
        assert isinstance(result.exception, UserInputError), (path, result.output)
        assert str(result.exception) == "--lang must be en or he, not 'fr'"


def test_status_names_the_store_of_the_workspace(tmp_path: Path) -> None:
    for name in ("uci1", "cm"):
        path = write_csv(tmp_path / f"{name}.csv", INVOICE_HEADER,
                         [f"{name},1,2024-01-05,C1,S1,1,10,5,R1"])
        assert run("import", "invoice_lines", str(path), "-w", f"{name}.duckdb",
                   cwd=tmp_path).returncode == 0
    status = json.loads(run("status", "-w", "cm.duckdb", "--json", cwd=tmp_path).stdout)
    assert status["app_store"]["url"] == f"sqlite:///{tmp_path.resolve() / 'cm.app.sqlite'}"
    assert status["app_store"]["workspace"] == str(tmp_path.resolve() / "cm.duckdb")
    text = run("status", "-w", "uci1.duckdb", cwd=tmp_path)
    assert "application store" in text.stdout and "uci1.app.sqlite" in text.stdout
    refused = run("status", "-w", "uci1.duckdb", "--app-db",
                  f"sqlite:///{tmp_path / 'cm.app.sqlite'}", cwd=tmp_path)
    assert refused.returncode == 2 and "serves the workspace" in refused.stderr


def test_import_report_says_how_many_lines_a_resent_document_lost(tmp_path: Path) -> None:
    header = 'מספר מסמך,תאריך,מפתח חשבון,מפתח פריט,כמות,סה"כ,סוכן'
    lines = ["5001,03/03/24,3001,MLK-1L,100,2400,07", "5001,03/03/24,3001,BTR-200,50,1235,07",
             "5001,03/03/24,3001,YOG-500,110,3137,07"]
    mapping = str(MAPPINGS / "hashavshevet_invoice_lines.yaml")
    for name, body in (("a.csv", lines), ("b.csv", [lines[0], lines[2]])):
        (tmp_path / name).write_bytes("\r\n".join([header, *body]).encode("windows-1255"))
        result = run("import", "invoice_lines", name, "--mapping", mapping, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert "(0 inserted, 0 updated, 2 unchanged, 1 deleted)" in result.stdout


def test_run_with_a_webhook_but_no_secret_stops_before_creating_anything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "invoice_lines.csv", INVOICE_HEADER, ["A,1,2024-01-05,C1,S1,1,10,5,R1"])
    env = {"SALESRADAR_WEBHOOK_URL": "https://hooks.example.test/x",
           "SALESRADAR_WEBHOOK_SECRET": ""}
    result = run("run", "--data", str(data), cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    assert "SALESRADAR_WEBHOOK_SECRET" in result.stderr and "nothing was computed" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no workspace, no store
