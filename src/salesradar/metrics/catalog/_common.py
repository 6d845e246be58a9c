"""Small Ibis helpers the catalogue's formulas share (portable across DuckDB, PostgreSQL, Spark)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis

from salesradar.metrics.frame import Query


def f64(value: Any) -> Any:
    """``value`` as float64 (ratios are computed in floating point on every engine)."""
    return value.cast("float64")


def lit(value: float) -> Any:
    """A float64 literal (PostgreSQL would otherwise make it NUMERIC)."""
    return ibis.literal(value, type="float64")


def ratio(numerator: Any, denominator: Any) -> Any:
    """``numerator ÷ denominator``, null when the denominator is 0 or null."""
    return f64(numerator) / f64(denominator).nullif(0)


def count_if(condition: Any) -> Any:
    """Number of rows where ``condition`` is true (nulls count as false)."""
    one = ibis.literal(1, type="int64")
    return ibis.ifelse(condition.fill_null(False), one, 0).sum()


def days_between(later: Any, earlier: Any) -> Any:
    """Days from ``earlier`` to ``later`` (dates or timestamps), as float64."""
    return f64(_epoch(later) - _epoch(earlier)) / 86400.0


def hours_between(later: Any, earlier: Any) -> Any:
    """Hours from ``earlier`` to ``later`` (dates or timestamps), as float64."""
    return f64(_epoch(later) - _epoch(earlier)) / 3600.0


def _epoch(value: Any) -> Any:
    if value.type().is_date():
        value = value.cast("timestamp")
    return value.epoch_seconds()


def unique(names: Iterable[str]) -> list[str]:
    """``names`` without repeats, in order."""
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def agg(t: Any, keys: list[str], **metrics: Any) -> Any:
    """``t`` grouped by ``keys`` (or not grouped when there are none) with ``metrics``."""
    if keys:
        return t.group_by(keys).aggregate(**metrics)
    return t.aggregate(**metrics)


def finish(q: Query, t: Any, value: Any) -> Any:
    """The builder result: the query's keys and ``value``."""
    return t.select(*q.keys, value=value)


def per_customer(q: Query, *, history: bool = False) -> Any:
    """Invoice lines summed per period, dimensions and customer: ``revenue`` per slice member."""
    t = q.fact("invoice_lines", history=history)
    return agg(t, unique([*q.keys, "customer_id"]), revenue=t.net_revenue.sum())
