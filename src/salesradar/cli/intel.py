"""Commands that predict: score, customer, evaluate, audit."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    LangOption,
    WorkspaceOption,
    open_workspace,
    parse_date,
    parse_lang,
    writing_workspace,
)
from salesradar.currency import exact

HorizonOption = Annotated[int, typer.Option("--horizon", min=7, max=730,
                          help="Days ahead the models look (churn: no purchase in this many "
                               "days).")]


def intel_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""

    @app.command()
    def score(
        as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date "
                         "(default: the last invoice date).")] = None,
        horizon: HorizonOption = 90,
        top: Annotated[int, typer.Option(help="Customers to show, by revenue at risk.")] = 10,
        full: Annotated[bool, typer.Option("--full", help="Score anew even when the data "
                        "have not changed since the scores were written.")] = False,
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Run every model (churn risk, stopped items, cross-sell, tiers, health) and store the
        scores in the workspace as score_* tables (kept as they are when nothing they depend
        on changed, unless --full)."""
        from salesradar.models.scoring import SCORE_TABLES, score_workspace

        with writing_workspace(workspace) as ws, output.progress() as bar:
            task = bar.add_task("scoring", total=len(SCORE_TABLES))

            def progress(name: str, index: int, total: int) -> None:
                bar.update(task, completed=index, total=total, description=f"scoring: {name}")

            summary = score_workspace(ws, parse_date(as_of, "--as-of"), horizon, progress=progress,
                                      reuse=not full)
            scores = ws.table(SCORE_TABLES["churn"])
            # the most money at stake weighted by the risk, as the dashboard lists them
            churn = scores.order_by([(-scores.churn_probability * scores.value_at_stake),
                                     "customer_id"]).limit(top).to_pyarrow().to_pylist()
        result = {**summary.to_dict(), "top_risks": churn}

        def render() -> None:
            output.console.print(output.table(
                f"scores as of {summary.as_of}, {horizon}-day horizon", ["table", "rows", "s"],
                [(t, f"{n:,}", f"{summary.seconds[k]:.1f}")
                 for (k, t), n in zip(SCORE_TABLES.items(), summary.rows.values(), strict=True)]))
            print_gates([g.to_dict() for g in summary.gates.values()], "en")
            output.console.print(output.table(
                "top churn risks", ["customer", "P(no purchase)", "at stake", "why"],
                [(r["customer_id"], f"{r['churn_probability']:.0%}",
                  output.fmt(r["value_at_stake"]), "; ".join(r["reasons"] or []))
                 for r in churn]))

        output.emit(result, as_json, render)

    @app.command()
    def customer(
        customer_id: Annotated[str, typer.Argument(metavar="ID", help="Customer id.")],
        currency: Annotated[str | None, typer.Option(help="Currency sign in the texts (default: "
                            "the company's, `salesradar settings get currency`).")] = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """One customer's 360 view: sales, rhythm and churn risk with its reasons, stopped
        items, recommendations with reasons, tier and health (run salesradar score first)."""
        from salesradar.models.scoring import customer_view

        with open_workspace(workspace) as ws:
            view = customer_view(ws, customer_id, currency=currency, lang=parse_lang(lang))
        output.emit(view, as_json, lambda: _render_customer(view, lang))

    @app.command()
    def evaluate(
        cutoff: Annotated[str | None, typer.Option(help="Fit on data up to this date "
                          "(default: one horizon before the last invoice).")] = None,
        horizon: HorizonOption = 90,
        truth: Annotated[Path | None, typer.Option(help="A demo truth/ folder: adds recall "
                         "against what was planted.")] = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Backtest every model: fit before the cutoff, compare with what happened after,
        each metric beside its simple baseline; then which models speak (a model beats its
        rule with enough cases and a confidence interval above a tie, else the rule speaks)."""
        from salesradar.models.backtest import evaluate as run_backtests
        from salesradar.models.backtest import to_markdown
        from salesradar.models.churn import last_invoice_date
        from salesradar.models.gates import model_gates

        with open_workspace(workspace) as ws:
            day: date = parse_date(cutoff, "--cutoff") or \
                last_invoice_date(ws) - timedelta(days=horizon)
            with output.progress() as bar:
                bar.add_task(f"backtesting at {day}", total=None)
                metrics = run_backtests(ws, day, horizon, truth=truth)
                bar.add_task("which models speak", total=None)
                gates = [g.to_dict() for g in model_gates(
                    ws, day + timedelta(days=horizon), horizon, store=False).values()]
        result = {"cutoff": day.isoformat(), "horizon_days": horizon,
                  "metrics": [m.to_dict() for m in metrics], "gates": gates}

        def render() -> None:
            output.console.print(
                f"backtest at {day}, {horizon}-day horizon\n\n{to_markdown(metrics)}\n",
                highlight=False, markup=False)
            print_gates(gates, lang)

        output.emit(result, as_json, render)

    @app.command()
    def audit(
        fresh: Annotated[bool, typer.Option("--fresh", help="Audit insights generated now "
                         "from the scores instead of the ones in the insight store.")] = False,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the N insights "
                         "of highest priority (and the 360 views of their customers).")] = None,
        explanations: Annotated[bool, typer.Option(
            "--explanations/--no-explanations",
            help="Also audit the 360 explanations of the customers the insights name.")] = True,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Truth audit: recompute every claim the insights (and their customers' 360
        explanations) state from the raw invoice lines; list each disagreement. Exit code 1
        when any claim is false."""
        from salesradar.insights.audit import audit_insights

        with open_workspace(workspace) as ws, output.progress() as bar:
            bar.add_task("auditing", total=None)
            if fresh:
                from salesradar.insights.generate import generate_insights

                insights: list[Any] = list(generate_insights(ws))
            else:
                from salesradar.cli.alerts import open_store

                with open_store(workspace, app_db) as store:
                    insights = [i for i in store.list_insights() if i.status != "resolved"]
            report = audit_insights(ws, insights[:limit] if limit else insights,
                                    explanations=explanations)
        result = report.to_dict()

        def render() -> None:
            output.console.print(output.table(
                "checked", ["statements", "count"],
                sorted(report.statements.items())), highlight=False)
            output.console.print(output.table(
                "claims", ["claim", "count"], sorted(report.claims.items())), highlight=False)
            shown = report.disagreements[:50]
            if shown:
                output.console.print(output.table(
                    f"{report.false_claims:,} false claim(s)",
                    ["id", "kind", "subject", "claim", "stated", "recomputed", "sentence"],
                    [(d.id, d.kind, d.subject, d.claim, d.stated, d.recomputed, d.sentence)
                     for d in shown]), highlight=False)
            if report.false_claims > len(shown):
                output.console.print(f"... and {report.false_claims - len(shown):,} more "
                                     "(--json lists all)", highlight=False)
            if not report.false_claims:
                output.console.print("no false claims", highlight=False)

        output.emit(result, as_json, render)
        if report.false_claims:
            raise typer.Exit(1)


def _day(text: Any, he: bool) -> str:
    """An ISO date as dd/mm/yyyy in Hebrew, as it is in English; a dash when missing."""
    if not text:
        return "—"
    return date.fromisoformat(str(text)[:10]).strftime("%d/%m/%Y") if he else str(text)


def _render_customer(view: dict[str, Any], lang: str = "en") -> None:
    he = lang == "he"
    sales = view["sales"]
    name = (view["customer"] or {}).get("name") or ""
    output.console.print(f"[bold]{view['customer_id']}[/] {name}", highlight=False)
    span = f"{_day(sales['first'], he)} – {_day(sales['last'], he)}"
    output.console.print(
        f"קנה {span}: הכנסות {exact(sales['revenue'] or 0.0)} ב-{sales['invoices']:,} חשבוניות, "
        f"{sales['skus']:,} מק\"טים" if he else
        f"bought {span}: {exact(sales['revenue'] or 0.0)} revenue on "
        f"{sales['invoices']:,} invoices, {sales['skus']:,} SKUs", highlight=False, markup=False)
    risk = view["churn_risk"]
    if risk:
        output.console.print(
            f"סיכון נטישה {risk['churn_probability']:.0%}, {exact(risk['value_at_stake'])} "
            "על הכף" if he else
            f"churn risk {risk['churn_probability']:.0%}, "
            f"{exact(risk['value_at_stake'])} at stake",
            highlight=False, markup=False)
    for line in view["why"]:
        output.console.print(f"  · {line}", highlight=False, markup=False)
    tier = view["tier"]
    if tier:
        handling = tier.get("handling_he" if he else "handling") or tier.get("handling")
        output.console.print(f"{'דרג' if he else 'tier'} {tier.get('tier')}: {handling}",
                             highlight=False, markup=False)
    if view["health"]:
        output.console.print(f"{'בריאות' if he else 'health'} "
                             f"{output.fmt(view['health'].get('health'))}/100: "
                             f"{view['health'].get('explanation')}", highlight=False,
                             markup=False)
    stopped = [[r["sku"], r.get("name") or "", output.fmt(r.get("value_at_stake"))]
               for r in view["stopped_items"]]
    recommended = [[r["sku"], r.get("name") or "", str(r.get("reason") or ""),
                    output.fmt(r.get("expected_value"))] for r in view["recommendations"]]
    if stopped:
        output.console.print(output.table(
            "פריטים שהפסיק לקנות" if he else "stopped items",
            ["מק\"ט", "שם", "שווי בשנה על הכף"] if he else ["sku", "name", "yearly value at stake"],
            stopped))
    if recommended:
        output.console.print(output.table(
            "המלצות" if he else "recommendations",
            ["מק\"ט", "שם", "סיבה", "ערך צפוי"] if he else
            ["sku", "name", "reason", "expected value"], recommended))


def print_gates(gates: list[dict[str, Any]], lang: str = "en") -> None:
    """Which models speak and why (rows of ``model_gates``), in ``lang``."""
    from salesradar.models.gates import describe

    if not gates:
        return
    he = lang == "he"
    rows = [describe(g, lang) for g in gates]
    columns = (["מודל", "מי מדבר", "מדד", "מודל", "כלל", "הפרש (95%)", "מקרים"] if he else
               ["model", "speaks", "metric", "model", "rule", "difference (95%)", "cases"])
    keys = ["model", "speaks", "metric", "model_value", "baseline_value", "interval", "cases"]
    output.console.print(output.table("אילו מודלים מדברים" if he else "which models speak",
                                      columns, [[r[k] for k in keys] for r in rows]))
    for r in rows:
        output.console.print(f"  · {r['model']}: {r['reason']}", highlight=False, markup=False)
    if rows and rows[0]["decided"]:
        output.console.print(f"  {rows[0]['decided']}", highlight=False, markup=False)
