"""Customers: size, purchase rhythm, dropout, prices, payment habits and what each one buys.

Every customer is a row of numpy arrays; its basket (the SKUs it buys, how often and how many)
is stored compressed: ``basket_start[i]:basket_start[i + 1]`` are customer ``i``'s entries,
sorted by how regularly it buys them (most regular first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.demo._arrow import BoolArray, FloatArray, IntArray, pick
from salesradar.demo.catalog import (
    AFFINITY_PAIRS,
    BRANCH_TOWNS,
    CATEGORIES,
    CATEGORY_POPULARITY,
    INDUSTRIES,
    INDUSTRY_TASTE,
    INDUSTRY_WORDS,
    REGIONS,
    SURNAMES,
    Plan,
    Products,
    Reps,
)

CHANNELS = ("field", "phone", "web")
SEGMENTS = ("Strategic", "Key account", "SMB")
NEW_SHARE = 0.22  # customers opened during the history (they came from won inbound deals)
WHALE_SHARES = (0.12, 0.05, 0.03)  # planted revenue shares of the three biggest customers


@dataclass
class Customers:
    """The customer base; arrays are indexed by customer row (``C00001`` is row 0)."""

    size: FloatArray
    rate: FloatArray  # orders per (seasonally weighted) day
    hazard: FloatArray  # dropout hazard per day; per-order dropout = hazard / rate
    discount: FloatArray
    created_at: IntArray
    new: BoolArray
    rep: IntArray  # current rep row
    industry: IntArray
    region: IntArray
    segment: IntArray
    channel: IntArray
    web_share: FloatArray
    whales: IntArray
    loss_planted: BoolArray
    days_late: FloatArray  # mean days a customer pays after the due date
    terms: IntArray  # payment terms in days (net 30 / net 60)
    names: pa.Array
    basket_start: IntArray
    basket_sku: IntArray
    basket_q: FloatArray  # probability an order includes the entry
    basket_qty: FloatArray  # mean units per line
    basket_drop: IntArray  # day the customer stops buying the entry (NEVER if it doesn't)

    @property
    def strategic(self) -> BoolArray:
        return np.asarray(self.segment <= 1)


def affinity_matrix() -> FloatArray:
    """The planted category affinity multipliers (symmetric, 1 off the planted pairs)."""
    n = len(CATEGORIES)
    mat = np.ones((n, n))
    for a, b, lift in AFFINITY_PAIRS:
        i, j = CATEGORIES.index(a), CATEGORIES.index(b)
        mat[i, j] = mat[j, i] = lift
    return mat


def build_customers(plan: Plan, reps: Reps, products: Products, new_days: IntArray,
                    rng: np.random.Generator) -> Customers:
    """Draw the customer base; ``new_days`` are the opening days of the customers won in-period."""
    n = plan.customers
    size = rng.lognormal(0.0, 1.0, n)
    rate = np.minimum(rng.gamma(1.1, 1 / 12 / 1.1, n) * size ** 0.15, 0.6)
    hazard = rng.gamma(2.0, 1 / (2 * 6 * 365), n)
    industry = rng.integers(0, len(INDUSTRIES), n)
    region = rng.choice(len(REGIONS), n, p=[.22, .2, .12, .14, .12, .12, .08])
    # Existing customers were opened before the history; the newest ones come from inbound deals.
    created_at = plan.start - rng.integers(30, 3650, n)
    new = np.zeros(n, dtype=bool)
    n_new = len(new_days)
    new_rows = rng.choice(np.flatnonzero(size < np.quantile(size, 0.9)), n_new, replace=False)
    new[new_rows] = True
    created_at[new_rows] = new_days

    # Whales: the three biggest established customers never drop out.
    order = np.argsort(-size * ~new)
    whales = order[:3]
    hazard[whales] = 0.0
    rate[whales] = np.maximum(rate[whales], 0.25)
    # The account team serves the top ~12% by size, the centre everybody else.
    account = np.zeros(n, dtype=bool)
    account[order[: max(3, int(n * 0.12))]] = True
    segment = np.where(account, 1, 2)
    segment[order[: max(3, int(n * 0.03))]] = 0
    rep = np.empty(n, dtype=np.int64)
    acc_rows = np.flatnonzero(account)
    owners = reps.account[reps.account != reps.successor]
    rep[acc_rows] = owners[rng.permutation(len(acc_rows)) % len(owners)]
    cen_rows = np.flatnonzero(~account)
    weights = rng.uniform(0.6, 1.4, len(reps.centre))
    rep[cen_rows] = reps.centre[rng.choice(len(reps.centre), len(cen_rows),
                                           p=weights / weights.sum())]
    rep[rep == reps.leaver] = reps.successor  # the current owner of the leaver's book

    discount = np.clip(0.02 + 0.04 * np.log1p(size) + rng.normal(0, 0.03, n), 0, 0.3)
    channel = np.where(account, 0, 1)
    web_share = np.where(account, 0.0, rng.beta(1.5, 3.0, n))

    # Loss-makers: small centre customers who order often, in small drops, at deep discounts.
    pool = np.flatnonzero(~account & ~new & (size < np.quantile(size, 0.6)))
    loss = np.zeros(n, dtype=bool)
    loss[rng.choice(pool, max(2, int(n * 0.05)), replace=False)] = True
    discount[loss] = rng.uniform(0.22, 0.3, loss.sum())
    rate[loss] = np.maximum(rate[loss], rng.uniform(0.15, 0.3, loss.sum()))
    size[loss] *= 0.35
    region[loss] = rng.choice([5, 6], loss.sum())

    days_late = np.abs(rng.normal(0, 4, n))
    late = rng.choice(np.flatnonzero(~loss), max(2, int(n * 0.07)), replace=False)
    days_late[late] = rng.uniform(30, 80, len(late))
    terms = np.where(rng.random(n) < 0.6, 30, 60)

    surname = rng.integers(0, len(SURNAMES), n)
    names = _unique_names(surname, industry)
    start, sku, q, qty = _baskets(size, industry, products, rng)
    return Customers(size, rate, hazard, discount, created_at, new, rep, industry, region,
                     segment, channel, web_share, whales, loss, days_late, terms, names,
                     start, sku, q, qty, np.full(len(sku), 1 << 30, dtype=np.int64))


def _unique_names(surname: IntArray, industry: IntArray) -> pa.Array:
    """"Cohen Foods Ltd", then "Cohen Foods Ltd Haifa", "Cohen Foods Ltd Eilat" ... (a branch
    town, numbered past the list) for the next customers with the same surname and industry:
    two customers never share a name, so a list of risks never shows the same name twice."""
    key = surname.astype(np.int64) * len(INDUSTRY_WORDS) + industry
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    first = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - np.repeat(first, np.diff(np.r_[first, len(key)]))
    towns = len(BRANCH_TOWNS)
    suffixes = [""] + [f" {BRANCH_TOWNS[(r - 1) % towns]}" + (f" {(r - 1) // towns + 1}"
                                                              if r > towns else "")
                       for r in range(1, int(rank.max(initial=0)) + 1)]
    base = pc.binary_join_element_wise(pick(SURNAMES, surname), pick(INDUSTRY_WORDS, industry),
                                       " ")
    return pc.binary_join_element_wise(base, pick(suffixes, rank), "")


def _baskets(size: FloatArray, industry: IntArray, products: Products,
             rng: np.random.Generator) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Categories by industry taste and affinities, then SKUs by popularity within them."""
    n = len(size)
    n_cat = len(CATEGORIES)
    log_aff = np.log(affinity_matrix())
    base = INDUSTRY_TASTE[industry] * CATEGORY_POPULARITY
    want = np.clip(1 + rng.poisson(1.2 + 0.8 * np.log1p(size)), 1, 8)
    chosen = np.zeros((n, n_cat), dtype=bool)
    boost = np.zeros((n, n_cat))
    for k in range(8):  # one category slot at a time, for all customers at once
        w = base * np.exp(boost) * ~chosen
        cum = np.cumsum(w, axis=1)
        pick_cat = (cum < rng.random(n)[:, None] * cum[:, -1:]).sum(axis=1)
        go = want > k
        chosen[np.flatnonzero(go), pick_cat[go]] = True
        boost[go] += log_aff[pick_cat[go]]
    cust, cat = np.nonzero(chosen)
    # SKUs within each chosen category, drawn with the popularity skew (duplicates merged).
    per_cat = 1 + rng.poisson(1.0 + 0.7 * np.log1p(size[cust]))
    cust = np.repeat(cust, per_cat)
    cat = np.repeat(cat, per_cat)
    cum_pop = np.concatenate([[0.0], np.cumsum(products.popularity)])
    first = np.searchsorted(products.category, np.arange(n_cat))
    last = np.searchsorted(products.category, np.arange(n_cat), side="right")
    lo, hi = cum_pop[first[cat]], cum_pop[last[cat]]
    sku = np.searchsorted(cum_pop, lo + rng.random(len(cat)) * (hi - lo), side="right") - 1
    sku = np.clip(sku, first[cat], last[cat] - 1)
    n_sku = len(products.category)
    key = np.unique(cust * n_sku + sku)
    cust, sku = key // n_sku, key % n_sku
    q = rng.beta(1.3, 1.7, len(key))
    qty = 1 + rng.lognormal(1.4, 0.6, len(key)) * size[cust] ** 0.7
    # Most regular entry first within each customer: the generator relies on this order.
    order = np.lexsort((-q, cust))
    cust, sku, q, qty = cust[order], sku[order], q[order], qty[order]
    start = np.searchsorted(cust, np.arange(n + 1))
    return start.astype(np.int64), sku.astype(np.int64), q, qty


def plant_whales(cust: Customers, base_price: FloatArray, orders_per_customer: IntArray) -> None:
    """Scale the three biggest customers' quantities so they take WHALE_SHARES of revenue.

    A whale buys most of its basket in every order. Expected revenue is orders x the expected
    value of one order (inclusion probability x units x list price over the basket, plus the
    fallback line of an order that drew none), after the customer's discount.
    """
    for whale in cust.whales:
        entries = slice(cust.basket_start[whale], cust.basket_start[whale + 1])
        cust.basket_q[entries] = np.maximum(cust.basket_q[entries], 0.6)
    starts = cust.basket_start[:-1]
    line_value = cust.basket_qty * base_price[cust.basket_sku]
    none = np.exp(np.add.reduceat(np.log1p(-cust.basket_q), starts))
    per_order = (np.add.reduceat(cust.basket_q * line_value, starts)
                 + none * line_value[starts]) * (1 - cust.discount)
    expected = per_order * orders_per_customer
    rest = expected.sum() - expected[cust.whales].sum()
    total = rest / (1 - sum(WHALE_SHARES))
    for whale, share in zip(cust.whales, WHALE_SHARES, strict=True):
        factor = share * total / max(expected[whale], 1.0)
        entries = slice(cust.basket_start[whale], cust.basket_start[whale + 1])
        cust.basket_qty[entries] = 1 + (cust.basket_qty[entries] - 1) * factor
