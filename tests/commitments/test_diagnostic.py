"""The vendor diagnostic on a small hand-made company; every number is worked out below."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import pytest

from metrics.conftest import load_tables
from metrics.data import arrow_table
from salesradar.commitments.diagnostic import run_diagnostic

D, T = date, datetime


def _line(n: int, day: date, customer: str, qty: float, rev: float, cost: float,
          rep: str) -> dict[str, Any]:
    return {"invoice_id": f"I{n}", "line_no": 1, "invoice_date": day, "customer_id": customer,
            "sku": "s1", "quantity": qty, "net_revenue": rev, "cost": cost, "rep_id": rep}


def _deal(i: str, created: date, close: date, outcome: str, amount: float, customer: str | None,
          rep: str) -> dict[str, Any]:
    return {"deal_id": i, "pipeline": "P", "created_at": created, "close_date": close,
            "outcome": outcome, "amount": amount, "customer_id": customer, "owner_rep_id": rep,
            "stage": "x"}


TABLES = {
    # list price 10: L1 at list, L2 25% below (deep), L3 10% below
    "products": [{"sku": "s1", "list_price": 10}],
    "invoice_lines": [_line(1, D(2025, 3, 1), "c1", 10, 100, 60, "r1"),
                      _line(2, D(2025, 4, 1), "c2", 10, 75, 60, "r2"),
                      _line(3, D(2025, 6, 30), "c1", 5, 45, 30, "r1")],
    "deals": [_deal("d1", D(2025, 1, 1), D(2025, 2, 10), "won", 1000, "c1", "r1"),  # 40 days
              _deal("d2", D(2025, 2, 1), D(2025, 3, 3), "won", 500, None, "r2"),  # 30 days
              _deal("d3", D(2025, 3, 1), D(2025, 4, 1), "lost", 200, "c2", "r1"),
              _deal("d4", D(2025, 5, 1), D(2025, 6, 15), "open", 400, "c1", "r2"),
              _deal("d5", D(2025, 6, 1), D(2025, 8, 1), "open", 300, "c2", "r1")],
    "deal_stage_history": [
        {"deal_id": d, "stage": s, "entered_at": T(2025, 1, 1 + i)}
        for d, stages in (("d1", ("lead", "proposal", "won")), ("d2", ("lead", "proposal", "won")),
                          ("d3", ("lead", "proposal", "lost")), ("d4", ("lead",)),
                          ("d5", ("lead", "proposal")))
        for i, s in enumerate(stages)],
    "leads": [{"lead_id": "l1", "created_at": T(2025, 1, 1), "source": "web", "deal_id": "d1",
               "owner_rep_id": "r1"},
              {"lead_id": "l2", "created_at": T(2025, 2, 1), "source": "web", "deal_id": None,
               "owner_rep_id": "r1"},
              {"lead_id": "l3", "created_at": T(2025, 2, 1), "source": "referral",
               "deal_id": "d2", "owner_rep_id": "r2"},
              {"lead_id": "l4", "created_at": T(2025, 3, 1), "source": "referral",
               "deal_id": "d3", "owner_rep_id": "r2"}],
    "activities": [{"activity_id": "a1", "kind": "call", "deal_id": "d1", "at": T(2025, 1, 5)},
                   {"activity_id": "a2", "kind": "call", "deal_id": "d5", "at": T(2025, 6, 20)},
                   {"activity_id": "a3", "kind": "meeting", "deal_id": "d3",
                    "at": T(2025, 3, 10)}],
}


@pytest.fixture(scope="module")
def diagnostic() -> dict[str, Any]:
    con = load_tables(ibis.duckdb.connect(),
                      {name: arrow_table(name, rows) for name, rows in TABLES.items()})
    return run_diagnostic(con)  # as of the last invoice day, 30 Jun 2025


def test_window_is_the_year_to_the_last_invoice(diagnostic: dict[str, Any]) -> None:
    assert (diagnostic["from"], diagnostic["as_of"]) == ("2024-07-01", "2025-06-30")


def test_funnel(diagnostic: dict[str, Any]) -> None:
    stages = [(s["stage"], s["deals"], s["conversion"]) for s in diagnostic["funnel"]["stages"]]
    # lead: 5 deals, proposal: 4 (not d4), won: 2; "lost" only has lost deals: an exit
    # lead -> proposal 4/5 = 80%, proposal -> won 2/4 = 50%
    assert stages == [("lead", 5, 0.8), ("proposal", 4, 0.5), ("won", 2, None)]
    assert diagnostic["funnel"]["finding_en"] == (
        "the biggest leak is proposal → won in P: 50% go on")


def test_lead_sources(diagnostic: dict[str, Any]) -> None:
    by = {s["source"]: s for s in diagnostic["lead_sources"]["sources"]}
    # web: 2 leads, 1 deal (d1, won ₪1,000) -> 50%, ₪500 a lead
    # referral: 2 leads, 2 deals (d2 won ₪500, d3 lost) -> 100%, ₪250 a lead
    assert (by["web"]["lead_to_deal_rate"], by["web"]["won_per_lead"]) == (0.5, 500)
    assert (by["referral"]["lead_to_deal_rate"], by["referral"]["won_per_lead"]) == (1.0, 250)
    assert "a web lead is worth ₪500" in diagnostic["lead_sources"]["finding_en"]


def test_rep_spread(diagnostic: dict[str, Any]) -> None:
    s = diagnostic["rep_spread"]
    # r1: 100 + 45 = 145, r2: 75 -> top/bottom 145/75 = 1.93; median (145 + 75) / 2 = 110
    assert [(r["rep_id"], r["revenue"]) for r in s["reps"]] == [("r1", 145), ("r2", 75)]
    assert s["median"] == 110
    assert s["finding_en"] == "the top rep sells 1.9× the bottom one; the middle rep ₪110"


def test_pricing(diagnostic: dict[str, Any]) -> None:
    p = diagnostic["pricing"]
    # revenue 220 against list value 100 + 100 + 50 = 250 -> 1 − 220/250 = 12% below list
    assert p["avg_discount"] == pytest.approx(0.12)
    assert p["deep_discount_share"] == pytest.approx(75 / 220)  # L2 is 25% below
    assert p["gross_margin"] == pytest.approx(1 - 150 / 220)
    # r2: 1 − 75/100 = 25%; r1: 1 − 145/150 = 3.3%
    assert [(r["rep_id"], round(r["avg_discount"], 4)) for r in p["reps"]] == [
        ("r2", 0.25), ("r1", 0.0333)]


def test_sales_cycle(diagnostic: dict[str, Any]) -> None:
    c = diagnostic["sales_cycle"]
    # won in the window: d1 40 days, d2 30 days -> median 35, p90 30 + 0.9 × 10 = 39
    assert (c["won_deals"], c["median_days"], c["mean_days"]) == (2, 35, 35)
    assert c["p90_days"] == pytest.approx(39)


def test_crm_quality(diagnostic: dict[str, Any]) -> None:
    q = diagnostic["crm_quality"]
    # open: d4 (close date 15 Jun is past, no activity) and d5 (activity 20 Jun, closes in Aug)
    assert (q["open_deals"], q["past_due"], q["quiet"], q["stale"]) == (2, 1, 1, 1)
    assert q["deals_without_activity"] == 2  # d2 and d4
    fields = {(f["table"], f["column"]): f for f in q["missing_fields"]}
    assert fields[("deals", "customer_id")]["missing"] == 1  # d2, 1 of 5
    assert fields[("deals", "lost_reason")]["rows"] == 1  # only the lost deal is checked
    assert q["finding_en"] == ("stale open deals: 1 of 2; deals without any activity logged: 2; "
                               "deals.lost_reason is empty in 100% of rows")


def test_missing_tables_are_named() -> None:
    con = load_tables(ibis.duckdb.connect(), {"invoice_lines": arrow_table(
        "invoice_lines", TABLES["invoice_lines"])})
    d = run_diagnostic(con, as_of=date(2025, 6, 30))
    assert d["funnel"] == {"available": False, "missing_tables": ["deals", "deal_stage_history"],
                           "finding_en": "needs the table(s) deals, deal_stage_history",
                           "finding_he": "נדרשות הטבלאות deals, deal_stage_history"}
    assert d["pricing"]["missing_tables"] == ["products"]
    assert d["rep_spread"]["available"]
