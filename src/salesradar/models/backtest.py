"""Backtests: replay history, fit on data before a cutoff, compare with what happened after.

``evaluate(ws, cutoff, horizon_days)`` runs every model's ``backtest`` and returns their
:class:`~salesradar.models.evaluation.BacktestMetric` rows side by side, each beside the simple
rule a user would otherwise use. The metric helpers here are plain numpy/scikit-learn
functions of scores and outcomes, so each model module computes its metrics the same way.

To add a model (cross-sell, ...), give its module a ``backtest(ws, cutoff, horizon_days,
truth=None) -> list[BacktestMetric]`` and list it in :data:`BACKTESTS`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from salesradar.models.base import FloatArray
from salesradar.models.evaluation import BacktestMetric

__all__ = [
    "BACKTESTS",
    "evaluate",
    "lift_at",
    "pr_auc",
    "precision_at_k",
    "revenue_captured",
    "roc_auc",
]

BoolArray = npt.NDArray[np.bool_]
Backtest = Callable[..., list[BacktestMetric]]
# fewer cases than this and "beats the baseline" is not claimed (see salesradar.models.gates)
MIN_CASES = 30


def _defined(y: BoolArray) -> bool:
    return 0 < int(y.sum()) < len(y)


def roc_auc(y: Any, score: Any) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped, unused-ignore]

    truth = np.asarray(y, dtype=bool)
    if not _defined(truth):
        return None
    return float(roc_auc_score(truth, np.asarray(score, dtype=np.float64)))


def pr_auc(y: Any, score: Any) -> float | None:
    """Average precision (area under the precision-recall curve); None without positives."""
    from sklearn.metrics import average_precision_score  # type: ignore[import-untyped, unused-ignore]

    truth = np.asarray(y, dtype=bool)
    if not _defined(truth):
        return None
    return float(average_precision_score(truth, np.asarray(score, dtype=np.float64)))


def brier(y: Any, probability: Any) -> float | None:
    """Mean squared error of probabilities against 0/1 outcomes."""
    truth = np.asarray(y, dtype=np.float64)
    if len(truth) == 0:
        return None
    return float(np.mean((np.asarray(probability, dtype=np.float64) - truth) ** 2))


def _top(score: FloatArray, share: float) -> npt.NDArray[np.intp]:
    """Indices of the top ``share`` of rows by score (ties broken by position)."""
    k = max(1, math.ceil(share * len(score)))
    return np.argsort(-score, kind="stable")[:k]


def lift_at(y: Any, score: Any, share: float = 0.1) -> float | None:
    """Positive rate in the top ``share`` by score divided by the overall positive rate."""
    truth = np.asarray(y, dtype=np.float64)
    if len(truth) == 0 or truth.sum() == 0:
        return None
    top = _top(np.asarray(score, dtype=np.float64), share)
    return float(truth[top].mean() / truth.mean())


def revenue_captured(value: Any, score: Any, share: float = 0.2) -> float | None:
    """Share of the total ``value`` held by the top ``share`` of rows by ``score``."""
    v = np.asarray(value, dtype=np.float64)
    total = float(v.sum())
    if total <= 0:
        return None
    return float(v[_top(np.asarray(score, dtype=np.float64), share)].sum() / total)


def precision_at_k(hits: Any, k: int) -> tuple[float | None, int]:
    """Share of hits among the first ``k`` ranked items (fewer when fewer were ranked)."""
    h = np.asarray(hits, dtype=bool)[:k]
    return (float(h.mean()) if len(h) else None), len(h)


def _backtests() -> dict[str, Backtest]:
    from salesradar.models.churn import backtest as churn_backtest
    from salesradar.models.crosssell import backtest as cross_sell_backtest
    from salesradar.models.stopped_items import backtest as stopped_items_backtest

    return {
        "churn": churn_backtest,
        "stopped_items": stopped_items_backtest,
        "cross_sell": cross_sell_backtest,
    }


BACKTESTS: tuple[str, ...] = ("churn", "stopped_items", "cross_sell")


def evaluate(
    ws: Any,
    cutoff: dt.date,
    horizon_days: int = 90,
    truth: Path | str | None = None,
    *,
    models: tuple[str, ...] = BACKTESTS,
    settings: dict[str, dict[str, Any]] | None = None,
) -> list[BacktestMetric]:
    """Backtest every model at ``cutoff`` over the next ``horizon_days``.

    Parameters
    ----------
    ws
        The workspace (or :class:`~salesradar.models.features.CustomerTables`).
    cutoff
        Models see data on or before this date; outcomes are the ``horizon_days`` after it.
    horizon_days
        Length of the outcome window (default 90).
    truth
        A demo data set's ``truth/`` folder: adds recall against what was planted.
    models
        Which backtests to run (default all of :data:`BACKTESTS`).
    settings
        Extra keyword arguments per model name, e.g. ``{"stopped_items": {"exclude_skus":
        ["POST"]}}``.

    Returns
    -------
    list of BacktestMetric
        All models' metrics, each beside its baseline.
    """
    available = _backtests()
    unknown = [m for m in models if m not in available]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {sorted(available)}")
    out: list[BacktestMetric] = []
    for name in models:
        extra = (settings or {}).get(name, {})
        out.extend(available[name](ws, cutoff, horizon_days, truth=truth, **extra))
    return out


def to_markdown(metrics: list[BacktestMetric]) -> str:
    """The metrics as a Markdown table (model, metric, value, baseline, its value, beats?, n).

    "beats?" says "not enough data" below :data:`MIN_CASES` cases: a difference on a handful of
    customers proves nothing (:mod:`salesradar.models.gates` decides who speaks).
    """

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    rows = [
        "| model | metric | value | baseline | baseline value | beats? | n |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in metrics:
        beats = {True: "yes", False: "**no**", None: "—"}[m.beats_baseline]
        if m.beats_baseline is not None and m.n < MIN_CASES:
            beats = f"not enough data (n={m.n})"
        rows.append(
            f"| {m.model} | {m.metric} | {fmt(m.value)} | {m.baseline} | "
            f"{fmt(m.baseline_value)} | {beats} | {m.n} |"
        )
    return "\n".join(rows)
