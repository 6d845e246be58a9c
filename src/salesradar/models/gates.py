"""Models earn their alerts: each model speaks only where its own backtest on this workspace
beats the simple rule a user would otherwise use.

At ``salesradar score`` time, :func:`model_gates` replays each model at ``cutoff = as_of -
horizon`` (the same fit as its backtest in :mod:`salesradar.models.backtest`) and compares it
with its baseline on the same cases:

======================  ==================================  ===============================
model                   metric                              baseline (the rule)
======================  ==================================  ===============================
``churn``               ROC AUC over customers              recency (days since last order)
``cross_sell``          precision@10 over customers with    popularity
                        a new SKU in the horizon
``stopped_items``       precision of all flags              gap > 2x the pair's median gap
======================  ==================================  ===============================

A comparison counts only with enough cases (:data:`MIN_POSITIVES` churned and
:data:`MIN_NEGATIVES` staying customers; :data:`MIN_CUSTOMERS` customers with an outcome;
:data:`MIN_FLAGS` flags on each side) **and** a 95% confidence interval on the difference
(model - baseline) that lies above zero: a paired bootstrap over customers
(:data:`RESAMPLES` resamples, seed :data:`SEED`). The decision per model is ``model`` (it
beats the rule), ``rule`` (the rule wins or ties) or ``not_enough_data``; in the last two the
rule speaks. The decisions are kept in the workspace table ``model_gates`` (see
:data:`GATE_COLUMNS`) with a reason in English and Hebrew, keyed by the data version of
:func:`salesradar.models.store.data_version`, so unchanged data never re-runs the backtests.
A workspace with more than :data:`MAX_CUSTOMERS` customers is gated on a stable sample of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.engine import table_names
from salesradar.errors import SalesradarError

__all__ = [
    "GATES_FORMAT",
    "GATE_COLUMNS",
    "GATE_TABLE",
    "MODELS",
    "Comparison",
    "Gate",
    "compare_auc",
    "compare_means",
    "compare_ratios",
    "compute_gates",
    "describe",
    "model_gates",
    "read_gates",
    "weighted_auc",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Decision = Literal["model", "rule", "not_enough_data"]

GATE_TABLE = "model_gates"
#: bump when a backtest of the gates compares something else: decisions stored by an older
#: version are then computed anew, even on unchanged data or inside the refit schedule
#: (2: stopped items flag only pairs past their longest pause, the model's and the rule's)
GATES_FORMAT = 2
MODELS: tuple[str, ...] = ("churn", "cross_sell", "stopped_items")
MIN_POSITIVES = 30  # churn: customers who churned in the backtest's horizon
MIN_NEGATIVES = 30  # churn: customers who bought again
MIN_CUSTOMERS = 30  # cross-sell: customers with a new SKU in the horizon
MIN_FLAGS = 30  # stopped items: flags of the model and of the rule, each
RESAMPLES = 1000
SEED = 0
LEVEL = 0.95
MAX_CUSTOMERS = 20_000
SAMPLE_TABLE = "_salesradar_gate_sample"  # the sampled lines, for the duration of the backtests
CROSS_SELL_K = 10
_CHUNK = 100  # resamples per vectorized block (memory: _CHUNK x cases floats)

# what each model is measured on, and its rule, in both languages
_NAMES: dict[str, tuple[str, str, str, str]] = {
    # model: (model en, model he, rule en, rule he)
    "churn": ("the churn model", "מודל הנטישה",
              "the recency rule (days since the last order)",
              "כלל הזמן מההזמנה האחרונה"),
    "cross_sell": ("the cross-sell model", "מודל המכירה הצולבת",
                   "the popularity rule (the most popular items the customer doesn't buy)",
                   "כלל הפופולריות (הפריטים הנמכרים ביותר שהלקוח לא קונה)"),
    "stopped_items": ("the stopped-items model", "מודל הפריטים שהופסקו",
                      "the gap rule (gap over 2x the item's median gap and longer than "
                      "any before)",
                      "כלל הפער (פער של יותר מפי 2 מהפער החציוני של הפריט וארוך מכל פער "
                      "קודם)"),
}
METRICS = {"churn": "roc_auc", "cross_sell": f"precision_at_{CROSS_SELL_K}",
           "stopped_items": "precision_of_flags"}
_METRICS_HE = {"roc_auc": "ROC AUC", f"precision_at_{CROSS_SELL_K}": f"דיוק ב-{CROSS_SELL_K}",
               "precision_of_flags": "דיוק ההתרעות"}
# the metrics in words (the reasons are read by people; the codes stay in ``metric``)
_METRICS_EN = {"roc_auc": "ROC AUC",
               f"precision_at_{CROSS_SELL_K}": f"precision of the top {CROSS_SELL_K} offers",
               "precision_of_flags": "precision of the flags"}
# what the rule writes in score_*.scored_by when it speaks
RULE_NAMES = {"churn": "recency_rule", "cross_sell": "popularity", "stopped_items": "gap_rule"}

GATE_COLUMNS = pa.schema([
    ("model", pa.string()), ("decision", pa.string()), ("metric", pa.string()),
    ("model_value", pa.float64()), ("baseline", pa.string()), ("baseline_value", pa.float64()),
    ("diff_ci_low", pa.float64()), ("diff_ci_high", pa.float64()),
    ("n_cases", pa.int64()), ("n_positive", pa.int64()),
    ("reason", pa.string()), ("reason_he", pa.string()),
    ("as_of", pa.date32()), ("cutoff", pa.date32()), ("horizon_days", pa.int64()),
    ("sampled_customers", pa.int64()), ("data_version", pa.string()),
    ("computed_at", pa.timestamp("s")), ("invoice_lines", pa.int64()),
])


# ----------------------------------------------------------------------------- statistics
def _resample_counts(rng: np.random.Generator, n: int, b: int) -> FloatArray:
    """``b`` bootstrap resamples of ``n`` cases as counts: row r says how often each case
    was drawn in resample r."""
    draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def weighted_auc(y: Any, score: Any, weights: Any = None) -> FloatArray:
    """ROC AUC (ties count half) under each row of case ``weights`` (shape resamples x cases;
    None: one row of ones), vectorized. NaN where a row weighs no positive or no negative."""
    truth = np.asarray(y, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    w = np.ones((1, len(s))) if weights is None else np.atleast_2d(
        np.asarray(weights, dtype=np.float64))
    if len(s) == 0:
        return np.full(w.shape[0], np.nan)
    order = np.argsort(s, kind="stable")
    s, truth, w = s[order], truth[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # one group per distinct score
    pos = np.add.reduceat(w * truth, starts, axis=1)
    neg = np.add.reduceat(w * ~truth, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    numerator = (pos * (below + 0.5 * neg)).sum(axis=1)
    denominator = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _bootstrap(
    n: int, statistic: Callable[[FloatArray], FloatArray], resamples: int, seed: int,
    level: float,
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` (a function of a resamples x cases count matrix,
    one value per row) over ``resamples`` paired resamples of the ``n`` cases."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([
        statistic(_resample_counts(rng, n, min(_CHUNK, resamples - start)))
        for start in range(0, resamples, _CHUNK)
    ])
    if np.isnan(values).all():
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    """A model against its rule on the same cases: the decision and the numbers behind it."""

    decision: Decision
    model_value: float | None
    baseline_value: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    n_cases: int
    n_positive: int
    short_of: str = ""  # why there are not enough cases (English), when so
    short_of_he: str = ""


def _decide(low: float, high: float) -> Decision:
    return "model" if not math.isnan(low) and low > 0 else "rule"


def _none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def compare_auc(
    y: Any, model_score: Any, baseline_score: Any, *, resamples: int = RESAMPLES,
    seed: int = SEED, level: float = LEVEL, min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
) -> Comparison:
    """Churn: ROC AUC of the model's scores against the baseline's on the same customers
    (``y`` true = churned), with a paired bootstrap over customers on the difference."""
    truth = np.asarray(y, dtype=bool)
    m = np.asarray(model_score, dtype=np.float64)
    b = np.asarray(baseline_score, dtype=np.float64)
    n, positives = len(truth), int(truth.sum())
    model_value, base_value = (float(weighted_auc(truth, m)[0]), float(weighted_auc(truth, b)[0]))
    if positives < min_positives or n - positives < min_negatives:
        return Comparison(
            "not_enough_data", _none(model_value), _none(base_value), None, None, n, positives,
            f"{positives:,} churned and {n - positives:,} stayed in the backtest; at least "
            f"{min_positives} of each are needed",
            f"{positives:,} נטשו ו-{n - positives:,} נשארו בבדיקה לאחור; צריך לפחות "
            f"{min_positives} מכל סוג",
        )
    low, high = _bootstrap(
        n, lambda w: weighted_auc(truth, m, w) - weighted_auc(truth, b, w), resamples, seed,
        level)
    return Comparison(_decide(low, high), model_value, base_value, _none(low), _none(high), n,
                      positives)


def compare_means(
    model_per_case: Any, baseline_per_case: Any, *, positive: Any = None,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
    min_cases: int = MIN_CUSTOMERS,
) -> Comparison:
    """Cross-sell: the mean of a per-customer metric (precision@k) of the model against the
    baseline's on the same customers, with a paired bootstrap over customers. ``positive``
    marks the cases with a hit on either side (counted in ``n_positive``)."""
    m = np.asarray(model_per_case, dtype=np.float64)
    b = np.asarray(baseline_per_case, dtype=np.float64)
    n = len(m)
    positives = int(np.asarray(positive, dtype=bool).sum()) if positive is not None else n
    model_value = float(m.mean()) if n else math.nan
    base_value = float(b.mean()) if n else math.nan
    if n < min_cases:
        return Comparison(
            "not_enough_data", _none(model_value), _none(base_value), None, None, n, positives,
            f"{n:,} customers bought a new item in the backtest's horizon; at least "
            f"{min_cases} are needed",
            f"{n:,} לקוחות קנו פריט חדש בתקופת הבדיקה לאחור; צריך לפחות {min_cases}",
        )
    diff = m - b
    low, high = _bootstrap(n, lambda w: (w @ diff) / w.sum(axis=1), resamples, seed, level)
    return Comparison(_decide(low, high), model_value, base_value, low, high, n, positives)


def compare_ratios(
    model_hits: Any, model_flags: Any, baseline_hits: Any, baseline_flags: Any, *,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
    min_flags: int = MIN_FLAGS,
) -> Comparison:
    """Stopped items: precision (hits / flags, pooled) of the model's flags against the rule's,
    the counts given per customer (customers with a flag on either side), with a paired
    bootstrap over customers."""
    mh, mf = np.asarray(model_hits, np.float64), np.asarray(model_flags, np.float64)
    bh, bf = np.asarray(baseline_hits, np.float64), np.asarray(baseline_flags, np.float64)
    n_flags_m, n_flags_b = int(mf.sum()), int(bf.sum())
    model_value = float(mh.sum() / n_flags_m) if n_flags_m else math.nan
    base_value = float(bh.sum() / n_flags_b) if n_flags_b else math.nan
    cases, positives = n_flags_m + n_flags_b, int(mh.sum() + bh.sum())
    if n_flags_m < min_flags or n_flags_b < min_flags:
        return Comparison(
            "not_enough_data", _none(model_value), _none(base_value), None, None, cases,
            positives,
            f"the model flagged {n_flags_m:,} items and the rule {n_flags_b:,} in the "
            f"backtest; at least {min_flags} of each are needed",
            f"המודל סימן {n_flags_m:,} פריטים והכלל {n_flags_b:,} בבדיקה לאחור; צריך לפחות "
            f"{min_flags} מכל אחד",
        )

    def statistic(w: FloatArray) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ mh) / (w @ mf) - (w @ bh) / (w @ bf)

    low, high = _bootstrap(len(mh), statistic, resamples, seed, level)
    return Comparison(_decide(low, high), model_value, base_value, _none(low), _none(high),
                      cases, positives)


# ----------------------------------------------------------------------------- the gate
@dataclass(frozen=True)
class Gate:
    """One model's decision on one workspace (a row of ``model_gates``)."""

    model: str
    decision: Decision
    metric: str
    model_value: float | None
    baseline: str
    baseline_value: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    n_cases: int
    n_positive: int
    reason: str
    reason_he: str
    as_of: dt.date
    cutoff: dt.date
    horizon_days: int
    sampled_customers: int | None
    data_version: str | None
    computed_at: dt.datetime
    invoice_lines: int | None = None  # when decided: the refit schedule's drift compares it

    @property
    def model_speaks(self) -> bool:
        return self.decision == "model"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("as_of", "cutoff", "computed_at"):
            out[key] = out[key].isoformat()
        return out


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _reasons(model: str, c: Comparison) -> tuple[str, str]:
    """Why the model or the rule speaks, in English and Hebrew, with the numbers."""
    name, name_he, rule, rule_he = _NAMES[model]
    metric = METRICS[model]
    metric_he = _METRICS_HE[metric]
    values = f"{_METRICS_EN[metric]} {_num(c.model_value)} vs {_num(c.baseline_value)} for the rule"
    values_he = f"{metric_he} {_num(c.model_value)} מול {_num(c.baseline_value)} לכלל"
    if c.decision == "not_enough_data":
        return (
            f"not enough data to judge {name} ({c.short_of}; {values}): {rule} speaks",
            f"אין מספיק נתונים לשפוט את {name_he} ({c.short_of_he}; {values_he}): {rule_he} "
            "מדבר",
        )
    ci = (f"difference {_num(c.diff_ci_low, True)} to {_num(c.diff_ci_high, True)} "
          f"({LEVEL:.0%} interval, {c.n_cases:,} cases)")
    ci_he = (f"הפרש בין {_num(c.diff_ci_low, True)} ל-{_num(c.diff_ci_high, True)} "
             f"(רווח סמך {LEVEL:.0%}, {c.n_cases:,} מקרים)")
    if c.decision == "model":
        return (f"{name} beats {rule} on this workspace's backtest: {values}, {ci}",
                f"{name_he} עדיף על {rule_he} בבדיקה לאחור על הנתונים האלה: {values_he}, "
                f"{ci_he}")
    if c.diff_ci_high is not None and c.diff_ci_high < 0:
        verdict, verdict_he = "the rule does better", "הכלל טוב יותר"
    else:
        verdict, verdict_he = "no better than a tie", "לא יותר מתיקו"
    return (
        f"{rule} speaks: {name} does not beat it on this workspace's backtest ({verdict}): "
        f"{values}, {ci}",
        f"{rule_he} מדבר: {name_he} לא עדיף עליו בבדיקה לאחור על הנתונים האלה ({verdict_he}): "
        f"{values_he}, {ci_he}",
    )


def _failed(message: str) -> Comparison:
    return Comparison("not_enough_data", None, None, None, None, 0, 0,
                      f"the backtest could not run: {message}",
                      f"הבדיקה לאחור לא רצה: {message}")


# ------------------------------------------------------------- the cases of each backtest
def _text(column: Any) -> pa.Array:
    """A column as one string array (ids may be stored as numbers)."""
    values = pc.cast(column, pa.string())
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _churn_cases(tables: Any, cutoff: dt.date, horizon_days: int) -> Comparison:
    """The churn backtest's fit and customers (:func:`salesradar.models.churn.backtest`),
    compared per customer: the model's P(churn) against days since the last order.

    The model is fitted as :meth:`~salesradar.models.churn.ChurnModel.fit` fits it at
    ``cutoff``, but the features and outcomes of its training snapshots and of the cutoff
    are computed in one query each, not two: a customer's features and outcome at a date
    depend on that date alone (the same rows, the cutoff's last in the date order)."""
    from salesradar.models.churn import (
        ChurnModel,
        FeatureFrame,
        build_features,
        training_cutoffs,
    )
    from salesradar.models.features import churn_labels

    model = ChurnModel(horizon_days)
    dates = training_cutoffs(cutoff, horizon_days, model.snapshots, model.snapshot_step_days)
    frame = build_features(tables, [*dates, cutoff], horizon_days=horizon_days,
                           window_days=model.window_days)
    labels = (churn_labels(tables, [*dates, cutoff], horizon_days=horizon_days)
              .order_by(["as_of", "customer_id"]).to_pyarrow())
    ids = np.asarray(labels.column("customer_id").to_numpy(zero_copy_only=False)).astype(str)
    days = np.asarray(labels.column("as_of").to_numpy(zero_copy_only=False)).astype(
        "datetime64[D]")
    if not (np.array_equal(ids, frame.customer_id.astype(str))
            and np.array_equal(days, frame.as_of)):
        raise AssertionError("features and outcomes disagree on the customers")  # a bug
    churned = np.asarray(labels.column("churned").to_numpy(zero_copy_only=False), dtype=bool)
    test = frame.as_of == np.datetime64(cutoff, "D")

    def rows(keep: BoolArray) -> FeatureFrame:
        return FeatureFrame(frame.customer_id[keep], frame.as_of[keep],
                            {k: v[keep] for k, v in frame.columns.items()})

    model.fit(tables, cutoff, training=(rows(~test), churned[~test].astype(np.int64)))
    cases = rows(test)
    return compare_auc(churned[test], model.predict_proba_features(cases),
                       cases.columns["recency_days"])


def _cross_sell_cases(ws: Any, lines: Any, cutoff: dt.date, horizon_days: int) -> Comparison:
    """The cross-sell backtest's cases (:func:`salesradar.models.crosssell.backtest`): the
    customers seen before the cutoff who bought a SKU new to them in the horizon; per customer,
    precision@k of the scoring recommender (the blend) and of popularity."""
    from salesradar.models.crosssell import (
        BlendRecommender,
        PopularityRecommender,
        interactions_from_lines,
    )
    from salesradar.models.crosssell.service import _discontinued
    from salesradar.models.text import join_text

    discontinued = _discontinued(ws)
    train = interactions_from_lines(lines, end=cutoff)
    future = interactions_from_lines(lines, start=cutoff,
                                     end=cutoff + dt.timedelta(days=horizon_days))

    def key(t: pa.Table) -> pa.Array:
        return join_text(_text(t["customer_id"]), "\x1f", _text(t["sku"]))

    known = pc.unique(_text(train["customer_id"]))
    future = future.filter(pc.is_in(_text(future["customer_id"]), value_set=known))
    new = future.filter(pc.invert(pc.is_in(key(future), value_set=key(train))))
    customers = pc.unique(_text(new["customer_id"])).sort()
    n = len(customers)
    hits: list[FloatArray] = []
    for recommender in (BlendRecommender(), PopularityRecommender()):
        if n == 0:
            hits.append(np.zeros(0))
            continue
        recommender.fit(train, discontinued=discontinued)
        recs = recommender.recommend(customers, n=CROSS_SELL_K)
        recs = recs.filter(pc.less_equal(recs["rank"], CROSS_SELL_K))
        hit = pc.is_in(key(recs), value_set=key(new)).to_numpy(zero_copy_only=False)
        who = pc.index_in(_text(recs["customer_id"]), value_set=customers)
        where = np.asarray(who.to_numpy(zero_copy_only=False), dtype=np.float64)
        keep = hit & ~np.isnan(where)
        hits.append(np.bincount(where[keep].astype(np.int64), minlength=n).astype(np.float64))
    model, base = hits
    return compare_means(model / CROSS_SELL_K, base / CROSS_SELL_K,
                         positive=(model > 0) | (base > 0))


def _stopped_items_cases(
    ws: Any, data: Any, tables: Any, cutoff: dt.date, horizon_days: int
) -> Comparison:
    """The stopped-items backtest's flags (:func:`salesradar.models.stopped_items.backtest`):
    every flag of the model and of the gap rule, hit when the customer bought something but
    not that SKU in the horizon; counted per customer."""
    from salesradar.models.non_product import non_product_codes
    from salesradar.models.stopped_items import StoppedItemsModel, _hits, _outcomes

    # data: the workspace, or its sample; on a sample, the codes the workspace's models leave
    # out (detected on all its lines, with the company's corrections), not a detection of
    # the sample's own (a second scan of every line)
    model = StoppedItemsModel() if data is ws else StoppedItemsModel(
        exclude_skus=non_product_codes(ws), exclude_non_products=False)
    model.fit(data, cutoff)
    flags, base = model.flags(), model.baseline_flags()
    bought, active = _outcomes(tables, cutoff, horizon_days)
    hits, base_hits = _hits(flags, bought, active), _hits(base, bought, active)
    ids = pc.unique(pa.concat_arrays([_text(flags["customer_id"]), _text(base["customer_id"])]))
    n = len(ids)

    def per_customer(table: pa.Table, hit: BoolArray) -> tuple[FloatArray, FloatArray]:
        where = pc.index_in(_text(table["customer_id"]), value_set=ids)
        index = np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)
        hits = np.bincount(index, weights=hit.astype(np.float64), minlength=n)
        return hits.astype(np.float64), np.bincount(index, minlength=n).astype(np.float64)

    mh, mf = per_customer(flags, hits)
    bh, bf = per_customer(base, base_hits)
    return compare_ratios(mh, mf, bh, bf)


_BASELINES = {
    "churn": "recency rule (days since last order)",
    "cross_sell": "popularity (most popular SKUs the customer hasn't bought)",
    "stopped_items": "gap > 2× the pair's median gap and > its longest gap before",
}


def _sample(ws: Any, max_customers: int) -> tuple[Any, int | None]:
    """The workspace's tables, on a stable sample of customers when it has more than
    ``max_customers`` (the number sampled, else None).

    A customer is sampled when the hash of its id falls in the first of
    ``ceil(customers / max_customers)`` buckets. The hash is taken once per distinct
    customer, not once per line, and the sampled customers' lines are kept through a
    semi-join (null-safe, as the hash of a null id is a value too), in the lines' own order
    (their ``rowid``): the same rows in the same order as a filter on every line's hash.
    The payments and contacts are narrowed to the sampled customers too (a semi-join in
    the query): the churn features join them per customer, so the sampled customers'
    features are the same, without the late payments of every other customer."""
    import ibis

    from salesradar.models.features import CustomerTables

    tables = CustomerTables.from_workspace(ws)
    lines = tables.lines
    customers = lines.select("customer_id").distinct().to_pyarrow()  # one row per customer
    total = pc.count(customers["customer_id"]).as_py()  # nulls aside, as nunique()
    if total <= max_customers:
        return tables, None
    buckets = math.ceil(total / max_customers)
    known = ibis.memtable(customers)
    chosen = known.filter(known.customer_id.cast("string").hash().abs() % buckets == 0)
    ids = chosen.to_pyarrow()
    # kept as a temporary table: the backtests read the sample's lines some twenty times, and
    # each read would otherwise join every line of the workspace again. Written by one
    # statement (Ibis's create_table writes a table and then copies it)
    view = "_salesradar_gate_ids"
    ws.con.register(view, ids)
    try:
        ws.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {SAMPLE_TABLE} AS "  # noqa: S608
            f"SELECT l.* FROM invoice_lines AS l SEMI JOIN {view} AS c "
            "ON l.customer_id IS NOT DISTINCT FROM c.customer_id ORDER BY l.rowid")
    finally:
        ws.con.unregister(view)
    picked = ibis.memtable(ids)

    def narrowed(table: Any) -> Any:
        return None if table is None else table.semi_join(
            picked, table.customer_id.identical_to(picked.customer_id))

    sampled = dataclasses.replace(
        tables, lines=ws.backend.table(SAMPLE_TABLE, database=("temp", "main")),
        payments=narrowed(tables.payments), contacts=narrowed(tables.contacts))
    return sampled, int(pc.count(ids["customer_id"]).as_py())


def compute_gates(
    ws: Any, as_of: dt.date, horizon_days: int = 90, *, version: str | None = None,
    models: tuple[str, ...] = MODELS, max_customers: int = MAX_CUSTOMERS,
) -> list[Gate]:
    """Run each model's backtest at ``as_of - horizon_days`` and decide who speaks (no cache,
    nothing written; see :func:`model_gates`)."""
    from salesradar.models.store import invoice_line_count

    cutoff = as_of - dt.timedelta(days=horizon_days)
    lines = invoice_line_count(ws)
    try:
        tables, sampled = _sample(ws, max_customers)
        return _run_gates(ws, tables, sampled, as_of, cutoff, horizon_days, version, models,
                          lines)
    finally:
        ws.con.execute(f"DROP TABLE IF EXISTS temp.{SAMPLE_TABLE}")


def _run_gates(ws: Any, tables: Any, sampled: int | None, as_of: dt.date, cutoff: dt.date,
               horizon_days: int, version: str | None, models: tuple[str, ...], lines: int,
               ) -> list[Gate]:
    """The backtests of :func:`compute_gates` on ``tables`` (the workspace's, or a sample of
    ``sampled`` customers) and their decisions."""
    runs: dict[str, Callable[[], Comparison]] = {
        "churn": lambda: _churn_cases(tables, cutoff, horizon_days),
        "cross_sell": lambda: _cross_sell_cases(ws, tables.lines, cutoff, horizon_days),
        "stopped_items": lambda: _stopped_items_cases(
            ws, ws if sampled is None else tables, tables, cutoff, horizon_days),
    }
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    gates = []
    for name in models:
        try:
            comparison = runs[name]()
        except (SalesradarError, ValueError) as error:  # e.g. one outcome only before cutoff
            comparison = _failed(str(error))
        reason, reason_he = _reasons(name, comparison)
        if sampled is not None:
            reason += f" (on a sample of {sampled:,} customers)"
            reason_he += f" (על מדגם של {sampled:,} לקוחות)"
        gates.append(Gate(
            name, comparison.decision, METRICS[name], comparison.model_value, _BASELINES[name],
            comparison.baseline_value, comparison.diff_ci_low, comparison.diff_ci_high,
            comparison.n_cases, comparison.n_positive, reason, reason_he, as_of, cutoff,
            horizon_days, sampled, version, now, lines,
        ))
    return gates


def _to_table(gates: list[Gate]) -> pa.Table:
    rows = [dataclasses.asdict(g) for g in gates]
    table = pa.Table.from_pylist(rows, schema=GATE_COLUMNS)
    return table.append_column("gates_format", pa.array([GATES_FORMAT] * len(rows), pa.int64()))


def _from_rows(rows: list[dict[str, Any]]) -> list[Gate]:
    fields = {f.name for f in dataclasses.fields(Gate)}
    return [Gate(**{k: v for k, v in row.items() if k in fields}) for row in rows]


def _stored(ws: Any) -> list[dict[str, Any]]:
    if GATE_TABLE not in table_names(ws.backend):
        return []
    rows: list[dict[str, Any]] = ws.table(GATE_TABLE).to_pyarrow().to_pylist()
    return rows


def model_gates(
    ws: Any, as_of: dt.date, horizon_days: int = 90, *, version: str | None = None,
    max_customers: int = MAX_CUSTOMERS, store: bool = True, fresh: bool = False,
) -> dict[str, Gate]:
    """Each model's gate as of ``as_of``, from ``model_gates`` when it was computed on the
    same data (``version``, default :func:`~salesradar.models.store.data_version`), as of the
    same day and horizon by this version's backtests (:data:`GATES_FORMAT`), or, unless
    ``fresh``, when the refit schedule still holds it
    (decided for the same horizon less than :data:`~salesradar.models.store.REFIT_DAYS` days
    before, with the invoice lines changed by at most
    :data:`~salesradar.models.store.REFIT_DRIFT` since); otherwise computed and (unless
    ``store`` is false, e.g. for ``salesradar evaluate`` at another cutoff) stored there."""
    from salesradar.models.store import data_version, invoice_line_count, still_fresh

    version = version or data_version(ws)
    stored = _stored(ws)
    complete = bool(stored) and {r["model"] for r in stored} >= set(MODELS) and all(
        r["horizon_days"] == horizon_days and r.get("gates_format") == GATES_FORMAT
        for r in stored)
    if complete and all(r["data_version"] == version and r["as_of"] == as_of for r in stored):
        return {g.model: g for g in _from_rows(stored)}
    if complete and not fresh:
        lines = invoice_line_count(ws)
        if all(still_fresh(r["as_of"], r.get("invoice_lines"), as_of, lines) for r in stored):
            return {g.model: g for g in _from_rows(stored)}
    gates = compute_gates(ws, as_of, horizon_days, version=version,
                          max_customers=max_customers)
    if store:
        ws.backend.create_table(GATE_TABLE, _to_table(gates), overwrite=True)
    return {g.model: g for g in gates}


def read_gates(ws: Any) -> list[dict[str, Any]]:
    """The stored decisions (``model_gates``), one dict per model; empty before a score run."""
    return [g.to_dict() for g in _from_rows(_stored(ws))]


# who speaks, in words (the CLI and the dashboard)
SPEAKER = {
    "en": {"model": "the model", "rule": "the rule",
           "not_enough_data": "the rule (not enough data)"},
    "he": {"model": "המודל", "rule": "הכלל", "not_enough_data": "הכלל (אין מספיק נתונים)"},
}
MODEL_TITLES = {
    "en": {"churn": "churn risk", "cross_sell": "cross-sell", "stopped_items": "stopped items"},
    "he": {"churn": "סיכון נטישה", "cross_sell": "מכירה צולבת", "stopped_items": "פריטים שהופסקו"},
}


def describe(gate: dict[str, Any], lang: str = "en") -> dict[str, str]:
    """A stored gate (a :func:`read_gates` row) in words: the model's title, who speaks, the
    numbers and the reason, in ``lang`` (``"en"`` or ``"he"``)."""
    key = "he" if lang == "he" else "en"

    def num(value: Any, signed: bool = False) -> str:
        return _num(None if value is None else float(value), signed)

    low, high = gate.get("diff_ci_low"), gate.get("diff_ci_high")
    return {
        "model": MODEL_TITLES[key].get(gate["model"], gate["model"]),
        "speaks": SPEAKER[key].get(gate["decision"], gate["decision"]),
        "metric": gate["metric"],
        "model_value": num(gate.get("model_value")),
        "baseline_value": num(gate.get("baseline_value")),
        "interval": "—" if low is None or high is None else f"{num(low, True)} … {num(high, True)}",
        "cases": f"{int(gate.get('n_cases') or 0):,}",
        "reason": str(gate.get("reason_he" if key == "he" else "reason") or ""),
        "decided": _decided(gate.get("as_of"), key),
    }


def _decided(as_of: Any, lang: str) -> str:
    """When a gate was decided, and when it will be again (the refit schedule)."""
    from salesradar.dates import as_date
    from salesradar.models.store import REFIT_DAYS, REFIT_DRIFT

    day = as_date(as_of)
    if day is None:
        return ""
    if lang == "he":
        return (f"הוחלט על הנתונים עד {day:%d/%m/%Y}; יוחלט שוב אחרי {REFIT_DAYS} ימים, "
                f"שינוי של יותר מ-{REFIT_DRIFT:.0%} בשורות החשבוניות או score --full")
    return (f"decided on the data to {day:%d/%m/%Y}; decided again after {REFIT_DAYS} days, a "
            f"change of more than {REFIT_DRIFT:.0%} in the invoice lines, or score --full")
