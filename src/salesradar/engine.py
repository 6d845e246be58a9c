"""The only module that knows how to connect to a compute engine.

A workspace is one embedded DuckDB file by default. Everything above this module gets an Ibis
backend and never a driver-specific connection, except the importer, which stages and validates
files in DuckDB before they are written (see :mod:`salesradar.io.importer`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from salesradar.config import MEMORY_LIMIT_ENV, memory_limit, models_memory_limit
from salesradar.errors import UserInputError, WorkspaceError


def open_duckdb(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the DuckDB file at ``path`` with the settings every salesradar
    connection has: UTC, no replacement scans, no progress bar, the memory limit.

    Without Ibis: a command that only asks SQL questions (``salesradar run`` when nothing
    changed) does not import it; :func:`duckdb_backend` wraps the connection when needed."""
    target = Path(path)
    memory = str(target).startswith(":memory:")
    if not memory and not read_only and target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target) if memory else str(target.absolute()),
                             read_only=read_only)
    except duckdb.IOException as exc:  # locked by another process, unreadable, not a DuckDB file
        raise WorkspaceError(f"cannot open workspace {target}: {exc}") from exc
    connection_settings(con)
    try:
        _set_memory_limit(con, memory_limit())
    except duckdb.Error as exc:
        con.close()
        raise UserInputError(f"{MEMORY_LIMIT_ENV} must be a size like 4GB: {exc}") from None
    return con


@contextmanager
def memory_for_models(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside the block, DuckDB's memory limit leaves room for the models' own arrays and
    frames (:func:`~salesradar.config.models_memory_limit`), which DuckDB does not count:
    with both, the process stays within the memory limit. The limit is the database's (every
    cursor's); it is restored on leaving."""
    lowered = models_memory_limit()
    if lowered is None:  # not a size we read: DuckDB's limit stays as it is
        yield
        return
    _set_memory_limit(con, f"{lowered}B")
    try:
        yield
    finally:
        _set_memory_limit(con, memory_limit())


def _set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> None:
    """DuckDB's memory limit for the database (every cursor), as a literal: a bound parameter
    would make DuckDB import pandas (a quarter second)."""
    quoted = limit.replace("'", "''")
    con.execute(f"SET memory_limit = '{quoted}'")


def connection_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The settings of each connection (a cursor of another thread too; the memory limit is
    the database's): UTC, no replacement scans, no progress bar."""
    # what Ibis sets on a connection it opens, set here so SQL run before Ibis sees the same
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET python_enable_replacements = false")
    # DuckDB draws its own progress bar on stdout for long queries, which would corrupt --json
    # output; the CLI shows progress on stderr instead
    con.execute("SET enable_progress_bar = false")


def duckdb_backend(con: duckdb.DuckDBPyConnection) -> Any:
    """The Ibis backend over an open DuckDB connection (:func:`open_duckdb`)."""
    import ibis

    return ibis.duckdb.from_connection(con)


def connect_duckdb(path: Path | str, *, read_only: bool = False) -> Any:
    """Open (creating if needed) the DuckDB workspace at ``path`` as an Ibis backend."""
    return duckdb_backend(open_duckdb(path, read_only=read_only))


def connect(url: str) -> Any:
    """An Ibis backend for an engine URL that holds the canonical tables.

    ``duckdb:///path/to/workspace.duckdb``, ``postgresql://user:password@host/db`` (needs the
    ``salesradar[postgres]`` extra) or ``spark://local[2]?tables=/path/to/folder`` (pyspark in
    local mode, the tables from Parquet; a cluster, the Spark catalog and Spark settings: see
    :mod:`salesradar.engine_spark`; needs the ``salesradar[spark]`` extra and Java).
    """
    if url.startswith("duckdb://"):
        return connect_duckdb(url.removeprefix("duckdb://") or ":memory:")
    if url.startswith(("postgres://", "postgresql://")):
        import ibis

        try:
            return ibis.connect(url)
        except ImportError as exc:
            raise UserInputError(f"PostgreSQL needs its driver: pip install "
                                 f"'salesradar[postgres]' ({exc})") from None
        except Exception as exc:  # the driver's own connection errors
            raise WorkspaceError(f"cannot connect to {url.split('@')[-1]}: {exc}") from None
    if url.startswith("spark://"):
        from salesradar.engine_spark import connect_spark

        return connect_spark(url)
    raise UserInputError(
        f"unknown engine URL {url.split('@')[-1]!r}: use duckdb:///file.duckdb, "
        "postgresql://user@host/db or spark://local[2]?tables=FOLDER"
    )


def raw_duckdb(backend: Any) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection behind an Ibis DuckDB backend (for the importer's staging)."""
    con: duckdb.DuckDBPyConnection = backend.con
    return con


def table_names(backend: Any) -> set[str]:
    """Names of the tables and views an Ibis backend (or a workspace) holds (what
    ``backend.list_tables()`` lists).

    On DuckDB the names are read with a plain query: ibis 12's ``list_tables`` goes through
    DuckDB's ``fetch_arrow_table()``, deprecated since duckdb 1.5. Other engines ask Ibis.
    """
    con = getattr(backend, "con", None)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return set(backend.list_tables())
    rows = con.execute(
        "SELECT DISTINCT table_name FROM information_schema.tables"
        " WHERE table_catalog IN (current_database(), 'temp')"
        " AND table_schema = current_schema()"
    ).fetchall()
    return {str(r[0]) for r in rows}
