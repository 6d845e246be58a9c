"""The CEO dashboard as data: KPI tiles with trend and change, the quick comparison table,
concentration, the whale curve and the top risks by value.

The page, the API (``GET /api/v1/dashboard``) and the PDF report all render this one dict. It is
computed from the workspace as seen through a :class:`salesradar.access.Scope` (a manager's
dashboard covers their team), in one batch of KPI queries, and is meant to be cached by its
caller per workspace version (the web app does), never recomputed per request.

>>> TILE_KPIS[:2]
('active_customers', 'unique_skus_per_customer')
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np

from salesradar.access import EVERYTHING, Scope, scoped_workspace
from salesradar.charts import format_value
from salesradar.engine import table_names
from salesradar.metrics import REGISTRY, compute_kpis, kpi_records, plain_rows, whale_curve
from salesradar.metrics.flags import KpiSettings
from salesradar.workspace import Workspace, last_invoice_day

TILE_KPIS = ("active_customers", "unique_skus_per_customer", "gross_profit", "gross_margin",
             "churned_customers", "revenue_churn_rate", "pipeline_coverage", "win_rate",
             "forecast_accuracy")
# computed in the same batch: revenue for the comparison table, concentration for its panel;
# win_rate_amount keeps the deals batch at two KPIs
_EXTRA_KPIS = ("revenue", "win_rate_amount", "concentration_top1", "concentration_top3",
               "concentration_top5", "hhi")
# forward-looking: the tile shows the next period (the deals still to close), not the last one
FORWARD_KPIS = frozenset({"pipeline_coverage"})
TREND_PERIODS = 12
WHALE_POINTS = 50
TOP_RISKS = 10

# metric -> (why it matters, what to check), English and Hebrew: the quick comparison table
COMPARISON: dict[str, tuple[str, str, str, str]] = {
    "active_customers": (
        "The base every other number grows from.",
        "New vs reactivated vs churned: which one moved it.",
        "הבסיס שממנו צומח כל מספר אחר.",
        "חדשים מול חוזרים מול נוטשים: מי הזיז את המספר."),
    "unique_skus_per_customer": (
        "Breadth of each account: more items, deeper relationship, harder to lose.",
        "Stopped items and cross-sell offers per rep.",
        "רוחב כל חשבון: יותר פריטים, קשר עמוק יותר, קשה יותר לאבד.",
        "פריטים שהפסיקו להירכש והצעות מכירה משלימה לכל נציג."),
    "gross_profit": (
        "What the company keeps; revenue growth without it is noise.",
        "Price-volume-mix: price, volume, mix or cost.",
        "מה שנשאר לחברה; צמיחה בהכנסות בלעדיו היא רעש.",
        "ניתוח מחיר-כמות-תמהיל: מחיר, כמות, תמהיל או עלות."),
    "gross_margin": (
        "Discounting and mix show here first.",
        "Margin by product, customer and channel.",
        "הנחות ותמהיל מופיעים כאן ראשונים.",
        "שיעור רווח לפי מוצר, לקוח וערוץ."),
    "churned_customers": (
        "Every lost account must be replaced before growth starts.",
        "Who churned, their value, and who should have bought by their rhythm.",
        "כל לקוח שאבד צריך להיות מוחלף לפני שמתחילה צמיחה.",
        "מי נטש, מה ערכו, ומי היה אמור לקנות לפי הקצב שלו."),
    "revenue_churn_rate": (
        "Losing a few big accounts hurts more than many small ones.",
        "Top risks by value below; call the largest first.",
        "אובדן כמה לקוחות גדולים כואב יותר מהרבה קטנים.",
        "הסיכונים המובילים לפי ערך למטה; להתקשר קודם לגדולים."),
    "pipeline_coverage": (
        "Below 3× the remaining target, the target is at risk.",
        "Open deals closing this period per rep, against target.",
        "מתחת לפי 3 מהיעד שנותר, היעד בסיכון.",
        "עסקאות פתוחות שנסגרות בתקופה לכל נציג, מול היעד."),
    "win_rate": (
        "How well the team turns pipeline into revenue.",
        "Lost reasons and stage conversion.",
        "כמה טוב הצוות הופך צנרת להכנסה.",
        "סיבות הפסד והמרה בין שלבים."),
    "forecast_accuracy": (
        "A forecast you can plan on is worth as much as the deals in it.",
        "Commit vs actual per rep.",
        "תחזית שאפשר לתכנן לפיה שווה כמו העסקאות שבה.",
        "התחייבות מול ביצוע לכל נציג."),
}


def ceo_dashboard(
    ws: Workspace, *, scope: Scope | None = None, as_of: dt.date | None = None,
    period: str = "month", settings: KpiSettings | None = None,
) -> dict[str, Any]:
    """The CEO dashboard of ``ws`` as seen through ``scope`` (default: everything).

    Returns a JSON-ready dict: ``as_of``, ``period``, ``scope``, ``tiles`` (one per
    :data:`TILE_KPIS`: labels, unit, value, previous, change, change_pct, flags, trend of the last
    12 periods, or ``available: false`` and the missing tables), ``comparison`` (metric, why it
    matters, what to check, what the system found, in en and he), ``concentration``,
    ``whale_curve``, ``top_risks`` and ``model_gates`` (which models speak and why, the same for
    every scope: :func:`model_gate_panel`).
    """
    scope = scope or EVERYTHING
    view = ws if scope.everything else scoped_workspace(ws.path, scope)
    try:
        board = _build(view, scope, as_of, period, settings or KpiSettings())
    finally:
        if view is not ws:
            view.close()
    board["model_gates"] = model_gate_panel(ws)
    return board


def model_gate_panel(ws: Workspace) -> dict[str, Any]:
    """Which models speak on this workspace and why, from ``model_gates`` (written by
    ``salesradar score``): a title and one row per model (its title, who speaks, the metric with
    the model's and the rule's values, and the reason), each text in English and Hebrew; no rows
    before the first score run."""
    from salesradar.models.gates import describe, read_gates

    rows = []
    for gate in read_gates(ws):
        en, he = describe(gate, "en"), describe(gate, "he")
        rows.append({
            "model": gate["model"], "decision": gate["decision"], "metric": gate["metric"],
            "model_value": gate["model_value"], "baseline_value": gate["baseline_value"],
            "n_cases": gate["n_cases"], "as_of": gate["as_of"],
            "title_en": en["model"], "title_he": he["model"],
            "speaks_en": en["speaks"], "speaks_he": he["speaks"],
            "reason_en": en["reason"], "reason_he": he["reason"],
        })
    return {"title_en": "Which models speak", "title_he": "אילו מודלים מדברים",
            "note_en": "A model speaks only where its own backtest on this data beats the simple "
                       "rule; otherwise the rule speaks.",
            "note_he": "מודל מדבר רק כשהבדיקה לאחור שלו על הנתונים האלה עדיפה על הכלל הפשוט; "
                       "אחרת הכלל מדבר.",
            "rows": rows}


def _build(ws: Workspace, scope: Scope, as_of: dt.date | None, period: str,
           settings: KpiSettings) -> dict[str, Any]:
    present = ws.loaded_tables()
    day = as_of or last_invoice_day(ws) or dt.date.today()
    wanted = [n for n in (*TILE_KPIS, *_EXTRA_KPIS) if set(REGISTRY[n].tables) <= present]
    results = compute_kpis(ws.backend, wanted, period=period, settings=settings) if wanted else {}
    series = {name: kpi_series(kpi_records(table), day, name in FORWARD_KPIS)
              for name, table in results.items()}
    tiles = [_tile(name, series.get(name), present) for name in TILE_KPIS]
    return {
        "as_of": day.isoformat(),
        "period": period,
        "scope": scope.to_dict(),
        "tiles": tiles,
        "comparison": [_comparison_row(t) for t in tiles],
        "concentration": _concentration(ws, day, series, settings, present),
        "whale_curve": _whale(ws, present),
        "top_risks": top_risks(ws, present),
    }


def kpi_series(records: list[dict[str, Any]], day: dt.date, forward: bool = False,
            ) -> list[dict[str, Any]]:
    """Company rows that have a value, oldest first, up to the period holding ``day`` (up to the
    next period for a forward-looking KPI: coverage is about the deals still to close)."""
    periods = sorted({r["period"] for r in records if r["period"] is not None})
    iso = day.isoformat()
    upto = max((p for p in periods if p <= iso), default=iso)
    if forward:
        upto = next((p for p in periods if p > upto), upto)
    return [r for r in records if r["period"] is not None and r["period"] <= upto
            and r["value"] is not None]


def _tile(name: str, rows: list[dict[str, Any]] | None, present: set[str]) -> dict[str, Any]:
    kpi = REGISTRY[name]
    missing = [t for t in kpi.tables if t not in present]
    last = rows[-1] if rows else None
    return {
        "name": name, "label_en": kpi.label_en, "label_he": kpi.label_he,
        "unit": kpi.unit.value, "higher_is_better": kpi.higher_is_better,
        "available": not missing, "missing_tables": missing,
        "period": last["period"] if last else None,
        "value": last["value"] if last else None,
        "previous": last["previous"] if last else None,
        "change": last["change"] if last else None,
        "change_pct": last["change_pct"] if last else None,
        "flags": last["flags"] if last else [],
        "trend": [{"period": r["period"], "value": r["value"]}
                  for r in (rows or [])[-TREND_PERIODS:]],
    }


def _found(tile: dict[str, Any]) -> tuple[str, str]:
    """What the system found, in en and he: value, direction against the previous period, flags."""
    if not tile["available"]:
        tables = ", ".join(tile["missing_tables"])
        return f"Not measured: import {tables}.", f"לא נמדד: יש לייבא את {tables}."
    if tile["value"] is None:
        return "No data in the recent periods.", "אין נתונים בתקופות האחרונות."
    value = format_value(float(tile["value"]), tile["unit"])
    month = f"{tile['period'][5:7]}/{tile['period'][:4]}"  # mm/yyyy, as the tiles write it
    en, he = f"{value} in {month}", f"{value} ב-{month}"
    pct = tile["change_pct"]
    if pct is not None:
        better = tile["higher_is_better"]
        good = better is None or (pct >= 0) == bool(better) or pct == 0
        en += f", {pct:+.0%} vs the previous period" + ("" if good else " (worse)")
        he += f", {pct:+.0%} לעומת התקופה הקודמת" + ("" if good else " (הרעה)")
    if "coverage_below_min" in tile["flags"]:
        en += "; below the 3× line"
        he += "; מתחת לקו של פי 3"
    return en + ".", he + "."


def _comparison_row(tile: dict[str, Any]) -> dict[str, Any]:
    why_en, check_en, why_he, check_he = COMPARISON[tile["name"]]
    found_en, found_he = _found(tile)
    return {"metric": tile["name"], "label_en": tile["label_en"], "label_he": tile["label_he"],
            "why_en": why_en, "why_he": why_he, "check_en": check_en, "check_he": check_he,
            "found_en": found_en, "found_he": found_he}


def _latest(series: dict[str, list[dict[str, Any]]], name: str) -> float | None:
    rows = series.get(name) or []
    return float(rows[-1]["value"]) if rows else None


def _concentration(ws: Workspace, day: dt.date, series: dict[str, list[dict[str, Any]]],
                   settings: KpiSettings, present: set[str]) -> dict[str, Any]:
    """Trailing-12-month revenue share of the top 1, 3, 5 customers, HHI and the top five."""
    top: list[dict[str, Any]] = []
    if "invoice_lines" in present:
        lines = ws.table("invoice_lines")
        recent = lines.filter((lines.invoice_date > ibis.date(day - dt.timedelta(days=365)))
                              & (lines.invoice_date <= ibis.date(day)))
        per = recent.group_by("customer_id").aggregate(revenue=recent.net_revenue.sum())
        total = per.revenue.sum()
        ranked = per.mutate(share=(per.revenue / total.nullif(0)).cast("float64"))
        ranked = ranked.order_by([ibis.desc("revenue"), "customer_id"]).limit(5)
        if "customers" in present:
            c = ws.table("customers").select("customer_id", "name")
            ranked = ranked.left_join(c, "customer_id").select(ranked, c.name)
        top = plain_rows(ranked.order_by([ibis.desc("revenue"), "customer_id"]).to_pyarrow())
    top1 = _latest(series, "concentration_top1")
    return {
        "top1": top1, "top3": _latest(series, "concentration_top3"),
        "top5": _latest(series, "concentration_top5"), "hhi": _latest(series, "hhi"),
        "threshold": settings.concentration_threshold,
        "over_threshold": top1 is not None and top1 > settings.concentration_threshold,
        "top_customers": top,
    }


def _whale(ws: Workspace, present: set[str]) -> dict[str, Any]:
    """The whale curve, thinned to about :data:`WHALE_POINTS` points, and its peak."""
    if "invoice_lines" not in present:
        return {"points": [], "summary": None}
    from salesradar.metrics import whale_summary

    curve = whale_curve(ws.backend, persist=False)
    summary = whale_summary(curve)
    n = curve.num_rows
    if n == 0:
        return {"points": [], "summary": summary}
    keep = np.unique(np.concatenate([
        np.linspace(0, n - 1, min(n, WHALE_POINTS)).round().astype(int),
        [int(summary["peak_rank"]) - 1]]))
    thin = curve.take(keep)
    points = [{"customer_share": r["customer_share"], "profit_share": r["cumulative_profit_share"],
               "cumulative_profit": r["cumulative_profit"]} for r in plain_rows(thin)]
    return {"points": [{"customer_share": 0.0, "profit_share": 0.0, "cumulative_profit": 0.0},
                       *points], "summary": summary}


def top_risks(ws: Workspace, present: set[str] | None = None,
              limit: int = TOP_RISKS) -> list[dict[str, Any]]:
    """Customers with the most money at stake weighted by their churn risk (``score_churn``:
    probability × ``value_at_stake``, the one money-at-stake definition), with name and rep."""
    present = present if present is not None else table_names(ws.backend)
    if "score_churn" not in present:
        return []
    s = ws.table("score_churn")
    rows = s.select("customer_id", "churn_probability", "value_at_stake",
                    "days_since_last_order", "median_gap_days", "p_alive",
                    expected_loss=s.churn_probability * s.value_at_stake)
    if "customers" in present:
        c = ws.table("customers").select("customer_id", "name", "rep_id")
        rows = rows.left_join(c, "customer_id").select(rows, c.name, c.rep_id)
    rows = rows.order_by([ibis.desc("expected_loss"), "customer_id"]).limit(limit)
    return plain_rows(rows.drop("expected_loss").to_pyarrow())
