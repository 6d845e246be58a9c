"""A workspace: one DuckDB file holding the canonical tables, plus a log of imports.

>>> ws = Workspace.open(":memory:")
>>> ws.table("invoice_lines").count().execute()
0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

import duckdb

from salesradar.engine import connect_duckdb, raw_duckdb, table_names
from salesradar.errors import UserInputError
from salesradar.schema import TABLES, FeatureState, Table, feature_states

IMPORT_LOG = "_salesradar_imports"


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
    lines = source if hasattr(source, "invoice_date") else source.table("invoice_lines")
    value = lines.invoice_date.max().to_pyarrow().as_py()
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


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

    def __init__(self, backend: Any, path: str) -> None:
        self.backend = backend
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Self:
        """Open the workspace at ``path``, creating the file and any missing tables."""
        ws = cls(connect_duckdb(path, read_only=read_only), str(path))
        if not read_only:
            ws._ensure_tables()
        return ws

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return raw_duckdb(self.backend)

    def _ensure_tables(self) -> None:
        for spec in TABLES.values():
            self.con.execute(create_table_sql(spec))
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {IMPORT_LOG} ("
            "import_id BIGINT, table_name VARCHAR, source VARCHAR, source_bytes BIGINT,"
            " imported_at TIMESTAMP, rows_read BIGINT, rows_skipped BIGINT, inserted BIGINT,"
            " updated BIGINT, unchanged BIGINT)"
        )

    def table(self, name: str) -> Any:
        """The Ibis table expression of a canonical table."""
        return self.backend.table(name)

    def row_count(self, name: str) -> int:
        result = self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()
        return int(result[0]) if result else 0

    def loaded_tables(self) -> set[str]:
        """Tables (and, in a scoped workspace, views) that hold at least one row: the canonical
        tables, the scores and the marts; internal ones (``_`` first) are left out. An empty
        canonical table switches nothing on. One ``LIMIT 1`` probe per table, no count."""
        return {
            name for name in table_names(self.backend) if not name.startswith("_")
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
            self.path, tables, feature_states(loaded), int(log_row[0]) if log_row else 0
        )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
