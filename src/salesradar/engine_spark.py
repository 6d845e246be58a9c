"""Spark as a compute engine: where its canonical tables come from (for :mod:`salesradar.engine`).

An engine URL ``spark://MASTER[?OPTION&OPTION...]``:

* ``MASTER``: ``local``, ``local[2]``, ``local[*]`` (Spark in this process, for one machine),
  ``yarn``, or ``HOST:PORT`` of a standalone cluster's master (passed as ``spark://HOST:PORT``).
* ``tables=FOLDER``: a folder (a path, or a URI Spark reads, e.g. ``s3a://bucket/canonical``)
  holding one Parquet file or folder per canonical table: ``invoice_lines.parquet`` or
  ``invoice_lines/`` with part files, or a Delta table (a folder with ``_delta_log``).
  ``salesradar export-tables FOLDER`` writes such a folder from a workspace.
* ``database=NAME``: the canonical tables of the Spark catalog's database ``NAME``.
* ``cache=true``: keep the tables in Spark's memory (``CACHE TABLE``) once read, for the
  command's queries that read them again (the KPIs read the invoice lines many times).
* ``spark.KEY=VALUE``: any Spark setting, applied before the session starts, e.g.
  ``spark.driver.memory=8g``.

Without ``tables`` or ``database`` the tables are looked up in the catalog's current database.

Each canonical table found is registered as a temporary view under its canonical name, its
columns cast to the Spark types of the canonical schema, the same types as a table created from
Arrow (what the KPI tests on Spark run on, see ``tests/metrics/conftest.py``): a Parquet
TIMESTAMP written by DuckDB would otherwise read as ``timestamp_ntz``, a missing optional column
is null. ``invoice_lines`` is required; every other table is optional, as in a workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from salesradar.errors import UserInputError
from salesradar.schema import TABLES, ColumnType, Table

SPARK_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "string",
    ColumnType.TEXT: "string",
    ColumnType.ENUM: "string",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
    ColumnType.PERIOD: "date",
    ColumnType.MONEY: "decimal(18,4)",
    ColumnType.NUMBER: "double",
    ColumnType.INTEGER: "bigint",
    ColumnType.BOOLEAN: "boolean",
}
REQUIRED_TABLE = "invoice_lines"
HOW = ("add ?tables=FOLDER (one Parquet file or folder per canonical table, e.g. written by "
       "salesradar export-tables FOLDER) or ?database=NAME (a database of the Spark catalog), "
       "e.g. spark://local[2]?tables=/data/canonical")
LOCAL_MASTER = re.compile(r"local(\[[0-9*]+(,[0-9]+)?\])?")
SETTINGS_DEFAULT = {
    "spark.sql.session.timeZone": "UTC",  # canonical timestamps have no zone
    "spark.ui.showConsoleProgress": "false",  # no progress bars between the CLI's lines
}


@dataclass(frozen=True)
class SparkUrl:
    """A parsed ``spark://`` engine URL."""

    master: str
    tables: str | None = None
    database: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    cache: bool = False


def parse_spark_url(url: str) -> SparkUrl:
    """Split ``spark://MASTER?tables=...&database=...&spark.KEY=VALUE`` into its parts.

    >>> url = parse_spark_url("spark://local[2]?tables=/data/c&spark.driver.memory=8g")
    >>> url.master, url.tables, url.database, url.settings
    ('local[2]', '/data/c', None, {'spark.driver.memory': '8g'})
    >>> parse_spark_url("spark://spark-master:7077?tables=s3a://bucket/canonical").master
    'spark://spark-master:7077'
    """
    rest = url.removeprefix("spark://")
    where, _, query = rest.partition("?")
    where = where.rstrip("/") or "local[*]"
    if LOCAL_MASTER.fullmatch(where) or where == "yarn":
        master = where
    elif re.fullmatch(r"[A-Za-z0-9.\-]+:[0-9]+", where):
        master = f"spark://{where}"
    else:
        raise UserInputError(
            f"unknown Spark master {where!r} in {url!r}: use local[N] (this machine), yarn, or "
            "HOST:PORT of a standalone cluster, e.g. spark://spark-master:7077?tables=FOLDER"
        )
    options: dict[str, str] = {}
    settings: dict[str, str] = {}
    cache = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.startswith("spark."):
            settings[key] = value
        elif key == "cache":
            if value.lower() not in ("true", "false"):
                raise UserInputError(f"cache= in {url!r} must be true or false, not {value!r}")
            cache = value.lower() == "true"
        elif key in ("tables", "database"):
            if not value:
                raise UserInputError(f"{key}= in {url!r} is empty: {HOW}")
            options[key] = value
        else:
            raise UserInputError(
                f"unknown option {key!r} in {url!r}: use tables=FOLDER, database=NAME, "
                "cache=true or a Spark setting spark.KEY=VALUE"
            )
    if "tables" in options and "database" in options:
        raise UserInputError(f"{url!r} gives both tables= and database=: give one")
    return SparkUrl(master, options.get("tables"), options.get("database"), settings, cache)


def connect_spark(url: str) -> Any:
    """An Ibis pyspark backend whose session holds the canonical tables ``url`` names."""
    spec = parse_spark_url(url)
    if spec.tables is not None and "://" not in spec.tables:
        check_local_folder(spec.tables)  # before the seconds a Spark session takes to start
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserInputError("Spark needs pyspark: pip install 'salesradar[spark]'") from None
    builder = SparkSession.builder.master(spec.master).appName("salesradar")
    for key, value in {**SETTINGS_DEFAULT, **spec.settings}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    if spec.tables is not None:
        names = register_folder(session, spec.tables)
    else:
        names = register_catalog(session, spec.database, url)
    if spec.cache:
        for name in names:
            session.catalog.cacheTable(name)  # filled by the first query that reads it
    return ibis.pyspark.connect(session)


def conform(frame: Any, spec: Table, where: str) -> Any:
    """``frame`` with the canonical columns of ``spec`` in order, cast to their Spark types."""
    from pyspark.sql import functions as F

    present = {c.lower(): c for c in frame.columns}
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        raise UserInputError(f"{spec.name} in {where} lacks the required column(s) "
                             f"{', '.join(missing)}")
    return frame.select(*[
        (F.col(f"`{present[c.name]}`") if c.name in present else F.lit(None))
        .cast(SPARK_TYPES[c.type]).alias(c.name)
        for c in spec.columns
    ])


def _exists(session: Any, path: str) -> bool:
    """Whether ``path`` exists, asked of Hadoop's file systems (local, HDFS, S3...)."""
    jvm = session._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    try:
        return bool(hadoop_path.getFileSystem(session._jsc.hadoopConfiguration())
                    .exists(hadoop_path))
    except Exception as exc:  # no file system for the scheme, no credentials, ...
        raise UserInputError(f"Spark cannot read {path}: {str(exc).splitlines()[0]}") from None


def _candidates(folder: str, name: str) -> tuple[str, str]:
    return f"{folder}/{name}.parquet", f"{folder}/{name}"


def _read(session: Any, path: str) -> Any:
    """A Parquet file or folder, or a Delta table, as a Spark DataFrame."""
    delta = _exists(session, f"{path}/_delta_log")
    try:
        if delta:
            return session.read.format("delta").load(path)
        return session.read.parquet(path)
    except Exception as exc:
        text = str(exc)
        if delta and ("delta" in text.lower() or "DATA_SOURCE_NOT_FOUND" in text):
            raise UserInputError(
                f"{path} is a Delta table and this Spark has no Delta reader: pip install "
                "delta-spark and add to the URL spark.jars.packages=io.delta:delta-spark_2.13:"
                "VERSION&spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
                "&spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog."
                "DeltaCatalog, or write the table as Parquet"
            ) from None
        raise UserInputError(f"Spark cannot read {path}: {text.splitlines()[0]}") from None


LOOKED = f"{REQUIRED_TABLE}.parquet or {REQUIRED_TABLE}/"


def _no_folder(folder: str) -> UserInputError:
    return UserInputError(
        f"the tables folder {folder} does not exist: it should hold one Parquet file or folder "
        f"per canonical table ({LOOKED}, customers.parquet, ...), e.g. written by salesradar "
        "export-tables FOLDER"
    )


def _no_lines(folder: str, found: list[str]) -> UserInputError:
    seen = (f"found only {', '.join(found)}" if found else
            f"found none of the canonical tables: {', '.join(TABLES)}")
    return UserInputError(
        f"no {REQUIRED_TABLE} table in {folder}: looked for {LOOKED} ({seen}); salesradar "
        "export-tables FOLDER writes them from a workspace"
    )


def check_local_folder(folder: str) -> None:
    """The errors of :func:`register_folder` for a local folder, found without Spark."""
    from pathlib import Path

    where = Path(folder).resolve()
    if not where.is_dir():
        raise _no_folder(str(where))
    found = [n for n in TABLES if any(Path(p).exists() for p in _candidates(str(where), n))]
    if REQUIRED_TABLE not in found:
        raise _no_lines(str(where), found)


def register_folder(session: Any, folder: str) -> list[str]:
    """Register every canonical table found in ``folder`` as a view; return their names."""
    if "://" not in folder:
        from pathlib import Path

        folder = str(Path(folder).resolve())
    folder = folder.rstrip("/")
    if not _exists(session, folder):
        raise _no_folder(folder)
    found = []
    for name, spec in TABLES.items():
        path = next((p for p in _candidates(folder, name) if _exists(session, p)), None)
        if path is None:
            continue
        conform(_read(session, path), spec, path).createOrReplaceTempView(name)
        found.append(name)
    if REQUIRED_TABLE not in found:
        raise _no_lines(folder, found)
    return found


def register_catalog(session: Any, database: str | None, url: str) -> list[str]:
    """Register the canonical tables of a catalog database (else the current one) as views."""
    catalog = session.catalog
    if database is not None:
        if not catalog.databaseExists(database):
            names = ", ".join(d.name for d in catalog.listDatabases()) or "none"
            raise UserInputError(f"the Spark catalog has no database {database!r} "
                                 f"(databases: {names})")
        catalog.setCurrentDatabase(database)
    current = catalog.currentDatabase()
    if not catalog.tableExists(REQUIRED_TABLE):
        if database is None:
            raise UserInputError(
                f"{url} names no tables, and the Spark catalog's current database "
                f"{current!r} has no {REQUIRED_TABLE}: {HOW}"
            )
        raise UserInputError(
            f"the Spark catalog's database {database!r} has no table {REQUIRED_TABLE} "
            f"(looked for the canonical tables {', '.join(TABLES)})"
        )
    found = []
    for name, spec in TABLES.items():
        if catalog.tableExists(name):
            where = f"{current}.{name}"
            conform(session.table(f"`{current}`.`{name}`"), spec, where) \
                .createOrReplaceTempView(name)
            found.append(name)
    return found
