"""Recommenders and purchases shared by the tests of a later day's offers from a kept model
(test_crosssell_refit.py, test_crosssell_kept_offers.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from salesradar.models.crosssell import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
)
from salesradar.workspace import Workspace

DAY = dt.date(2026, 3, 31)  # the day of the fit


class KeptPopularity(PopularityRecommender):
    """Popularity keeping candidates as the blend does: many ties among equally popular SKUs."""

    _keeps_candidates = True


class KeptItemItem(ItemItemRecommender):
    """Item-item keeping candidates as the blend does."""

    _keeps_candidates = True


def blend_of_parts() -> BlendRecommender:
    """A small blend (8 ALS factors, one thread): quick and deterministic."""
    return BlendRecommender(als=ALSRecommender(factors=8, num_threads=1),
                            item_item=ItemItemRecommender())


def taste_groups(seed: int = 5) -> pa.Table:
    """400 customers of three taste groups, 12 purchases each among 100 SKUs of their group."""
    rng = np.random.default_rng(seed)
    customer = np.repeat(np.arange(400), 12)
    sku = (customer % 3) * 100 + rng.integers(0, 100, len(customer))
    n = len(customer)
    return pa.table({
        "customer_id": [f"C{c:03d}" for c in customer],
        "sku": [f"S{k:03d}" for k in sku],
        "purchases": rng.integers(1, 4, n).astype(float),
        "revenue": rng.gamma(2.0, 100.0, n),
        "first_date": [DAY - dt.timedelta(days=400)] * n,
        "last_date": [DAY - dt.timedelta(days=int(d)) for d in rng.integers(0, 120, n)],
    })


def insert_lines(ws: Workspace, rows: list[tuple[str, str, dt.date]], tag: str) -> None:
    """Invoice lines (customer, SKU, day) written straight into the workspace, one per row."""
    n = len(rows)
    table = pa.table({
        "invoice_id": [f"{tag}{i}" for i in range(n)], "line_no": [1] * n,
        "invoice_date": pa.array([r[2] for r in rows], pa.date32()),
        "customer_id": [r[0] for r in rows], "sku": [r[1] for r in rows],
        "quantity": [1.0] * n, "net_revenue": [25.0 + i % 7 for i in range(n)],
    })
    ws.con.register("_staged", table)
    try:
        ws.con.execute("INSERT INTO invoice_lines BY NAME SELECT * FROM _staged")
    finally:
        ws.con.unregister("_staged")
