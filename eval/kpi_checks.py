"""KPIs of the registry on the public datasets, beside the figures their publishers give.

    python eval/kpi_checks.py          # prints a Markdown table (recorded in docs/kpi-checks.md)

Each published figure comes from the dataset's SOURCE.md in ../shared/datasets (one, marked so,
from an independent query on the raw file). The workspaces are built by eval/datasets.py through
the normal importer.
"""

from __future__ import annotations

import datasets
from salesradar.metrics import compute_kpi, kpi_records
from salesradar.workspace import Workspace

# (dataset, KPI, published value, tolerance, what the publisher says)
CHECKS = [
    ("northwind", "revenue", 1_265_793.04, 0.01,
     "Σ unit_price × quantity × (1 − discount) over all order lines"),
    ("superstore", "revenue", 2_297_200.86, 0.01, "Σ Sales"),
    ("superstore", "gross_profit", 286_397.02, 0.01, "Σ Profit (cost = Sales − Profit)"),
    ("superstore", "active_customers", 793, 0, "customers with orders"),
    ("maven_crm", "win_rate", 4_238 / 6_711, 1e-9, "Won ÷ (Won + Lost) = 4,238 ÷ 6,711"),
    ("maven_crm", "avg_deal_size", 2_360.91, 0.01, "mean won deal"),
    ("classicmodels", "active_customers", 98, 0, "customers with orders"),
    ("uci_online_retail", "active_customers", 4_317, 0,
     "not published: an exact-decimal SQL sum over the raw file (a DOUBLE sum says 4,322: five "
     "customers whose purchases were all cancelled keep about +1e-13 of float noise)"),
]


def company_value(name: str, kpi: str) -> float | None:
    path = datasets.workspace_for(name)
    with Workspace.open(path, read_only=True) as ws:
        rows = kpi_records(compute_kpi(ws.backend, kpi, persist=False))
    value = rows[0]["value"] if rows else None
    return None if value is None else float(value)


def main() -> None:
    print("| dataset | KPI | salesradar | published | match | published as |")
    print("|---|---|---:|---:|---|---|")
    for name, kpi, published, tolerance, what in CHECKS:
        value = company_value(name, kpi)
        ok = value is not None and abs(value - published) <= tolerance
        shown = "—" if value is None else f"{value:,.4f}".rstrip("0").rstrip(".")
        print(f"| {name} | `{kpi}` | {shown} | {published:,.4f}".rstrip("0").rstrip(".")
              + f" | {'yes' if ok else '**no**'} | {what} |")


if __name__ == "__main__":
    main()
