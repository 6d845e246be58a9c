"""Churn benchmark: ChurnModel fit + score for 1,000,000 customers, LightGBM vs scikit-learn.

The customers' *features* are simulated (seeded numpy, vectorized), not computed from invoice
lines: each customer has a purchase rate, a tenure and an alive/dropped state; window counts
are Poisson, recency follows from the rate and the dropout day, and every model feature of
:data:`salesradar.models.churn.MODEL_FEATURES` is filled consistently enough for the boosting to
learn (payments and contacts features are left missing, as in a workspace without those
tables). The label is "no purchase in the next 90 days", drawn from the same process.

Timed per estimator (LightGBM and scikit-learn's HistGradientBoostingClassifier, same settings):
``fit_features`` (with the defaults: boosting on a 250,000-row sample, isotonic
calibration over 2 customer-grouped folds, as from 50,000 training rows, i.e. three boosting
fits) and ``score_features`` (calibrated
probabilities, SHAP reasons for the 50,000 customers with the most revenue at risk and rule
reasons for the rest, revenue at risk, the Arrow table), plus the ROC AUC on a fresh simulated
scoring set. The CPU time of fit + score (all threads of the process) is printed beside the
wall time: on a shared machine the wall time grows with the load, the CPU time much less, and
on an idle machine with ``n_jobs=1`` the two are about equal. ``--n-jobs`` defaults to 1: on
shared cores LightGBM with 2 OpenMP threads was ~20x slower than with 1.

    python bench/bench_churn.py [--customers 1000000] [--n-jobs 1]
                                [--estimators lightgbm,hist_gradient_boosting]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np

from salesradar.models.backtest import roc_auc
from salesradar.models.churn import MODEL_FEATURES, ChurnModel, FeatureFrame

HORIZON = 90


def simulate(n: int, seed: int) -> tuple[FeatureFrame, np.ndarray]:  # type: ignore[type-arg]
    """Features and 0/1 churn labels of ``n`` simulated customers (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.9, 1 / 30.0, n)  # purchase days per day while alive
    tenure = rng.uniform(30, 730, n)
    dropped_ago = np.where(rng.random(n) < 0.4, rng.uniform(0, 730, n), -1.0)  # -1: alive
    active_days = np.where(dropped_ago >= 0, np.maximum(tenure - dropped_ago, 0.0), tenure)
    purchases = 1 + rng.poisson(rate * active_days)
    recency = np.minimum(
        tenure, np.maximum(dropped_ago, 0.0) + rng.exponential(1 / np.maximum(rate, 1e-3))
    )
    live_w1 = np.clip(90 - np.maximum(dropped_ago, 0), 0, 90)
    live_w2 = np.clip(180 - np.maximum(dropped_ago, 90), 0, 90)
    orders_w1 = rng.poisson(rate * live_w1).astype(float)
    orders_w2 = rng.poisson(rate * live_w2).astype(float)
    order_value = rng.gamma(2.0, 150.0, n)
    mean_gap = np.where(purchases > 1, active_days / np.maximum(purchases - 1, 1), np.nan)
    median_gap = mean_gap * rng.uniform(0.7, 1.1, n)
    skus = 1 + rng.poisson(4.0, n)
    c: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name in MODEL_FEATURES}  # type: ignore[type-arg]
    c.update(
        recency_days=recency, tenure_days=tenure, purchase_days=purchases.astype(float),
        orders_w1=orders_w1, orders_w2=orders_w2, orders_365=orders_w1 + orders_w2 * 2.5,
        order_trend=(orders_w1 - orders_w2) / np.maximum(orders_w1 + orders_w2, 1),
        median_gap=median_gap, mean_gap=mean_gap, gap_cv=rng.uniform(0.2, 1.5, n),
        gap_ratio=recency / median_gap, recency_2nd=recency + median_gap,
        recency_3rd=recency + 2 * median_gap,
        orders_decay30=orders_w1 * 0.5, orders_decay90=orders_w1 * 0.8 + orders_w2 * 0.3,
        revenue_decay90=(orders_w1 * 0.8 + orders_w2 * 0.3) * order_value,
        active_months=np.minimum(12, purchases.astype(float)),
        revenue_w1=orders_w1 * order_value, revenue_w2=orders_w2 * order_value,
        revenue_365=(orders_w1 + 2.5 * orders_w2) * order_value,
        revenue_trend=(orders_w1 - orders_w2) / np.maximum(orders_w1 + orders_w2, 1),
        revenue_per_order=order_value, returns_share=rng.beta(0.5, 10, n),
        skus_w1=np.where(orders_w1 > 0, skus, 0.0), skus_w2=np.where(orders_w2 > 0, skus, 0.0),
        skus_365=skus.astype(float), sku_trend=rng.uniform(-1, 1, n),
        margin_rate=rng.uniform(0.05, 0.4, n),
        p_alive=np.where(dropped_ago >= 0, 0.2, 0.8) + rng.normal(0, 0.1, n),
        expected_purchases=rate * HORIZON * (dropped_ago < 0),
    )
    alive = dropped_ago < 0
    churned = ~alive | (rng.random(n) < np.exp(-rate * HORIZON))
    frame = FeatureFrame(
        customer_id=np.char.add("C", np.arange(n).astype(str)).astype(object),
        as_of=np.full(n, np.datetime64("2026-09-30", "D")),
        columns={k: np.asarray(v, dtype=np.float64) for k, v in c.items()},
    )
    return frame, churned.astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--estimators", default="lightgbm,hist_gradient_boosting")
    args = parser.parse_args()
    n = args.customers
    started = time.perf_counter()
    train, y = simulate(n, seed=1)
    test, y_test = simulate(n, seed=2)
    simulate_s = time.perf_counter() - started
    cpu = platform.processor() or platform.machine()
    print(f"# churn benchmark: {n:,} customers, {len(MODEL_FEATURES)} features, "
          f"n_jobs={args.n_jobs}, {os.cpu_count()} CPUs, {cpu}")
    print(f"simulating 2 × {n:,} customers' features: {simulate_s:.1f} s; "
          f"churn rate {y.mean():.3f}")
    print()
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    print()
    print("| estimator | fit (s) | score (s) | fit + score (s) | CPU time (s) | ROC AUC "
          "| mean p vs rate |")
    print("|---|---|---|---|---|---|---|")
    for estimator in args.estimators.split(","):
        model = ChurnModel(HORIZON, estimator=estimator, n_jobs=args.n_jobs)  # type: ignore[arg-type]
        c0, t0 = time.process_time(), time.perf_counter()
        model.fit_features(train, y)
        t1 = time.perf_counter()
        scores = model.score_features(test, dt.date(2026, 9, 30))
        t2, c2 = time.perf_counter(), time.process_time()
        proba = model.predict_proba_features(test)
        auc = roc_auc(y_test, proba)
        assert scores.num_rows == n
        print(f"| {estimator} | {t1 - t0:.1f} | {t2 - t1:.1f} | {t2 - t0:.1f} | {c2 - c0:.1f} | "
              f"{auc:.3f} | {proba.mean():.3f} vs {y_test.mean():.3f} |", flush=True)


if __name__ == "__main__":
    main()
