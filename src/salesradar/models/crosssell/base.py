"""Shared pieces of the cross-sell recommenders: inputs, the common contract, reasons."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Self

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

from salesradar.errors import UserInputError
from salesradar.models.base import FloatArray, check_is_fitted, usable_cores
from salesradar.models.text import join_text

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Weighting = Literal["bm25", "log", "binary"]


_YEAR_DAYS = 365
_REQUIRED = ("customer_id", "sku")
_BATCH = 256  # customers scored at once by the dense-score recommenders (arrays under
# glibc's mmap threshold: larger batches spent seconds in page faults)
_MAX_THREADS = 2  # batches scored side by side (each holds a few batch x SKUs arrays)
_FILTERED = -1e37  # implicit scores filtered SKUs -3.4e38 (-FLT_MAX)
# the reasons read the co-buyers of their SKUs' rows alone while they name at most one SKU in
# this many (a day's offers ranked again), else the whole matrix (a full ranking's)
_CO_BUYER_ROWS_SHARE = 8
_REASON_CHUNK = 32768  # recommendations whose reasons are worked out at once
_DENSE_CO_BUYERS = 8000  # SKUs up to which the co-purchase matrix is dense (256 MB float32)
_CANDIDATES = 16  # best SKUs kept per customer by a ranking of all customers (candidates_)
RECOMMENDATION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("sku", pa.string()),
        ("score", pa.float64()),
        ("rank", pa.int64()),
        ("reason", pa.string()),
        ("expected_value", pa.float64()),
        # the numbers the reason states (claims of salesradar.claims): the anchor SKU (null
        # without one), its buyers and those of them who also bought the SKU, the SKU's buyers
        # overall and in the last year, and all customers of the fit
        ("anchor_sku", pa.string()),
        ("anchor_buyers", pa.int64()),
        ("co_buyers", pa.int64()),
        ("sku_buyers", pa.int64()),
        ("year_buyers", pa.int64()),
        ("customers", pa.int64()),
    ]
)


def interactions_from_lines(
    lines: ir.Table, start: dt.date | None = None, end: dt.date | None = None
) -> pa.Table:
    """Customer x SKU interactions from invoice lines, aggregated by the backend (Ibis).

    Only sales count (positive quantity and revenue) as interactions; returns and credit notes
    only reduce ``revenue_365``.

    Parameters
    ----------
    lines
        Invoice lines with ``customer_id``, ``sku``, ``invoice_date``, ``quantity``,
        ``net_revenue``.
    start, end
        Keep lines with ``start <= invoice_date < end`` (either may be None).

    Returns
    -------
    pyarrow.Table
        ``customer_id, sku, purchases`` (distinct purchase days), ``revenue`` (sales),
        ``first_date``, ``last_date``, ``revenue_365`` (net revenue, sales minus returns and
        credit notes, floored at 0, of the pair's kept lines of the last 365 days: dated on or
        after ``end`` - 365 days, or after the last day - 365 days without ``end``).
    """
    missing = [c for c in (*_REQUIRED, "invoice_date", "quantity", "net_revenue")
               if c not in lines.columns]
    if missing:
        raise UserInputError(f"invoice lines lack column(s) {', '.join(sorted(missing))}")
    kept = lines.mutate(day=lines.invoice_date.cast("date"))
    if start is not None:
        kept = kept.filter(ibis._.day >= ibis.date(start))
    if end is not None:
        kept = kept.filter(ibis._.day < ibis.date(end))
    sale = (kept.quantity > 0) & (kept.net_revenue > 0)
    if end is not None:
        year_start = end - dt.timedelta(days=_YEAR_DAYS)
    else:
        last = kept.day.max(where=sale).to_pyarrow().as_py()
        year_start = last - dt.timedelta(days=_YEAR_DAYS - 1) if last is not None \
            else dt.date.min
    # one pass over the lines: the sales' aggregates and the last year's net revenue side by
    # side (filtered aggregates), kept for the pairs with at least one sale
    pairs = kept.group_by(["customer_id", "sku"]).aggregate(
        purchases=kept.day.nunique(where=sale).cast("float64"),
        revenue=kept.net_revenue.sum(where=sale).cast("float64"),
        first_date=kept.day.min(where=sale),
        last_date=kept.day.max(where=sale),
        net=kept.net_revenue.sum(where=kept.day >= ibis.date(year_start)).cast("float64"),
        sales=kept.count(where=sale),
    )
    pairs = pairs.filter(pairs.sales > 0)
    agg = pairs.select(
        "customer_id", "sku", "purchases", "revenue", "first_date", "last_date",
        revenue_365=ibis.greatest(pairs.net.fill_null(0.0), 0.0),
    )
    result: pa.Table = agg.order_by(["customer_id", "sku"]).to_pyarrow()
    return result


def purchases_from_lines(lines: ir.Table, end: dt.date | None = None) -> pa.Table:
    """The customer x SKU pairs with a sale (positive quantity and revenue) dated before ``end``
    (None: any date): the pairs :func:`interactions_from_lines` keeps, without its aggregates.

    What a model fitted before needs of a later day (:meth:`_CrossSellBase.with_purchases`):
    which SKUs each customer has bought, so that none of them is offered.
    """
    missing = [c for c in (*_REQUIRED, "invoice_date", "quantity", "net_revenue")
               if c not in lines.columns]
    if missing:
        raise UserInputError(f"invoice lines lack column(s) {', '.join(sorted(missing))}")
    day = lines.invoice_date.cast("date")
    kept = lines.filter(day.notnull(), lines.quantity > 0, lines.net_revenue > 0)
    if end is not None:
        kept = kept.filter(kept.invoice_date.cast("date") < ibis.date(end))
    result: pa.Table = kept.select("customer_id", "sku").distinct().to_pyarrow()
    return result


def _strings(values: Any) -> pa.Array:
    """A pyarrow string array from a column, list or array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(np.asarray(values, dtype=object) if not isinstance(values, list)
                          else values)
    return pc.cast(values, pa.string())


def _as_table(interactions: Any) -> pa.Table:
    if isinstance(interactions, pa.Table):
        return interactions
    if hasattr(interactions, "to_pyarrow"):
        table: pa.Table = interactions.to_pyarrow()
        return table
    try:
        return pa.Table.from_pandas(interactions, preserve_index=False)
    except (TypeError, AttributeError) as exc:
        raise UserInputError(
            "interactions must be a pyarrow Table, an Ibis table or a pandas DataFrame"
        ) from exc


def _days(column: pa.ChunkedArray) -> IntArray:
    """Dates as integer days since 1970 (nulls as the minimum)."""
    values = pc.cast(column, pa.date32()).to_numpy(zero_copy_only=False)
    days = values.astype("datetime64[D]").astype(np.int64)
    days[np.isnat(values)] = np.iinfo(np.int64).min
    result: IntArray = days
    return result


def _group_median(groups: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Median of ``values`` per group id (0 for empty groups), without a Python loop."""
    out = np.zeros(n_groups)
    if len(values) == 0:
        return out
    by_value = np.argsort(values, kind="stable")  # two stable sorts: ~2x faster than lexsort
    order = by_value[np.argsort(groups[by_value], kind="stable")]
    sorted_values = values[order]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    low = starts[has] + (counts[has] - 1) // 2
    high = starts[has] + counts[has] // 2
    out[has] = (sorted_values[low] + sorted_values[high]) / 2.0
    return out


def _integers(values: npt.NDArray[Any]) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values).astype(np.int64)), pa.string())




@dataclass
class _Prepared:
    """Interactions read into arrays once, with everything the recommenders' settings do not
    change (a blend fits its own bookkeeping and both parts from one of these)."""

    customers: pa.Array
    skus: pa.Array
    rows: npt.NDArray[Any]
    cols: npt.NDArray[Any]
    strength: FloatArray
    counts: Any  # customers x SKUs purchase strengths (CSR, summed duplicates), no decay
    binary: Any  # the same pattern with ones
    buyers: FloatArray
    dropped: BoolArray
    period_days: float
    year_buyers: FloatArray
    expected_value: FloatArray
    # set when last_date is known on some rows (the recent-window rule and the decay)
    last: IntArray | None = None
    known: BoolArray | None = None
    sku_last: IntArray | None = None
    end: int = 0


def _check_columns(table: pa.Table) -> None:
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise UserInputError(
            f"interactions lack column(s) {', '.join(sorted(missing))}; "
            "need customer_id, sku and optionally purchases, revenue, first_date, last_date"
        )


def _prepare(table: pa.Table, discontinued: Iterable[str]) -> _Prepared:
    """Read interactions (see :meth:`_CrossSellBase.fit`) into a :class:`_Prepared`."""
    _check_columns(table)
    customer_col = _strings(table["customer_id"])
    sku_col = _strings(table["sku"])
    valid = pc.and_(pc.is_valid(customer_col), pc.is_valid(sku_col))
    table = table.filter(valid)
    customer_col, sku_col = customer_col.filter(valid), sku_col.filter(valid)
    customers = pc.unique(customer_col).sort()
    skus = pc.unique(sku_col).sort()
    rows = pc.index_in(customer_col, value_set=customers).to_numpy(zero_copy_only=False)
    cols = pc.index_in(sku_col, value_set=skus).to_numpy(zero_copy_only=False)
    n_rows = len(rows)
    strength = (
        pc.fill_null(pc.cast(table["purchases"], pa.float64()), 0.0).to_numpy()
        if "purchases" in table.column_names else np.ones(n_rows)
    )
    revenue = (
        pc.fill_null(pc.cast(table["revenue"], pa.float64()), 0.0).to_numpy()
        if "revenue" in table.column_names else np.zeros(n_rows)
    )
    has_year = "revenue_365" in table.column_names
    yearly = (
        pc.fill_null(pc.cast(table["revenue_365"], pa.float64()), 0.0).to_numpy()
        if has_year else revenue
    )
    keep = strength > 0
    if not keep.any():
        raise UserInputError(
            "no interactions to learn from: need customer x SKU rows with purchases > 0"
        )
    rows, cols, strength, yearly = rows[keep], cols[keep], strength[keep], yearly[keep]
    shape = (len(customers), len(skus))

    # the recent-window rule's and the recency decay's inputs, the length of the period
    period_days = 365.0
    dated: dict[str, Any] = {}
    if "last_date" in table.column_names:
        last = _days(table["last_date"])[keep]
        first = _days(table["first_date"])[keep] if "first_date" in table.column_names \
            else last
        known = last > np.iinfo(np.int64).min
        if known.any():
            sku_last = np.full(len(skus), np.iinfo(np.int64).min)
            np.maximum.at(sku_last, cols[known], last[known])
            end = int(last[known].max())
            begin = int(first[known & (first > np.iinfo(np.int64).min)].min())
            period_days = float(max(end - begin + 1, 1))
            dated = {"last": last, "known": known, "sku_last": sku_last, "end": end}
    counts = sp.csr_matrix((strength, (rows, cols)), shape=shape, dtype=np.float64)
    counts.sum_duplicates()
    if not has_year:  # a longer history counts as one year of it, a shorter one as it is
        yearly = yearly * min(1.0, _YEAR_DAYS / period_days)
    spend = sp.csr_matrix((yearly, (rows, cols)), shape=shape, dtype=np.float64)
    spend.sum_duplicates()
    dropped = pc.is_in(skus, value_set=_strings(list(discontinued)))

    binary = counts.copy()  # the pattern of any decayed counts too (decay keeps entries)
    binary.data[:] = 1.0
    coo = spend.tocoo()
    bought = coo.data > 0  # the SKU's buyers of the last year
    year_cols = coo.col[bought].astype(np.int64)
    return _Prepared(
        customers=customers,
        skus=skus,
        rows=rows,
        cols=cols,
        strength=strength,
        counts=counts,
        binary=binary,
        buyers=np.asarray(binary.sum(axis=0)).ravel(),
        dropped=dropped.to_numpy(zero_copy_only=False),
        period_days=period_days,
        year_buyers=np.bincount(year_cols, minlength=len(skus)).astype(np.float64),
        expected_value=_group_median(year_cols, coo.data[bought], len(skus)),
        **dated,
    )


class _CrossSellBase:
    """The contract and the shared bookkeeping of the cross-sell recommenders.

    Subclasses implement ``_fit_model`` and ``_scores`` (or override ``_top_n``).
    """

    model_name = "base"
    # set by with_purchases only: the pattern of the fit, when binary_ is a later day's
    fitted_binary_: Any

    def __init__(
        self,
        *,
        recent_days: int | None = 90,
        min_support: int = 5,
        half_life_days: float | None = None,
    ) -> None:
        self.recent_days = recent_days
        self.min_support = min_support
        self.half_life_days = half_life_days

    # ----------------------------------------------------------------------------- fit
    def fit(self, interactions: Any, *, discontinued: Iterable[str] = ()) -> Self:
        """Learn from customer x SKU interactions.

        Parameters
        ----------
        interactions
            A table (pyarrow, Ibis or pandas) with ``customer_id``, ``sku`` and optionally
            ``purchases`` (strength; default 1 per row), ``revenue_365`` (the pair's sales in
            the last 365 days, for expected values; without it ``revenue`` scaled down to a
            year when the data cover more, never up), ``revenue`` and
            ``first_date``/``last_date`` (for the recent-window rule), as made by
            :func:`interactions_from_lines`. Duplicate pairs are summed.
        discontinued
            SKUs never to recommend (``products.active = false``).

        Returns
        -------
        self
        """
        table = _as_table(interactions)
        _check_columns(table)
        if self.min_support < 1:
            raise UserInputError(f"min_support must be >= 1, got {self.min_support}")
        self._fit_prepared(_prepare(table, discontinued))
        return self

    def _fit_prepared(self, data: _Prepared) -> None:
        """Fit on interactions already read by :func:`_prepare` (shared by a blend's parts):
        the settings' own steps (recent-window rule, recency decay), then ``_fit_model``."""
        if self.min_support < 1:
            raise UserInputError(f"min_support must be >= 1, got {self.min_support}")
        eligible = ~data.dropped
        counts = data.counts
        if data.sku_last is not None and data.known is not None and data.last is not None:
            if self.recent_days is not None:
                eligible &= data.sku_last > data.end - self.recent_days
            if self.half_life_days is not None:
                age = np.where(data.known, data.end - data.last, 0).astype(np.float64)
                decay = 0.5 ** (age / self.half_life_days)
                counts = sp.csr_matrix((data.strength * decay, (data.rows, data.cols)),
                                       shape=data.counts.shape, dtype=np.float64)
                counts.sum_duplicates()
        self.customers_: pa.Array = data.customers
        self.skus_: pa.Array = data.skus
        self.user_items_: Any = counts
        self.binary_: Any = data.binary
        self.eligible_: BoolArray = eligible
        self.buyers_: FloatArray = data.buyers
        self.period_days_: float = data.period_days
        self.year_buyers_: FloatArray = data.year_buyers
        self.expected_value_: FloatArray = data.expected_value
        self._co_buyers_cache: Any = None  # (made on first use by the reasons)
        self._sku_factors_cache: Any = None
        self.candidates_: dict[str, Any] | None = None  # (kept by the first whole ranking)
        self._fit_model()

    def with_purchases(self, purchases: Any, *, never: Iterable[str] = ()) -> Self:
        """This fitted model applied to the customers' purchases of a later day, learning nothing.

        A shallow copy sharing every fitted part (the scores, the SKUs' numbers the reasons
        state, the customers and SKUs known to the fit); only the customers' own SKUs change:
        they are the pairs of ``purchases`` (``customer_id``, ``sku``, e.g.
        :func:`purchases_from_lines` to the day scored), so a SKU a customer bought, even after
        the fit, is never offered to it, and serves as the anchor of a reason. The SKUs of
        ``never`` (today's discontinued and non-product codes) are not offered either.

        Nothing else is learned from the new purchases: each customer is scored as at the fit
        (the ALS customer factors are not recomputed, the item-item rows are those of the fit),
        customers the fit did not see get no rows (as :meth:`recommend` gives unknown ids),
        and SKUs it did not see are neither offered nor anchors. On the fit's own purchases
        this gives the fitted model's offers exactly.
        """
        check_is_fitted(self, "customers_")
        table = _as_table(purchases)
        _check_columns(table)
        rows = pc.index_in(_strings(table["customer_id"]), value_set=self.customers_)
        cols = pc.index_in(_strings(table["sku"]), value_set=self.skus_)
        known = pc.and_(pc.is_valid(rows), pc.is_valid(cols))
        row = rows.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
        col = cols.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
        own = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=self.binary_.shape,
                            dtype=np.float64)
        own.sum_duplicates()  # canonical: each row's SKUs sorted, once (the anchors rely on it)
        own.data[:] = 1.0
        applied = copy.copy(self)
        applied.binary_ = own
        # the fit's pattern, for what depends on what was learned (ALS: customers without one)
        applied.fitted_binary_ = self.fitted_binary()
        # the co-buyers are the fit's (made from fitted_binary_): shared when made already,
        # else made when the reasons need them, of the SKUs they need
        applied._co_buyers_cache = getattr(self, "_co_buyers_cache", None)
        applied.eligible_ = self.eligible_ & ~pc.is_in(
            self.skus_, value_set=_strings(list(never))).to_numpy(zero_copy_only=False)
        return applied

    def fit_digest(self) -> str | None:
        """A fingerprint (SHA-256) of the fitted model: its settings and every fitted array,
        those of its parts too (a blend's ALS and item-item), not the caches made again from
        them (``_`` first) nor the ``implicit`` model (its factors are hashed as
        ``customer_factors_`` and ``sku_factors_``). None when a part is of a kind it cannot
        hash. Two loads of one saved model have the same digest; what the model offers a
        customer is a matter of its digest, of the eligible SKUs and of the customer's own
        SKUs (:meth:`recommend_rows`)."""
        check_is_fitted(self, "customers_")
        digest = hashlib.sha256()
        try:
            _digest(self, digest)
        except _Undigestable:
            return None
        return digest.hexdigest()

    def fitted_binary(self) -> Any:
        """The customers x SKUs pattern the model was fitted on (:attr:`binary_` unless
        :meth:`with_purchases` replaced it by later purchases)."""
        return getattr(self, "fitted_binary_", self.binary_)

    def __copy__(self) -> Self:
        """A shallow copy of every attribute (:meth:`__getstate__` shapes pickles only)."""
        applied = type(self).__new__(type(self))
        applied.__dict__.update(self.__dict__)
        return applied

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle holds: all but the SKU x SKU co-buyers of a fitted model (a dense
        matrix of 46 MB for 4,800 SKUs, 92 MB in the float32 that earlier saves hold), which
        :meth:`_co_buyers` makes again from the fit's pattern in about the time reading it
        takes. A model applied to later purchases (:meth:`with_purchases`) keeps them: its
        own pattern is no longer the fit's."""
        state = dict(self.__dict__)
        if "fitted_binary_" not in state:
            state.pop("_co_buyers_cache", None)
        return state

    def _fit_model(self) -> None:
        raise NotImplementedError

    def _scores(self, rows: IntArray) -> FloatArray:
        """Dense scores (len(rows) x n_skus); higher is better."""
        raise NotImplementedError

    # ----------------------------------------------------------------------- recommend
    def recommend(
        self,
        customer_ids: Sequence[str] | pa.Array | None = None,
        n: int = 10,
        filter_already_bought: bool = True,
    ) -> pa.Table:
        """The top ``n`` SKUs for each customer, with a reason and an expected value.

        Parameters
        ----------
        customer_ids
            Customers to recommend for (None: every customer seen in ``fit``). Customers not
            seen in ``fit`` get no rows: nothing is known about them.
        n
            Recommendations per customer (fewer when fewer SKUs are eligible).
        filter_already_bought
            Leave out SKUs the customer already bought.

        Returns
        -------
        pyarrow.Table
            ``customer_id, sku, score, rank`` (1 = best), ``reason``, ``expected_value``, sorted
            by customer and rank. ``expected_value`` is a yearly amount: the median, over the
            customers who bought the SKU in the last 365 days of the data, of what each spent
            on it in those 365 days (what the item is worth a year to a customer who buys it;
            not weighted by the chance that this customer will, which ``score`` ranks).
        """
        check_is_fitted(self, "customers_")
        if n < 1:
            raise UserInputError(f"n must be >= 1, got {n}")
        if customer_ids is None:
            rows = np.arange(len(self.customers_), dtype=np.int64)
        else:
            index = pc.index_in(_strings(customer_ids), value_set=self.customers_)
            found = index.drop_null().to_numpy(zero_copy_only=False).astype(np.int64)
            rows = np.unique(found)
        if len(rows) == 0 or len(self.skus_) == 0:
            return RECOMMENDATION_SCHEMA.empty_table()
        items, scores = self._top_n(rows, n, filter_already_bought)
        return self._offers_table(rows, items, scores)

    def recommend_rows(self, rows: IntArray, n: int = 10) -> pa.Table:
        """The offers of the customers at ``rows`` (indices into :attr:`customers_`, sorted,
        unique) exactly as :meth:`recommend` of every customer gives them (own SKUs left
        out), without ranking the others: what a day of the kept model needs for the
        customers whose purchases changed (:func:`~salesradar.models.crosssell.service.
        recommend_for`'s ``kept_offers``).

        A customer's offers in a ranking of all customers depend on its own row only: the
        scores of a batch are those of its rows (the same batches of :data:`_BATCH`
        customers, whatever else is ranked), and the candidates a later day picks from give
        the offers a ranking anew gives (:meth:`_top_n_of_candidates`)."""
        check_is_fitted(self, "customers_")
        if n < 1:
            raise UserInputError(f"n must be >= 1, got {n}")
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0 or len(self.skus_) == 0:
            return RECOMMENDATION_SCHEMA.empty_table()
        items, scores = self._top_n_of_rows(rows, n)
        return self._offers_table(rows, items, scores)

    def _offers_table(self, rows: IntArray, items: IntArray, scores: FloatArray) -> pa.Table:
        """:meth:`recommend`'s table of the top items and scores of ``rows``."""
        ok = (items >= 0) & np.isfinite(scores)
        rec_rows = np.repeat(rows, items.shape[1]).reshape(items.shape)[ok]
        rank = np.broadcast_to(np.arange(1, items.shape[1] + 1), items.shape)[ok]
        rec_items, rec_scores = items[ok], scores[ok]
        # ties and empty rows: order by score, then popularity, then SKU code (deterministic);
        # the ranking's order already, but for ties its offset did not break
        if not _in_order(rec_rows, -rec_scores, -self.buyers_[rec_items], rec_items):
            order = np.lexsort((rec_items, -self.buyers_[rec_items], -rec_scores, rec_rows))
            rec_rows, rec_items, rec_scores = rec_rows[order], rec_items[order], \
                rec_scores[order]
        counts = np.count_nonzero(ok, axis=1)  # the offers of each row, rows in order
        rank = np.arange(1, len(rec_rows) + 1, dtype=np.int64) - \
            np.repeat(np.cumsum(counts) - counts, counts)
        return pa.table(
            {
                "customer_id": self.customers_.take(pa.array(rec_rows)),
                "sku": self.skus_.take(pa.array(rec_items)),
                "score": pa.array(rec_scores.astype(np.float64)),
                "rank": pa.array(rank),
                "expected_value": pa.array(self.expected_value_[rec_items]),
                **self._reasons(rec_rows, rec_items),
            },
            schema=RECOMMENDATION_SCHEMA,
        )

    # recommenders whose ranking of all customers keeps each one's best SKUs (candidates_),
    # from which a later day's ranking picks without scoring again (the saved blend)
    _keeps_candidates = False

    def _top_n(self, rows: IntArray, n: int, filter_bought: bool) -> tuple[IntArray, FloatArray]:
        """Top-n item indices and scores per row (-1 / -inf when fewer exist).

        For all customers, of a recommender that keeps candidates: the first such ranking of
        the fitted model keeps each customer's :data:`_CANDIDATES` best SKUs
        (:attr:`candidates_`, saved with the model), and the rankings of later days
        (:meth:`with_purchases`) pick from them (:meth:`_top_n_of_candidates`)."""
        k = min(n, len(self.skus_))
        whole = filter_bought and len(rows) == len(self.customers_)  # rows: sorted, unique
        if not (self._keeps_candidates and whole and k < _CANDIDATES):
            return self._dense_top_n(rows, n, filter_bought, self._scores)
        kept: dict[str, Any] | None = getattr(self, "candidates_", None)
        if kept is not None:
            return self._top_n_of_candidates(kept, k)
        if "fitted_binary_" in vars(self):  # a later day's purchases: nothing to keep them on
            return self._dense_top_n(rows, n, filter_bought, self._scores)
        items, scores, kept = self._ranked(rows, k, filter_bought, self._scores, _CANDIDATES)
        self.candidates_ = kept
        return items, scores

    def _top_n_of_rows(self, rows: IntArray, n: int) -> tuple[IntArray, FloatArray]:
        """:meth:`_top_n` of every customer (own SKUs left out), at ``rows`` only."""
        k = min(n, len(self.skus_))
        kept: dict[str, Any] | None = getattr(self, "candidates_", None)
        if type(self)._top_n is not _CrossSellBase._top_n or (
                self._keeps_candidates and k < _CANDIDATES and kept is None
                and "fitted_binary_" not in vars(self)):
            # a ranking of its own (ALS), or the first whole ranking, which keeps candidates
            items, scores = self._top_n(np.arange(len(self.customers_), dtype=np.int64), n,
                                        True)
            return items[rows], scores[rows]
        if self._keeps_candidates and k < _CANDIDATES and kept is not None:
            return self._top_n_of_candidates(kept, k, rows)
        return self._aligned_top_n(rows, n)

    def _aligned_top_n(self, rows: IntArray, n: int) -> tuple[IntArray, FloatArray]:
        """:meth:`_dense_top_n` of every customer, at ``rows`` only: the batches of a ranking
        of all customers holding them are ranked, as they are (the same scores to the bit)."""
        first = np.unique(rows // _BATCH) * _BATCH
        redo = _segments(first, np.minimum(first + _BATCH, len(self.customers_)))
        items, scores = self._dense_top_n(redo, n, True, self._scores)
        at = np.searchsorted(redo, rows)
        return items[at], scores[at]

    def _top_n_of_candidates(self, kept: dict[str, Any], k: int, rows: IntArray | None = None,
                             ) -> tuple[IntArray, FloatArray]:
        """:meth:`_dense_top_n` of all customers, picked from the candidates of a ranking
        whose own SKUs (``kept["own"]``) each customer still owns, with the same eligible SKUs
        or more (a later day: SKUs bought since, discontinued or non-products since, are no
        longer offered).

        A SKU outside a customer's candidates ranked at most as its last candidate, and
        those remaining rank as they did (the scores are those of the fit; only the SKUs
        left out changed), so the first ``k`` remaining candidates are the top ``k`` when the
        ``k``-th ranks strictly above the next remaining one and above the last candidate
        (or the candidates held every SKU left). The other customers -- fewer remaining
        candidates, a tie that ``np.argpartition`` decides, an own SKU since removed from the
        lines -- are ranked again, in the batches of :meth:`_dense_top_n`.

        ``rows`` (sorted, unique; None: all): the customers wanted, each given what it gets
        among all (its batch ranked again when it is undecided).
        """
        own = self.binary_
        n_all = kept["items"].shape[0]
        if own.shape != kept["own"].shape or n_all != own.shape[0] or \
                (self.eligible_ & ~kept["eligible"]).any():
            if rows is None:
                return self._dense_top_n(np.arange(n_all, dtype=np.int64), k, True,
                                         self._scores)
            return self._aligned_top_n(rows, k)
        if rows is None:
            rows = np.arange(n_all, dtype=np.int64)
            items = np.asarray(kept["items"], dtype=np.int64)
            scores: FloatArray = kept["scores"]
        else:
            items = np.asarray(kept["items"][rows], dtype=np.int64)
            scores = kept["scores"][rows]
        n_rows, width = items.shape
        n_items = own.shape[1]
        nominal = _ranking_offset(self.buyers_, None)
        valid = items >= 0
        safe = np.maximum(items, 0)
        ranking = scores + np.where(self.eligible_, nominal, -np.inf)[safe]
        ranking[~valid] = -np.inf
        gone = np.zeros(0, dtype=np.int64)
        if kept["own"] is not own:  # the SKUs owned since rank -inf (the others were left out)
            owned, before = _pattern_keys(own), _pattern_keys(kept["own"])
            since = owned[~_contains(before, owned)]
            ranking[_contains(since, rows[:, None] * n_items + safe)] = -np.inf
            gone = before[~_contains(owned, before)] // n_items  # own SKUs no longer owned
        remains = ranking > -np.inf
        place = np.cumsum(remains, axis=1) - 1
        count = place[:, -1] + 1
        picked = np.full((n_rows, k), -1, dtype=np.int64)
        picked_scores = np.full((n_rows, k), -np.inf)
        row, col = np.nonzero(remains & (place < k))
        picked[row, place[row, col]] = items[row, col]
        picked_scores[row, place[row, col]] = scores[row, col]
        kth = np.full(n_rows, -np.inf)
        after = np.full(n_rows, -np.inf)
        row, col = np.nonzero(remains & (place == k - 1))
        kth[row] = ranking[row, col]
        row, col = np.nonzero(remains & (place == k))
        after[row] = ranking[row, col]
        # SKUs beyond the candidates: none when they held every SKU left, else ranked at most
        # as the last one (by the ranking they were kept by)
        cut = valid[:, -1] & (width < n_items)
        last = scores[:, -1] + nominal[safe[:, -1]]
        after = np.where(count > k, after, np.where(cut, last, -np.inf))
        decided = np.where(count >= k, kth > after, ~cut)
        decided[np.isin(rows, gone)] = False
        undecided = rows[~decided]
        if len(undecided):  # ranked again, in the very batches of a ranking of all customers
            first = np.unique(undecided // _BATCH) * _BATCH
            redo = _segments(first, np.minimum(first + _BATCH, n_all))
            again, again_scores = self._dense_top_n(redo, k, True, self._scores)
            at = np.minimum(np.searchsorted(redo, rows), len(redo) - 1)
            inside = redo[at] == rows  # the wanted rows of the batches ranked again
            picked[inside], picked_scores[inside] = again[at[inside]], again_scores[at[inside]]
        return picked, picked_scores

    def _dense_top_n(
        self, rows: IntArray, n: int, filter_bought: bool, scorer: Any
    ) -> tuple[IntArray, FloatArray]:
        """Top-n of dense scores from ``scorer(rows)``; ties go to the more popular SKU."""
        items, scores, _ = self._ranked(rows, n, filter_bought, scorer, 0)
        return items, scores

    def _ranked(
        self, rows: IntArray, n: int, filter_bought: bool, scorer: Any, keep: int
    ) -> tuple[IntArray, FloatArray, dict[str, Any] | None]:
        """:meth:`_dense_top_n`, and with ``keep`` the ``keep`` best SKUs of each row with
        their scores and what they were ranked under (:attr:`candidates_`; None without)."""
        n_items = len(self.skus_)
        k = min(n, n_items)
        width = min(max(keep, k), n_items)
        # ranking = score + offset: ties go to the more popular SKU, and ineligible SKUs rank
        # -inf (a score plus -inf; a score is never +inf)
        offset = _ranking_offset(self.buyers_, self.eligible_)
        binary = self.binary_
        all_items = np.empty((len(rows), k), dtype=np.int64)
        all_scores = np.empty((len(rows), k))
        kept_items = np.empty((len(rows), width if keep else 0), dtype=np.int32)
        kept_scores = np.empty((len(rows), width if keep else 0))

        def batch_top(lo: int) -> None:  # one batch of customers, vectorized inside
            batch = rows[lo:lo + _BATCH]
            scores = np.asarray(scorer(batch), dtype=np.float64)
            ranking = scores + offset
            if filter_bought:  # the batch's own SKUs rank -inf (flat positions)
                starts, ends = binary.indptr[batch], binary.indptr[batch + 1]
                own = _segments(starts, ends)
                at = np.repeat(np.arange(len(batch)) * n_items, ends - starts) + \
                    binary.indices[own]
                np.put(ranking, at, -np.inf)
            # only SKUs ranked above -inf are picked: their scores are the offers' scores
            picked = _top_k(ranking, width if keep else k, -np.inf)
            values = np.take_along_axis(scores, np.maximum(picked, 0), axis=1)
            values[picked < 0] = -np.inf
            if keep:
                kept_items[lo:lo + len(batch)] = picked
                kept_scores[lo:lo + len(batch)] = values
                if width > k:
                    # the first k of the best `width`, unless the k-th ties the next (which
                    # of tied SKUs the top k hold is np.argpartition's choice)
                    pair = np.take_along_axis(ranking, np.maximum(picked[:, k - 1:k + 1], 0),
                                              axis=1)
                    tied = np.flatnonzero((picked[:, k] >= 0) & (pair[:, 0] == pair[:, 1]))
                    picked, values = picked[:, :k], values[:, :k]
                    if len(tied):
                        again = _top_k(ranking[tied], k, -np.inf)
                        got = np.take_along_axis(scores[tied], np.maximum(again, 0), axis=1)
                        got[again < 0] = -np.inf
                        picked[tied], values[tied] = again, got
            all_items[lo:lo + len(batch)] = picked
            all_scores[lo:lo + len(batch)] = values

        starts = range(0, len(rows), _BATCH)
        workers = min(usable_cores(), _MAX_THREADS, len(starts))
        # batches are independent and write their own rows, so threads (numpy and the sparse
        # products release the GIL) give the same result as one after the other; BLAS is
        # limited here, once, for all batches (threadpoolctl is not safe inside the threads)
        with threadpool_limits(1, "blas"):
            if workers > 1:
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(batch_top, starts))
            else:
                for lo in starts:
                    batch_top(lo)
        all_items[~np.isfinite(all_scores)] = -1
        if not keep:
            return all_items, all_scores, None
        candidates = {"items": kept_items, "scores": kept_scores, "own": binary,
                      "eligible": self.eligible_.copy()}
        return all_items, all_scores, candidates

    # -------------------------------------------------------------------------- reasons
    def _reasons(self, rows: IntArray, items: IntArray) -> dict[str, pa.Array]:
        """Words with numbers for each (customer row, item) recommendation, vectorized, and
        the numbers themselves (the columns of :data:`RECOMMENDATION_SCHEMA` after
        ``expected_value``).

        The anchor is the customer's own SKU (bought by at least ``min_support`` customers)
        whose buyers most often also buy the recommended SKU: "141 of the 220 customers who
        buy A also buy C". Without such an anchor, the SKU's popularity is stated ("bought by
        5 of the 6 customers"). Then the yearly value: "its 57 buyers of the last 12 months
        spent a median 250 on it" (the last year: the 365 days before the fit's end).
        """
        n_customers = len(self.customers_)
        if len(rows) == 0:
            return {name: pa.array([], RECOMMENDATION_SCHEMA.field(name).type)
                    for name in ("reason", *_REASON_NUMBERS)}
        anchor, best = self._anchors(rows, items)
        has = anchor >= 0
        anchor[~has] = 0
        anchor_buyers = np.where(has, self.buyers_[anchor], 0.0)
        share = np.where(has, best, 0.0)
        co_buyers = np.rint(share * anchor_buyers)
        # the words: the parts that depend on one SKU made once per SKU, then one join per
        # recommendation: "<co-buyers>< of the N customers who buy A>< also buy C; its ...>"
        # with an anchor, "<bought by N of the M customers; its ...>" without one (its first
        # two parts null, joined as empty)
        texts = self._reason_texts()
        no_anchor = ~has
        tails = pa.concat_arrays([texts["also"], texts["popular"]])
        reason: pa.Array = pc.binary_join_element_wise(
            pc.cast(pa.array(co_buyers.astype(np.int64), mask=no_anchor), pa.string()),
            texts["anchor"].take(pa.array(anchor, mask=no_anchor)),
            tails.take(pa.array(np.where(has, items, items + len(self.skus_)))),
            "", null_handling="replace", null_replacement="",
        )
        return {
            "reason": reason,
            "anchor_sku": self.skus_.take(pa.array(anchor, mask=~has)),
            "anchor_buyers": pa.array(anchor_buyers.astype(np.int64)),
            "co_buyers": pa.array(np.where(has, co_buyers, 0).astype(np.int64)),
            "sku_buyers": pa.array(self.buyers_[items].astype(np.int64)),
            "year_buyers": pa.array(self.year_buyers_[items].astype(np.int64)),
            "customers": pa.array(np.full(len(rows), n_customers, dtype=np.int64)),
        }

    def _anchors(self, rows: IntArray, items: IntArray) -> tuple[IntArray, FloatArray]:
        """Each recommendation's anchor (-1 without one) and its confidence: the customer's
        own SKU, bought by ``min_support`` customers or more, whose buyers most often also
        bought the item (the smallest SKU among equals), and that share.

        Recommendations are taken ``_REASON_CHUNK`` at a time: the (recommendation, own SKU)
        pairs are ten times as many, and small arrays reuse memory that big ones would fault
        in page by page.
        """
        binary = self.binary_  # each row's SKUs sorted (canonical CSR)
        co_counts = self._co_buyer_counts(items)
        anchor = np.full(len(rows), -1, dtype=np.int64)
        best = np.full(len(rows), -1.0)
        for lo in range(0, len(rows), _REASON_CHUNK):
            chunk_rows, chunk_items = rows[lo:lo + _REASON_CHUNK], items[lo:lo + _REASON_CHUNK]
            starts, ends = binary.indptr[chunk_rows], binary.indptr[chunk_rows + 1]
            own = binary.indices[_segments(starts, ends)]
            rec_of = np.repeat(np.arange(len(chunk_rows)), ends - starts)
            support = self.buyers_[own]
            may = support >= self.min_support  # the others never anchor
            own, rec_of, support = own[may], rec_of[may], support[may]
            if len(own) == 0:
                continue
            # co-buyers of (own SKU, recommended SKU): one gather per pair
            together = co_counts(own, chunk_items[rec_of])
            confidence = together / np.maximum(support, 1.0)
            # segment maximum per recommendation (pairs grouped by recommendation)
            first = np.flatnonzero(np.concatenate(([True], rec_of[1:] != rec_of[:-1])))
            chunk_best = best[lo:lo + len(chunk_rows)]
            chunk_best[rec_of[first]] = np.maximum.reduceat(confidence, first)
            # the first own SKU reaching it (each row's SKUs sorted: the smallest SKU)
            hits = np.flatnonzero((confidence == chunk_best[rec_of]) & (confidence > 0))
            hit_of = rec_of[hits]
            firsts = hits[np.concatenate(([True], hit_of[1:] != hit_of[:-1]))] if len(hits) \
                else hits
            anchor[lo + rec_of[firsts]] = own[firsts]
        return anchor, best

    def _reason_texts(self) -> dict[str, pa.Array]:
        """The parts of the reasons that depend on one SKU only, one string per SKU:
        ``anchor`` (" of the 220 customers who buy A"), ``also`` (" also buy C; its 57 buyers
        ...") and ``popular`` ("bought by 5 of the 6 customers; its 57 buyers ...")."""
        spend = join_text(
            "; its ", _integers(self.year_buyers_),
            " buyers of the last year spent a median ", _integers(np.rint(self.expected_value_)),
            " on it",
        )
        return {
            "anchor": join_text(" of the ", _integers(self.buyers_), " customers who buy ",
                                self.skus_),
            "also": join_text(" also buy ", self.skus_, spend),
            "popular": join_text("bought by ", _integers(self.buyers_), " of the ",
                                 str(len(self.customers_)), " customers", spend),
        }

    def _co_buyer_counts(self, items: IntArray) -> Callable[[IntArray, IntArray], FloatArray]:
        """``counts(left, right)``: the customers of the fit who bought both SKU ``left[i]``
        and SKU ``right[i]``, for pairs whose ``right`` SKUs are among ``items``.

        From the whole co-buyers matrix (:meth:`_co_buyers`) when it is made already or when
        ``items`` hold many SKUs (a full ranking's offers); else from the rows of those SKUs
        alone (the matrix is symmetric): a day's few offers ranked again name a few dozen
        SKUs, whose rows take milliseconds where the whole matrix of 4,800 SKUs took half a
        second. The counts are the same whole numbers either way."""
        cached = getattr(self, "_co_buyers_cache", None)
        wanted = np.unique(items)
        if cached is not None or len(wanted) * _CO_BUYER_ROWS_SHARE > len(self.skus_):
            co_buyers = self._co_buyers()
            return lambda left, right: _co_counts(co_buyers, left, right)
        item_buyers = self.fitted_binary().T.tocsr().astype(np.float32)
        # float32 sums of ones: whole numbers, exact to 2**24 customers
        rows = np.asarray((item_buyers[wanted] @ item_buyers.T).toarray())

        def counts(left: IntArray, right: IntArray) -> FloatArray:
            at = np.searchsorted(wanted, right)
            return np.asarray(rows[at, left], dtype=np.float64).ravel()

        return counts

    def _co_buyers(self) -> Any:
        """SKU x SKU matrix: customers who bought both, computed once and cached, from the
        pattern the model was fitted on (:meth:`fitted_binary`).

        Dense up to :data:`_DENSE_CO_BUYERS` SKUs, where gathering is fastest, in the
        smallest unsigned integers that hold the count of customers (16 bits to 65,535
        customers: half the memory of float32, the same counts); sparse CSR (float32) beyond.
        """
        cached = getattr(self, "_co_buyers_cache", None)
        if cached is None:
            item_buyers = self.fitted_binary().T.tocsr().astype(np.float32)
            cached = (item_buyers @ item_buyers.T).tocsr()
            if cached.shape[0] <= _DENSE_CO_BUYERS:
                # float32 sums of ones: whole numbers, exact to 2**24 and whole beyond
                kind = np.uint16 if self.binary_.shape[0] <= np.iinfo(np.uint16).max \
                    else np.uint32
                coo = cached.tocoo()
                dense = np.zeros(cached.shape, dtype=kind)
                dense[coo.row, coo.col] = coo.data
                cached = dense
            else:
                cached.sort_indices()
            self._co_buyers_cache = cached
        return cached


class _Undigestable(Exception):
    """A value :func:`_digest` does not know how to hash."""


def _digest(value: Any, digest: Any) -> None:
    """Feed ``value`` to ``digest``, tagged by kind (see :meth:`_CrossSellBase.fit_digest`)."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise _Undigestable(value.dtype)
        digest.update(f"ndarray:{value.dtype.str}:{value.shape};".encode())
        digest.update(np.ascontiguousarray(value).view(np.uint8).reshape(-1))
    elif sp.issparse(value):
        matrix = value.tocsr()
        digest.update(f"csr:{matrix.shape}:{matrix.has_canonical_format};".encode())
        for part in (matrix.indptr, matrix.indices[:matrix.indptr[-1]],
                     matrix.data[:matrix.indptr[-1]]):
            _digest(np.asarray(part), digest)
    elif isinstance(value, (pa.Array, pa.ChunkedArray)):
        digest.update(f"arrow:{value.type}:{len(value)};".encode())
        _digest(pc.is_null(value).to_numpy(zero_copy_only=False), digest)
        if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
            text = pc.fill_null(value, "")
            _digest(pc.binary_length(text).to_numpy(zero_copy_only=False), digest)
            digest.update(b"".join(s.encode() for s in text.to_pylist()))
        else:
            _digest(value.to_numpy(zero_copy_only=False), digest)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}:{len(value)};".encode())
        for item in value:
            _digest(item, digest)
    elif isinstance(value, dict):
        digest.update(f"dict:{len(value)};".encode())
        for key in sorted(value, key=repr):
            _digest(key, digest)
            _digest(value[key], digest)
    elif isinstance(value, _CrossSellBase):
        digest.update(f"model:{type(value).__module__}.{type(value).__qualname__};".encode())
        for key in sorted(vars(value)):
            if not key.startswith("_") and key != "model_":
                _digest(key, digest)
                _digest(vars(value)[key], digest)
    else:
        raise _Undigestable(type(value))


def _segments(starts: IntArray, ends: IntArray) -> IntArray:
    """The positions ``starts[i]:ends[i]`` of every segment, concatenated (no Python loop)."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    # each position is the previous + 1, except at a segment's start (a jump to its start)
    steps = np.ones(total, dtype=np.int64)
    first = np.cumsum(lengths) - lengths  # where each segment begins in the output
    used = lengths > 0
    steps[first[used]] = starts[used] - np.concatenate(([0], ends[used][:-1] - 1))
    steps[0] = starts[used][0]
    result: IntArray = np.cumsum(steps)
    return result


def _in_order(*keys: npt.NDArray[Any]) -> bool:
    """Whether the rows are sorted by ``keys`` (the first the most significant), strictly:
    then ``np.lexsort(keys[::-1])`` would keep them as they are."""
    if len(keys[0]) < 2:
        return True
    ahead = np.zeros(len(keys[0]) - 1, dtype=bool)  # decided: before the next row
    tied = np.ones(len(keys[0]) - 1, dtype=bool)  # equal on the keys so far
    for key in keys:
        ahead |= tied & (key[:-1] < key[1:])
        tied &= key[:-1] == key[1:]
    return bool(ahead.all())


def _ranking_offset(buyers: FloatArray, eligible: BoolArray | None) -> FloatArray:
    """What the ranking adds to each SKU's score: a tie goes to the more popular SKU (a
    billionth at most); an ineligible SKU ranks -inf (``eligible`` None: none)."""
    offset: FloatArray = 1e-9 * buyers / max(float(buyers.max()), 1.0)
    if eligible is not None:
        offset[~eligible] = -np.inf
    return offset


def _pattern_keys(pattern: Any) -> IntArray:
    """The (row, column) entries of a CSR pattern as sorted keys ``row * columns + column``."""
    lengths = np.diff(pattern.indptr)
    used = pattern.indices[:pattern.indptr[-1]].astype(np.int64)
    keys: IntArray = np.repeat(np.arange(pattern.shape[0], dtype=np.int64) * pattern.shape[1],
                               lengths) + used
    if len(keys) > 1 and (keys[1:] < keys[:-1]).any():  # indices not sorted within rows
        keys = np.sort(keys)
    return keys


def _contains(keys: IntArray, queries: IntArray) -> BoolArray:
    """Whether each of ``queries`` is one of the sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(queries.shape, dtype=bool)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    found: BoolArray = keys[at] == queries
    return found


_BLOCKS = 64  # column blocks whose maxima bound each row's k-th largest value (_top_k)


def _top_k(values: FloatArray, k: int, floor: float) -> IntArray:
    """Per row, the columns of the ``k`` largest ``values`` above ``floor``, largest first
    (then the smaller column); -1 fills rows with fewer than ``k`` such values.

    The same selection as ``np.argpartition(-values, k - 1, axis=1)[:, :k]`` keeping its
    values above ``floor``, without partitioning whole rows: the ``k``-th largest of the
    maxima of ``_BLOCKS`` column blocks is a value at or below each row's ``k``-th largest,
    so the few values at or above it hold the top ``k``; only those are sorted. Rows where the
    ``k``-th and the next value tie above ``floor`` (which of them argpartition keeps is its
    own choice) are handed to ``np.argpartition`` itself, so the result is the same.
    """
    n_rows, n_cols = values.shape
    width = -(-n_cols // _BLOCKS)
    edges = np.arange(0, n_cols, width)
    if len(edges) <= k or n_rows == 0:  # few columns: partition whole rows
        return _top_k_partition(values, k, floor)
    # NaN is never above floor: fmax ignores it (an all-NaN block stays NaN and sorts last)
    maxima = np.fmax.reduceat(values, edges, axis=1)
    maxima.partition(len(edges) - k, axis=1)
    bound = maxima[:, len(edges) - k]
    trusted = bound > floor  # (False for NaN)
    lowest = np.nextafter(floor, np.inf)
    bound = np.where(trusted, bound, lowest)  # else every value above floor is a candidate
    flat = np.flatnonzero(values >= bound[:, None])
    row = flat // n_cols
    col = flat - row * n_cols
    value = values.reshape(-1)[flat]
    order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    count = np.bincount(row, minlength=n_rows)
    start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(count, out=start[1:])
    rank = np.arange(len(row)) - start[row]
    picked = np.full((n_rows, k), -1, dtype=np.int64)
    top = rank < k
    picked[row[top], rank[top]] = col[top]
    # argpartition decides: a tie at the k-th value, or a bound above too few values (NaN)
    undecided = trusted & (count < k)
    more = np.flatnonzero(count > k)
    undecided[more] |= value[start[more] + k - 1] == value[start[more] + k]
    if undecided.any():
        redo = np.flatnonzero(undecided)
        picked[redo] = _top_k_partition(values[redo], k, floor)
    return picked


def _top_k_partition(values: FloatArray, k: int, floor: float) -> IntArray:
    """:func:`_top_k` by ``np.argpartition`` of whole rows."""
    n_cols = values.shape[1]
    part = np.argpartition(-values, k - 1, axis=1)[:, :k] if k < n_cols else \
        np.tile(np.arange(n_cols), (len(values), 1))
    chosen = np.take_along_axis(values, part, axis=1)
    order = np.lexsort((part, -chosen), axis=1) if len(part) else part
    part = np.take_along_axis(part, order, axis=1)
    chosen = np.take_along_axis(chosen, order, axis=1)
    part[~(chosen > floor)] = -1
    result: IntArray = part
    return result


_REASON_NUMBERS = ("anchor_sku", "anchor_buyers", "co_buyers", "sku_buyers", "year_buyers",
                   "customers")


def _co_counts(co_buyers: Any, left: IntArray, right: IntArray) -> FloatArray:
    """Number of customers who bought both SKU ``left[i]`` and SKU ``right[i]``.

    ``co_buyers`` is the SKU x SKU co-purchase count matrix (dense, or CSR with sorted
    indices); the pairs are read from it with one vectorized gather.
    """
    if len(left) == 0:
        return np.zeros(0)
    values = co_buyers[left, right]
    result: FloatArray = np.asarray(values, dtype=np.float64).ravel()
    return result


def _weights(counts: Any, weighting: Weighting, *, k1: float = 1.2, b: float = 0.75) -> Any:
    """Confidence weights of a customer x SKU count matrix (CSR)."""
    out = counts.copy().astype(np.float64)
    if weighting == "binary":
        out.data[:] = 1.0
    elif weighting == "log":
        out.data = 1.0 + np.log1p(out.data)
    elif weighting == "bm25":
        coo = out.tocoo()
        n_users = max(out.shape[0], 1)
        buyers = np.bincount(coo.col, minlength=out.shape[1]).astype(np.float64)
        idf = np.log(n_users) - np.log1p(buyers)
        idf = np.maximum(idf, 0.0) + 1e-3
        basket = np.asarray(out.sum(axis=1)).ravel()
        norm = (1.0 - b) + b * basket / max(float(basket.mean()), 1e-12)
        data = coo.data * (k1 + 1.0) / (k1 * norm[coo.row] + coo.data) * idf[coo.col]
        out = sp.csr_matrix((data, (coo.row, coo.col)), shape=out.shape)
    else:
        raise UserInputError(f"weighting must be 'bm25', 'log' or 'binary', got {weighting!r}")
    return out


