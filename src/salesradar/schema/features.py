"""Which product features each table switches on.

Only ``invoice_lines`` is required. ``salesradar status`` uses this list to say plainly what is off
and why ("pipeline KPIs off: no `deals` table").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    needs: tuple[str, ...]  # all of these tables must hold rows


FEATURES: tuple[Feature, ...] = (
    Feature("sales KPIs", "revenue, margin, active/new/churned customers, SKUs per customer",
            ("invoice_lines",)),
    Feature("purchase rhythm and churn risk", "per-customer rhythm, P(alive), churn risk",
            ("invoice_lines",)),
    Feature("stopped items and cross-sell", "customer x SKU gaps, recommendations",
            ("invoice_lines",)),
    Feature("discontinued-item filtering", "exclude discontinued SKUs from recommendations",
            ("products",)),
    Feature("rep and team views", "KPIs by rep, team, manager; routing of insights",
            ("reps",)),
    Feature("customer dimensions", "KPIs by industry, region, segment; share of wallet",
            ("customers",)),
    Feature("profitability after cost to serve", "customer profitability, whale curve, tier D",
            ("cost_to_serve",)),
    Feature("credit risk", "days sales outstanding, overdue payments", ("payments",)),
    Feature("contact coverage", "single-threaded accounts, executive coverage", ("contacts",)),
    Feature("lead response (centre model)", "time to first contact, lead-to-deal conversion",
            ("leads", "activities")),
    Feature("pipeline KPIs", "win rate, cycle, deal size, weighted pipeline", ("deals",)),
    Feature("stage conversion", "stage conversion and time in stage", ("deal_stage_history",)),
    Feature("activity KPIs", "calls per rep per day, answer rate", ("activities",)),
    Feature("targets and coverage", "target attainment, pipeline coverage", ("targets",)),
    Feature("forecast accuracy", "forecast vs actual per rep and team",
            ("forecast_submissions",)),
)


@dataclass(frozen=True)
class FeatureState:
    feature: Feature
    on: bool
    missing: tuple[str, ...]
    note: str | None = None  # why it is off although its tables hold rows (a data check)

    @property
    def reason(self) -> str:
        if self.on:
            return "on"
        if self.note:
            return self.note
        names = ", ".join(f"`{name}`" for name in self.missing)
        return f"off: no {names} table" if len(self.missing) == 1 else f"off: no {names} tables"


def feature_states(loaded_tables: Collection[str]) -> list[FeatureState]:
    """Each feature, on or off, given the tables that hold rows."""
    states = []
    for feature in FEATURES:
        missing = tuple(name for name in feature.needs if name not in loaded_tables)
        states.append(FeatureState(feature, not missing, missing))
    return states
