"""Periods, dimensions and fact tables: what every KPI formula is grouped by.

Dimensions come from joins. A fact table (a :class:`Source`) names the columns that play the roles
``rep``, ``customer``, ``sku``, ``channel`` and ``source``; a :class:`Dimension` either is such a
column (``rep`` -> ``rep_id``) or is looked up through it (``team`` = ``reps.team`` through the rep,
``category`` = ``products.category`` through the SKU, ``region`` = ``customers.region`` through the
customer). Periods truncate the fact table's date column to the requested grain.

>>> DIMENSIONS["team"].lookup
('reps', 'rep_id', 'team')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis

from salesradar.errors import UserInputError
from salesradar.metrics import fiscal
from salesradar.metrics.registry import GRAINS, Grain


@dataclass(frozen=True)
class Dimension:
    """A way to split a KPI: the output column and how it is reached from a fact table."""

    name: str
    column: str  # output column name, e.g. rep_id
    key: str  # role of the fact-table column it is reached through
    lookup: tuple[str, str, str] | None = None  # (table, key column, value column)


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("rep", "rep_id", "rep"),
        Dimension("team", "team", "rep", ("reps", "rep_id", "team")),
        Dimension("manager", "manager_id", "rep", ("reps", "rep_id", "manager_id")),
        Dimension("channel", "channel", "channel"),
        Dimension("customer", "customer_id", "customer"),
        Dimension("region", "region", "customer", ("customers", "customer_id", "region")),
        Dimension("segment", "segment", "customer", ("customers", "customer_id", "segment")),
        Dimension("industry", "industry", "customer", ("customers", "customer_id", "industry")),
        Dimension("product", "sku", "sku"),
        Dimension("category", "category", "sku", ("products", "sku", "category")),
        Dimension("source", "source", "source"),
        Dimension("stage", "stage", "stage"),
        Dimension("pipeline", "pipeline", "pipeline"),
    )
}
COMPANY = "company"  # the dimension that means "no split"

REP_DIMS = ("rep", "team", "manager")
CUSTOMER_DIMS = ("customer", "region", "segment", "industry")
LINE_DIMS = (*REP_DIMS, "channel", *CUSTOMER_DIMS, "product", "category")


@dataclass(frozen=True)
class Source:
    """A fact table: its date column and which of its columns play which dimension role."""

    table: str
    date_column: str
    keys: Mapping[str, str] = field(default_factory=dict)
    timestamp: bool = False


SOURCES: dict[str, Source] = {
    s.table: s
    for s in (
        Source("invoice_lines", "invoice_date",
               {"rep": "rep_id", "customer": "customer_id", "sku": "sku", "channel": "channel"}),
        Source("deals", "close_date", {"rep": "owner_rep_id", "customer": "customer_id"}),
        Source("leads", "created_at", {"rep": "owner_rep_id", "source": "source",
                                       "customer": "customer_id"}, timestamp=True),
        Source("activities", "at", {"rep": "rep_id", "customer": "customer_id"}, timestamp=True),
        Source("cost_to_serve", "period", {"customer": "customer_id"}),
        Source("payments", "paid_date", {"customer": "customer_id"}),
        Source("targets", "period", {"rep": "rep_id"}),
        Source("forecast_submissions", "period", {"rep": "rep_id"}),
    )
}

_TRUNC = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def shift(period: Any, grain: Grain, n: int = 1) -> Any:
    """``period`` moved ``n`` periods of ``grain`` forward (backward when negative), as a date."""
    if grain == "day":
        step = ibis.interval(days=n)
    elif grain == "week":
        step = ibis.interval(days=7 * n)
    elif grain == "month":
        step = ibis.interval(months=n)
    elif grain == "quarter":
        step = ibis.interval(months=3 * n)
    else:
        step = ibis.interval(years=n)
    return (period + step).cast("date")


def truncate(value: Any, grain: Grain) -> Any:
    """The start date of the ``grain`` period holding ``value`` (a date or timestamp column);
    quarters and years start in the company's fiscal month (:mod:`salesradar.metrics.fiscal`)."""
    offset = fiscal.start_month() - 1
    if grain in ("quarter", "year") and offset:
        moved = (value.cast("date") - ibis.interval(months=offset)).truncate(_TRUNC[grain])
        return (moved.cast("date") + ibis.interval(months=offset)).cast("date")
    return value.truncate(_TRUNC[grain]).cast("date")


def period_start(day: date, grain: Grain) -> date:
    """Python twin of :func:`truncate` for one date (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return fiscal.fiscal_start(day, grain)


def shift_date(day: date, grain: Grain, n: int = 1) -> date:
    """Python twin of :func:`shift` for a period start."""
    if grain == "day":
        return day + timedelta(days=n)
    if grain == "week":
        return day + timedelta(days=7 * n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_end(start: date, grain: Grain) -> date:
    """The last day of the period of ``grain`` that starts on ``start``.

    >>> period_end(date(2026, 2, 1), "month"), period_end(date(2026, 4, 1), "quarter")
    (datetime.date(2026, 2, 28), datetime.date(2026, 6, 30))
    """
    return shift_date(start, grain) - timedelta(days=1)


def last_whole(day: date, grain: Grain) -> date:
    """Start of the last whole period of ``grain`` up to ``day`` (its own when ``day`` ends it).

    >>> last_whole(date(2026, 6, 30), "month"), last_whole(date(2026, 6, 29), "month")
    (datetime.date(2026, 6, 1), datetime.date(2026, 5, 1))
    >>> last_whole(date(2026, 6, 30), "quarter"), last_whole(date(2026, 7, 1), "quarter")
    (datetime.date(2026, 4, 1), datetime.date(2026, 4, 1))
    """
    this = period_start(day, grain)
    return this if period_end(this, grain) == day else shift_date(this, grain, -1)


@dataclass(frozen=True)
class Query:
    """One KPI request: engine, dimensions, grain and date range, as the formulas see it.

    ``compute_start`` is one period before ``start`` so that the first requested period has a
    previous value; builders produce every period from ``compute_start`` to ``end``.

    ``sku_detail`` is set when the KPIs computed together include one that groups the lines by
    customer and SKU: revenue per customer is then rolled up from that aggregate instead of
    grouping the lines a second time (same numbers, one pass fewer).
    """

    backend: Any
    dims: tuple[str, ...] = ()
    grain: Grain | None = None
    start: date | None = None
    end: date | None = None
    sku_detail: bool = False

    @property
    def dim_columns(self) -> list[str]:
        return [DIMENSIONS[d].column for d in self.dims]

    @property
    def keys(self) -> list[str]:
        """Group-by keys of a result: ``period`` (when there is a grain) and the dimensions."""
        return (["period"] if self.grain else []) + self.dim_columns

    @property
    def compute_start(self) -> date | None:
        if self.start is None or self.grain is None:
            return self.start
        return shift_date(period_start(self.start, self.grain), self.grain, -1)

    def table(self, name: str) -> Any:
        return self.backend.table(name)

    def date_of(self, source: Source, t: Any) -> Any:
        col = t[source.date_column]
        return col.date() if source.timestamp else col

    def fact(self, name: str, *, history: bool = False, date_column: str | None = None) -> Any:
        """The fact table ``name`` with the dimension columns and a ``period`` column.

        Rows are limited to ``[compute_start, end]`` on the date column unless ``history`` is set,
        in which case only ``end`` bounds them (for windows that look back).
        """
        source = SOURCES[name]
        if date_column is not None:
            source = Source(source.table, date_column, source.keys, source.timestamp)
        return self.prepared(self.table(name), source, history=history)

    def prepared(self, t: Any, source: Source, *, history: bool = False) -> Any:
        """:meth:`fact` for a table a formula built itself (``source`` names its columns)."""
        day = self.date_of(source, t)
        t = t.mutate(_date=day)
        t = t.filter(t._date.notnull())  # e.g. deals without a close date are in no period
        if self.end is not None:
            t = t.filter(t._date <= ibis.date(self.end))
        if not history and self.compute_start is not None:
            t = t.filter(t._date >= ibis.date(self.compute_start))
        t = attach_dims(self, t, source.keys)
        if self.grain is not None:
            t = t.mutate(period=truncate(t._date, self.grain))
        return t


def attach_dims(q: Query, t: Any, keys: Mapping[str, str]) -> Any:
    """Add the output column of each requested dimension to ``t``, joining lookups as needed."""
    for name in q.dims:
        dim = DIMENSIONS[name]
        src = keys[dim.key]
        if dim.lookup is None:
            if dim.column != src:
                t = t.mutate(**{dim.column: t[src]})
            continue
        table_name, key_col, value_col = dim.lookup
        lk = q.table(table_name)
        lk = lk.select(_lk=lk[key_col], **{dim.column: lk[value_col]})
        t = t.left_join(lk, t[src] == lk._lk).drop("_lk")
    return t


def check_request(
    name: str,
    dimensions: tuple[str, ...],
    periods: tuple[Grain | None, ...],
    by: tuple[str, ...],
    grain: str | None,
) -> tuple[tuple[str, ...], Grain | None]:
    """Validate the requested split and grain against what the KPI supports."""
    dims = tuple(d for d in by if d != COMPANY)
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise UserInputError(
            f"unknown dimension {', '.join(unknown)} for {name}; dimensions are: "
            f"{COMPANY}, {', '.join(DIMENSIONS)}"
        )
    unsupported = [d for d in dims if d not in dimensions]
    if unsupported:
        raise UserInputError(
            f"{name} cannot be split by {', '.join(unsupported)}; it supports: "
            f"{', '.join((COMPANY, *dimensions))}"
        )
    if len(set(dims)) != len(dims):
        raise UserInputError(f"dimension repeated in --by {','.join(by)}")
    if grain in (None, "none", ""):
        period: Grain | None = None
    elif grain in GRAINS:
        period = grain
    else:
        raise UserInputError(
            f"unknown period {grain!r}; periods are: {', '.join(GRAINS)}, none"
        )
    if period not in periods:
        allowed = ", ".join(p or "none" for p in periods)
        raise UserInputError(f"{name} cannot be computed by period {period or 'none'}; "
                             f"it supports: {allowed}")
    return dims, period
