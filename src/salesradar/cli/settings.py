"""``salesradar settings get|set|reset``: the company's settings in one place (currency, fiscal
year, insight thresholds, holdout share, outcome window; :mod:`salesradar.app.settings`)."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import AppDbOption, JsonOption, WorkspaceOption, open_app_db


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return output.fmt(value) if not isinstance(value, float) else f"{value:g}"


def _non_product(workspace: Any) -> list[str] | None:
    """The codes treated as not products (detected or decided), or None without data."""
    from salesradar.cli.options import existing_workspace
    from salesradar.models.non_product import non_product_codes
    from salesradar.workspace import open_served

    target = existing_workspace(workspace, create=True)
    if not target.exists():
        return None
    with open_served(target) as ws:
        return sorted(non_product_codes(ws))


def settings_commands(app: typer.Typer) -> None:
    """Register ``salesradar settings ...`` on the main app."""
    group = typer.Typer(help="Company settings: currency, fiscal year, insight thresholds, "
                        "holdout share, outcome window, SLA hours.", no_args_is_help=True)
    app.add_typer(group, name="settings")

    @group.command("get")
    def get_command(
        key: Annotated[str | None, typer.Argument(help="One setting (default: all of them).",
                                                  show_default=False)] = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Every setting with its value, its default and what it does; a changed value is
        marked. Non-product codes (postage, fees) are listed from the workspace, where
        `salesradar products non-product` sets them."""
        from salesradar.app.settings import SETTINGS, describe_settings, setting_of

        with open_app_db(workspace, app_db) as db:
            rows = describe_settings(db)
        if key is not None:
            if key not in SETTINGS and key != "non_product_codes":
                setting_of(key)  # the error names the key and the near ones
            rows = [r for r in rows if r["key"] == key]
        if key in (None, "non_product_codes"):
            codes = _non_product(workspace)
            rows.append({"key": "non_product_codes", "value": codes, "default": None,
                         "changed": False, "group": "catalogue",
                         "description": "codes that are not products (postage, fees), "
                         "detected from the data; change with `salesradar products "
                         "non-product --add/--remove SKU`"})

        def render() -> None:
            if key is not None and len(rows) == 1:
                output.console.print(_shown(rows[0]["value"]))
                return
            output.console.print(output.table(
                "Company settings (* changed from the default)",
                ["setting", "value", "default", "what it does"],
                [(("* " if r["changed"] else "") + r["key"], _shown(r["value"]),
                  _shown(r["default"]), r["description"]) for r in rows], whole=1))

        output.emit(rows if key is None else rows[0], as_json, render)

    @group.command("set")
    def set_command(
        key: Annotated[str, typer.Argument(help="The setting (`salesradar settings get` lists "
                                           "them).", show_default=False)],
        value: Annotated[str, typer.Argument(help="Its new value (a comma list for lists; "
                                             "`none` to unset an optional one).",
                                             show_default=False)],
        by: Annotated[str | None, typer.Option("--by", help="Who changes it (default: the user "
                      "name).")] = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Change one setting after checking the value. Amounts and periods use it from the
        next command or page (a new currency rewrites the stored insight texts at once);
        insight thresholds apply from the next `salesradar run`."""
        from salesradar.app.settings import set_setting

        with open_app_db(workspace, app_db) as db:
            stored = set_setting(db, key, value, by=by or f"cli:{getpass.getuser()}")
        result = {"key": key, "value": stored}
        output.emit(result, as_json, lambda: output.console.print(f"{key} = {_shown(stored)}"))

    @group.command("reset")
    def reset_command(
        key: Annotated[str, typer.Argument(help="The setting to bring back to its default.",
                                           show_default=False)],
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Bring one setting back to its default."""
        from salesradar.app.settings import reset_setting, setting_of

        default = setting_of(key).default
        with open_app_db(workspace, app_db) as db:
            reset_setting(db, key, by=f"cli:{getpass.getuser()}")
        output.emit({"key": key, "value": default}, as_json,
                    lambda: output.console.print(f"{key} = {_shown(default)} (default)"))
