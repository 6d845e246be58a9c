"""Account plans, their versions and tracking, and the quarterly review, computed by hand.

Three customers, data up to 2026-06-30, quarter 2026Q2 (April to June, 91 days):

* K1 -- Q1 1,000 revenue (600 cost), Q2 2,000 (1,000 cost), 100 cost to serve in Q2: the most
  profitable, tier A;
* K2 -- Q2 500 revenue (400 cost), 300 cost to serve: profit 100 − 300 = −200, tier D;
* K3 -- Q2 300 revenue (200 cost), new this quarter (no trend, so not B): tier C.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from performance.rows import insert, line
from salesradar.accounts.plans import (
    add_action,
    create_plan,
    current_plan,
    draft_plan,
    plan_history,
    plan_vs_actual,
    revise_plan,
    set_action_status,
    with_names,
)
from salesradar.accounts.review import quarterly_review
from salesradar.app.db import AppDB
from salesradar.errors import UserInputError
from salesradar.workspace import Workspace

D = dt.date


@pytest.fixture
def accounts(ws: Workspace) -> Workspace:
    insert(ws, "customers", [{"customer_id": c, "name": n, "rep_id": "R1"}
                             for c, n in [("K1", "Kfir Foods"), ("K2", "Dan Deli"),
                                          ("K3", "Gal Cafe")]])
    insert(ws, "invoice_lines", [
        line(1, "2026-02-10", "K1", "R1", 1000, 600),
        line(2, "2026-05-10", "K1", "R1", 2000, 1000),
        line(3, "2026-05-11", "K2", "R1", 500, 400),
        line(4, "2026-06-30", "K3", "R1", 300, 200),
    ])
    insert(ws, "cost_to_serve", [
        {"customer_id": "K1", "period": "2026-05-01", "grain": "month", "kind": "logistics",
         "amount": 100},
        {"customer_id": "K2", "period": "2026-04-01", "grain": "month", "kind": "service",
         "amount": 300},
    ])
    return ws


@pytest.fixture
def db() -> Iterator[AppDB]:
    with AppDB.open("sqlite://") as app:
        yield app


def _plan(db: AppDB, ws: Workspace) -> None:
    # plan year 2026-04-01..2027-03-31 = 365 days, target 7,300 -> 20 a day (data dates: the
    # tests judge them as of fixed days, never against the clock)
    create_plan(db, ws, "K1", author="dana", revenue_target=7300.0,
                period_start=D(2026, 4, 1), period_end=D(2027, 3, 31),
                actions=[("Quarterly business review", "R1", D(2026, 6, 1)),
                         ("Meet the CFO", "R1", D(2026, 5, 1))])


def test_versions_and_actions(accounts: Workspace, db: AppDB) -> None:
    _plan(db, accounts)
    first = current_plan(db, "K1")
    assert first is not None
    assert (first["version"], first["tier"], first["revenue_target"]) == (1, "A", 7300.0)
    # revenue today = the last 12 months: 1,000 + 2,000
    assert first["revenue_today"] == pytest.approx(3000)
    revise_plan(db, "K1", author="dana", needs=["weekly delivery"], revenue_target=7665.0)
    history = plan_history(db, "K1")
    assert [h["version"] for h in history] == [1, 2]
    assert history[0]["revenue_target"] == 7300.0  # the old version is kept as it was
    assert history[1]["needs"] == ["weekly delivery"]
    assert history[1]["note"] == "revised: needs, revenue_target"
    done = set_action_status(db, first["actions"][0]["id"], "done")  # "Meet the CFO" (earliest)
    assert (done["title"], done["status"]) == ("Meet the CFO", "done")
    with pytest.raises(UserInputError, match="account plans are for A and B"):
        create_plan(db, accounts, "K3")  # tier C
    with pytest.raises(UserInputError, match="cannot change"):
        revise_plan(db, "K1", owner="x")
    with pytest.raises(UserInputError, match="status must be"):
        set_action_status(db, done["id"], "finished")


def test_stopped_items_are_told_by_their_median_rhythm(accounts: Workspace) -> None:
    # bought on days 0, 7, 14, 21 and 108: median gap 7, mean gap 27; none for 60 days since
    accounts.con.execute(
        "CREATE TABLE score_stopped_items AS SELECT 'K1' AS customer_id, 'S1' AS sku, "
        "7.0 AS median_gap, 27.0 AS mean_gap, 60.0 AS gap_days, 500.0 AS value_at_stake")
    for lang, reason in [("en", "bought every ~7 days; last 60 days ago"),
                         ("he", "נקנה כל ~7 יום; לאחרונה לפני 60 יום")]:
        draft = draft_plan(accounts, "K1", lang=lang)
        stopped = [o for o in draft["opportunities"] if o["source"] == "stopped_item"]
        assert [(o["sku"], o["yearly_value"], o["reason"]) for o in stopped] == [
            ("S1", 500.0, reason)]  # value_at_stake is already yearly


@pytest.mark.parametrize(("since", "longest", "en", "he"), [
    # every ~10 days, silent 50, never paused longer than 12: drifting
    (50.0, 12.0, "drifting from its purchase rhythm (churn risk 60%)",
     "סוטה מקצב הקנייה שלו (סיכון נטישה 60%)"),
    # the same, but it once paused 80 days and came back: the model's risk alone
    (50.0, 80.0, "churn risk 60%", "סיכון נטישה 60%"),
    # within its rhythm (silent 8 days): the model's risk alone
    (8.0, 12.0, "churn risk 60%", "סיכון נטישה 60%"),
])
def test_a_plan_calls_drifting_only_what_its_history_shows(
    accounts: Workspace, since: float, longest: float, en: str, he: str,
) -> None:
    accounts.con.execute(
        "CREATE OR REPLACE TABLE score_churn AS SELECT 'K1' AS customer_id, "
        "DATE '2026-06-30' AS as_of, 0.6 AS churn_probability, 6 AS purchase_days, "
        f"10.0 AS median_gap_days, {longest} AS longest_gap_days, "
        f"{since} AS days_since_last_order")
    for lang, risk in (("en", en), ("he", he)):
        risks = [r["risk"] for r in draft_plan(accounts, "K1", lang=lang)["risks"]]
        assert risks[0] == risk


def test_draft_plan_tier_is_of_the_day_asked(accounts: Workspace) -> None:
    # a scoring that put K1 in C; as of 2026-06-30 the numbers (3,000 revenue, the most profit)
    # make it A, and a draft as of that day must carry that tier, not the stored one
    accounts.con.execute("CREATE TABLE score_tiers AS SELECT 'K1' AS customer_id, 'C' AS tier")
    assert draft_plan(accounts, "K1")["tier"] == "C"  # no day asked: the stored scores
    assert draft_plan(accounts, "K1", as_of=D(2026, 6, 30))["tier"] == "A"


def test_plan_vs_actual(accounts: Workspace, db: AppDB) -> None:
    _plan(db, accounts)
    add_action(db, "K1", "Renewal offer", "R1", D(2026, 7, 15))  # due later: open, not overdue
    track = plan_vs_actual(accounts, db, "K1", as_of=D(2026, 6, 30))
    # to date: 2026-04-01..06-30 = 91 days × 20 = 1,820 expected; 2,000 sold -> 2000/1820
    assert track["target_to_date"] == pytest.approx(1820)
    assert track["revenue_to_date"] == pytest.approx(2000)
    assert track["attainment_to_date"] == pytest.approx(2000 / 1820)
    # the rest: (7,300 − 2,000) over the 274 days to 2027-03-31, per 30.44-day month
    assert track["run_rate_needed_per_month"] == pytest.approx(5300 / 274 * 30.44)
    assert (track["actions_open"], track["actions_overdue"]) == (3, 2)


def test_quarterly_review(accounts: Workspace, db: AppDB) -> None:
    _plan(db, accounts)
    set_action_status(db, 2, "done")  # "Meet the CFO"; the review still due 06-01 is overdue
    # a fixed clock: overdue is judged against the day the review is read, not the data's
    review = quarterly_review(accounts, quarter="2026Q2", db=db, today=D(2026, 7, 1))
    tiers = {t["tier"]: t for t in review["tiers"]}
    assert [t["tier"] for t in review["tiers"]] == ["A", "B", "C", "D"]
    assert (tiers["A"]["accounts"], tiers["B"]["accounts"], tiers["C"]["accounts"],
            tiers["D"]["accounts"]) == (1, 0, 1, 1)
    (k1,) = tiers["A"]["rows"]
    # K1: 2,000 vs 1,000 the quarter before (+100%); GP 1,000; profit 1,000 − 100 = 900;
    # target for the quarter 7,300 × 91/365 = 1,820; attainment 2,000/1,820 ≥ 100%: ahead
    assert k1["revenue"] == pytest.approx(2000)
    assert k1["change_pct"] == pytest.approx(1.0)
    assert k1["profit"] == pytest.approx(900)
    assert k1["target"] == pytest.approx(1820)
    assert k1["status"] == "ahead"
    assert (k1["actions_open"], k1["actions_overdue"]) == (1, 1)
    (k2,) = tiers["D"]["rows"]
    assert k2["profit"] == pytest.approx(100 - 300)
    assert k2["status"] == "no_plan"
    # totals: revenue 2,000 + 500 + 300 = 2,800; A holds 2,000/2,800 of it
    assert review["totals"]["revenue"] == pytest.approx(2800)
    assert review["totals"]["profit"] == pytest.approx(900 - 200 + 100)
    assert tiers["A"]["share_of_revenue"] == pytest.approx(2000 / 2800)
    assert review["totals"]["attainment"] == pytest.approx(2000 / 1820)
    he = quarterly_review(accounts, quarter="2026-Q2", db=db, lang="he")
    assert he["title"] == "סקירת לקוחות רבעונית 2026Q2"
    assert he["tiers"][0]["rows"][0]["status_text"] == "מקדים את התוכנית"
    with pytest.raises(UserInputError, match="not a quarter"):
        quarterly_review(accounts, quarter="2026", db=db)


@pytest.mark.parametrize("period", ["2026-07", "2026-05", "2026-04-01"])
def test_quarterly_review_refuses_a_month(accounts: Workspace, db: AppDB, period: str) -> None:
    # a month is 28-31 days, so a guess by length took "2026-07" for the quarter 2026Q3
    with pytest.raises(UserInputError, match="not a quarter"):
        quarterly_review(accounts, quarter=period, db=db)


def test_actions_are_overdue_by_the_clock_not_the_last_invoice(accounts: Workspace,
                                                                db: AppDB) -> None:
    # the data ends 2026-06-30; an action due 2026-12-01 is overdue on 2026-12-06, not on 11-30
    create_plan(db, accounts, "K1", revenue_target=7300.0, period_start=D(2026, 4, 1),
                period_end=D(2027, 3, 31), actions=[("Renewal", "R1", D(2026, 12, 1))])
    assert plan_vs_actual(accounts, db, "K1", today=D(2026, 12, 6))["actions_overdue"] == 1
    assert plan_vs_actual(accounts, db, "K1", today=D(2026, 11, 30))["actions_overdue"] == 0
    review = quarterly_review(accounts, quarter="2026Q2", db=db, today=D(2026, 12, 6))
    assert review["totals"]["actions_overdue"] == 1
    early = quarterly_review(accounts, quarter="2026Q2", db=db, today=D(2026, 11, 30))
    assert early["totals"]["actions_overdue"] == 0


def test_review_of_a_quarter_before_the_plan_year(accounts: Workspace, db: AppDB) -> None:
    # K1's plan year starts 2026-07-01: in 2026Q2 it has a plan, but no target in that quarter
    create_plan(db, accounts, "K1", revenue_target=7300.0, period_start=D(2026, 7, 1),
                period_end=D(2027, 6, 30))
    review = quarterly_review(accounts, quarter="2026Q2", db=db)
    (k1,) = next(t for t in review["tiers"] if t["tier"] == "A")["rows"]
    assert (k1["status"], k1["target"], k1["plan_version"]) == ("outside_plan", None, 1)
    assert k1["status_text"] == "plan period does not cover this quarter"
    assert review["totals"]["with_plan"] == 1
    assert review["totals"]["target"] is None and review["totals"]["attainment"] is None


def test_stored_plan_names_its_customer_and_products(accounts: Workspace, db: AppDB) -> None:
    insert(accounts, "products", [{"sku": "S1", "name": "Olive oil 5L"}])
    accounts.con.execute(
        "CREATE TABLE score_stopped_items AS SELECT 'K1' AS customer_id, 'S1' AS sku, "
        "7.0 AS median_gap, 27.0 AS mean_gap, 60.0 AS gap_days, 500.0 AS value_at_stake")
    create_plan(db, accounts, "K1")
    stored = current_plan(db, "K1")
    assert stored is not None
    plan = with_names(accounts, stored)
    assert plan["name"] == "Kfir Foods"
    assert [(o["sku"], o["name"]) for o in plan["opportunities"]] == [("S1", "Olive oil 5L")]
