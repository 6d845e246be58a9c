"""Payments of invoices and the monthly cost to serve each customer."""

from __future__ import annotations

import numpy as np

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import IntArray
from salesradar.demo.catalog import REGION_LOGISTICS, Plan
from salesradar.demo.customers import Customers
from salesradar.demo.orders import Orders
from salesradar.demo.sales import Totals

CHUNK = 1_000_000
KINDS = ("logistics", "service", "sales", "credit", "support")


def write_payments(plan: Plan, cust: Customers, orders: Orders, tot: Totals,
                   writer: A.TableWriter, rng: np.random.Generator) -> None:
    """One payment row per invoice: due after the customer's terms, paid with its habits.

    About 40% of customers are on end-of-month terms (the Israeli "shotef + 30/60"). Invoices
    whose payment would come after the end of the history are still open (no paid_date).
    """
    eom = rng.random(plan.customers) < 0.4
    width = max(7, len(str(len(orders.day))))
    for lo in range(0, len(orders.day), CHUNK):
        hi = min(lo + CHUNK, len(orders.day))
        c, d = orders.customer[lo:hi], orders.day[lo:hi]
        month_end = (d.astype("datetime64[D]").astype("datetime64[M]") + 1).astype(
            "datetime64[D]").astype(np.int64) - 1
        due = np.where(eom[c], month_end, d) + cust.terms[c]
        late = cust.days_late[c]
        paid = due + np.round(rng.normal(late, 2 + 0.25 * late)).astype(np.int64)
        paid = np.maximum(paid, d)
        writer.write({
            "invoice_id": A.ids("INV-", np.arange(lo, hi) + 1, width),
            "customer_id": A.ids("C", c + 1, plan.cid_width),
            "due_date": A.dates(due),
            "paid_date": A.dates(paid, valid=paid <= plan.end),
            "amount": A.money(tot.order_total[lo:hi]),
        })


def write_cost_to_serve(plan: Plan, cust: Customers, orders: Orders, tot: Totals,
                        writer: A.TableWriter, rng: np.random.Generator) -> IntArray:
    """Monthly costs per customer and kind; returns each customer's total (agorot).

    Logistics is paid per delivery (dearer in the north and south), service per order for the
    centre and as a monthly retainer for key accounts, sales as visits or calls, credit as the
    financing of late payments, support occasionally.
    """
    n, months = plan.customers, tot.months
    drops = tot.cust_month_orders.reshape(n, months).astype(np.float64)
    revenue = tot.cust_month_revenue.reshape(n, months).astype(np.float64)
    month_start = (np.arange(months) + tot.first_month - 1970 * 12).astype(
        "datetime64[M]").astype("datetime64[D]").astype(np.int64)
    # Retainers and visits run from the opening month to the month a customer drops out.
    gone = np.where((orders.churned_at >= 0) & (orders.churned_at <= plan.end),
                    orders.churned_at, 1 << 30)
    opened = ((cust.created_at[:, None] <= month_start[None, :] + 27)
              & (month_start[None, :] <= gone[:, None]))
    account = (cust.segment <= 1)[:, None]
    per_drop = 3000 * REGION_LOGISTICS[cust.region][:, None]
    logistics = drops * per_drop
    service = np.where(account & opened, rng.uniform(30_000, 120_000, (n, 1)), drops * 800)
    visits = rng.poisson(2.0, (n, months))
    sales = np.where(account & opened, visits * 22_000,
                     drops * (1 - cust.web_share[:, None]) * 900)
    credit = np.where(cust.days_late[:, None] > 10,
                      np.maximum(revenue, 0) * 0.012 * cust.days_late[:, None] / 30, 0)
    support = np.where((rng.random((n, months)) < 0.06) & opened,
                       rng.uniform(8_000, 60_000, (n, months)), 0)
    amounts = np.stack([logistics, service, sales, credit, support])  # kind x customer x month
    amounts = np.round(amounts).astype(np.int64)
    kind, row, month = np.nonzero(amounts > 0)
    # Rows ordered by month, then customer, then kind, as a monthly ERP export would be.
    order = np.lexsort((kind, row, month))
    kind, row, month = kind[order], row[order], month[order]
    labels = A.month_labels(tot.first_month, months)
    writer.write({
        "customer_id": A.ids("C", row + 1, plan.cid_width),
        "period": A.pick(labels, month),
        "grain": A.pick(["month"], np.zeros(len(row), dtype=np.int64)),
        "kind": A.pick(KINDS, kind),
        "amount": A.money(amounts[kind, row, month]),
    })
    return np.asarray(amounts.sum(axis=(0, 2)), dtype=np.int64)
