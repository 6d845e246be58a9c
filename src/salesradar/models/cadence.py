"""A customer's rhythm and the money at stake in its own terms: one definition of each, used
everywhere.

Churn explanations, the health score, the insight texts, ``salesradar churned``, the customer
360, account plans and reports all say "orders every ~12 days; last order 41 days ago; ₪38k at
stake". Those numbers are defined here once:

- **purchase day**: a customer-day with positive gross sales (see
  :func:`salesradar.models.features.customer_days`); a credit note alone is not a purchase.
- **rhythm** (:func:`customer_rhythm`): the *median* number of days between consecutive
  purchase days, stated only with at least :data:`RHYTHM_MIN_DAYS` (3) purchase days; with
  fewer there is no rhythm (null) and the texts say what is true instead ("bought once",
  "bought twice, 41 days apart"). The median, not the mean: one long holiday break does not
  make a weekly buyer look like a monthly one.
- **days since the last order**: from the last purchase day to the "as of" date; the customer is
  *past its rhythm* only when this is longer than its rhythm.
- **longest pause** (``longest_gap_days``, with the rhythm): the longest of those gaps. A
  customer past its rhythm but not past its longest pause has been this quiet before and came
  back; on the public datasets such customers reorder as often as those within their rhythm
  (docs/model-quality.md), so no screen calls them drifting on that alone.
- **money at stake** (:func:`value_at_stake`, GLOSSARY.md): the customer's net revenue (sales
  minus cancellations and credit notes) of the lines dated in (last purchase day − 365 days,
  as of], floored at 0: what it bought in its last year of buying, net of everything it sent
  back since. Never scaled up from a short burst, never more than it bought in that year; for
  a customer that stopped, it is what it bought in the year before it stopped.

The churn model's *revenue at risk* (probability × the pace of the last 90 days) is a ranking
quantity of the backtest (see docs/model-quality.md); no screen shows it as money at stake.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from salesradar.models.features import customer_days, purchase_days, purchase_gaps

__all__ = [
    "RHYTHM_MIN_DAYS", "YEAR_DAYS", "customer_rhythm", "customer_terms", "purchase_gaps",
    "value_at_stake",
]

RHYTHM_MIN_DAYS = 3
YEAR_DAYS = 365


def _days_until(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """The customer-days (:func:`salesradar.models.features.customer_days`) on or before
    ``as_of``: what both the rhythm and the money at stake are computed from."""
    days = customer_days(lines)
    return days.filter(days.day <= ibis.date(as_of))


def customer_rhythm(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """The rhythm of every customer with a purchase day on or before ``as_of``.

    Returns
    -------
    ibis.expr.types.Table
        ``customer_id``, ``purchase_days``, ``first_order``, ``previous_order`` (the purchase
        day before the last; null with one), ``last_order`` (dates),
        ``last_order_sales`` (gross sales of the last purchase day),
        ``days_since_last_order``, ``typical_gap_days`` (median gap) and ``longest_gap_days``
        (the longest gap; both null with fewer than :data:`RHYTHM_MIN_DAYS` purchase days).
    """
    # each purchase day knows the one before it (purchase_days: one window, shared), so the
    # last day's predecessor and the gaps need no window of their own; days are unique per
    # customer, so "of the last day" is an arg_max over the day
    bought = purchase_days(lines)
    bought = bought.filter(bought.day <= ibis.date(as_of))
    last = bought.group_by("customer_id").aggregate(
        purchase_days=bought.count(),
        first_order=bought.day.min(),
        last_order=bought.day.max(),
        previous_order=bought.previous.argmax(bought.day),
        last_order_sales=bought.gross.argmax(bought.day),
    )
    gaps = bought.filter(bought.previous.notnull())
    gap = gaps.day.delta(gaps.previous, unit="day")
    typical = gaps.group_by("customer_id").aggregate(
        typical_gap_days=gap.median().cast("float64"), longest_gap_days=gap.max().cast("float64")
    )
    out = last.left_join(typical, "customer_id").drop("customer_id_right")
    return out.select(
        "customer_id",
        purchase_days=out.purchase_days.cast("int64"),
        first_order=out.first_order,
        previous_order=out.previous_order,
        last_order=out.last_order,
        last_order_sales=out.last_order_sales.cast("float64"),
        days_since_last_order=ibis.date(as_of).delta(out.last_order, unit="day").cast("int64"),
        typical_gap_days=ibis.ifelse(out.purchase_days >= RHYTHM_MIN_DAYS,
                                     out.typical_gap_days, ibis.null("float64")),
        longest_gap_days=ibis.ifelse(out.purchase_days >= RHYTHM_MIN_DAYS,
                                     out.longest_gap_days, ibis.null("float64")),
    )


def value_at_stake(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """``customer_id`` and ``value_at_stake`` (money at stake, see the module docstring) of
    every customer with a purchase day on or before ``as_of``, with ``year_sales`` and
    ``year_returns`` (gross sales and returns over the same lines) behind it."""
    days = _days_until(lines, as_of)
    bought = days.filter(days.purchase)
    last = bought.group_by("customer_id").aggregate(last_order=bought.day.max())
    year = days.join(last, "customer_id")
    year = year.filter(year.day > year.last_order - ibis.interval(days=YEAR_DAYS))
    # each day's amounts are its lines' exact decimal sums (as floats): summed back as decimals,
    # the total is exact and the same whatever order the engine's threads add in
    exact = "decimal(38, 6)"
    worth = year.group_by("customer_id").aggregate(
        revenue=year.revenue.cast(exact).sum(), sales=year.gross.cast(exact).sum(),
        returns=year.returns.cast(exact).sum(),
    )
    return worth.select(
        "customer_id",
        value_at_stake=ibis.greatest(worth.revenue.cast("float64"), 0.0).fill_null(0.0),
        year_sales=worth.sales.cast("float64"),
        year_returns=worth.returns.cast("float64"),
    )


def customer_terms(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """Rhythm and money at stake of every customer with a purchase day on or before
    ``as_of``: the columns of :func:`customer_rhythm` and of :func:`value_at_stake`.

    A caller that needs only one half calls it: the database computes both halves here.
    """
    rhythm = customer_rhythm(lines, as_of)
    worth = value_at_stake(lines, as_of)
    out = rhythm.left_join(worth, "customer_id").drop("customer_id_right")
    return out.mutate(value_at_stake=out.value_at_stake.fill_null(0.0))
