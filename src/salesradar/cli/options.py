"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesradar.config import workspace_path
from salesradar.workspace import Workspace

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace file [env: SALESRADAR_WORKSPACE; "
                 "default: ./salesradar.duckdb]", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def open_workspace(path: Path | None, *, read_only: bool = False) -> Workspace:
    target = workspace_path(path)
    return Workspace.open(target, read_only=read_only and target.exists())
