"""The four recommenders: popularity (the baseline), item-item, ALS and their blend."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

from salesradar.errors import UserInputError
from salesradar.models.base import FloatArray
from salesradar.models.crosssell.base import (
    _BATCH,
    _FILTERED,
    _as_table,
    _check_columns,
    _CrossSellBase,
    _prepare,
    _top_k,
    _weights,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Weighting = Literal["bm25", "log", "binary"]


class PopularityRecommender(_CrossSellBase):
    """Baseline: the SKUs bought by the most customers that the customer hasn't bought.

    Parameters
    ----------
    recent_days
        SKUs that nobody bought in the last ``recent_days`` of the data are not recommended
        (None: no such rule).
    min_support
        An own SKU must have at least this many buyers to serve as the anchor of a reason.
    """

    model_name = "popularity"

    def _fit_model(self) -> None:
        self.popularity_: FloatArray = self.buyers_ / max(len(self.customers_), 1)

    def _scores(self, rows: IntArray) -> FloatArray:
        return np.tile(self.popularity_, (len(rows), 1))


class ItemItemRecommender(_CrossSellBase):
    """Item-item collaborative filtering: cosine similarity of SKUs over their buyers.

    The score of SKU j for a customer is the sum over the customer's SKUs i of
    ``cos(i, j)``, where each SKU keeps only its ``neighbours`` most similar SKUs
    (scipy.sparse throughout; the similarity matrix is SKUs x SKUs).

    Parameters
    ----------
    neighbours
        Similar SKUs kept per SKU.
    weighting
        How purchase counts become weights before the cosine: ``"bm25"`` (damped counts,
        down-weighting very popular SKUs and very large baskets), ``"log"`` or ``"binary"``.
    shrinkage
        Added to the denominator of the cosine, so pairs with few co-buyers count less.
    recent_days, min_support
        As in :class:`PopularityRecommender`.

    Examples
    --------
    >>> model = ItemItemRecommender(neighbours=50).fit(interactions)  # doctest: +SKIP
    >>> model.recommend(["C1"], n=5)  # doctest: +SKIP
    """

    model_name = "item_item"

    def __init__(
        self,
        *,
        neighbours: int = 20,
        weighting: Weighting = "binary",
        shrinkage: float = 0.0,
        recent_days: int | None = 90,
        min_support: int = 5,
        half_life_days: float | None = None,
    ) -> None:
        super().__init__(
            recent_days=recent_days, min_support=min_support, half_life_days=half_life_days
        )
        self.neighbours = neighbours
        self.weighting = weighting
        self.shrinkage = shrinkage

    def _fit_model(self) -> None:
        if self.neighbours < 1:
            raise UserInputError(f"neighbours must be >= 1, got {self.neighbours}")
        weighted = _weights(self.user_items_, self.weighting)
        self.weighted_: Any = weighted
        item_users = weighted.T.tocsr()
        norms = np.sqrt(np.asarray(item_users.multiply(item_users).sum(axis=1)).ravel())
        gram = (item_users @ item_users.T).tocsr()
        n_items = len(self.skus_)
        k = min(self.neighbours, max(n_items - 1, 1))
        out_rows, out_cols, out_sim = [], [], []
        for lo in range(0, n_items, _BATCH):  # blocks of SKUs, vectorized inside
            hi = min(lo + _BATCH, n_items)
            sim = gram[lo:hi].toarray()
            sim /= norms[lo:hi, None] * norms[None, :] + self.shrinkage + 1e-12
            sim[np.arange(hi - lo), np.arange(lo, hi)] = 0.0  # no self-similarity
            # each SKU keeps its top `neighbours` similar SKUs (those above 0)
            top = _top_k(sim, k, 0.0) if k < n_items else \
                np.tile(np.arange(n_items), (hi - lo, 1))
            values = np.take_along_axis(sim, np.maximum(top, 0), axis=1)
            keep = (top >= 0) & (values > 0)
            out_rows.append(np.broadcast_to(np.arange(lo, hi)[:, None], top.shape)[keep])
            out_cols.append(top[keep])
            out_sim.append(values[keep])
        # similarity[i, j]: how much owning i argues for j
        self.similarity_: Any = sp.csr_matrix(
            (np.concatenate(out_sim), (np.concatenate(out_rows), np.concatenate(out_cols))),
            shape=(n_items, n_items),
        )

    def _scores(self, rows: IntArray) -> FloatArray:
        result: FloatArray = np.asarray(self._sparse_scores(rows).toarray(), dtype=np.float64)
        return result

    def _sparse_scores(self, rows: IntArray) -> Any:
        """:meth:`_scores` before densifying: CSR, zero where no neighbour argues for a SKU."""
        return (self.weighted_[rows] @ self.similarity_).tocsr()


class ALSRecommender(_CrossSellBase):
    """Implicit-feedback matrix factorization by alternating least squares (``implicit``).

    Customers and SKUs get ``factors``-dimensional vectors fitted so that their dot product
    predicts *whether* the customer buys the SKU, with confidence ``1 + alpha * w`` growing with
    the weighted purchase count ``w`` (Hu, Koren & Volinsky, "Collaborative Filtering for
    Implicit Feedback Datasets", ICDM 2008; conjugate-gradient solver of Takács et al. 2011).
    The fit runs with BLAS limited to one thread (BLAS thread pools on shared cores made fits
    10-100x slower); ``implicit`` parallelizes over customers itself (``num_threads``).

    Parameters
    ----------
    factors
        Length of the latent vectors.
    regularization
        L2 penalty on the vectors.
    alpha
        Confidence scaling of the weighted counts.
    iterations
        ALS sweeps.
    weighting
        ``"bm25"`` (default), ``"log"`` or ``"binary"`` -- see :class:`ItemItemRecommender`.
    random_state
        Seed of the initial vectors: the same seed gives the same recommendations.
    num_threads
        Threads for the fit and for scoring (0: all cores).
    recent_days, min_support
        As in :class:`PopularityRecommender`.
    """

    model_name = "als"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 1.0,
        alpha: float = 1.0,
        iterations: int = 10,
        weighting: Weighting = "bm25",
        random_state: int | None = 0,
        num_threads: int = 0,
        recent_days: int | None = 90,
        min_support: int = 5,
        half_life_days: float | None = 60.0,
    ) -> None:
        super().__init__(
            recent_days=recent_days, min_support=min_support, half_life_days=half_life_days
        )
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.weighting = weighting
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit_model(self) -> None:
        from implicit.cpu.als import (  # type: ignore[import-untyped, unused-ignore]
            AlternatingLeastSquares,
        )

        confidence = _weights(self.user_items_, self.weighting).astype(np.float32)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            model.fit(confidence, show_progress=False)
        self.model_ = model
        self.customer_factors_: npt.NDArray[np.float32] = model.user_factors
        self.sku_factors_: npt.NDArray[np.float32] = model.item_factors

    @property
    def model_(self) -> Any:
        """The fitted ``implicit`` model (built on first use after a pickle: see
        :meth:`__getstate__`)."""
        model = self.__dict__.get("model_")
        if model is None:
            raise AttributeError("model_")  # not fitted
        if isinstance(model, _Deferred):
            model = self.__dict__["model_"] = model.build()
        return model

    @model_.setter
    def model_(self, model: Any) -> None:
        self.__dict__["model_"] = model

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle holds: the ``implicit`` model as its class's name and its state, so
        that loading a saved blend, which never asks it, does not import ``implicit`` (0.2 s
        and more); :attr:`model_` builds it on first use, as unpickling would."""
        state = super().__getstate__()
        model = state.get("model_")
        if model is not None and not isinstance(model, _Deferred):
            state["model_"] = _Deferred(model)
        return state

    def _top_n(self, rows: IntArray, n: int, filter_bought: bool) -> tuple[IntArray, FloatArray]:
        items, values = self._als_top_n(rows, n, filter_bought)
        # customers without purchases have a zero vector (all scores tie): most popular first
        empty = np.diff(self.fitted_binary().indptr)[rows] == 0
        if empty.any():
            items[empty], values[empty] = self._dense_top_n(
                rows[empty], items.shape[1], filter_bought,
                lambda r: np.zeros((len(r), len(self.skus_))),
            )
        return items, values

    def _als_top_n(
        self, rows: IntArray, n: int, filter_bought: bool
    ) -> tuple[IntArray, FloatArray]:
        k = min(n, len(self.skus_))
        ineligible = np.flatnonzero(~self.eligible_)
        user_items = self.binary_[rows].astype(np.float32).tocsr()
        with threadpool_limits(1, "blas"):
            ids, scores = self.model_.recommend(
                rows,
                user_items,
                N=k,
                filter_already_liked_items=filter_bought,
                filter_items=ineligible if len(ineligible) else None,
            )
        items = np.asarray(ids, dtype=np.int64).reshape(len(rows), -1)
        values = np.asarray(scores, dtype=np.float64).reshape(len(rows), -1)
        # implicit pads rows without enough candidates with filtered SKUs scored -FLT_MAX
        bad = (items < 0) | ~np.isfinite(values) | (values <= _FILTERED)
        bad |= ~self.eligible_[np.maximum(items, 0)]
        values[bad] = -np.inf
        items[bad] = -1
        return items, values


class BlendRecommender(_CrossSellBase):
    """ALS and item-item together: the mean of their scores, each rescaled to 0-1 per customer.

    The two err differently (ALS generalizes over latent tastes, item-item follows direct
    co-purchases), so the blend ranks better than either on the UCI backtests
    (docs/model-quality.md, "Cross-sell").

    Parameters
    ----------
    als, item_item
        The recommenders to blend (unfitted; defaults: their own defaults).
    als_weight
        Weight of the ALS scores (item-item gets ``1 - als_weight``).
    recent_days, min_support
        As in :class:`PopularityRecommender`; passed to both parts.
    """

    model_name = "blend"
    _keeps_candidates = True  # the saved model: a day's ranking picks from the fit's

    def __init__(
        self,
        *,
        als: ALSRecommender | None = None,
        item_item: ItemItemRecommender | None = None,
        als_weight: float = 0.5,
        recent_days: int | None = 90,
        min_support: int = 5,
    ) -> None:
        super().__init__(recent_days=recent_days, min_support=min_support)
        self.als = als
        self.item_item = item_item
        self.als_weight = als_weight

    def fit(self, interactions: Any, *, discontinued: Iterable[str] = ()) -> Self:
        """Fit both parts on the same interactions (see :meth:`ALSRecommender.fit`)."""
        if not 0.0 <= self.als_weight <= 1.0:
            raise UserInputError(f"als_weight must be in [0, 1], got {self.als_weight}")
        table = _as_table(interactions)
        _check_columns(table)
        if self.min_support < 1:
            raise UserInputError(f"min_support must be >= 1, got {self.min_support}")
        data = _prepare(table, discontinued)  # read once for the blend and both parts
        self._fit_prepared(data)
        settings = {"recent_days": self.recent_days, "min_support": self.min_support}
        self.als_: ALSRecommender = self.als if self.als is not None else \
            ALSRecommender(**settings)  # type: ignore[arg-type]
        self.item_item_: ItemItemRecommender = self.item_item if self.item_item is not None \
            else ItemItemRecommender(**settings)  # type: ignore[arg-type]
        self.als_._fit_prepared(data)
        self.item_item_._fit_prepared(data)
        self._sku_factors()  # made here, before the ranking's threads share it
        return self

    def _fit_model(self) -> None:
        """Nothing of its own: :meth:`fit` fits the two parts."""

    def _scores(self, rows: IntArray) -> FloatArray:
        # single-threaded BLAS: the ranking (_dense_top_n) limits it once around all batches
        # (threadpoolctl is not safe to enter from the batches' threads)
        als = self.als_.customer_factors_[rows].astype(np.float64) @ self._sku_factors()
        item = self.item_item_._sparse_scores(rows)
        # als_weight * rescaled ALS + (1 - als_weight) * rescaled item-item, in place: the
        # same operations on the same numbers, without a temporary array per step
        als = _rescale(als, out=als)
        als *= self.als_weight
        n_items = als.shape[1]
        lengths = np.diff(item.indptr)
        data, indices = item.data[:item.indptr[-1]], item.indices[:item.indptr[-1]]
        low, high = _sparse_row_range(item)
        span = high - low
        if np.any((low != 0) & (lengths < n_items)):  # a zero would not rescale to 0: dense
            rescaled = _rescale(item.toarray())
            rescaled *= 1.0 - self.als_weight
            als += rescaled
            return als
        # the item-item part is zero outside the sparse entries (a zero rescales to 0, and
        # adding 0 changes no score): add it at the entries only
        row = np.repeat(np.arange(len(rows)), lengths)
        part = (data - low[row]) / np.where(span > 0, span, 1.0)[row]
        part *= 1.0 - self.als_weight
        als.reshape(-1)[row * n_items + indices] += part
        return als

    def _sku_factors(self) -> npt.NDArray[np.float64]:
        """The ALS SKU factors as float64, SKUs in columns (made once, for every batch)."""
        cached: npt.NDArray[np.float64] | None = getattr(self, "_sku_factors_cache", None)
        if cached is None:
            cached = self.als_.sku_factors_.T.astype(np.float64)
            self._sku_factors_cache = cached
        return cached


class _Deferred:
    """An object pickled as its class's module and name and its attributes, the class
    imported only by :meth:`build` (what unpickling a plain object does: ``cls.__new__`` and
    the attributes set, without ``__init__``)."""

    def __init__(self, obj: Any) -> None:
        self.module = type(obj).__module__
        self.name = type(obj).__qualname__
        self.state = dict(vars(obj))

    def build(self) -> Any:
        """The object itself."""
        cls = getattr(importlib.import_module(self.module), self.name)
        obj = cls.__new__(cls)
        obj.__dict__.update(self.state)
        return obj


def _sparse_row_range(matrix: Any) -> tuple[FloatArray, FloatArray]:
    """Minimum and maximum of each row of a CSR matrix, its implicit zeros included (the
    same numbers as ``min``/``max`` of the dense rows)."""
    n_rows, n_cols = matrix.shape
    lengths = np.diff(matrix.indptr)
    low, high = np.zeros(n_rows), np.zeros(n_rows)
    filled = lengths > 0
    if filled.any():
        starts = matrix.indptr[:-1][filled]
        data = matrix.data[:matrix.indptr[-1]]
        low[filled] = np.minimum.reduceat(data, starts)
        high[filled] = np.maximum.reduceat(data, starts)
    sparse = lengths < n_cols  # rows with implicit zeros
    low[sparse] = np.minimum(low[sparse], 0.0)
    high[sparse] = np.maximum(high[sparse], 0.0)
    return low, high


def _rescale(scores: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """Each row mapped to 0-1 (min to max); constant rows become 0 (into ``out`` if given)."""
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    result: FloatArray = np.subtract(scores, low, out=out)
    np.divide(result, np.where(span > 0, span, 1.0), out=result)
    return result


# ---------------------------------------------------------------------------- workspace
