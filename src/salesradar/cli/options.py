"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesradar.app.settings import activate, company_settings_of
from salesradar.config import workspace_path
from salesradar.engine import connect
from salesradar.errors import UserInputError
from salesradar.lang import Lang
from salesradar.lang import parse_lang as parse_language
from salesradar.workspace import Workspace, open_served, writing

if TYPE_CHECKING:
    from salesradar.app.db import AppDB

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace file \\[env: SALESRADAR_WORKSPACE; "
                 "default: ./salesradar.duckdb]", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
AppDbOption = Annotated[
    str | None,
    typer.Option("--app-db", help="Application database URL \\[env: SALESRADAR_APP_DB; default: "
                 "<workspace>.app.sqlite beside the workspace; a store serves one workspace].",
                 show_default=False),
]
EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="Compute on another engine holding the canonical tables: "
                 "postgresql://user@host/db or 'spark://local[2]?tables=FOLDER' (Parquet "
                 "written by export-tables; docs/spark.md) (default: the workspace's DuckDB).",
                 show_default=False),
]


def parse_lang(text: str) -> Lang:
    """``--lang`` as a language: en or he; anything else is an error."""
    return parse_language(text, "--lang")


def is_hebrew(lang: str) -> bool:
    """Whether ``--lang`` asks for Hebrew (en or he; anything else is an error)."""
    return parse_lang(lang) == "he"


LangOption = Annotated[str, typer.Option(help="Language of the texts: en or he.",
                                         callback=parse_lang)]


def parse_date(text: str | None, option: str) -> date | None:
    """An option's ISO date, with an error naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{option} must be a date like 2024-03-31, not {text!r}") from None


REPORT_FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def report_format(fmt: str | None, out: Path | None) -> str:
    """The report's format: ``--format``, else ``--out``'s extension, else pdf; a mismatch between
    the two, or an ``--out`` extension that is neither, is refused before any work."""
    if fmt is not None and fmt not in ("pdf", "html"):
        raise UserInputError(f"--format must be pdf or html, not {fmt!r}")
    if out is None:
        return fmt or "pdf"
    by_name = REPORT_FORMATS.get(out.suffix.lower())
    if by_name is None:
        raise UserInputError(
            f"--out {out} must end in .pdf or .html (the extension decides the format)"
        )
    if fmt is not None and fmt != by_name:
        raise UserInputError(
            f"--out {out} names a {by_name.upper()} file but --format is {fmt}: drop --format "
            f"(the extension decides) or name the file .{fmt}"
        )
    return by_name


@contextmanager
def open_backend(workspace: Path | None, engine: str | None) -> Iterator[Any]:
    """The Ibis backend to compute on: ``--engine`` if given, else the workspace's DuckDB."""
    if engine:
        backend = connect(engine)
        try:
            yield backend
        finally:
            backend.disconnect()
        return
    with open_workspace(workspace) as ws:
        yield ws.backend


def existing_workspace(path: Path | None, *, create: bool = False) -> Path:
    """The workspace's file; only commands that load data (``create``) may start a new one."""
    target = workspace_path(path)
    if not create and not target.exists():
        raise UserInputError(
            f"no workspace at {target}: import data first (salesradar import invoice_lines "
            "FILE), run salesradar demo, or pass --workspace / set SALESRADAR_WORKSPACE"
        )
    if target.exists():  # the company's currency and fiscal year for everything it prints
        activate(company_settings_of(target))
    return target


def open_workspace(path: Path | None, *, create: bool = False) -> Workspace:
    """The workspace; only commands that load data (``create``) may start a new one."""
    return open_served(existing_workspace(path, create=create))


@contextmanager
def writing_workspace(path: Path | None, *, create: bool = False) -> Iterator[Workspace]:
    """The workspace to write: a private copy, published atomically when the command succeeds
    (:func:`salesradar.workspace.writing`), so the served data never wait or go half-written."""
    with writing(existing_workspace(path, create=create)) as ws:
        yield ws


@contextmanager
def open_app_db(workspace: Path | None, app_db: str | None) -> Iterator[AppDB]:
    """The application database (``--app-db``, else the one beside the workspace), closed after."""
    from salesradar.app.db import AppDB
    from salesradar.app.settings import load_settings

    db = AppDB.open(app_db, workspace=workspace_path(workspace))
    try:
        activate(load_settings(db))
        yield db
    finally:
        db.close()


def cli_actor() -> str:
    """Who a command's change is recorded as in the audit log: ``cli:<login>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "cli:unknown"
