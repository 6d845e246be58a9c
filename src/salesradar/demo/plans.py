"""Targets per rep and month, and the reps' monthly forecast submissions."""

from __future__ import annotations

import numpy as np

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import BoolArray, FloatArray
from salesradar.demo.catalog import Plan, Reps
from salesradar.demo.crm import DAY, Pipeline
from salesradar.demo.orders import SEASONALITY
from salesradar.demo.sales import Totals

FUTURE_MONTHS = 3  # targets are set for the next quarter too (for pipeline coverage)


def _active(reps: Reps, month_start: np.ndarray, month_end: np.ndarray) -> BoolArray:
    """reps x months: was the rep active at some point of the month."""
    to = np.where(reps.active_to < 0, 1 << 30, reps.active_to)
    return np.asarray((reps.active_from[:, None] <= month_end[None, :])
                      & (to[:, None] >= month_start[None, :]))


def _month_bounds(first_month: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    months = (np.arange(count + 1) + first_month - 1970 * 12).astype("datetime64[M]")
    days = months.astype("datetime64[D]").astype(np.int64)
    return days[:-1], days[1:] - 1


def write_targets(plan: Plan, reps: Reps, pipe: Pipeline, tot: Totals,
                  writer: A.TableWriter, rng: np.random.Generator) -> None:
    """Monthly ``revenue`` and ``deals_won`` targets for every rep who owns customers.

    The revenue target is the rep's average month over the history, shaped by the season and
    raised 8%; the deals target is the rep's average number of won deals, raised 10%.
    """
    count = tot.months + FUTURE_MONTHS
    start, end = _month_bounds(tot.first_month, count)
    selling = np.concatenate([reps.centre, reps.account])
    active = _active(reps, start, end)[selling]
    revenue = tot.rep_month_revenue.reshape(plan.reps, tot.months)[selling] / 100.0
    months_active = np.maximum(active[:, : tot.months].sum(axis=1), 1)
    mean = revenue.sum(axis=1) / months_active
    season = SEASONALITY[(np.arange(count) + tot.first_month) % 12]
    rev_target = np.round(mean[:, None] * season[None, :] * 1.08 * rng.uniform(
        0.95, 1.05, (len(selling), 1)), -3)
    won = pipe.deal_outcome == 1
    won_by = np.bincount(pipe.deal_owner[won], minlength=plan.reps)[selling]
    deals_target = np.maximum(np.round(won_by / months_active * 1.1), 1)
    rows, cols = np.nonzero(active)
    labels = A.month_labels(tot.first_month, count)
    n = len(rows)
    rep_ids = reps.ids.take(np.concatenate([selling[rows], selling[rows]]))
    writer.write({
        "rep_id": rep_ids,
        "team": None,
        "period": A.pick(labels, np.concatenate([cols, cols])),
        "grain": A.pick(["month"], np.zeros(2 * n, np.int64)),
        "metric": A.pick(["revenue", "deals_won"], np.repeat([0, 1], n)),
        "value": np.concatenate([rev_target[rows, cols], deals_target[rows].astype(float)]),
    })


def write_forecasts(plan: Plan, reps: Reps, tot: Totals, writer: A.TableWriter,
                    rng: np.random.Generator) -> FloatArray:
    """Commit, best case and pipeline per rep and month, submitted a few days in.

    Each rep has a personal bias: some sandbag (commit well under what they sell), some are
    optimists. Returns the planted bias per rep row (1 = unbiased; NaN for non-sellers).
    """
    start, end = _month_bounds(tot.first_month, tot.months)
    selling = np.concatenate([reps.centre, reps.account])
    active = _active(reps, start, end)[selling]
    bias = np.full(plan.reps, np.nan)
    bias[selling] = rng.choice([0.8, 0.9, 1.0, 1.0, 1.1, 1.25], len(selling))
    actual = tot.rep_month_revenue.reshape(plan.reps, tot.months)[selling] / 100.0
    rows, cols = np.nonzero(active & (actual > 0))
    commit = actual[rows, cols] * bias[selling][rows] * rng.lognormal(0, 0.06, len(rows))
    best = commit * rng.uniform(1.1, 1.25, len(rows))
    pipeline = best * rng.uniform(1.3, 1.7, len(rows))
    submitted = ((start[cols] + rng.integers(1, 5, len(rows))) * DAY
                 + 8 * 3600 + rng.integers(0, 4 * 3600, len(rows)))
    n = len(rows)
    labels = A.month_labels(tot.first_month, tot.months)
    cents = np.round(np.concatenate([commit, best, pipeline]), -2) * 100
    writer.write({
        "rep_id": reps.ids.take(np.tile(selling[rows], 3)),
        "period": A.pick(labels, np.tile(cols, 3)),
        "grain": A.pick(["month"], np.zeros(3 * n, np.int64)),
        "submitted_at": A.timestamps(np.tile(submitted, 3)),
        "category": A.pick(["commit", "best_case", "pipeline"], np.repeat([0, 1, 2], n)),
        "amount": A.money(cents.astype(np.int64)),
    })
    return bias
