"""The vendor diagnostic (:func:`salesradar.commitments.diagnostic.run_diagnostic`) as a report:
each section's finding with its chart or table."""

from __future__ import annotations

from datetime import date
from typing import Any

from salesradar import charts
from salesradar.charts.labels import format_date
from salesradar.lang import Lang

SECTION_TITLES = {
    "funnel": ("Funnel conversion by stage", "המרה בין שלבי המשפך"),
    "lead_sources": ("Lead-source quality", "איכות מקורות הלידים"),
    "rep_spread": ("Rep performance spread", "פיזור ביצועי הנציגים"),
    "pricing": ("Pricing and discounts", "תמחור והנחות"),
    "sales_cycle": ("Sales-cycle length", "אורך מחזור המכירה"),
    "crm_quality": ("CRM data quality", "איכות נתוני ה־CRM"),
}
_WORDS = {
    "en": {"title": "Vendor diagnostic", "won_per_lead": "Won amount per lead",
           "revenue_by_rep": "Revenue by rep, last 12 months",
           "discount_by_rep": "Average discount below list, by rep", "table": "Table",
           "column": "Field", "missing": "Empty", "rows": "Rows checked",
           "pipeline": "Pipeline", "won": "Won deals", "median": "Median", "p90": "1 in 10 over",
           "mean": "Mean"},
    "he": {"title": "אבחון לפני התקשרות עם ספק", "won_per_lead": "סכום זכיות לליד",
           "revenue_by_rep": "הכנסות לפי נציג, 12 החודשים האחרונים",
           "discount_by_rep": "הנחה ממוצעת מהמחירון, לפי נציג", "table": "טבלה",
           "column": "שדה", "missing": "ריקים", "rows": "שורות שנבדקו",
           "pipeline": "צנרת", "won": "עסקאות שנסגרו", "median": "חציון",
           "p90": "אחת מעשר מעל", "mean": "ממוצע"},
}


def _funnels(stages: list[dict[str, Any]], lang: Lang) -> list[str]:
    """One funnel chart per pipeline."""
    out = []
    for pipeline in dict.fromkeys(s["pipeline"] for s in stages):
        rows = [s for s in stages if s["pipeline"] == pipeline]
        out.append(charts.funnel_chart([r["stage"] for r in rows], [r["deals"] for r in rows],
                                       title=str(pipeline), lang=lang, width=700))
    return out


def diagnostic_context(d: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """Sections in order, each with its title, finding and charts."""
    w = _WORDS[lang]
    idx = 0 if lang == "en" else 1
    svgs: dict[str, list[str]] = {name: [] for name in SECTION_TITLES}
    if d["funnel"]["available"]:
        svgs["funnel"] = _funnels(d["funnel"]["stages"], lang)
    sources = d["lead_sources"].get("sources") or []
    if sources:
        svgs["lead_sources"] = [charts.bar_chart(
            [s["source"] for s in sources], [s["won_per_lead"] for s in sources],
            title=w["won_per_lead"], unit="money", lang=lang, horizontal=True, width=700)]
    reps = d["rep_spread"].get("reps") or []
    if reps:
        svgs["rep_spread"] = [charts.bar_chart(
            [r["rep_id"] for r in reps], [r["revenue"] for r in reps],
            title=w["revenue_by_rep"], unit="money", lang=lang, horizontal=True, width=700)]
    price_reps = [r for r in d["pricing"].get("reps") or [] if r["rep_id"] is not None]
    if price_reps:
        svgs["pricing"] = [charts.bar_chart(
            [r["rep_id"] for r in price_reps], [r["avg_discount"] for r in price_reps],
            title=w["discount_by_rep"], unit="%", lang=lang, horizontal=True, width=700)]
    sections = [{"name": name, "title": SECTION_TITLES[name][idx],
                 "finding": d[name][f"finding_{lang}"], "svgs": svgs[name]}
                for name in SECTION_TITLES]
    fields = [f for f in d["crm_quality"].get("missing_fields") or [] if f["rows"]]
    span = (f"{format_date(date.fromisoformat(d['from']))} – "
            f"{format_date(date.fromisoformat(d['as_of']))}")
    return {"title": w["title"], "subtitle": span, "sections": sections, "fields": fields,
            "cycles": d["sales_cycle"].get("pipelines") or [], "w": w}
