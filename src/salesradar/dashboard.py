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
from salesradar.metrics.catalog.sales import MIN_COST_COVERAGE
from salesradar.metrics.flags import KpiSettings
from salesradar.metrics.periods import (
    PartialPeriod,
    data_last_day,
    describe_change,
    mark_partial,
    partial_period,
    same_days_previous,
)
from salesradar.workspace import Workspace

TILE_KPIS = ("active_customers", "unique_skus_per_customer", "gross_profit", "gross_margin",
             "churned_customers", "revenue_churn_rate", "pipeline_coverage", "win_rate",
             "forecast_accuracy")
# computed in the same batch: revenue for the comparison table, concentration for its panel;
# win_rate_amount keeps the deals batch at two KPIs
_EXTRA_KPIS = ("revenue", "win_rate_amount", "concentration_top1", "concentration_top3",
               "concentration_top5", "hhi", "cost_coverage")
# tiles whose value is unknown without cost: they show the cost coverage and say why
COST_KPIS = frozenset({"gross_profit", "gross_margin"})
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
        # the company's last day, not the scope's: a team that last sold on the 5th is not
        # "partial: 5 days" while the data run to the 9th
        last = data_last_day(ws.backend)
        board = _build(view, scope, as_of, period, settings or KpiSettings(), last)
    finally:
        if view is not ws:
            view.close()
    board["model_gates"] = model_gate_panel(ws)
    board["whose"] = whose_numbers(ws, scope)
    return board


def whose_numbers(ws: Workspace, scope: Scope) -> dict[str, Any]:
    """Whose numbers a dashboard shows: ``kind`` (company, team, rep), the page title and a
    line naming the team or rep, in en and he.

    A scope of one rep is that rep's; reps sharing one team are that team's; other scopes are
    "a team of n reps".
    """
    if scope.everything:
        return {"kind": "company", "title_en": "CEO dashboard", "title_he": "לוח בקרה למנכ\"ל",
                "whose_en": "The whole company's numbers.", "whose_he": "הנתונים של כל החברה."}
    ids = sorted(scope.rep_ids or ())
    names: dict[str, str] = {}
    teams: set[str] = set()
    if "reps" in ws.loaded_tables() and ids:
        r = ws.table("reps")
        for row in plain_rows(r.filter(r.rep_id.isin(ids)).select("rep_id", "name", "team")
                              .to_pyarrow()):
            names[row["rep_id"]] = row["name"] or row["rep_id"]
            if row["team"]:
                teams.add(str(row["team"]))
    if len(ids) == 1:
        who = names.get(ids[0], ids[0])
        return {"kind": "rep", "title_en": "Rep dashboard", "title_he": "לוח בקרה לנציג",
                "whose_en": f"The numbers of {who} only.", "whose_he": f"הנתונים של {who} בלבד."}
    if len(teams) == 1:
        team = next(iter(teams))
        en, he = f"team {team} ({len(ids)} reps)", f"צוות {team} ({len(ids)} נציגים)"
    else:
        en, he = f"a team of {len(ids)} reps", f"צוות של {len(ids)} נציגים"
    return {"kind": "team", "title_en": "Team dashboard", "title_he": "לוח בקרה לצוות",
            "whose_en": f"The numbers of {en} only, not the company's.",
            "whose_he": f"הנתונים של {he} בלבד, לא של החברה."}


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
           settings: KpiSettings, last: dt.date | None) -> dict[str, Any]:
    present = ws.loaded_tables()
    day = as_of or last or dt.date.today()
    partial = partial_period(min(day, last) if last else None, period)
    wanted = [n for n in (*TILE_KPIS, *_EXTRA_KPIS) if set(REGISTRY[n].tables) <= present]
    backward = [n for n in wanted if n not in FORWARD_KPIS]
    forward = [n for n in wanted if n in FORWARD_KPIS]
    # as of a day before the data end, the backward-looking KPIs stop on that day (its period
    # is then partial); coverage looks at the deals still to close after it
    end = day if last is not None and day < last else None
    results = compute_kpis(ws.backend, backward, period=period, end=end, settings=settings) \
        if backward else {}
    if forward:
        results.update(compute_kpis(ws.backend, forward, period=period, settings=settings))
    same_days = same_days_previous(ws.backend, backward, partial, settings=settings) \
        if partial else {}
    series = {}
    for name, table in results.items():
        rows = kpi_series(kpi_records(table), day, name in FORWARD_KPIS)
        series[name] = rows if name in FORWARD_KPIS else mark_partial(
            rows, partial, same_days.get(name))
    coverage = _latest(series, "cost_coverage")
    tiles = [_tile(name, series.get(name), present, coverage, partial) for name in TILE_KPIS]
    return {
        "as_of": day.isoformat(),
        "period": period,
        "partial": partial.to_dict() if partial else None,
        "scope": scope.to_dict(),
        "tiles": tiles,
        "comparison": [_comparison_row(t) for t in tiles],
        "concentration": _concentration(ws, day, series, settings, present),
        "whale_curve": _whale(ws, present, coverage),
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


def _tile(name: str, rows: list[dict[str, Any]] | None, present: set[str],
          cost_coverage: float | None = None, partial: PartialPeriod | None = None,
          ) -> dict[str, Any]:
    kpi = REGISTRY[name]
    missing = [t for t in kpi.tables if t not in present]
    last = rows[-1] if rows else None
    tile = {
        "name": name, "label_en": kpi.label_en, "label_he": kpi.label_he,
        "unit": kpi.unit.value, "higher_is_better": kpi.higher_is_better,
        "available": not missing, "missing_tables": missing,
        "period": last["period"] if last else None,
        "value": last["value"] if last else None,
        "previous": last["previous"] if last else None,
        "change": last["change"] if last else None,
        "change_pct": last["change_pct"] if last else None,
        "flags": last["flags"] if last else [],
        "partial": last.get("partial") if last else None,
        "trend": [{"period": r["period"], "value": r["value"],
                   "partial": bool(r.get("partial"))}
                  for r in (rows or [])[-TREND_PERIODS:]],
    }
    tile["change_display"] = describe_change(kpi.unit.value, tile["value"], tile["previous"],
                                             kpi.higher_is_better)
    tile["unknown_en"], tile["unknown_he"] = _unknown_reason(tile, cost_coverage)
    if name in COST_KPIS:
        tile["cost_coverage"] = cost_coverage
    return tile


def _unknown_reason(tile: dict[str, Any], cost_coverage: float | None,
                    ) -> tuple[str | None, str | None]:
    """Why a tile shows no value, in en and he (null when it has one)."""
    if tile["value"] is not None:
        return None, None
    if not tile["available"]:
        tables = ", ".join(tile["missing_tables"])
        return f"Not measured: import {tables}.", f"לא נמדד: יש לייבא את {tables}."
    if tile["name"] in COST_KPIS and cost_coverage is not None:
        share = format_value(cost_coverage, "%")
        return (f"Unknown: cost is known for {share} of revenue (95% needed); import the cost "
                "of invoice lines.",
                f"לא ידוע: העלות ידועה ל-{share} מההכנסות (נדרשים 95%); יש לייבא את עלות "
                "שורות החשבוניות.")
    reasons = {
        "pipeline_coverage": ("No revenue target for the coming period, or nothing left to win.",
                              "אין יעד הכנסות לתקופה הבאה, או שלא נותר מה להשיג."),
        "win_rate": ("No deal won or lost in the recent periods.",
                     "אין עסקה שנסגרה בזכייה או בהפסד בתקופות האחרונות."),
        "forecast_accuracy": ("No forecast submission with a won amount to compare.",
                              "אין הגשת תחזית עם סכום זכייה להשוואה."),
    }
    return reasons.get(tile["name"], ("No data in the recent periods.",
                                      "אין נתונים בתקופות האחרונות."))


def _found(tile: dict[str, Any]) -> tuple[str, str]:
    """What the system found, in en and he: value, change in the KPI's unit, flags."""
    if tile["value"] is None:
        en_reason, he_reason = tile["unknown_en"], tile["unknown_he"]
        return str(en_reason), str(he_reason)
    value = format_value(float(tile["value"]), tile["unit"])
    month = f"{tile['period'][5:7]}/{tile['period'][:4]}"  # mm/yyyy, as the tiles write it
    en, he = f"{value} in {month}", f"{value} ב-{month}"
    partial = tile.get("partial")
    if partial:
        en += f" ({partial['text_en']})"
        he += f" ({partial['text_he']})"
    shown = tile["change_display"]
    if shown["text_en"] is not None:
        worse = shown["good"] is False
        against_en = "the same days of the previous period" if partial else "the previous period"
        against_he = "אותם ימים בתקופה הקודמת" if partial else "התקופה הקודמת"
        en += f", {shown['text_en']} vs {against_en}" + (" (worse)" if worse else "")
        he += f", {shown['text_he']} לעומת {against_he}" + (" (הרעה)" if worse else "")
    elif partial and not partial["comparable"]:
        en += f"; {partial['compared_en']}"
        he += f"; {partial['compared_he']}"
    if "coverage_below_min" in tile["flags"]:
        en += "; below the 3× line"
        he += "; מתחת לקו של פי 3"
    if tile.get("cost_coverage") is not None and tile["cost_coverage"] < 1:
        share = format_value(tile["cost_coverage"], "%")
        en += f"; on the lines with a cost ({share} of revenue)"
        he += f"; על השורות שיש להן עלות ({share} מההכנסות)"
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


def _whale(ws: Workspace, present: set[str], cost_coverage: float | None = None,
           ) -> dict[str, Any]:
    """The whale curve, thinned to about :data:`WHALE_POINTS` points, and its peak; none
    without cost (profit would be revenue), with the reason."""
    if "invoice_lines" not in present:
        return {"points": [], "summary": None}
    if cost_coverage is not None and cost_coverage < MIN_COST_COVERAGE:
        share = format_value(cost_coverage, "%")
        return {"points": [], "summary": None,
                "unknown_en": f"Unknown: cost is known for {share} of revenue (95% needed).",
                "unknown_he": f"לא ידוע: העלות ידועה ל-{share} מההכנסות (נדרשים 95%)."}
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
