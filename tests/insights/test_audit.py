"""The truth audit on a tiny hand-computed workspace: planted true claims pass, each planted
false claim (wrong median, rhythm from two purchase days, "drifting" inside the rhythm, value
at stake above the year's purchases, a cancellation the value ignores, an unbacked number) is
reported, with its words."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from models.invoice_helpers import workspace as lines_workspace
from salesradar.insights import Insight, Kind, Subject, Texts
from salesradar.insights.audit import (
    AuditReport,
    Statement,
    audit,
    audit_insights,
    explanation_statements,
    insight_statement,
)
from salesradar.insights.claims import claim
from salesradar.workspace import Workspace

DAY0 = dt.date(2025, 1, 1)
AS_OF = DAY0 + dt.timedelta(days=60)  # 02/03/2025, the day judged
DETECTED = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


# (customer, day number, sku, net revenue); every row is its own invoice
LINES: list[tuple[str, int, str, float]] = [
    # R: a rhythm buyer, every 10 days from day 0 to 30, then silent; ₪100 a day
    ("R", 0, "A", 100.0), ("R", 10, "A", 60.0), ("R", 10, "B", 40.0), ("R", 20, "A", 100.0),
    ("R", 30, "A", 100.0),
    # T: two purchase days, 10 days apart
    ("T", 40, "A", 250.0), ("T", 50, "A", 250.0),
    # I: every ~20 days and last bought 5 days before the day judged: inside its rhythm
    ("I", 0, "A", 50.0), ("I", 20, "A", 50.0), ("I", 40, "A", 50.0), ("I", 55, "A", 50.0),
    # X: one order of ₪1,000 fully cancelled three days later (a credit note)
    ("X", 10, "A", 1000.0), ("X", 13, "A", -1000.0),
    # B: a burst buyer, one ₪21.5k order
    ("B", 5, "A", 21_500.0),
    # W: returns part of its purchases
    ("W", 0, "A", 300.0), ("W", 15, "A", 300.0), ("W", 30, "A", 300.0), ("W", 31, "A", -120.0),
]


@pytest.fixture(scope="module")
def ws() -> Iterator[Workspace]:
    with Workspace.open(":memory:") as w:
        staged = pa.table({
            "invoice_id": [f"I{i}" for i in range(len(LINES))],
            "line_no": [1] * len(LINES),
            "invoice_date": pa.array([day(r[1]) for r in LINES], pa.date32()),
            "customer_id": [r[0] for r in LINES],
            "sku": [r[2] for r in LINES],
            "quantity": [1.0 if r[3] > 0 else -1.0 for r in LINES],
            "net_revenue": pa.array([r[3] for r in LINES], pa.float64()),
        })
        w.con.register("_staged", staged)
        w.con.execute("INSERT INTO invoice_lines BY NAME SELECT * FROM _staged")
        w.con.unregister("_staged")
        # W's lines carry a cost: 200 per sale, -80 on the return
        w.con.execute("UPDATE invoice_lines SET cost = CASE WHEN net_revenue > 0 THEN 200 "
                      "ELSE -80 END WHERE customer_id = 'W'")
        w.con.execute(RECORDS)
        yield w


# R's payments (due day 40 unpaid, due 50 paid 55, due 58 paid 70, due 70), two leads (L1
# never contacted before 03/03/2025, L2 called on 02/03), rep r1's deals and March target
RECORDS = """
    INSERT INTO payments (invoice_id, customer_id, due_date, paid_date, amount) VALUES
        ('P1', 'R', DATE '2025-02-10', NULL, 100), ('P2', 'R', DATE '2025-02-20',
         DATE '2025-02-25', 200), ('P3', 'R', DATE '2025-02-28', DATE '2025-03-12', 300),
        ('P4', 'R', DATE '2025-03-12', NULL, 50);
    INSERT INTO leads (lead_id, created_at) VALUES ('L1', TIMESTAMP '2025-03-01 12:00:00'),
        ('L2', TIMESTAMP '2025-03-01 08:00:00');
    INSERT INTO activities (activity_id, kind, lead_id, "at") VALUES
        ('A1', 'call', 'L1', TIMESTAMP '2025-03-04 09:00:00'),
        ('A2', 'call', 'L2', TIMESTAMP '2025-03-02 10:00:00');
    INSERT INTO deals (deal_id, owner_rep_id, amount, created_at, close_date, outcome) VALUES
        ('D1', 'r1', 1000, DATE '2025-01-05', DATE '2025-03-10', 'won'),
        ('D2', 'r1', 500, DATE '2025-01-05', DATE '2025-04-02', 'won'),
        ('D3', 'r1', 700, DATE '2025-01-05', DATE '2025-03-20', 'open');
    INSERT INTO targets (rep_id, period, metric, value) VALUES
        ('r1', DATE '2025-03-01', 'revenue', 5000)"""
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}


def c(name: str, value: Any, customer: str = "R", **where: Any) -> dict[str, Any]:
    return claim(name, value, customer_id=customer, to=where.pop("to", AS_OF), **where)


def statement(claims: list[dict[str, Any]], what: str = "", why: str = "",
              subject: str = "R") -> Statement:
    return Statement(id="1", kind="churn_risk", subject=f"customer:{subject}",
                     sentences=(what, why), claims=tuple(claims), names=(subject,))


def reasons(report: AuditReport) -> list[tuple[str, str]]:
    return [(d.claim, d.reason) for d in report.disagreements]


# ------------------------------------------------------------------------- true claims
def test_true_claims_of_a_rhythm_buyer_pass(ws: Workspace) -> None:
    claims = [
        c("purchase_days", 4), c("first_purchase_day", day(0)), c("last_purchase_day", day(30)),
        c("previous_purchase_day", day(20)), c("median_gap_days", 10),
        c("days_since_last_purchase", 30), c("past_rhythm", True),
        c("value_at_stake", 400.0), c("net_revenue", 200.0, **{"from": day(10)}, to=day(20)),
        c("gross_sales", 400.0), c("returned", 0), c("sales_on_day", 100.0, day=day(10)),
        c("purchase_days_in", 2, **{"from": day(5)}, to=day(25)),
        c("distinct_skus", 2), c("distinct_skus", 1, **{"from": day(11)}),
        claim("model_output", 0.62, customer_id="R", model="churn_probability"),
        claim("setting", 1000, setting="churn_min_value"),
    ]
    report = audit(ws, [statement(
        claims, "R is drifting from its rhythm",
        "orders every ~10 days; last order 30 days ago (on 31/01/2025); ₪400 at stake "
        "(churn risk 62%)")])
    assert report.disagreements == []
    assert report.claims["distinct_skus"] == 2
    assert report.statements == {"churn_risk": 1}
    assert report.to_dict()["claims_checked"] == len(claims)


def test_true_words_of_one_and_two_purchase_days(ws: Workspace) -> None:
    once = statement([c("purchase_days", 1, "X"), c("sales_on_day", 1000.0, "X", day=day(10)),
                      c("value_at_stake", 0.0, "X"), c("returned", 1000.0, "X")],
                     "X bought once", "bought once: ₪1.0k on 11/01/2025, ₪1,000 returned",
                     subject="X")
    twice = statement([c("purchase_days", 2, "T"), c("first_purchase_day", day(40), "T"),
                       c("last_purchase_day", day(50), "T"), c("value_at_stake", 500.0, "T")],
                      "T bought twice", "bought twice, 10 days apart; ₪500 at stake",
                      subject="T")
    report = audit(ws, [once, twice])
    assert report.disagreements == []


def test_returns_and_a_customer_without_them(ws: Workspace) -> None:
    report = audit(ws, [statement([c("returned", 120.0, "W"), c("gross_sales", 900.0, "W"),
                                   c("net_revenue", 780.0, "W"), c("value_at_stake", 780.0, "W"),
                                   c("returned", 0.0, "I")], subject="W")])
    assert report.disagreements == []
    wrong = audit(ws, [statement([c("returned", 120.0, "I")], subject="I")])
    assert reasons(wrong) == [("returned", "returned does not match the invoice lines")]
    assert wrong.disagreements[0].recomputed == 0.0


def test_money_tolerance(ws: Workspace) -> None:
    close = audit(ws, [statement([c("gross_sales", 400.009)])])
    assert close.disagreements == []
    far = audit(ws, [statement([c("gross_sales", 400.5)])])
    assert reasons(far) == [("gross_sales", "gross_sales does not match the invoice lines")]


# ------------------------------------------------------------------------ false claims
def test_wrong_median(ws: Workspace) -> None:
    report = audit(ws, [statement([c("median_gap_days", 12), c("purchase_days", 4)],
                                  why="orders every ~12 days")])
    got = reasons(report)
    assert ("median_gap_days", "median_gap_days does not match the invoice lines") in got
    assert any(name == "words: rhythm" for name, _ in got)
    median = next(d for d in report.disagreements if d.claim == "median_gap_days")
    assert (median.stated, median.recomputed) == (12, 10.0)
    assert median.sentence.endswith("orders every ~12 days")


def test_rhythm_stated_with_two_purchase_days(ws: Workspace) -> None:
    report = audit(ws, [statement([c("median_gap_days", 10, "T"), c("purchase_days", 2, "T")],
                                  why="orders every ~10 days", subject="T")])
    got = reasons(report)
    assert ("median_gap_days", "rhythm stated with 2 purchase day(s) (needs 3)") in got
    assert any(name == "words: rhythm" for name, _ in got)


def test_rhythm_words_without_any_median_claim(ws: Workspace) -> None:
    report = audit(ws, [statement([c("purchase_days", 4)], why="orders every ~10 days")])
    assert [d.claim for d in report.disagreements] == ["words: rhythm", "unbacked number"]


def test_drifting_inside_the_rhythm(ws: Workspace) -> None:
    # I: gaps 20, 20, 15 (median 20), 5 days since its last purchase day
    report = audit(ws, [statement([c("past_rhythm", True, "I"), c("median_gap_days", 20, "I"),
                                   c("days_since_last_purchase", 5, "I")],
                                  what="I is drifting from its rhythm", subject="I")])
    got = reasons(report)
    assert ("past_rhythm", "past_rhythm is False: 5 days since the last purchase day vs a "
            "median gap of 20.0 over 4 purchase day(s)") in got
    assert ("words: past rhythm", "'drifting'/'stopped' without a true past_rhythm claim") in got


def test_stopped_ordering_without_a_past_rhythm_claim(ws: Workspace) -> None:
    report = audit(ws, [statement([c("purchase_days", 4)], what="R has stopped ordering")])
    assert [d.claim for d in report.disagreements] == ["words: past rhythm"]


def test_value_at_stake_above_the_years_purchases(ws: Workspace) -> None:
    # B bought ₪21.5k once; "a quarter" scaled up to ₪86k is more than it ever bought
    report = audit(ws, [statement([c("value_at_stake", 86_000.0, "B")],
                                  why="₪86k at stake", subject="B")])
    assert reasons(report) == [("value_at_stake", "value at stake above what the subject "
                                "bought in that year (21,500.00)")]
    assert report.disagreements[0].recomputed == 21_500.0


def test_cancellation_after_the_last_purchase_that_the_value_ignores(ws: Workspace) -> None:
    # X: ₪1,000 on day 10 cancelled on day 13: nothing is at stake
    report = audit(ws, [statement([c("value_at_stake", 1000.0, "X"),
                                   c("last_purchase_day", day(10), "X"),
                                   c("purchase_days", 1, "X")], subject="X")])
    assert reasons(report) == [("value_at_stake",
                                "value_at_stake does not match the invoice lines")]
    assert report.disagreements[0].recomputed == 0.0


def test_a_cancellation_day_is_not_a_purchase_day(ws: Workspace) -> None:
    report = audit(ws, [statement([c("purchase_days", 2, "X"),
                                   c("last_purchase_day", day(13), "X")], subject="X")])
    assert [(d.claim, d.recomputed) for d in report.disagreements] == [
        ("purchase_days", 1), ("last_purchase_day", day(10).isoformat())]


def test_bought_once_with_two_purchase_days(ws: Workspace) -> None:
    report = audit(ws, [statement([c("purchase_days", 1, "T")], why="bought once",
                                  subject="T")])
    assert {d.claim for d in report.disagreements} == {"purchase_days", "words: bought once"}


def test_unbacked_numbers(ws: Workspace) -> None:
    claims = [c("median_gap_days", 10), c("purchase_days", 4), c("days_since_last_purchase", 30),
              c("value_at_stake", 400.0), c("past_rhythm", True)]
    report = audit(ws, [statement(
        claims, "R is drifting from its rhythm",
        "orders every ~10 days; last order 30 days ago; ₪1.6k a quarter at stake; 7 calls "
        "since 05/02/2025, 15% less")])
    assert [(d.claim, d.stated) for d in report.disagreements] == [
        ("unbacked number", "₪1.6k"), ("unbacked number", "7"),
        ("unbacked number", "05/02/2025"), ("unbacked number", "15%")]
    assert all(d.sentence.startswith("orders every") for d in report.disagreements)


def test_money_formats(ws: Workspace) -> None:
    claims = [c("value_at_stake", 21_500.0, "B"), c("sales_on_day", 21_500.0, "B", day=day(5))]
    good = audit(ws, [statement(claims, why="₪22k at stake; £21.5k; ₪21,500 on 06/01/2025",
                                subject="B")])
    assert good.disagreements == []
    bad = audit(ws, [statement(claims, why="₪20k at stake; ₪21,600", subject="B")])
    assert [d.stated for d in bad.disagreements] == ["₪20k", "₪21,600"]


def test_names_and_ids_are_not_numbers(ws: Workspace) -> None:
    insight = Insight(
        kind=Kind.CHURN_RISK, subject=Subject("customer", "16000"), owner_rep_id=None,
        manager_id=None, detected_at=DETECTED, priority=50, value_at_stake=0.0,
        en=Texts("16000 bought once", "bought once: ₪1.0k on 11/01/2025", "Call 16000"),
        he=Texts("", "", ""),
        evidence={"customer_id": "16000", "claims": [
            claim("purchase_days", 1, customer_id="X", to=AS_OF),
            claim("sales_on_day", 1000.0, customer_id="X", day=day(10))]},
    )
    assert audit(ws, [insight_statement(insight)]).disagreements == []


def test_no_evidence_and_unknown_claims(ws: Workspace) -> None:
    report = audit(ws, [
        statement([], "R is drifting", "orders every ~10 days"),
        statement([{"claim": "revenue_per_quarter", "value": 1.0}]),
        statement([claim("model_output", 1.7, customer_id="R", model="churn_probability")]),
        statement([{"claim": "purchase_days", "value": 4}]),  # no subject: every line
        statement([{"claim": "purchase_days", "value": 9}]),
    ])
    assert [d.reason for d in report.disagreements] == [
        "no evidence: the statement carries no claims", "unknown claim name",
        "model output outside [0.0, 1.0]", "purchase_days does not match the invoice lines"]
    assert report.disagreements[-1].recomputed == 9
    assert report.statements["churn_risk"] == 5


def test_a_group_of_customers(ws: Workspace) -> None:
    # a rep-level drop valued on the customers behind it: R and W
    claims = [claim("net_revenue", 1180.0, customer_ids=["R", "W"], to=AS_OF),
              claim("purchase_days_in", 5, customer_ids=["W", "R"], to=AS_OF,
                    **{"from": day(0)}),
              claim("value_at_stake", 1180.0, customer_ids=["R", "W"], to=AS_OF)]
    report = audit(ws, [statement(claims, why="₪1.2k at stake over 5 purchase days")])
    assert report.disagreements == []


def test_report_is_strict_json(ws: Workspace) -> None:
    report = audit(ws, [statement([c("median_gap_days", float("nan"))])])
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["false_claims"] == 1


def test_explanations_of_the_360(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    views = {
        "R": {"customer": {"name": "Rivka Ltd"}, "why": ["orders every ~10 days",
                                                          "last order 30 days ago"],
              "why_claims": [c("median_gap_days", 10), c("days_since_last_purchase", 30)]},
        "T": {"customer": None, "why": ["orders every ~10 days"],
              "why_claims": [[c("median_gap_days", 10, "T")]]},
        "I": {"customer": None, "why": [], "why_claims": []},
    }
    monkeypatch.setattr("salesradar.models.scoring.customer_view",
                        lambda _ws, cid, **_: views[cid])
    statements = explanation_statements(ws, ["R", "T", "I"])
    assert [s.id for s in statements] == ["360:R", "360:T"]
    report = audit(ws, statements)
    assert report.statements == {"customer_360": 2}
    assert {(d.subject, d.claim) for d in report.disagreements} == {
        ("customer:T", "median_gap_days"), ("customer:T", "words: rhythm")}


def test_audit_insights_names_their_customers(ws: Workspace,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def view(_ws: Any, cid: str, **_: Any) -> dict[str, Any]:
        asked.append(cid)
        return {"customer": None, "why": [], "why_claims": []}

    monkeypatch.setattr("salesradar.models.scoring.customer_view", view)
    insight = Insight(
        kind=Kind.STOPPED_ITEM, subject=Subject("customer_sku", "R/A"), owner_rep_id=None,
        manager_id=None, detected_at=DETECTED, priority=50, value_at_stake=0.0,
        en=Texts("R stopped buying A", "bought it 4 times", ""), he=Texts("", "", ""),
        evidence={"claims": [claim("purchase_days", 4, customer_id="R", sku="A", to=AS_OF)]},
    )
    report = audit_insights(ws, [insight])
    assert asked == ["R"]
    assert report.disagreements == []


def test_the_command_exits_1_on_a_false_claim(tmp_path: Path) -> None:
    from salesradar.app import AppDB
    from salesradar.insights import InsightStore

    path = tmp_path / "ws.duckdb"
    with Workspace.open(path) as w:
        w.con.execute("""INSERT INTO invoice_lines (invoice_id, line_no, invoice_date,
                         customer_id, sku, quantity, net_revenue)
                         VALUES ('I1', 1, DATE '2025-01-11', 'X', 'A', 1, 1000),
                                ('I2', 1, DATE '2025-01-14', 'X', 'A', -1, -1000)""")
    app_db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    db = AppDB.open(app_db)
    insight = Insight(
        kind=Kind.CHURN_RISK, subject=Subject("customer", "X"), owner_rep_id=None,
        manager_id=None, detected_at=DETECTED, priority=50, value_at_stake=1000.0,
        en=Texts("X is worth a call", "₪1.0k at stake", ""), he=Texts("", "", ""),
        evidence={"claims": [claim("value_at_stake", 1000.0, customer_id="X",
                                   to="2025-01-14")]},
    )
    InsightStore(db).upsert_many([insight], DETECTED)
    db.close()
    result = subprocess.run(
        [sys.executable, "-m", "salesradar", "audit", "--workspace", str(path), "--app-db",
         app_db, "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out["statements_by_kind"] == {"churn_risk": 1}
    assert [(d["claim"], d["stated"], d["recomputed"]) for d in out["disagreements"]] == [
        ("value_at_stake", 1000.0, 0.0)]


def test_disagreements_by_type(ws: Workspace) -> None:
    report = audit(ws, [statement([]), statement([c("median_gap_days", 12)],
                                                 why="orders every ~12 days; 7 calls")])
    assert report.by_type() == {"claim": 1, "words": 1, "unbacked number": 1, "no evidence": 1}
    assert report.to_dict()["disagreements"][0]["type"] == "no evidence"


def test_names_of_grouped_items_are_not_numbers(ws: Workspace) -> None:
    # one card per customer: the items' names (here with digits) are names, not numbers
    insight = Insight(
        kind=Kind.STOPPED_ITEM, subject=Subject("customer", "R"), owner_rep_id=None,
        manager_id=None, detected_at=DETECTED, priority=50, value_at_stake=400.0,
        en=Texts("R stopped buying 1 item", "3 HOOK SHELF: bought on 4 days; ₪360 in its year",
                 ""), he=Texts("", "", ""),
        evidence={"items": [{"sku": "A", "sku_name": "3 HOOK SHELF"}], "claims": [
            claim("purchase_days", 4, customer_id="R", sku="A", to=AS_OF),
            claim("value_at_stake", 360.0, customer_id="R", sku="A", to=AS_OF),
            claim("setting", 1, setting="items")]},
    )
    assert audit(ws, [insight_statement(insight)]).disagreements == []


def test_past_and_within_its_rhythm(ws: Workspace) -> None:
    # R: median 10, 30 days since (past); I: median 20, 5 days since (within)
    good = audit(ws, [
        statement([c("past_rhythm", True), c("median_gap_days", 10),
                   c("days_since_last_purchase", 30)],
                  why="orders every ~10 days; last order 30 days ago (past its rhythm)"),
        statement([c("past_rhythm", False, "I"), c("median_gap_days", 20, "I"),
                   c("days_since_last_purchase", 5, "I")],
                  why="orders every ~20 days; last order 5 days ago (within its rhythm)",
                  subject="I")])
    assert good.disagreements == []
    bad = audit(ws, [
        statement([c("past_rhythm", False, "I"), c("median_gap_days", 20, "I")],
                  why="orders every ~20 days (past its rhythm)", subject="I"),
        statement([c("past_rhythm", False, "T")], why="(within its rhythm)", subject="T")])
    assert [d.claim for d in bad.disagreements] == ["words: past rhythm",
                                                    "words: within rhythm"]


def test_the_longest_pause_before(ws: Workspace) -> None:
    # R: purchase days 0, 10, 20, 30 (gaps 10, 10, 10), 30 days since: past its longest pause
    rhythm = [c("past_rhythm", True), c("median_gap_days", 10), c("days_since_last_purchase", 30)]
    good = audit(ws, [statement([*rhythm, c("longest_gap_days", 10)],
                                why="orders every ~10 days; last order 30 days ago (past its "
                                    "rhythm; its longest pause before was 10 days)")])
    assert good.disagreements == []
    bad = audit(ws, [
        statement([*rhythm, c("longest_gap_days", 10)],
                  why="orders every ~10 days; last order 30 days ago (past its rhythm, but it "
                      "paused 10 days before and came back)"),
        statement([*rhythm, c("longest_gap_days", 30)],
                  why="orders every ~10 days; last order 30 days ago (past its rhythm, but it "
                      "paused 30 days before and came back)"),
        # T has two purchase days: no longest pause to state
        statement([c("longest_gap_days", 10, "T")], why="its longest pause before was 10 days",
                  subject="T"),
        # I: gaps 20, 20, 15, silent 5 days: not longer than any gap before
        statement([c("longest_gap_days", 20, "I")],
                  why="(gap over twice its usual and longer than any before)", subject="I"),
        # "each gap": R's is, I's is not
        statement([c("longest_gap_days", 10), c("longest_gap_days", 20, "I")],
                  why="(each gap over twice its usual and longer than any before)")])
    assert [(d.claim, d.reason) for d in bad.disagreements] == [
        ("words: longest pause", "'before and came back' where the days since the last "
         "purchase day are longer than the longest gap"),
        ("longest_gap_days", "longest_gap_days does not match the invoice lines"),
        ("words: longest pause", "'before and came back' where the days since the last "
         "purchase day are longer than the longest gap"),
        ("longest_gap_days", "rhythm stated with 2 purchase day(s) (needs 3)"),
        ("words: longest pause", "'longest pause before was' where the days since the last "
         "purchase day are not longer than the longest gap"),
        ("words: longest pause", "'longer than any before' where the days since the last "
         "purchase day are not longer than the longest gap"),
        ("words: longest pause", "'longer than any before' where the days since the last "
         "purchase day are not longer than the longest gap")]


def test_drifting_for_a_pause_it_came_back_from_before() -> None:
    # P: purchase days 0, 5, 10, 40, 45 (gaps 5, 5, 30, 5: median 5, longest 30), silent 15
    # days on the day judged: past its rhythm, not past its longest pause
    paused = lines_workspace([("P", d, "A", 10.0) for d in (0, 5, 10, 40, 45)])
    claims = [c("past_rhythm", True, "P"), c("median_gap_days", 5, "P"),
              c("days_since_last_purchase", 15, "P"), c("longest_gap_days", 30, "P")]
    good = audit(paused, [statement(claims, why="orders every ~5 days; last order 15 days ago "
                                    "(past its rhythm, but it paused 30 days before and came "
                                    "back)", subject="P")])
    assert good.disagreements == []
    bad = audit(paused, [statement(claims, what="P is drifting from its rhythm", subject="P"),
                         statement(claims, what="P has stopped ordering", subject="P")])
    assert reasons(bad) == [("words: past rhythm", "'drifting'/'stopped' for a silence it came "
                             "back from before")] * 2


# ----------------------------------------------------------- the wider vocabulary
def test_a_skus_buyers(ws: Workspace) -> None:
    # A: R, T, I, X, B and W bought it; B: R only; net on A: R 360, T 500, I 200, X 0, B 21,500,
    # W 780 -> 5 net buyers, median 500
    to = {"to": AS_OF}
    year = {"from": day(0), "to": AS_OF}
    true = [claim("sku_buyers", 6, sku="A", **to), claim("sku_buyers", 1, sku="B", **to),
            claim("co_buyers", 1, sku="A", with_sku="B", **to),
            claim("customers", 6, exclude_skus=["B"], **to),
            claim("customers", 1, exclude_skus=["A"], **to),
            claim("sku_net_buyers", 5, sku="A", **year),
            claim("median_buyer_spend", 500.0, sku="A", **year)]
    good = audit(ws, [statement(true, why="5 of its 6 buyers spent a median ₪500 on it")])
    assert good.disagreements == []
    false = [claim("sku_buyers", 5, sku="A", **to), claim("co_buyers", 2, sku="A", with_sku="B",
                                                          **to),
             claim("customers", 6, **to), claim("sku_net_buyers", 6, sku="A", **year),
             claim("median_buyer_spend", 430.0, sku="A", **year)]
    bad = audit(ws, [statement(false)])
    assert [(d.claim, d.recomputed) for d in bad.disagreements] == [
        ("sku_buyers", 6), ("co_buyers", 1), ("sku_net_buyers", 5),
        ("median_buyer_spend", 500.0)]


def test_margins_shares_and_derived(ws: Workspace) -> None:
    # W: sales 900 and a 120 return, cost 600 - 80; every line's net revenue 23,380
    w = {"customer_id": "W", "to": AS_OF}
    costed = claim("costed_revenue", 780.0, **w)
    margin = claim("gross_margin", 260 / 780, **w)
    true = [costed, claim("gross_profit", 260.0, **w), margin,
            claim("revenue_share", 780 / 23_380, **w),
            claim("costed_revenue", 0.0, customer_id="R", to=AS_OF),
            claim("derived", 26.0, formula="(m - 0.3) * r", inputs={"m": margin, "r": costed}),
            claim("sum_of", 1040.0, of="gross_profit"),
            claim("gross_profit", 780.0, **w, **{"from": day(31)})]
    report = audit(ws, [statement(true, subject="W")])
    # the return day alone: -120 revenue, -80 cost -> gross profit -40
    assert [(d.claim, d.stated, d.recomputed) for d in report.disagreements] == [
        ("gross_profit", 780.0, -40.0)]
    bad = audit(ws, [statement([
        claim("gross_margin", 0.35, **w), claim("revenue_share", 0.04, **w),
        claim("derived", 30.0, formula="(m - 0.3) * r", inputs={"m": margin, "r": costed}),
        claim("derived", 1.0, formula="__import__('os')", inputs={"m": margin}),
        claim("sum_of", 100.0, of="gross_margin")], subject="W")])
    assert [d.claim for d in bad.disagreements] == [
        "gross_margin", "revenue_share", "derived", "derived", "sum_of"]


def test_payments_leads_and_records(ws: Workspace) -> None:
    rep = {"owner_rep_id": "r1"}
    target = claim("record_value", 5000.0, table="targets", column="value",
                   where={"rep_id": "r1", "metric": "revenue", "period": "2025-03-01"})
    won = claim("record_sum", 1000.0, table="deals", column="amount",
                where={**rep, "outcome": "won"}, date_column="close_date", **MARCH)
    open_ = claim("record_sum", 700.0, table="deals", column="amount",
                  where={**rep, "outcome": "open"}, date_column="close_date", **MARCH)
    hours = claim("lead_age_hours", 36.0, lead_id="L1", at="2025-03-03T00:00:00")
    true = [claim("overdue_amount", 400.0, customer_id="R", to=AS_OF),
            claim("overdue_invoices", 2, customer_id="R", to=AS_OF),
            claim("days_overdue_max", 20, customer_id="R", to=AS_OF),
            hours, claim("derived", 1.5, formula="hours / 24", inputs={"hours": hours}),
            claim("record_count", 0, table="activities", where={"lead_id": "L1"},
                  date_column="at", to="2025-03-03T00:00:00"),
            claim("record_count", 1, table="activities", where={"lead_id": "L2"},
                  date_column="at", to="2025-03-03T00:00:00"),
            target, won, open_,
            claim("derived", 0.175, formula="open / (target - won)",
                  inputs={"open": open_, "target": target, "won": won})]
    report = audit(ws, [statement(true, why=(
        "₪400 overdue on 2 invoices, the oldest by 20 days; created 36 hours ago; ₪700 open "
        "vs a ₪5.0k target in 2025-03: coverage 0.17x"))])
    assert report.disagreements == []
    bad = audit(ws, [statement([
        claim("overdue_amount", 600.0, customer_id="R", to=AS_OF),
        claim("lead_age_hours", 30.0, lead_id="L1", at="2025-03-03T00:00:00"),
        claim("record_count", 0, table="activities", where={"lead_id": "L2"},
              date_column="at", to="2025-03-03T00:00:00"),
        claim("record_sum", 1500.0, table="deals", column="amount",
              where={**rep, "outcome": "won"}, date_column="close_date", **MARCH),
        claim("record_value", 5000.0, table="targets", column="value",
              where={"rep_id": "r2"}),
        claim("record_count", 0, table="no_such_table", where={"x": 1})])])
    assert [(d.claim, d.recomputed) for d in bad.disagreements] == [
        ("overdue_amount", 400.0), ("lead_age_hours", 36.0), ("record_count", 1),
        ("record_sum", 1000.0), ("record_value", None), ("record_count", None)]


def test_an_offer_of_an_item_the_customer_buys(ws: Workspace) -> None:
    def offer(customer: str, sku: str) -> Statement:
        return Statement(id=customer, kind="cross_sell", subject=f"customer_sku:{customer}/{sku}",
                         sentences=(f"Offer {sku} to {customer}", "1 buyer"),
                         claims=(claim("sku_buyers", 1, sku="B", to=AS_OF),),
                         names=(customer, sku))
    report = audit(ws, [offer("T", "B"), offer("R", "B")])  # R bought B on 11/01/2025
    assert [(d.id, d.claim, d.recomputed) for d in report.disagreements] == [
        ("R", "words: offer", "bought it on 2025-01-11")]
