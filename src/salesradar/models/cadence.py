"""A customer's rhythm and worth in its own terms: one definition of each, used everywhere.

Churn explanations, the health score, the insight texts and ``salesradar customer`` all say
"orders every ~12 days; last order 41 days ago; ₪38k a quarter at stake". Those three numbers
are defined here once:

- **typical gap** (:func:`purchase_gaps`, :func:`customer_terms`): the *median* number of days
  between consecutive purchase days (a purchase day is a customer-day with positive gross
  sales, see :func:`salesradar.models.features.customer_days`). The median, not the mean: one
  long holiday break does not make a weekly buyer look like a monthly one. Undefined (null)
  with fewer than two purchase days.
- **days since the last order**: from the last purchase day to the "as of" date.
- **value at stake per quarter** (:data:`QUARTER_DAYS`): the customer's usual quarterly
  revenue, i.e. its net revenue in the 365 days up to and including its last purchase day,
  per 91 days of the span from its first purchase day in that year to the last (at least one
  quarter), never negative. Anchored at the last order, so a customer that stopped ordering
  is still valued at what it used to buy, and a one-off order counts as one quarter's worth.

The churn model's *revenue at risk* is a different quantity with its own name: the churn
probability times the revenue of the last 90 days scaled to the horizon (the current pace,
which ranks next quarter's lost revenue best, see docs/model-quality.md).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from salesradar.models.features import customer_days, purchase_gaps

__all__ = ["QUARTER_DAYS", "customer_terms", "purchase_gaps"]

QUARTER_DAYS = 91


def customer_terms(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """Rhythm and worth of every customer with a purchase day on or before ``as_of``.

    Returns
    -------
    ibis.expr.types.Table
        ``customer_id``, ``purchase_days``, ``last_order`` (date), ``days_since_last_order``,
        ``typical_gap_days`` (median gap, null with one purchase day) and
        ``quarterly_value`` (value at stake per quarter, see the module docstring).
    """
    days = customer_days(lines)
    days = days.filter(days.day <= ibis.date(as_of))
    bought = days.filter(days.purchase)
    last = bought.group_by("customer_id").aggregate(
        purchase_days=bought.count(), last_order=bought.day.max()
    )
    gaps = purchase_gaps(bought)
    typical = gaps.group_by("customer_id").aggregate(
        typical_gap_days=gaps.gap.median().cast("float64")
    )
    year = days.join(last, "customer_id")
    year = year.filter(
        (year.day <= year.last_order) & (year.day > year.last_order - ibis.interval(days=365))
    )
    worth = year.group_by("customer_id").aggregate(
        revenue=year.revenue.sum(),
        first_in_year=year.day.min(where=year.purchase),
        last_order=year.last_order.max(),
    )
    span = worth.last_order.delta(worth.first_in_year, unit="day").cast("float64") + 1.0
    worth = worth.select(
        "customer_id",
        quarterly_value=ibis.greatest(
            worth.revenue.cast("float64") * QUARTER_DAYS / ibis.greatest(span, QUARTER_DAYS),
            0.0,
        ),
    )
    out = last.left_join(typical, "customer_id").drop("customer_id_right")
    out = out.left_join(worth, "customer_id").drop("customer_id_right")
    return out.select(
        "customer_id",
        purchase_days=out.purchase_days.cast("int64"),
        last_order=out.last_order,
        days_since_last_order=ibis.date(as_of).delta(out.last_order, unit="day").cast("int64"),
        typical_gap_days=out.typical_gap_days,
        quarterly_value=out.quarterly_value.fill_null(0.0),
    )
