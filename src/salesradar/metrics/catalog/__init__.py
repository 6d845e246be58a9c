"""The KPI catalogue, one module per theme; each KPI is declared exactly once."""

from salesradar.metrics.catalog import centre, customers, pipeline, profitability, sales, stages
from salesradar.metrics.registry import Kpi

ALL_KPIS: tuple[Kpi, ...] = (
    *sales.KPIS,
    *customers.KPIS,
    *profitability.KPIS,
    *pipeline.KPIS,
    *stages.KPIS,
    *centre.KPIS,
)

__all__ = ["ALL_KPIS"]
