"""What the account-management features share: periods, customer names, tiers, sums per customer.

Sums per customer are Ibis aggregations run in the engine; only the per-customer results (one row
per customer) come back to Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics import plain_rows
from salesradar.models.labels import HANDLING, TIER_NAMES
from salesradar.models.scoring import SCORE_TABLES
from salesradar.models.tiers import assign_tiers

TIER_LABELS = {t: (f"{t} · {TIER_NAMES['en'][t]}", f"{t} · {TIER_NAMES['he'][t]}")
               for t in "ABCD"}
HANDLING_HE = HANDLING["he"]


def customer_names(ws: Any, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """``customer_id -> {name, rep_id, segment, ...}`` from the customers master."""
    t = ws.table("customers")
    if ids is not None:
        t = t.filter(t.customer_id.isin(ids))
    return {r["customer_id"]: r for r in plain_rows(t.to_pyarrow())}


def sales_by_customer(ws: Any, start: dt.date, end: dt.date,
                      customers: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Revenue, cost (0 when missing), gross profit and SKUs per customer in ``[start, end]``."""
    lines = ws.table("invoice_lines")
    day = lines.invoice_date.cast("date")
    t = lines.filter((day >= ibis.date(start)) & (day <= ibis.date(end)))
    if customers is not None:
        t = t.filter(t.customer_id.isin(customers))
    out = t.group_by("customer_id").aggregate(
        revenue=t.net_revenue.sum().cast("float64"),
        cost=t.cost.sum().cast("float64").fill_null(0.0),
        skus=t.sku.nunique(),
    )
    out = out.mutate(gross_profit=out.revenue - out.cost)
    return {r["customer_id"]: r for r in plain_rows(out.to_pyarrow())}


def cost_to_serve_by_customer(ws: Any, start: dt.date, end: dt.date) -> dict[str, dict[str, float]]:
    """``customer_id -> {kind: amount, ..., "total": amount}`` of cost to serve in the window."""
    cts = ws.table("cost_to_serve")
    t = cts.filter((cts.period >= ibis.date(start)) & (cts.period <= ibis.date(end)))
    by_kind = t.group_by(["customer_id", "kind"]).aggregate(amount=t.amount.sum().cast("float64"))
    out: dict[str, dict[str, float]] = {}
    for row in plain_rows(by_kind.to_pyarrow()):
        costs = out.setdefault(row["customer_id"], {"total": 0.0})
        costs[row["kind"]] = costs.get(row["kind"], 0.0) + row["amount"]
        costs["total"] += row["amount"]
    return out


def tiers_as_of(ws: Any, as_of: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """ABCD tier rows per customer: the stored ``score_tiers`` when no date is asked for (what
    ``salesradar score`` wrote), else the tiers computed as of that date."""
    if as_of is None and SCORE_TABLES["tiers"] in table_names(ws.backend):
        table: pa.Table = ws.table(SCORE_TABLES["tiers"]).to_pyarrow()
    else:
        table = assign_tiers(ws, as_of)
    return {r["customer_id"]: r for r in plain_rows(table)}


def score_rows(ws: Any, name: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    """Rows of a ``score_*`` table (empty when ``salesradar score`` has not run)."""
    table = SCORE_TABLES[name]
    if table not in table_names(ws.backend):
        return []
    t = ws.table(table)
    if customer_id is not None:
        t = t.filter(t.customer_id == customer_id)
    return plain_rows(t.to_pyarrow())


def require_customer(ws: Any, customer_id: str) -> None:
    """Raise a clear error when the customer has neither a master row nor invoice lines."""
    lines = ws.table("invoice_lines")
    cust = ws.table("customers")
    found = (lines.filter(lines.customer_id == customer_id).count().execute()
             + cust.filter(cust.customer_id == customer_id).count().execute())
    if not found:
        raise UserInputError(f"unknown customer {customer_id!r}: it has no master row and no "
                             "invoice lines in this workspace")
