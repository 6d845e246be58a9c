"""A workspace: one DuckDB file holding the canonical tables, plus a log of imports.

>>> ws = Workspace.open(":memory:")
>>> ws.table("invoice_lines").count().execute()
0

Readers and writers never share the served file. A writer (``salesradar run``, ``import``,
``score``) goes through :func:`writing`: under the workspace's writer lock
(``<workspace>.lock``) it copies the served file to ``<workspace>.next`` (and the saved models to
``<workspace>.next.models``), works on the copy, checkpoints it and publishes it with
``os.replace``, atomic on POSIX. A reader that opened the served file before keeps reading the
old one to its end; every open after the rename sees the new one; nobody ever waits for the
other, and a writer that dies leaves the served file untouched (the next writer deletes its
leftovers).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

import duckdb
import pyarrow as pa

from salesradar.dates import as_date
from salesradar.engine import (
    connection_settings,
    duckdb_backend,
    open_duckdb,
    raw_duckdb,
    table_names,
)
from salesradar.errors import UserInputError, WorkspaceError
from salesradar.schema import TABLES, FeatureState, Table, feature_states

IMPORT_LOG = "_salesradar_imports"
ROW_GROUP_ROWS = 122_880  # DuckDB's rows per row group (its default row_group_size)


def quote(identifier: str) -> str:
    """Quote an SQL identifier (a column or table name, possibly Hebrew) for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """An SQL string literal (quotes doubled), for what DuckDB cannot bind as a parameter: file
    paths in ATTACH and views, formats and value translations of the importer."""
    return "'" + value.replace("'", "''") + "'"


def create_table_sql(spec: Table, name: str | None = None, *, temporary: bool = False) -> str:
    """DDL for a canonical table with its declared storage types."""
    columns = ", ".join(f"{quote(c.name)} {c.storage_type}" for c in spec.columns)
    kind = "TEMP TABLE" if temporary else "TABLE"
    return f"CREATE {kind} IF NOT EXISTS {quote(name or spec.name)} ({columns})"


def last_invoice_day(source: Any) -> date | None:
    """The last invoice date, the data's "today" that every default as-of date starts from.

    ``source`` is a workspace, an Ibis backend or the invoice lines table itself. None while
    there are no invoice lines.
    """
    if isinstance(source, Workspace):  # a plain query: no Ibis needed
        row = source.con.execute("SELECT max(invoice_date) FROM invoice_lines").fetchone()
        return as_date(row[0] if row else None)
    lines = source if hasattr(source, "invoice_date") else source.table("invoice_lines")
    return as_date(lines.invoice_date.max().to_pyarrow().as_py())


def data_day(source: Any) -> date:
    """:func:`last_invoice_day`, refusing a workspace without invoice lines."""
    day = last_invoice_day(source)
    if day is None:
        raise UserInputError("the workspace has no invoice lines: import them first")
    return day


@dataclass(frozen=True)
class TableStatus:
    name: str
    rows: int
    first: date | None
    last: date | None
    date_column: str | None


@dataclass(frozen=True)
class WorkspaceStatus:
    path: str
    tables: list[TableStatus]
    features: list[FeatureState]
    imports: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.path,
            "tables": [
                {
                    "table": t.name,
                    "rows": t.rows,
                    "date_column": t.date_column,
                    "first": t.first.isoformat() if t.first else None,
                    "last": t.last.isoformat() if t.last else None,
                }
                for t in self.tables
            ],
            "features": [
                {"feature": f.feature.name, "on": f.on, "reason": f.reason,
                 "needs": list(f.feature.needs)}
                for f in self.features
            ],
            "imports": self.imports,
        }


class Workspace:
    """The canonical tables of one company, in one DuckDB file, reached through Ibis."""

    def __init__(self, backend: Any, path: str, published: str | None = None, *,
                 con: duckdb.DuckDBPyConnection | None = None) -> None:
        # the Ibis backend is built on first use (:attr:`backend`): SQL through :attr:`con`
        # alone never imports Ibis
        self._backend = backend
        self._con = con if con is not None else raw_duckdb(backend)
        self.path = path  # the file open (a writer's private copy while it writes)
        self.published = published or path  # the file readers are served
        self._held: int | None = None  # a lock descriptor released on close (open_served)

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Self:
        """Open the workspace at ``path``, creating the file and any missing tables."""
        ws = cls(None, str(path), con=open_duckdb(path, read_only=read_only))
        if not read_only:
            ws._ensure_tables()
        return ws

    @property
    def backend(self) -> Any:
        """The Ibis backend over :attr:`con`."""
        if self._backend is None:
            self._backend = duckdb_backend(self._con)
        return self._backend

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def thread_view(self) -> Workspace:
        """The same open database through a new DuckDB connection, for work in another
        thread (a connection must not be used by two threads at once). It sees the
        workspace's tables and attached databases, not its temporary tables; closing it
        leaves the workspace open."""
        cursor = self._con.cursor()
        connection_settings(cursor)
        return Workspace(None, self.path, self.published, con=cursor)

    def _ensure_tables(self) -> None:
        for spec in TABLES.values():
            self.con.execute(create_table_sql(spec))
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {IMPORT_LOG} ("
            "import_id BIGINT, table_name VARCHAR, source VARCHAR, source_bytes BIGINT,"
            " imported_at TIMESTAMP, rows_read BIGINT, rows_skipped BIGINT, inserted BIGINT,"
            " updated BIGINT, unchanged BIGINT)"
        )
        # whether the import wrote anything: a re-import of unchanged data is logged but
        # changes nothing, so it must not make the scores and marts stale (change_stamp)
        self.con.execute(f"ALTER TABLE {IMPORT_LOG} ADD COLUMN IF NOT EXISTS changed BOOLEAN")

    def table(self, name: str) -> Any:
        """The Ibis table expression of a canonical table."""
        return self.backend.table(name)

    def write_arrow(self, name: str, table: pa.Table) -> None:
        """``table`` as the table ``name``, replacing it. DuckDB reads the Arrow memory
        itself; Ibis's ``create_table`` converts it first (the churn scores with their lists
        of reasons: 0.8 s instead of 0.1 s), to the same column types and values.

        DuckDB scans an Arrow table one record batch per thread: a table in one long batch
        (the 490,000 cross-sell offers) is read by one thread while the other waits for work
        it never gets, often spinning (1.2-2.4 CPU seconds, against 1.0-1.2 handed over in
        batches). It is handed over in batches of DuckDB's row group size (slices, no copy):
        the same rows in the same order and row groups."""
        view = "_salesradar_arrow_to_write"
        if table.num_rows > ROW_GROUP_ROWS:
            table = pa.Table.from_batches(table.to_batches(max_chunksize=ROW_GROUP_ROWS),
                                          table.schema)
        self.con.register(view, table)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS FROM {view}")
        finally:
            self.con.unregister(view)

    def row_count(self, name: str) -> int:
        result = self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()
        return int(result[0]) if result else 0

    def loaded_tables(self) -> set[str]:
        """Tables (and, in a scoped workspace, views) that hold at least one row: the canonical
        tables, the scores and the marts; internal ones (``_`` first) are left out. An empty
        canonical table switches nothing on. One ``LIMIT 1`` probe per table, no count."""
        return {
            name for name in table_names(self) if not name.startswith("_")
            and self.con.execute(f"SELECT 1 FROM {quote(name)} LIMIT 1").fetchone()
        }

    def status(self) -> WorkspaceStatus:
        tables = []
        for spec in TABLES.values():
            rows = self.row_count(spec.name)
            first = last = None
            if rows and spec.date_column:
                col = quote(spec.date_column)
                row = self.con.execute(
                    f"SELECT min({col})::DATE, max({col})::DATE FROM {quote(spec.name)}"
                ).fetchone()
                if row:
                    first, last = row
            tables.append(TableStatus(spec.name, rows, first, last, spec.date_column))
        loaded = [t.name for t in tables if t.rows]
        log_row = self.con.execute(f"SELECT count(*) FROM {IMPORT_LOG}").fetchone()
        return WorkspaceStatus(
            self.published, tables, feature_states(loaded), int(log_row[0]) if log_row else 0
        )

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if self._held is not None:
                os.close(self._held)
                self._held = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def change_stamp(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """How many imports changed the data, the last one's id and time: what the scores and the
    KPI marts are stale against. Imports that wrote nothing (the same file again, a sync with
    no new records) do not count; in a workspace logged before ``changed`` existed every import
    counts."""
    known = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        f"AND schema_name = current_schema() AND table_name = {literal(IMPORT_LOG)} "
        "AND column_name = 'changed'").fetchone()  # a literal: a parameter loads pandas
    where = " WHERE changed IS NOT false" if known and known[0] else ""
    row = con.execute(
        f"SELECT count(*), max(import_id), max(imported_at)::VARCHAR FROM {IMPORT_LOG}{where}"
    ).fetchone()
    return tuple(row or ())


# -- writing beside the served file, publishing atomically ------------------------------------
STAGING_SUFFIX = ".next"  # not *.duckdb: the app store's adoption counts the folder's workspaces
LOCK_SUFFIX = ".lock"
COPY_LOCK_SUFFIX = ".copy.lock"
WAIT_ENV = "SALESRADAR_WRITE_WAIT"
WAIT_SECONDS = 600.0  # how long a writer waits for another one by default
KILL_ENV = "SALESRADAR_TEST_KILL_AT"  # tests only: a writer SIGKILLs itself at this stage


def staging_path(path: Path | str) -> Path:
    """Where a writer builds the next state of the workspace at ``path``: ``x.duckdb.next``."""
    return Path(str(path) + STAGING_SUFFIX)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _models(path: Path) -> Path:
    return path.with_name(path.name + ".models")


def write_wait() -> float:
    """Seconds a writer waits for another writer: $SALESRADAR_WRITE_WAIT, else 600."""
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return WAIT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UserInputError(f"{WAIT_ENV} must be a number of seconds from 0, not {text!r}")
    return seconds


def stage_reached(stage: str) -> None:
    """Test hook: a writer whose $SALESRADAR_TEST_KILL_AT names ``stage`` kills itself with
    SIGKILL here, the way a crash or the OOM killer would end it (unset in real use)."""
    if os.environ.get(KILL_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def _flock(lock: Path, mode: int, wait: float, busy: str) -> int:
    """An open descriptor of ``lock`` holding ``flock`` ``mode`` (the kernel releases it when the
    descriptor is closed or the process ends); waits up to ``wait`` seconds, then raises a
    :class:`WorkspaceError` that says ``busy`` and who holds the lock."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                os.close(fd)
                raise WorkspaceError(
                    busy.format(holder=holder or "unknown") + f"; waited {wait:g} s. Readers "
                    f"keep the last published data meanwhile. Run again when it ends, or wait "
                    f"longer with {WAIT_ENV}=SECONDS") from None
            time.sleep(0.2)


def _sign(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} since {datetime.now().isoformat(timespec='seconds')}"
              .encode(), 0)


@contextlib.contextmanager
def writer_lock(path: Path, wait: float | None = None) -> Iterator[None]:
    """Hold ``<path>.lock`` (``flock``, released by the kernel when the process ends, so a crash
    never leaves it held); wait up to ``wait`` seconds (:func:`write_wait`) for another writer,
    then stop with a :class:`WorkspaceError` that names it."""
    fd = _flock(Path(str(path) + LOCK_SUFFIX), fcntl.LOCK_EX,
                write_wait() if wait is None else wait,
                f"another salesradar process ({{holder}}) is writing the workspace {path}")
    try:
        _sign(fd)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _copying(path: Path, wait: float | None) -> Iterator[None]:
    """Exclusive ``<path>.copy.lock`` while a writer copies the served file and while it
    publishes: a command that opens the served file itself (:func:`open_served`) never changes
    it under the copy, and never has it open across the rename (its WAL would be left beside
    the new file)."""
    fd = _flock(Path(str(path) + COPY_LOCK_SUFFIX), fcntl.LOCK_EX,
                write_wait() if wait is None else wait,
                f"a salesradar command ({{holder}}) has the workspace {path} open")
    try:
        yield
    finally:
        os.close(fd)


def open_served(path: Path | str) -> Workspace:
    """The served workspace file itself, opened for writing (what the CLI's reading commands
    do), holding ``<path>.copy.lock`` shared until it is closed, so that no writer copies the
    file while this command may change it. ``:memory:`` is opened as is."""
    if str(path) == ":memory:":
        return Workspace.open(path)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = _flock(Path(str(target) + COPY_LOCK_SUFFIX), fcntl.LOCK_SH, write_wait(),
                f"a salesradar writer ({{holder}}) is copying the workspace {target}")
    try:
        _sign(fd)
        ws = Workspace.open(target)
    except BaseException:
        os.close(fd)
        raise
    ws._held = fd
    return ws


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` inside the kernel (``copy_file_range``: a reflink on
    filesystems that share blocks, e.g. XFS and btrfs), else by reading and writing; flushed."""
    with source.open("rb") as src, target.open("wb") as dst:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:  # not supported here (another filesystem, an old kernel)
            dst.seek(0)
            dst.truncate()
            src.seek(0)
            shutil.copyfileobj(src, dst, 1 << 24)
        dst.flush()
        os.fsync(dst.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(staging: Path, target: Path) -> None:
    """Make the closed, checkpointed ``staging`` file the served workspace ``target`` (one
    ``os.replace``), then its models folder the served one."""
    if _wal(staging).exists():
        raise WorkspaceError(f"{staging} still has a write-ahead log after its checkpoint; "
                             "nothing was published")
    # a served WAL (only a direct writer of an older version leaves one) was copied into the
    # staging file; it must never be replayed over the new file
    _wal(target).unlink(missing_ok=True)
    staging.replace(target)  # os.replace: atomic
    _fsync_dir(target.parent)
    models, next_models = _models(target), _models(staging)
    if next_models.exists():
        old = models.with_name(models.name + ".old")
        _remove(old)
        if models.exists():
            models.replace(old)
        next_models.replace(models)
        _remove(old)


def clean_staging(target: Path) -> list[Path]:
    """Delete what a writer that died left beside ``target`` (call with the writer lock
    held); the files deleted."""
    staging = staging_path(target)
    leftovers = [staging, _wal(staging), _models(staging),
                 _models(target).with_name(_models(target).name + ".old")]
    found = [p for p in leftovers if p.exists()]
    for p in found:
        _remove(p)
    return found


@contextlib.contextmanager
def writing(path: Path | str, *, wait: float | None = None) -> Iterator[Workspace]:
    """The workspace at ``path`` to write, as a private copy published when the block ends.

    Under the writer lock (:func:`writer_lock`): leftovers of a dead writer are deleted, the
    served file (and its write-ahead log, and the ``.models`` folder) are copied beside it, the
    block writes the copy, and on success the copy is checkpointed, closed and published with
    ``os.replace`` (:func:`publish`). On an error nothing is published and the copy is deleted.
    Needs free disk space for one more copy of the workspace. ``:memory:`` is written directly.
    """
    if str(path) == ":memory:":
        with Workspace.open(path) as ws:
            yield ws
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target)
    with writer_lock(target, wait):
        clean_staging(target)
        try:
            if target.exists():
                with _copying(target, wait):
                    _copy_file(target, staging)
                    if _wal(target).exists():
                        _copy_file(_wal(target), _wal(staging))
            if _models(target).is_dir():
                shutil.copytree(_models(target), _models(staging))
            ws = Workspace.open(staging)
            ws.published = str(target)
        except BaseException:
            clean_staging(target)
            raise
        try:
            yield ws
            stage_reached("publishing")
            ws.con.execute("CHECKPOINT")
        except BaseException:
            ws.close()
            clean_staging(target)
            raise
        ws.close()
        with _copying(target, wait):  # no command has the served file open across the rename
            publish(staging, target)
