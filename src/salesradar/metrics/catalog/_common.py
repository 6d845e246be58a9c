"""Small Ibis helpers the catalogue's formulas share (portable across DuckDB, PostgreSQL, Spark)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

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


_Built = TypeVar("_Built")
_SHARED: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("_SHARED", default=None)


@contextmanager
def shared_subexpressions() -> Iterator[None]:
    """While open, each :func:`shared` builder returns one expression per argument set.

    KPIs computed together ask for the same intermediate tables (revenue per customer, trailing
    revenue, ...). Building each once saves building and compiling the same Ibis nodes again
    (a tenth of a second for the 16 transaction KPIs) and hands the engine one expression to
    share. Closed again when the block ends, so nothing outlives the request or its backend.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared(build: Callable[..., _Built]) -> Callable[..., _Built]:
    """Mark an intermediate-table builder ``build(q, **options)`` as shared (see above)."""
    @wraps(build)
    def once(q: Query, **options: Any) -> _Built:
        memo = _SHARED.get()
        if memo is None:
            return build(q, **options)
        key = (build.__qualname__, q, tuple(sorted(options.items())))
        if key not in memo:
            memo[key] = build(q, **options)
        result: _Built = memo[key]
        return result
    return once


def agg(t: Any, keys: list[str], **metrics: Any) -> Any:
    """``t`` grouped by ``keys`` (or not grouped when there are none) with ``metrics``."""
    if keys:
        return t.group_by(keys).aggregate(**metrics)
    return t.aggregate(**metrics)


def finish(q: Query, t: Any, value: Any) -> Any:
    """The builder result: the query's keys and ``value``."""
    return t.select(*q.keys, value=value)


@shared
def per_customer(q: Query, *, history: bool = False) -> Any:
    """Invoice lines summed per period, dimensions and customer: ``revenue`` per slice member.

    This one aggregate is what the customer KPIs share when they run together, so it must stay
    one expression. With ``q.sku_detail`` it is rolled up from :func:`per_sku` and also counts
    ``skus``, the SKUs with net revenue > 0.
    """
    keys = unique([*q.keys, "customer_id"])
    if q.sku_detail:
        s = per_sku(q, history=history)
        return agg(s, keys, revenue=s.revenue.sum(), skus=count_if(s.revenue > 0))
    t = line_columns(q, keys, history=history)
    return agg(t, keys, revenue=t.net_revenue.sum())


@shared
def per_sku(q: Query, *, history: bool = False) -> Any:
    """Invoice lines summed per period, dimensions, customer and SKU (returns net out)."""
    keys = unique([*q.keys, "customer_id", "sku"])
    t = line_columns(q, keys, history=history)
    return agg(t, keys, revenue=t.net_revenue.sum())


def line_columns(q: Query, keys: list[str], *, history: bool = False) -> Any:
    """Invoice lines narrowed to ``keys`` and ``net_revenue`` before they are grouped.

    The narrowing projection folds into the scan of each aggregate, so aggregates over the lines
    do not share (and the engine does not materialize) a copy of the whole fact table.
    """
    t = q.fact("invoice_lines", history=history)
    return t.select(*unique([*keys, "net_revenue"]))
