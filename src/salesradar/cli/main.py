"""The ``salesradar`` command line: a thin layer over the service functions.

User mistakes print one clear paragraph and exit 2 (``--debug`` shows the traceback); every command
takes ``--json`` and then prints one JSON document on stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from salesradar import __version__
from salesradar.cli import output
from salesradar.cli.alerts import alert_commands
from salesradar.cli.connect import connect_commands
from salesradar.cli.data import data_app_commands
from salesradar.cli.export import export_commands
from salesradar.cli.intel import intel_commands
from salesradar.cli.kpi import kpi_commands
from salesradar.cli.manage import manage_commands
from salesradar.cli.products import product_commands
from salesradar.cli.schedule import schedule_commands
from salesradar.cli.settings import settings_commands
from salesradar.cli.vendor import vendor_commands
from salesradar.cli.web import web_commands
from salesradar.errors import ImportRejected, SalesradarError

app = typer.Typer(
    name="salesradar",
    help="B2B sales KPIs and prioritized actions per rep, from your ERP and CRM data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
STATE: dict[str, bool] = {"debug": False, "json": False}


def _version(value: bool) -> None:
    if value:
        output.console.print(f"salesradar {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    STATE["debug"] = debug


data_app_commands(app)
export_commands(app)
kpi_commands(app)
intel_commands(app)
alert_commands(app)
web_commands(app)
vendor_commands(app)
manage_commands(app)
product_commands(app)
connect_commands(app)
settings_commands(app)
schedule_commands(app)


def main() -> None:
    """Entry point: salesradar errors become one paragraph and exit code 2, JSON with --json.

    Typer itself handles --help, usage mistakes (exit 2) and normal exits.
    """
    as_json = "--json" in sys.argv
    try:
        app()
    except ImportRejected as exc:
        if as_json:
            output.print_json({"error": str(exc), "errors": exc.total_errors,
                               "issues": [i.to_dict() for i in exc.issues]})
        else:
            output.err_console.print(f"[red]error[/]: {exc}", highlight=False)
            output.print_issues(exc.issues)
        sys.exit(2)
    except SalesradarError as exc:
        if STATE["debug"]:
            raise
        if as_json:
            output.print_json({"error": str(exc)})
        else:
            output.err_console.print(f"[red]error[/]: {exc}", highlight=False)
        sys.exit(2)
