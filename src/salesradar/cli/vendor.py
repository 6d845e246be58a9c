"""Commands for vendor evaluation: commitment add|list|status|verdict, diagnostic, report."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from salesradar.cli import output
from salesradar.cli.manage_output import AsOfOption, say
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    LangOption,
    WorkspaceOption,
    open_app_db,
    open_workspace,
    parse_date,
    report_format,
)
from salesradar.config import workspace_path
from salesradar.lang import Lang


def _day(text: Any, he: bool) -> str:
    """An ISO date as dd/mm/yyyy in Hebrew, as it is in English."""
    if not text:
        return "—"
    return date.fromisoformat(str(text)[:10]).strftime("%d/%m/%Y") if he else str(text)


# the words of a commitment's status and verdict lines, English and Hebrew
WORDS = {
    "no period": "ללא תקופה", "baseline": "בסיס", "target": "יעד", "data until": "נתונים עד",
    "fee": "עמלה", "fixed": "קבוע", "success": "הצלחה", "bonus": "בונוס", "cap": "תקרה",
    "refund": "החזר", "incremental revenue": "הכנסות נוספות", "gross profit": "רווח גולמי",
    "final": "סופי", "to_date": "עד היום",
}


def _print_status(s: dict[str, Any], lang: str) -> None:
    he = lang == "he"

    def w(text: str) -> str:
        return WORDS.get(text, text) if he else text.replace("_", " ")

    c = s["commitment"]
    sign = "−" if s["kpi"]["higher_is_better"] is False else "+"
    period = (f"{_day(c['start'], he)} → {_day(c['end'], he)}" if c["start"] and c["end"]
              else w("no period"))
    metric = (s["kpi"].get("label_he") or c["metric"]) if he else c["metric"]
    say(f"#{c['id']} {c['name']} · {c['vendor']} · {c['model']} · "
        f"{metric} {sign}{c['improvement_pct']:.0%} · {period}")
    say(s[f"verdict_{lang}"])
    for concern in s["concerns"]:
        say(f"  ! {concern[lang]}")
    if s["baseline"] is not None:
        say(f"  {w('baseline')} {output.fmt(s['baseline'])} · {w('target')} "
            f"{output.fmt(s['target'])} · {w('data until')} {_day(s['data_until'], he)}")
    fee, roi = s["fee"], s["roi"]
    if fee["status"] != "not_computed":
        say(f"  {w('fee')} ({w(fee['status'])}): {output.fmt(fee['due'])} = {w('fixed')} "
            f"{output.fmt(fee['fixed'])} + {w('success')} {output.fmt(fee['success_fee'])} + "
            f"{w('bonus')} {output.fmt(fee['bonus'])} − {w('cap')} "
            f"{output.fmt(fee['capped_by'])} − {w('refund')} {output.fmt(fee['refund'])}")
    if roi:
        say(f"  {w('incremental revenue')} {output.fmt(roi['incremental_revenue'])}, "
            f"{w('gross profit')} {output.fmt(roi['incremental_gross_profit'])}, "
            f"ROI {output.fmt(roi['roi'])}")
        if roi[f"reason_{lang}"]:
            say(f"  ! {roi[f'reason_{lang}']}")


def vendor_commands(app: typer.Typer) -> None:
    """Register ``commitment``, ``diagnostic`` and ``report`` on the main app."""
    commitment = typer.Typer(help="Vendor commitments: add, list, status, verdict.",
                             no_args_is_help=True)
    app.add_typer(commitment, name="commitment")

    @commitment.command("add")
    def add(
        file: Annotated[Path | None, typer.Option("--file", help="A YAML file with the "
                        "commitment (docs/commitments.md lists the fields).")] = None,
        name: Annotated[str | None, typer.Option(help="What the commitment is called.")] = None,
        vendor: Annotated[str | None, typer.Option(help="Who promises.")] = None,
        model: Annotated[str | None, typer.Option(help="success_fee, hybrid, kpi or "
                         "revenue.")] = None,
        metric: Annotated[str | None, typer.Option(help="A KPI name (salesradar kpi "
                          "--list).")] = None,
        improvement: Annotated[float | None, typer.Option(help="Promised improvement as a "
                               "fraction: 0.22 = +22%.")] = None,
        start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
        end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
        data_source: Annotated[str | None, typer.Option(help="Where the numbers come "
                               "from.")] = None,
        baseline_window: Annotated[int, typer.Option(help="Periods before the start.")] = 12,
        baseline_grain: Annotated[str, typer.Option(help="week, month or quarter.")] = "month",
        baseline_aggregation: Annotated[str, typer.Option(help="mean, median, sum, min, max "
                                        "or last.")] = "mean",
        no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Record a commitment "
                               "without a baseline (it will be flagged vague).")] = False,
        fixed: Annotated[float, typer.Option(help="Fixed fee, in the company currency.")] = 0.0,
        success_fee_pct: Annotated[float, typer.Option(help="Share of the incremental "
                                   "revenue.")] = 0.0,
        bonus: Annotated[float, typer.Option(help="Bonus when met, in the company "
                                              "currency.")] = 0.0,
        cap: Annotated[float | None, typer.Option(help="Maximum total fee, in the company "
                                                   "currency.")] = None,
        refund_pct: Annotated[float, typer.Option(help="Share of the fixed fee refunded when "
                              "missed.")] = 0.0,
        extension_days: Annotated[int, typer.Option(help="Days granted after a miss.")] = 0,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record a vendor's commitment (from --file or the options) and show its concerns."""
        from salesradar.app.audit import record
        from salesradar.commitments import check
        from salesradar.commitments.store import add_commitment, read_yaml

        if file is not None:
            raw = read_yaml(file)
        else:
            raw = {"name": name, "vendor": vendor, "model": model, "metric": metric,
                   "improvement_pct": improvement, "start": start, "end": end,
                   "data_source": data_source,
                   "baseline": None if no_baseline else {
                       "window": baseline_window, "grain": baseline_grain,
                       "aggregation": baseline_aggregation},
                   "fees": {"fixed": fixed, "success_fee_pct": success_fee_pct, "bonus": bonus,
                            "cap": cap},
                   "refund": {"refund_pct": refund_pct, "extension_days": extension_days}}
        with open_app_db(workspace, app_db) as db:
            c = add_commitment(db, raw)
            record(db, f"cli:{getpass.getuser()}", "commitment.add", f"#{c.id} {c.name}")
        concerns = check(c)
        result = {"commitment": c.to_dict(), "concerns": [x.to_dict() for x in concerns]}

        def render() -> None:
            say(f"commitment #{c.id} recorded: {c.name}")
            for x in concerns:
                say(f"  ! {x.en}")

        output.emit(result, as_json, render)

    @commitment.command("list")
    def list_(workspace: WorkspaceOption = None, app_db: AppDbOption = None,
              as_json: JsonOption = False) -> None:
        """Every recorded commitment with its concerns."""
        from salesradar.commitments import check
        from salesradar.commitments.store import list_commitments

        with open_app_db(workspace, app_db) as db:
            rows = [{**c.to_dict(), "concerns": [x.code for x in check(c)]}
                    for c in list_commitments(db)]
        output.emit(rows, as_json, lambda: output.console.print(output.table(
            None, ["id", "name", "vendor", "model", "metric", "improvement", "start", "end",
                   "concerns"],
            [[r["id"], r["name"], r["vendor"], r["model"], r["metric"],
              f"{r['improvement_pct']:.0%}", r["start"], r["end"], ", ".join(r["concerns"])]
             for r in rows])))

    def _status(ident: int, as_of: str | None, workspace: Path | None,
                app_db: str | None) -> dict[str, Any]:
        from salesradar.commitments.status import commitment_status
        from salesradar.commitments.store import get_commitment

        with open_app_db(workspace, app_db) as db:
            c = get_commitment(db, ident)
        with open_workspace(workspace) as ws:
            return commitment_status(ws.backend, c, as_of=parse_date(as_of, "--as-of"))

    @commitment.command("status")
    def status(ident: Annotated[int, typer.Argument(metavar="ID")], as_of: AsOfOption = None,
               lang: LangOption = "en", workspace: WorkspaceOption = None,
               app_db: AppDbOption = None, as_json: JsonOption = False) -> None:
        """Baseline, weekly progress against the path, fee and ROI so far."""
        s = _status(ident, as_of, workspace, app_db)

        def render() -> None:
            _print_status(s, lang)
            points = s["checkpoints"][-8:]
            if points:
                output.console.print(output.table(
                    "last weeks", ["week ending", "actual", "path", "on track"],
                    [[p["day"], output.fmt(p["actual"]), output.fmt(p["path"]),
                      {True: "yes", False: "no", None: "—"}[p["on_track"]]] for p in points]))

        output.emit(s, as_json, render)

    @commitment.command("verdict")
    def verdict(ident: Annotated[int, typer.Argument(metavar="ID")], as_of: AsOfOption = None,
                lang: LangOption = "en", workspace: WorkspaceOption = None,
                app_db: AppDbOption = None, as_json: JsonOption = False) -> None:
        """Met, missed, in progress, extended or vague, with the numbers, fee due and ROI."""
        s = _status(ident, as_of, workspace, app_db)
        keys = ("verdict", "verdict_en", "verdict_he", "baseline", "target", "result",
                "achieved_pct", "deadline", "as_of", "fee", "roi", "concerns", "data_since",
                "baseline_used", "baseline_window", "baseline_shortened", "seasonal_baseline",
                "seasonal_achieved_pct", "seasonal_verdict", "seasonal_disagrees")
        output.emit({k: s[k] for k in keys} | {"id": ident}, as_json,
                    lambda: _print_status(s, lang))

    @app.command()
    def diagnostic(as_of: AsOfOption = None, lang: LangOption = "en",
                   workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """What a serious vendor runs first: funnel, lead sources, rep spread, pricing,
        cycle lengths and CRM data quality over the last 12 months."""
        from salesradar.commitments.diagnostic import SECTIONS, run_diagnostic
        from salesradar.metrics.periods import data_last_day

        with open_workspace(workspace) as ws:  # as of the data's last day, never today's date
            day = parse_date(as_of, "--as-of") or data_last_day(ws.backend)
            result = run_diagnostic(ws.backend, as_of=day)

        def render() -> None:
            say(f"diagnostic {result['from']} → {result['as_of']}")
            for name in SECTIONS:
                say(f"  {name}: {result[name][f'finding_{lang}']}")

        output.emit(result, as_json, render)

    @app.command()
    def report(
        kind: Annotated[str, typer.Argument(help="ceo, account-review, commitment or "
                                            "diagnostic.")],
        ident: Annotated[int | None, typer.Argument(metavar="[ID]", help="The commitment "
                         "(commitment reports only).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", help="pdf or html (default: by "
                       "--out's extension, else pdf).", show_default=False)] = None,
        lang: LangOption = "en",
        out: Annotated[Path | None, typer.Option("--out", help="File to write (default: "
                       "<kind>-<lang>.<format>).")] = None,
        quarter: Annotated[str | None, typer.Option(help="Quarter of the account review, "
                           "e.g. 2026Q3 (default: the last full quarter of data).")] = None,
        as_of: AsOfOption = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write the CEO dashboard, the quarterly account review, a commitment's status or the
        vendor diagnostic as a self-contained HTML page or a PDF, in Hebrew or English, with
        charts."""
        from salesradar.reports import write_report

        fmt = report_format(fmt, out)
        target = out or Path(f"{kind}-{lang}.{fmt}")
        # LangOption's callback has already made it en or he
        result = write_report(kind, target, fmt=fmt, lang=cast(Lang, lang), ident=ident,
                              quarter=quarter, as_of=parse_date(as_of, "--as-of"),
                              workspace=workspace_path(workspace), app_db=app_db)
        output.emit(result, as_json, lambda: say(
            f"wrote {result['out']} ({result['bytes']:,} bytes"
            + (f", {result['pages']} pages" if result.get("pages") else "") + ")"))
