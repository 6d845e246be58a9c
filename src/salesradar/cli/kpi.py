"""Commands that measure: kpi, whale-curve, pvm, churned."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.padding import Padding
from rich.text import Text

from salesradar.cli import output
from salesradar.cli.options import (
    EngineOption,
    JsonOption,
    WorkspaceOption,
    open_backend,
    parse_date,
)
from salesradar.errors import UserInputError


def _dims(by: str | None) -> tuple[str, ...]:
    return tuple(d.strip() for d in (by or "").split(",") if d.strip())


def _cell(column: str, value: Any) -> str:
    if column == "flags":
        return ", ".join(value or [])
    if column == "partial":
        return str(value["text_en"]) if value else ""
    return output.fmt(value)


def _print_records(title: str, records: list[dict[str, Any]], unit: str = "") -> None:
    """The rows of a KPI; the change in the KPI's unit (points for a rate, relative for an
    amount or a count, nothing below the display precision)."""
    from salesradar.metrics.periods import describe_change

    if not records:
        output.console.print(f"{title}: no rows")
        return
    records = [{**{k: v for k, v in r.items() if k != "change_pct"},
                "vs_previous": describe_change(unit, r.get("value"), r.get("previous"))[
                    "text_en"]} for r in records]
    columns = [c for c in records[0] if c not in ("flags", "partial")] + ["flags"]
    if any(r.get("partial") for r in records):
        columns.append("partial")
    output.console.print(output.table(
        title, columns,
        [[_cell(c, r.get(c)) for c in columns] for r in records],
    ))


def _records(table: pa.Table) -> list[dict[str, Any]]:
    from salesradar.metrics import kpi_records

    return kpi_records(table)


def kpi_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""

    @app.command()
    def kpi(
        name: Annotated[str | None, typer.Argument(help="KPI name (see --list).")] = None,
        list_: Annotated[bool, typer.Option("--list", help="List the KPIs, their units and "
                         "the tables each needs.")] = False,
        by: Annotated[str | None, typer.Option("--by", help="Dimensions, comma-separated: "
                      "company, rep, team, channel, customer, product, category, region, "
                      "segment; stage and pipeline for stage_conversion and "
                      "time_in_stage_days.")] = None,
        period: Annotated[str | None, typer.Option("--period", help="day, week, month, "
                          "quarter, year or none.")] = None,
        start: Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD).")]
        = None,
        end: Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
        workspace: WorkspaceOption = None,
        engine: EngineOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Compute a KPI by period and dimension, with the previous period and the change.

        JSON: an array of objects with period (ISO start date or null), one key per dimension,
        value, previous, change, change_pct, flags and partial (null, or for the period the data
        end in: days, of_days, text_en/he such as "partial: 9 of 31 days"; its previous value and
        change are then those of the same days of the period before, or null when it is too
        young to compare, and no flag is set on it).
        """
        from salesradar.metrics import compute_kpi, list_kpis
        from salesradar.metrics.periods import partial_records

        if list_:
            infos = list_kpis()
            output.emit([i.to_dict() for i in infos], as_json, lambda: _print_kpi_list(infos))
            return
        if not name:
            raise UserInputError("name a KPI, or use --list to see them")
        with open_backend(workspace, engine) as backend:
            last = parse_date(end, "--to")
            table = compute_kpi(backend, name, by=_dims(by), period=period,
                                start=parse_date(start, "--from"), end=last)
            records = partial_records(backend, name, _records(table), period, _dims(by), last)

        def render() -> None:
            from salesradar.metrics import REGISTRY

            _print_records(name, records, REGISTRY[name].unit.value)
            if any(r.get("value") is None for r in records):
                from salesradar.metrics.unknowns import null_reason

                output.console.print(f"— no value: {null_reason(name)[0]}.")
            partial = next((r["partial"] for r in records if r.get("partial")), None)
            if partial:
                output.console.print(f"{partial['start'][:7]}: {partial['text_en']}; "
                                     f"change {partial['compared_en']}; no flag on it.")

        output.emit(records, as_json, render)

    @app.command("whale-curve")
    def whale_curve_command(
        start: Annotated[str | None, typer.Option("--from", help="First date.")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last date.")] = None,
        workspace: WorkspaceOption = None,
        engine: EngineOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Cumulative profit (after cost to serve) by customers ranked by profitability."""
        from salesradar.metrics import plain_rows, whale_curve, whale_summary
        from salesradar.metrics.unknowns import cost_status

        first, last = parse_date(start, "--from"), parse_date(end, "--to")
        with open_backend(workspace, engine) as backend:
            curve = whale_curve(backend, first, last)
            cost = cost_status(backend, first, last)
        summary = {**whale_summary(curve), "cost": cost}
        rows = plain_rows(curve)

        def render() -> None:
            if not cost["profit_known"]:
                output.console.print(f"[yellow]warning[/]: {cost['text_en']}", highlight=False)
            output.console.print(output.table(None, ["measure", "value"],
                                              [(k, output.fmt(v)) for k, v in summary.items()
                                               if k != "cost"]))

        output.emit({"summary": summary, "curve": rows}, as_json, render)

    @app.command()
    def pvm(
        from_period: Annotated[str, typer.Option("--from-period", help="Base period: 2024, "
                               "2024-Q1, 2024-03 or a date.")],
        to_period: Annotated[str, typer.Option("--to-period", help="Period compared.")],
        by: Annotated[str, typer.Option(help="product, customer or channel.")] = "product",
        workspace: WorkspaceOption = None,
        engine: EngineOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Revenue and gross-profit change split into price, volume, mix and cost effects."""
        from salesradar.metrics import plain_rows, price_volume_mix

        with open_backend(workspace, engine) as backend:
            table = price_volume_mix(backend, from_period, to_period, by=by)
        rows = plain_rows(table)

        def render() -> None:
            keep = [c for c in table.column_names if not c.startswith("gp_")
                    and not c.startswith("gross_profit_")]
            output.console.print(output.table(
                f"price-volume-mix {from_period} → {to_period} by {by}", keep,
                [[output.fmt(r[c]) for c in keep] for r in rows[:30]]))
            if len(rows) > 30:
                output.console.print(f"... {len(rows) - 30} more rows (--json for all)")

        output.emit(rows, as_json, render)

    @app.command()
    def churned(
        period: Annotated[str, typer.Option("--period", help="The period: 2024-03, 2024-Q1, "
                          "2024, or a date with --window.")],
        window: Annotated[str | None, typer.Option("--window", help="month, quarter, year "
                          "(week, day): the window length; default: the period's own.")]
        = None,
        by: Annotated[str | None, typer.Option("--by", help="Dimensions, e.g. rep.")] = None,
        workspace: WorkspaceOption = None,
        engine: EngineOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Who churned in a period: customers active the period before who bought nothing in it,
        their value, and which of them should have bought given their own rhythm.

        JSON: {summary: {period, window, previous_period, customers, value, should_have_bought,
        summary_en, summary_he}, customers: [{<dimensions>, customer_id, name, value,
        last_purchase, purchase_days, typical_gap_days, days_since_last, expected_purchases,
        should_have_bought}]}.
        """
        from salesradar.metrics import churned_summary, plain_rows
        from salesradar.metrics.churned import churned as who_churned

        with open_backend(workspace, engine) as backend:
            table = who_churned(backend, period, window=window, by=_dims(by))
        summary = churned_summary(table, period, window)
        rows = plain_rows(table)

        def render() -> None:
            output.console.print(summary["summary_en"])
            if rows:
                columns = list(rows[0])
                output.console.print(output.table(
                    None, columns, [[output.fmt(r[c]) for c in columns] for r in rows]))

        output.emit({"summary": summary, "customers": rows}, as_json, render)


WIDE = 120  # from this terminal width the KPI list is a table; narrower, a list


def _print_kpi_list(infos: list[Any]) -> None:
    """The KPIs a user can ask for. Names and table names are typed by the user, so they are
    never cut: a table on a wide terminal, a list (lines wrap between words) on a narrow one."""
    if output.console.width >= WIDE:
        output.console.print(output.table(
            "KPIs", ["name", "label", "unit", "needs", "dimensions"],
            [(i.name, i.label_en, i.unit, ", ".join(i.tables), ", ".join(i.dimensions))
             for i in infos], whole=1))
        return
    for i in infos:  # wrapped here between words (not by the terminal inside a word)
        output.console.print(f"[bold]{i.name}[/bold]  {i.label_en} ({i.unit})", highlight=False,
                             soft_wrap=False)
        lines = [f"needs: {', '.join(i.tables)}"]
        lines += [f"by: {', '.join(i.dimensions)}"] if i.dimensions else []
        for line in lines:
            output.console.print(Padding(Text(line), (0, 0, 0, 4), expand=False), highlight=False,
                                 soft_wrap=False)
