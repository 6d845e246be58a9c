"""Statistical models of customer behaviour: purchase rhythm, spend and lifetime value.

- :class:`BetaGeoModel` (BG/NBD): P(alive) and expected purchases per customer.
- :class:`GammaGammaModel`: expected value per purchase.
- :func:`customer_lifetime_value`: discounted expected gross profit over a horizon.
- :func:`purchase_summary`: the per-customer inputs, built from invoice lines with Ibis.
"""

from salesradar.models.base import ConvergenceWarning, NoDropoutWarning, NotFittedError
from salesradar.models.clv import customer_lifetime_value
from salesradar.models.rhythm import BetaGeoModel, BetaGeoParams, simulate_purchases
from salesradar.models.spend import GammaGammaModel, GammaGammaParams
from salesradar.models.summary import purchase_summary

__all__ = [
    "BetaGeoModel",
    "BetaGeoParams",
    "ConvergenceWarning",
    "GammaGammaModel",
    "GammaGammaParams",
    "NoDropoutWarning",
    "NotFittedError",
    "customer_lifetime_value",
    "purchase_summary",
    "simulate_purchases",
]

# Cross-sell, ABCD tiers and health, anomalies (issue 4). `implicit` is imported only when an
# ALSRecommender is fitted.
from salesradar.models.anomalies import (
    detect_anomalies,
    margin_erosion,
    seasonal_drops,
)
from salesradar.models.crosssell import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
    interactions_from_lines,
    recommend_for,
)
from salesradar.models.tiers import assign_tiers, health_changes, health_scores

__all__ += [
    "ALSRecommender",
    "BlendRecommender",
    "ItemItemRecommender",
    "PopularityRecommender",
    "assign_tiers",
    "detect_anomalies",
    "health_changes",
    "health_scores",
    "interactions_from_lines",
    "margin_erosion",
    "recommend_for",
    "seasonal_drops",
]

# Churn risk, stopped items and the backtest harness (issue 4). LightGBM and scikit-learn are
# imported only when a model is fitted or evaluated.
from salesradar.models.backtest import evaluate  # noqa: E402
from salesradar.models.churn import (  # noqa: E402
    ChurnModel,
    explain_customer,
    score_customers,
)
from salesradar.models.stopped_items import StoppedItemsModel, find_stopped_items  # noqa: E402

__all__ += [
    "ChurnModel",
    "StoppedItemsModel",
    "evaluate",
    "explain_customer",
    "find_stopped_items",
    "score_customers",
]
