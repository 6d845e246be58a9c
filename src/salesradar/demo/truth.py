"""The ``truth/`` folder: what the generator planted, for tests and model backtests.

Every file is a small CSV computed from the same arrays the tables were written from (money in
exact agorot), so a truth row always agrees with the data files to the agora.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import BoolArray, FloatArray, IntArray
from salesradar.demo.catalog import (
    AFFINITY_PAIRS,
    CATEGORIES,
    COST_GROWTH,
    ERODING_COST_GROWTH,
    NEVER,
    PRICE_GROWTH,
    Plan,
    Products,
    Reps,
)
from salesradar.demo.crm import SOURCES, Pipeline
from salesradar.demo.customers import WHALE_SHARES, Customers, affinity_matrix
from salesradar.demo.orders import SEASONALITY, Orders
from salesradar.demo.sales import Totals

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def write_truth(out: Path, plan: Plan, reps: Reps, cust: Customers, products: Products,
                orders: Orders, tot: Totals, cts: IntArray, dropped: IntArray,
                pipe: Pipeline, single: BoolArray, bias: FloatArray,
                params: dict[str, Any]) -> dict[str, int]:
    """Write every truth file; returns rows per file name."""
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    cw = plan.cid_width

    def put(name: str, columns: dict[str, Any]) -> None:
        rows[name] = A.write_truth(out / f"{name}.csv", columns)

    churn = np.flatnonzero(orders.churned_at >= 0)
    put("churned_customers", {
        "customer_id": A.ids("C", churn + 1, cw),
        "churned_at": A.dates(orders.churned_at[churn]),
        "churned_before_end": orders.churned_at[churn] <= plan.end,
        "orders_in_history": orders.per_customer[churn],
    })
    profit = tot.revenue - tot.cost - cts
    loss = np.flatnonzero(profit < 0)
    put("loss_making_customers", {
        "customer_id": A.ids("C", loss + 1, cw),
        "revenue": A.money(tot.revenue[loss]),
        "gross_profit": A.money(tot.revenue[loss] - tot.cost[loss]),
        "cost_to_serve": A.money(cts[loss]),
        "profit": A.money(profit[loss]),
        "planted": cust.loss_planted[loss],
    })
    put("affinities", _affinities(cust, products))
    disc = np.flatnonzero(products.discontinued_at < NEVER)
    put("discontinued_skus", {
        "sku": A.ids("SKU-", disc + 1, plan.sku_width),
        "category": A.pick(CATEGORIES, products.category[disc]),
        "discontinued_at": A.dates(products.discontinued_at[disc]),
        "successor_sku": A.ids("SKU-", products.successor[disc] + 1, plan.sku_width),
    })
    # A planted drop with fewer than two purchases before it leaves no signal: not listed.
    owner = np.searchsorted(cust.basket_start, dropped, side="right") - 1
    seen = tot.pair_buys >= 2
    put("dropped_pairs", {
        "customer_id": A.ids("C", owner[seen] + 1, cw),
        "sku": A.ids("SKU-", cust.basket_sku[dropped[seen]] + 1, plan.sku_width),
        "dropped_at": A.dates(cust.basket_drop[dropped[seen]]),
        "last_purchase": A.dates(tot.pair_last[seen]),
        "purchases_before": tot.pair_buys[seen],
        "orders_after": tot.pair_after[seen],
    })
    put("seasonality", {"month": list(range(1, 13)), "name": list(MONTHS),
                        "multiplier": SEASONALITY})
    put("margin_erosion", _margins(plan, products, tot))
    late = np.flatnonzero(cust.days_late > 20)
    put("late_payers", {
        "customer_id": A.ids("C", late + 1, cw),
        "terms_days": cust.terms[late],
        "mean_days_late": np.round(cust.days_late[late], 1),
    })
    lead_number = np.empty(len(pipe.lead_created), dtype=np.int64)
    lead_number[np.argsort(pipe.lead_created, kind="stable")] = np.arange(len(lead_number))
    never = np.flatnonzero(~pipe.lead_contacted)
    never = never[np.argsort(lead_number[never])]
    put("uncontacted_leads", {
        "lead_id": A.ids("L", lead_number[never] + 1, 6),
        "created_at": A.timestamps(pipe.lead_created[never]),
        "owner_rep_id": reps.ids.take(pipe.lead_owner[never]),
        "source": A.pick(SOURCES, pipe.lead_source[never]),
        "slow_rep": pipe.lead_owner[never] == reps.slow,
    })
    st = np.flatnonzero(single)
    put("single_threaded_customers", {
        "customer_id": A.ids("C", st + 1, cw),
        "rep_id": reps.ids.take(cust.rep[st]),
        "revenue": A.money(tot.revenue[st]),
    })
    top = np.argsort(-tot.revenue, kind="stable")[:5]
    put("big_customers", {
        "customer_id": A.ids("C", top + 1, cw),
        "revenue_share": np.round(tot.revenue[top] / max(int(tot.revenue.sum()), 1), 4),
        "planted_share": [dict(zip(cust.whales.tolist(), WHALE_SHARES, strict=True))
                          .get(int(t)) for t in top],
    })
    sellers = np.flatnonzero(~np.isnan(bias))
    put("forecast_bias", {"rep_id": reps.ids.take(sellers), "commit_bias": bias[sellers]})
    put("rep_handover", {
        "from_rep_id": reps.ids.take([reps.leaver]), "to_rep_id": reps.ids.take([reps.successor]),
        "handover_date": A.dates([reps.handover]),
        "customers": [int((cust.rep == reps.successor).sum())],
    })
    put("slow_rep", {"rep_id": reps.ids.take([reps.slow]),
                     "median_first_contact_hours": [20.0]})
    (out / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    return rows


def _affinities(cust: Customers, products: Products) -> dict[str, Any]:
    """Planted and observed lift P(B | A) / P(B) at customer level, for every category pair."""
    n = len(cust.basket_start) - 1
    owner = np.repeat(np.arange(n), np.diff(cust.basket_start))
    has = np.zeros((n, len(CATEGORIES)), dtype=bool)
    has[owner, products.category[cust.basket_sku]] = True
    share = has.mean(axis=0)
    both = (has[:, :, None] & has[:, None, :]).mean(axis=0)
    planted = affinity_matrix()
    a, b = np.triu_indices(len(CATEGORIES), 1)
    lift = both[a, b] / np.maximum(share[a] * share[b], 1e-12)
    order = np.lexsort((b, a, -planted[a, b]))
    a, b = a[order], b[order]
    assert len(AFFINITY_PAIRS) == int((planted[a, b] > 1).sum())
    return {"category_a": A.pick(CATEGORIES, a), "category_b": A.pick(CATEGORIES, b),
            "planted_lift": planted[a, b], "observed_lift": np.round(lift[order], 3)}


def _margins(plan: Plan, products: Products, tot: Totals) -> dict[str, Any]:
    """Gross margin of each category in the first and the last three months of history."""
    rev = tot.cat_month_revenue.reshape(len(CATEGORIES), tot.months).astype(np.float64)
    cost = tot.cat_month_cost.reshape(len(CATEGORIES), tot.months).astype(np.float64)

    def margin(cols: slice) -> FloatArray:
        r, c = rev[:, cols].sum(axis=1), cost[:, cols].sum(axis=1)
        return np.asarray(np.round((r - c) / np.maximum(r, 1), 4), dtype=np.float64)

    eroding = np.arange(len(CATEGORIES)) == products.eroding
    return {
        "category": list(CATEGORIES),
        "eroding": eroding,
        "price_growth_per_year": np.full(len(CATEGORIES), PRICE_GROWTH),
        "cost_growth_per_year": np.where(eroding, ERODING_COST_GROWTH, COST_GROWTH),
        "margin_first_3_months": margin(slice(0, 3)),
        "margin_last_3_months": margin(slice(tot.months - 3, tot.months)),
        "from": A.dates(np.full(len(CATEGORIES), plan.start)),
        "to": A.dates(np.full(len(CATEGORIES), plan.end)),
    }

