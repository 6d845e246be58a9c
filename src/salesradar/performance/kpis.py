"""KPIs from the registry for the management features, without writing marts.

:func:`kpis_by` is :func:`salesradar.metrics.compute_kpis` for callers that read several KPIs at
once (scorecards, profitability, risk): nothing is persisted, and a simple KPI that would be alone
on its fact table runs through :func:`salesradar.metrics.compute_kpi` instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from salesradar.metrics import REGISTRY, compute_kpi, compute_kpis
from salesradar.metrics.registry import Kind


def kpis_by(
    backend: Any, names: Sequence[str], by: Sequence[str], period: str | None,
    start: dt.date | None, end: dt.date | None,
) -> dict[str, pa.Table]:
    """:func:`compute_kpis` without marts; a simple KPI alone on its fact table runs by itself
    (compute_kpis mislabels the columns of a one-KPI batch)."""
    sources = [REGISTRY[n].source for n in names if REGISTRY[n].kind is Kind.SIMPLE
               and not REGISTRY[n].flags]
    alone = [n for n in names if REGISTRY[n].kind is Kind.SIMPLE and not REGISTRY[n].flags
             and sources.count(REGISTRY[n].source) == 1]
    together = [n for n in names if n not in alone]
    out = compute_kpis(backend, together, by, period, start, end) if together else {}
    for n in alone:
        out[n] = compute_kpi(backend, n, by, period, start, end, persist=False)
    return {n: out[n] for n in names}
