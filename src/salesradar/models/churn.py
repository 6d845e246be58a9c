"""Churn risk: the probability that a customer places no order in the next H days.

See :class:`ChurnModel` for the user manual; :func:`score_customers` and
:func:`explain_customer` are the one-call entry points the CLI uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.errors import UserInputError
from salesradar.lang import Lang
from salesradar.models.base import (
    FloatArray,
    NotFittedError,
    check_is_fitted,
    usable_cores,
)
from salesradar.models.cadence import customer_terms
from salesradar.models.calibration import (
    Deferred,
    SavedCalibrated,
    fit_calibrated,
    thread_limits,
)
from salesradar.models.churn_text import (
    explanation,
    explanation_claims,
    reason_claims_json,
    reason_holds_columns,
    reason_texts,
    term_columns,
    terms_of,
)
from salesradar.models.evaluation import BacktestMetric
from salesradar.models.features import FEATURES, CustomerTables, churn_features, churn_labels
from salesradar.models.product_corrections import is_workspace
from salesradar.models.refresh_scope import once_per_refresh, shared_value
from salesradar.models.rhythm import BetaGeoModel
from salesradar.models.text import as_floats, join_text
from salesradar.workspace import Workspace, data_day

__all__ = [
    "MODEL_FEATURES",
    "ChurnModel",
    "backtest",
    "calibration_folds",
    "explain_customer",
    "score_customers",
    "training_cutoffs",
]

MODEL_FEATURES: tuple[str, ...] = (*FEATURES, "p_alive", "expected_purchases")

# feature -> reason group; a customer's top reasons are the groups pushing hardest toward churn
_GROUPS: dict[str, str] = {
    "recency_days": "rhythm", "tenure_days": "rhythm", "purchase_days": "rhythm",
    "median_gap": "rhythm", "mean_gap": "rhythm", "gap_cv": "rhythm", "gap_ratio": "rhythm",
    "p_alive": "rhythm", "expected_purchases": "rhythm", "recency_2nd": "rhythm",
    "recency_3rd": "rhythm", "active_months": "rhythm",
    "orders_decay30": "orders", "orders_decay90": "orders", "revenue_decay90": "revenue",
    "orders_w1": "orders", "orders_w2": "orders", "orders_365": "orders", "order_trend": "orders",
    "revenue_w1": "revenue", "revenue_w2": "revenue", "revenue_365": "revenue",
    "revenue_trend": "revenue", "revenue_per_order": "revenue",
    "skus_w1": "breadth", "skus_w2": "breadth", "skus_365": "breadth", "sku_trend": "breadth",
    "returns_share": "returns", "margin_rate": "margin",
    "late_share": "payments", "mean_days_late": "payments", "overdue_open": "payments",
    "contacts": "contacts", "contact_levels": "contacts",
    "orders_last_season": "season", "revenue_last_season": "season",
}
_REASON_LABELS: dict[str, str] = {
    "rhythm": "overdue against its own rhythm",
    "orders": "fewer orders lately",
    "revenue": "less revenue lately",
    "breadth": "buys fewer items lately",
    "returns": "many returns",
    "margin": "margin",
    "payments": "late payments",
    "contacts": "few contacts",
    "season": "bought little in this season last year",
}
_GROUP_NAMES = tuple(_REASON_LABELS)
# the feature columns explain() reads (the rest is not saved with a fitted model)
_EXPLAIN_COLUMNS = frozenset({
    "recency_days", "purchase_days", "median_gap", "gap_ratio", "orders_w1", "orders_w2",
    "revenue_w1", "revenue_w2", "skus_w1", "skus_w2", "returns_share", "margin_rate",
    "late_share", "mean_days_late", "contacts", "orders_last_season", "revenue_last_season",
    "tenure_days",
})

Estimator = Literal["lightgbm", "hist_gradient_boosting"]


def _thread_limits(n_jobs: int) -> Any:
    """BLAS single-threaded and OpenMP at ``n_jobs``: spinning worker threads on shared cores
    made fits many times slower (see :func:`salesradar.models.base.dot`). The final fit of the
    calibration sets them again when it runs in a worker process (one definition for both:
    :func:`~salesradar.models.calibration.thread_limits`)."""
    return thread_limits(n_jobs)


PARALLEL_FOLDS_FROM = 50_000  # training rows from which the folds are fitted side by side
TWO_FOLDS_FROM = 50_000  # training rows from which the calibration has two folds, not three


def calibration_folds(rows: int, folds: int | None = None) -> int:
    """The folds of the churn model's calibration for ``rows`` training rows: ``folds`` when
    given, else 3 below :data:`TWO_FOLDS_FROM` rows and 2 from there.

    With many rows, a booster fitted on half of them predicts as well as one fitted on two
    thirds, and the calibrator has as many out-of-fold predictions either way: on the 10M-line
    benchmark company (250,000 training rows) two folds gave the same ROC AUC, Brier score and
    calibration error as three, to the fourth decimal, at seeds 0-2, for 16 CPU seconds of
    boosting instead of 24. On small training sets the fold boosters learn from few rows and
    the folds cost little, so three stay: there two folds moved the backtests of
    docs/model-quality.md (up to 28,058 rows) within the seeds' spread on UCI Online Retail
    (ROC AUC -0.0002 to -0.0005, mean of seeds 0-4) but lost 0.027 on Northwind's 509 rows.
    A calibrator fitted on the newest training snapshot alone (a time-ordered hold-out: one or
    two fits) overestimated churn on UCI Online Retail I and II (mean probability 0.53-0.57
    against churn rates of 0.43: the seasons differ) and was not kept."""
    if folds is not None:
        return folds
    return 2 if rows >= TWO_FOLDS_FROM else 3


def _fold_processes(rows: int, folds: int) -> int:
    """Processes for the calibration folds: one per fold up to the machine's cores, once the
    training set is large enough to pay for starting them. Each fold's booster stays on one
    thread, so the result is the same as fitting them one after the other. The final booster
    is fitted beside them (:func:`~salesradar.models.calibration.fit_calibrated`); with one
    process everything runs here, one fit after the other."""
    if rows < PARALLEL_FOLDS_FROM:
        return 1
    return max(1, min(folds, usable_cores()))


def training_cutoffs(
    cutoff: dt.date, horizon_days: int, snapshots: int, step_days: int
) -> list[dt.date]:
    """The snapshot dates a model fitted at ``cutoff`` learns from.

    The newest is ``cutoff - horizon_days`` (its label window ends on ``cutoff``), then one
    every ``step_days`` before it, so no label looks past ``cutoff``.
    """
    if snapshots < 1 or step_days < 1:
        raise UserInputError("snapshots and snapshot_step_days must be at least 1")
    newest = cutoff - dt.timedelta(days=horizon_days)
    return [newest - dt.timedelta(days=step_days * k) for k in range(snapshots)]


def _as_tables(data: Any) -> CustomerTables:
    if isinstance(data, CustomerTables):
        return data
    if isinstance(data, ir.Table):
        return CustomerTables(data)
    if hasattr(data, "table") and hasattr(data, "row_count"):
        return CustomerTables.from_workspace(data)
    raise UserInputError(
        f"expected a Workspace, CustomerTables or an Ibis table of invoice lines, "
        f"got {type(data).__name__}"
    )


def last_invoice_date(data: Any) -> dt.date:
    """The latest invoice date of a workspace or its tables (the default 'as of' date).

    A workspace is asked in plain SQL (:func:`~salesradar.workspace.data_day`), which DuckDB
    answers in milliseconds; through Ibis the same maximum took 0.2 s on 10M lines."""
    if isinstance(data, Workspace):
        return data_day(data)
    return data_day(_as_tables(data).lines)


@dataclass(frozen=True)
class FeatureFrame:
    """Customer features as numpy columns (the model's input), with ids and cutoffs."""

    customer_id: npt.NDArray[np.object_]
    as_of: npt.NDArray[np.datetime64]
    columns: dict[str, FloatArray]

    @property
    def n(self) -> int:
        return len(self.customer_id)

    def matrix(self) -> FloatArray:
        """The model matrix, columns in :data:`MODEL_FEATURES` order (NaN = missing)."""
        return np.column_stack([self.columns[name] for name in MODEL_FEATURES])


def _column(table: pa.Table, name: str) -> FloatArray:
    """A feature column as float64, rounded through float32.

    The engine sums doubles in parallel, so the last bits of a sum vary from run to run; the
    rounding makes the boosted trees (and so the scores) the same on every run.
    """
    values = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    return values.astype(np.float32).astype(np.float64)


def _add_rhythm(table: pa.Table, horizon_days: int) -> dict[str, FloatArray]:
    """Feature columns plus BG/NBD P(alive) and expected purchases, fitted per cutoff.

    Also ``dropout_identified`` (1.0 or 0.0 per row): whether that cutoff's fit found
    customers dropping out at all (see :func:`_informative_p_alive`).
    """
    cols = {name: _column(table, name) for name in FEATURES}
    x, t_x, big_t = (_column(table, c) for c in ("frequency", "recency", "T"))
    as_of = table.column("as_of").to_numpy(zero_copy_only=False)
    p_alive = np.ones(len(x))
    expected = np.zeros(len(x))
    identified = np.zeros(len(x))
    for day in np.unique(as_of):
        rows = as_of == day
        model = BetaGeoModel()
        # a short or sparse history can leave the BG/NBD likelihood flat, or show no dropout;
        # its outputs are then still usable as features (the booster weighs them), so it fits
        # quietly: :func:`_informative_p_alive` keeps P(alive) out of what users see
        model.fit(x[rows], t_x[rows], big_t[rows], quiet=True)
        p_alive[rows] = model.probability_alive(x[rows], t_x[rows], big_t[rows])
        expected[rows] = model.expected_purchases(horizon_days, x[rows], t_x[rows], big_t[rows])
        identified[rows] = float(model.dropout_identified_)
    cols["p_alive"] = p_alive
    cols["expected_purchases"] = expected
    cols["dropout_identified"] = identified
    return cols


def _informative_p_alive(columns: dict[str, FloatArray]) -> FloatArray:
    """BG/NBD P(alive) where it carries information, NaN elsewhere.

    It is 1 by construction for customers with a single purchase day (the model lets
    customers drop out only after a repeat purchase), and ~1 for everyone when the fit found
    no dropout (on UCI Online Retail the likelihood is maximized at a -> 0: slow purchase
    rates explain every silence, so a customer silent for a year is "99% alive").
    """
    n = len(columns["p_alive"])
    identified = columns.get("dropout_identified", np.ones(n))  # frames built elsewhere: trust
    informative = (columns["purchase_days"] >= 2) & (identified > 0)
    return np.where(informative, columns["p_alive"], np.nan)


def build_features(
    data: Any, cutoffs: list[dt.date], *, horizon_days: int = 90, window_days: int = 90
) -> FeatureFrame:
    """Compute the model features of every customer at each cutoff (Ibis, then numpy).

    "This season last year" is the horizon one year earlier (see :func:`churn_features`).
    """
    table = churn_features(_as_tables(data), cutoffs, window_days=window_days,
                           season_days=min(horizon_days, 365))
    arrow = table.order_by(["as_of", "customer_id"]).to_pyarrow()
    return FeatureFrame(
        customer_id=np.asarray(arrow.column("customer_id").to_numpy(zero_copy_only=False)),
        as_of=np.asarray(arrow.column("as_of").to_numpy(zero_copy_only=False)).astype(
            "datetime64[D]"
        ),
        columns=_add_rhythm(arrow, horizon_days),
    )


def expected_revenue(
    columns: dict[str, FloatArray], horizon_days: int, window_days: int = 90
) -> FloatArray:
    """Revenue a customer is expected to bring in the next ``horizon_days`` if it stays.

    Its net revenue of the last ``window_days`` (the features' recent window) scaled to the
    horizon, never negative: the customer's current pace. On UCI Online Retail I and II and the
    demo data this ranked next-quarter lost revenue better than the trailing-year run rate or a
    time-decayed revenue (see docs/model-quality.md).
    """
    return np.asarray(np.maximum(columns["revenue_w1"], 0.0) * horizon_days / window_days)


# -- SHAP contributions ---------------------------------------------------------------------
# LightGBM's ``pred_contrib`` runs TreeSHAP for every row and tree (3 s for 50,000 customers and
# 200 trees on one thread). A tree's additions to a row's contributions depend only on which
# child the row takes at each of its splits: with 4 leaves, at most 8 decision patterns per
# tree. :func:`shap_contributions` runs the same TreeSHAP steps once per tree and pattern (in
# Python, the same double operations in the same order) and adds each pattern's numbers to its
# rows, tree after tree, addition after addition, as LightGBM adds them: the same bits.

_ZERO_THRESHOLD = float(np.float32(1e-35))  # LightGBM's kZeroThreshold, a float literal
_MAX_PATTERN_SPLITS = 10  # trees with more splits (2^splits patterns) are left to LightGBM
_Path = list[list[float]]  # TreeSHAP's unique path: [feature, zero fraction, one fraction, weight]


def _extend_path(path: _Path, depth: int, zero: float, one: float, feature: int) -> None:
    path.append([feature, zero, one, 1.0 if depth == 0 else 0.0])
    for i in range(depth - 1, -1, -1):
        path[i + 1][3] += one * path[i][3] * (i + 1) / (depth + 1)
        path[i][3] = zero * path[i][3] * (depth - i) / (depth + 1)


def _unwind_path(path: _Path, depth: int, index: int) -> None:
    one, zero = path[index][2], path[index][1]
    next_one = path[depth][3]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            kept = path[i][3]
            path[i][3] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = kept - path[i][3] * zero * (depth - i) / (depth + 1)
        else:
            path[i][3] = (path[i][3] * (depth + 1)) / (zero * (depth - i))
    for i in range(index, depth):
        path[i][:3] = path[i + 1][:3]
    del path[depth]


def _unwound_path_sum(path: _Path, depth: int, index: int) -> float:
    one, zero = path[index][2], path[index][1]
    next_one = path[depth][3]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0:
            part = next_one * (depth + 1) / ((i + 1) * one)
            total += part
            next_one = path[i][3] - part * zero * ((depth - i) / (depth + 1))
        else:
            total += (path[i][3] / zero) / ((depth - i) / (depth + 1))
    return total


def _count(node: dict[str, Any]) -> float:
    return float(node["internal_count"] if "split_index" in node else node["leaf_count"])


def _tree_shap(node: dict[str, Any], goes_left: dict[int, bool], parent: _Path, depth: int,
               zero: float, one: float, feature: int, out: list[tuple[int, float]]) -> None:
    """LightGBM's ``Tree::TreeSHAP`` for a row whose direction at each split (by split index)
    is ``goes_left``: appends its additions ``(feature, value)`` to ``out``, in its order."""
    path = [list(element) for element in parent[:depth]]
    _extend_path(path, depth, zero, one, feature)
    if "split_index" not in node:
        for i in range(1, depth + 1):
            weight = _unwound_path_sum(path, depth, i)
            out.append((int(path[i][0]), weight * (path[i][2] - path[i][1]) * node["leaf_value"]))
        return
    left, right = node["left_child"], node["right_child"]
    hot, cold = (left, right) if goes_left[node["split_index"]] else (right, left)
    count = _count(node)
    hot_zero, cold_zero = _count(hot) / count, _count(cold) / count
    incoming_zero, incoming_one = 1.0, 1.0
    split = int(node["split_feature"])
    seen = [k for k in range(depth + 1) if path[k][0] == split]
    if seen:
        incoming_zero, incoming_one = path[seen[0]][1], path[seen[0]][2]
        _unwind_path(path, depth, seen[0])
        depth -= 1
    _tree_shap(hot, goes_left, path, depth + 1, hot_zero * incoming_zero, incoming_one, split,
               out)
    _tree_shap(cold, goes_left, path, depth + 1, cold_zero * incoming_zero, 0.0, split, out)


def _splits(node: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if "split_index" in node:
        found.append(node)
        _splits(node["left_child"], found)
        _splits(node["right_child"], found)
    return found


def _goes_left(split: dict[str, Any], values: FloatArray) -> npt.NDArray[np.bool_]:
    """LightGBM's ``NumericalDecision`` of a split for a column of (dense input) values."""
    missing_type = split["missing_type"]
    if missing_type != "NaN":  # NaN is 0 unless the split knows missing values
        values = np.where(np.isnan(values), 0.0, values)
    if missing_type == "Zero":
        missing = (values > -_ZERO_THRESHOLD) & (values <= _ZERO_THRESHOLD)
    elif missing_type == "NaN":
        missing = np.isnan(values)
    else:
        missing = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.where(missing, bool(split["default_left"]), values <= split["threshold"])


def _pattern_contributions(
    booster: Any, matrix: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.intp]] | None:
    """The contributions of :func:`shap_contributions` by decision patterns, feature-major,
    and rows that show every tree's every pattern (the first row of each); None when a tree
    holds what this does not replicate (a categorical split, many leaves)."""
    n, features = matrix.shape
    # the dense input as LightGBM reads it (values within its zero threshold are 0), a
    # feature per row
    columns = np.ascontiguousarray(matrix.T)
    values = np.where((np.abs(columns) > _ZERO_THRESHOLD) | np.isnan(columns), columns, 0.0)
    out = np.zeros((features, n))
    witnesses: set[int] = set()
    for tree in booster.dump_model()["tree_info"]:
        splits = _splits(tree["tree_structure"], [])
        if not splits:
            continue  # a single leaf adds nothing
        if len(splits) > _MAX_PATTERN_SPLITS or any(s["decision_type"] != "<=" for s in splits):
            return None
        pattern = np.zeros(n, dtype=np.intp)
        for k, split in enumerate(splits):
            pattern |= _goes_left(split, values[int(split["split_feature"])]).astype(
                np.intp) << k
        additions: dict[int, dict[int, list[float]]] = {}  # pattern -> feature -> values
        witness = np.zeros(1 << len(splits), dtype=np.intp)
        witness[pattern] = np.arange(n)  # a row of each pattern (whichever write stays)
        seen = np.flatnonzero(np.bincount(pattern, minlength=len(witness)))
        witnesses.update(witness[seen].tolist())
        for seen_pattern in seen.tolist():
            goes_left = {int(s["split_index"]): bool((seen_pattern >> k) & 1)
                         for k, s in enumerate(splits)}
            steps: list[tuple[int, float]] = []
            _tree_shap(tree["tree_structure"], goes_left, [], 0, 1.0, 1.0, -1, steps)
            by_feature = additions.setdefault(seen_pattern, {})
            for feature, value in steps:
                by_feature.setdefault(feature, []).append(value)
        for feature in sorted({f for by_feature in additions.values() for f in by_feature}):
            # the k-th addition to this feature in each pattern (0 where a pattern has fewer:
            # adding 0.0 leaves a sum that started at 0.0 as it was, bit for bit)
            added = {p: by_feature.get(feature, []) for p, by_feature in additions.items()}
            for k in range(max(len(adds) for adds in added.values())):
                table = np.zeros(1 << len(splits))
                for p, adds in added.items():
                    if k < len(adds):
                        table[p] = adds[k]
                out[feature] += table[pattern]
    return out, np.array(sorted(witnesses), dtype=np.intp)


def shap_contributions(booster: Any, matrix: FloatArray, threads: int = 1) -> FloatArray:
    """LightGBM's SHAP contributions of each feature (``pred_contrib`` without the bias),
    feature-major (features x rows), bit for bit as LightGBM computes them, several times
    faster (see the comment above).

    A row of every tree's every pattern is checked against LightGBM's own ``pred_contrib``
    (a few hundred rows); should one differ (a LightGBM that computes otherwise), or the trees
    hold categorical splits or many leaves, LightGBM computes them all."""
    if not len(matrix):
        return np.zeros((matrix.shape[1], 0))
    found = _pattern_contributions(booster, matrix)
    if found is not None:
        mine, check = found
        theirs = booster.predict(matrix[check], pred_contrib=True, num_threads=threads)
        if np.array_equal(np.asarray(theirs)[:, :-1].T, mine[:, check]):
            return mine
    contrib = booster.predict(matrix, pred_contrib=True, num_threads=threads)[:, :-1]
    return np.ascontiguousarray(np.asarray(contrib, dtype=np.float64).T)


class ChurnModel:
    """Supervised churn risk: P(no purchase in the next ``horizon_days``), calibrated.

    **What it predicts.** For every customer with at least one purchase on or before the
    scoring date, the probability that they place *no* order in the following ``horizon_days``
    (a purchase day is a customer-day with positive gross sales: a day with only cancellations
    or credit notes is not a purchase). Revenue at risk is that probability times the revenue
    the customer is expected to bring in the horizon if they stay (:func:`expected_revenue`:
    its revenue of the last ``window_days`` scaled to the horizon, its current pace).

    **Features** (:mod:`salesradar.models.features`, computed with Ibis as of each date):
    recency, tenure and number of purchase days; orders, revenue and distinct SKUs in the last
    ``window_days`` and the window before (and their trends); the median and mean gap between
    purchase days, its coefficient of variation and the *gap ratio* (days since the last
    order ÷ the customer's own median gap); revenue per order, share returned, margin rate
    (when ``cost`` is known); late and overdue payments (``payments`` table) and contact
    coverage (``contacts`` table) when those tables have rows; purchase days and net revenue
    in *this season last year* (the ``horizon_days`` from one year before the date, unknown
    where the data do not reach back a year); and the BG/NBD
    :class:`~salesradar.models.rhythm.BetaGeoModel` outputs P(alive) and expected purchases in
    the horizon, fitted separately at each date.

    **Training without leakage.** :meth:`fit` at ``cutoff`` builds ``snapshots`` labelled
    snapshots at ``cutoff - horizon_days``, then every ``snapshot_step_days`` earlier: each
    snapshot's features use data up to its date and its label the ``horizon_days`` after,
    all on or before ``cutoff``. Nothing after ``cutoff`` is read.

    **Model and calibration.** Gradient-boosted trees (LightGBM, or scikit-learn's
    HistGradientBoostingClassifier with ``estimator="hist_gradient_boosting"``) wrapped in
    scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` (isotonic by default): the booster
    kept is fitted on every training row, and the calibrator on the out-of-fold predictions of
    one booster per fold, the folds grouped by customer, so a customer's snapshots never sit on
    both sides of a fold. Three folds (four boosting fits) below :data:`TWO_FOLDS_FROM` training
    rows, two (three fits, two thirds of the CPU) from there (:func:`calibration_folds`).

    **Reasons.** With LightGBM, each customer's top reasons are the feature groups with the
    largest SHAP contributions toward churn (LightGBM's ``pred_contrib``); with the
    scikit-learn estimator, simple rules on the same features.

    Parameters
    ----------
    horizon_days
        H, the length of the "no purchase" window (default 90).
    snapshots, snapshot_step_days
        Number of training snapshots and days between them (default 6, monthly).
    window_days
        Length of the recent window for trends (default 90).
    estimator
        ``"lightgbm"`` (default) or ``"hist_gradient_boosting"``.
    calibration
        ``"isotonic"`` (default) or ``"sigmoid"`` (Platt).
    calibration_folds
        Folds of the calibration cross-validation (default ``None``: 3, or 2 from
        :data:`TWO_FOLDS_FROM` training rows; see :func:`calibration_folds`).
    n_estimators, learning_rate, max_leaves, min_leaf
        Boosting settings (trees, shrinkage, leaves per tree, minimum rows per leaf); the
        defaults (200 small trees of 4 leaves) generalized better across seasons on the UCI
        data than deeper trees (see docs/model-quality.md).
    max_train_rows
        Boost on a random sample of this many training rows when there are more (default
        250,000; ``None`` for all): beyond that the fit gets slower, not better.
    shap_rows
        SHAP reasons for this many customers with the most revenue at risk (default 50,000);
        the others get rule-based reasons (on the 10M-line benchmark, SHAP for 49,304
        customers and 200 trees takes ~0.4 s through :func:`shap_contributions`).
    n_jobs
        Threads for the booster (default 1: on shared cores, OpenMP threads waiting for each
        other made LightGBM 20× slower with 2 threads than with 1).
    random_state
        Seed for the booster's subsampling and the fold assignment.

    Attributes
    ----------
    classifier_ : CalibratedClassifierCV
        The fitted, calibrated classifier.
    recency_baseline_ : LogisticRegression
        Logistic fit of the label on log(1 + days since the last order), the calibrated
        "recency rule" the backtest compares against.
    base_rate_ : float
        Share of training examples that churned.
    n_train_ : int
        Training examples (customer x snapshot).
    features_ : tuple of str
        :data:`MODEL_FEATURES` when it was fitted (a saved model is reused only while they
        match).
    cutoff_ : datetime.date
        The date the model was fitted at.

    Examples
    --------
    >>> model = ChurnModel(horizon_days=90).fit(ws, dt.date(2026, 9, 30))  # doctest: +SKIP
    >>> scores = model.score(ws, dt.date(2026, 9, 30))  # doctest: +SKIP
    >>> model.explain("C0042")  # doctest: +SKIP
    ['orders every ~12 days; last order 41 days ago (past its rhythm; its longest pause before
    was 19 days); ₪38k at stake: its net purchases in the year to its last order', ...]
    """

    classifier_: Any
    recency_baseline_: Any

    def __init__(
        self,
        horizon_days: int = 90,
        *,
        snapshots: int = 6,
        snapshot_step_days: int = 30,
        window_days: int = 90,
        estimator: Estimator = "lightgbm",
        calibration: Literal["isotonic", "sigmoid"] = "isotonic",
        calibration_folds: int | None = None,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 4,
        min_leaf: int = 40,
        max_train_rows: int | None = 250_000,
        shap_rows: int = 50_000,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.snapshots = snapshots
        self.snapshot_step_days = snapshot_step_days
        self.window_days = window_days
        self.estimator = estimator
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.min_leaf = min_leaf
        self.max_train_rows = max_train_rows
        self.shap_rows = shap_rows
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.classifier_ = None
        self.recency_baseline_ = None
        self.scored_: FeatureFrame | None = None
        self.scored_probability_: FloatArray | None = None
        self.scored_reasons_: npt.NDArray[np.int64] | None = None
        self.scored_terms_: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What pickling keeps (see :mod:`salesradar.models.store`): everything, except that
        the last scores keep only the feature columns :meth:`explain` reads, the calibrated
        booster is kept as its parts when they predict the same as it on the rows last scored
        (:class:`~salesradar.models.calibration.SavedCalibrated`), and the recency rule stays
        pickled until it is used (:class:`~salesradar.models.calibration.Deferred`): the next
        run loads and scores the model without importing scikit-learn or LightGBM's Python
        package (a second of CPU)."""
        state = dict(self.__dict__)
        classifier = state.get("classifier_")
        frame = state.get("scored_")
        if (classifier is not None and not isinstance(classifier, SavedCalibrated)
                and frame is not None and self.estimator == "lightgbm"
                and set(MODEL_FEATURES) <= set(frame.columns)):  # not a loaded model's rows
            saved = SavedCalibrated.of(classifier, self._matrix(frame))
            if saved is not None:
                state["classifier_"] = saved
        if state.get("recency_baseline_") is not None and not isinstance(
                state["recency_baseline_"], Deferred):
            state["recency_baseline_"] = Deferred(state["recency_baseline_"])
        if frame is not None:
            state["scored_"] = FeatureFrame(
                frame.customer_id, frame.as_of,
                {k: v for k, v in frame.columns.items() if k in _EXPLAIN_COLUMNS},
            )
        return state

    def __repr__(self) -> str:
        return (
            f"ChurnModel(horizon_days={self.horizon_days}, estimator={self.estimator!r}, "
            f"calibration={self.calibration!r})"
        )

    # -- fitting ------------------------------------------------------------------------------
    def _booster(self) -> Any:
        if self.estimator == "lightgbm":
            from lightgbm import LGBMClassifier

            return LGBMClassifier(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                num_leaves=self.max_leaves,
                min_child_samples=self.min_leaf,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.8,
                reg_lambda=1.0,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                verbose=-1,
            )
        if self.estimator == "hist_gradient_boosting":
            from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped, unused-ignore]

            return HistGradientBoostingClassifier(
                max_iter=self.n_estimators,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaves,
                min_samples_leaf=self.min_leaf,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=self.random_state,
            )
        raise UserInputError(
            f"estimator must be 'lightgbm' or 'hist_gradient_boosting', got {self.estimator!r}"
        )

    def fit(self, data: Any, cutoff: dt.date, *,
            training: tuple[FeatureFrame, Any] | None = None) -> ChurnModel:
        """Learn from labelled snapshots before ``cutoff`` (see the class docstring).

        Parameters
        ----------
        data
            A :class:`~salesradar.workspace.Workspace`, :class:`CustomerTables` or an Ibis
            table of invoice lines.
        cutoff
            The last date whose data the model may use.
        training
            The features and 0/1 labels of the snapshots at :func:`training_cutoffs`, when
            the caller computed them with more dates in the same queries (the gates' replay,
            :func:`salesradar.models.gates._churn_cases`); computed here when None.
        """
        if training is not None:
            self.fit_features(*training)
            self.cutoff_ = cutoff
            return self
        tables = _as_tables(data)
        cutoffs = training_cutoffs(
            cutoff, self.horizon_days, self.snapshots, self.snapshot_step_days
        )
        frame = build_features(
            tables, cutoffs, horizon_days=self.horizon_days, window_days=self.window_days
        )
        labels = (
            churn_labels(tables, cutoffs, horizon_days=self.horizon_days)
            .order_by(["as_of", "customer_id"])
            .to_pyarrow()
        )
        y = np.asarray(labels.column("churned").to_numpy(zero_copy_only=False), dtype=np.int64)
        if len(y) != frame.n:
            raise AssertionError("features and labels disagree on the customers")  # a bug
        self.fit_features(frame, y)
        self.cutoff_ = cutoff
        return self

    def fit_features(self, frame: FeatureFrame, churned: Any) -> ChurnModel:
        """Fit on a ready feature frame and 0/1 churn labels (one per row of ``frame``)."""
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
        from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped, unused-ignore]

        y = np.asarray(churned, dtype=np.int64)
        if len(y) != frame.n:
            raise UserInputError(f"need {frame.n} labels, got {len(y)}")
        if len(np.unique(y)) < 2:
            raise UserInputError(
                "the training snapshots hold only one outcome (everyone churned or nobody "
                "did); use a longer history or a different horizon"
            )
        rng = np.random.default_rng(self.random_state)
        if self.max_train_rows is not None and frame.n > self.max_train_rows:
            keep = np.sort(rng.choice(frame.n, self.max_train_rows, replace=False))
            frame = FeatureFrame(
                frame.customer_id[keep], frame.as_of[keep],
                {k: v[keep] for k, v in frame.columns.items()},
            )
            y = y[keep]
        full = frame.matrix()
        # columns without a single value (no payments table, ...) carry nothing; scikit-learn's
        # binning also fails on them
        self.features_used_ = np.flatnonzero(~np.isnan(full).all(axis=0))
        X = full[:, self.features_used_]
        _, groups = np.unique(frame.customer_id.astype(str), return_inverse=True)
        folds = GroupKFold(n_splits=calibration_folds(len(y), self.calibration_folds),
                           shuffle=True, random_state=self.random_state)
        splits = list(folds.split(X, y, groups))
        with _thread_limits(self.n_jobs):
            # CalibratedClassifierCV(ensemble=False), the final fit beside the folds
            classifier = fit_calibrated(self._booster(), X, y, splits, method=self.calibration,
                                        n_jobs=_fold_processes(len(y), len(splits)),
                                        threads=self.n_jobs)
            recency = np.log1p(np.maximum(frame.columns["recency_days"], 0.0)).reshape(-1, 1)
            self.recency_baseline_ = LogisticRegression().fit(recency, y)
        self.classifier_ = classifier
        self.features_ = MODEL_FEATURES  # the columns features_used_ indexes into
        self.base_rate_ = float(y.mean())
        self.n_train_ = len(y)
        return self

    # -- prediction ---------------------------------------------------------------------------
    def _matrix(self, frame: FeatureFrame) -> FloatArray:
        return frame.matrix()[:, self.features_used_]

    def predict_proba_features(self, frame: FeatureFrame) -> FloatArray:
        """P(no purchase in the horizon) for each row of a feature frame."""
        check_is_fitted(self, "classifier_")
        with _thread_limits(self.n_jobs):
            proba = self.classifier_.predict_proba(self._matrix(frame))[:, 1]
        return np.asarray(np.clip(proba, 0.0, 1.0), dtype=np.float64)

    def recency_baseline_proba(self, frame: FeatureFrame) -> FloatArray:
        """The calibrated recency rule's P(churn) for each row of a feature frame."""
        check_is_fitted(self, "recency_baseline_")
        if isinstance(self.recency_baseline_, Deferred):  # a saved model's, first use
            self.recency_baseline_ = self.recency_baseline_.value()
        recency = np.log1p(np.maximum(frame.columns["recency_days"], 0.0)).reshape(-1, 1)
        return np.asarray(self.recency_baseline_.predict_proba(recency)[:, 1], dtype=np.float64)

    def _reason_order(
        self, frame: FeatureFrame, shap: npt.NDArray[np.intp] | None = None
    ) -> npt.NDArray[np.int64]:
        """Per row, the reason groups (indices into the group names) from strongest to weakest.

        Rows in ``shap`` (all rows when None) are ordered by LightGBM SHAP contributions, the
        others (and all rows with the scikit-learn estimator) by rules on the features.
        """
        cols = frame.columns
        n_groups = len(_GROUP_NAMES)
        strength = np.zeros((frame.n, n_groups))
        if isinstance(self.classifier_, SavedCalibrated):  # a saved model: LightGBM's library
            booster: Any = self.classifier_.booster()
        else:
            estimator = getattr(self.classifier_.calibrated_classifiers_[0], "estimator", None)
            booster = None if estimator is None else getattr(estimator, "booster_", estimator)
        use_shap = self.estimator == "lightgbm" and booster is not None
        rows = np.arange(frame.n) if shap is None else shap
        if not use_shap or len(rows) < frame.n:
            with np.errstate(invalid="ignore"):
                rules = {
                    "rhythm": np.nan_to_num(cols["gap_ratio"], nan=2.0) - 1.0,
                    "orders": -np.nan_to_num(cols["order_trend"]),
                    "revenue": -np.nan_to_num(cols["revenue_trend"]),
                    "breadth": -np.nan_to_num(cols["sku_trend"]),
                    "returns": np.nan_to_num(cols["returns_share"]) - 0.2,
                    "margin": -np.ones(frame.n),
                    "payments": np.nan_to_num(cols["late_share"]) - 0.3,
                    "contacts": np.where(cols["contacts"] == 0, 0.1, -1.0),
                    "season": -np.ones(frame.n),
                }
            for name, value in rules.items():
                strength[:, _GROUP_NAMES.index(name)] = value
        if use_shap and len(rows):
            assert booster is not None
            matrix = self._matrix(frame)[rows]
            # on the model's own threads: LightGBM's thread count is one setting for the whole
            # process, which a fit running beside this (the gates', scoring's other thread) reads
            # while it trains, and a fit's result depends on its threads
            with _thread_limits(self.n_jobs):
                contrib = shap_contributions(booster, matrix, self.n_jobs)
            strength[rows] = 0.0
            for j, feature in enumerate(self.features_used_):
                group = _GROUPS[MODEL_FEATURES[int(feature)]]
                strength[rows, _GROUP_NAMES.index(group)] += contrib[j]
        order = np.argsort(-strength, axis=1, kind="stable")
        # keep only groups that push toward churn
        ranked_strength = np.take_along_axis(strength, order, axis=1)
        return np.where(ranked_strength > 0, order, -1).astype(np.int64)

    def score(self, data: Any, as_of: dt.date | None = None, *, top_reasons: int = 3) -> pa.Table:
        """Score every customer with a purchase on or before ``as_of``.

        Returns
        -------
        pyarrow.Table
            Keyed by ``customer_id``, sorted by ``revenue_at_risk`` (highest first):
            ``as_of``, ``churn_probability``, ``expected_revenue`` (next ``horizon_days`` at
            the pace of the last ``window_days``, if the customer stays), ``revenue_at_risk``
            (their product: the backtest's ranking quantity, never shown as money at stake),
            ``days_since_last_order``, the customer's terms of :mod:`salesradar.models.cadence`
            (``purchase_days``, ``first_order``, ``previous_order``, ``last_order``,
            ``last_order_sales``, ``median_gap_days`` = the rhythm, null below three purchase
            days, ``longest_gap_days`` the longest pause, ``gap_ratio`` = days since the last
            order ÷ the rhythm, ``value_at_stake``,
            ``year_sales``, ``year_returns``), ``p_alive`` (BG/NBD; null where it is not
            informative, see :func:`_informative_p_alive`), ``reasons`` (up to
            ``top_reasons`` reasons whose direction holds for the customer, each with its
            numbers, strongest first; ``reasons_he`` the same in Hebrew, ``reason_groups``
            their groups, ``reason_claims`` the claims behind their numbers as JSON).
        """
        check_is_fitted(self, "classifier_")
        tables = _as_tables(data)
        day = as_of or last_invoice_date(tables)
        frame = build_features(
            tables, [day], horizon_days=self.horizon_days, window_days=self.window_days
        )
        terms = _customer_terms(data, tables, day)
        where = pc.index_in(pa.array(frame.customer_id.astype(str)),
                            value_set=terms.column("customer_id").cast(pa.string()))
        aligned = {name: terms.column(name).take(where) for name in _TERM_COLUMNS}
        return self.score_features(frame, day, top_reasons=top_reasons, terms=aligned)

    def score_features(
        self, frame: FeatureFrame, as_of: dt.date, *, top_reasons: int = 3,
        terms: dict[str, pa.Array] | None = None,
    ) -> pa.Table:
        """:meth:`score` on a ready feature frame (one row per customer).

        ``terms`` holds the columns of :data:`_TERM_COLUMNS` aligned with ``frame`` (from
        :func:`~salesradar.models.cadence.customer_terms`); without them the terms columns are
        null and the reasons say nothing of the rhythm or returns.
        """
        check_is_fitted(self, "classifier_")
        day = as_of
        proba = self.predict_proba_features(frame)
        revenue = expected_revenue(frame.columns, self.horizon_days, self.window_days)
        at_risk = proba * revenue
        rank = np.argsort(-at_risk, kind="stable")
        order = self._reason_order(frame, rank[: self.shap_rows])
        if terms is None:
            terms = {name: pa.nulls(frame.n, type=_TERM_TYPES[name]) for name in _TERM_COLUMNS}
        self.scored_, self.scored_probability_, self.scored_reasons_ = frame, proba, order
        self.scored_terms_ = dict(terms)
        gap = as_floats(terms["typical_gap_days"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = frame.columns["recency_days"] / gap
        en, he, groups, claims = self._reasons(frame, rank, order, top_reasons, day,
                                               terms)

        def nan_to_null(values: FloatArray) -> pa.Array:
            return pa.array(values[rank], mask=np.isnan(values[rank]))

        taken = pa.array(rank)
        return pa.table(
            {
                "customer_id": pa.array(frame.customer_id[rank].astype(str)),
                "as_of": pa.array([day] * frame.n, type=pa.date32()),
                "churn_probability": pa.array(proba[rank]),
                "expected_revenue": pa.array(revenue[rank]),
                "revenue_at_risk": pa.array(at_risk[rank]),
                "days_since_last_order": pa.array(frame.columns["recency_days"][rank]),
                "median_gap_days": nan_to_null(gap),
                "gap_ratio": nan_to_null(ratio),
                "p_alive": nan_to_null(_informative_p_alive(frame.columns)),
                "reasons": en,
                "reasons_he": he,
                "reason_groups": groups,
                "reason_claims": claims,
                **{name: terms[name].take(taken) for name in _TERM_COLUMNS
                   if name != "typical_gap_days"},
            }
        )

    def _terms(self, i: int, as_of: dt.date) -> dict[str, Any]:
        """Row ``i`` of the last scores as :func:`~salesradar.models.churn_text.terms_of`."""
        assert self.scored_ is not None
        row: dict[str, Any] = {"customer_id": str(self.scored_.customer_id[i]), "as_of": as_of,
                               "days_since_last_order": self.scored_.columns["recency_days"][i]}
        if self.scored_terms_ is not None:  # Arrow columns (lists in models saved before)
            for name, values in self.scored_terms_.items():
                value = values[i]
                row[name] = value.as_py() if isinstance(value, pa.Scalar) else value
        return terms_of(row)

    def _reasons(
        self, frame: FeatureFrame, rank: npt.NDArray[np.intp], order: npt.NDArray[np.int64],
        top_reasons: int, as_of: dt.date, terms: dict[str, Any],
    ) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        """Per ranked row, up to ``top_reasons`` reasons whose direction holds, in English and
        Hebrew, with the customer's numbers (:func:`~salesradar.models.churn_text.reason_texts`,
        the wording :meth:`explain` uses one customer at a time), their groups and their claims
        (JSON text). Only the first ``shap_rows`` ranked rows are worded; the others get no
        reasons here, and :meth:`explain` words any customer on demand. Each group is worded
        once, over the rows where it is among their top reasons (``top_reasons`` below 1: every
        reason that holds)."""
        c = frame.columns
        t = term_columns(frame.customer_id, as_of, c["recency_days"], terms["last_order"],
                         as_floats(terms["year_sales"]), as_floats(terms["year_returns"]))
        ranked = rank[: self.shap_rows]
        groups = order[ranked]  # (ranked row, strength) -> group index, -1 for none
        holds = np.zeros((frame.n, len(_GROUP_NAMES) + 1), dtype=bool)  # last column: -1
        for g, group in enumerate(_GROUP_NAMES):
            if group != "rhythm":  # said by the first line of explain()
                holds[:, g] = reason_holds_columns(group, c, t)
        said = np.take_along_axis(holds[ranked], groups, axis=1)
        if top_reasons >= 1:
            said &= np.cumsum(said, axis=1) <= top_reasons
        cells = np.flatnonzero(said)  # row by row, strongest first
        kinds = groups.ravel()[cells]
        en = np.empty(len(cells), dtype=object)
        he = np.empty(len(cells), dtype=object)
        behind = np.empty(len(cells), dtype=object)
        for g, group in enumerate(_GROUP_NAMES):
            at = np.flatnonzero(kinds == g)
            if len(at) == 0:
                continue
            rows = ranked[cells[at] // groups.shape[1]]  # frame rows
            c_rows = {name: values[rows] for name, values in c.items()}
            t_rows = {name: values[rows] for name, values in t.items()}
            w, h = self.window_days, self.horizon_days
            languages: tuple[tuple[npt.NDArray[Any], Lang], ...] = ((en, "en"), (he, "he"))
            for words, lang in languages:
                words[at] = reason_texts(group, c_rows, t_rows, w, lang=lang,
                                         season_days=h).to_numpy(zero_copy_only=False)
            behind[at] = reason_claims_json(group, c_rows, t_rows, w,
                                            season_days=h).to_numpy(zero_copy_only=False)
        row = cells // groups.shape[1]  # the table's row of each reason

        def lists(values: npt.NDArray[Any], keep: npt.NDArray[np.bool_] | None = None
                  ) -> pa.Array:
            counts = np.bincount(row if keep is None else row[keep], minlength=frame.n)
            offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
            kept = values if keep is None else values[keep]
            return pa.ListArray.from_arrays(offsets, pa.array(kept, type=pa.string()))

        # json.dumps(steady(claims)) of the row's claims, reason after reason (a reason without
        # claims, such as no contact person, adds none)
        claims = join_text("[", pc.binary_join(lists(behind, behind != ""), ", "), "]")
        return (lists(en), lists(he), lists(np.asarray(_GROUP_NAMES)[kinds]), claims)

    def explain(
        self, customer_id: str, *, currency: str | None = None, lang: Lang = "en",
        lost: bool = False,
        by_rule: bool = False,
    ) -> list[str]:
        """Plain-words reasons for one customer of the last :meth:`score` call.

        The first line states the rhythm (or, below three purchase days, the facts) and the
        money at stake, e.g. ``"orders every ~12 days; last order 41 days ago (past its
        rhythm); ₪38k at stake (...)"``; the next the probability; then one line per top reason
        whose direction holds, with the customer's own numbers. ``lang`` is ``"en"`` or
        ``"he"``; ``by_rule`` says the probability is the recency rule's (the model did not
        beat it on this workspace). :meth:`explain_claims` gives the claims behind the numbers.
        """
        return explanation(*self._explain_args(customer_id), lost=lost, currency=currency,
                           lang=lang, by_rule=by_rule)

    def explain_claims(self, customer_id: str, *, lost: bool = False) -> list[dict[str, Any]]:
        """The claims (:mod:`salesradar.insights.claims`) behind :meth:`explain`'s numbers."""
        return explanation_claims(*self._explain_args(customer_id), lost=lost)

    def _explain_args(self, customer_id: str) -> tuple[Any, ...]:
        check_is_fitted(self, "classifier_")
        frame = self.scored_
        if frame is None or self.scored_probability_ is None or self.scored_reasons_ is None:
            raise NotFittedError("call ChurnModel.score(...) before explain(...)")
        hits = np.flatnonzero(frame.customer_id.astype(str) == str(customer_id))
        if len(hits) == 0:
            raise UserInputError(
                f"customer {customer_id!r} has no purchase on or before the scoring date"
            )
        i = int(hits[0])
        as_of = dt.date.fromisoformat(str(frame.as_of[i])[:10])
        c = {name: float(values[i]) for name, values in frame.columns.items()}
        groups = [_GROUP_NAMES[int(g)] for g in self.scored_reasons_[i] if g >= 0]
        return (c, self._terms(i, as_of), float(self.scored_probability_[i]), self.horizon_days,
                self.window_days, groups)


def _shared_terms_name(day: dt.date) -> str:
    return f"customer_terms {day.isoformat()}"


def shared_customer_terms(ws: Any, day: dt.date) -> pa.Table | None:
    """:func:`~salesradar.models.cadence.customer_terms` of the workspace's invoice lines at
    ``day``, as :meth:`ChurnModel.score` computed them in this refresh (for the health
    scores, which need their rhythm: the same query twice otherwise); None when not (yet)
    computed, or outside a refresh (:func:`~salesradar.models.refresh_scope.shared_value`)."""
    if not is_workspace(ws):
        return None
    found = shared_value(ws, _shared_terms_name(day))
    return found if isinstance(found, pa.Table) else None


def _customer_terms(data: Any, tables: CustomerTables, day: dt.date) -> pa.Table:
    """The customers' terms at ``day`` of :meth:`ChurnModel.score`; of a workspace, kept for
    the refresh's other steps (:func:`shared_customer_terms`), or taken from there."""
    kept = shared_customer_terms(data, day)
    if kept is not None:
        return kept
    terms: pa.Table = customer_terms(tables.lines, day).to_pyarrow()
    if is_workspace(data):  # the workspace's own lines (tables made from it)
        terms = once_per_refresh(data, _shared_terms_name(day), lambda: terms)
    return terms


# the customer's terms (salesradar.models.cadence) score_churn carries, and their types
_TERM_TYPES: dict[str, pa.DataType] = {
    "purchase_days": pa.int64(), "first_order": pa.date32(), "previous_order": pa.date32(),
    "last_order": pa.date32(), "last_order_sales": pa.float64(),
    "typical_gap_days": pa.float64(), "longest_gap_days": pa.float64(),
    "value_at_stake": pa.float64(), "year_sales": pa.float64(), "year_returns": pa.float64(),
}
_TERM_COLUMNS = tuple(_TERM_TYPES)


def score_customers(
    ws: Any, as_of: dt.date | None = None, horizon_days: int = 90, **settings: Any
) -> pa.Table:
    """Fit a :class:`ChurnModel` on the history before ``as_of`` and score every customer.

    ``as_of`` defaults to the last invoice date; ``settings`` go to :class:`ChurnModel`.
    """
    day = as_of or last_invoice_date(ws)
    model = ChurnModel(horizon_days, **settings).fit(ws, day)
    return model.score(ws, day)


def explain_customer(
    ws: Any,
    customer_id: str,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
    *,
    currency: str | None = None,
    lang: Lang = "en",
    model: ChurnModel | None = None,
) -> list[str]:
    """Plain-words churn explanation of one customer (fits a model unless one is given)."""
    day = as_of or last_invoice_date(ws)
    fitted = model if model is not None else ChurnModel(horizon_days).fit(ws, day)
    if fitted.scored_ is None or fitted.scored_.as_of[0] != np.datetime64(day, "D"):
        fitted.score(ws, day)
    return fitted.explain(customer_id, currency=currency, lang=lang)


RECENCY_RULE = "recency rule (days since last order)"
RECENCY_CALIBRATED = "recency rule, calibrated (logistic on log days since last order)"


def backtest(
    data: Any,
    cutoff: dt.date,
    horizon_days: int = 90,
    *,
    truth: Any = None,
    customers: Any = None,
    **settings: Any,
) -> list[BacktestMetric]:
    """Fit at ``cutoff``, score every customer, compare with the ``horizon_days`` after.

    A customer *churned* when it has no purchase day in (cutoff, cutoff + horizon]. Its
    *lost revenue* is its net revenue (floored at 0) in the ``horizon_days`` up to and
    including the cutoff: what the business stops receiving if the customer stays gone.

    Metrics (each beside the recency rule: score = days since the last order): ROC AUC,
    PR AUC, lift in the top decile, Brier score (beside the recency rule calibrated by a
    logistic fit on the training snapshots), mean predicted probability vs the churn rate,
    and the share of lost revenue held by the top 20% of customers by revenue at risk (the
    baseline ranks by calibrated recency probability × the same expected revenue).
    ``customers`` (ids) limits the scored customers, e.g. to those of a shorter file, to compare
    with a model fitted on it; the model still learns from everyone. ``truth`` is accepted for
    a uniform signature and not used.
    """
    from salesradar.models.backtest import brier, lift_at, pr_auc, revenue_captured, roc_auc

    tables = _as_tables(data)
    model = ChurnModel(horizon_days, **settings).fit(tables, cutoff)
    frame = build_features(
        tables, [cutoff], horizon_days=horizon_days, window_days=model.window_days
    )
    labels = (
        churn_labels(tables, [cutoff], horizon_days=horizon_days)
        .order_by(["as_of", "customer_id"])
        .to_pyarrow()
    )
    ids = np.asarray(labels.column("customer_id").to_numpy(zero_copy_only=False)).astype(str)
    if not np.array_equal(ids, frame.customer_id.astype(str)):
        raise AssertionError("features and outcomes disagree on the customers")  # a bug
    y = np.asarray(labels.column("churned").to_numpy(zero_copy_only=False), dtype=bool)
    last = np.asarray(labels.column("last_revenue").to_numpy(zero_copy_only=False), dtype=float)
    if customers is not None:
        keep = np.isin(ids, np.asarray(list(customers)).astype(str))
        frame = FeatureFrame(frame.customer_id[keep], frame.as_of[keep],
                             {k: v[keep] for k, v in frame.columns.items()})
        y, last = y[keep], last[keep]
    proba = model.predict_proba_features(frame)
    recency = frame.columns["recency_days"]
    recency_proba = model.recency_baseline_proba(frame)
    revenue = expected_revenue(frame.columns, horizon_days, model.window_days)
    lost = np.where(y, np.maximum(last, 0.0), 0.0)
    n = frame.n
    note = f"{model.n_train_} training examples from {model.snapshots} snapshots"

    def metric(name: str, value: float | None, baseline: str, base: float | None,
               extra: str = "") -> BacktestMetric:
        return BacktestMetric("churn", name, value, baseline, base, n, extra)

    return [
        metric("roc_auc", roc_auc(y, proba), RECENCY_RULE, roc_auc(y, recency), note),
        metric("pr_auc", pr_auc(y, proba), RECENCY_RULE, pr_auc(y, recency)),
        metric("lift_top_decile", lift_at(y, proba, 0.1), RECENCY_RULE, lift_at(y, recency, 0.1)),
        metric(
            "brier_score", brier(y, proba), RECENCY_CALIBRATED, brier(y, recency_proba),
            f"mean probability {proba.mean():.3f} (recency rule {recency_proba.mean():.3f}) "
            f"vs churn rate {y.mean():.3f}" if n else "",
        ),
        metric(
            "lost_revenue_captured_top20",
            revenue_captured(lost, proba * revenue, 0.2),
            "calibrated recency probability × expected revenue",
            revenue_captured(lost, recency_proba * revenue, 0.2),
            f"lost revenue = revenue in the {horizon_days} days before the cutoff of customers "
            f"with no purchase in the {horizon_days} after: {lost.sum():,.0f}",
        ),
    ]
