"""KPIs declared once and computed on any Ibis engine; the service functions the CLI/API call.

Each name loads its module on first use: a command that only needs the fiscal year
(:mod:`salesradar.metrics.fiscal`) does not import the KPI catalogue and the engine. The
function ``churned`` shares its module's name, so it is imported from
:mod:`salesradar.metrics.churned` itself.

>>> from salesradar.metrics import list_kpis
>>> "revenue" in [k.name for k in list_kpis()]
True
"""

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module of this package that defines it
_MODULES = {
    "parse_period": "analyses", "price_volume_mix": "analyses", "whale_curve": "analyses",
    "whale_summary": "analyses",
    "churned_summary": "churned",
    "compute_kpi": "compute", "compute_kpis": "compute", "explain_kpi": "compute",
    "kpi_expr": "compute", "kpi_records": "compute", "list_kpis": "compute",
    "mart_name": "compute", "plain_rows": "compute", "plain_value": "compute",
    "FLAGS": "flags", "KpiSettings": "flags",
    "REGISTRY": "registry", "Kpi": "registry", "KpiInfo": "registry", "Unit": "registry",
    "validate_catalog": "registry",
}

if TYPE_CHECKING:
    from salesradar.metrics.analyses import (
        parse_period,
        price_volume_mix,
        whale_curve,
        whale_summary,
    )
    from salesradar.metrics.churned import churned_summary
    from salesradar.metrics.compute import (
        compute_kpi,
        compute_kpis,
        explain_kpi,
        kpi_expr,
        kpi_records,
        list_kpis,
        mart_name,
        plain_rows,
        plain_value,
    )
    from salesradar.metrics.flags import FLAGS, KpiSettings
    from salesradar.metrics.registry import REGISTRY, Kpi, KpiInfo, Unit, validate_catalog

__all__ = [
    "FLAGS",
    "REGISTRY",
    "Kpi",
    "KpiInfo",
    "KpiSettings",
    "Unit",
    "churned_summary",
    "compute_kpi",
    "compute_kpis",
    "explain_kpi",
    "kpi_expr",
    "kpi_records",
    "list_kpis",
    "mart_name",
    "parse_period",
    "plain_rows",
    "plain_value",
    "price_volume_mix",
    "validate_catalog",
    "whale_curve",
    "whale_summary",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f"salesradar.metrics.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
