"""Import a folder of files named after the canonical tables (``invoice_lines.csv``, ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from salesradar.config import ImportSettings
from salesradar.errors import UserInputError
from salesradar.io.importer import ImportReport, import_file
from salesradar.io.sources import CSV_SUFFIXES, EXCEL_SUFFIXES, PARQUET_SUFFIXES
from salesradar.schema.tables import LOAD_ORDER
from salesradar.workspace import Workspace

READABLE = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES


def files_by_table(folder: Path) -> dict[str, Path]:
    """The file for each canonical table found in ``folder``, in load order."""
    if not folder.is_dir():
        raise UserInputError(f"{folder} is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        name = path.name.split(".")[0]
        if name in LOAD_ORDER and path.suffix.lower() in READABLE | {".gz"}:
            if name in found:
                raise UserInputError(f"{folder} has two files for {name}: "
                                     f"{found[name].name} and {path.name}")
            found[name] = path
    if "invoice_lines" not in found:
        raise UserInputError(f"{folder} has no invoice_lines file (invoice_lines.csv, .parquet "
                             "or .xlsx); it is the one table salesradar needs")
    return {name: found[name] for name in LOAD_ORDER if name in found}


def import_folder(
    ws: Workspace,
    folder: Path,
    *,
    settings: ImportSettings | None = None,
    on_table: Callable[[str, int, int], None] | None = None,
) -> list[ImportReport]:
    """Import every canonical table file of ``folder``, master tables first."""
    files = files_by_table(folder)
    reports = []
    for index, (name, path) in enumerate(files.items()):
        if on_table:
            on_table(name, index, len(files))
        reports.append(import_file(ws, name, path, settings=settings))
    return reports
