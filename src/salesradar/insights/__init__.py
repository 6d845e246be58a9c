"""Insights: typed situations worth a person's attention, their store, lifecycle and impact."""

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

from salesradar.insights.generate import (
    available_kinds,
    generate_insights,
    run_insights,
)
from salesradar.insights.rules import RuleSettings

__all__ += ["RuleSettings", "available_kinds", "generate_insights", "run_insights"]
