"""A customer's rhythm and worth in its own terms: one definition of each, used everywhere.

Churn explanations, the health score, the insight texts and ``salesradar customer`` all say
"orders every ~12 days; last order 41 days ago; ₪38k a quarter at stake". Those three numbers
are defined here once:

- **typical gap** (:func:`purchase_gaps`, :func:`customer_rhythm`): the *median* number of days
  between consecutive purchase days (a purchase day is a customer-day with positive gross
  sales, see :func:`salesradar.models.features.customer_days`). The median, not the mean: one
  long holiday break does not make a weekly buyer look like a monthly one. Undefined (null)
  with fewer than two purchase days.
- **days since the last order**: from the last purchase day to the "as of" date.
- **value at stake per quarter** (:func:`quarterly_value`, :data:`QUARTER_DAYS`): the
  customer's usual quarterly revenue, i.e. its net revenue in the 365 days up to and including
  its last purchase day, per 91 days of the span from its first purchase day in that year to the
  last (at least one quarter), never negative. Anchored at the last order, so a customer that
  stopped ordering is still valued at what it used to buy, and a one-off order counts as one
  quarter's worth.

The churn model's *revenue at risk* is a different quantity with its own name: the churn
probability times the revenue of the last 90 days scaled to the horizon (the current pace,
which ranks next quarter's lost revenue best, see docs/model-quality.md).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from salesradar.models.features import customer_days, purchase_gaps

__all__ = [
    "QUARTER_DAYS", "customer_rhythm", "customer_terms", "purchase_gaps", "quarterly_value",
]

QUARTER_DAYS = 91


def _days_until(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """The customer-days (:func:`salesradar.models.features.customer_days`) on or before
    ``as_of``: what both the rhythm and the value at stake are computed from."""
    days = customer_days(lines)
    return days.filter(days.day <= ibis.date(as_of))


def _last_orders(days: ir.Table) -> ir.Table:
    """``customer_id``, ``purchase_days`` and ``last_order`` of every customer with a purchase
    day among ``days``."""
    bought = days.filter(days.purchase)
    return bought.group_by("customer_id").aggregate(
        purchase_days=bought.count(), last_order=bought.day.max()
    )


def customer_rhythm(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """The rhythm of every customer with a purchase day on or before ``as_of``.

    Returns
    -------
    ibis.expr.types.Table
        ``customer_id``, ``purchase_days``, ``last_order`` (date), ``days_since_last_order`` and
        ``typical_gap_days`` (median gap, null with one purchase day).
    """
    days = _days_until(lines, as_of)
    last = _last_orders(days)
    gaps = purchase_gaps(days.filter(days.purchase))
    typical = gaps.group_by("customer_id").aggregate(
        typical_gap_days=gaps.gap.median().cast("float64")
    )
    out = last.left_join(typical, "customer_id").drop("customer_id_right")
    return out.select(
        "customer_id",
        purchase_days=out.purchase_days.cast("int64"),
        last_order=out.last_order,
        days_since_last_order=ibis.date(as_of).delta(out.last_order, unit="day").cast("int64"),
        typical_gap_days=out.typical_gap_days,
    )


def quarterly_value(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """``customer_id`` and ``quarterly_value`` (value at stake per quarter, see the module
    docstring) of every customer with a purchase day on or before ``as_of``."""
    days = _days_until(lines, as_of)
    last = _last_orders(days).select("customer_id", "last_order")
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
    value = ibis.greatest(
        worth.revenue.cast("float64") * QUARTER_DAYS / ibis.greatest(span, QUARTER_DAYS), 0.0
    )
    return worth.select("customer_id", quarterly_value=value.fill_null(0.0))


def customer_terms(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """Rhythm and worth of every customer with a purchase day on or before ``as_of``: the
    columns of :func:`customer_rhythm` and ``quarterly_value`` (:func:`quarterly_value`).

    A caller that needs only one half calls it: the database computes both halves here.
    """
    rhythm = customer_rhythm(lines, as_of)
    worth = quarterly_value(lines, as_of)
    out = rhythm.left_join(worth, "customer_id").drop("customer_id_right")
    return out.mutate(quarterly_value=out.quarterly_value.fill_null(0.0))
