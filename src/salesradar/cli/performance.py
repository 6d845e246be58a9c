"""Commands for sales performance: plan pacing|set, forecast, funnel, commissions, scorecard.
Each prints a table (or text) for people and JSON with ``--json``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from salesradar.cli import output
from salesradar.cli.manage_output import (
    AsOfOption,
    pct,
    print_table,
    say,
)
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    LangOption,
    WorkspaceOption,
    is_hebrew,
    open_app_db,
    open_workspace,
    parse_date,
)


def performance_commands(app: typer.Typer) -> None:
    """Register plan, forecast, funnel, commissions and scorecard on the main app."""
    plan = typer.Typer(help="The sales plan: targets and pacing.", no_args_is_help=True)
    app.add_typer(plan, name="plan")

    @plan.command("pacing")
    def pacing_command(
        period: Annotated[str | None, typer.Option(help="Month, quarter or year, e.g. 2026-10 "
                          "or 2026Q4 (default: the month of the last invoice).")] = None,
        metric: Annotated[str, typer.Option(help="revenue, gross_profit or deals_won.")]
        = "revenue",
        as_of: AsOfOption = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Where each rep and team stands against the target today, and the run rate needed."""
        from salesradar.performance.plans import pacing

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            result = pacing(ws, db, period=period, metric=metric,
                            as_of=parse_date(as_of, "--as-of"))

        def render() -> None:
            say(f"{result['label_he' if he else 'label_en']} {result['period']} – "
                   f"{result['end']}: day {result['elapsed_days']} of {result['days']}")
            if not result["reps"] and not result["teams"]:
                say(f"no {result['metric']} targets for this period: import the targets "
                       "table or set one with salesradar plan set")
            for r in result["reps"]:
                say(f"  [{r['status_he' if he else 'status_en']}] "
                       f"{r['summary_he' if he else 'summary_en']}")
            print_table("teams", result["teams"], [("team", "team"), ("target", "target"),
                                             ("actual", "actual"), ("pace", "pace"),
                                             ("status", "status")], he)
        output.emit(result, as_json, render)

    @plan.command("set")
    def set_command(
        who: Annotated[str, typer.Argument(metavar="REP", help="Rep id (a team with --team).")],
        metric: Annotated[str, typer.Argument(help="revenue, gross_profit or deals_won.")],
        period: Annotated[str, typer.Argument(help="e.g. 2026-11, 2026Q4 or 2026.")],
        value: Annotated[float, typer.Argument(help="The target.")],
        team: Annotated[bool, typer.Option("--team", help="REP is a team name.")] = False,
        by: Annotated[str | None, typer.Option(help="Who sets it.")] = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Set a target in the app (it replaces an imported one for the same key)."""
        from salesradar.app.audit import record
        from salesradar.performance.plans import set_target

        with open_app_db(workspace, app_db) as db:
            row = set_target(db, period=period, metric=metric, value=value,
                             rep_id=None if team else who, team=who if team else None,
                             set_by=by)
            record(db, f"cli:{getpass.getuser()}", "target.set", f"team {who}" if team else who,
                   {"period": row["period"], "metric": metric, "value": value})
        output.emit(row, as_json, lambda: say(
            f"target set: {who} {metric} {row['period']} ({row['grain']}) = "
            f"{output.fmt(value)}"))

    @app.command()
    def forecast(
        periods: Annotated[int, typer.Option(help="Periods ahead.", min=1, max=24)] = 3,
        grain: Annotated[str, typer.Option(help="month or quarter.")] = "month",
        save: Annotated[bool, typer.Option("--save", help="Keep this forecast to measure its "
                        "accuracy later.")] = False,
        accuracy: Annotated[bool, typer.Option("--accuracy", help="Show the accuracy of saved "
                            "forecasts of periods that have ended.")] = False,
        backtest: Annotated[int | None, typer.Option("--backtest", help="Replay the "
                            "forecast for this many past months against the revenue invoiced, "
                            "beside the same month last year and the mean of the last 3 months.",
                            min=1, max=24, show_default=False)] = None,
        as_of: AsOfOption = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Portfolio forecast = repeat business + new business, seasonal and net of returns, with
        an 80% range."""
        from salesradar.performance.forecast import (
            forecast_accuracy,
            forecast_backtest,
            portfolio_forecast,
            save_forecast,
        )

        he = is_hebrew(lang)

        def h(en: str, hebrew: str) -> str:
            return hebrew if he else en

        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            if backtest is not None:
                replay = forecast_backtest(ws, months=backtest)
                mape = replay["mape"]

                def show_replay() -> None:
                    months = [{**m, **{k: pct(m[k]) for k in (
                        "accuracy_same_month_last_year", "accuracy_mean_last_3")}}
                        for m in replay["months"]]
                    print_table(
                        h("forecast one month ahead", "תחזית חודש קדימה"), months, [
                            ("period", h("month", "חודש")), ("actual", h("actual", "בפועל")),
                            ("forecast", h("forecast", "תחזית")),
                            ("accuracy", h("accuracy", "דיוק")),
                            ("same_month_last_year", h("same month last year",
                                                       "אותו חודש אשתקד")),
                            ("accuracy_same_month_last_year", h("accuracy", "דיוק")),
                            ("mean_last_3", h("mean of last 3", "ממוצע 3 אחרונים")),
                            ("accuracy_mean_last_3", h("accuracy", "דיוק"))])
                    say(h(
                        f"mean absolute error over {replay['compared']} months: forecast "
                        f"{pct(mape['forecast'])}, rhythm model {pct(mape['rhythm'])}, same "
                        f"month last year {pct(mape['same_month_last_year'])}, mean of last 3 "
                        f"{pct(mape['mean_last_3'])}; actual inside the 80% range in "
                        f"{pct(replay['within_range'])} of the months",
                        f"שגיאה מוחלטת ממוצעת ב-{replay['compared']} חודשים: תחזית "
                        f"{pct(mape['forecast'])}, מודל קצב הרכישה {pct(mape['rhythm'])}, "
                        f"אותו חודש אשתקד {pct(mape['same_month_last_year'])}, ממוצע 3 "
                        f"אחרונים {pct(mape['mean_last_3'])}; הערך בפועל בתוך טווח 80% ב-"
                        f"{pct(replay['within_range'])} מהחודשים"))
                output.emit(replay, as_json, show_replay)
                return
            if accuracy:
                rows = forecast_accuracy(ws, db)
                output.emit(rows, as_json, lambda: print_table(
                    h("saved forecasts", "תחזיות שנשמרו"), rows, [
                        ("period", h("period", "תקופה")), ("as_of", h("made from", "נעשתה ב")),
                        ("total", h("forecast", "תחזית")), ("actual", h("actual", "בפועל")),
                        ("accuracy", h("accuracy", "דיוק")),
                        ("within_range", h("in range", "בטווח"))]))
                return
            result = portfolio_forecast(ws, periods=periods, grain=grain,
                                        as_of=parse_date(as_of, "--as-of"))
            if save:
                result["saved"] = save_forecast(db, result)

        def render() -> None:
            columns = [
                ("period", h("period", "תקופה")), ("repeat", h("repeat", "חוזרים")),
                ("new_business", h("new business", "עסקים חדשים")),
                ("total", h("total", "סה\"כ")), ("low", h("low", "נמוך")),
                ("high", h("high", "גבוה"))]
            # shown, never added: repeat business already holds them (0 columns left out)
            for key, en, hebrew in (
                    ("deals_existing", "deals at buyers, not added",
                     "עסקאות אצל לקוחות קיימים, לא נוספו"),
                    ("expansion", "cross-sell, not added", "מכירה צולבת, לא נוספה")):
                if any(p[key] for p in result["periods"]):
                    columns.append((key, h(en, hebrew)))
            print_table(h(f"forecast as of {result['as_of']}", f"תחזית נכון ל-{result['as_of']}"),
                        result["periods"], columns)
            for note in result["notes_he" if he else "notes"]:
                say(h(f"note: {note}", f"הערה: {note}"))
        output.emit(result, as_json, render)

    @app.command()
    def funnel(
        days: Annotated[int, typer.Option(help="Window in days up to the last invoice.",
                        min=7)] = 180,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Calls → meetings → deals → won per rep against the team's best, and where each
        rep loses most."""
        from salesradar.performance.funnel import rep_funnels

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws:
            result = rep_funnels(ws, days=days)
        def render() -> None:
            if result["reps"]:
                print_table(f"funnel {result['start']} – {result['end']}", result["reps"], [
                    ("rep_id", "rep"), ("calls", "calls"), ("meetings", "meetings"),
                    ("deals", "deals"), ("won", "won"), ("call_to_meeting", "call→meeting"),
                    ("meeting_to_deal", "meeting→deal"), ("deal_to_won", "deal→won"),
                    ("avg_sale_per_customer", "avg sale/customer"),
                    ("weakest_he" if he else "weakest_en", "loses most"),
                    ("lost_at", "lost deals stood at")], he)
            for note in result["notes_he" if he else "notes_en"]:
                say(("הערה: " if he else "note: ") + note)

        output.emit(result, as_json, render)

    @app.command()
    def commissions(
        plan_ref: Annotated[str, typer.Option("--plan", help="A plan YAML file, or the name of "
                            "a plan kept in the app database.")],
        period: Annotated[str | None, typer.Option(help="e.g. 2026-09 (default: the last whole "
                          "period of the plan).")] = None,
        keep: Annotated[bool, typer.Option("--keep", help="Keep the plan file in the app "
                        "database under its name.")] = False,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Commissions per rep for a period under a rule-based plan, with a statement each."""
        from salesradar.app.audit import record
        from salesradar.performance import commissions as c

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            path = Path(plan_ref)
            doc = c.load_plan(path) if path.suffix in (".yaml", ".yml") or path.exists() \
                else c.stored_plan(db, plan_ref)
            if keep:
                c.save_plan(db, doc)
                record(db, f"cli:{getpass.getuser()}", "commission.save", doc["name"])
            result = c.compute_commissions(ws, doc, period=period, db=db)

        def render() -> None:
            say(f"{result['plan']}, {result['period']} – {result['end']}: total "
                   f"{output.fmt(result['total_payout'])}")
            for r in result["reps"]:
                say(f"\n{r['rep_id']}: {output.fmt(r['payout'])}")
                for line in r["statement_he" if he else "statement_en"]:
                    say(f"  {line}")
        output.emit(result, as_json, render)

    @app.command()
    def scorecard(
        rep: Annotated[str | None, typer.Argument(metavar="[REP]", help="Rep id (default: "
                       "every selling rep).")] = None,
        as_of: AsOfOption = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """A rep's scorecard for the feedback conversation: KPIs of their operating model with
        the team median, the best, the trend, strengths and what to improve."""
        from salesradar.performance.scorecard import rep_scorecards
        from salesradar.performance.text import value_text

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws:
            cards = rep_scorecards(ws, rep_ids=[rep] if rep else None,
                                   as_of=parse_date(as_of, "--as-of"))

        def render() -> None:
            lg = "he" if he else "en"
            if not cards:
                say("no rep to score: the reps table needs reps with model centre or account "
                       "who sell (import reps)")
            for card in cards:
                say(f"\n{card['rep_id']} {card['name']} · {card['team']} · {card['model']}")
                rows = [{"kpi": k["label_he" if he else "label_en"],
                         **{f: value_text(k[f], k["unit"], lg)
                            for f in ("value", "team_median", "top_value")},
                         **({"value": f"– ({k['why_' + lg]})"} if k.get("why_en") else {}),
                         "trend": " ".join(value_text(t["value"], k["unit"], lg)
                                           for t in k["trend"][-4:])} for k in card["kpis"]]
                print_table("", rows, [("kpi", "KPI"), ("value", "value"),
                                  ("team_median", "team median"), ("top_value", "best"),
                                  ("trend", "last 4 months")], he)
                for s in card["strengths"]:
                    say(f"  + {s['evidence_he' if he else 'evidence_en']}")
                for s in card["improvements"]:
                    say(f"  - {s['evidence_he' if he else 'evidence_en']}")
        output.emit(cards if rep is None else cards[0], as_json, render)
