"""ABCD tiers and health scores on small hand-computed workspaces."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest

from salesradar.models.tiers import HANDLING, assign_tiers, health_changes, health_scores
from salesradar.workspace import Workspace

AS_OF = dt.date(2026, 10, 31)
D = dt.date


def add_lines(ws: Workspace, rows: list[tuple[str, str, dt.date, float, float | None]]) -> None:
    """Insert (customer, sku, date, revenue, cost) lines, one invoice each."""
    table = pa.table({
        "invoice_id": [f"I{i}" for i in range(len(rows))],
        "line_no": [1] * len(rows),
        "invoice_date": [r[2] for r in rows],
        "customer_id": [r[0] for r in rows],
        "sku": [r[1] for r in rows],
        "quantity": [1.0] * len(rows),
        "net_revenue": [r[3] for r in rows],
        "cost": [r[4] for r in rows],
    })
    ws.con.register("new_lines", table)
    ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
                   "sku, quantity, net_revenue, cost) SELECT * FROM new_lines")
    ws.con.unregister("new_lines")


@pytest.fixture
def tiered(ws: Workspace) -> Workspace:
    day, old = D(2026, 6, 1), D(2025, 6, 1)
    rows: list[tuple[str, str, dt.date, float, float | None]] = []
    rows += [("A1", f"S{i}", day, 500.0, 300.0) for i in range(20)]  # 10,000 rev, 4,000 GP
    rows += [("A1", "S0", old, 10_000.0, 6_000.0)]  # flat year on year
    rows += [("B1", f"S{i}", day, 2000 / 3, 400.0) for i in range(3)]  # 2,000 rev, 800 GP
    rows += [("C1", f"S{i}", day, 750.0, 450.0) for i in range(2)]  # 1,500 rev, 600 GP
    rows += [("C2", f"S{i}", day, 900.0, 500.0) for i in range(2)]  # 1,800 rev, 800 GP
    rows += [("C2", "S0", old, 2000.0, 1000.0)]  # -10% year on year
    rows += [("D1", "S0", day, 1000.0, 800.0)]  # 200 GP, 500 cost to serve
    add_lines(ws, rows)
    ws.con.execute("INSERT INTO cost_to_serve (customer_id, period, grain, kind, amount) VALUES "
                   "('A1', '2026-03-01', 'month', 'logistics', 500), "
                   "('B1', '2026-03-01', 'month', 'logistics', 100), "
                   "('C1', '2026-03-01', 'month', 'logistics', 100), "
                   "('D1', '2026-03-01', 'month', 'logistics', 500), "
                   "('D1', '2024-03-01', 'month', 'logistics', 9999)")  # outside the window
    ws.con.execute("INSERT INTO customers (customer_id, potential) VALUES "
                   "('B1', 20000), ('C1', 2000)")
    return ws


def test_tiers_by_hand(tiered: Workspace) -> None:
    t = {r["customer_id"]: r for r in assign_tiers(tiered, AS_OF).to_pylist()}
    assert {c: r["tier"] for c, r in t.items()} == {
        "A1": "A", "B1": "B", "C1": "C", "C2": "C", "D1": "D"
    }
    assert t["D1"]["profit"] == pytest.approx(1000 - 800 - 500)
    assert t["A1"]["profit"] == pytest.approx(4000 - 500)
    assert t["B1"]["share_of_wallet"] == pytest.approx(2000 / 20000)
    assert t["C2"]["revenue_trend"] == pytest.approx(1800 / 2000 - 1)
    # profit ranks: D1 < C1 < B1 < C2 < A1
    assert [t[c]["profit_pct"] for c in ("D1", "C1", "B1", "C2", "A1")] == pytest.approx(
        [0.2, 0.4, 0.6, 0.8, 1.0])
    # fit = mean(revenue pct, SKU pct); C1 and C2 tie on 2 SKUs (rank 3 of 5)
    assert t["C1"]["fit_pct"] == pytest.approx((0.4 + 0.6) / 2)
    # growth: headroom among customers with a potential (B1 18,000 > C1 500)
    assert t["B1"]["growth_pct"] == pytest.approx(1.0)
    assert t["C1"]["growth_pct"] == pytest.approx(0.5)
    assert t["C2"]["growth_pct"] == pytest.approx(1 / 2)  # trend -10% < A1 0%
    assert t["D1"]["growth_pct"] is None or math.isnan(t["D1"]["growth_pct"])  # new: no trend
    assert t["D1"]["tier_name"] == "loss-making"
    assert t["D1"]["handling"] == HANDLING["D"] and "reprice" in HANDLING["D"]
    assert "account manager" in t["A1"]["handling"]
    assert t["D1"]["reason"].startswith("profit -300 after 500 cost to serve")
    assert "share of wallet 10% of 20000 potential" in t["B1"]["reason"]
    # the same texts in Hebrew
    assert (t["D1"]["tier_name_he"], t["A1"]["tier_name_he"]) == ("מפסיד", "אסטרטגי")
    assert t["D1"]["handling_he"].startswith("מפסיד אחרי עלות השירות")
    assert t["D1"]["reason_he"].startswith("רווח -300 אחרי 500 עלות שירות")
    assert "נתח ארנק 10% מתוך פוטנציאל 20000" in t["B1"]["reason_he"]
    assert [r["tier"] for r in assign_tiers(tiered, AS_OF).to_pylist()] == list("ABCCD")


def test_served_without_sales_is_d(tiered: Workspace) -> None:
    tiered.con.execute("INSERT INTO cost_to_serve (customer_id, period, grain, kind, amount) "
                       "VALUES ('E1', '2026-05-01', 'month', 'support', 250)")
    t = {r["customer_id"]: r for r in assign_tiers(tiered, AS_OF).to_pylist()}
    assert t["E1"]["tier"] == "D"
    assert t["E1"]["profit"] == pytest.approx(-250)
    assert t["E1"]["revenue"] == 0


def _h1(ws: Workspace) -> None:
    """Orders every 30 days; 3 x 100 (40% margin) before Aug 2, 2 x 100 (30%) after."""
    before = [D(2026, 6, 1), D(2026, 7, 1), D(2026, 7, 31)]
    now = [D(2026, 8, 30), D(2026, 9, 29)]
    add_lines(ws, [("H1", "X", d, 100.0, 60.0) for d in before]
              + [("H1", "X", d, 100.0, 70.0) for d in now])


def test_health_by_hand(ws: Workspace) -> None:
    _h1(ws)
    row = health_scores(ws, AS_OF).to_pylist()[0]
    rhythm = 1 - (32 / 30 - 1) / 3  # last order 32 days ago, rhythm 30 days
    revenue = 1 + math.log2(200 / 300)
    scale = 100 / (0.30 + 0.25 + 0.15 + 0.10)  # no payments, no contacts: rescaled
    assert row["rhythm_score"] == pytest.approx(rhythm)
    assert row["revenue_trend_score"] == pytest.approx(revenue)
    assert row["breadth_trend_score"] == pytest.approx(1.0)
    assert row["margin_trend_score"] == pytest.approx(0.0)  # 40% -> 30%: -10 points
    assert row["payment_points"] is None and row["contacts_points"] is None
    assert row["rhythm_points"] == pytest.approx(0.30 * rhythm * scale)
    expected = scale * (0.30 * rhythm + 0.25 * revenue + 0.15)
    assert row["health"] == pytest.approx(expected, abs=0.05)
    assert row["weakest"] == "revenue_trend"
    assert row["explanation"] == "revenue 200 in the last 90 days vs 300 before"
    assert row["explanation_he"] == "הכנסות 200 ב-90 הימים האחרונים לעומת 300 לפני כן"


def test_health_with_payments_and_contacts(ws: Workspace) -> None:
    _h1(ws)
    ws.con.execute("INSERT INTO payments (invoice_id, customer_id, due_date, paid_date, amount) "
                   "VALUES ('I3', 'H1', '2026-09-01', '2026-09-21', 100), "
                   "('I4', 'H1', '2026-10-01', '2026-09-25', 100)")
    ws.con.execute("INSERT INTO contacts (contact_id, customer_id, level, last_activity_at) "
                   "VALUES ('p1', 'H1', 'executive', '2026-10-01 10:00:00'), "
                   "('p2', 'H1', 'finance', '2026-01-01 10:00:00')")  # stale
    row = health_scores(ws, AS_OF).to_pylist()[0]
    assert row["payment_score"] == pytest.approx(1 - 10 / 60)  # 20 and 0 days late
    assert row["contacts_score"] == pytest.approx(1 / 3)
    scale = 100 / 1.0
    assert row["payment_points"] == pytest.approx(0.10 * (1 - 10 / 60) * scale)
    total = sum(row[f"{f}_points"] for f in (
        "rhythm", "revenue_trend", "breadth_trend", "margin_trend", "payment", "contacts"))
    assert row["health"] == pytest.approx(total, abs=0.05)


def test_health_changes_names_the_movers() -> None:
    before = pa.table({"customer_id": ["a", "b"], "health": [80.0, 50.0],
                       "rhythm_points": [30.0, 20.0], "revenue_trend_points": [25.0, 10.0],
                       "payment_points": [25.0, 20.0]})
    now = pa.table({"customer_id": ["b", "a", "new"], "health": [50.2, 62.0, 90.0],
                    "rhythm_points": [20.2, 22.5, 30.0],
                    "revenue_trend_points": [10.0, 15.0, 30.0],
                    "payment_points": [20.0, 24.5, 30.0]})
    out = health_changes(before, now).to_pylist()
    assert [r["customer_id"] for r in out] == ["a", "b"]  # biggest drop first; "new" left out
    a = out[0]
    assert a["change"] == pytest.approx(-18.0)
    assert a["revenue_trend_change"] == pytest.approx(-10.0)
    assert a["main_factor"] == "revenue_trend"
    assert a["moved"] == "revenue_trend -10, rhythm -7.5"
    assert out[1]["moved"] is None and out[1]["main_factor"] is None  # +0.2 is below 0.5
