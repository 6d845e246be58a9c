"""Flags that ride along with KPI values: boolean columns computed in the engine with the value.

* ``coverage_below_min`` (pipeline coverage): value < ``coverage_min`` (3× by default).
* ``customer_over_threshold`` (top-1 concentration): the largest customer holds more than
  ``concentration_threshold`` (15% by default, 15–20% is usual) of trailing-12-month revenue.
* ``active_drop`` (active customers): an *unexplained* drop — active customers fell by more than
  ``active_drop`` (20%) against the previous period, and the same period a year earlier did not
  show such a drop (so seasonality does not explain it). When the year-earlier change is unknown,
  the drop counts as unexplained.

A flag is null when the value it tests is null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis

from salesradar.metrics.frame import Query, shift


@dataclass(frozen=True)
class KpiSettings:
    """Thresholds of the flags (users may change them)."""

    coverage_min: float = 3.0
    concentration_threshold: float = 0.15
    active_drop: float = 0.2


FlagRule = Callable[[Any, Query, KpiSettings], Any]  # (result table, query, settings) -> table


def _coverage(t: Any, q: Query, s: KpiSettings) -> Any:
    return t.mutate(flag_coverage_below_min=t.value < s.coverage_min)


def _concentration(t: Any, q: Query, s: KpiSettings) -> Any:
    return t.mutate(flag_customer_over_threshold=t.value > s.concentration_threshold)


def _active_drop(t: Any, q: Query, s: KpiSettings) -> Any:
    t = t.mutate(_drop=t.change_pct < -s.active_drop)
    if q.grain is None:
        return t.mutate(flag_active_drop=t._drop).drop("_drop")
    steps = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}[q.grain]
    ago = t.select(
        _yp=shift(t.period, q.grain, steps),
        **{f"_y_{c}": t[c] for c in q.dim_columns},
        _ydrop=t._drop,
    )
    preds = [t.period == ago._yp] + [t[c].identical_to(ago[f"_y_{c}"]) for c in q.dim_columns]
    j = t.left_join(ago, preds)
    # a drop the same period a year earlier also saw is seasonal, not unexplained
    j = j.mutate(flag_active_drop=ibis.ifelse(j._ydrop.fill_null(False), False, j._drop))
    return j.drop("_drop", "_yp", "_ydrop", *(f"_y_{c}" for c in q.dim_columns))


@dataclass(frozen=True)
class Flag:
    """A named flag: what it means and how it is computed."""

    name: str
    description: str
    rule: FlagRule


FLAGS: dict[str, Flag] = {
    f.name: f
    for f in (
        Flag("coverage_below_min", "pipeline coverage below the minimum (3x)", _coverage),
        Flag("customer_over_threshold", "one customer above the concentration threshold",
             _concentration),
        Flag("active_drop", "unexplained drop in active customers", _active_drop),
    )
}


def apply_flags(t: Any, q: Query, names: tuple[str, ...], settings: KpiSettings) -> Any:
    """``t`` with one ``flag_<name>`` boolean column per flag in ``names``."""
    for name in names:
        t = FLAGS[name].rule(t, q, settings)
    return t
