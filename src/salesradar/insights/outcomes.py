"""The closed loop: what happened after each insight, measured from the data N days later.

An insight is judged once the data covers its window after its detection (the last invoice date,
or the last activity for leads, is at least ``detected_at + window``), holdout insights exactly
like delivered ones, so :func:`salesradar.insights.impact` compares like with like. The window is
the company's ``outcome_window_days`` when set, else 1.5 times the customer's own rhythm (30 to
120 days; 30 without a rhythm), so a quarterly buyer is not judged "not recovered" after a month:

- churn_risk, no_repeat_order, overdue_payments_at_risk: did the customer buy again, and for
  how much;
- stopped_item: did the customer buy that item again;
- cross_sell: did the customer buy the offered product;
- lead_not_contacted: was the lead contacted (any call, meeting or email), value 0.

Kinds about reps and periods (coverage, forecast, drops, margin, concentration, contacts) have no
single purchase that settles them and are left unmeasured.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from salesradar.app.settings import RHYTHM_WINDOW_DAYS, load_settings, outcome_window
from salesradar.insights.model import Kind
from salesradar.insights.store import InsightStore, StoredInsight

CUSTOMER_KINDS = {
    Kind.CHURN_RISK.value: False,  # kind -> the outcome is about one SKU
    Kind.NO_REPEAT_ORDER.value: False,
    Kind.OVERDUE_PAYMENTS_AT_RISK.value: False,
    Kind.STOPPED_ITEM.value: True,
    Kind.CROSS_SELL.value: True,
}

# Revenue of the customer (and SKU) in (detected, detected + days], from invoice lines
_PURCHASES = """
SELECT q.id, count(l.invoice_id) AS lines,
       coalesce(CAST(sum(l.net_revenue) AS DOUBLE), 0) AS revenue
FROM _salesradar_outcome_q q
LEFT JOIN invoice_lines l
  ON l.customer_id = q.customer_id AND (q.sku IS NULL OR l.sku = q.sku)
 AND l.invoice_date > q.start AND l.invoice_date <= q.stop AND l.net_revenue > 0
GROUP BY q.id
"""
_CONTACTS = """
SELECT q.id, count(a.activity_id) AS lines, 0.0 AS revenue
FROM _salesradar_outcome_q q
LEFT JOIN activities a
  ON a.lead_id = q.customer_id AND CAST(a."at" AS DATE) > q.start
 AND CAST(a."at" AS DATE) <= q.stop
GROUP BY q.id
"""


def _last(ws: Any, sql: str) -> dt.date | None:
    row = ws.con.execute(sql).fetchone()
    return row[0] if row and row[0] is not None else None


def _rhythm(insight: StoredInsight) -> float | None:
    """The purchase rhythm (days) the insight states: the customer's, or the stopped item's."""
    evidence = insight.evidence or {}
    gap = evidence.get("median_gap_days")
    if gap is None and evidence.get("items"):
        gap = (evidence["items"][0] or {}).get("median_gap")
    return float(gap) if isinstance(gap, int | float) else None


def measure_outcomes(ws: Any, store: InsightStore, *, days: int | None = None) -> dict[str, int]:
    """Record the outcome of every insight whose window has passed in the data: ``days``, else
    the company's setting (:func:`salesradar.app.settings.outcome_window`).

    Returns how many were judged recovered and not recovered.
    """
    company = load_settings(store.db)

    def window(insight: StoredInsight) -> dt.timedelta:
        return dt.timedelta(days if days is not None
                            else outcome_window(company, _rhythm(insight)))

    last_sale = _last(ws, "SELECT max(invoice_date) FROM invoice_lines")
    last_touch = _last(ws, 'SELECT max(CAST("at" AS DATE)) FROM activities')
    # only insights whose shortest possible window has passed in the data can be judged
    latest = max((d for d in (last_sale, last_touch) if d is not None), default=None)
    if latest is None:
        return {"recovered": 0, "not_recovered": 0}
    shortest = days if days is not None else (company.outcome_window_days
                                              or RHYTHM_WINDOW_DAYS[0])
    before = dt.datetime.combine(latest - dt.timedelta(days=shortest - 1), dt.time(),
                                 tzinfo=dt.UTC)
    pending = store.list_insights(outcome_pending_before=before)
    purchases: list[tuple[int, str, str | None, dt.date, dt.date]] = []
    contacts: list[tuple[int, str, str | None, dt.date, dt.date]] = []
    for insight in pending:
        start = insight.detected_at.date()
        stop = start + window(insight)
        if insight.kind in CUSTOMER_KINDS and last_sale and stop <= last_sale:
            customer, _, sku = insight.subject_id.partition("/")
            if insight.kind == Kind.STOPPED_ITEM.value and not sku:  # one card per customer
                sku = str(((insight.evidence or {}).get("items") or [{}])[0].get("sku") or "")
            purchases.append((insight.id, customer, sku or None, start, stop))
        elif (insight.kind == Kind.LEAD_NOT_CONTACTED.value and last_touch
              and stop <= last_touch):
            contacts.append((insight.id, insight.subject_id, None, start, stop))
    results: list[tuple[int, str, float]] = []
    for query, rows in ((_PURCHASES, purchases), (_CONTACTS, contacts)):
        if not rows:
            continue
        ids, subjects, skus, starts, stops = zip(*rows, strict=True)
        table = pa.table({
            "id": pa.array(ids, pa.int64()), "customer_id": pa.array(subjects, pa.string()),
            "sku": pa.array(skus, pa.string()), "start": pa.array(starts, pa.date32()),
            "stop": pa.array(stops, pa.date32()),
        })
        ws.con.register("_salesradar_outcome_q", table)
        try:
            found = ws.con.execute(query).fetchall()
        finally:
            ws.con.unregister("_salesradar_outcome_q")
        results += [(int(i), "recovered" if n else "not_recovered", float(v or 0.0))
                    for i, n, v in found]
    observed = dt.datetime.now(dt.UTC)
    store.record_outcomes(results, observed)
    recovered = sum(1 for _, outcome, _ in results if outcome == "recovered")
    return {"recovered": recovered, "not_recovered": len(results) - recovered}
