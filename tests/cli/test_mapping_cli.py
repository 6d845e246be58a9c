"""`salesradar mapping suggest` and `salesradar import --mapping auto`, run as a user runs them."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from helpers import DATA
from salesradar.cli.main import main

DETECT = DATA / "detect"
HEBREW = DETECT / "hebrew_invoice_lines.csv"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Callable[..., Result]:
    """Run the command line in this process (as `salesradar ARGS` in folder ``cwd``): the exit
    code, stdout and stderr, without the second a new interpreter costs."""

    def invoke(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
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


def lines_of(workspace: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute("SELECT * FROM invoice_lines ORDER BY invoice_id, line_no").fetchall()


def test_suggest_prints_yaml_and_writes_it_with_json(tmp_path: Path, run: Run) -> None:
    shown = run("mapping", "suggest", "invoice_lines", str(HEBREW), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    mapping = yaml.safe_load(shown.stdout)
    assert mapping["encoding"] == "windows-1255" and mapping["date_format"] == "%d/%m/%Y"
    assert mapping["columns"]["sku"] == "קוד פריט" and mapping["columns"]["net_revenue"] == 'סה"כ'
    assert "# header synonym, confidence 0.90" in shown.stdout

    out = tmp_path / "m.yaml"
    written = run("mapping", "suggest", "invoice_lines", str(HEBREW), "--out", str(out),
                  "--json", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    data = json.loads(written.stdout)
    assert out.read_text(encoding="utf-8") == data["yaml"] == shown.stdout
    assert data["missing"] == [] and data["formats"]["date_order"] == "day-first"
    assert {c["target"]: c["source"] for c in data["columns"]}["customer_id"] == "מספר לקוח"


def test_auto_imports_like_the_reviewed_yaml(tmp_path: Path, run: Run) -> None:
    auto = run("import", "invoice_lines", str(HEBREW), "--mapping", "auto", "--json",
               "--workspace", str(tmp_path / "auto.duckdb"), cwd=tmp_path)
    assert auto.returncode == 0, auto.stderr
    report = json.loads(auto.stdout)
    assert report["inserted"] == 4
    assert report["mapping"]["table"] == "invoice_lines"
    assert {c["target"]: c["reason"] for c in report["mapping"]["columns"]}["sku"] == \
        "header synonym"

    assert run("mapping", "suggest", "invoice_lines", str(HEBREW), "--out", "m.yaml",
               cwd=tmp_path).returncode == 0
    reviewed = run("import", "invoice_lines", str(HEBREW), "--mapping", "m.yaml",
                   "--workspace", str(tmp_path / "yaml.duckdb"), cwd=tmp_path)
    assert reviewed.returncode == 0, reviewed.stderr
    assert lines_of(tmp_path / "auto.duckdb") == lines_of(tmp_path / "yaml.duckdb")
    assert len(lines_of(tmp_path / "auto.duckdb")) == 4


def test_auto_prints_the_mapping_in_text(tmp_path: Path, run: Run) -> None:
    result = run("import", "invoice_lines", str(DETECT / "sap_b1_invoice_lines.csv"),
                 "--mapping", "auto", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "shipped export sap_b1_invoice_lines" in result.stdout
    assert "dates %d.%m.%Y" in result.stdout and "3 rows read (3 inserted" in result.stdout


def test_a_missing_column_is_one_clear_error(tmp_path: Path, run: Run) -> None:
    result = run("import", "invoice_lines", str(DETECT / "missing_customer.csv"), "--mapping",
                 "auto", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing_customer.csv: no column found for customer_id (required in invoice_lines)" \
        in result.stderr
    assert not (tmp_path / "salesradar.duckdb").exists()  # nothing was opened or written
    as_json = run("import", "invoice_lines", str(DETECT / "missing_customer.csv"), "--mapping",
                  "auto", "--json", cwd=tmp_path)
    assert as_json.returncode == 2 and "customer_id" in json.loads(as_json.stdout)["error"]
    sql = run("import", "invoice_lines", "--from-sql", "sqlite:///x.db", "--query", "SELECT 1",
              "--mapping", "auto", cwd=tmp_path)
    assert sql.returncode == 2 and "--mapping auto reads a file" in sql.stderr


def test_help_tells_of_auto_and_suggest(tmp_path: Path, run: Run) -> None:
    assert "auto" in run("import", "--help", cwd=tmp_path).stdout
    suggest = run("mapping", "suggest", "--help", cwd=tmp_path).stdout
    assert "--out" in suggest and "--json" in suggest and "shipped export" in suggest
