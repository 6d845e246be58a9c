"""``salesradar schedule show|set``: the refresh schedule the server runs by itself
(:mod:`salesradar.app.schedule`; the same one /admin/refresh sets)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from salesradar.cli import output
from salesradar.cli.options import AppDbOption, JsonOption, WorkspaceOption, open_app_db


def schedule_commands(app: typer.Typer) -> None:
    """Register ``salesradar schedule ...`` on the main app."""
    group = typer.Typer(help="The refresh schedule `salesradar serve` runs (off, or daily "
                        "HH:MM), and the last refreshes.", no_args_is_help=True)
    app.add_typer(group, name="schedule")

    @group.command("show")
    def show_command(workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                     as_json: JsonOption = False) -> None:
        """The schedule and the last refreshes (started by hand, by the API or the schedule)."""
        from salesradar.app.schedule import get_schedule, list_runs

        with open_app_db(workspace, app_db) as db:
            schedule, runs = get_schedule(db), list_runs(db, 10)

        def render() -> None:
            output.console.print(f"schedule: {schedule.text()} (server local time)")
            output.console.print(output.table(
                "Last refreshes", ["started", "seconds", "status", "trigger", "by", "error"],
                [(r["started_at"][:19], "" if r["seconds"] is None else f"{r['seconds']:.0f}",
                  r["status"], r["trigger"], r["actor"], r["error"] or "") for r in runs]))

        output.emit({"schedule": schedule.to_dict(), "runs": runs}, as_json, render)

    @group.command("set")
    def set_command(
        when: Annotated[str, typer.Argument(help="`off`, or `daily HH:MM` (quoted) or `HH:MM`.",
                                            show_default=False)],
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Set the time the server refreshes every day (or `off`); `salesradar serve` picks it
        up within half a minute. A time already past today runs from tomorrow."""
        from salesradar.app.schedule import set_schedule

        with open_app_db(workspace, app_db) as db:
            schedule = set_schedule(db, when, by=f"cli:{getpass.getuser()}")
        output.emit(schedule.to_dict(), as_json,
                    lambda: output.console.print(f"schedule: {schedule.text()}"))
