"""Profitability flags and contact-coverage flags on small workspaces, computed by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from performance.rows import insert, line
from salesradar.accounts.contacts import contact_coverage
from salesradar.accounts.profitability import customer_profitability
from salesradar.workspace import Workspace


def _lines(ws: Workspace, rows: list[tuple[str, float, float, float]]) -> None:
    """(customer, quantity, revenue, cost) lines of SKU S1, list price 10, in June 2026."""
    insert(ws, "products", [{"sku": "S1", "name": "Soap", "list_price": 10.0}])
    data = []
    for i, (customer, qty, revenue, cost) in enumerate(rows):
        row = line(i, "2026-06-10", customer, "R1", revenue, cost)
        row["quantity"] = qty
        data.append(row)
    insert(ws, "invoice_lines", data)


def _cts(customer: str, kind: str, amount: float) -> dict[str, Any]:
    return {"customer_id": customer, "period": "2026-06-01", "grain": "month", "kind": kind,
            "amount": amount}


def test_profitability_and_pricing_check(ws: Workspace) -> None:
    # list value = quantity × 10; discount = 1 − revenue ÷ list value
    _lines(ws, [("P1", 100, 900, 500),   # list 1,000: 10% off; GP 400
                ("P2", 10, 95, 50),      # list 100: 5% off; GP 45
                ("P3", 20, 150, 100),    # list 200: 25% off; GP 50
                ("P4", 50, 500, 300)])   # list 500: 0% off; GP 200
    insert(ws, "cost_to_serve", [_cts("P1", "logistics", 50), _cts("P1", "service", 40),
                                 _cts("P2", "sales", 100), _cts("P3", "support", 10)])
    report = customer_profitability(ws, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))
    rows = {r["customer_id"]: r for r in report["customers"]}
    # profit = GP − cost to serve: P1 400 − 90 = 310, P2 45 − 100 = −55, P3 50 − 10 = 40,
    # P4 200 − 0 = 200; listed from the lowest profit up
    assert [r["customer_id"] for r in report["customers"]] == ["P2", "P3", "P4", "P1"]
    assert rows["P1"]["profit"] == pytest.approx(310)
    assert (rows["P1"]["logistics"], rows["P1"]["service"]) == (50, 40)
    assert rows["P2"]["profit"] == pytest.approx(-55)
    assert rows["P3"]["discount"] == pytest.approx(0.25)
    company = report["company"]
    # company: cost to serve 200 ÷ revenue 1,645 = 12.16%; expensive from 2 × that = 24.3%:
    # only P2 (100 ÷ 95 = 105%)
    assert company["cts_share"] == pytest.approx(200 / 1645)
    assert rows["P2"]["flags"][0] == "expensive_to_serve"
    # medians: discount (5% + 10%)/2 = 7.5%; revenue (150 + 500)/2 = 325;
    # cost-to-serve share (6.67% + 10%)/2 = 8.33%
    assert company["median_discount"] == pytest.approx(0.075)
    assert company["median_revenue"] == pytest.approx(325)
    # P3: 25% off (> 7.5%) on 150 of revenue (< 325): a discount without the volume
    assert rows["P3"]["flags"] == ["discount_without_volume"]
    # P1: 10% off (> 7.5%) with 10% cost to serve (> 8.33%): price ignores cost;
    # P2: a loss after cost to serve while discounted: price ignores cost too
    assert rows["P1"]["flags"] == ["price_ignores_cost"]
    assert rows["P2"]["flags"] == ["expensive_to_serve", "price_ignores_cost"]
    assert rows["P4"]["flags"] == []
    assert (company["loss_making"], company["price_ignores_cost_count"]) == (1, 2)
    assert rows["P2"]["flags_he"].startswith("יקר לשירות")


def test_contact_coverage_flags(ws: Workspace) -> None:
    ws.backend.create_table("score_tiers", pa.table({
        "customer_id": ["A1", "A2", "B1", "B2", "C1"], "tier": ["A", "A", "B", "B", "C"]}))
    insert(ws, "customers", [{"customer_id": c, "name": c, "rep_id": "R1"}
                             for c in ("A1", "A2", "B1", "B2", "C1")])

    def contact(n: int, customer: str, level: str, last: str) -> dict[str, Any]:
        return {"contact_id": f"P{n}", "customer_id": customer, "name": f"P{n}",
                "level": level, "last_activity_at": dt.datetime.fromisoformat(last)}

    insert(ws, "contacts", [
        contact(1, "A1", "executive", "2026-06-01"),   # A1: one contact only
        contact(2, "B1", "operations", "2026-06-01"),  # B1: two, no executive
        contact(3, "B1", "finance", "2026-06-01"),
        contact(4, "B2", "executive", "2026-05-01"),   # B2: executive and finance: fine
        contact(5, "B2", "finance", "2026-01-01"),     # (before the 90 days: not recent)
        contact(6, "C1", "operations", "2026-06-01"),  # C1: tier C, not strategic
    ])                                                 # A2: nobody
    rows = contact_coverage(ws, as_of=dt.date(2026, 6, 30))
    flags = {r["customer_id"]: r["flags"] for r in rows}
    assert flags == {"A1": ["single_contact"], "A2": ["no_contact", "no_executive"],
                     "B1": ["no_executive"], "B2": []}
    assert [r["customer_id"] for r in rows] == ["A1", "A2", "B1", "B2"]  # flagged first
    b2 = rows[3]
    # recent: activity since 2026-04-01 (90 days before 06-30): only the executive
    assert (b2["contacts"], b2["executive"], b2["finance"], b2["recent"], b2["levels"]) == (
        2, 1, 1, 1, 2)
    only = contact_coverage(ws, as_of=dt.date(2026, 6, 30), flagged_only=True)
    assert [r["customer_id"] for r in only] == ["A1", "A2", "B1"]
    tier_c = contact_coverage(ws, tiers=("C",), as_of=dt.date(2026, 6, 30))
    assert [r["customer_id"] for r in tier_c] == ["C1"]
