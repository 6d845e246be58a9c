"""Insights: typed situations worth a person's attention, their store, lifecycle and impact."""

import importlib
from typing import TYPE_CHECKING, Any

from salesradar.insights.impact import (
    ImpactRow,
    OutcomeRecord,
    compute_impact,
    impact,
    newcombe_diff_ci,
    wald_diff_ci,
    wilson_ci,
)
from salesradar.insights.lifecycle import changed_materially, check_transition
from salesradar.insights.model import Insight, Kind, Status, Subject, Texts
from salesradar.insights.store import InsightStore, StoredInsight, StoreSettings, UpsertCounts

__all__ = [
    "ImpactRow",
    "Insight",
    "InsightStore",
    "Kind",
    "OutcomeRecord",
    "Status",
    "StoreSettings",
    "StoredInsight",
    "Subject",
    "Texts",
    "UpsertCounts",
    "changed_materially",
    "check_transition",
    "compute_impact",
    "impact",
    "newcombe_diff_ci",
    "wald_diff_ci",
    "wilson_ci",
]

# generate (and through it the rules and the models) loads on first use: a command that only
# reads the store or the settings does not pay for it
_LAZY = {"available_kinds": "generate", "generate_insights": "generate",
         "run_insights": "generate", "RuleSettings": "thresholds"}

if TYPE_CHECKING:
    from salesradar.insights.generate import available_kinds, generate_insights, run_insights
    from salesradar.insights.thresholds import RuleSettings


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"salesradar.insights.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ += ["RuleSettings", "available_kinds", "generate_insights", "run_insights"]
