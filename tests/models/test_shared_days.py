"""A refresh computes the customer-days once (sharing_customer_days): every model reading them
inside the block gets the values it would have computed itself."""

from __future__ import annotations

import contextvars
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import ibis
import numpy as np
import pyarrow as pa
import pytest

from salesradar.engine import table_names
from salesradar.models.cadence import customer_terms
from salesradar.models.features import (
    CUSTOMER_DAYS_TABLE,
    PURCHASE_DAYS_TABLE,
    CustomerTables,
    churn_features,
    churn_labels,
    customer_days,
    purchase_days,
    shared_view,
    sharing_customer_days,
)

from .invoice_helpers import day, insert, simulated


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def _assert_same(expected: pa.Table, got: pa.Table) -> None:
    """Equal column by column; floats to 1e-12 relative (the engine adds sums of floats in
    the order its threads finish), everything else exactly."""
    assert got.schema.names == expected.schema.names and got.num_rows == expected.num_rows
    for name in expected.schema.names:
        a, b = expected[name], got[name]
        if pa.types.is_floating(a.type):
            x = a.to_numpy(zero_copy_only=False).astype(float)
            y = b.to_numpy(zero_copy_only=False).astype(float)
            np.testing.assert_allclose(y, x, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
        else:
            assert a.equals(b), name


def _everything(ws: object) -> dict[str, pa.Table]:
    tables = CustomerTables(ws.table("invoice_lines"))  # type: ignore[attr-defined]
    cutoffs = [day(300), day(400), day(539)]
    return {
        "terms": _sorted(customer_terms(tables.lines, day(539)).to_pyarrow(), ["customer_id"]),
        "terms_past": _sorted(customer_terms(tables.lines, day(250)).to_pyarrow(),
                              ["customer_id"]),
        "features": _sorted(churn_features(tables, cutoffs, window_days=60).to_pyarrow(),
                            ["as_of", "customer_id"]),
        "labels": _sorted(churn_labels(tables, cutoffs[:2], horizon_days=60).to_pyarrow(),
                          ["as_of", "customer_id"]),
    }


def test_the_shared_customer_days_give_what_each_model_computes_itself() -> None:
    ws = simulated(customers=200, days=540, seed=3)
    # credit notes alone on days without a purchase: customer-days that are not purchase days
    insert(ws, "invoice_lines", {
        "invoice_id": [f"CN{i}" for i in range(20)], "line_no": [1] * 20,
        "invoice_date": pa.array([day(100 + 20 * i) for i in range(20)], type=pa.date32()),
        "customer_id": [f"C{i:04d}" for i in range(20)], "sku": ["S1"] * 20,
        "quantity": [-1.0] * 20, "net_revenue": pa.array([-30.0] * 20),
    })
    alone = _everything(ws)
    with sharing_customer_days(ws):
        lines = ws.table("invoice_lines")
        # the models read the two tables made once ...
        assert customer_days(lines).op().name == CUSTOMER_DAYS_TABLE
        assert purchase_days(lines).op().name == PURCHASE_DAYS_TABLE
        # ... but not for other lines (a filter, another table): those are computed
        recent = lines.filter(lines.invoice_date >= dt.date(2025, 6, 1))
        assert not _reads_shared(customer_days(recent))
        shared = _everything(ws)
    for name, table in alone.items():
        _assert_same(table, shared[name])
    assert not {CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE} & table_names(ws)  # dropped after
    assert not _reads_shared(customer_days(ws.table("invoice_lines")))


def _reads_shared(expr: ibis.Table) -> bool:
    return CUSTOMER_DAYS_TABLE in str(ibis.to_sql(expr))


def test_a_thread_reads_the_shared_customer_days_through_its_own_view() -> None:
    ws = simulated(customers=120, days=540, seed=5)
    alone = _everything(ws)
    with sharing_customer_days(ws):
        views = [shared_view(ws) for _ in range(2)]

        def work(view: object) -> dict[str, pa.Table]:
            lines = view.table("invoice_lines")  # type: ignore[attr-defined]
            assert _reads_shared(customer_days(lines))  # not computed again in the thread
            return _everything(view)

        contexts = [contextvars.copy_context() for _ in views]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda cv: cv[0].run(work, cv[1]), zip(contexts, views,
                                                                               strict=True)))
        for view in views:
            view.close()
        assert ws.con.execute("SELECT 1").fetchall() == [(1,)]  # the workspace stays open
    for shared in results:
        for name, table in alone.items():
            _assert_same(table, shared[name])
    # outside the block a view computes them itself
    view = ws.thread_view()
    assert not _reads_shared(customer_days(view.table("invoice_lines")))
    view.close()


def test_the_datas_fingerprint_is_computed_once_per_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside the block (the invoice lines do not change) the data's fingerprint scans the
    lines once, for this thread and a view of another; outside it, every call computes it, so
    a line added after the block gives a new one."""
    from salesradar.models import store

    ws = simulated(customers=20, days=100)
    before = store.data_version(ws)
    scans: list[object] = []
    scan = store._data_version

    def counted(w: object) -> str:
        scans.append(w)
        return scan(w)

    monkeypatch.setattr(store, "_data_version", counted)
    with sharing_customer_days(ws):
        context = contextvars.copy_context()
        view = shared_view(ws)
        try:
            inside = [store.data_version(ws), store.data_version(ws)]
            with ThreadPoolExecutor(1) as pool:
                inside.append(pool.submit(context.run, store.data_version, view).result())
        finally:
            view.close()
    assert inside == [before] * 3 and len(scans) == 1
    insert(ws, "invoice_lines", {"invoice_id": ["X"], "line_no": [1],
                                 "invoice_date": pa.array([day(100)], type=pa.date32()),
                                 "customer_id": ["C0001"], "sku": ["S1"], "quantity": [1.0],
                                 "net_revenue": pa.array([10.0])})
    assert store.data_version(ws) != before and len(scans) == 2
