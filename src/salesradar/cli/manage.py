"""Commands for account management and sales performance: account, plan, forecast, funnel,
commissions, scorecard. Each prints a table (or text) for people and JSON with ``--json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    WorkspaceOption,
    open_app_db,
    open_workspace,
    parse_date,
)
from salesradar.errors import UserInputError

LangOption = Annotated[str, typer.Option(help="Language of the texts: en or he.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Judge as of this date (default: the last invoice date).",
    show_default=False)]


def _lang(lang: str) -> bool:
    if lang not in ("en", "he"):
        raise UserInputError(f"--lang must be en or he, not {lang!r}")
    return lang == "he"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _print(text: str) -> None:
    output.console.print(text, highlight=False, markup=False)


PERCENT_KEYS = ("share", "rate", "attainment", "pace", "margin", "discount", "pct", "accuracy")


HEADINGS_HE = {
    "KPI": "מדד", "a quarter at stake": "לרבעון על הכף", "accuracy": "דיוק", "actual": "בפועל",
    "author": "כותב", "avg sale/customer": "מכירה ממוצעת ללקוח", "best": "הטוב ביותר",
    "calls": "שיחות", "call→meeting": "שיחה←פגישה", "contacts": "אנשי קשר",
    "cost to serve": "עלות שירות", "created": "נוצר", "cts share": "חלק עלות השירות",
    "customer": "לקוח", "days": "ימים", "days since order": "ימים מההזמנה",
    "deals": "עסקאות", "deal→won": "עסקה←זכייה", "discount": "הנחה",
    "expansion": "הרחבה", "forecast": "תחזית", "gross profit": "רווח גולמי", "high": "גבוה",
    "in range": "בטווח", "last 4 months": "4 החודשים האחרונים",
    "lost deals stood at": "שלב העסקאות שהופסדו", "loses most": "מפסיד בעיקר", "low": "נמוך",
    "made from": "נעשתה ב", "meetings": "פגישות", "meeting→deal": "פגישה←עסקה",
    "month": "חודש", "name": "שם", "new business": "עסקים חדשים", "note": "הערה",
    "overdue": "בפיגור", "pace": "קצב", "period": "תקופה", "profit": "רווח",
    "recent": "פעילים לאחרונה", "rep": "נציג", "repeat": "חוזרים", "revenue": "הכנסות",
    "status": "מצב", "target": "יעד", "team": "צוות", "team median": "חציון הצוות",
    "tier": "דרג", "total": "סה\"כ", "usual gap": "מרווח רגיל", "value": "ערך",
    "version": "גרסה", "won": "זכיות", "flags": "סימונים", "executive": "בכיר",
    "finance": "כספים", "operations": "תפעול", "end_user": "משתמש קצה",
    "customers, lowest profit first": "לקוחות, מהרווח הנמוך ביותר",
    "sudden churn": "נטישה פתאומית", "teams": "צוותים",
}


def _table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]],
           he: bool = False) -> None:
    """A table of ``rows`` with ``(key, heading)`` columns (headings in Hebrew with ``he``)."""
    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if isinstance(value, list):
            return ", ".join(map(str, value))
        if key.endswith(PERCENT_KEYS) or key in ("call_to_meeting", "meeting_to_deal",
                                                 "deal_to_won"):
            return _pct(value)
        return output.fmt(value)

    headings = [HEADINGS_HE.get(h, h) if he else h for _, h in columns]
    output.console.print(output.table(HEADINGS_HE.get(title, title) if he else title, headings,
                                      [[cell(r, k) for k, _ in columns] for r in rows]))


def _action(text: str) -> tuple[str, str, Any]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3:
        raise UserInputError(f"--action takes 'TITLE|OWNER|YYYY-MM-DD', not {text!r}")
    return parts[0], parts[1], parse_date(parts[2], "--action date")


def manage_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""
    account_commands(app)
    performance_commands(app)


def account_commands(app: typer.Typer) -> None:
    """Register ``salesradar account ...`` on the main app."""
    account = typer.Typer(help="Strategic account management: plans, contacts, profitability, "
                          "risk, quarterly review.", no_args_is_help=True)
    app.add_typer(account, name="account")

    @account.command("plan")
    def plan_command(
        customer_id: Annotated[str, typer.Argument(metavar="CUSTOMER", help="Customer id.")],
        show: Annotated[bool, typer.Option("--show", help="Show the current plan tracked "
                        "against the data (what the command does without an option).")]
        = False,
        create: Annotated[bool, typer.Option("--create", help="Store a new plan drafted from "
                          "the data (A and B accounts).")] = False,
        revise: Annotated[bool, typer.Option("--revise", help="Store the next version of the "
                          "plan with the changes given.")] = False,
        history: Annotated[bool, typer.Option("--history", help="List every version.")] = False,
        draft: Annotated[bool, typer.Option("--draft", help="Show the plan the data suggests, "
                         "without storing it.")] = False,
        target: Annotated[float | None, typer.Option(help="Revenue target of the plan year.")]
        = None,
        need: Annotated[list[str] | None, typer.Option(help="A need of the customer "
                        "(repeatable).")] = None,
        pricing: Annotated[str | None, typer.Option(help="Pricing strategy for the renewal.")]
        = None,
        action: Annotated[list[str] | None, typer.Option(help="An action 'TITLE|OWNER|"
                          "YYYY-MM-DD' (repeatable).")] = None,
        start: Annotated[str | None, typer.Option("--from", help="First day of the plan year.")]
        = None,
        end: Annotated[str | None, typer.Option("--to", help="Last day of the plan year.")]
        = None,
        any_tier: Annotated[bool, typer.Option("--any-tier", help="Plan a C or D account too.")]
        = False,
        author: Annotated[str | None, typer.Option(help="Who writes this version.")] = None,
        note: Annotated[str | None, typer.Option(help="What changed (kept in the history).")]
        = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show, draft, create or revise a customer's account plan; --history lists versions.

        Without an option it shows the current plan tracked against the data (revenue so far
        vs the target to date, run rate needed, opportunities taken, actions overdue)."""
        from salesradar.accounts import plans

        _lang(lang)
        if sum((show, create, revise, history, draft)) > 1:
            raise UserInputError("use one of --show, --create, --revise, --history, --draft")
        changes: dict[str, Any] = {"revenue_target": target, "needs": need or None,
                   "pricing_strategy": pricing, "period_start": parse_date(start, "--from"),
                   "period_end": parse_date(end, "--to")}
        actions = [_action(a) for a in action or []]
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            if draft:
                result: Any = plans.draft_plan(ws, customer_id, lang=lang)
            elif history:
                result = plans.plan_history(db, customer_id)
            elif create:
                plans.create_plan(db, ws, customer_id, author=author, lang=lang,
                                  any_tier=any_tier, actions=actions, note=note, **changes)
                result = {"plan": plans.current_plan(db, customer_id),
                          "tracking": plans.plan_vs_actual(ws, db, customer_id)}
            else:
                if revise:
                    plans.revise_plan(db, customer_id, author=author, note=note, **changes)
                for title, owner, due in actions:
                    plans.add_action(db, customer_id, title, owner, due)
                plan = plans.current_plan(db, customer_id)
                if plan is None:
                    raise UserInputError(f"{customer_id} has no account plan: see the draft "
                                         f"with --draft, store it with --create")
                result = {"plan": plan, "tracking": plans.plan_vs_actual(ws, db, customer_id)}
        output.emit(result, as_json, lambda: _render_plan(result, lang))

    @account.command("action")
    def action_command(
        action_id: Annotated[int, typer.Argument(metavar="ID", help="Action id.")],
        status: Annotated[str, typer.Argument(help="open, done or dropped.")],
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Mark an account-plan action open, done or dropped."""
        from salesradar.accounts.plans import set_action_status

        with open_app_db(workspace, app_db) as db:
            row = set_action_status(db, action_id, status)
        output.emit(row, as_json, lambda: _print(f"action {row['id']} ({row['title']}): "
                                                 f"{row['status']}"))

    @account.command("contacts")
    def contacts_command(
        tiers: Annotated[str, typer.Option(help="Tiers of the strategic accounts, e.g. A,B.")]
        = "A,B",
        flagged: Annotated[bool, typer.Option("--flagged", help="Only flagged accounts.")]
        = False,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Contacts by level per strategic account; flags an account with no contact, only
        one contact, or no executive contact."""
        from salesradar.accounts.contacts import LEVELS, contact_coverage

        he = _lang(lang)
        with open_workspace(workspace) as ws:
            rows = contact_coverage(ws, tiers=tuple(t.strip() for t in tiers.split(",")),
                                    flagged_only=flagged)
        key = "flags_he" if he else "flags_en"
        output.emit(rows, as_json, lambda: _table(
            f"contact coverage, tiers {tiers}: {sum(1 for r in rows if r['flags'])} of "
            f"{len(rows)} flagged", rows,
            [("customer_id", "customer"), ("name", "name"), ("tier", "tier"),
             ("contacts", "contacts"), *((lv, lv) for lv in LEVELS[:4]),
             ("recent", "recent"), (key, "flags")], he))

    @account.command("profitability")
    def profitability_command(
        start: Annotated[str | None, typer.Option("--from", help="First day (default: 12 "
                         "months before --to).")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last day (default: the last "
                       "invoice).")] = None,
        top: Annotated[int, typer.Option(help="Rows shown (lowest profit first).")] = 15,
        flagged: Annotated[bool, typer.Option("--flagged", help="Only flagged customers.")]
        = False,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Profit after cost to serve (by kind) per customer, expensive-to-serve customers and
        the pricing check (discount vs volume and cost to serve)."""
        from salesradar.accounts.profitability import customer_profitability

        he = _lang(lang)
        with open_workspace(workspace) as ws:
            result = customer_profitability(ws, start=parse_date(start, "--from"),
                                            end=parse_date(end, "--to"))
        if flagged:
            result["customers"] = [c for c in result["customers"] if c["flags"]]

        def render() -> None:
            c = result["company"]
            f = output.fmt
            if he:
                _print(f"{result['start']} – {result['end']}: הכנסות {f(c['revenue'])}, רווח "
                       f"גולמי {f(c['gross_profit'])}, עלות שירות {f(c['cost_to_serve'])} "
                       f"({_pct(c['cts_share'])}), רווח {f(c['profit'])}; {c['loss_making']} "
                       f"מפסידים, {c['expensive_to_serve_count']} יקרים לשירות, "
                       f"{c['price_ignores_cost_count']} מתומחרים מתחת לעלותם")
            else:
                _print(f"{result['start']} – {result['end']}: revenue {f(c['revenue'])}, "
                       f"gross profit {f(c['gross_profit'])}, cost to serve "
                       f"{f(c['cost_to_serve'])} ({_pct(c['cts_share'])}), profit "
                       f"{f(c['profit'])}; {c['loss_making']} loss-making, "
                       f"{c['expensive_to_serve_count']} expensive to serve, "
                       f"{c['price_ignores_cost_count']} priced below their cost")
            _table("customers, lowest profit first", result["customers"][:top], [
                ("customer_id", "customer"), ("revenue", "revenue"),
                ("gross_profit", "gross profit"), ("cost_to_serve", "cost to serve"),
                ("profit", "profit"), ("cts_share", "cts share"), ("discount", "discount"),
                ("flags_he" if he else "flags_en", "flags")], he)
        output.emit(result, as_json, render)

    @account.command("risk")
    def risk_command(
        threshold: Annotated[float, typer.Option(help="Share of revenue above which one "
                             "customer is a concentration risk.", min=0.0, max=1.0)] = 0.15,
        as_of: AsOfOption = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Portfolio risk: concentration (top 1/3/5, HHI), credit (DSO, overdue) and customers
        suddenly far past their purchase rhythm."""
        from salesradar.accounts.risk import portfolio_risk

        he = _lang(lang)
        with open_workspace(workspace) as ws:
            result = portfolio_risk(ws, as_of=parse_date(as_of, "--as-of"), threshold=threshold)

        def render() -> None:
            c, cr = result["concentration"], result["credit"]
            words = (("ריכוזיות", "הגדול", "3 הגדולים", "5 הגדולים", "אשראי", "ימים",
                      "בפיגור", "מהחובות הפתוחים", "לקוחות", "חריגה") if he else
                     ("concentration", "top 1", "top 3", "top 5", "credit", "days", "overdue",
                      "of open receivables", "customers", "FLAG"))
            _print(f"{words[0]} {c['start']} – {c['end']}: {words[1]} {_pct(c['top1'])}, "
                   f"{words[2]} {_pct(c['top3'])}, {words[3]} {_pct(c['top5'])}, HHI "
                   f"{output.fmt(c['hhi'])}{' — ' + words[9] if c['flag'] else ''}")
            _print(f"{words[4]}: DSO {output.fmt(cr['dso_days'])} {words[5]}; {words[6]} "
                   f"{output.fmt(cr['overdue'])} ({_pct(cr['overdue_share'])} {words[7]}), "
                   f"{cr['customers_overdue']} {words[8]}")
            for line in result["headlines_he" if he else "headlines_en"]:
                _print(f"  · {line}")
            _table("overdue", cr["top"], [("customer_id", "customer"), ("name", "name"),
                                          ("overdue", "overdue"),
                                          ("days_overdue", "days")], he)
            _table("sudden churn", result["sudden_churn"]["top"], [
                ("customer_id", "customer"), ("name", "name"),
                ("days_since_last_order", "days since order"),
                ("median_gap_days", "usual gap"), ("revenue_at_stake", "a quarter at stake")],
                he)
        output.emit(result, as_json, render)

    @account.command("review")
    def review_command(
        quarter: Annotated[str, typer.Option(help="The quarter, e.g. 2026Q3.")],
        top: Annotated[int, typer.Option(help="Accounts listed per tier.")] = 10,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The quarterly account review: one section per ABCD tier, plan vs actual."""
        from salesradar.accounts.review import quarterly_review

        _lang(lang)
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            result = quarterly_review(ws, quarter=quarter, lang=lang, db=db, top=top)

        def render() -> None:
            t = result["totals"]
            _print(f"{result['title']}{' (partial)' if result['partial'] else ''}: revenue "
                   f"{output.fmt(t['revenue'])} ({_pct(t['change_pct'])} vs the quarter before), "
                   f"profit {output.fmt(t['profit'])}; {t['with_plan']} accounts with a plan, "
                   f"attainment {_pct(t['attainment'])}")
            cols = result["columns"]
            for s in result["tiers"]:
                _print(f"\n{s['label']}: {s['summary']}")
                if s["rows"]:
                    _table("", s["rows"], [("name", cols["customer"]),
                                           ("revenue", cols["revenue"]),
                                           ("change_pct", cols["change_pct"]),
                                           ("profit", cols["profit"]),
                                           ("target", cols["target"]),
                                           ("attainment", cols["attainment"]),
                                           ("status_text", cols["status"])])
        output.emit(result, as_json, render)


def _render_plan(result: Any, lang: str) -> None:
    if isinstance(result, list):
        _table("plan versions", result, [("version", "version"), ("created_at", "created"),
                                         ("author", "author"), ("revenue_target", "target"),
                                         ("note", "note")])
        return
    plan = result.get("plan", result)
    _print(f"{plan['customer_id']} {plan.get('name') or ''} tier {plan.get('tier') or '—'}"
           f"{' v' + str(plan['version']) if 'version' in plan else ' (draft)'}: "
           f"{plan['period_start']} – {plan['period_end']}")
    _print(f"revenue today {output.fmt(plan['revenue_today'])}, target "
           f"{output.fmt(plan['revenue_target'])}")
    for n in plan["needs"]:
        _print(f"  need: {n}")
    for o in plan["opportunities"]:
        _print(f"  opportunity: {o['sku']} {o.get('name') or ''} "
               f"{output.fmt(o['yearly_value'])} a year ({o['source']})")
    for r in plan["risks"]:
        _print(f"  risk: {r['risk']} → {r['contingency']}")
    _print(f"pricing: {plan['pricing_strategy']}")
    for a in plan.get("actions", []):
        _print(f"  action {a['id']}: {a['title']} — {a['owner']} by {a['due_date']} "
               f"[{a['status']}]")
    if "tracking" in result:
        _print(result["tracking"]["summary_he" if lang == "he" else "summary_en"])


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

        he = _lang(lang)
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            result = pacing(ws, db, period=period, metric=metric,
                            as_of=parse_date(as_of, "--as-of"))

        def render() -> None:
            _print(f"{result['label_he' if he else 'label_en']} {result['period']} – "
                   f"{result['end']}: day {result['elapsed_days']} of {result['days']}")
            if not result["reps"] and not result["teams"]:
                _print(f"no {result['metric']} targets for this period: import the targets "
                       "table or set one with salesradar plan set")
            for r in result["reps"]:
                _print(f"  [{r['status_he' if he else 'status_en']}] "
                       f"{r['summary_he' if he else 'summary_en']}")
            _table("teams", result["teams"], [("team", "team"), ("target", "target"),
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
        from salesradar.performance.plans import set_target

        with open_app_db(workspace, app_db) as db:
            row = set_target(db, period=period, metric=metric, value=value,
                             rep_id=None if team else who, team=who if team else None,
                             set_by=by)
        output.emit(row, as_json, lambda: _print(
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
        backtest: Annotated[int | None, typer.Option("--backtest", help="Replay the repeat-"
                            "business forecast for this many past months against the revenue "
                            "invoiced.", min=1, max=24, show_default=False)] = None,
        as_of: AsOfOption = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Portfolio forecast = repeat business + expansion + new business, with a range."""
        from salesradar.performance.forecast import (
            forecast_accuracy,
            forecast_backtest,
            portfolio_forecast,
            save_forecast,
        )

        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            if backtest is not None:
                replay = forecast_backtest(ws, months=backtest)
                output.emit(replay, as_json, lambda: _table(
                    f"repeat business one month ahead: mean accuracy "
                    f"{_pct(replay['mean_accuracy'])}", replay["months"], [
                        ("period", "month"), ("as_of", "made from"),
                        ("forecast", "forecast"), ("actual", "actual"),
                        ("accuracy", "accuracy")]))
                return
            if accuracy:
                rows = forecast_accuracy(ws, db)
                output.emit(rows, as_json, lambda: _table("saved forecasts", rows, [
                    ("period", "period"), ("as_of", "made from"), ("total", "forecast"),
                    ("actual", "actual"), ("accuracy", "accuracy"),
                    ("within_range", "in range")]))
                return
            result = portfolio_forecast(ws, periods=periods, grain=grain,
                                        as_of=parse_date(as_of, "--as-of"))
            if save:
                result["saved"] = save_forecast(db, result)

        def render() -> None:
            _table(f"forecast as of {result['as_of']}", result["periods"], [
                ("period", "period"), ("repeat", "repeat"), ("expansion", "expansion"),
                ("new_business", "new business"), ("total", "total"), ("low", "low"),
                ("high", "high")])
            for note in result["notes"]:
                _print(f"note: {note}")
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

        he = _lang(lang)
        with open_workspace(workspace) as ws:
            result = rep_funnels(ws, days=days)
        output.emit(result, as_json, lambda: _table(
            f"funnel {result['start']} – {result['end']}", result["reps"], [
                ("rep_id", "rep"), ("calls", "calls"), ("meetings", "meetings"),
                ("deals", "deals"), ("won", "won"), ("call_to_meeting", "call→meeting"),
                ("meeting_to_deal", "meeting→deal"), ("deal_to_won", "deal→won"),
                ("avg_sale_per_customer", "avg sale/customer"),
                ("weakest_he" if he else "weakest_en", "loses most"),
                ("lost_at", "lost deals stood at")], he))

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
        from salesradar.performance import commissions as c

        he = _lang(lang)
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            path = Path(plan_ref)
            doc = c.load_plan(path) if path.suffix in (".yaml", ".yml") or path.exists() \
                else c.stored_plan(db, plan_ref)
            if keep:
                c.save_plan(db, doc)
            result = c.compute_commissions(ws, doc, period=period, db=db)

        def render() -> None:
            _print(f"{result['plan']}, {result['period']} – {result['end']}: total "
                   f"{output.fmt(result['total_payout'])}")
            for r in result["reps"]:
                _print(f"\n{r['rep_id']}: {output.fmt(r['payout'])}")
                for line in r["statement_he" if he else "statement_en"]:
                    _print(f"  {line}")
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

        he = _lang(lang)
        with open_workspace(workspace) as ws:
            cards = rep_scorecards(ws, rep_ids=[rep] if rep else None,
                                   as_of=parse_date(as_of, "--as-of"))

        def render() -> None:
            lg = "he" if he else "en"
            if not cards:
                _print("no rep to score: the reps table needs reps with model centre or account "
                       "who sell (import reps)")
            for card in cards:
                _print(f"\n{card['rep_id']} {card['name']} · {card['team']} · {card['model']}")
                rows = [{"kpi": k["label_he" if he else "label_en"],
                         **{f: value_text(k[f], k["unit"], lg)
                            for f in ("value", "team_median", "top_value")},
                         "trend": " ".join(value_text(t["value"], k["unit"], lg)
                                           for t in k["trend"][-4:])} for k in card["kpis"]]
                _table("", rows, [("kpi", "KPI"), ("value", "value"),
                                  ("team_median", "team median"), ("top_value", "best"),
                                  ("trend", "last 4 months")], he)
                for s in card["strengths"]:
                    _print(f"  + {s['evidence_he' if he else 'evidence_en']}")
                for s in card["improvements"]:
                    _print(f"  - {s['evidence_he' if he else 'evidence_en']}")
        output.emit(cards if rep is None else cards[0], as_json, render)
