"""Customer profitability after cost to serve, "expensive to serve" customers, and a pricing check.

Per customer over a window (default: the twelve months up to the last invoice):

* ``revenue``, ``gross_profit`` (revenue − direct cost of the lines) and ``cost_to_serve`` come
  from the KPI registry (``revenue``, ``gross_profit``, ``cost_to_serve`` by customer), and
  ``profit`` = gross profit − cost to serve (the registry's ``customer_profitability``);
* cost to serve is also split by kind (service, logistics, sales, credit, support, custom);
* ``cts_share`` = cost to serve ÷ revenue. A customer is **expensive to serve** when its share is
  at least :data:`EXPENSIVE` (2) times the company's (total cost to serve ÷ total revenue);
* ``discount`` = 1 − revenue ÷ (quantity × list price) over its lines whose SKU has a list price:
  what it pays below list. The **pricing check** flags ``discount_without_volume`` (a discount
  above the median while its revenue is below the median: a big discount without the volume that
  earns it) and ``price_ignores_cost`` (a discount above the median while its cost to serve share
  is above the median, or a loss after cost to serve with any discount: the price does not
  reflect what the customer costs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from salesradar.accounts.common import cost_to_serve_by_customer, customer_names
from salesradar.metrics import plain_rows
from salesradar.models.text import as_floats
from salesradar.performance.kpis import kpis_by
from salesradar.workspace import data_day

EXPENSIVE = 2.0
KINDS = ("service", "logistics", "sales", "credit", "support", "custom")
FLAG_TEXT = {
    "expensive_to_serve": ("expensive to serve", "יקר לשירות"),
    "discount_without_volume": ("discount without the volume", "הנחה בלי נפח שמצדיק אותה"),
    "price_ignores_cost": ("price does not reflect its cost to serve",
                           "המחיר לא משקף את עלות השירות"),
}


def _column(table: pa.Table) -> dict[str, float]:
    return {r["customer_id"]: r["value"] for r in plain_rows(table.select(["customer_id",
                                                                           "value"]))}


def _discounts(ws: Any, start: dt.date, end: dt.date) -> dict[str, float | None]:
    lines = ws.table("invoice_lines")
    products = ws.table("products").select("sku", "list_price")
    day = lines.invoice_date
    t = lines.filter((day >= ibis.date(start)) & (day <= ibis.date(end)))
    t = t.inner_join(products, t.sku == products.sku)
    t = t.filter(t.list_price.notnull() & (t.list_price > 0))
    list_value = (t.quantity.cast("float64") * t.list_price.cast("float64"))
    out = t.group_by("customer_id").aggregate(
        paid=t.net_revenue.sum().cast("float64"), listed=list_value.sum())
    out = out.mutate(discount=1 - out.paid / out.listed.nullif(0))
    return {r["customer_id"]: r["discount"] for r in plain_rows(
        out.select("customer_id", "discount").to_pyarrow())}


def customer_profitability(
    ws: Any, *, start: dt.date | None = None, end: dt.date | None = None,
) -> dict[str, Any]:
    """Profit after cost to serve per customer with the flags of the module docstring.

    Returns ``{start, end, company: {revenue, gross_profit, cost_to_serve, profit, cts_share,
    median_discount, median_cts_share, median_revenue}, customers: [...]}`` with customers from
    the lowest profit up, each ``customer_id, name, rep_id, revenue, gross_profit,
    cost_to_serve, <one amount per kind>, profit, margin, cts_share, discount, flags, flags_en,
    flags_he``.
    """
    end = end or data_day(ws)
    start = start or end - dt.timedelta(days=364)
    kpis = kpis_by(ws.backend, ["revenue", "gross_profit", "cost_to_serve"], ("customer",),
                   None, start, end)
    revenue = _column(kpis["revenue"])
    gross = _column(kpis["gross_profit"])
    cts_total = _column(kpis["cost_to_serve"])
    kinds = cost_to_serve_by_customer(ws, start, end)
    discounts = _discounts(ws, start, end)
    ids = sorted(set(revenue) | set(cts_total))
    names = customer_names(ws)
    rev = np.array([revenue.get(c) or 0.0 for c in ids], dtype=float)
    gp = np.array([gross.get(c) or 0.0 for c in ids], dtype=float)
    cts = np.array([cts_total.get(c) or 0.0 for c in ids], dtype=float)
    disc = as_floats(pa.array([discounts.get(c) for c in ids], type=pa.float64()))
    profit = gp - cts
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(rev > 0, cts / rev, np.where(cts > 0, np.inf, 0.0))
        margin = np.where(rev > 0, gp / rev, np.nan)
    company_share = float(cts.sum() / rev.sum()) if rev.sum() > 0 else 0.0
    selling = rev > 0
    med_disc = float(np.nanmedian(disc)) if np.isfinite(disc).any() else float("nan")
    med_share = float(np.median(share[selling])) if selling.any() else 0.0
    med_rev = float(np.median(rev[selling])) if selling.any() else 0.0
    big_discount = np.nan_to_num(disc, nan=-np.inf) > med_disc
    flags = {
        "expensive_to_serve": (share >= EXPENSIVE * company_share) & (cts > 0),
        "discount_without_volume": big_discount & selling & (rev < med_rev),
        "price_ignores_cost": (big_discount & (share > med_share))
        | ((profit < 0) & (np.nan_to_num(disc) > 0)),
    }
    order = np.argsort(profit, kind="stable")
    rows = []
    for i in order:  # one row per customer (already aggregated)
        c = ids[i]
        f = [name for name, mask in flags.items() if mask[i]]
        rows.append({
            "customer_id": c, "name": names.get(c, {}).get("name"),
            "rep_id": names.get(c, {}).get("rep_id"), "revenue": float(rev[i]),
            "gross_profit": float(gp[i]), "cost_to_serve": float(cts[i]),
            **{kind: kinds.get(c, {}).get(kind, 0.0) for kind in KINDS},
            "profit": float(profit[i]),
            "margin": None if np.isnan(margin[i]) else float(margin[i]),
            "cts_share": None if not np.isfinite(share[i]) else float(share[i]),
            "discount": None if np.isnan(disc[i]) else float(disc[i]),
            "flags": f, "flags_en": "; ".join(FLAG_TEXT[x][0] for x in f),
            "flags_he": "; ".join(FLAG_TEXT[x][1] for x in f),
        })
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "company": {
            "revenue": float(rev.sum()), "gross_profit": float(gp.sum()),
            "cost_to_serve": float(cts.sum()), "profit": float(profit.sum()),
            "cts_share": company_share,
            "median_discount": None if np.isnan(med_disc) else med_disc,
            "median_cts_share": med_share, "median_revenue": med_rev,
            "loss_making": int((profit < 0).sum()),
            **{f"{name}_count": int(mask.sum()) for name, mask in flags.items()},
        },
        "customers": rows,
    }
