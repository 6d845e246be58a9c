"""Holdout assignment and the impact computation (hand-computed and published numbers)."""

from __future__ import annotations

import pytest

from salesradar.insights import (
    Kind,
    OutcomeRecord,
    compute_impact,
    impact,
    newcombe_diff_ci,
    wald_diff_ci,
    wilson_ci,
)
from salesradar.insights.holdout import in_holdout

from .insight_helpers import T0, make_insight, memory_store


def test_holdout_is_deterministic_and_near_ten_percent() -> None:
    keys = [f"churn_risk:customer:C-{i}" for i in range(2_000)]
    first = [in_holdout(k, salt="acme", fraction=0.1) for k in keys]
    assert first == [in_holdout(k, salt="acme", fraction=0.1) for k in keys]
    # binomial(2000, 0.1): sd = 13.4, so 200 ± 4 sd
    assert 146 <= sum(first) <= 254
    other_salt = [in_holdout(k, salt="other", fraction=0.1) for k in keys]
    assert other_salt != first


def test_store_records_holdout_once_per_key() -> None:
    store = memory_store(holdout_fraction=0.5, holdout_salt="s")
    insights = [make_insight(f"C-{i}") for i in range(40)]
    store.upsert_many(insights, T0)
    groups = {r.dedup_key: r.holdout for r in store.list_insights()}
    assert groups == {i.dedup_key: in_holdout(i.dedup_key, salt="s", fraction=0.5)
                      for i in insights}
    assert 0 < sum(groups.values()) < 40
    store.settings = type(store.settings)(holdout_fraction=0.0)  # fraction changed later
    store.upsert_many(insights, T0)
    assert {r.dedup_key: r.holdout for r in store.list_insights()} == groups


def test_ineligible_kinds_are_never_held_out() -> None:
    store = memory_store(holdout_fraction=1.0, holdout_kinds=frozenset({Kind.CROSS_SELL}))
    store.upsert_many([make_insight("C-1"), make_insight("C-1", kind=Kind.CROSS_SELL)], T0)
    assert {r.kind: r.holdout for r in store.list_insights()} == {
        "churn_risk": False, "cross_sell": True,
    }


def test_intervals_match_newcombe_1998_table_ii() -> None:
    # Newcombe (1998) Stat Med 17:873, Table II, examples (a), (b) and (f): method 10 and method 1
    assert newcombe_diff_ci(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert wald_diff_ci(56, 70, 48, 80) == pytest.approx((0.0575, 0.3425), abs=5e-5)
    assert newcombe_diff_ci(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert newcombe_diff_ci(5, 56, 0, 29) == pytest.approx((-0.0381, 0.1926), abs=5e-5)
    assert wilson_ci(0, 0) == (0.0, 1.0)


def test_compute_impact_on_a_hand_computed_case() -> None:
    def rec(kind: str, rep: str, holdout: bool, outcome: str | None, value: float = 0.0,
            delivered: bool = True) -> OutcomeRecord:
        return OutcomeRecord(kind, rep, holdout, delivered and not holdout, outcome, value)

    records = [
        # delivered churn_risk for r1: 3 recovered of 4 (₪1,000 + ₪2,000 + ₪3,000), 1 pending
        rec("churn_risk", "r1", False, "recovered", 1_000),
        rec("churn_risk", "r1", False, "recovered", 2_000),
        rec("churn_risk", "r2", False, "recovered", 3_000),
        rec("churn_risk", "r2", False, "not_recovered"),
        rec("churn_risk", "r2", False, None),
        # holdout churn_risk: 1 recovered of 4 (₪500)
        rec("churn_risk", "r1", True, "recovered", 500),
        rec("churn_risk", "r1", True, "not_recovered"),
        rec("churn_risk", "r2", True, "not_recovered"),
        rec("churn_risk", "r2", True, "not_recovered"),
        # never sent, not holdout: excluded from both groups
        rec("stopped_item", "r1", False, "recovered", 9_999, delivered=False),
    ]
    rows = {(r.dimension, r.key): r for r in compute_impact(records)}
    total = rows[("all", "all")]
    assert (total.delivered.n, total.delivered.recovered, total.delivered.pending) == (4, 3, 1)
    assert total.delivered.revenue == 6_000
    assert (total.holdout.n, total.holdout.recovered, total.holdout.revenue) == (4, 1, 500)
    assert total.uplift == pytest.approx(0.75 - 0.25)
    assert (total.ci_low, total.ci_high) == pytest.approx(newcombe_diff_ci(3, 4, 1, 4))
    r1 = rows[("rep", "r1")]
    assert (r1.delivered.n, r1.delivered.rate, r1.holdout.n, r1.holdout.rate) == (2, 1.0, 2, 0.5)
    stopped = rows[("kind", "stopped_item")]
    assert (stopped.delivered.n, stopped.holdout.n, stopped.uplift) == (0, 0, None)
    assert total.to_dict()["method"] == "newcombe-hybrid-score"


def test_impact_reads_the_store() -> None:
    store = memory_store(holdout_fraction=0.0)
    store.upsert_many([make_insight("C-1"), make_insight("C-2")], T0)
    a, b = store.list_insights()
    store.transition(a.id, "sent", T0)
    store.record_outcome(a.id, "recovered", 700, T0)
    rows = impact(store)
    assert (rows[0].delivered.n, rows[0].delivered.revenue) == (1, 700)
    assert rows[0].delivered.pending == 0  # b was never sent: in neither group
    assert b.status == "new"
    assert rows[0].holdout.n == 0
