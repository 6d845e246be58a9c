"""When each customer orders: a seasonal, BG/NBD-like purchase process, vectorized.

Each customer orders as a Poisson process with its own (gamma-distributed) rate, modulated by
the season and the weekday (Sunday to Thursday is the Israeli working week), and after each
order becomes inactive with a small probability. The process runs past the end of the history
so that the truth files can also say who drops out in the next months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesradar.demo._arrow import FloatArray, IntArray
from salesradar.demo.catalog import Plan
from salesradar.demo.customers import Customers

# Monthly demand multipliers: a December peak (year-end stocking), an August dip (holidays),
# and the autumn holidays (Tishrei) and Passover (April) a little lower.
SEASONALITY = np.array([0.95, 0.97, 1.05, 0.9, 1.02, 1.05, 0.95, 0.72, 0.9, 0.92, 1.07, 1.3])
# Sunday .. Saturday; numpy's day 0 (1970-01-01) is a Thursday.
WEEKDAY = np.array([1.0, 1.05, 1.0, 1.0, 1.1, 0.25, 0.0])
GROWTH = 0.04  # underlying yearly demand growth
MAX_DROPOUT = 0.3


def day_weights(plan: Plan) -> FloatArray:
    """Relative order intensity of every day from the earliest opening day to horizon_end."""
    days = np.arange(plan.start - 1, plan.horizon_end + 1)
    month = np.asarray(days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
                       % 12)
    weekday = (days + 4) % 7  # 0 = Sunday
    trend = (1 + GROWTH) ** ((days - plan.start) / 365.0)
    w = SEASONALITY[month] * WEEKDAY[weekday] * trend
    return np.asarray(w / w[w > 0].mean() * (w > 0).mean(), dtype=np.float64)


@dataclass(frozen=True)
class Orders:
    """All orders in history, sorted by day (the invoice numbering order)."""

    customer: IntArray
    day: IntArray
    per_customer: IntArray  # orders of each customer within the history
    churned_at: IntArray  # day of the last order before dropping out; -1 if still active
    scale: float  # the rate multiplier used (from ``lines``)


def _exposure(plan: Plan, cum: FloatArray, first: IntArray, last: int) -> FloatArray:
    """Integrated intensity between each customer's first possible day and ``last``."""
    base = plan.start - 1
    return np.asarray(cum[last - base] - cum[first - base], dtype=np.float64)


def calibrate(plan: Plan, cust: Customers, lines: int | None) -> float:
    """The rate multiplier that makes the expected number of invoice lines equal ``lines``.

    With per-order dropout ``p = hazard / (s * rate)`` and ``N ~ Poisson(mu)`` orders before
    ``end``, the expected number of orders is ``(1 - exp(-mu p)) / p`` (the Poisson generating
    function at ``1 - p``); a few fixed-point steps solve for the multiplier ``s``.
    """
    if lines is None:
        return 1.0
    cum = np.cumsum(day_weights(plan))
    first = np.maximum(cust.created_at, plan.start - 1)
    exposure = _exposure(plan, cum, first, plan.end)
    per_order = _expected_lines_per_order(cust)
    s = 1.0
    for _ in range(30):
        mu = s * cust.rate * exposure
        p = np.minimum(cust.hazard / (s * cust.rate), MAX_DROPOUT)
        safe = np.maximum(p, 1e-12)
        expected = np.where(p > 1e-9, -np.expm1(-mu * safe) / safe, mu)
        total = float((expected * per_order).sum()) * 1.02  # returns add ~2% lines
        s *= lines / max(total, 1.0)
    return s


def _expected_lines_per_order(cust: Customers) -> FloatArray:
    sums = np.add.reduceat(cust.basket_q, cust.basket_start[:-1])
    # An order with no line drawn gets its most regular item, so at least one line.
    none = np.exp(np.add.reduceat(np.log1p(-cust.basket_q), cust.basket_start[:-1]))
    return np.asarray(sums + none, dtype=np.float64)


def simulate(plan: Plan, cust: Customers, scale: float, rng: np.random.Generator) -> Orders:
    """Draw every order up to the horizon, apply dropout, keep those up to ``end``."""
    weights = day_weights(plan)
    cum = np.cumsum(weights)
    base = plan.start - 1
    first = np.maximum(cust.created_at, base)
    exposure = _exposure(plan, cum, first, plan.horizon_end)
    rate = scale * cust.rate
    n_orders = rng.poisson(rate * exposure)
    p = np.minimum(cust.hazard / np.maximum(rate, 1e-12), MAX_DROPOUT)
    # Orders placed before dropping out: geometric (the order after which the customer leaves).
    alive_for = np.where(p > 0, rng.geometric(np.maximum(p, 1e-12)), np.iinfo(np.int64).max)
    owner = np.repeat(np.arange(plan.customers), n_orders)
    # Uniform positions in intensity time, sorted within customer, mapped back to calendar days.
    u = rng.random(len(owner))
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    target = cum[first[owner] - base] + u * exposure[owner]
    day = np.searchsorted(cum, target, side="left") + base
    day = np.maximum(day, first[owner] + 1)
    pos = np.arange(len(owner)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    churns = alive_for <= n_orders
    last_index = np.cumsum(n_orders) - n_orders + np.minimum(alive_for, n_orders) - 1
    churned_at = np.where(churns, day[np.clip(last_index, 0, max(len(day) - 1, 0))], -1)
    keep = (pos < alive_for[owner]) & (day <= plan.end)
    owner, day = owner[keep], day[keep]
    per_customer = np.bincount(owner, minlength=plan.customers)
    chrono = np.lexsort((rng.random(len(day)), day))
    return Orders(owner[chrono], day[chrono], per_customer, churned_at, scale)
