"""The reasons of a few offers read the co-buyers of their SKUs' rows alone, not the whole
SKU x SKU matrix: the counts are those of the fit's customers who bought both (by hand,
``own.T @ own`` of the fit's pattern), and the offers of a model applied to a later day are
those it gave when the whole matrix was made first (the way before)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from salesradar.models.crosssell import ItemItemRecommender

from .crosssell_helpers import taste_groups


def _fitted() -> ItemItemRecommender:
    model = ItemItemRecommender()
    model.fit(taste_groups())
    return model


@pytest.mark.parametrize("skus", [5, 200], ids=["few SKUs: their rows", "many: the matrix"])
def test_co_buyer_counts_are_the_fits_customers_who_bought_both(skus: int) -> None:
    model = pickle.loads(pickle.dumps(_fitted()))  # as a day loads it: no co-buyers kept
    assert getattr(model, "_co_buyers_cache", None) is None
    own = model.binary_.toarray()
    by_hand = own.T @ own
    rng = np.random.default_rng(3)
    items = rng.choice(len(model.skus_), skus, replace=False)
    right = rng.choice(items, 5000)
    left = rng.integers(0, len(model.skus_), 5000)
    counts = model._co_buyer_counts(items)(left, right)
    assert counts.dtype == np.float64
    assert np.array_equal(counts, by_hand[left, right])
    assert (counts > 0).sum() > 500
    # the whole matrix is made only for many SKUs (a full ranking's offers)
    assert (getattr(model, "_co_buyers_cache", None) is None) == (skus == 5)


def test_a_later_day_reasons_with_the_fits_co_buyers() -> None:
    """A model applied to later purchases states the co-buyers of the fit (not of the later
    purchases), for a few customers (the rows path) and for all (the matrix path), the same
    offers as when the whole matrix was made before applying it."""
    fitted = _fitted()
    data = taste_groups()
    customers = pc.unique(data["customer_id"])
    # later: every customer also bought two SKUs of the next group
    extra = [(c, f"S{(int(c[1:]) % 3 * 100 + 100 + k) % 300:03d}")
             for c in customers.to_pylist() for k in (7, 9)]
    later = pa.table({
        "customer_id": [*data["customer_id"].to_pylist(), *[e[0] for e in extra]],
        "sku": [*data["sku"].to_pylist(), *[e[1] for e in extra]]})
    saved = pickle.dumps(fitted)
    lazy = pickle.loads(saved).with_purchases(later)
    before = pickle.loads(saved)
    before._co_buyers()  # the way before: the fit's whole matrix made first
    eager = before.with_purchases(later)
    few = customers.to_pylist()[::97]
    offers = lazy.recommend(few, 5)
    assert offers.num_rows == 5 * len(few)
    assert offers.equals(eager.recommend(few, 5))
    assert getattr(lazy, "_co_buyers_cache", None) is None  # the few SKUs' rows were enough
    assert lazy.recommend(None, 5).equals(eager.recommend(None, 5))
    own = fitted.binary_.toarray()
    assert np.array_equal(copy.copy(lazy)._co_buyers(), own.T @ own)  # the fit's, not later's
    assert np.array_equal(eager._co_buyers(), own.T @ own)
