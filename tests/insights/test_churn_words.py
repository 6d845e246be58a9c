"""Each churn-related pattern of a real customer history gets the words its own rows prove.

A hand-made company judged on day 400: the scores are the one rhythm and money definition
(:func:`salesradar.models.cadence.customer_terms`) with a churn probability set by hand, so
the test pins the rules and words, not a model. Expected values by hand from the rows below.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from models.invoice_helpers import day, workspace
from salesradar.insights import Insight, Kind, generate_insights
from salesradar.insights.audit import audit_insights
from salesradar.insights.rules import RuleSettings
from salesradar.models.cadence import customer_terms
from salesradar.workspace import Workspace

AS_OF = day(400)
ROWS = [
    # D: every 10 days from day 300 to 350 (6 purchase days, 6 x 1,000), silent for 50 days
    *[("D", d, "X", 1_000.0) for d in range(300, 351, 10)],
    # I: every 30 days, last order 10 days ago: inside its rhythm, nothing else wrong
    *[("I", d, "X", 2_000.0) for d in range(210, 391, 30)],
    # S: every 30 days, last order 10 days ago, but spending far less lately
    *[("S", d, "X", 5_000.0) for d in range(210, 301, 30)],
    *[("S", d, "X", 500.0) for d in range(330, 391, 30)],
    # O: one order 40 days ago, no second one
    ("O", 360, "X", 3_528.0),
    # N: one order 2 days ago: a new customer, nothing to say yet
    ("N", 398, "X", 9_000.0),
    # T: two purchase days 41 days apart, the last 60 days ago
    ("T", 299, "X", 1_500.0), ("T", 340, "X", 1_500.0),
    # U: two purchase days, silent for 259 days: long gone, but with no rhythm to be past
    ("U", 100, "X", 1_500.0), ("U", 141, "X", 1_500.0),
    # X: one big order fully cancelled three days later
    *[("X", d, "X", 800.0) for d in (200, 230, 260)], ("X", 300, "X", 3_500.0),
    ("X", 303, "X", -3_500.0), ("X", 303, "Y", -2_400.0),
    # L: every 7 days until day 150, silent for 250 days: a lost customer
    *[("L", d, "X", 400.0) for d in range(10, 151, 7)],
    # B: a burst: one 21,500 order after three small ones 30 days apart, the last 70 days ago
    ("B", 260, "X", 100.0), ("B", 290, "X", 100.0), ("B", 320, "X", 100.0),
    ("B", 330, "X", 21_500.0),
    # P: every 10 days, but once silent 180 days (120 -> 300) before it came back; silent 60
    # days now: past its rhythm, not past its longest pause, nothing falling: no alert
    *[("P", d, "X", 1_000.0) for d in (100, 110, 120, 300, 310, 320, 330, 340)],
    # Q: the same days, spending far less lately: the fall carries the alert
    *[("Q", d, "X", 1_000.0) for d in (100, 110, 120)],
    *[("Q", d, "X", 5_000.0) for d in (300, 310)],
    *[("Q", d, "X", 500.0) for d in (320, 330, 340)],
    # twelve repeat buyers whose second order came 20 days after the first (the company's
    # usual wait for a second order: 20 days)
    *[(f"R{k}", d, "X", 10.0) for k in range(12) for d in (380 - k, 400 - k)],
]


def _scores(ws: Workspace) -> None:
    terms = customer_terms(ws.table("invoice_lines"), AS_OF).to_pyarrow()
    n = terms.num_rows
    ids = terms["customer_id"].to_pylist()
    # S in (310, 400]: days 330, 360, 390 x 500; in (220, 310]: days 240, 270, 300 x 5,000
    # Q in (310, 400]: days 320, 330, 340 x 500; in (220, 310]: days 300, 310 x 5,000
    falling = {"S": "₪1.5k in the last 90 days vs ₪15k in the 90 before",
               "Q": "₪1.5k in the last 90 days vs ₪10k in the 90 before"}
    claims = {c: json.dumps([
        {"claim": "setting", "value": 90, "setting": "window_days"},
        {"claim": "net_revenue", "value": 1500.0, "customer_id": c,
         "from": day(311).isoformat(), "to": AS_OF.isoformat()},
        {"claim": "net_revenue", "value": before, "customer_id": c,
         "from": day(221).isoformat(), "to": day(310).isoformat()}])
        for c, before in (("S", 15000.0), ("Q", 10000.0))}
    table = terms.drop_columns(["typical_gap_days"]).append_column(
        "median_gap_days", terms["typical_gap_days"])
    extra = {
        "as_of": pa.array([AS_OF] * n, pa.date32()),
        "churn_probability": pa.array([0.9] * n),
        "p_alive": pa.nulls(n, pa.float64()),
        "reasons": pa.array([[falling[c]] if c in falling else [] for c in ids],
                            pa.list_(pa.string())),
        "reasons_he": pa.array([["ירידה"] if c in falling else [] for c in ids],
                               pa.list_(pa.string())),
        "reason_groups": pa.array([["revenue"] if c in falling else [] for c in ids],
                                  pa.list_(pa.string())),
        "reason_claims": pa.array([claims.get(c, "[]") for c in ids]),
        "scored_by": pa.array(["model"] * n),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    ws.backend.create_table("score_churn", table, overwrite=True)


@pytest.fixture(scope="module")
def found() -> dict[str, Insight]:
    ws = workspace(ROWS)
    _scores(ws)
    out = generate_insights(ws, AS_OF, kinds=[Kind.CHURN_RISK, Kind.NO_REPEAT_ORDER],
                            settings=RuleSettings(churn_min_value=500.0))
    return {i.subject.id: i for i in out}


def test_who_gets_an_alert(found: dict[str, Insight]) -> None:
    # I is inside its rhythm with nothing falling; P is past its rhythm but paused longer
    # before and came back, with nothing falling; N ordered 2 days ago; X's last order was
    # cancelled (money at stake 0); the repeat buyers are worth too little
    assert set(found) == {"D", "S", "Q", "O", "T", "U", "L", "B"}


def test_drifting_only_past_the_rhythm(found: dict[str, Insight]) -> None:
    d = found["D"]
    assert d.kind == Kind.CHURN_RISK and d.en.what == "Customer D is drifting from its rhythm"
    # gaps 10, 10, 10, 10, 10: never silent longer than 10 days before these 50
    assert d.en.why.startswith("orders every ~10 days; last order 50 days ago (past its "
                               "rhythm; its longest pause before was 10 days); ₪6.0k at "
                               "stake: its net purchases in the year to its last order; "
                               "churn risk 90%")
    assert "ההפסקה הארוכה ביותר שלו לפני כן הייתה 10 יום" in d.he.why
    assert d.value_at_stake == 6_000.0


def test_a_pause_it_came_back_from_before_is_not_drifting(found: dict[str, Insight]) -> None:
    # Q: gaps 10, 10, 180, 10, 10, 10, 10 (median 10, longest 180); silent 60 days
    q = found["Q"]
    assert q.en.what == "Customer Q is buying less" and "drifting" not in q.en.what
    assert q.en.why.startswith("orders every ~10 days; last order 60 days ago (past its "
                               "rhythm, but it paused 180 days before and came back); ₪14k "
                               "at stake")  # 3 x 1,000 + 2 x 5,000 + 3 x 500 = 14,500
    assert q.en.why.endswith("₪1.5k in the last 90 days vs ₪10k in the 90 before")
    assert "אבל כבר עבר 180 יום בלי הזמנה וחזר" in q.he.why
    # known by its code only: "Customer Q", "לקוח Q", the prefix joined to the Hebrew word
    assert q.he.what == "לקוח Q קונה פחות"
    assert q.he.next_step.startswith("להתקשר ללקוח Q: ")
    assert q.value_at_stake == 14_500.0
    assert "P" not in found  # the same pause, nothing falling: no alert


def test_inside_the_rhythm_the_reason_is_named_with_its_numbers(
    found: dict[str, Insight],
) -> None:
    s = found["S"]
    assert s.en.what == "Customer S is buying less" and "drifting" not in s.en.what
    assert "(within its rhythm)" in s.en.why and s.en.why.endswith(
        "₪1.5k in the last 90 days vs ₪15k in the 90 before")
    # 4 x 5,000 + 3 x 500 in (390 - 365, 400]
    assert s.value_at_stake == 21_500.0


def test_a_one_time_buyer_is_a_new_customer_without_a_second_order(
    found: dict[str, Insight],
) -> None:
    o = found["O"]
    assert o.kind == Kind.NO_REPEAT_ORDER
    assert o.en.what == "Customer O has not placed a second order"
    assert o.en.why == ("bought once: ₪3.5k on " + day(360).strftime("%d/%m/%Y") + ", 40 days "
                        "ago; half of the customers who ordered again did so within 20 days; "
                        "that order's value is at stake")  # its amount, said once
    assert "every ~" not in o.en.why and "rhythm" not in o.en.why
    assert "הזמנה שנייה" in o.he.what


def test_two_purchase_days_are_a_fact(found: dict[str, Insight]) -> None:
    t = found["T"]
    assert t.en.what == "Customer T has not reordered in 60 days"
    assert t.en.why.startswith("bought twice, 41 days apart; last order 60 days ago;")
    # without a rhythm, never "stopped ordering", however long the silence
    u = found["U"]
    assert u.en.what == "Customer U has not reordered in 259 days" and "stopped" not in u.en.what


def test_a_lost_customer_is_valued_at_its_year_before_it_stopped(
    found: dict[str, Insight],
) -> None:
    lost = found["L"]
    assert lost.en.what == "Customer L has stopped ordering" and "win-back" in lost.en.next_step
    # 21 orders of 400 on days 10..150, all in the year to its last order
    assert "bought ₪8.4k (net) in the year before it stopped" in lost.en.why
    assert lost.value_at_stake == 8_400.0


def test_a_burst_is_never_scaled_up(found: dict[str, Insight]) -> None:
    b = found["B"]
    # 3 x 100 + 21,500 bought in the year to its last order: no pace, no "a quarter"
    assert b.value_at_stake == 21_800.0 and "quarter" not in b.en.why
    assert "₪22k at stake" in b.en.why


def test_every_number_comes_with_a_claim(found: dict[str, Insight]) -> None:
    for insight in found.values():
        names = {c["claim"] for c in insight.evidence["claims"]}
        assert {"purchase_days", "days_since_last_purchase", "value_at_stake"} <= names
        if "every ~" in insight.en.why:
            assert "median_gap_days" in names and "past_rhythm" in names


def test_when_the_rule_speaks_the_alert_says_so() -> None:
    ws = workspace(ROWS)
    _scores(ws)
    ws.con.execute("UPDATE score_churn SET scored_by = 'recency_rule'")
    d = next(i for i in generate_insights(ws, AS_OF, kinds=[Kind.CHURN_RISK])
             if i.subject.id == "D")
    assert "churn risk 90% by the recency rule (the churn model did not beat it on this data)" \
        in d.en.why
    assert "לפי כלל הזמן מאז ההזמנה האחרונה" in d.he.why


def test_the_truth_audit_recomputes_every_claim(found: dict[str, Insight]) -> None:
    ws = workspace(ROWS)
    report = audit_insights(ws, list(found.values()), explanations=False)
    assert report.false_claims == 0, report.to_dict()["disagreements"]
