"""Commands for strategic account management: account plan|action|contacts|profitability|risk|
review. Each prints a table (or text) for people and JSON with ``--json``."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.manage_output import (
    AsOfOption,
    parse_action,
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
from salesradar.errors import UserInputError


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
        from salesradar.app.audit import record

        if sum((show, create, revise, history, draft)) > 1:
            raise UserInputError("use one of --show, --create, --revise, --history, --draft")
        changes: dict[str, Any] = {"revenue_target": target, "needs": need or None,
                   "pricing_strategy": pricing, "period_start": parse_date(start, "--from"),
                   "period_end": parse_date(end, "--to")}
        actions = [parse_action(a) for a in action or []]
        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            if draft:
                result: Any = plans.draft_plan(ws, customer_id, lang=lang)
            elif history:
                result = plans.plan_history(db, customer_id)
            elif create:
                plans.create_plan(db, ws, customer_id, author=author, lang=lang,
                                  any_tier=any_tier, actions=actions, note=note, **changes)
                record(db, f"cli:{getpass.getuser()}", "plan.create", customer_id)
                stored = plans.current_plan(db, customer_id)
                assert stored is not None  # just written
                result = {"plan": plans.with_names(ws, stored),
                          "tracking": plans.plan_vs_actual(ws, db, customer_id)}
            else:
                if revise:
                    plans.revise_plan(db, customer_id, author=author, note=note, **changes)
                    record(db, f"cli:{getpass.getuser()}", "plan.revise", customer_id)
                for title, owner, due in actions:
                    plans.add_action(db, customer_id, title, owner, due)
                    record(db, f"cli:{getpass.getuser()}", "action.add", customer_id,
                           {"title": title})
                plan = plans.current_plan(db, customer_id)
                if plan is None:
                    raise UserInputError(f"{customer_id} has no account plan: see the draft "
                                         f"with --draft, store it with --create")
                result = {"plan": plans.with_names(ws, plan),
                          "tracking": plans.plan_vs_actual(ws, db, customer_id)}
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
        from salesradar.app.audit import record

        with open_app_db(workspace, app_db) as db:
            row = set_action_status(db, action_id, status)
            record(db, f"cli:{getpass.getuser()}", f"action.{row['status']}", row["customer_id"],
                   {"action": row["id"], "title": row["title"]})
        output.emit(row, as_json, lambda: say(f"action {row['id']} ({row['title']}): "
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

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws:
            every = contact_coverage(ws, tiers=tuple(t.strip() for t in tiers.split(",")))
        rows = [r for r in every if r["flags"]] if flagged else every
        key = "flags_he" if he else "flags_en"
        # the count is of every strategic account, also when only the flagged ones are listed
        output.emit(rows, as_json, lambda: print_table(
            f"contact coverage, tiers {tiers}: {sum(1 for r in every if r['flags'])} of "
            f"{len(every)} accounts flagged", rows,
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

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws:
            result = customer_profitability(ws, start=parse_date(start, "--from"),
                                            end=parse_date(end, "--to"))
        if flagged:
            result["customers"] = [c for c in result["customers"] if c["flags"]]

        def render() -> None:
            c = result["company"]
            f = output.fmt
            if he:
                say(f"{result['start']} – {result['end']}: הכנסות {f(c['revenue'])}, רווח "
                       f"גולמי {f(c['gross_profit'])}, עלות שירות {f(c['cost_to_serve'])} "
                       f"({pct(c['cts_share'])}), רווח {f(c['profit'])}; {c['loss_making']} "
                       f"מפסידים, {c['expensive_to_serve_count']} יקרים לשירות, "
                       f"{c['price_ignores_cost_count']} שמחירם לא משקף את עלות השירות")
            else:
                say(f"{result['start']} – {result['end']}: revenue {f(c['revenue'])}, "
                       f"gross profit {f(c['gross_profit'])}, cost to serve "
                       f"{f(c['cost_to_serve'])} ({pct(c['cts_share'])}), profit "
                       f"{f(c['profit'])}; {c['loss_making']} loss-making, "
                       f"{c['expensive_to_serve_count']} expensive to serve, "
                       f"{c['price_ignores_cost_count']} whose price does not reflect their cost "
                       "to serve")
            print_table("customers, lowest profit first", result["customers"][:top], [
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

        he = is_hebrew(lang)
        with open_workspace(workspace) as ws:
            result = portfolio_risk(ws, as_of=parse_date(as_of, "--as-of"), threshold=threshold)

        def render() -> None:
            c, cr = result["concentration"], result["credit"]
            words = (("ריכוזיות", "הגדול", "3 הגדולים", "5 הגדולים", "אשראי", "ימים",
                      "בפיגור", "מהחובות הפתוחים", "לקוחות", "חריגה") if he else
                     ("concentration", "top 1", "top 3", "top 5", "credit", "days", "overdue",
                      "of open receivables", "customers", "FLAG"))
            say(f"{words[0]} {c['start']} – {c['end']}: {words[1]} {pct(c['top1'])}, "
                   f"{words[2]} {pct(c['top3'])}, {words[3]} {pct(c['top5'])}, HHI "
                   f"{output.fmt(c['hhi'])}{' — ' + words[9] if c['flag'] else ''}")
            if not cr["available"]:
                say(f"{words[4]}: {cr['reason_he' if he else 'reason_en']}")
            else:
                say(f"{words[4]}: DSO {output.fmt(cr['dso_days'])} {words[5]}; {words[6]} "
                    f"{output.fmt(cr['overdue'])} ({pct(cr['overdue_share'])} {words[7]}), "
                    f"{cr['customers_overdue']} {words[8]}")
            for line in result["headlines_he" if he else "headlines_en"]:
                say(f"  · {line}")
            print_table("overdue", cr["top"], [("customer_id", "customer"), ("name", "name"),
                                          ("overdue", "overdue"),
                                          ("days_overdue", "days")], he)
            print_table("sudden churn", result["sudden_churn"]["top"], [
                ("customer_id", "customer"), ("name", "name"),
                ("days_since_last_order", "days since order"),
                ("median_gap_days", "usual gap"), ("revenue_at_stake", "at stake")],
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

        with open_workspace(workspace) as ws, open_app_db(workspace, app_db) as db:
            result = quarterly_review(ws, quarter=quarter, lang=lang, db=db, top=top)

        def render() -> None:
            t = result["totals"]
            if result["lang"] == "he":
                until = dt.date.fromisoformat(result["as_of"]).strftime("%d/%m/%Y")
                say(f"{result['title']}{f' (חלקי, עד {until})' if result['partial'] else ''}: "
                    f"הכנסות {output.fmt(t['revenue'])} ({pct(t['change_pct'])} לעומת הרבעון "
                    f"הקודם), רווח {output.fmt(t['profit'])}; ל-{t['with_plan']} לקוחות "
                    f"תוכנית לקוח, עמידה ביעד {pct(t['attainment'])}")
            else:
                say(f"{result['title']}{' (partial)' if result['partial'] else ''}: revenue "
                    f"{output.fmt(t['revenue'])} ({pct(t['change_pct'])} vs the quarter "
                    f"before), profit {output.fmt(t['profit'])}; {t['with_plan']} accounts with "
                    f"a plan, attainment {pct(t['attainment'])}")
            cols = result["columns"]
            for s in result["tiers"]:
                say(f"\n{s['label']}: {s['summary']}")
                if s["rows"]:
                    print_table("", s["rows"], [("name", cols["customer"]),
                                           ("revenue", cols["revenue"]),
                                           ("change_pct", cols["change_pct"]),
                                           ("profit", cols["profit"]),
                                           ("target", cols["target"]),
                                           ("attainment", cols["attainment"]),
                                           ("status_text", cols["status"])])
        output.emit(result, as_json, render)


def _render_plan(result: Any, lang: str) -> None:
    if isinstance(result, list):
        print_table("plan versions", result, [("version", "version"), ("created_at", "created"),
                                         ("author", "author"), ("revenue_target", "target"),
                                         ("note", "note")])
        return
    plan = result.get("plan", result)
    say(f"{plan['customer_id']} {plan.get('name') or ''} tier {plan.get('tier') or '—'}"
           f"{' v' + str(plan['version']) if 'version' in plan else ' (draft)'}: "
           f"{plan['period_start']} – {plan['period_end']}")
    say(f"revenue today {output.fmt(plan['revenue_today'])}, target "
           f"{output.fmt(plan['revenue_target'])}")
    for n in plan["needs"]:
        say(f"  need: {n}")
    for o in plan["opportunities"]:
        say(f"  opportunity: {o['sku']} {o.get('name') or ''} "
               f"{output.fmt(o['yearly_value'])} a year ({o['source']})")
    for r in plan["risks"]:
        say(f"  risk: {r['risk']} → {r['contingency']}")
    say(f"pricing: {plan['pricing_strategy']}")
    for a in plan.get("actions", []):
        say(f"  action {a['id']}: {a['title']} — {a['owner']} by {a['due_date']} "
               f"[{a['status']}]")
    if "tracking" in result:
        say(result["tracking"]["summary_he" if lang == "he" else "summary_en"])
