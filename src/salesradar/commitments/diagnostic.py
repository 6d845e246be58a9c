"""The diagnostic a serious vendor runs before promising anything.

Six sections over the trailing twelve months up to ``as_of`` (the last invoice day by default):
funnel conversion by stage, lead-source quality, rep performance spread, pricing and discounts,
sales-cycle lengths and CRM data quality (:mod:`.quality`). Each is computed in the engine (KPI
registry or Ibis expressions) and says in one sentence, English and Hebrew, what it found. A
section whose tables are missing says which ones instead.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np

from salesradar.commitments.quality import (
    crm_quality,
    cycle_lengths,
    missing_tables,
    pricing,
    unavailable,
)
from salesradar.currency import exact
from salesradar.metrics import compute_kpi, plain_rows
from salesradar.workspace import last_invoice_day

SECTIONS = ("funnel", "lead_sources", "rep_spread", "pricing", "sales_cycle", "crm_quality")


def funnel(backend: Any) -> dict[str, Any]:
    """Deals reaching each stage of each pipeline and the conversion to the next stage.

    Stages are ordered by their mean position in the deals' histories; a stage that only lost
    deals enter (``closed_lost``) is an exit, not a step of the funnel.
    """
    missing = missing_tables(backend, "deals", "deal_stage_history")
    if missing:
        return unavailable(missing)
    h, d = backend.table("deal_stage_history"), backend.table("deals")
    ranked = h.mutate(pos=ibis.row_number().over(group_by=h.deal_id, order_by=h.entered_at))
    j = ranked.join(d.select("deal_id", "pipeline", "outcome"), "deal_id")
    stages = (j.group_by([j.pipeline.fill_null("—").name("pipeline"), j.stage])
              .agg(deals=j.deal_id.nunique(), position=j.pos.mean(),
                   lost_share=(j.outcome == "lost").cast("float64").mean())
              .order_by(["pipeline", "position"])).to_pyarrow()
    rows = [r for r in plain_rows(stages) if r["lost_share"] < 1.0]
    out: list[dict[str, Any]] = []
    worst: dict[str, Any] | None = None
    for i, r in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1]["pipeline"] == r["pipeline"] \
            else None
        rate = nxt["deals"] / r["deals"] if nxt and r["deals"] else None
        row = {"pipeline": r["pipeline"], "stage": r["stage"], "deals": r["deals"],
               "next_stage": nxt["stage"] if nxt else None, "conversion": rate}
        out.append(row)
        if rate is not None and (worst is None or rate < worst["conversion"]):
            worst = row
    finding = ({"finding_en": f"the biggest leak is {worst['stage']} → {worst['next_stage']} in "
                              f"{worst['pipeline']}: {worst['conversion']:.0%} go on",
                "finding_he": f"הדליפה הגדולה ביותר: {worst['stage']} ← {worst['next_stage']} "
                              f"בצנרת {worst['pipeline']}: {worst['conversion']:.0%} ממשיכות"}
               if worst else {"finding_en": "no stage history",
                              "finding_he": "אין היסטוריית שלבים"})
    return {"available": True, "stages": out, **finding}


def lead_sources(backend: Any, start: date, end: date) -> dict[str, Any]:
    """Per lead source: leads, lead-to-deal rate (KPI registry), won deals and won amount."""
    missing = missing_tables(backend, "leads", "deals")
    if missing:
        return unavailable(missing)
    rate = {r["source"]: r["value"] for r in plain_rows(compute_kpi(
        backend, "lead_to_deal_rate", ("source",), None, start, end, persist=False))}
    leads, deals = backend.table("leads"), backend.table("deals")
    leads = leads.filter(leads.created_at.date().between(ibis.date(start), ibis.date(end)))
    won_side = deals.select(d_id=deals.deal_id, outcome=deals.outcome, amount=deals.amount)
    j = leads.left_join(won_side, leads.deal_id == won_side.d_id)
    won = j.outcome == "won"
    agg = (j.group_by(source=j.source.fill_null("(none)"))
           .agg(leads=j.lead_id.nunique(), won_deals=won.cast("int64").sum(),
                won_amount=ibis.ifelse(won, j.amount, 0).sum().cast("float64"))
           .order_by(ibis.desc("won_amount"))).to_pyarrow()
    rows = [{**r, "lead_to_deal_rate": rate.get(r["source"]),
             "won_per_lead": r["won_amount"] / r["leads"] if r["leads"] else None}
            for r in plain_rows(agg)]
    ranked = sorted((r for r in rows if r["won_per_lead"] is not None),
                    key=lambda r: r["won_per_lead"], reverse=True)
    if len(ranked) < 2:
        return {"available": True, "sources": rows, "finding_en": "one lead source only",
                "finding_he": "מקור לידים יחיד"}
    best, worst = ranked[0], ranked[-1]
    return {"available": True, "sources": rows,
            "finding_en": f"a {best['source']} lead is worth {exact(best['won_per_lead'])} in won "
                          f"deals, a {worst['source']} lead {exact(worst['won_per_lead'])}",
            "finding_he": f"ליד מ־{best['source']} שווה {exact(best['won_per_lead'])} בעסקאות "
                          f"שנסגרו, ליד מ־{worst['source']} {exact(worst['won_per_lead'])}"}


def rep_spread(backend: Any, start: date, end: date) -> dict[str, Any]:
    """Revenue per rep (KPI registry) over the window: the spread from the top to the bottom."""
    rows = [r for r in plain_rows(compute_kpi(backend, "revenue", ("rep",), None, start, end,
                                              persist=False))
            if r["rep_id"] is not None and r["value"] is not None and r["value"] > 0]
    rows.sort(key=lambda r: r["value"], reverse=True)
    values = np.array([r["value"] for r in rows], dtype=np.float64)
    if values.size < 2:
        return {"available": True, "reps": rows, "finding_en": "fewer than two selling reps",
                "finding_he": "פחות משני נציגים מוכרים"}
    p90, p50, p10 = np.percentile(values, [90, 50, 10])
    stats = {"reps_selling": int(values.size), "top": float(values[0]),
             "median": float(p50), "bottom": float(values[-1]),
             "p90_p10_ratio": float(p90 / p10) if p10 > 0 else None,
             "coefficient_of_variation": float(values.std() / values.mean())}
    ratio = float(values[0] / values[-1])
    return {"available": True, "reps": [{"rep_id": r["rep_id"], "revenue": r["value"]}
                                        for r in rows], **stats,
            "finding_en": f"the top rep sells {ratio:.1f}× the bottom one; the middle rep "
                          f"{exact(p50)}",
            "finding_he": f"הנציג המוביל מוכר פי {ratio:.1f} מהנציג האחרון; הנציג החציוני "
                          f"{exact(p50)}"}


def run_diagnostic(backend: Any, *, as_of: date | None = None) -> dict[str, Any]:
    """Every section over the 12 months up to ``as_of`` (the last invoice day by default)."""
    if as_of is None:
        as_of = last_invoice_day(backend) or date.today()
    assert as_of is not None
    start = as_of - timedelta(days=364)
    return {
        "as_of": as_of.isoformat(), "from": start.isoformat(),
        "funnel": funnel(backend),
        "lead_sources": lead_sources(backend, start, as_of),
        "rep_spread": rep_spread(backend, start, as_of),
        "pricing": pricing(backend, start, as_of),
        "sales_cycle": cycle_lengths(backend, start, as_of),
        "crm_quality": crm_quality(backend, as_of),
    }
