"""Rep scorecards on a small hand-computed workspace (three account reps, 2026-04..06)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from salesradar.errors import UserInputError
from salesradar.metrics.frame import last_whole, period_end
from salesradar.performance.scorecard import rep_scorecards
from salesradar.workspace import Workspace

from .rows import insert, line

AS_OF = dt.date(2026, 6, 30)  # a month end: June is the last whole month


def _deal(n: int, rep: str, outcome: str, amount: float, created: str, closed: str
          ) -> dict[str, Any]:
    return {"deal_id": f"D{n}", "customer_id": "C1", "owner_rep_id": rep, "amount": amount,
            "created_at": created, "close_date": closed, "outcome": outcome,
            "stage": outcome, "forecast_category": "closed"}


@pytest.fixture
def team(ws: Workspace) -> Workspace:
    insert(ws, "reps", [
        {"rep_id": r, "name": n, "team": "KA", "model": "account", "active_to": to}
        for r, n, to in [("A1", "Avi", None), ("A2", "Bina", None), ("A3", "Gil", None),
                         ("L1", "Lead", None), ("X1", "Gone", "2025-12-31")]
    ])
    insert(ws, "invoice_lines", [
        # A1: 1,000 revenue − 600 cost = 400 gross profit in each of April, May, June
        line(1, "2026-04-10", "C1", "A1", 1000, 600),
        line(2, "2026-05-10", "C1", "A1", 1000, 600),
        line(3, "2026-06-10", "C1", "A1", 1000, 600),
        # A2: April 1,000 GP (1 customer), May nothing, June 300 + 200 GP (2 customers)
        line(4, "2026-04-11", "C2", "A2", 2000, 1000),
        line(5, "2026-06-11", "C2", "A2", 500, 200),
        line(6, "2026-06-12", "C3", "A2", 500, 300),
        # A3: June 0 GP (1 customer); X1 left in 2025 and sold only then
        line(7, "2026-06-13", "C4", "A3", 300, 300),
        line(8, "2025-06-13", "C5", "X1", 9000, 0),
    ])
    insert(ws, "deals", [
        # A1: 3 won (100, 200, 300 after 10, 20, 30 days) and 1 lost -> win rate 3/4
        _deal(1, "A1", "won", 100, "2026-03-22", "2026-04-01"),
        _deal(2, "A1", "won", 200, "2026-04-11", "2026-05-01"),
        _deal(3, "A1", "won", 300, "2026-05-02", "2026-06-01"),
        _deal(4, "A1", "lost", 900, "2026-05-02", "2026-06-02"),
        # A2: 1 won (1,000 after 50 days), 1 lost -> 1/2; A3: 2 lost -> 0/2
        _deal(5, "A2", "won", 1000, "2026-04-12", "2026-06-01"),
        _deal(6, "A2", "lost", 500, "2026-04-12", "2026-06-01"),
        _deal(7, "A3", "lost", 500, "2026-04-12", "2026-06-01"),
        _deal(8, "A3", "lost", 500, "2026-04-12", "2026-06-01"),
    ])
    return ws


def _kpis(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["name"]: k for k in card["kpis"]}


def test_last_whole_month() -> None:
    assert last_whole(dt.date(2026, 6, 30), "month") == dt.date(2026, 6, 1)
    assert last_whole(dt.date(2026, 6, 29), "month") == dt.date(2026, 5, 1)


def test_last_whole_period_and_its_end() -> None:
    # 2026-06-30 ends Q2 (04-01..06-30); 06-29 does not, so Q1 (01-01..03-31) is the last whole
    assert last_whole(dt.date(2026, 6, 30), "quarter") == dt.date(2026, 4, 1)
    assert last_whole(dt.date(2026, 6, 29), "quarter") == dt.date(2026, 1, 1)
    assert last_whole(dt.date(2026, 12, 31), "year") == dt.date(2026, 1, 1)
    assert period_end(dt.date(2024, 2, 1), "month") == dt.date(2024, 2, 29)  # leap year
    assert period_end(dt.date(2026, 10, 1), "quarter") == dt.date(2026, 12, 31)
    assert period_end(dt.date(2026, 1, 1), "year") == dt.date(2026, 12, 31)


def test_values_medians_and_tops(team: Workspace) -> None:
    cards = rep_scorecards(team, as_of=AS_OF)
    # L1 sells nothing and X1 left: neither is listed nor a peer
    assert [c["rep_id"] for c in cards] == ["A1", "A2", "A3"]
    a1, a2, a3 = (_kpis(c) for c in cards)
    # gross profit, monthly mean of Apr..Jun: A1 (400+400+400)/3 = 400, A2 (1000+0+500)/3 = 500,
    # A3 (0+0+0)/3 = 0; median of {400, 500, 0} = 400 (with L1's 0 it would be 200), top 500
    assert a1["gross_profit"]["value"] == pytest.approx(400)
    assert a2["gross_profit"]["value"] == pytest.approx(500)
    assert a3["gross_profit"]["value"] == pytest.approx(0)
    assert a1["gross_profit"]["team_median"] == pytest.approx(400)
    assert a1["gross_profit"]["top_value"] == pytest.approx(500)
    assert a1["gross_profit"]["top_rep_id"] == "A2"
    assert [t["value"] for t in a2["gross_profit"]["trend"][-3:]] == pytest.approx([1000, 0, 500])
    assert len(a2["gross_profit"]["trend"]) == 12
    assert a2["gross_profit"]["trend"][-1]["period"] == "2026-06-01"
    # active customers: A2 (1 + 0 + 2) / 3 = 1
    assert a2["active_customers"]["value"] == pytest.approx(1)
    # win rate over the last 180 days: 3/4, 1/2, 0/2; median 0.5, top 0.75
    assert a1["win_rate"]["value"] == pytest.approx(0.75)
    assert a3["win_rate"]["value"] == pytest.approx(0.0)
    assert a2["win_rate"]["team_median"] == pytest.approx(0.5)
    # average won deal: A1 (100+200+300)/3 = 200, A2 1,000, A3 none; median of {200, 1000} = 600
    assert a1["avg_deal_size"]["value"] == pytest.approx(200)
    assert a3["avg_deal_size"]["value"] is None
    assert a1["avg_deal_size"]["team_median"] == pytest.approx(600)
    assert a1["avg_deal_size"]["peers"] == 2
    # sales cycle (lower is better): A1 (10+20+30)/3 = 20 days, A2 50; the top is A1's 20
    assert a1["sales_cycle_days"]["value"] == pytest.approx(20)
    assert a2["sales_cycle_days"]["top_value"] == pytest.approx(20)
    # no targets, no forecasts: no value rather than a made-up one
    assert a1["pipeline_coverage"]["value"] is None
    assert a1["forecast_accuracy"]["value"] is None


def test_strengths_and_improvements(team: Workspace) -> None:
    a1, a2, a3 = rep_scorecards(team, as_of=AS_OF)
    # A1 against the medians: win rate (0.75 − 0.5)/0.5 = +50%; cycle −(20 − 35)/35 = +43%;
    # gross profit and active customers 0 (at the median); deal size (200 − 600)/600 = −67%
    assert [s["kpi"] for s in a1["strengths"]] == ["win_rate", "sales_cycle_days"]
    assert [s["kpi"] for s in a1["improvements"]] == ["avg_deal_size"]
    assert a1["strengths"][0]["evidence_en"] == (
        "Win rate 75%: the best of 3 reps in the team (median 50%)")
    assert a1["improvements"][0]["evidence_en"] == (
        "Average deal size ₪200 against the team median of ₪600 and the best ₪1.0k (Bina)")
    assert "חציון הצוות" in a1["improvements"][0]["evidence_he"]
    # A2: deal size (1000 − 600)/600 = +67%, gross profit (500 − 400)/400 = +25%;
    # cycle −(50 − 35)/35 = −43% is the one thing to improve
    assert [s["kpi"] for s in a2["strengths"]] == ["avg_deal_size", "gross_profit"]
    assert [s["kpi"] for s in a2["improvements"]] == ["sales_cycle_days"]
    # A3 is behind on gross profit (−100%), win rate (−100%), active customers (−67%):
    # no strength, the two furthest behind to improve
    assert a3["strengths"] == []
    assert {s["kpi"] for s in a3["improvements"]} == {"gross_profit", "win_rate"}


def test_requested_reps(team: Workspace) -> None:
    (gone,) = rep_scorecards(team, rep_ids=["X1"], as_of=AS_OF)
    assert gone["model"] == "account"
    assert _kpis(gone)["gross_profit"]["value"] == pytest.approx(0)
    with pytest.raises(UserInputError, match="unknown rep NOPE"):
        rep_scorecards(team, rep_ids=["NOPE"], as_of=AS_OF)
