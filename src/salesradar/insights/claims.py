"""The claim vocabulary lives in :mod:`salesradar.claims` (models and insights both use it)."""

from salesradar.claims import CLAIMS, Claim, claim

__all__ = ["CLAIMS", "Claim", "claim"]
