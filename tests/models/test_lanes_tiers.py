"""assign_tiers orders its rows before it words them (no text column reordered afterwards) and
looks the tiers' names up by code: every row's texts are still its own, the order is still
A first then by profit (ties by customer id), checked row by row against plain Python."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from salesradar.models import labels
from salesradar.models.tiers import assign_tiers
from salesradar.workspace import Workspace

AS_OF = dt.date(2026, 10, 31)


def _company(ws: Workspace, customers: int = 240) -> None:
    """Random lines over two years (a few customers identical, to tie on profit), cost to
    serve for some (some loss-making), a potential for others."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(customers):
        twin = c % 40 == 1  # the same lines as the customer before it: equal profits
        source = c - 1 if twin else c
        local = np.random.default_rng(source)
        for k in range(int(local.integers(1, 12))):
            day = AS_OF - dt.timedelta(days=int(local.integers(0, 700)))
            rows.append((f"C{c:03d}", f"S{int(local.integers(0, 30))}", day,
                         float(local.integers(10, 900)), float(local.integers(5, 600))
                         if k % 3 else None))
    table = pa.table({
        "invoice_id": [f"I{i}" for i in range(len(rows))], "line_no": [1] * len(rows),
        "invoice_date": [r[2] for r in rows], "customer_id": [r[0] for r in rows],
        "sku": [r[1] for r in rows], "quantity": [1.0] * len(rows),
        "net_revenue": [r[3] for r in rows], "cost": [r[4] for r in rows],
    })
    ws.con.register("new_lines", table)
    ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
                   "sku, quantity, net_revenue, cost) SELECT * FROM new_lines")
    ws.con.unregister("new_lines")
    for c in rng.choice(customers, 50, replace=False):
        ws.con.execute("INSERT INTO cost_to_serve (customer_id, period, grain, kind, amount) "
                       f"VALUES ('C{c:03d}', '2026-05-01', 'month', 'support', "
                       f"{int(rng.integers(10, 3000))})")
    for c in rng.choice(customers, 60, replace=False):
        ws.con.execute("INSERT INTO customers (customer_id, potential) VALUES "
                       f"('C{c:03d}', {int(rng.integers(100, 20000))})")


def _int(value: float) -> str:
    """number_text of one number (rounded half to even, NaN as 0)."""
    return str(int(np.round(np.nan_to_num(value))))


def test_rows_ordered_and_worded_as_their_own_numbers(ws: Workspace) -> None:
    _company(ws)
    table = assign_tiers(ws, AS_OF)
    rows = table.to_pylist()
    assert len(rows) > 200 and {r["tier"] for r in rows} == set("ABCD")
    # A first, then by profit, highest first; equal profits in customer order
    assert rows == sorted(rows, key=lambda r: (r["tier"], -r["profit"], r["customer_id"]))
    assert len({r["profit"] for r in rows}) < len(rows)  # ties were there to be ordered
    n = len(rows)
    has_cost = any(r["gross_profit"] != r["revenue"] for r in rows)
    assert has_cost
    for r in rows:
        tier = r["tier"]
        assert r["tier_name"] == labels.TIER_NAMES["en"][tier]
        assert r["handling"] == labels.HANDLING["en"][tier]
        assert r["tier_name_he"] == labels.TIER_NAMES["he"][tier]
        assert r["handling_he"] == labels.HANDLING["he"][tier]
        top = _int(np.ceil(100.0 * (1.0 - r["profit_pct"]) + 100.0 / n))
        if r["potential"] is not None:
            tail = (f"share of wallet {_int(100.0 * r['share_of_wallet'])}% of "
                    f"{_int(r['potential'])} potential")
        elif r["revenue_trend"] is not None:
            tail = f"revenue {_int(100.0 * r['revenue_trend'])}% vs the 12 months before"
        else:
            tail = "new customer (no revenue the period before)"
        assert r["reason"] == (f"profit {_int(r['profit'])} after {_int(r['cost_to_serve'])} "
                               f"cost to serve (top {top}%); {r['skus']} SKUs; {tail}")
        assert r["reason_he"].startswith(
            f"רווח {_int(r['profit'])} אחרי {_int(r['cost_to_serve'])} עלות שירות ({top}% ")
    assert table.schema.field("tier").type == pa.string()
