"""Profitability and account KPIs: cost to serve, customer profitability, share of wallet, DSO.

* **Customer profitability** = gross profit (net revenue − cost over the invoice lines that have
  a cost) − cost to serve (all kinds), each in the period of its own date (invoice date; the
  ``period`` column of ``cost_to_serve``); unknown where the lines with a cost hold less than
  95% of the revenue (a missing cost is not a cost of 0).
* **Share of wallet** in ``p`` = the customers' trailing-12-month revenue (as in concentration)
  ÷ their annual ``potential``; only customers with a known potential count on either side.
* **Days sales outstanding** in ``p`` = the amount-weighted mean number of days from invoice date
  (the earliest invoice line of the invoice) to payment, over the payments received in ``p``.
"""

from __future__ import annotations

from typing import Any

import ibis

from salesradar.metrics.catalog._common import (
    agg,
    days_between,
    f64,
    finish,
    lit,
    ratio,
)
from salesradar.metrics.catalog.customers import trailing_revenue
from salesradar.metrics.catalog.sales import MIN_COST_COVERAGE
from salesradar.metrics.frame import CUSTOMER_DIMS, Query
from salesradar.metrics.registry import ALL_PERIODS, Kind, Kpi, Unit

MONEY = "decimal(18, 4)"


def _profitability(q: Query) -> Any:
    """Gross profit of the lines with a cost − cost to serve; unknown (null) where the lines
    with a cost hold less than :data:`~.sales.MIN_COST_COVERAGE` of revenue."""
    lines = q.fact("invoice_lines")
    costed = lines.cost.notnull()
    gp = lines.select(
        *q.keys,
        amount=ibis.ifelse(costed, lines.net_revenue - lines.cost, 0).cast(MONEY),
        abs_revenue=f64(lines.net_revenue.abs()),
        abs_costed=ibis.ifelse(costed, f64(lines.net_revenue.abs()), lit(0.0)),
    )
    cts = q.fact("cost_to_serve")
    cost = cts.select(*q.keys, amount=(-cts.amount).cast(MONEY), abs_revenue=lit(0.0),
                      abs_costed=lit(0.0))
    both = gp.union(cost)
    out = agg(both, q.keys, value=both.amount.sum(), abs_revenue=both.abs_revenue.sum(),
              abs_costed=both.abs_costed.sum())
    known = (out.abs_revenue == 0) | (ratio(out.abs_costed, out.abs_revenue)
                                      >= MIN_COST_COVERAGE)
    return finish(q, out, ibis.ifelse(known.fill_null(False), out.value,
                                      ibis.null(out.value.type())))


def _share_of_wallet(q: Query) -> Any:
    rev = trailing_revenue(q)
    cust = q.table("customers")
    cust = cust.select(_c=cust.customer_id, _potential=cust.potential)
    j = rev.inner_join(cust, rev.customer_id == cust._c)
    j = j.filter(j._potential.notnull())
    out = agg(j, q.keys, revenue=j.revenue.sum(), potential=j._potential.sum())
    return finish(q, out, ratio(out.revenue, out.potential))


def _dso(q: Query) -> Any:
    pay = q.fact("payments")
    pay = pay.filter(pay.paid_date.notnull())
    lines = q.table("invoice_lines")
    issued = lines.group_by("invoice_id").aggregate(_issued=lines.invoice_date.min())
    issued = issued.select(_inv="invoice_id", _issued="_issued")
    j = pay.inner_join(issued, pay.invoice_id == issued._inv)
    j = j.mutate(_amt=f64(j.amount), _days=days_between(j.paid_date, j._issued))
    out = agg(j, q.keys, weighted=(j._amt * j._days).sum(), amount=j._amt.sum())
    return finish(q, out, ratio(out.weighted, out.amount))


def _kpi(name: str, en: str, he: str, den: str, dhe: str, unit: Unit, **kw: Any) -> Kpi:
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               kw.pop("tables"), kw.pop("dimensions", CUSTOMER_DIMS),
               kw.pop("periods", ALL_PERIODS), theme="profitability", **kw)


KPIS: tuple[Kpi, ...] = (
    _kpi(
        "cost_to_serve", "Cost to serve", "עלות שירות",
        "Sum of cost-to-serve amounts of all kinds.",
        "סכום עלויות השירות מכל הסוגים.",
        Unit.MONEY, higher_is_better=False, tables=("cost_to_serve",),
        source="cost_to_serve",
        measures={"amount": lambda t: t.amount.sum()},
        formula=lambda m: m.amount,
    ),
    _kpi(
        "customer_profitability", "Customer profitability", "רווחיות לקוח",
        "Gross profit (over the lines with a cost) minus cost to serve; unknown below 95% "
        "cost coverage.",
        "רווח גולמי (על השורות שיש להן עלות) פחות עלות השירות; לא ידוע מתחת ל-95% כיסוי עלות.",
        Unit.MONEY, tables=("invoice_lines", "cost_to_serve"),
        kind=Kind.DERIVED, build=_profitability,
    ),
    _kpi(
        "share_of_wallet", "Share of wallet", "נתח ארנק",
        "Trailing-12-month revenue ÷ annual customer potential.",
        "הכנסות 12 החודשים האחרונים חלקי הפוטנציאל השנתי של הלקוח.",
        Unit.PERCENT, tables=("invoice_lines", "customers"),
        kind=Kind.DERIVED, build=_share_of_wallet,
    ),
    _kpi(
        "days_sales_outstanding", "Days sales outstanding", "ימי אשראי לקוחות",
        "Amount-weighted mean days from invoice to payment, for payments received in the period.",
        "ממוצע משוקלל בסכום של הימים מהחשבונית ועד התשלום, לתשלומים שהתקבלו בתקופה.",
        Unit.DAYS, higher_is_better=False, tables=("payments", "invoice_lines"),
        kind=Kind.DERIVED, build=_dso,
    ),
)
