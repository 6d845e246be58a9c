"""The command that writes the canonical tables out for another engine: export-tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesradar.cli import output
from salesradar.cli.options import JsonOption, WorkspaceOption, open_workspace


def export_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""

    @app.command("export-tables")
    def export_tables_command(
        folder: Annotated[Path, typer.Argument(help="Folder to write <table>.parquet files to.")],
        tables: Annotated[str | None, typer.Option(
            "--tables", help="Tables, comma-separated (default: every canonical table the "
            "workspace has).")] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Replace FOLDER if it already holds files.")] = False,
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write the canonical tables as Parquet, one file per table, for Spark
        (--engine 'spark://local[2]?tables=FOLDER'); all or nothing.

        JSON: folder, engine (the --engine URL that reads the folder on local Spark) and tables,
        an array of objects with table, rows, file and bytes.
        """
        from salesradar.io.export import export_tables

        names = [t.strip() for t in (tables or "").split(",") if t.strip()]
        with open_workspace(workspace) as ws:
            written = export_tables(ws, folder, names, replace=replace)
        target = folder.resolve()
        data = {"folder": str(target), "engine": f"spark://local[2]?tables={target}",
                "tables": [t.to_dict() for t in written]}

        def render() -> None:
            output.console.print(output.table(
                f"{len(written)} tables written to {target}", ["table", "rows", "file", "bytes"],
                [(t.table, output.fmt(t.rows), t.file, output.fmt(t.bytes)) for t in written],
                whole=1,
            ))
            output.console.print(f"compute on Spark with --engine 'spark://local[2]?tables="
                                 f"{target}'", highlight=False)

        output.emit(data, as_json, render)
