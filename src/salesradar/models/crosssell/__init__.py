"""Cross-sell: products a customer does not buy yet that look-alike customers do.

Four recommenders honour one contract (benfred/implicit's ``RecommenderBase``):
``fit(interactions)`` learns from a customer x SKU table, ``recommend(customer_ids, n,
filter_already_bought)`` returns one row per recommendation with ``customer_id, sku, score, rank,
reason, expected_value``.

- :class:`ALSRecommender` -- implicit-feedback matrix factorization (Hu, Koren & Volinsky 2008),
  fitted by the ``implicit`` library's conjugate-gradient ALS.
- :class:`ItemItemRecommender` -- cosine similarity between SKUs on the customer x SKU matrix,
  each SKU keeping its ``neighbours`` most similar SKUs (scipy.sparse).
- :class:`BlendRecommender` -- the mean of the two, each rescaled per customer (the best of
  the three on the UCI backtests, and the default of :func:`recommend_for`).
- :class:`PopularityRecommender` -- the baseline: the most popular SKUs the customer hasn't bought.

Each recommendation carries a reason in words with numbers (``"141 of the 220 customers who
buy 85123A also buy 22423"``) and an expected value: the median yearly spend on that SKU of the
customers who bought it in the last year. Discontinued SKUs (``products.active = false``) and
SKUs nobody bought in the last ``recent_days`` of the data are never recommended.

The quick way from a workspace::

    recs = recommend_for(ws, ["C0001", "C0002"], n=10)

The explicit way, on any invoice lines (an Ibis table)::

    interactions = interactions_from_lines(ws.table("invoice_lines"), end=date(2026, 11, 1))
    model = ALSRecommender(factors=64, random_state=0).fit(interactions)
    recs = model.recommend(["C0001"], n=10)

and :func:`backtest` replays history to measure precision@k against the popularity baseline.
"""

from salesradar.models.crosssell.base import RECOMMENDATION_SCHEMA, interactions_from_lines
from salesradar.models.crosssell.recommenders import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
)
from salesradar.models.crosssell.service import backtest, recommend_for

__all__ = [
    "RECOMMENDATION_SCHEMA",
    "ALSRecommender",
    "BlendRecommender",
    "ItemItemRecommender",
    "PopularityRecommender",
    "backtest",
    "interactions_from_lines",
    "recommend_for",
]

