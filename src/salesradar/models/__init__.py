"""Statistical models of customer behaviour: purchase rhythm, spend and lifetime value.

- :class:`BetaGeoModel` (BG/NBD): P(alive) and expected purchases per customer.
- :class:`GammaGammaModel`: expected value per purchase.
- :func:`customer_lifetime_value`: discounted expected gross profit over a horizon.
- :func:`purchase_summary`: the per-customer inputs, built from invoice lines with Ibis.
"""

from salesradar.models.base import ConvergenceWarning, NotFittedError
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
    "NotFittedError",
    "customer_lifetime_value",
    "purchase_summary",
    "simulate_purchases",
]
