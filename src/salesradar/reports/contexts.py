"""The data of each report, shaped for its template, with its charts drawn as SVG.

Each builder calls the service function that owns the numbers (the CEO dashboard, the quarterly
review, the commitment status) and adds only presentation: labels in the report's language,
formatted values and charts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from salesradar import charts
from salesradar.charts._svg import OK, WARN
from salesradar.charts.labels import format_date, format_value
from salesradar.lang import Lang
from salesradar.metrics.registry import REGISTRY
from salesradar.reports.texts import AGGREGATIONS, GRAINS, MODELS, TEXTS


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _change(tile: dict[str, Any], lang: Lang) -> dict[str, str]:
    """The change in the KPI's unit (points for rates, relative for amounts and counts) as text
    with a good/bad class; on a partial period, against the same days of the previous one, or
    none with the reason."""
    if tile.get("value") is None:  # unknown: the reason says why, no change to show
        return {"text": "", "cls": "flat", "against": ""}
    shown = tile.get("change_display") or {}
    partial = tile.get("partial")
    against = TEXTS[lang]["vs_same_days" if partial else "vs_previous"]
    text = shown.get(f"text_{lang}")
    if text is None:
        if partial and not partial.get("comparable", True):
            return {"text": partial[f"compared_{lang}"], "cls": "flat", "against": ""}
        return {"text": "–", "cls": "flat", "against": against}
    good = shown.get("good")
    arrow = "▲" if shown.get("direction") == "up" else "▼"
    return {"text": f"{arrow} {text}", "against": against,
            "cls": "flat" if good is None else "up" if good else "down"}


def ceo_context(dash: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """The CEO dashboard (:func:`salesradar.dashboard.ceo_dashboard`) as a report."""
    t = TEXTS[lang]
    tiles, by_name = [], {tile["name"]: tile for tile in dash["tiles"]}
    for tile in dash["tiles"]:
        label = tile[f"label_{lang}"]
        values = [p["value"] for p in tile.get("trend") or []]
        tiles.append({
            "label": label, "available": tile["available"],
            "missing": ", ".join(tile.get("missing_tables") or []),
            "value": format_value(tile.get("value"), tile["unit"], lang=lang),
            "change": _change(tile, lang),
            "partial": (tile.get("partial") or {}).get(f"text_{lang}", ""),
            "why": tile.get(f"unknown_{lang}") or "",
            "spark": charts.sparkline(values, title=label, lang=lang, unit=tile["unit"],
                                      width=180, height=30) if values else "",
        })
    trend_charts = []
    for name, key in (("gross_profit", "gross_profit_trend"), ("active_customers",
                                                               "active_trend")):
        tile = by_name.get(name)
        if tile and tile.get("trend"):
            trend_charts.append(charts.line_chart(
                [_day(p["period"]) for p in tile["trend"]],
                {tile[f"label_{lang}"]: [p["value"] for p in tile["trend"]]},
                title=t[key], unit=tile["unit"], lang=lang, width=340, height=220))
    coverage = by_name.get("pipeline_coverage")
    coverage_svg = ""
    if coverage and coverage.get("trend"):
        coverage_svg = charts.coverage_chart(
            [_day(p["period"]).strftime("%m/%Y") for p in coverage["trend"]],
            [p["value"] for p in coverage["trend"]], title=t["coverage"], lang=lang,
            width=700, height=220)
    conc = dash["concentration"]
    top = conc.get("top_customers") or []
    conc_svg = charts.bar_chart([c.get("name") or c["customer_id"] for c in top],
                                [c["share"] for c in top], title=t["top_customers"], unit="%",
                                lang=lang, horizontal=True, width=700) if top else ""
    points = dash["whale_curve"]["points"]
    whale_svg = charts.whale_curve_chart([p["customer_share"] for p in points],
                                         [p["profit_share"] for p in points], title=t["whale"],
                                         lang=lang, width=700, height=250) if points else ""
    comparison = [{"label": r[f"label_{lang}"], "found": r[f"found_{lang}"],
                   "check": r[f"check_{lang}"]} for r in dash["comparison"]]
    whose = dash.get("whose") or {}
    subtitle = f"{t['as_of']} {format_date(_day(dash['as_of']))}" if dash["as_of"] else ""
    if whose.get(f"whose_{lang}"):
        subtitle = f"{subtitle} · {whose[f'whose_{lang}']}" if subtitle else whose[f"whose_{lang}"]
    partial = dash.get("partial")
    if partial:
        subtitle += f" · {_day(partial['start']):%m/%Y}: {partial[f'text_{lang}']}"
    title = t["ceo_title"] if whose.get("kind", "company") == "company" else whose[f"title_{lang}"]
    return {"title": title, "subtitle": subtitle,
            "as_of": dash["as_of"], "tiles": tiles, "trend_charts": trend_charts,
            "coverage_svg": coverage_svg, "conc": conc, "conc_svg": conc_svg,
            "whale_svg": whale_svg, "comparison": comparison,
            "risks": [_risk(r) for r in dash.get("top_risks") or []]}


def _risk(row: dict[str, Any]) -> dict[str, Any]:
    """One top-risk row with the columns the report shows (absent ones empty)."""
    return {"name": row.get("name") or row.get("customer_id"), "rep_id": row.get("rep_id"),
            "value_at_stake": row.get("value_at_stake"),
            "churn_probability": row.get("churn_probability"),
            "days_since_last_order": row.get("days_since_last_order"),
            "median_gap_days": row.get("median_gap_days", row.get("typical_gap_days"))}


def review_context(review: dict[str, Any], lang: Lang, rows_per_tier: int = 10) -> dict[str, Any]:
    """The quarterly account review (already in ``lang``) with its tier charts."""
    t = TEXTS[lang]
    tiers = review["tiers"]
    labels = [s["label"] for s in tiers]
    revenue_svg = charts.bar_chart(labels, [s["revenue"] for s in tiers],
                                   title=f"{t['tiers_revenue']} {review['quarter']}", unit="money",
                                   lang=lang, horizontal=True, width=340)
    profit_svg = charts.bar_chart(labels, [s["profit"] for s in tiers], title=t["tiers_profit"],
                                  unit="money", lang=lang, horizontal=True, width=340,
                                  colors=[OK if s["profit"] >= 0 else WARN for s in tiers])
    return {"title": review["title"], "subtitle": f"{_span(review)}", "review": review,
            "tiers": [{**s, "rows": s["rows"][:rows_per_tier]} for s in tiers],
            "revenue_svg": revenue_svg, "profit_svg": profit_svg, "cols": review["columns"]}


def _span(review: dict[str, Any]) -> str:
    return f"{format_date(_day(review['start']))} – {format_date(_day(review['end']))}"


def commitment_context(status: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """A commitment's status (:func:`salesradar.commitments.status.commitment_status`)."""
    t = TEXTS[lang]
    c = status["commitment"]
    unit = status["kpi"]["unit"]
    label = status["kpi"][f"label_{lang}"]
    points = status["checkpoints"]
    progress_svg = ""
    if points:
        progress_svg = charts.line_chart(
            [_day(p["day"]) for p in points],
            {t["actual"]: [p["actual"] for p in points], t["path"]: [p["path"] for p in points]},
            title=f"{label}: {t['progress']}", unit=unit, lang=lang, dashed=[t["path"]],
            reference=status["target"], reference_label=t["target"], width=700, height=280,
            include_zero=False)
    base_periods = status["baseline_periods"]
    baseline_svg = charts.bar_chart(
        [_day(p["start"]).strftime("%m/%Y") for p in base_periods],
        [p["value"] for p in base_periods], title=f"{label}: {t['baseline_periods']}",
        unit=unit, lang=lang, width=700, height=200) if base_periods else ""
    b = c["baseline"]
    if b is None:
        baseline_def = t["none"]
    elif b["value"] is not None:
        baseline_def = f"{t['agreed_value']}: {format_value(b['value'], unit, lang=lang)}"
    else:
        idx = 0 if lang == "en" else 1
        baseline_def = (f"{AGGREGATIONS[b['aggregation']][idx]}, {b['window']} "
                        f"{GRAINS[b['grain']][idx]} {t['periods_before'] if lang == 'he' else ''}"
                        .strip())
    roi = status["roi"]
    roi_rows = []
    if roi:
        for name, m in roi["metrics"].items():
            kpi = REGISTRY[name]
            metric_unit = kpi.unit
            roi_rows.append({"label": kpi.label_en if lang == "en" else kpi.label_he,
                             "before": format_value(m["before"], metric_unit, lang=lang),
                             "during": format_value(m["during"], metric_unit, lang=lang),
                             "increment": format_value(m["increment"], metric_unit, lang=lang)
                             if m["increment"] is not None else ""})
    return {"title": t["commitment_title"], "subtitle": c["name"],
            "s": status, "c": c, "unit": unit, "label": label,
            "model": MODELS[c["model"]][0 if lang == "en" else 1],
            "baseline_def": baseline_def, "progress_svg": progress_svg,
            "baseline_svg": baseline_svg, "roi_rows": roi_rows,
            "fee_status": t[f"fee_{status['fee']['status']}"]}
