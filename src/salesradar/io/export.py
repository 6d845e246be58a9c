"""The canonical tables of a workspace written out as Parquet, one file per table.

This is how a company moves its data to Spark: ``salesradar export-tables FOLDER`` writes
``FOLDER/invoice_lines.parquet``, ``FOLDER/customers.parquet`` and so on, which
``--engine 'spark://local[2]?tables=FOLDER'`` reads (:mod:`salesradar.engine_spark`). The files
are written by DuckDB's ``COPY ... TO ... (FORMAT parquet)`` into a temporary folder beside
``FOLDER``, which is renamed to ``FOLDER`` only when every table is written: a reader sees the
whole export or none of it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.schema import TABLES, table
from salesradar.workspace import Workspace


@dataclass(frozen=True)
class ExportedTable:
    """One table written: its name, rows, file (in the final folder) and size in bytes."""

    table: str
    rows: int
    file: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def chosen_tables(ws: Workspace, names: Sequence[str] | None) -> list[str]:
    """The canonical tables to export: ``names`` (each checked), else every one the workspace
    has, in the canonical order."""
    present = table_names(ws.backend)
    if not names:
        return [n for n in TABLES if n in present]
    chosen = []
    for name in names:
        spec = table(name)  # an unknown name is an error listing the canonical tables
        if spec.name not in present:
            raise UserInputError(f"the workspace has no table {spec.name}: import it first")
        if spec.name not in chosen:
            chosen.append(spec.name)
    return chosen


def export_tables(ws: Workspace, folder: Path, names: Sequence[str] | None = None, *,
                  replace: bool = False) -> list[ExportedTable]:
    """Write the canonical tables ``names`` (default: all the workspace has) to ``folder`` as
    ``<table>.parquet``, atomically; an existing non-empty ``folder`` is replaced only with
    ``replace``."""
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"{folder} is a file, not a folder")
    if folder.exists() and any(folder.iterdir()) and not replace:
        raise UserInputError(f"{folder} already holds files: pass --replace to replace it, or "
                             "name a new folder")
    chosen = chosen_tables(ws, names)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    written = []
    try:
        for name in chosen:
            columns = ", ".join(_quote(c) for c in TABLES[name].column_names)
            target = staging / f"{name}.parquet"
            row = ws.con.execute(
                f"COPY (SELECT {columns} FROM {_quote(name)}) TO {_literal(str(target))} "
                "(FORMAT parquet, COMPRESSION zstd)"
            ).fetchone()
            written.append(ExportedTable(name, int(row[0]) if row else 0,
                                         str(folder / target.name), target.stat().st_size))
        _publish(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _publish(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``; a previous ``folder`` is moved aside first, then
    removed."""
    if not folder.exists():
        staging.replace(folder)
        return
    old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
    folder.replace(old)
    try:
        staging.replace(folder)
    except BaseException:
        old.replace(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)
