"""Commands that bring data in: import, status, tables, demo-data, demo (and `mapping`)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from salesradar.cli import output
from salesradar.cli.mapping import mapping_commands, print_proposal
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    LangOption,
    WorkspaceOption,
    open_app_db,
    open_workspace,
    writing_workspace,
)
from salesradar.config import ImportSettings
from salesradar.errors import UserInputError
from salesradar.io import ImportReport, Mapping, import_file, import_sql
from salesradar.io.detect import detect_mapping
from salesradar.io.folder import import_folder
from salesradar.schema import TABLES
from salesradar.workspace import Workspace

if TYPE_CHECKING:
    from salesradar.demo import DemoSummary

AUTO = "auto"  # --mapping auto: the mapping the detector proposes


def _print_report(report: ImportReport) -> None:
    output.console.print(
        f"[green]imported[/] {report.source} → {report.table}: {report.rows_read:,} rows read"
        f" ({report.inserted:,} inserted, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged"
        + (f", {report.deleted:,} deleted" if report.deleted else "")
        + (f", {report.rows_skipped:,} skipped" if report.rows_skipped else "")
        + f") in {report.seconds:.2f} s",
        highlight=False,
    )
    if report.issues:
        output.print_issues(report.issues)


def _status(ws: Workspace) -> Any:
    """The workspace's status, with the features whose tables hold rows that cannot be used
    (credit risk without payments linked to invoices) off."""
    from salesradar.accounts.risk import with_credit_check

    return with_credit_check(ws.status(), ws)


def _print_status(ws: Workspace) -> None:
    status = _status(ws)
    output.console.print(f"workspace [bold]{status.path}[/]", highlight=False)
    output.console.print(output.table(
        None, ["table", "rows", "from", "to"],
        [(t.name, f"{t.rows:,}", t.first, t.last) for t in status.tables],
    ))
    output.console.print(output.table(
        None, ["feature", "state"],
        [(f.feature.name, ("[green]on[/]" if f.on else f"[yellow]{f.reason}[/]"))
         for f in status.features],
    ))


def data_app_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app, and the `mapping` group beside them."""
    mapping_commands(app)

    @app.command("import")
    def import_command(
        table_name: Annotated[str, typer.Argument(metavar="TABLE",
                              help=f"Canonical table: {', '.join(TABLES)}.")],
        file: Annotated[Path | None, typer.Argument(help="CSV/TXT (any delimiter; UTF-8, BOM or "
                        "Windows-1255), Excel or Parquet file.", show_default=False)] = None,
        mapping: Annotated[Path | None, typer.Option("--mapping", "-m", help="YAML mapping of "
                           "source headers and formats to canonical columns, or `auto`: "
                           "propose one from the file's headers and values, print it and "
                           "import with it.")] = None,
        from_sql: Annotated[str | None, typer.Option("--from-sql", help="Database URL "
                            "(sqlite:///file.db, postgres://user:pw@host/db ...).")] = None,
        query: Annotated[str | None, typer.Option("--query", help="SQL query to import, with "
                         "--from-sql.")] = None,
        strict_refs: Annotated[bool, typer.Option("--strict-refs", help="Ids unknown to the "
                               "master tables are errors, not warnings.")] = False,
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Import a file (or a SQL query) into a canonical table: all or nothing, idempotent.

        Every problem is reported with file, row, column, value and reason; on any error nothing
        is loaded. Re-importing the same file changes nothing; a corrected file replaces the rows
        with the same keys. With --mapping auto the mapping is proposed from the file (see
        `salesradar mapping suggest`) and printed.
        """
        if (file is None) == (from_sql is None):
            raise UserInputError("give either a FILE or --from-sql URL --query SQL")
        if from_sql and not query:
            raise UserInputError("--from-sql needs --query")
        settings = ImportSettings(unknown_references="error" if strict_refs else "warning")
        proposal = None
        if mapping is not None and str(mapping) == AUTO:
            if file is None:
                raise UserInputError("--mapping auto reads a file's headers; with --from-sql "
                                     "give a mapping file")
            proposal = detect_mapping(table_name, file)
            if not as_json:
                print_proposal(proposal)
            proposal.require_complete()
        chosen: Mapping | Path | None = proposal.mapping if proposal is not None else mapping
        with writing_workspace(workspace, create=True) as ws, output.progress() as bar:
            task = bar.add_task(f"importing {table_name}", total=None)

            def stage(name: str) -> None:
                bar.update(task, description=f"{table_name}: {name}")

            if file is not None:
                report = import_file(ws, table_name, file, chosen, settings=settings,
                                     progress=stage)
            else:
                assert from_sql is not None and query is not None
                report = import_sql(ws, table_name, from_sql, query, chosen,
                                    settings=settings, progress=stage)
        data = report.to_dict()
        if proposal is not None:
            data["mapping"] = proposal.to_dict()
        output.emit(data, as_json, lambda: _print_report(report))

    @app.command()
    def status(
        workspace: WorkspaceOption = None, app_db: AppDbOption = None, lang: LangOption = "en",
        as_json: JsonOption = False,
    ) -> None:
        """What is loaded (rows, date range per table), which features are on or off and why,
        which models speak (each model's backtest against its rule, from the last score run), and
        which application store (insight status, deliveries, users) serves the workspace."""
        from salesradar.cli.intel import print_gates
        from salesradar.models.gates import read_gates

        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            store = db.store_info()
            gates = read_gates(ws)
            from salesradar.metrics.unknowns import cost_status
            from salesradar.models.store import fitted_record

            cost = cost_status(ws.backend)
            churn_model = fitted_record(ws, "churn")
            cross_sell_model = fitted_record(ws, "cross_sell")
            data = {**_status(ws).to_dict(), "cost": cost, "model_gates": gates,
                    "churn_model": churn_model, "cross_sell_model": cross_sell_model,
                    "app_store": store.to_dict()}

            def render() -> None:
                _print_status(ws)
                if not cost["profit_known"] or (cost["coverage"] or 0) < 1:
                    style = "yellow" if cost["profit_known"] else "bold yellow"
                    word = "warning" if lang == "en" else "אזהרה"
                    output.console.print(f"[{style}]{word}[/]: {cost['text_' + lang]}",
                                         highlight=False)
                if gates:
                    print_gates(gates, lang)
                if churn_model and churn_model.get("fitted_on"):
                    fitted = date.fromisoformat(str(churn_model["fitted_on"]))
                    lines = int(churn_model.get("fitted_lines") or 0)
                    output.console.print(
                        f"  מודל הנטישה אומן על הנתונים עד {fitted:%d/%m/%Y} ({lines:,} שורות)"
                        if lang == "he" else
                        f"  churn model fitted on the data to {fitted:%d/%m/%Y} ({lines:,} "
                        "invoice lines)", highlight=False)
                    if cross_sell_model and cross_sell_model.get("fitted_on"):
                        fitted = date.fromisoformat(str(cross_sell_model["fitted_on"]))
                        lines = int(cross_sell_model.get("fitted_lines") or 0)
                        output.console.print(
                            f"  מודל המכירה הצולבת אומן על הנתונים עד {fitted:%d/%m/%Y} "
                            f"({lines:,} שורות)" if lang == "he" else
                            f"  cross-sell model fitted on the data to {fitted:%d/%m/%Y} "
                            f"({lines:,} invoice lines)", highlight=False)
                else:
                    output.console.print(
                        "אילו מודלים מדברים: עוד לא ידוע (הריצו salesradar score)" if lang == "he"
                        else "which models speak: not known yet (run salesradar score)",
                        highlight=False)
                output.console.print(
                    f"application store [bold]{store.url}[/]"
                    + (f" ({store.note})" if store.note else ""), highlight=False)

            output.emit(data, as_json, render)

    @app.command()
    def tables(as_json: JsonOption = False) -> None:
        """The canonical tables: columns, types, required columns and keys."""
        data = [
            {"table": t.name, "description": t.description, "key": list(t.key),
             "columns": [{"name": c.name, "type": c.type.value, "required": c.required,
                          "values": list(c.values), "description": c.description}
                         for c in t.columns]}
            for t in TABLES.values()
        ]

        def render() -> None:
            for t in TABLES.values():
                output.console.print(output.table(
                    f"{t.name} — {t.description} (key: {', '.join(t.key)})",
                    ["column", "type", "required", "description"],
                    [(c.name, c.type.value + (f" {list(c.values)}" if c.values else ""),
                      "yes" if c.required else "", c.description) for c in t.columns],
                ))

        output.emit(data, as_json, render)

    @app.command("demo-data")
    def demo_data(
        out: Annotated[Path, typer.Option("--out", help="Folder to write the tables to.")],
        customers: Annotated[int, typer.Option(help="Number of customers.", min=10)] = 200,
        years: Annotated[int, typer.Option(help="Years of history.", min=1, max=10)] = 2,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
        lines: Annotated[int | None, typer.Option(help="Aim for about this many invoice "
                         "lines.")] = None,
        fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
        as_json: JsonOption = False,
    ) -> None:
        """Write a realistic demo company (ERP + CRM tables and a truth/ folder) to --out."""
        summary = _generate(out, customers, years, seed, lines, fmt)
        output.emit(summary.to_dict(), as_json, lambda: output.console.print(
            f"wrote {sum(summary.rows.values()):,} rows in {len(summary.rows)} tables to {out}",
            highlight=False))

    @app.command()
    def demo(
        out: Annotated[Path, typer.Option("--out", help="Folder for the demo files and "
                       "workspace.")] = Path("demo"),
        customers: Annotated[int, typer.Option(help="Number of customers.", min=10)] = 400,
        years: Annotated[int, typer.Option(help="Years of history.", min=1, max=10)] = 3,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
        lang: LangOption = "en",
        serve: Annotated[bool, typer.Option("--serve", help="End by serving the dashboard "
                         "on the demo workspace (Ctrl+C stops).")] = False,
        host: Annotated[str, typer.Option(help="With --serve: address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="With --serve: port.")] = 8000,
        as_json: JsonOption = False,
    ) -> None:
        """Generate the demo company, import it into a fresh workspace, run the whole pipeline
        (scores and insights, nothing delivered), create the demo logins (admin, manager, rep)
        and print the top insights; with --serve, then serve the dashboard."""
        from salesradar.app.db import LEGACY_APP_DB, default_store_path
        from salesradar.cli.alerts import open_store, render_insights, top_insights
        from salesradar.cli.web import demo_logins, serve_workspace
        from salesradar.pipeline import refresh

        data_dir = out / "data"
        if data_dir.exists():
            shutil.rmtree(data_dir)
        _generate(data_dir, customers, years, seed, None, "csv")
        workspace_file = out / "salesradar.duckdb"
        for stale in (workspace_file, workspace_file.with_suffix(".duckdb.wal"),
                      default_store_path(workspace_file), out / LEGACY_APP_DB):
            stale.unlink(missing_ok=True)
        with Workspace.open(workspace_file) as ws:
            with output.progress() as bar:
                task = bar.add_task("importing", total=len(TABLES))

                def on_table(name: str, index: int, total: int) -> None:
                    bar.update(task, completed=index, total=total, description=f"import {name}")

                reports = import_folder(ws, data_dir, on_table=on_table)
                with open_store(workspace_file, None) as store:
                    bar.update(task, description="scores and insights", total=None)
                    run = refresh(ws, store, deliver=False)
                    top = top_insights(store, 5)
                    logins = demo_logins(store.db, store)
            url = f"http://{host}:{port}/"
            result = {"workspace": str(workspace_file), "data": str(data_dir),
                      "imports": [r.to_dict() for r in reports], "status": ws.status().to_dict(),
                      "run": run.to_dict(), "top_insights": top, "logins": logins,
                      "url": url if serve else None}

            def render() -> None:
                for report in reports:
                    _print_report(report)
                _print_status(ws)
                counts = run.insights
                output.console.print(
                    f"\n{counts.get('total', 0)} insights; the top {len(top)}:", highlight=False)
                render_insights(top, lang)
                output.console.print(
                    f"\nworkspace ready: {workspace_file}\n"
                    f"next, with --workspace {workspace_file}:\n"
                    "  salesradar insights --lang he       every insight, Hebrew texts\n"
                    "  salesradar customer ID              one customer's 360 view\n"
                    "  salesradar kpi revenue --by rep --period month\n"
                    "  salesradar run                      refresh: scores, insights, delivery\n"
                    "  salesradar serve                    the dashboard and the API",
                    highlight=False)
                output.console.print(output.table(
                    "demo logins", ["username", "password", "role", "rep", "team", "lang"],
                    [(u["username"], u["password"], u["role"], u["rep_id"], u["team"], u["lang"])
                     for u in logins]))
                if serve:
                    output.console.print(f"\ndashboard: [bold]{url}[/] (API docs: {url}docs); "
                                         "Ctrl+C stops", highlight=False)

            output.emit(result, as_json, render)
        if serve:
            serve_workspace(workspace_file, None, host, port)


def _generate(out: Path, customers: int, years: int, seed: int, lines: int | None,
              fmt: str) -> DemoSummary:
    from salesradar.demo import generate

    if fmt not in ("csv", "parquet"):
        raise UserInputError(f"--format must be csv or parquet, not {fmt!r}")
    file_format: Literal["csv", "parquet"] = "csv" if fmt == "csv" else "parquet"
    with output.progress() as bar:
        task = bar.add_task("generating", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=f"demo data: {stage}")

        return generate(out, customers=customers, years=years, seed=seed, lines=lines,
                        fmt=file_format, progress=progress)
