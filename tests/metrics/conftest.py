"""One backend-parametrized fixture: the hand-made workspace on DuckDB, PostgreSQL and Spark.

* DuckDB: in memory.
* PostgreSQL: a real server started by this test session with the ``pgserver`` package (a
  PostgreSQL build shipped on PyPI) in a temporary directory, stopped at the end.
* Spark: one local-mode session (``local[2]``) for the whole run, with the machine's Java
  (``scripts/setup-test-engines.sh`` installs Java 17 and the Python packages if missing).

``SALESRADAR_TEST_ENGINES=duckdb`` (comma-separated) limits the engines for a quick local run; by
default all three run, and an engine that cannot start fails the run rather than being skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from helpers import postgres_server

from .data import tables

ALL_ENGINES = ("duckdb", "postgres", "spark")
ENGINES = tuple(
    e.strip() for e in os.environ.get("SALESRADAR_TEST_ENGINES", ",".join(ALL_ENGINES)).split(",")
    if e.strip()
)


# Library warnings allowed in these tests, each narrowly:
ALLOWED_WARNINGS = (
    # ibis 12 calls DuckDB's fetch_arrow_table, deprecated in duckdb 1.5 (fixed in later ibis)
    r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning",
    # py4j leaves its gateway sockets to the garbage collector (Spark engine only)
    "ignore:unclosed <socket:ResourceWarning",
    # pyspark's Arrow conversion still passes pandas' deprecated copy= keyword
    "ignore:The copy keyword is deprecated",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for rule in ALLOWED_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(rule))


def load_tables(con: Any, data: dict[str, pa.Table]) -> Any:
    """Create (or replace) the tables ``data`` in the backend ``con``."""
    if con.name == "pyspark":
        # ibis' pyspark create_table goes through pandas, which turns null strings into "NaN";
        # Spark's own Arrow path keeps nulls, so tables are registered as views from Arrow.
        for name, table in data.items():
            con._session.createDataFrame(table).createOrReplaceTempView(name)
        return con
    for name, table in data.items():
        con.create_table(name, table, overwrite=True)
    return con


def _load(con: Any) -> Any:
    return load_tables(con, tables())


@pytest.fixture(scope="session")
def duckdb_backend() -> Any:
    return _load(ibis.duckdb.connect())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    with postgres_server("salesradar-pg-") as server:
        yield server


@pytest.fixture(scope="session")
def postgres_backend(pg_server: Any) -> Iterator[Any]:
    con = ibis.connect(pg_server.get_uri())
    yield _load(con)
    con.disconnect()


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java: run scripts/setup-test-engines.sh")
    from pyspark.sql import SparkSession

    warehouse = Path(tempfile.mkdtemp(prefix="salesradar-spark-"))
    session = (
        SparkSession.builder.master("local[2]")
        .appName("salesradar-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield _load(ibis.pyspark.connect(session))
    session.stop()
    shutil.rmtree(warehouse, ignore_errors=True)


@pytest.fixture(scope="session", params=ENGINES)
def backend(request: pytest.FixtureRequest) -> Any:
    """The hand-made workspace on each engine in turn."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture(scope="session", params=ENGINES)
def scratch(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An empty backend on each engine, for tests that load their own tables.

    DuckDB: another in-memory database; PostgreSQL: the database ``scratch`` on the test server;
    Spark: a new session (own temporary views) sharing the test SparkContext.
    """
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
    elif request.param == "postgres":
        server = request.getfixturevalue("pg_server")
        server.psql("CREATE DATABASE scratch;")
        con = ibis.connect(server.get_uri("scratch"))
    else:
        spark = request.getfixturevalue("spark_backend")
        con = ibis.pyspark.connect(spark._session.newSession())
    yield con
    if request.param != "spark":  # the Spark session is stopped with spark_backend
        con.disconnect()
