"""Backtest metrics by hand, and evaluate() end to end on a small simulated workspace."""

from __future__ import annotations

import numpy as np
import pytest

from salesradar.models.backtest import (
    brier,
    evaluate,
    lift_at,
    pr_auc,
    precision_at_k,
    revenue_captured,
    roc_auc,
    to_markdown,
)
from salesradar.models.evaluation import BacktestMetric

from .invoice_helpers import day, simulated


def test_roc_auc_by_hand() -> None:
    y = [1, 1, 0, 0]
    assert roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 1.0  # perfect ranking
    assert roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5  # ties count half
    assert roc_auc(y, [0.9, 0.2, 0.5, 0.1]) == 0.75  # 3 of 4 pairs in order
    assert roc_auc([1, 1], [0.1, 0.2]) is None  # one class only


def test_pr_auc_and_brier_by_hand() -> None:
    assert pr_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx((1 + 2 / 3) / 2)
    assert pr_auc([0, 0], [0.1, 0.2]) is None
    assert brier([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)


def test_lift_and_revenue_captured_by_hand() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])  # base rate 0.2
    score = np.arange(10, 0, -1, dtype=float)  # the first row ranks first
    assert lift_at(y, score, 0.1) == pytest.approx(1 / 0.2)  # top decile = row 0, a positive
    assert lift_at(y, score, 0.5) == pytest.approx(0.2 / 0.2)
    value = np.array([0, 0, 30, 0, 0, 0, 0, 0, 0, 70.0])
    assert revenue_captured(value, score, 0.2) == 0.0  # top 2 rows hold nothing
    assert revenue_captured(value, -score, 0.2) == pytest.approx(0.7)
    assert revenue_captured(np.zeros(3), [1, 2, 3], 0.2) is None


def test_precision_at_k() -> None:
    assert precision_at_k([True, False, True, True], 2) == (0.5, 2)
    assert precision_at_k([True, False], 50) == (0.5, 2)  # fewer ranked than k
    assert precision_at_k([], 50) == (None, 0)


def test_beats_baseline_direction() -> None:
    auc = BacktestMetric("churn", "roc_auc", 0.8, "recency", 0.7, 10)
    brier_metric = BacktestMetric("churn", "brier_score", 0.2, "recency", 0.25, 10)
    assert auc.beats_baseline and brier_metric.beats_baseline


@pytest.mark.slow
def test_evaluate_end_to_end() -> None:
    ws = simulated(customers=300, days=540, seed=5)
    metrics = evaluate(
        ws, day(449), 90,
        settings={"churn": {"n_estimators": 40, "calibration_folds": 2, "snapshots": 3}},
    )
    got = {(m.model, m.metric): m for m in metrics}
    for name in ("roc_auc", "pr_auc", "lift_top_decile", "brier_score",
                 "lost_revenue_captured_top20"):
        metric = got[("churn", name)]
        assert metric.value is not None and metric.baseline_value is not None
        assert metric.n > 100
    assert 0.5 < got[("churn", "roc_auc")].value <= 1.0  # type: ignore[operator]
    assert ("stopped_items", "precision_at_50") in got
    table = to_markdown(metrics)
    assert table.splitlines()[0].startswith("| model | metric | value | baseline |")
    assert len(table.splitlines()) == 2 + len(metrics)
