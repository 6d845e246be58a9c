"""KPIs declared once and computed on any Ibis engine; the service functions the CLI/API call.

>>> from salesradar.metrics import list_kpis
>>> "revenue" in [k.name for k in list_kpis()]
True
"""

from salesradar.metrics.analyses import parse_period, price_volume_mix, whale_curve, whale_summary
from salesradar.metrics.churned import churned, churned_summary
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
    "churned",
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
