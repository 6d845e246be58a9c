"""Cross-sell on a workspace, and its backtest against the popularity baseline."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from salesradar import __version__
from salesradar.errors import UserInputError
from salesradar.models.crosssell.base import (
    RECOMMENDATION_SCHEMA,
    _CrossSellBase,
    _segments,
    _strings,
    interactions_from_lines,
    purchases_from_lines,
)
from salesradar.models.crosssell.recommenders import (
    ALSRecommender,
    BlendRecommender,
    ItemItemRecommender,
    PopularityRecommender,
)
from salesradar.models.evaluation import BacktestMetric
from salesradar.models.non_product import non_product_codes, product_names
from salesradar.models.text import join_text

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Weighting = Literal["bm25", "log", "binary"]


def _discontinued(ws: Any) -> list[str]:
    products = ws.table("products")
    inactive = products.filter(products.active == ibis.literal(False)).select("sku")
    result: list[str] = inactive.to_pyarrow()["sku"].to_pylist()
    return result


def recommend_for(
    ws: Any,
    customer_ids: Sequence[str] | None = None,
    n: int = 10,
    *,
    model: _CrossSellBase | None = None,
    as_of: dt.date | None = None,
    exclude_non_products: bool = True,
    fitted: _CrossSellBase | None = None,
    kept_offers: Path | None = None,
) -> pa.Table:
    """Cross-sell recommendations for customers of a workspace.

    Parameters
    ----------
    ws
        A :class:`~salesradar.workspace.Workspace`.
    customer_ids
        Customers to recommend for (None: all).
    n
        Recommendations per customer.
    model
        An unfitted recommender (default :class:`BlendRecommender`, the best on the UCI
        backtests).
    as_of
        Use the lines on or before this day (default: all): the day scored is known, so a
        customer who bought an item that day is never offered it.
    exclude_non_products
        Never offer the workspace's non-product codes (postage, fees, discounts:
        :func:`~salesradar.models.non_product.non_product_codes`, with the company's
        overrides); default True. They are left out of the data the model learns from.
    fitted
        A recommender fitted before (the model of the week, :mod:`salesradar.models.store`),
        used instead of fitting ``model``: only the customers' purchases to ``as_of`` are read
        (:meth:`~salesradar.models.crosssell.base._CrossSellBase.with_purchases`), so none of
        them is offered, nor today's discontinued or non-product codes; customers and SKUs
        new since its fit are not known to it (no offers for them, SKUs not offered) until
        the next fit.
    kept_offers
        With ``fitted`` and every customer (``customer_ids`` None): a file where the offers
        are kept from one day to the next (:data:`KEPT_OFFERS`, beside the saved models).
        The offers of a customer whose own SKUs are those of the day kept there, from the
        same model with the same eligible SKUs and ``n``, are taken from it as they are;
        only the others are ranked (:func:`_kept_model_offers`). The same offers as without.

    Returns
    -------
    pyarrow.Table
        As :meth:`ALSRecommender.recommend`, plus the product ``name`` of the offered SKU and
        ``anchor_name`` of its anchor when known
        (:func:`~salesradar.models.non_product.product_names`: ``products.name``, else the most
        frequent invoice-line description).
    """
    end = as_of + dt.timedelta(days=1) if as_of is not None else None
    lines = ws.table("invoice_lines")
    excluded: list[str] = non_product_codes(ws) if exclude_non_products else []
    if excluded:
        lines = lines.filter(~lines.sku.isin(excluded))
    if fitted is not None:  # the kept model: what each customer bought to the day, not refit
        never = [*_discontinued(ws), *excluded]
        recommender = fitted.with_purchases(purchases_from_lines(lines, end=end), never=never)
    else:
        interactions = interactions_from_lines(lines, end=end)
        recommender = model if model is not None else BlendRecommender()
        recommender.fit(interactions, discontinued=_discontinued(ws))
    if fitted is not None and kept_offers is not None and customer_ids is None:
        recs = _kept_model_offers(recommender, fitted, n, kept_offers)
    else:
        recs = recommender.recommend(customer_ids, n=n)
    if recs.num_rows == 0:
        return recs.append_column("name", pa.nulls(0, pa.string())).append_column(
            "anchor_name", pa.nulls(0, pa.string()))
    named = recs.append_column("name", _offered_names(ws, recs["sku"]))
    return named.append_column("anchor_name", _anchor_names(ws, recs["anchor_sku"]))


def _anchor_names(ws: Any, anchors: pa.ChunkedArray) -> pa.Array:
    """The name of each offer's anchor SKU (null without an anchor), as the offered SKUs are
    named (:func:`_offered_names`): looked up once per distinct anchor."""
    codes = pc.unique(pc.drop_null(anchors))
    if len(codes) == 0:
        return pa.nulls(len(anchors), pa.string())
    names = _offered_names(ws, pa.chunked_array([codes]))
    result: pa.Array = names.take(pc.index_in(anchors, value_set=codes))
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


KEPT_OFFERS = "cross_sell_offers.arrow"  # the kept model's offers of the last day
_KEPT_FORMAT = 1  # bump when the file's layout or what the offers depend on changes
_MAX_PIECES = 8192  # pieces of the offers kept as slices; more are copied into one


def _kept_model_offers(applied: _CrossSellBase, fitted: _CrossSellBase, n: int,
                       path: Path) -> pa.Table:
    """``applied.recommend(None, n=n)`` (``applied``: ``fitted`` with a day's purchases), the
    offers of the customers whose own SKUs did not change since the offers kept in ``path``
    taken from there, and ``path`` rewritten with the day's.

    With the kept model, a customer's offers depend on the model, the eligible SKUs, ``n``
    and the customer's own SKUs (known to the model), nothing else
    (:meth:`~salesradar.models.crosssell.base._CrossSellBase.recommend_rows`). The file
    holds the offers (:data:`~salesradar.models.crosssell.base.RECOMMENDATION_SCHEMA`) and,
    in its metadata, the fingerprint of the other three and each customer's own SKUs and
    first offer; a different fingerprint, or no readable file, ranks every customer. The
    file is read memory-mapped: the offers kept are not copied (unless many runs of them are
    cut apart), and a failure to write it only costs the next day a whole ranking."""
    own = applied.binary_
    key = _kept_key(applied, fitted, n)
    kept = _read_kept(path, key, own.shape[0]) if key is not None else None
    if kept is None:
        offers = applied.recommend(None, n=n)
        rows = pc.index_in(offers["customer_id"], value_set=applied.customers_).to_numpy(
            zero_copy_only=False).astype(np.int64)
        starts = np.searchsorted(rows, np.arange(own.shape[0] + 1, dtype=np.int64))
    else:
        stored, indptr, indices, kept_starts = kept
        changed = _changed_rows(indptr, indices, own.indptr, own.indices)
        new = applied.recommend_rows(changed, n=n)
        offers, starts = _splice(stored, kept_starts, new, changed, applied.customers_)
    if key is not None:
        _write_kept(path, key, offers, own, starts)
    return offers


def _kept_key(applied: _CrossSellBase, fitted: _CrossSellBase, n: int) -> str | None:
    """What the offers depend on beside each customer's own SKUs: this code, the model
    (:meth:`~salesradar.models.crosssell.base._CrossSellBase.fit_digest`), the eligible SKUs
    of the day and ``n``. None when the model cannot be fingerprinted."""
    model = fitted.fit_digest()
    if model is None:
        return None
    eligible = hashlib.sha256(np.ascontiguousarray(applied.eligible_, dtype=np.bool_).tobytes())
    return json.dumps([_KEPT_FORMAT, __version__, model, eligible.hexdigest(), int(n)])


def _read_kept(path: Path, key: str, n_customers: int,
               ) -> tuple[pa.Table, IntArray, IntArray, IntArray] | None:
    """The offers kept in ``path`` under ``key`` with the own SKUs they were ranked for
    (CSR ``indptr``, ``indices``) and where each customer's offers begin (``starts``, one
    more than the customers); None when there are none or they do not fit."""
    try:
        stored = ipc.open_file(pa.memory_map(str(path))).read_all()
        meta = stored.schema.metadata or {}
        if meta.get(b"salesradar.key") != key.encode():
            return None
        indptr = np.frombuffer(meta[b"salesradar.indptr"], dtype=np.int64)
        indices = np.frombuffer(meta[b"salesradar.indices"], dtype=np.int64)
        starts = np.frombuffer(meta[b"salesradar.starts"], dtype=np.int64)
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    stored = stored.replace_schema_metadata(None)
    if (not stored.schema.equals(RECOMMENDATION_SCHEMA) or len(indptr) != n_customers + 1
            or len(starts) != n_customers + 1 or int(starts[-1]) != stored.num_rows
            or int(indptr[-1]) != len(indices)):
        return None
    return stored, indptr, indices, starts


def _changed_rows(old_indptr: IntArray, old_indices: IntArray, indptr: npt.NDArray[Any],
                  indices: npt.NDArray[Any]) -> IntArray:
    """The rows whose SKUs differ between two CSR patterns of as many rows, each row's SKUs
    sorted and once (canonical)."""
    old_lengths, lengths = np.diff(old_indptr), np.diff(indptr).astype(np.int64)
    changed = old_lengths != lengths
    same = np.flatnonzero(~changed)
    old_at = _segments(old_indptr[same], old_indptr[same + 1])
    new_at = _segments(np.asarray(indptr[same], np.int64), np.asarray(indptr[same + 1], np.int64))
    differs = old_indices[old_at] != np.asarray(indices, np.int64)[new_at]
    changed[np.repeat(same, lengths[same])[differs]] = True
    result: IntArray = np.flatnonzero(changed).astype(np.int64)
    return result


def _splice(stored: pa.Table, starts: IntArray, new: pa.Table, changed: IntArray,
            customers: pa.Array) -> tuple[pa.Table, IntArray]:
    """The kept offers with those of the ``changed`` customers (rows) replaced by ``new``
    (their offers, by customer and rank): customers in order, as a whole ranking gives; and
    where each customer's offers begin. Slices of both, not copied (the kept offers are
    copied into one piece when cut into more than :data:`_MAX_PIECES`)."""
    if len(changed) == 0:
        return stored, starts
    rows = pc.index_in(new["customer_id"], value_set=customers).to_numpy(
        zero_copy_only=False).astype(np.int64)
    new_starts = np.searchsorted(rows, changed, side="left")
    new_ends = np.searchsorted(rows, changed, side="right")
    counts = np.diff(starts)
    counts[changed] = new_ends - new_starts
    pieces = []
    at = 0
    for row, lo, hi in zip(changed.tolist(), new_starts.tolist(), new_ends.tolist(),
                           strict=True):  # one run of kept offers and one of new per change
        pieces += [stored.slice(at, int(starts[row]) - at), new.slice(lo, hi - lo)]
        at = int(starts[row + 1])
    pieces.append(stored.slice(at))
    offers = pa.concat_tables([p for p in pieces if p.num_rows])
    if offers.column(0).num_chunks > _MAX_PIECES:
        offers = offers.combine_chunks()
    result: IntArray = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return offers, result


def _write_kept(path: Path, key: str, offers: pa.Table, own: Any, starts: IntArray) -> None:
    """Keep the day's ``offers`` in ``path`` (whole or not at all) with ``key``, the own SKUs
    they were ranked for (``own``, CSR) and where each customer's offers begin."""
    meta = {b"salesradar.key": key.encode(),
            b"salesradar.indptr": np.asarray(own.indptr, np.int64).tobytes(),
            b"salesradar.indices": np.asarray(own.indices[:own.indptr[-1]], np.int64).tobytes(),
            b"salesradar.starts": starts.astype(np.int64).tobytes()}
    table = offers.replace_schema_metadata(meta)
    partial = path.with_name(path.name + ".partial")
    try:
        with pa.OSFile(str(partial), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        partial.replace(path)
    except (OSError, pa.ArrowException):
        return
    finally:
        partial.unlink(missing_ok=True)


def _offered_names(ws: Any, skus: pa.ChunkedArray) -> pa.Array:
    """The name of each offered SKU: :func:`~salesradar.models.non_product.product_names`.

    When ``products`` names every offered SKU once, those are its names, read from
    ``products`` alone: the most frequent invoice-line description, which
    :func:`product_names` finds for every SKU by a pass over all the lines, names only the
    SKUs ``products`` does not (0.2 to 0.35 s of a day's refresh on 10M lines). Otherwise every
    SKU's name is matched here: filtering by the offered SKUs in the query costs more (a
    literal list of thousands of codes to compile and test on every line)."""
    products = ws.table("products")
    if "name" in products.columns and "sku" in products.columns:
        # product_names' given names, to the letter: named, not blank once stripped
        given = products.select("sku", given=products.name.cast("string"))
        given = given.filter(given.given.notnull() & (given.given.strip() != ""))
        table = given.to_pyarrow()
        codes = _strings(table["sku"])
        index = pc.index_in(skus, value_set=codes)
        # each offered SKU named, and by one row (product_names keeps the first of several)
        if index.null_count == 0 and len(pc.unique(codes)) == len(codes):
            return pc.cast(table["given"], pa.string()).take(index)
    names = product_names(ws).to_pyarrow()
    index = pc.index_in(skus, value_set=_strings(names["sku"]))
    result: pa.Array = pc.cast(names["name"], pa.string()).take(index)
    return result


# ----------------------------------------------------------------------------- backtest
def _ranking_metrics(
    recommended: pa.Table, truth: pa.Table, k: int
) -> tuple[float, float, float, int]:
    """Mean precision@k, recall@k and NDCG@k over the customers of ``truth``."""
    customers = pc.unique(truth["customer_id"]).sort()
    n = len(customers)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    recommended = recommended.filter(
        pc.and_(pc.is_in(recommended["customer_id"], value_set=customers),
                pc.less_equal(recommended["rank"], k))
    )
    if recommended.num_rows == 0:
        return 0.0, 0.0, 0.0, n
    key_r = join_text(_strings(recommended["customer_id"]), "\x1f", _strings(recommended["sku"]))
    key_t = join_text(_strings(truth["customer_id"]), "\x1f", _strings(truth["sku"]))
    hit = pc.is_in(key_r, value_set=pc.unique(key_t)).to_numpy(zero_copy_only=False)
    rank = recommended["rank"].to_numpy()
    rec_customer = pc.index_in(recommended["customer_id"], value_set=customers).to_numpy(
        zero_copy_only=False
    )
    who = rec_customer[hit].astype(np.int64)
    hits = np.bincount(who, minlength=n).astype(np.float64)
    dcg = np.bincount(who, weights=1.0 / np.log2(rank[hit] + 1.0), minlength=n)
    t_customer = pc.index_in(truth["customer_id"], value_set=customers).to_numpy(
        zero_copy_only=False
    ).astype(np.int64)
    relevant = np.bincount(t_customer, minlength=n).astype(np.float64)
    ideal_hits = np.minimum(relevant, k).astype(np.int64)
    discounts = np.concatenate(([0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))))
    idcg = discounts[ideal_hits]
    return (
        float(np.mean(hits / k)),
        float(np.mean(hits / relevant)),
        float(np.mean(dcg / idcg)),
        n,
    )


def backtest(
    lines: Any,
    cutoff: dt.date,
    horizon_days: int = 90,
    k: int = 10,
    *,
    models: Sequence[_CrossSellBase] | None = None,
    discontinued: Iterable[str] = (),
    exclude_skus: Iterable[str] = (),
    exclude_non_products: bool = True,
    truth: Any = None,
) -> list[BacktestMetric]:
    """Replay history: fit on lines before ``cutoff``, score SKUs first bought in the horizon.

    The truth for a customer (one seen before ``cutoff``) is the set of SKUs it bought in
    ``[cutoff, cutoff + horizon_days)`` and never before. Each model recommends ``k`` SKUs it
    had not bought; precision@k, recall@k and NDCG@k are averaged over the customers with at
    least one new SKU, each beside the popularity baseline on the same customers.

    Parameters
    ----------
    lines
        Invoice lines (an Ibis table), or a workspace (its ``invoice_lines``; its inactive
        products count as discontinued).
    cutoff
        First day of the horizon; lines before it are the training data.
    horizon_days
        Length of the horizon.
    k
        Recommendations per customer.
    models
        Recommenders to evaluate (default: :class:`ALSRecommender`,
        :class:`ItemItemRecommender` and :class:`BlendRecommender` with their defaults).
    discontinued
        SKUs never to recommend.
    exclude_skus
        More SKUs removed from the data altogether, beside the non-product codes.
    exclude_non_products
        Remove the non-product codes (postage, fees, discounts) detected in the lines, with
        the company's overrides when ``lines`` is a workspace (default True).
    truth
        Accepted for :func:`salesradar.models.backtest.evaluate`; cross-sell is measured on
        what customers actually bought after the cutoff, so it is not used.

    Returns
    -------
    list of BacktestMetric
        ``precision_at_k``, ``recall_at_k``, ``ndcg_at_k`` per model.
    """
    del truth
    if horizon_days < 1:
        raise UserInputError(f"horizon_days must be >= 1, got {horizon_days}")
    discontinued = list(discontinued)
    excluded = list(exclude_skus)
    if exclude_non_products:
        excluded += non_product_codes(lines)
    if hasattr(lines, "table") and hasattr(lines, "backend"):  # a Workspace
        discontinued += _discontinued(lines)
        lines = lines.table("invoice_lines")
    if excluded:
        lines = lines.filter(~lines.sku.isin(excluded))
    train = interactions_from_lines(lines, end=cutoff)
    horizon_end = cutoff + dt.timedelta(days=horizon_days)
    future = interactions_from_lines(lines, start=cutoff, end=horizon_end)
    known = pc.unique(_strings(train["customer_id"]))
    future = future.filter(pc.is_in(future["customer_id"], value_set=known))
    key_train = join_text(_strings(train["customer_id"]), "\x1f", _strings(train["sku"]))
    key_future = join_text(_strings(future["customer_id"]), "\x1f", _strings(future["sku"]))
    new_skus = future.filter(pc.invert(pc.is_in(key_future, value_set=key_train)))
    new_skus = new_skus.select(["customer_id", "sku"])
    eval_customers = pc.unique(_strings(new_skus["customer_id"]))
    candidates = list(models) if models is not None else [
        ALSRecommender(), ItemItemRecommender(), BlendRecommender()
    ]

    def evaluate(model: _CrossSellBase) -> tuple[float, float, float, int]:
        model.fit(train, discontinued=discontinued)
        recs = model.recommend(eval_customers, n=k)
        return _ranking_metrics(recs, new_skus, k)

    base = evaluate(PopularityRecommender())
    names = ("precision", "recall", "ndcg")
    out: list[BacktestMetric] = []
    for model in candidates:
        scores = evaluate(model)
        for i, name in enumerate(names):
            out.append(
                BacktestMetric(
                    model=f"cross_sell_{model.model_name}",
                    metric=f"{name}_at_{k}",
                    value=scores[i],
                    baseline="popularity (most popular SKUs the customer hasn't bought)",
                    baseline_value=base[i],
                    n=scores[3],
                    note=(
                        f"fit before {cutoff.isoformat()}, SKUs first bought in the next "
                        f"{horizon_days} days"
                    ),
                )
            )
    return out
