"""salesradar: B2B sales KPIs and prioritized actions per rep."""

__version__ = "0.1.0"
