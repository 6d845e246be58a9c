"""The churn features of several cutoffs at once equal a plain per-cutoff recount.

churn_features sums the customer-days per period between window ends and finds each SKU's
last sale before each window end (instead of joining every line to every cutoff); this
recounts every window of every cutoff from the lines with pandas and exact decimals.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salesradar.models.features import CustomerTables, churn_features, sharing_customer_days
from salesradar.workspace import Workspace

from .invoice_helpers import day, insert

W, SEASON = 60, 45
CUTOFFS = [day(300), day(400), day(430), day(460), day(700)]


def _lines(seed: int = 7) -> pa.Table:
    """Random lines: several SKUs and lines a day, credit notes (also alone on a day), and
    cost known on some lines only."""
    rng = np.random.default_rng(seed)
    n = 6000
    customer = rng.integers(0, 30, n)
    when = rng.integers(0, 720, n)
    revenue = np.round(rng.gamma(2.0, 40.0, n), 2)
    revenue[rng.random(n) < 0.12] *= -1  # credit notes
    cost = np.where(rng.random(n) < 0.6, np.round(revenue * 0.7, 2), np.nan)
    return pa.table({
        "invoice_id": [f"I{i}" for i in range(n)],
        "line_no": [1] * n,
        "invoice_date": pa.array([day(int(d)) for d in when], type=pa.date32()),
        "customer_id": [f"C{c:02d}" for c in customer],
        "sku": [f"S{k}" for k in rng.integers(0, 12, n)],
        "quantity": [1.0] * n,
        "net_revenue": pa.array(revenue),
        "cost": pa.array(cost, from_pandas=True),
    })


def _money(total: Decimal) -> float:
    return float(round(total, 6))


Row = dict[str, Any]
Sums = dict[str, Decimal | None]


def _reference(lines: list[Row], cutoff: dt.date) -> dict[str, Row]:
    """Each customer's features at ``cutoff``, counted directly (exact decimal sums)."""
    reaches = min(r["invoice_date"] for r in lines) <= cutoff - dt.timedelta(days=365)
    mine: dict[str, list[Row]] = {}
    for r in lines:
        if r["invoice_date"] <= cutoff:
            mine.setdefault(r["customer_id"], []).append(r)
    out = {c: _customer(rows, cutoff, reaches) for c, rows in mine.items()}
    return {c: f for c, f in out.items() if f is not None}


def _customer(mine: list[Row], cutoff: dt.date, reaches: bool) -> Row | None:
    """One customer's features from its lines up to ``cutoff`` (None without a purchase)."""
    days: dict[dt.date, Sums] = {}
    for row in mine:
        d = days.setdefault(row["invoice_date"], {"rev": Decimal(0), "gross": Decimal(0),
                                                  "ret": Decimal(0), "costed": None,
                                                  "cost": None})
        rev: Decimal = row["net_revenue"]
        d["rev"] = (d["rev"] or Decimal(0)) + rev
        if rev > 0:
            d["gross"] = (d["gross"] or Decimal(0)) + rev
        else:
            d["ret"] = (d["ret"] or Decimal(0)) - rev
        if row["cost"] is not None:
            d["costed"] = (d["costed"] or Decimal(0)) + rev
            d["cost"] = (d["cost"] or Decimal(0)) + row["cost"]
    bought = sorted(d for d, v in days.items() if (v["gross"] or 0) > 0)
    if not bought:
        return None

    def age(d: dt.date) -> int:
        return (cutoff - d).days

    def total(name: str, lo: int, hi: int) -> Decimal:
        found = [v[name] for d, v in days.items() if lo <= age(d) < hi]
        return sum((x for x in found if x is not None), Decimal(0))

    def orders(lo: int, hi: int) -> float:
        return float(sum(lo <= age(d) < hi for d in bought))

    def skus(lo: int, hi: int) -> float:
        return float(len({r["sku"] for r in mine
                          if r["net_revenue"] > 0 and lo <= age(r["invoice_date"]) < hi}))

    year_costed = any(v["costed"] is not None for d, v in days.items() if age(d) < 365)
    gaps = np.diff(np.array(bought, dtype="datetime64[D]")).astype(int)
    return {
        "purchase_days": float(len(bought)),
        "recency_days": float(age(bought[-1])),
        "tenure_days": float(age(bought[0])),
        "orders_w1": orders(0, W), "orders_w2": orders(W, 2 * W),
        "orders_365": orders(0, 365),
        "revenue_w1": _money(total("rev", 0, W)),
        "revenue_w2": _money(total("rev", W, 2 * W)),
        "revenue_365": _money(total("rev", 0, 365)),
        "revenue_per_order": _money(total("rev", 0, 10**6)) / len(bought),
        "returns_share": (_money(total("ret", 0, 365)) / _money(total("gross", 0, 365))
                          if total("gross", 0, 365) else None),
        "margin_rate": ((_money(total("costed", 0, 365)) - _money(total("cost", 0, 365)))
                        / _money(total("costed", 0, 365))
                        if year_costed and total("costed", 0, 365) else None),
        "orders_last_season": orders(365 - SEASON, 365) if reaches else None,
        "revenue_last_season": _money(total("rev", 365 - SEASON, 365)) if reaches else None,
        "skus_w1": skus(0, W), "skus_w2": skus(W, 2 * W), "skus_365": skus(0, 365),
        "active_months": float(len({(d.year, d.month) for d in bought if age(d) < 365})),
        "recency_2nd": float(age(bought[-2])) if len(bought) > 1 else None,
        "recency_3rd": float(age(bought[-3])) if len(bought) > 2 else None,
        "median_gap": float(np.median(gaps)) if len(gaps) else None,
        "orders_decay30": sum(float(np.exp(-age(d) / 30.0)) for d in bought),
    }


@pytest.mark.parametrize("shared", [False, True])
def test_features_of_many_cutoffs_equal_a_recount_of_each(shared: bool) -> None:
    """Every window, count and money sum of every cutoff as the recount's (money exactly: the
    exact decimal sum rounded to 6 places), with and without the refresh's shared days."""
    ws = Workspace.open(":memory:")
    insert(ws, "invoice_lines", _lines().to_pydict())
    # the lines as stored (DECIMAL), summed exactly by the reference
    stored = ws.table("invoice_lines").to_pyarrow().to_pylist()
    with sharing_customer_days(ws) if shared else nullcontext():
        got = churn_features(CustomerTables(ws.table("invoice_lines")), CUTOFFS,
                             window_days=W, season_days=SEASON).to_pyarrow()
    got_rows = got.to_pylist()
    checked = 0
    for cutoff in CUTOFFS:
        expected = _reference(stored, cutoff)
        mine = {r["customer_id"]: r for r in got_rows if r["as_of"] == cutoff}
        assert set(mine) == set(expected), cutoff
        for customer, want in expected.items():
            row = mine[customer]
            for name, value in want.items():
                if name == "orders_decay30":  # a float sum, in the engine's order
                    assert row[name] == pytest.approx(value, rel=1e-12), (cutoff, customer)
                elif value is None:
                    assert row[name] is None or np.isnan(row[name]), (cutoff, customer, name)
                else:
                    assert row[name] == value, (cutoff, customer, name, row[name], value)
            checked += 1
    assert checked > 100
