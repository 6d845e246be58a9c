"""The master tables: reps, products and customers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import IntArray
from salesradar.demo.catalog import (
    CATEGORIES,
    INDUSTRIES,
    NEVER,
    REGIONS,
    TEAMS,
    Plan,
    Products,
    Reps,
    cost_factor,
    price_factor,
    product_names,
)
from salesradar.demo.crm import _optional_ids
from salesradar.demo.customers import SEGMENTS, Customers

DOMAIN = "galil-distribution.co.il"


def write_reps(reps: Reps, writer: A.TableWriter) -> None:
    """Reps with their team, manager, role, operating model and dates."""
    n = len(reps.team)
    local = pc.replace_substring(pc.utf8_lower(reps.names), " ", ".")
    email = pc.binary_join_element_wise(local, pa.array([DOMAIN] * n), "@")
    model = np.where(reps.team == 1, 0, 1)
    writer.write({
        "rep_id": reps.ids,
        "name": reps.names,
        "email": email,
        "team": A.pick(TEAMS, reps.team),
        "manager_id": _optional_ids("R", reps.manager, 2 if n < 100 else 3),
        "role": pa.array(reps.role, pa.string()),
        "model": A.pick(("centre", "account"), model, valid=reps.team > 0),
        "active_from": A.dates(reps.active_from),
        "active_to": A.dates(np.maximum(reps.active_to, 0), valid=reps.active_to >= 0),
    })


def write_products(plan: Plan, products: Products, writer: A.TableWriter) -> None:
    """The catalogue with today's list price and standard cost."""
    n = len(products.category)
    at = np.minimum(products.discontinued_at, plan.end)
    eroding = products.category == products.eroding
    writer.write({
        "sku": A.ids("SKU-", np.arange(n) + 1, plan.sku_width),
        "name": product_names(products),
        "category": A.pick(CATEGORIES, products.category),
        "unit_cost": A.money(np.round(products.base_cost * cost_factor(at, plan, eroding)
                                      * 100).astype(np.int64)),
        "list_price": A.money(np.round(products.base_price * price_factor(at, plan)
                                       * 100).astype(np.int64)),
        "active": pa.array(products.discontinued_at >= NEVER),
    })


def write_customers(plan: Plan, reps: Reps, cust: Customers, revenue: IntArray,
                    writer: A.TableWriter, rng: np.random.Generator) -> None:
    """Customer master; ``potential`` (annual wallet) is known for about 70% of them."""
    n = plan.customers
    years = plan.days / 365.25
    yearly = np.maximum(revenue / 100.0 / years, 5_000.0)
    potential = np.round(yearly / rng.uniform(0.3, 0.9, n), -3) * 100
    writer.write({
        "customer_id": A.ids("C", np.arange(n) + 1, plan.cid_width),
        "name": cust.names,
        "rep_id": reps.ids.take(cust.rep),
        "industry": A.pick(INDUSTRIES, cust.industry),
        "region": A.pick(REGIONS, cust.region),
        "segment": A.pick(SEGMENTS, cust.segment),
        "created_at": A.dates(cust.created_at),
        "potential": pc.if_else(pa.array(rng.random(n) < 0.7), A.money(potential.astype(
            np.int64)), pa.scalar(None, A.MONEY_TYPE)),
    })
