"""Targets, pacing and commissions on a small workspace, computed by hand.

October 2026 (31 days), data up to 2026-10-10 (10 days gone). Targets: R1 31,000 revenue and
R2 10,000 (imported), R2 replaced in the app by 20,000; R1 4 won deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salesradar.app.db import AppDB
from salesradar.errors import UserInputError
from salesradar.performance.commissions import (
    check_plan,
    compute_commissions,
    load_plan,
    metric_commission,
    save_plan,
    stored_plan,
)
from salesradar.performance.plans import pacing, set_target
from salesradar.workspace import Workspace

from .rows import insert, line

AS_OF = dt.date(2026, 10, 10)


def _target(rep: str, metric: str, value: float, period: str = "2026-10-01") -> dict[str, Any]:
    return {"rep_id": rep, "team": None, "period": period, "grain": "month", "metric": metric,
            "value": value}


@pytest.fixture
def sales(ws: Workspace) -> Workspace:
    insert(ws, "reps", [{"rep_id": "R1", "name": "Avi", "team": "T"},
                        {"rep_id": "R2", "name": "Bina", "team": "T"}])
    insert(ws, "invoice_lines", [
        line(1, "2026-10-02", "C1", "R1", 5000, 0), line(2, "2026-10-09", "C2", "R1", 3000, 0),
        line(3, "2026-10-05", "C3", "R2", 12000, 0), line(4, "2026-09-30", "C3", "R2", 99, 0),
    ])
    insert(ws, "targets", [_target("R1", "revenue", 31000), _target("R2", "revenue", 10000),
                           _target("R1", "deals_won", 4)])
    insert(ws, "deals", [{"deal_id": f"D{i}", "customer_id": "C1", "owner_rep_id": "R1",
                          "amount": 1.0, "created_at": "2026-09-01", "close_date": day,
                          "outcome": "won", "stage": "closed_won"}
                         for i, day in enumerate(["2026-10-03", "2026-10-04", "2026-10-06",
                                                  "2026-10-08", "2026-10-09", "2026-10-10"])])
    return ws


@pytest.fixture
def db() -> Iterator[AppDB]:
    with AppDB.open("sqlite://") as app:
        yield app


def test_pacing(sales: Workspace, db: AppDB) -> None:
    set_target(db, rep_id="R2", period="2026-10", metric="revenue", value=20000, set_by="dana")
    report = pacing(sales, db, as_of=AS_OF)
    assert (report["period"], report["elapsed_days"], report["days"]) == ("2026-10-01", 10, 31)
    r1, r2 = report["reps"]
    # R1: 8,000 so far; expected 31,000 × 10/31 = 10,000; pace 0.8 (behind);
    # projected 8,000 × 31/10 = 24,800; needs (31,000 − 8,000)/21 days = 1,095.24 a day
    assert r1["actual"] == pytest.approx(8000)
    assert r1["expected"] == pytest.approx(10000)
    assert r1["pace"] == pytest.approx(0.8)
    assert r1["status"] == "behind"
    assert r1["projected"] == pytest.approx(24800)
    assert r1["needed_per_day"] == pytest.approx(23000 / 21)
    assert r1["achieved_per_day"] == pytest.approx(800)
    # R2: the app target 20,000 replaces the imported 10,000; 12,000 vs 20,000 × 10/31 = 6,451.6
    assert (r2["target"], r2["source"]) == (20000, "app")
    assert r2["pace"] == pytest.approx(12000 / (20000 * 10 / 31))
    assert r2["status"] == "ahead"
    # the team: 51,000 target, 20,000 so far
    (team,) = report["teams"]
    assert (team["team"], team["target"], team["actual"]) == ("T", 51000, 20000)
    assert "needs ₪1.1k a day" in r1["summary_en"]
    deals = pacing(sales, db, as_of=AS_OF, metric="deals_won", period="2026-10")
    # 6 deals won of 4 by 10/10: target met
    assert (deals["reps"][0]["actual"], deals["reps"][0]["status"]) == (6, "done")
    with pytest.raises(UserInputError, match="one rep or one team"):
        set_target(db, period="2026-10", metric="revenue", value=1)
    with pytest.raises(UserInputError, match="unknown plan metric"):
        set_target(db, rep_id="R1", period="2026-10", metric="calls", value=1)


PLAN: dict[str, Any] = {
    "name": "Test plan", "grain": "month", "cap": 2000,
    "metrics": [
        {"metric": "revenue", "weight": 0.7,
         "tiers": [{"from": 0.0, "rate": 0.01}, {"from": 0.8, "rate": 0.02},
                   {"from": 1.0, "rate": 0.03}],
         "accelerator": {"from": 1.0, "multiplier": 1.5}},
        {"metric": "deals_won", "weight": 0.3, "tiers": [{"from": 0.0, "rate": 100}],
         "accelerator": {"from": 1.0, "multiplier": 2.0}},
    ],
}


def test_tiers_accelerator_by_hand() -> None:
    revenue, deals = check_plan(PLAN)["metrics"]
    # target 100,000, actual 130,000: 80,000 × 1% = 800; 20,000 × 2% = 400;
    # 30,000 × 3% × 1.5 = 1,350; total 2,550
    total, slices = metric_commission(revenue, 100_000, 130_000)
    assert total == pytest.approx(2550)
    assert [s["commission"] for s in slices] == pytest.approx([800, 400, 1350])
    # below target: 70,000 of 100,000 is all in the first bracket: 700
    assert metric_commission(revenue, 100_000, 70_000)[0] == pytest.approx(700)
    # deals: 12 of 10: 10 × 100 + 2 × 100 × 2 = 1,400
    assert metric_commission(deals, 10, 12)[0] == pytest.approx(1400)


def test_commissions_weights_and_cap(sales: Workspace, db: AppDB, tmp_path: Path) -> None:
    insert(sales, "invoice_lines", [line(9, "2026-10-20", "C1", "R1", 30000, 0)])
    report = compute_commissions(sales, PLAN, period="2026-10", db=db)
    r1, r2 = report["reps"]
    # R1: revenue 38,000 of 31,000 (122.6%): 24,800 × 1% = 248; 6,200 × 2% = 124;
    # 7,000 × 4.5% = 315 -> 687 × 0.7 = 480.9. Deals 6 of 4: 4 × 100 + 2 × 200 = 800
    # -> × 0.3 = 240. Payout 720.9 (under the 2,000 cap)
    assert r1["lines"][0]["commission"] == pytest.approx(687)
    assert r1["lines"][0]["weighted"] == pytest.approx(480.9)
    assert r1["lines"][1]["weighted"] == pytest.approx(240)
    assert (r1["payout"], r1["capped"]) == (pytest.approx(720.9), False)
    # R2: revenue 12,000 of the imported 10,000 (no app target here): 8,000 × 1% = 80;
    # 2,000 × 2% = 40; 2,000 × 4.5% = 90 -> 210 × 0.7 = 147; no deals target: nothing
    assert r2["payout"] == pytest.approx(147)
    assert r2["statement_en"][1] == "Deals won: no target, no commission"
    assert r1["statement_en"][-1] == "payout ₪720.90"
    # a cap of 500 limits R1
    capped = compute_commissions(sales, {**PLAN, "cap": 500}, period="2026-10", db=db)
    assert (capped["reps"][0]["payout"], capped["reps"][0]["capped"]) == (500, True)
    assert capped["reps"][0]["statement_en"][-1] == "total ₪720.90, capped at ₪500.00"
    # the same plan from YAML and from the app database
    path = tmp_path / "plan.yaml"
    path.write_text("name: Test plan\ngrain: month\ncap: 2000\nmetrics:\n"
                    "  - {metric: revenue, weight: 1, tiers: [{from: 0, rate: 0.01}]}\n",
                    encoding="utf-8")
    assert load_plan(path)["metrics"][0]["weight"] == 1.0
    save_plan(db, PLAN)
    assert stored_plan(db, "Test plan") == check_plan(PLAN)


def test_plan_mistakes_are_listed() -> None:
    bad = {"name": "", "grain": "week", "metrics": [
        {"metric": "calls", "tiers": [{"from": 0, "rate": 1}]},
        {"metric": "revenue", "tiers": [{"from": 0.5, "rate": 1}]}]}
    with pytest.raises(UserInputError) as err:
        check_plan(bad)
    text = str(err.value)
    for part in ("name is missing", "grain must be", "metrics[0].metric", "must start at"):
        assert part in text
