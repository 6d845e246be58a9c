"""Anomalies: planted drops are flagged, seasonal dips are not; margin parts add up."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from salesradar.errors import UserInputError
from salesradar.models.anomalies import (
    detect_anomalies,
    margin_erosion,
    margin_parts,
    seasonal_drops,
)
from salesradar.workspace import Workspace

MONTHS = 36  # Jan 2024 .. Dec 2026


def seasonal_series(groups: int, seed: int = 0) -> np.ndarray:
    """Monthly values with 1%/month growth, a December dip to 60% and 3% noise."""
    rng = np.random.default_rng(seed)
    month = np.arange(MONTHS)
    season = np.where(month % 12 == 11, 0.6, 1.0) * (1 + 0.1 * np.sin(2 * np.pi * month / 12))
    base = 1000.0 * 1.01 ** month * season
    return base * rng.lognormal(0.0, 0.03, (groups, MONTHS))


def test_real_drop_flagged_seasonal_dip_not() -> None:
    values = seasonal_series(3)
    values[0, -1] *= 0.6  # group 0: a real drop on top of the December dip
    values[2, -2] *= 0.5  # group 2: a drop in November
    result = seasonal_drops(values, [MONTHS - 2, MONTHS - 1], k=3.0)
    assert result["seasonal"]
    assert result["flagged"].tolist() == [[False, True], [False, False], [True, False]]
    # group 1's December is 40% below November yet expected: within 10% of its expectation
    assert abs(result["change"][1, 1]) < 0.1
    assert result["change"][0, 1] == pytest.approx(-0.4, abs=0.08)
    assert result["z"][0, 1] < -3


def test_level_baseline_without_a_year_of_history() -> None:
    values = np.full((1, 12), 100.0) * np.random.default_rng(1).lognormal(0, 0.02, (1, 12))
    values[0, -1] = 50.0
    result = seasonal_drops(values, [11], min_history=4)
    assert not result["seasonal"]
    assert result["flagged"].tolist() == [[True]]
    assert result["expected"][0, 0] == pytest.approx(np.median(values[0, 5:11]))


def _month(i: int) -> dt.date:
    y, m = divmod(i, 12)
    return dt.date(2024 + y, m + 1, 15)


def _load(ws: Workspace, drop_rep: str | None) -> None:
    """Two reps x 10 customers buying monthly with seasonality; ``drop_rep`` loses 6 of its
    customers in the last month (Dec 2026, itself a seasonal dip)."""
    values = seasonal_series(20, seed=3)  # one series per customer
    cust, rep, day, rev = [], [], [], []
    for c in range(20):
        for i in range(MONTHS):
            r = "R1" if c < 10 else "R2"
            if r == drop_rep and i == MONTHS - 1 and c % 10 < 6:
                continue
            cust.append(f"C{c:02d}")
            rep.append(r)
            day.append(_month(i))
            rev.append(round(values[c, i], 2))
    n = len(cust)
    table = pa.table({
        "invoice_id": [f"I{i}" for i in range(n)], "line_no": [1] * n, "invoice_date": day,
        "customer_id": cust, "sku": ["X"] * n, "quantity": [1.0] * n, "net_revenue": rev,
        "rep_id": rep,
    })
    ws.con.register("new_lines", table)
    ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
                   "sku, quantity, net_revenue, rep_id) SELECT * FROM new_lines")
    ws.con.execute("INSERT INTO customers (customer_id, region) SELECT DISTINCT customer_id, "
                   "CASE WHEN rep_id = 'R1' THEN 'North' ELSE 'South' END FROM new_lines")


def test_detect_anomalies_per_rep_and_region(ws: Workspace) -> None:
    _load(ws, "R2")
    as_of = dt.date(2026, 12, 31)
    flagged = detect_anomalies(ws, "rep", "revenue", as_of=as_of).to_pylist()
    assert [(r["group"], r["month"]) for r in flagged] == [("R2", dt.date(2026, 12, 1))]
    assert flagged[0]["change"] == pytest.approx(-0.6, abs=0.1)
    assert flagged[0]["explanation"].startswith("revenue ")
    active = detect_anomalies(ws, "region", "active_customers", as_of=as_of).to_pylist()
    assert [(r["group"], r["value"]) for r in active] == [("South", 4.0)]
    every = detect_anomalies(ws, "rep", as_of=as_of, months=2, only_flagged=False)
    assert every.num_rows == 4 and sum(every["flagged"].to_pylist()) == 1
    # as_of mid-month: December is incomplete, November is judged (no drop)
    assert detect_anomalies(ws, "rep", as_of=dt.date(2026, 12, 20)).num_rows == 0


def test_seasonal_dip_alone_is_not_flagged(ws: Workspace) -> None:
    _load(ws, None)
    assert detect_anomalies(ws, "rep", as_of=dt.date(2026, 12, 31)).num_rows == 0
    assert detect_anomalies(ws, "company", "active_customers",
                            as_of=dt.date(2026, 12, 31)).num_rows == 0
    with pytest.raises(UserInputError, match="by must be"):
        detect_anomalies(ws, "planet")


def test_margin_parts_by_hand() -> None:
    # P1: 50% -> 20% margin on flat revenue; P2: 40% margin, revenue doubles
    parts = margin_parts(np.array([100.0, 100.0]), np.array([50.0, 60.0]),
                         np.array([100.0, 200.0]), np.array([80.0, 120.0]))
    assert parts["total_change"][0] == pytest.approx(100 / 300 - 90 / 200)
    assert parts["contribution"].tolist() == pytest.approx([20 / 300 - 50 / 200,
                                                            80 / 300 - 40 / 200])
    assert parts["rate_effect"].tolist() == pytest.approx([(100 / 300) * (0.2 - 0.5), 0.0])
    assert parts["mix_effect"].tolist() == pytest.approx([20 / 300 - 50 / 200 + 0.1,
                                                          80 / 300 - 40 / 200])


def test_margin_parts_sum_exactly() -> None:
    rng = np.random.default_rng(5)
    r0, r1 = rng.gamma(2, 100, 50), rng.gamma(2, 100, 50)
    r0[:5] = 0  # new items
    r1[5:10] = 0  # lost items
    c0, c1 = r0 * rng.uniform(0.4, 0.9, 50), r1 * rng.uniform(0.4, 0.9, 50)
    parts = margin_parts(r0, c0, r1, c1)
    total = (r1 - c1).sum() / r1.sum() - (r0 - c0).sum() / r0.sum()
    assert parts["contribution"].sum() == pytest.approx(total, abs=1e-12)
    assert (parts["rate_effect"] + parts["mix_effect"]).tolist() == pytest.approx(
        parts["contribution"].tolist())
    assert parts["share_of_change"].sum() == pytest.approx(1.0)


def test_margin_erosion_located(ws: Workspace) -> None:
    rows = [  # (date, customer, sku, channel, revenue, cost)
        (dt.date(2026, 1, 10), "a", "P1", "web", 100.0, 50.0),
        (dt.date(2026, 1, 11), "b", "P2", "field", 100.0, 60.0),
        (dt.date(2026, 4, 10), "a", "P1", "web", 100.0, 80.0),
        (dt.date(2026, 4, 11), "b", "P2", "field", 200.0, 120.0),
        (dt.date(2026, 4, 12), "b", "P3", "field", 50.0, None),  # no cost: left out
    ]
    table = pa.table({
        "invoice_id": [f"I{i}" for i in range(len(rows))], "line_no": [1] * len(rows),
        "invoice_date": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
        "sku": [r[2] for r in rows], "channel": [r[3] for r in rows],
        "quantity": [1.0] * len(rows), "net_revenue": [r[4] for r in rows],
        "cost": [r[5] for r in rows],
    })
    ws.con.register("new_lines", table)
    ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
                   "sku, channel, quantity, net_revenue, cost) SELECT * FROM new_lines")
    q1 = (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    q2 = (dt.date(2026, 4, 1), dt.date(2026, 7, 1))
    out = margin_erosion(ws, q1, q2, by="product")
    assert out["group"].to_pylist() == ["P1", "P2"]  # P1 explains the drop
    assert out["contribution"].to_pylist()[0] == pytest.approx(20 / 300 - 50 / 200)
    assert float(out.schema.metadata[b"total_change"]) == pytest.approx(100 / 300 - 90 / 200)
    by_channel = margin_erosion(ws, q1, q2, by="channel")
    assert by_channel["group"].to_pylist() == ["web", "field"]
    assert sum(by_channel["contribution"].to_pylist()) == pytest.approx(100 / 300 - 90 / 200)
