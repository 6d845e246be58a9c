"""Small hand-made and simulated invoice-line workspaces for the churn and stopped-item tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from salesradar.workspace import Workspace

DAY0 = dt.date(2025, 1, 1)


def day(n: int) -> dt.date:
    """The date ``n`` days after DAY0."""
    return DAY0 + dt.timedelta(days=n)


def insert(ws: Workspace, table: str, columns: dict[str, pa.Array | list[object]]) -> None:
    """Insert rows (given by column) into a canonical table of ``ws``."""
    staged = pa.table(columns)
    ws.con.register("_staged", staged)
    try:
        ws.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _staged")
    finally:
        ws.con.unregister("_staged")


def workspace(
    purchases: Sequence[tuple[str, int, str, float]],
    *,
    products: dict[str, bool] | None = None,
) -> Workspace:
    """An in-memory workspace from (customer, day number, sku, revenue) rows; one invoice each.

    ``products`` maps SKU -> active flag and fills the products table when given.
    """
    ws = Workspace.open(":memory:")
    insert(ws, "invoice_lines", {
        "invoice_id": [f"I{i}" for i in range(len(purchases))],
        "line_no": [1] * len(purchases),
        "invoice_date": pa.array([day(p[1]) for p in purchases], type=pa.date32()),
        "customer_id": [p[0] for p in purchases],
        "sku": [p[2] for p in purchases],
        "quantity": [1.0 if p[3] >= 0 else -1.0 for p in purchases],
        "net_revenue": pa.array([p[3] for p in purchases], type=pa.float64()),
    })
    if products:
        insert(ws, "products", {"sku": list(products), "active": list(products.values())})
    return ws


def simulated(customers: int = 300, days: int = 540, seed: int = 0) -> Workspace:
    """Customers buying at gamma-distributed daily rates until an exponential dropout day.

    Each purchase day has one line of one of five SKUs worth ~100. Vectorized numpy.
    """
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 1 / 40.0, customers)  # ~one order every 20 days on average
    start = rng.integers(0, days // 3, customers)
    stop = start + rng.exponential(400.0, customers).astype(np.int64)
    _, grid_d = np.meshgrid(np.arange(customers), np.arange(days), indexing="ij")
    alive = (grid_d >= start[:, None]) & (grid_d < stop[:, None])
    buys = alive & (rng.random((customers, days)) < rate[:, None])
    c, d = np.nonzero(buys)
    n = len(c)
    ws = Workspace.open(":memory:")
    insert(ws, "invoice_lines", {
        "invoice_id": [f"I{i}" for i in range(n)],
        "line_no": [1] * n,
        "invoice_date": pa.array((np.datetime64(DAY0, "D") + d).astype("datetime64[D]")),
        "customer_id": [f"C{k:04d}" for k in c],
        "sku": [f"S{k}" for k in rng.integers(0, 5, n)],
        "quantity": [1.0] * n,
        "net_revenue": pa.array(rng.gamma(4.0, 25.0, n)),
    })
    return ws
