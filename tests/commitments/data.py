"""A hand-made company for the commitment tests: one customer, one invoice line a month.

Revenue (₪) by month, always on the 15th, cost 60% of revenue (gross profit 40%):

    2025-01  100,000   baseline months (the 3 before the start on 2025-04-01): mean 100,000
    2025-02  110,000
    2025-03   90,000
    2025-04  105,000   commitment period 2025-04-01 .. 2025-09-30 (183 days)
    2025-05  110,000
    2025-06  115,000
    2025-07  120,000   the last three months average 125,000: +25% over the baseline
    2025-08  125,000
    2025-09  130,000
    2025-10  135,000   after the end (the extension month)
    2025-11  140,000   the data run until 2025-11-15
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from metrics.conftest import load_tables
from metrics.data import arrow_table

REVENUE = {(2025, 1): 100_000, (2025, 2): 110_000, (2025, 3): 90_000, (2025, 4): 105_000,
           (2025, 5): 110_000, (2025, 6): 115_000, (2025, 7): 120_000, (2025, 8): 125_000,
           (2025, 9): 130_000, (2025, 10): 135_000, (2025, 11): 140_000}


def invoice_lines() -> list[dict[str, Any]]:
    return [{"invoice_id": f"I{y}{m:02d}", "line_no": 1, "invoice_date": date(y, m, 15),
             "customer_id": "c1", "sku": "s1", "quantity": 1, "net_revenue": rev,
             "cost": rev * 0.6, "rep_id": "r1", "channel": "field"}
            for (y, m), rev in REVENUE.items()]


def backend() -> Any:
    """An in-memory DuckDB holding the invoice lines above."""
    return load_tables(ibis.duckdb.connect(), {"invoice_lines": arrow_table("invoice_lines",
                                                                            invoice_lines())})


def terms(**overrides: Any) -> dict[str, Any]:
    """The base commitment: +20% revenue over the 3-month mean, April to September 2025."""
    raw: dict[str, Any] = {
        "name": "Revenue growth", "vendor": "Acme Sales", "model": "hybrid",
        "metric": "revenue", "improvement_pct": 0.20, "start": "2025-04-01",
        "end": "2025-09-30", "data_source": "ERP invoice lines",
        "baseline": {"window": 3, "grain": "month", "aggregation": "mean"},
        "fees": {"fixed": 10_000, "success_fee_pct": 0.10, "bonus": 5_000},
        "refund": {"refund_pct": 0.5}, "evaluation_periods": 3,
    }
    raw.update(overrides)
    return raw
