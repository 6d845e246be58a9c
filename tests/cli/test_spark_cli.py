"""Spark from the CLI, as docs/spark.md shows it: export a workspace's canonical tables to
Parquet, then compute a KPI with ``--engine 'spark://local[1]?tables=FOLDER'`` and get the same
values as on the workspace's DuckDB.

The workspace is the hand-made one every KPI case is worked out on (tests/metrics/data.py). The
Spark runs are the CLI's own processes (one local-mode session each); the tests share the Spark
tests' xdist group so that they do not start a JVM beside the Spark session of tests/metrics.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from metrics.data import tables
from salesradar.cli.main import app
from salesradar.engine_spark import parse_spark_url
from salesradar.errors import UserInputError
from salesradar.workspace import Workspace

from .conftest import run
from .test_manage_cli import documented_commands

pytestmark = pytest.mark.xdist_group("engine-spark")

KPI = ("kpi", "revenue", "--by", "rep", "--period", "month")


@pytest.fixture(scope="session")
def hand_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace file holding the hand-made tables."""
    path = tmp_path_factory.mktemp("spark-cli") / "ws.duckdb"
    with Workspace.open(path) as ws:
        for name, data in tables().items():
            ws.con.register("_source", data)
            ws.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _source")
            ws.con.unregister("_source")
    return path


def refuse(name: str) -> Any:
    raise ValueError(f"{name} in JSON output")


def cli_json(*args: str, cwd: Path) -> Any:
    """A command's --json output, parsed strictly (no NaN, no Infinity)."""
    result = run(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout, parse_constant=refuse)


def export(workspace: Path, folder: Path, *options: str) -> Any:
    return cli_json("export-tables", str(folder), "--workspace", str(workspace), *options,
                    cwd=workspace.parent)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def test_kpi_on_local_spark_from_exported_tables_equals_duckdb(hand_workspace: Path,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "canonical"
    exported = export(hand_workspace, folder)
    written = {t["table"]: t for t in exported["tables"]}
    assert written["invoice_lines"]["rows"] == tables()["invoice_lines"].num_rows == 15
    assert Path(written["invoice_lines"]["file"]) == folder / "invoice_lines.parquet"
    assert exported["engine"] == f"spark://local[2]?tables={folder}"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in written)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left

    on_spark = cli_json(*KPI, "--engine", f"spark://local[1]?tables={folder}", cwd=tmp_path)
    on_duckdb = cli_json(*KPI, "--workspace", str(hand_workspace), cwd=tmp_path)

    def key(row: dict[str, Any]) -> tuple[str, str]:
        return str(row["period"]), str(row["rep_id"])

    assert len(on_duckdb) == 8  # the months each of the 3 reps sold in, Dec 2023 .. Mar 2024
    assert any(r["previous"] is not None for r in on_duckdb)
    assert [key(r) for r in on_spark] == [key(r) for r in on_duckdb]
    for spark_row, duck_row in zip(on_spark, on_duckdb, strict=True):
        assert same(spark_row, duck_row), (spark_row, duck_row)


def test_export_refuses_a_folder_with_files_unless_replace(hand_workspace: Path,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "canonical"
    folder.mkdir()
    (folder / "note.txt").write_text("mine")
    result = run("export-tables", str(folder), "--workspace", str(hand_workspace),
                 cwd=tmp_path)
    assert result.returncode == 2 and "--replace" in result.stderr
    assert (folder / "note.txt").exists()
    again = export(hand_workspace, folder, "--tables", "invoice_lines", "--replace")
    assert [t["table"] for t in again["tables"]] == ["invoice_lines"]
    assert [p.name for p in folder.iterdir()] == ["invoice_lines.parquet"]


def test_missing_tables_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run(*KPI, "--engine", f"spark://local[1]?tables={missing}", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(missing) in result.stderr and "does not exist" in result.stderr
    assert "invoice_lines.parquet" in result.stderr


def test_folder_without_invoice_lines_is_a_clear_error(hand_workspace: Path,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "crm-only"
    export(hand_workspace, folder, "--tables", "customers,reps")
    result = run(*KPI, "--engine", f"spark://local[1]?tables={folder}", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"no invoice_lines table in {folder}" in message
    assert "invoice_lines.parquet or invoice_lines/" in message
    assert "found only customers, reps" in message


def test_spark_url_forms() -> None:
    cluster = parse_spark_url("spark://spark-master:7077?tables=s3a://bucket/canonical")
    assert (cluster.master, cluster.tables) == ("spark://spark-master:7077",
                                                "s3a://bucket/canonical")
    catalog = parse_spark_url("spark://local[2]?database=salesradar")
    assert (catalog.master, catalog.database, catalog.tables) == ("local[2]", "salesradar", None)
    assert parse_spark_url("spark://local[2]").tables is None
    assert parse_spark_url("spark://local[2]?tables=/d&cache=true").cache
    for bad in ("spark://local[2]?table=x", "spark://local[2]?tables=a&database=b",
                "spark://local[2]?tables=a&cache=maybe",
                "spark://not a host"):
        with pytest.raises(UserInputError):
            parse_spark_url(bad)


def test_documented_spark_commands_parse() -> None:
    # every command line of docs/spark.md's sh blocks parses up to --help, and its --engine URL
    commands = documented_commands("spark.md")
    assert len(commands) >= 5
    urls = [args[args.index("--engine") + 1] for args in commands if "--engine" in args]
    assert len(urls) >= 3
    for url in urls:
        parse_spark_url(url)
    for args in commands:
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
