"""Invoice lines, credit notes, payments and cost to serve: the ERP side of the demo company.

Lines are generated in chunks of chronologically sorted orders and written as they are made,
so memory stays bounded at ten million lines. Running totals (per customer, month, rep,
category and planted pair) are kept for the later tables and the truth files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import IntArray
from salesradar.demo.catalog import (
    CATEGORIES,
    NEVER,
    Plan,
    Products,
    Reps,
    cost_factor,
    price_factor,
)
from salesradar.demo.crm import to_workday
from salesradar.demo.customers import CHANNELS, Customers
from salesradar.demo.orders import Orders

RETURN_RATE = 0.02
LINES_PER_CHUNK = 1_000_000


@dataclass
class Totals:
    """Money (agorot) accumulated while the lines are written."""

    months: int  # number of months in history
    first_month: int  # month number (year * 12 + month - 1) of the start
    revenue: IntArray  # per customer
    cost: IntArray  # per customer
    cust_month_revenue: IntArray  # customers x months
    cust_month_orders: IntArray  # customers x months
    rep_month_revenue: IntArray  # reps x months
    cat_month_revenue: IntArray  # categories x months
    cat_month_cost: IntArray
    order_total: IntArray  # per order (sales only), for payments
    pair_buys: IntArray  # purchases of each planted dropped pair before its drop day
    pair_last: IntArray  # day of its last purchase
    pair_after: IntArray  # orders of the customer after the drop day
    lines: int = 0
    returns: int = 0


def month_of(days: IntArray) -> IntArray:
    """Month number (year * 12 + month - 1) of each day."""
    months = np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(months + 1970 * 12, dtype=np.int64)


def plant_dropped_pairs(plan: Plan, cust: Customers, products: Products, orders: Orders,
                        rng: np.random.Generator) -> IntArray:
    """Pick regular customer x SKU pairs that stop while the customer keeps buying.

    The customer stays active to the horizon and has at least 15 orders; the pair is its
    second most regular item (the most regular one is the fallback line of an order, so it
    must stay), neither discontinued nor the successor of a discontinued item the customer
    buys (that item would bring it back). The drop day is the day of the customer's order at
    60% of its history, so there are purchases before and orders after. Returns entry rows.
    """
    n_per = orders.per_customer
    bsize = np.diff(cust.basket_start)
    entry = cust.basket_start[:-1] + 1
    second = np.minimum(entry, len(cust.basket_sku) - 1)  # valid wherever bsize >= 3
    target = cust.basket_sku[second]
    discontinued = products.discontinued_at[cust.basket_sku] < NEVER
    owner = np.repeat(np.arange(plan.customers), bsize)
    switches = discontinued & (products.successor[cust.basket_sku] == target[owner])
    ok = ((orders.churned_at < 0) & (n_per >= 15) & (bsize >= 3)
          & (cust.basket_q[second] >= 0.45)
          & (products.discontinued_at[target] >= NEVER)
          & (np.bincount(owner, weights=switches, minlength=plan.customers) == 0))
    ok[cust.whales] = False
    rows = np.flatnonzero(ok)
    count = min(len(rows), max(3, plan.customers // 25))
    rows = np.sort(rng.choice(rows, count, replace=False))
    # Orders are sorted by day; the customer's k-th order is found through a stable sort.
    by_cust = np.argsort(orders.customer, kind="stable")
    first = np.cumsum(n_per) - n_per
    pick = first[rows] + (n_per[rows] * 0.6).astype(np.int64)
    cust.basket_drop[entry[rows]] = orders.day[by_cust[pick]]
    return np.asarray(entry[rows], dtype=np.int64)


def write_invoice_lines(plan: Plan, reps: Reps, cust: Customers, products: Products,
                        orders: Orders, dropped: IntArray, writer: A.TableWriter,
                        rng: np.random.Generator,
                        progress: Callable[[float], None]) -> Totals:
    """Expand orders into lines chunk by chunk, write them, then the credit notes."""
    m0 = int(month_of(np.array([plan.start]))[0])
    months = int(month_of(np.array([plan.end]))[0]) - m0 + 1
    n_c, n_r, n_cat = plan.customers, plan.reps, len(CATEGORIES)
    tot = Totals(months, m0, np.zeros(n_c, np.int64), np.zeros(n_c, np.int64),
                 np.zeros(n_c * months, np.int64), np.zeros(n_c * months, np.int64),
                 np.zeros(n_r * months, np.int64), np.zeros(n_cat * months, np.int64),
                 np.zeros(n_cat * months, np.int64), np.zeros(len(orders.day), np.int64),
                 np.zeros(len(dropped), np.int64), np.full(len(dropped), -1, np.int64),
                 np.zeros(len(dropped), np.int64))
    pair_of_entry = np.full(len(cust.basket_sku), -1, dtype=np.int64)
    pair_of_entry[dropped] = np.arange(len(dropped))
    owner = np.searchsorted(cust.basket_start, dropped, side="right") - 1
    pair_of_cust = np.full(n_c, -1, dtype=np.int64)
    pair_of_cust[owner] = np.arange(len(dropped))
    drop_day_of_cust = np.full(n_c, 1 << 30, dtype=np.int64)
    drop_day_of_cust[owner] = cust.basket_drop[dropped]
    bsize = np.diff(cust.basket_start)
    exp_lines = float((bsize[orders.customer] * 0.45).sum()) + 1
    per_chunk = max(1000, int(len(orders.day) * LINES_PER_CHUNK / exp_lines))
    width = max(7, len(str(len(orders.day))))
    eroding = products.category == products.eroding
    returns: list[dict[str, IntArray]] = []
    # Web orders are drawn per order, once, so that all lines of an invoice share a channel.
    web = rng.random(len(orders.day)) < cust.web_share[orders.customer]
    for lo in range(0, len(orders.day), per_chunk):
        hi = min(lo + per_chunk, len(orders.day))
        c = orders.customer[lo:hi]
        d = orders.day[lo:hi]
        counts = bsize[c]
        ordrow = np.repeat(np.arange(hi - lo), counts)
        offset = np.arange(len(ordrow)) - np.repeat(np.cumsum(counts) - counts, counts)
        entry = cust.basket_start[c][ordrow] + offset
        dd = d[ordrow]
        keep = (rng.random(len(entry)) < cust.basket_q[entry]) & (dd < cust.basket_drop[entry])
        has = np.bincount(ordrow, weights=keep, minlength=hi - lo) > 0
        keep |= (offset == 0) & ~has[ordrow]  # an order has at least its most regular item
        entry, ordrow, dd = entry[keep], ordrow[keep], dd[keep]
        cc = c[ordrow]
        sku = cust.basket_sku[entry]
        sku = np.where(dd >= products.discontinued_at[sku], products.successor[sku], sku)
        qty = 1 + rng.poisson(cust.basket_qty[entry] - 1)
        price = np.round(products.base_price[sku] * price_factor(dd, plan) * 100)
        unit_cost = np.round(products.base_cost[sku] * cost_factor(dd, plan, eroding[sku]) * 100)
        revenue = np.round(qty * price * (1 - cust.discount[cc])).astype(np.int64)
        cost = (qty * unit_cost).astype(np.int64)
        rep = np.where((cust.rep[cc] == reps.successor) & (dd < reps.handover), reps.leaver,
                       cust.rep[cc])
        chan = np.where(web[lo:hi][ordrow], 2, cust.channel[cc])
        n_lines = len(entry)
        starts = np.flatnonzero(np.r_[True, ordrow[1:] != ordrow[:-1]]) if n_lines else \
            np.zeros(0, np.int64)
        line_no = np.arange(n_lines) - np.repeat(starts, np.diff(np.r_[starts, n_lines]))
        writer.write({
            "invoice_id": A.ids("INV-", lo + ordrow + 1, width),
            "line_no": line_no + 1,
            "invoice_date": A.dates(dd),
            "customer_id": A.ids("C", cc + 1, plan.cid_width),
            "sku": A.ids("SKU-", sku + 1, plan.sku_width),
            "quantity": qty.astype(np.float64),
            "net_revenue": A.money(revenue),
            "cost": A.money(cost),
            "rep_id": reps.ids.take(rep),
            "channel": A.pick(CHANNELS, chan),
        })
        tot.lines += n_lines
        _accumulate(tot, cc, dd, rep, products.category[sku], revenue, cost, n_c, n_r)
        np.add.at(tot.order_total, lo + ordrow, revenue)
        np.add.at(tot.cust_month_orders, c * months + month_of(d) - m0, 1)
        pair = pair_of_entry[entry]
        hit = pair >= 0
        np.add.at(tot.pair_buys, pair[hit], 1)
        np.maximum.at(tot.pair_last, pair[hit], dd[hit])
        cp = pair_of_cust[c]
        after = (cp >= 0) & (d >= drop_day_of_cust[c])
        np.add.at(tot.pair_after, cp[after], 1)
        ret = rng.random(n_lines) < RETURN_RATE
        if ret.any():
            returns.append({"order": lo + ordrow[ret], "customer": cc[ret], "sku": sku[ret],
                            "qty": qty[ret], "price": price[ret], "unit_cost": unit_cost[ret],
                            "day": dd[ret] + rng.integers(2, 21, int(ret.sum())),
                            "rep": rep[ret], "chan": chan[ret],
                            "cat": products.category[sku[ret]]})
        progress(hi / len(orders.day))
    _write_returns(plan, reps, cust, returns, writer, tot, rng)
    return tot


def _accumulate(tot: Totals, cc: IntArray, dd: IntArray, rep: IntArray, cat: IntArray,
                revenue: IntArray, cost: IntArray, n_c: int, n_r: int) -> None:
    m = month_of(dd) - tot.first_month
    tot.revenue += np.bincount(cc, weights=revenue, minlength=n_c).astype(np.int64)
    tot.cost += np.bincount(cc, weights=cost, minlength=n_c).astype(np.int64)
    tot.cust_month_revenue += np.bincount(cc * tot.months + m, weights=revenue,
                                          minlength=n_c * tot.months).astype(np.int64)
    tot.rep_month_revenue += np.bincount(rep * tot.months + m, weights=revenue,
                                         minlength=n_r * tot.months).astype(np.int64)
    size = len(tot.cat_month_revenue)
    tot.cat_month_revenue += np.bincount(cat * tot.months + m, weights=revenue,
                                         minlength=size).astype(np.int64)
    tot.cat_month_cost += np.bincount(cat * tot.months + m, weights=cost,
                                      minlength=size).astype(np.int64)


def _write_returns(plan: Plan, reps: Reps, cust: Customers,
                   returns: list[dict[str, IntArray]], writer: A.TableWriter, tot: Totals,
                   rng: np.random.Generator) -> None:
    """Credit notes (``CN-...``): one per returned invoice, dated a few days after it."""
    if not returns:
        return
    r = {k: np.concatenate([x[k] for x in returns]) for k in returns[0]}
    # A credit note covers all returned lines of one invoice and is dated once.
    uniq, first = np.unique(r["order"], return_index=True)
    note_day = to_workday(r["day"][first])[np.searchsorted(uniq, r["order"])]
    valid = note_day <= plan.end
    r = {k: v[valid] for k, v in r.items()}
    note_day = note_day[valid]
    order = np.lexsort((r["order"], note_day))
    r = {k: v[order] for k, v in r.items()}
    note_day = note_day[order]
    new_note = np.r_[True, r["order"][1:] != r["order"][:-1]]
    note = np.cumsum(new_note) - 1
    starts = np.flatnonzero(new_note)
    line_no = np.arange(len(note)) - starts[note]
    qty = -(1 + np.floor(rng.random(len(note)) * r["qty"]).astype(np.int64))
    # Credited to the customer's rep on the credit note's date (the handover may lie between).
    owner = cust.rep[r["customer"]]
    rep = np.where((owner == reps.successor) & (note_day < reps.handover), reps.leaver, owner)
    revenue = np.round(qty * r["price"] * (1 - cust.discount[r["customer"]])).astype(np.int64)
    cost = (qty * r["unit_cost"]).astype(np.int64)
    writer.write({
        "invoice_id": A.ids("CN-", note + 1, 6),
        "line_no": line_no + 1,
        "invoice_date": A.dates(note_day),
        "customer_id": A.ids("C", r["customer"] + 1, plan.cid_width),
        "sku": A.ids("SKU-", r["sku"] + 1, plan.sku_width),
        "quantity": qty.astype(np.float64),
        "net_revenue": A.money(revenue),
        "cost": A.money(cost),
        "rep_id": reps.ids.take(rep),
        "channel": A.pick(CHANNELS, r["chan"]),
    })
    _accumulate(tot, r["customer"], note_day, rep, r["cat"], revenue, cost,
                plan.customers, plan.reps)
    tot.returns = len(note)
    tot.lines += len(note)
