"""The shape every backtest reports in, so ``salesradar evaluate`` can put models side by side.

Each model module offers ``backtest(lines, cutoff, horizon_days, ...) -> list[BacktestMetric]``:
fit on the invoice lines before ``cutoff``, score, and compare with what happened in the
``horizon_days`` after it, each metric beside the simple baseline a user would otherwise use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

LOWER_IS_BETTER = frozenset({"brier_score", "log_loss"})


@dataclass(frozen=True)
class BacktestMetric:
    """One metric of one model on one backtest, with the baseline's value on the same data."""

    model: str  # "churn", "stopped_items", "cross_sell", ...
    metric: str  # "roc_auc", "precision_at_10", "lost_revenue_captured_top20", ...
    value: float | None
    baseline: str  # what the baseline is, e.g. "recency rule (days since last order)"
    baseline_value: float | None
    n: int  # entities evaluated (customers, customer x SKU pairs, ...)
    note: str = ""

    @property
    def beats_baseline(self) -> bool | None:
        """Whether the model did better than its baseline (None when either is undefined)."""
        if self.value is None or self.baseline_value is None:
            return None
        if self.metric in LOWER_IS_BETTER:
            return self.value < self.baseline_value
        return self.value > self.baseline_value

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "beats_baseline": self.beats_baseline}
