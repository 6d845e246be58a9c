"""Funnel ratios per rep against the team's best, computed by hand (window: 2026-06)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from salesradar.performance.funnel import rep_funnels
from salesradar.workspace import Workspace

from .rows import insert, line


def _act(n: int, rep: str, kind: str, outcome: str = "done") -> dict[str, Any]:
    return {"activity_id": f"A{n}", "kind": kind, "rep_id": rep, "outcome": outcome,
            "at": dt.datetime(2026, 6, 10, 9) + dt.timedelta(hours=n)}


def _deal(deal: str, rep: str, outcome: str) -> dict[str, Any]:
    return {"deal_id": deal, "customer_id": "C1", "owner_rep_id": rep, "amount": 100.0,
            "created_at": "2026-06-05", "close_date": "2026-06-20", "outcome": outcome,
            "stage": outcome}


def test_funnel_against_the_best(ws: Workspace) -> None:
    insert(ws, "reps", [{"rep_id": "R1", "name": "Avi", "team": "T"},
                        {"rep_id": "R2", "name": "Bina", "team": "T"}])
    acts = [_act(i, "R1", "call") for i in range(10)] + [_act(10 + i, "R2", "call")
                                                        for i in range(10)]
    acts += [_act(20 + i, "R1", "meeting") for i in range(4)]
    acts += [_act(24, "R1", "meeting", "cancelled")]  # not held: not counted
    acts += [_act(25 + i, "R2", "meeting") for i in range(2)]
    insert(ws, "activities", acts)
    insert(ws, "deals", [_deal("L1", "R1", "lost"), _deal("O1", "R1", "open"),
                         _deal("W1", "R2", "won"), _deal("W2", "R2", "won")])
    insert(ws, "deal_stage_history", [
        {"deal_id": "L1", "stage": s, "entered_at": dt.datetime(2026, 6, d)}
        for s, d in [("new", 5), ("proposal", 10), ("closed_lost", 20)]])
    insert(ws, "invoice_lines", [line(1, "2026-06-01", "C1", "R1", 1000, 0),
                                 line(2, "2026-06-02", "C2", "R1", 500, 0)])
    r1, r2 = rep_funnels(ws, days=30, as_of=dt.date(2026, 6, 30))["reps"]
    # R1: 10 calls -> 4 meetings (0.4) -> 2 deals (0.5) -> 0 won (0.0)
    # R2: 10 calls -> 2 meetings (0.2) -> 2 deals (1.0) -> 2 won (1.0)
    assert (r1["calls"], r1["meetings"], r1["deals"], r1["won"]) == (10, 4, 2, 0)
    assert (r1["call_to_meeting"], r1["meeting_to_deal"], r1["deal_to_won"]) == (0.4, 0.5, 0.0)
    assert (r2["call_to_meeting"], r2["meeting_to_deal"], r2["deal_to_won"]) == (0.2, 1.0, 1.0)
    # the team's best per step: 0.4 (R1), 1.0 (R2), 1.0 (R2); R1's gaps 0, 0.5, 1.0 ->
    # it loses most from deal to won; R2's gaps 0.5, 0, 0 -> from call to meeting
    assert (r1["call_to_meeting_best"], r1["deal_to_won_best"]) == (0.4, 1.0)
    assert (r1["weakest_step"], r1["weakest_gap"]) == ("deal_to_won", 1.0)
    assert (r2["weakest_step"], r2["weakest_gap"]) == ("call_to_meeting", 0.5)
    assert r2["weakest_he"] == "שיחות ← פגישות"
    # R1's lost deal stood last at "proposal"; average sale per customer (1,000 + 500) / 2
    assert (r1["lost_at"], r1["lost_at_count"]) == ("proposal", 1)
    assert r1["avg_sale_per_customer"] == pytest.approx(750)
