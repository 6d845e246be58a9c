"""The health scores read the rhythm of the customer terms the churn scores computed in the
same refresh (no second query of it): the same table, bit for bit, as the health scores that
compute the rhythm themselves; terms of another day, or outside a refresh, are not used."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from salesradar.models import churn, tiers
from salesradar.models.features import CustomerTables, sharing_customer_days
from salesradar.workspace import Workspace

DAY = dt.date(2026, 10, 31)


def _lines(ws: Workspace, customers: int = 150) -> None:
    """Random purchase days over two years (some customers bought once or twice: no rhythm),
    a few returns."""
    rng = np.random.default_rng(11)
    rows = []
    for c in range(customers):
        for k in range(int(rng.integers(1, 25))):
            day = DAY - dt.timedelta(days=int(rng.integers(0, 700)))
            amount = float(rng.integers(-50, 900)) if k % 7 == 6 else float(rng.integers(5, 900))
            rows.append((f"C{c:03d}", f"S{int(rng.integers(0, 40))}", day, amount))
    table = pa.table({
        "invoice_id": [f"I{i}" for i in range(len(rows))], "line_no": [1] * len(rows),
        "invoice_date": [r[2] for r in rows], "customer_id": [r[0] for r in rows],
        "sku": [r[1] for r in rows], "quantity": [1.0 if r[3] > 0 else -1.0 for r in rows],
        "net_revenue": [r[3] for r in rows], "cost": [abs(r[3]) * 0.6 for r in rows],
    })
    ws.con.register("new_lines", table)
    ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
                   "sku, quantity, net_revenue, cost) SELECT * FROM new_lines")
    ws.con.unregister("new_lines")


def _bits(table: pa.Table) -> list[object]:
    """Every value of every column, floats as their bits (NaN and -0.0 told apart)."""
    out: list[object] = [table.schema]
    for column in table.columns:
        values = column.combine_chunks()
        if pa.types.is_floating(values.type):
            out.append(np.asarray(values.fill_null(0.0).to_numpy(zero_copy_only=False))
                       .view(np.uint64).tolist())
            out.append(values.is_null().to_pylist())
        else:
            out.append(values.to_pylist())
    return out


def test_health_reads_the_churn_terms_of_the_refresh(ws: Workspace,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _lines(ws)
    with sharing_customer_days(ws):
        assert churn.shared_customer_terms(ws, DAY) is None
        alone = tiers.health_scores(ws, DAY)  # the rhythm queried by the health scores
        # the terms of another day are kept apart
        churn._customer_terms(ws, CustomerTables.from_workspace(ws), DAY - dt.timedelta(1))
        assert churn.shared_customer_terms(ws, DAY) is None
        terms = churn._customer_terms(ws, CustomerTables.from_workspace(ws), DAY)
        assert churn.shared_customer_terms(ws, DAY) is terms
        assert churn._customer_terms(ws, CustomerTables.from_workspace(ws), DAY) is terms

        def no_second_query(*_: object) -> None:
            raise AssertionError("the rhythm was queried again")

        monkeypatch.setattr(tiers, "customer_rhythm", no_second_query)
        shared = tiers.health_scores(ws, DAY)
    assert alone.num_rows == 150 and alone["health"].null_count > 0  # some without a rhythm
    assert _bits(shared) == _bits(alone)


def test_outside_a_refresh_nothing_is_kept(ws: Workspace) -> None:
    _lines(ws, 20)
    terms = churn._customer_terms(ws, CustomerTables.from_workspace(ws), DAY)
    assert terms.num_rows == 20
    assert churn.shared_customer_terms(ws, DAY) is None
    # tables that are not a workspace's (lines chosen by the caller) are never kept
    with sharing_customer_days(ws):
        lines = ws.table("invoice_lines")
        some = CustomerTables(lines.filter(lines.customer_id != "C000"))
        assert churn._customer_terms(some, some, DAY).num_rows == 19
        assert churn.shared_customer_terms(ws, DAY) is None
