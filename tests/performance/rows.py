"""Rows into a fresh workspace for the hand-computed performance and account tests."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from salesradar.workspace import Workspace


def insert(ws: Workspace, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into the canonical ``table``."""
    if not rows:
        return
    columns = list(rows[0])
    data = pa.table({c: [r[c] for r in rows] for c in columns})
    ws.con.register("_new_rows", data)
    names = ", ".join(f'"{c}"' for c in columns)
    ws.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _new_rows")
    ws.con.unregister("_new_rows")


def line(n: int, day: str, customer: str, rep: str, revenue: float, cost: float,
         sku: str = "S1") -> dict[str, Any]:
    """One invoice line (its own invoice)."""
    return {"invoice_id": f"I{n}", "line_no": 1, "invoice_date": day, "customer_id": customer,
            "sku": sku, "quantity": 1.0, "net_revenue": revenue, "cost": cost, "rep_id": rep}

