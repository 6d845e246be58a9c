"""Portfolio risk: concentration, credit, sudden churn, and one summary with the headlines.

* **Concentration** -- the shares of the trailing-12-month revenue held by the top 1, 3 and 5
  customers and the HHI (Σ share², 0..1), from the KPI registry (``concentration_top1/3/5``,
  ``hhi``), with the five largest customers listed; any single customer above ``threshold``
  (15% by default; 15-20% is usual) is flagged.
* **Credit** -- days sales outstanding (the registry's ``days_sales_outstanding`` over the
  payments received in the last twelve months) and what is overdue on ``as_of``: payments due
  before it and not paid by it, per customer, with the days of the oldest. It needs payments
  with due dates linked to invoices (their invoice ids are invoices of ``invoice_lines``);
  otherwise it is off, with the reason, and every credit number is None (never NaN).
* **Sudden churn** -- customers who still bought in the last :data:`RECENT_DAYS` days (so not
  long gone) but are now at least :data:`GAP_MULTIPLE` times past their own usual gap between
  orders (``score_churn``, written by ``salesradar score``); the revenue at stake is their
  money at stake (``value_at_stake``), largest first.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any

import ibis

from salesradar.accounts.common import customer_names, score_rows
from salesradar.metrics import plain_rows
from salesradar.performance.kpis import kpis_by
from salesradar.performance.text import money_text
from salesradar.workspace import WorkspaceStatus, data_day

THRESHOLD = 0.15
GAP_MULTIPLE = 3.0
RECENT_DAYS = 90


def _value(table: Any) -> float | None:
    rows = plain_rows(table)
    return rows[0]["value"] if rows else None


def concentration(ws: Any, *, as_of: dt.date | None = None,
                  threshold: float = THRESHOLD) -> dict[str, Any]:
    """Top-1/3/5 shares, HHI and the largest customers over the 12 months up to ``as_of``."""
    end = as_of or data_day(ws)
    start = end - dt.timedelta(days=364)
    names = ["concentration_top1", "concentration_top3", "concentration_top5", "hhi"]
    values = {n: _value(t) for n, t in kpis_by(ws.backend, names, (), None, start, end).items()}
    lines = ws.table("invoice_lines")
    day = lines.invoice_date
    t = lines.filter((day >= ibis.date(start)) & (day <= ibis.date(end)))
    per = t.group_by("customer_id").aggregate(revenue=t.net_revenue.sum().cast("float64"))
    total = float(t.net_revenue.sum().cast("float64").execute() or 0.0)
    top = plain_rows(per.order_by(ibis.desc("revenue")).limit(5).to_pyarrow())
    info = customer_names(ws, [r["customer_id"] for r in top])
    largest = [{"customer_id": r["customer_id"],
                "name": info.get(r["customer_id"], {}).get("name"),
                "revenue": r["revenue"], "share": r["revenue"] / total if total else None}
               for r in top]
    over = [c for c in largest if (c["share"] or 0.0) > threshold]
    return {"start": start.isoformat(), "end": end.isoformat(), "revenue": total,
            "top1": values["concentration_top1"], "top3": values["concentration_top3"],
            "top5": values["concentration_top5"], "hhi": values["hhi"],
            "threshold": threshold, "flag": bool(over), "over_threshold": over,
            "largest": largest}


def credit_off_reason(ws: Any) -> tuple[str, str] | None:
    """Why credit risk cannot be computed (English, Hebrew), or None when it can: it needs
    payments with due dates whose invoice ids are invoices of ``invoice_lines``."""
    pay = ws.table("payments")
    if not pay.count().execute():
        return ("off: no `payments` table", "כבוי: אין טבלת `payments` (תשלומים)")
    due = pay.filter(pay.due_date.notnull())
    if not due.count().execute():
        return ("off: the payments have no due dates",
                "כבוי: לתשלומים אין תאריכי פירעון")
    if not _linked(ws).count().execute():
        return ("off: the payments are not linked to invoices (none of their invoice ids is an "
                "invoice of `invoice_lines`)",
                "כבוי: התשלומים אינם מקושרים לחשבוניות (אף מספר חשבונית שלהם אינו חשבונית "
                "ב-`invoice_lines`)")
    return None


def with_credit_check(status: WorkspaceStatus, ws: Any) -> WorkspaceStatus:
    """``status`` with the credit-risk feature off (and why) when its payments hold rows but
    cannot be used (:func:`credit_off_reason`)."""
    features = []
    for f in status.features:
        if f.feature.name == "credit risk" and f.on:
            off = credit_off_reason(ws)
            if off is not None:
                f = replace(f, on=False, note=off[0])
        features.append(f)
    return replace(status, features=features)


def _linked(ws: Any) -> Any:
    """Payments with a due date whose invoice id is an invoice of ``invoice_lines``."""
    pay = ws.table("payments")
    lines = ws.table("invoice_lines")
    invoices = lines.select(_inv=lines.invoice_id).distinct()
    due = pay.filter(pay.due_date.notnull())
    return due.semi_join(invoices, due.invoice_id == invoices._inv)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def credit(ws: Any, *, as_of: dt.date | None = None, top: int = 10) -> dict[str, Any]:
    """DSO over the last 12 months and what is overdue on ``as_of``, per customer; off (with the
    reason in English and Hebrew, every number None) without payments that have due dates and
    are linked to invoices."""
    end = as_of or data_day(ws)
    off = credit_off_reason(ws)
    if off is not None:
        return {"as_of": end.isoformat(), "available": False, "reason_en": off[0],
                "reason_he": off[1], "dso_days": None, "overdue": None,
                "open_receivables": None, "overdue_share": None, "customers_overdue": None,
                "linked_share": None, "top": []}
    start = end - dt.timedelta(days=364)
    dso = _finite(_value(kpis_by(ws.backend, ["days_sales_outstanding"], (), None, start, end)[
        "days_sales_outstanding"]))
    pay = ws.table("payments")
    with_due = int(pay.filter(pay.due_date.notnull()).count().execute())
    linked = int(_linked(ws).count().execute())
    today = ibis.date(end)
    open_ = pay.filter((pay.due_date < today) & (pay.paid_date.isnull() | (pay.paid_date > today)))
    per = open_.group_by("customer_id").aggregate(
        overdue=open_.amount.sum().cast("float64"), invoices=open_.count(),
        oldest_due=open_.due_date.min())
    rows = plain_rows(per.order_by(ibis.desc("overdue")).to_pyarrow())
    info = customer_names(ws, [r["customer_id"] for r in rows[:top]])
    for r in rows[:top]:
        r["name"] = info.get(r["customer_id"], {}).get("name")
        r["days_overdue"] = (end - dt.date.fromisoformat(r["oldest_due"])).days
    receivable = pay.filter(pay.paid_date.isnull() | (pay.paid_date > today))
    receivable = receivable.filter(receivable.due_date.notnull())
    total_open = float(receivable.amount.sum().cast("float64").execute() or 0.0)
    overdue = sum(r["overdue"] for r in rows)
    return {"as_of": end.isoformat(), "available": True, "reason_en": None, "reason_he": None,
            "dso_days": dso, "overdue": overdue, "open_receivables": total_open,
            "overdue_share": overdue / total_open if total_open else None,
            "customers_overdue": len(rows), "linked_share": linked / with_due,
            "top": rows[:top]}


def sudden_churn(ws: Any, *, top: int = 10) -> dict[str, Any]:
    """Recently active customers suddenly far past their own rhythm (from score_churn)."""
    rows = score_rows(ws, "churn")
    if not rows:
        return {"available": False, "customers": 0, "revenue_at_stake": 0.0, "top": []}
    hits = [r for r in rows if (r["gap_ratio"] or 0.0) >= GAP_MULTIPLE
            and (r["days_since_last_order"] or 0.0) <= RECENT_DAYS]
    # the money at stake: the models' one definition (salesradar.models.cadence)
    stake = "value_at_stake"
    hits.sort(key=lambda r: -(r[stake] or 0.0))
    info = customer_names(ws, [r["customer_id"] for r in hits[:top]])
    out = [{"customer_id": r["customer_id"], "name": info.get(r["customer_id"], {}).get("name"),
            "days_since_last_order": r["days_since_last_order"],
            "median_gap_days": r["median_gap_days"], "gap_ratio": r["gap_ratio"],
            "revenue_at_stake": r[stake],
            "churn_probability": r["churn_probability"]} for r in hits[:top]]
    return {"available": True, "customers": len(hits),
            "revenue_at_stake": sum(r[stake] or 0.0 for r in hits), "top": out}


def portfolio_risk(ws: Any, *, as_of: dt.date | None = None,
                   threshold: float = THRESHOLD) -> dict[str, Any]:
    """Concentration, credit and sudden churn together, with headlines in English and Hebrew."""
    day = as_of or data_day(ws)
    conc = concentration(ws, as_of=day, threshold=threshold)
    cred = credit(ws, as_of=day)
    churn = sudden_churn(ws)
    en: list[str] = []
    he: list[str] = []
    for c in conc["over_threshold"]:
        share = f"{100 * c['share']:.0f}%"
        en.append(f"{c['name'] or c['customer_id']} is {share} of the last 12 months of revenue "
                  f"(above {100 * threshold:.0f}%)")
        he.append(f"{c['name'] or c['customer_id']} מהווה {share} מהכנסות 12 החודשים האחרונים "
                  f"(מעל {100 * threshold:.0f}%)")
    if conc["top5"] is not None:
        en.append(f"top 5 customers hold {100 * conc['top5']:.0f}% of revenue; HHI "
                  f"{conc['hhi']:.3f}")
        he.append(f"5 הלקוחות הגדולים מחזיקים {100 * conc['top5']:.0f}% מההכנסות; HHI "
                  f"{conc['hhi']:.3f}")
    if not cred["available"]:
        en.append(f"credit risk {cred['reason_en']}")
        he.append(f"סיכון אשראי {cred['reason_he']}")
    elif cred["overdue"] > 0:
        en.append(f"{money_text(cred['overdue'])} overdue at {cred['customers_overdue']} "
                  "customers")
        he.append(f"{money_text(cred['overdue'], 'he')} בפיגור אצל {cred['customers_overdue']} "
                  "לקוחות")
    if churn["customers"]:
        en.append(f"{churn['customers']} recently active customers suddenly far past their "
                  f"rhythm; {money_text(churn['revenue_at_stake'])} at stake (their net "
                  "purchases in the year to their last order)")
        he.append(f"{churn['customers']} לקוחות שקנו לאחרונה חרגו פתאום מקצב הקנייה שלהם; "
                  f"{money_text(churn['revenue_at_stake'], 'he')} על הכף (רכישותיהם נטו "
                  "בשנה שעד ההזמנה האחרונה)")
    return {"as_of": day.isoformat(), "concentration": conc, "credit": cred,
            "sudden_churn": churn, "headlines_en": en, "headlines_he": he}
