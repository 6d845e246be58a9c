"""Per-customer purchase summary (frequency, recency, T, monetary) from invoice lines, in Ibis."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir

from salesradar.errors import UserInputError

__all__ = ["purchase_summary"]

_DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}
_REQUIRED = ("customer_id", "invoice_date", "net_revenue")


def purchase_summary(
    lines: ir.Table,
    cutoff: dt.date,
    *,
    time_unit: Literal["days", "weeks"] = "days",
) -> ir.Table:
    """Summarize invoice lines into the per-customer inputs of the purchase models.

    A purchase is a *customer-day*: all lines of one customer on one date count once. A day whose
    net revenue is negative (credit notes only) is not a purchase; a zero-revenue day (free
    goods) is, as in the CDNOW data the models were published on.
    Lines after ``cutoff`` are ignored; customers whose first purchase is after it are absent.
    Everything is an Ibis expression, executed by the table's backend (no Python loop).

    Parameters
    ----------
    lines
        Invoice lines with columns ``customer_id``, ``invoice_date`` (date or timestamp),
        ``net_revenue`` and optionally ``cost``.
    cutoff
        Last day of the observation period (inclusive).
    time_unit
        ``"days"`` or ``"weeks"`` (days / 7) for ``recency`` and ``T``.

    Returns
    -------
    ibis.expr.types.Table
        One row per customer: ``customer_id``; ``frequency`` (purchase days minus one);
        ``recency`` (first to last purchase day); ``T`` (first purchase day to ``cutoff``);
        ``monetary`` (mean net revenue of the repeat purchase days, 0 without repeats); and,
        when ``cost`` is given, ``margin_rate`` (gross profit / net revenue over all purchase
        days, null when revenue is 0).

    Examples
    --------
    With ``lines`` an Ibis table of invoice lines (any backend)::

        summary = purchase_summary(lines, dt.date(2026, 9, 30)).to_pyarrow()
        model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    """
    missing = [c for c in _REQUIRED if c not in lines.columns]
    if missing:
        raise UserInputError(
            f"invoice lines lack column(s) {', '.join(missing)}; "
            f"need {', '.join(_REQUIRED)} and optionally cost"
        )
    if time_unit not in _DAYS_PER_UNIT:
        raise UserInputError(f"time_unit must be 'days' or 'weeks', got {time_unit!r}")
    days_per_unit = _DAYS_PER_UNIT[time_unit]
    has_cost = "cost" in lines.columns

    date = lines.invoice_date
    day = date.date() if date.type().is_timestamp() else date.cast("date")
    values = {"revenue": lines.net_revenue.sum()}  # exact decimals until the totals
    if has_cost:
        values["cost"] = lines.cost.sum()
    customer_days = (
        lines.mutate(day=day)
        .filter(ibis._.day <= ibis.date(cutoff))
        .group_by(["customer_id", "day"])
        .aggregate(**values)
        .filter(ibis._.revenue >= 0)
    )
    customer_days = customer_days.mutate(
        first_day=customer_days.day.min().over(group_by=customer_days.customer_id)
    )
    repeat = customer_days.day > customer_days.first_day
    totals = {
        "first_day": customer_days.first_day.min(),
        "last_day": customer_days.day.max(),
        "n_days": customer_days.count(),
        "repeat_revenue": customer_days.revenue.sum(where=repeat).cast("float64"),
    }
    if has_cost:
        totals["revenue"] = customer_days.revenue.sum().cast("float64")
        totals["cost"] = customer_days.cost.sum().cast("float64")
    per_customer = customer_days.group_by("customer_id").aggregate(**totals)

    frequency = (per_customer.n_days - 1).cast("int64")
    columns = {
        "customer_id": per_customer.customer_id,
        "frequency": frequency,
        "recency": per_customer.last_day.delta(per_customer.first_day, unit="day").cast("float64")
        / days_per_unit,
        "T": ibis.date(cutoff).delta(per_customer.first_day, unit="day").cast("float64")
        / days_per_unit,
        "monetary": ibis.ifelse(
            frequency > 0, per_customer.repeat_revenue / frequency.cast("float64"), 0.0
        ),
    }
    if has_cost:
        columns["margin_rate"] = ibis.ifelse(
            per_customer.revenue != 0,
            (per_customer.revenue - per_customer.cost) / per_customer.revenue,
            ibis.null("float64"),
        )
    return per_customer.select(**columns).order_by("customer_id")
