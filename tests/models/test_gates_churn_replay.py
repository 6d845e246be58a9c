"""The churn gate's replay (:func:`salesradar.models.gates._churn_cases` on the gates' sample)
pinned to the churn model's own fit: ``ChurnModel.fit`` at the cutoff, the cutoff's features
and outcomes computed apart, on the sampled lines with every customer's payments and contacts
(as the gate computed it before it took the snapshots in one query and narrowed the payments
and contacts to the sample)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa

from salesradar.models import gates
from salesradar.models.churn import ChurnModel, build_features
from salesradar.models.features import CustomerTables, churn_labels

from .invoice_helpers import day, insert, simulated

HORIZON = 90


def _with_payments_and_contacts(seed: int) -> object:
    """The simulated company, with late, on-time and open payments and contacts for every
    customer (and a payment without a customer)."""
    ws = simulated(customers=300, days=540, seed=seed)
    rng = np.random.default_rng(seed)
    customers = [f"C{k:04d}" for k in range(300)]
    n = 3000
    due = rng.integers(0, 540, n)
    late = rng.choice([0, 0, 5, 40], n)
    paid = [None if rng.random() < 0.1 else day(int(d + w)) for d, w in zip(due, late,
                                                                          strict=True)]
    insert(ws, "payments", {
        "invoice_id": [f"P{i}" for i in range(n)],
        "customer_id": [*[customers[k] for k in rng.integers(0, 300, n - 1)], None],
        "due_date": pa.array([day(int(d)) for d in due], type=pa.date32()),
        "paid_date": pa.array(paid, type=pa.date32()),
        "amount": [1.0] * n,
    })
    insert(ws, "contacts", {
        "contact_id": [f"K{i}" for i in range(400)],
        "customer_id": [customers[k] for k in rng.integers(0, 300, 400)],
        "level": [["finance", "executive", "buyer"][k] for k in rng.integers(0, 3, 400)],
    })
    return ws


def _reference(tables: CustomerTables, cutoff: dt.date) -> gates.Comparison:
    """The gate as the churn model computes it: fitted by ``ChurnModel.fit``, then the
    cutoff's features and outcomes in queries of their own."""
    model = ChurnModel(HORIZON).fit(tables, cutoff)
    frame = build_features(tables, [cutoff], horizon_days=HORIZON,
                           window_days=model.window_days)
    labels = (churn_labels(tables, [cutoff], horizon_days=HORIZON)
              .order_by(["as_of", "customer_id"]).to_pyarrow())
    assert np.array_equal(labels["customer_id"].to_numpy(zero_copy_only=False).astype(str),
                          frame.customer_id.astype(str))
    y = np.asarray(labels["churned"].to_numpy(zero_copy_only=False), dtype=bool)
    return gates.compare_auc(y, model.predict_proba_features(frame),
                             frame.columns["recency_days"])


def test_the_sampled_replay_is_the_churn_models_fit() -> None:
    ws = _with_payments_and_contacts(seed=5)
    cutoff = day(449)
    sampled, n = gates._sample(ws, 100)
    try:
        assert n is not None and 50 <= n <= 150
        # the payments and contacts are narrowed to the sampled customers
        payers = set(sampled.payments.customer_id.to_pyarrow().to_pylist())
        buyers = set(sampled.lines.customer_id.to_pyarrow().to_pylist())
        assert payers and payers <= buyers
        assert sampled.payments.count().to_pyarrow().as_py() < ws.row_count("payments")
        # the reference reads every customer's payments and contacts, as before
        whole = dataclasses.replace(CustomerTables.from_workspace(ws), lines=sampled.lines)
        want = _reference(whole, cutoff)
        got = gates._churn_cases(sampled, cutoff, HORIZON)
        assert want.n_cases > 30 and want.model_value is not None
        assert got == want  # every number, bit for bit
    finally:
        ws.con.execute(f"DROP TABLE IF EXISTS temp.{gates.SAMPLE_TABLE}")


def test_the_whole_workspace_replay_is_the_churn_models_fit() -> None:
    ws = _with_payments_and_contacts(seed=7)
    cutoff = day(430)
    tables, n = gates._sample(ws, 10_000)
    assert n is None
    assert gates._churn_cases(tables, cutoff, HORIZON) == _reference(tables, cutoff)
