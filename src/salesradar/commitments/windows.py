"""Measuring windows and the KPI values over them, in one query per request.

Every number of a commitment is a KPI over a window of one baseline period (a week, a month or a
quarter) ending on some day: the baseline is the aggregation of the ``window`` periods before the
start, each weekly checkpoint is the period ending that day (trailing), the verdict averages the
periods ending on the end date. Windows of a month starting on the 1st are calendar months, so the
"mean of the 12 months before January" is what an accountant would compute.

The values come from the KPI registry: each window is a whole-range KPI request
(:func:`salesradar.metrics.kpi_expr` with no grain) and all windows of a request run as one
``UNION ALL`` on the engine, so a year of weekly checkpoints is one query, not fifty.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np

from salesradar.commitments.model import Aggregation, Grain
from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics import REGISTRY, Kpi, kpi_expr
from salesradar.metrics.frame import SOURCES, Query
from salesradar.metrics.registry import Kind

Window = tuple[date, date]  # both ends included


def add_periods(day: date, grain: Grain, n: int) -> date:
    """``day`` moved ``n`` weeks, months or quarters (31 Jan + 1 month = 28 Feb)."""
    if grain == "week":
        return day + timedelta(days=7 * n)
    months = n * (3 if grain == "quarter" else 1)
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def window_ending(day: date, grain: Grain) -> Window:
    """The period of ``grain`` that ends on ``day``: (day − 1 period, day]."""
    return add_periods(day + timedelta(days=1), grain, -1), day


def windows_before(start: date, grain: Grain, n: int) -> list[Window]:
    """The ``n`` periods right before ``start``, oldest first."""
    return [(add_periods(start, grain, -k), add_periods(start, grain, -k + 1) - timedelta(days=1))
            for k in range(n, 0, -1)]


def windows_ending(end: date, grain: Grain, n: int) -> list[Window]:
    """The ``n`` periods that end on ``end``, oldest first (the evaluation windows)."""
    return windows_before(end + timedelta(days=1), grain, n)


def windows_from(start: date, end: date, grain: Grain) -> list[Window]:
    """Consecutive periods from ``start`` to ``end``; the last one is cut at ``end``."""
    out: list[Window] = []
    k = 0
    while (begin := add_periods(start, grain, k)) <= end:
        out.append((begin, min(add_periods(start, grain, k + 1) - timedelta(days=1), end)))
        k += 1
    return out


def full_fraction(window: Window, grain: Grain) -> float:
    """How much of a full period ``window`` covers (1.0 unless it was cut at the end)."""
    begin, finish = window
    full = (add_periods(begin, grain, 1) - begin).days
    return ((finish - begin).days + 1) / full


def weekly_checkpoints(start: date, until: date) -> list[date]:
    """Every seventh day from ``start`` (the end of each commitment week) up to ``until``."""
    days = (until - start).days + 1
    return [start + timedelta(days=7 * i - 1) for i in range(1, days // 7 + 1)]


def measure(backend: Any, metric: str, windows: Sequence[Window]) -> list[float | None]:
    """The KPI ``metric`` over each window (``None`` where it has no value), in one query.

    A simple KPI (measures over one fact table) joins its fact rows to the windows by date and
    aggregates per window; any other KPI runs as one whole-range request per window, all of
    them in one ``UNION ALL``.
    """
    if not windows:
        return []
    kpi = REGISTRY[metric]
    present = table_names(backend)
    missing = [t for t in kpi.tables if t not in present]
    if missing:
        raise UserInputError(f"{metric} needs the table(s) {', '.join(missing)}, which the "
                             "workspace does not have; import them first")
    if kpi.kind is Kind.SIMPLE and kpi.source is not None and kpi.formula is not None:
        table = _simple_by_window(backend, kpi, windows)
    else:
        parts = [
            kpi_expr(backend, metric, (), None, begin, finish, ordered=False)
            .select("value").mutate(_win=ibis.literal(i))
            for i, (begin, finish) in enumerate(windows)
        ]
        table = (ibis.union(*parts) if len(parts) > 1 else parts[0]).to_pyarrow()
    out: list[float | None] = [None] * len(windows)
    for i, value in zip(table["_win"].to_pylist(), table["value"].to_pylist(), strict=True):
        out[int(i)] = None if value is None else float(value)
    return out


def _simple_by_window(backend: Any, kpi: Kpi, windows: Sequence[Window]) -> Any:
    """A simple KPI per window: fact rows joined to the windows on their date (a range join)."""
    assert kpi.source is not None and kpi.formula is not None
    q = Query(backend, (), None, min(b for b, _ in windows), max(e for _, e in windows))
    facts = q.fact(kpi.source)
    wins = ibis.memtable({"_win": list(range(len(windows))),
                          "_ws": [b for b, _ in windows], "_we": [e for _, e in windows]})
    j = facts.join(wins, [facts._date >= wins._ws, facts._date <= wins._we])
    m = j.group_by("_win").aggregate(**{k: f(j) for k, f in kpi.measures.items()})
    return m.select("_win", value=kpi.formula(m)).to_pyarrow()


def aggregate(values: Sequence[float | None], how: Aggregation) -> float | None:
    """One baseline number from the periods' values; periods without a value are left out."""
    known = np.array([v for v in values if v is not None], dtype=np.float64)
    if known.size == 0:
        return None
    if how == "last":
        return float(known[-1])
    if how == "median":
        return float(np.median(known))
    if how == "sum":
        return float(known.sum())
    if how == "min":
        return float(known.min())
    if how == "max":
        return float(known.max())
    return float(known.mean())


def data_until(backend: Any, metric: str) -> date | None:
    """The last day the metric's data covers: the earliest of its tables' latest dates."""
    ends = _data_bounds(backend, metric, first=False)
    return min(ends) if ends else None


def data_since(backend: Any, metric: str) -> date | None:
    """The first day the metric's data covers: the latest of its tables' first dates."""
    starts = _data_bounds(backend, metric, first=True)
    return max(starts) if starts else None


def _data_bounds(backend: Any, metric: str, *, first: bool) -> list[date]:
    present = table_names(backend)
    out: list[date] = []
    for name in REGISTRY[metric].tables:
        source = SOURCES.get(name)
        if source is None or name not in present or name in ("targets", "cost_to_serve"):
            continue  # plans and monthly cost allocations do not say how far the facts go
        column = backend.table(name)[source.date_column]
        day = column.date() if source.timestamp else column
        value = (day.min() if first else day.max()).to_pyarrow().as_py()
        if value is not None:
            out.append(value)
    return out


def year_earlier(window: Window, grain: Grain) -> Window:
    """The same window a year earlier (52 weeks for weekly windows)."""
    if grain == "week":
        return window[0] - timedelta(days=364), window[1] - timedelta(days=364)
    return add_periods(window[0], "month", -12), add_periods(window[1] + timedelta(days=1),
                                                            "month", -12) - timedelta(days=1)
