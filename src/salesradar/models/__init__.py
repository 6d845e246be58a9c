"""Statistical models of customer behaviour: purchase rhythm, spend and lifetime value, churn,
stopped items, cross-sell, tiers and health, anomalies and the backtest harness.

- :class:`BetaGeoModel` (BG/NBD): P(alive) and expected purchases per customer.
- :class:`GammaGammaModel`: expected value per purchase.
- :func:`customer_lifetime_value`: discounted expected gross profit over a horizon.
- :func:`purchase_summary`: the per-customer inputs, built from invoice lines with Ibis.

Each name loads its module on first use: a command that only reads a score table, or checks
that the scores are current, does not import SciPy, scikit-learn or LightGBM.
"""

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module of this package that defines it
_MODULES = {
    "ConvergenceWarning": "base", "NoDropoutWarning": "base", "NotFittedError": "base",
    "customer_lifetime_value": "clv",
    "BetaGeoModel": "rhythm", "BetaGeoParams": "rhythm", "simulate_purchases": "rhythm",
    "GammaGammaModel": "spend", "GammaGammaParams": "spend",
    "purchase_summary": "summary",
    "detect_anomalies": "anomalies", "margin_erosion": "anomalies", "seasonal_drops": "anomalies",
    "ALSRecommender": "crosssell", "BlendRecommender": "crosssell",
    "ItemItemRecommender": "crosssell", "PopularityRecommender": "crosssell",
    "interactions_from_lines": "crosssell", "recommend_for": "crosssell",
    "assign_tiers": "tiers", "health_changes": "tiers", "health_scores": "tiers",
    "evaluate": "backtest",
    "ChurnModel": "churn", "explain_customer": "churn", "score_customers": "churn",
    "StoppedItemsModel": "stopped_items", "find_stopped_items": "stopped_items",
}

if TYPE_CHECKING:
    from salesradar.models.anomalies import detect_anomalies, margin_erosion, seasonal_drops
    from salesradar.models.backtest import evaluate
    from salesradar.models.base import ConvergenceWarning, NoDropoutWarning, NotFittedError
    from salesradar.models.churn import ChurnModel, explain_customer, score_customers
    from salesradar.models.clv import customer_lifetime_value
    from salesradar.models.crosssell import (
        ALSRecommender,
        BlendRecommender,
        ItemItemRecommender,
        PopularityRecommender,
        interactions_from_lines,
        recommend_for,
    )
    from salesradar.models.rhythm import BetaGeoModel, BetaGeoParams, simulate_purchases
    from salesradar.models.spend import GammaGammaModel, GammaGammaParams
    from salesradar.models.stopped_items import StoppedItemsModel, find_stopped_items
    from salesradar.models.summary import purchase_summary
    from salesradar.models.tiers import assign_tiers, health_changes, health_scores

__all__ = [
    "ALSRecommender",
    "BetaGeoModel",
    "BetaGeoParams",
    "BlendRecommender",
    "ChurnModel",
    "ConvergenceWarning",
    "GammaGammaModel",
    "GammaGammaParams",
    "ItemItemRecommender",
    "NoDropoutWarning",
    "NotFittedError",
    "PopularityRecommender",
    "StoppedItemsModel",
    "assign_tiers",
    "customer_lifetime_value",
    "detect_anomalies",
    "evaluate",
    "explain_customer",
    "find_stopped_items",
    "health_changes",
    "health_scores",
    "interactions_from_lines",
    "margin_erosion",
    "purchase_summary",
    "recommend_for",
    "score_customers",
    "seasonal_drops",
    "simulate_purchases",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f"salesradar.models.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
