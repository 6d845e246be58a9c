"""CRM pipeline: inbound leads, deals of both teams and each deal's stage history.

The inbound funnel is built backwards from the customers opened during the history (each one
is a won inbound deal closed on its opening day) plus the leads and deals that did not make
it, so that lead-source quality (lead-to-deal and win rates) differs by source as planted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import BoolArray, FloatArray, IntArray
from salesradar.demo.catalog import Plan, Reps
from salesradar.demo.customers import Customers

DAY = 86_400
SOURCES = ("web", "referral", "trade_show", "cold")
SOURCE_SHARE = np.array([0.45, 0.15, 0.15, 0.25])
SOURCE_TO_DEAL = np.array([0.15, 0.40, 0.20, 0.06])
SOURCE_WIN = np.array([0.35, 0.55, 0.30, 0.25])
UNCONTACTED = 0.06  # share of leads nobody ever calls (0.2 for the slow rep)
INBOUND_STAGES = ("new", "qualified", "proposal")
ACCOUNT_STAGES = ("discovery", "qualification", "proposal", "negotiation")
PIPELINES = ("Inbound", "Key Accounts")
LOST_REASONS = ("price", "competitor", "no_decision", "timing", "no_budget")


def business_seconds(rng: np.random.Generator, n: int) -> IntArray:
    """Times of day within working hours (08:00-18:00), in seconds."""
    return np.asarray(8 * 3600 + rng.integers(0, 10 * 3600, n), dtype=np.int64)


def to_workday(days: IntArray) -> IntArray:
    """Move Fridays and Saturdays to the next Sunday (1970-01-01 was a Thursday)."""
    weekday = (days + 4) % 7  # 0 = Sunday
    return np.asarray(days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0)),
                      dtype=np.int64)


@dataclass
class Pipeline:
    """Leads and deals; times are seconds since the epoch, deal rows sorted by creation."""

    lead_created: IntArray
    lead_source: IntArray
    lead_owner: IntArray
    lead_deal: IntArray  # deal row or -1
    lead_customer: IntArray  # customer row or -1
    lead_contacted: BoolArray
    first_contact: IntArray  # seconds; for contacted leads
    deal_customer: IntArray  # -1 for a prospect
    deal_owner: IntArray
    deal_pipeline: IntArray
    deal_created: IntArray
    deal_close: IntArray  # seconds: actual (closed) or expected (open)
    deal_outcome: IntArray  # 0 open, 1 won, 2 lost
    deal_stage: IntArray  # index of the current stage; -1 = closed won, -2 = closed lost
    deal_amount: IntArray  # agorot
    deal_reached: IntArray  # stages entered before closing (or so far, when open)
    deal_lost_reason: IntArray
    deal_source: IntArray  # lead source, -1 for account deals


def new_customer_days(plan: Plan, count: int, rng: np.random.Generator) -> IntArray:
    """Opening days of the customers won during the history (working days)."""
    days = plan.start + 20 + rng.integers(0, max(plan.days - 50, 1), count)
    return np.sort(to_workday(days))


def build_pipeline(plan: Plan, reps: Reps, cust: Customers, rng: np.random.Generator
                   ) -> Pipeline:
    """Inbound funnel (leads and Inbound deals) and the Key Accounts deals."""
    end_s = (plan.end + 1) * DAY - 1
    new_rows = np.flatnonzero(cust.new)
    n_won = len(new_rows)
    won_p = SOURCE_SHARE * SOURCE_TO_DEAL * SOURCE_WIN
    n_leads = max(round(n_won / won_p.sum()), n_won + 10)
    # Leads that became won deals: one per new customer.
    w_src = rng.choice(4, n_won, p=won_p / won_p.sum())
    w_close = cust.created_at[new_rows] * DAY + business_seconds(rng, n_won)
    w_cycle = (rng.gamma(2.0, 9.0, n_won) * DAY).astype(np.int64)
    w_lag = (rng.gamma(1.5, 2.0, n_won) * DAY).astype(np.int64) + 3600
    w_deal = w_close - w_cycle
    w_lead = w_deal - w_lag
    w_owner = np.where(np.isin(cust.rep[new_rows], reps.centre), cust.rep[new_rows],
                       rng.choice(reps.centre, n_won))
    # The other leads: some became deals that were lost or are still open, most did not.
    n_other = n_leads - n_won
    o_p = SOURCE_SHARE * (1 - SOURCE_TO_DEAL * SOURCE_WIN)
    o_src = rng.choice(4, n_other, p=o_p / o_p.sum())
    o_lead = (to_workday(plan.start + rng.integers(0, plan.days, n_other)) * DAY
              + business_seconds(rng, n_other))
    deal_p = SOURCE_TO_DEAL * (1 - SOURCE_WIN) / (1 - SOURCE_TO_DEAL * SOURCE_WIN)
    o_lag = (rng.gamma(1.5, 2.0, n_other) * DAY).astype(np.int64) + 3600
    o_has = (rng.random(n_other) < deal_p[o_src]) & (o_lead + o_lag < end_s)
    o_owner = rng.choice(reps.centre, n_other)
    o_deal = o_lead + o_lag
    o_close = o_deal + (rng.gamma(2.0, 9.0, n_other) * DAY).astype(np.int64)

    lead_created = np.concatenate([w_lead, o_lead])
    lead_source = np.concatenate([w_src, o_src])
    lead_owner = np.concatenate([w_owner, o_owner])
    lead_customer = np.concatenate([new_rows, np.full(n_other, -1)])
    has_deal = np.concatenate([np.ones(n_won, bool), o_has])
    # Inbound deals, in the same lead order for now.
    i_created = np.concatenate([w_deal, o_deal])[has_deal]
    i_close = np.concatenate([w_close, o_close])[has_deal]
    i_outcome = np.concatenate([np.ones(n_won, np.int64), np.where(o_close > end_s, 0, 2)]
                               )[has_deal]
    i_customer = lead_customer[has_deal]
    i_owner = lead_owner[has_deal]
    i_source = lead_source[has_deal]
    i_amount = np.round(rng.lognormal(np.log(12_000), 0.7, len(i_created)), -2) * 100

    # Key Accounts deals: expansions and renewals with the big customers.
    acc = np.flatnonzero(cust.segment <= 1)
    per = rng.poisson(plan.days / 120, len(acc))
    a_customer = np.repeat(acc, per)
    a_created = ((plan.start + rng.integers(-60, plan.days, len(a_customer))) * DAY
                 + business_seconds(rng, len(a_customer)))
    a_created = to_workday(a_created // DAY) * DAY + a_created % DAY
    a_close = a_created + (rng.gamma(2.5, 24.0, len(a_customer)) * DAY).astype(np.int64)
    a_outcome = np.where(a_close > end_s, 0, np.where(rng.random(len(a_customer)) < 0.45, 1, 2))
    day = a_created // DAY
    a_owner = np.where((cust.rep[a_customer] == reps.successor) & (day < reps.handover),
                       reps.leaver, cust.rep[a_customer])
    monthly = np.maximum(cust.size[a_customer], 0.2) * 40_000
    a_amount = np.round(monthly * rng.lognormal(0, 0.6, len(a_customer)), -2) * 100

    created = np.concatenate([i_created, a_created])
    order = np.argsort(created, kind="stable")
    n_i = len(i_created)
    n_deals = len(created)
    deal_of_lead = np.full(n_leads, -1, dtype=np.int64)
    rank = np.empty(n_deals, dtype=np.int64)
    rank[order] = np.arange(n_deals)
    deal_of_lead[np.flatnonzero(has_deal)] = rank[:n_i]

    def cat(a: IntArray | FloatArray, b: IntArray | FloatArray) -> IntArray:
        return np.asarray(np.concatenate([a, b])[order]).astype(np.int64)

    pipeline = cat(np.zeros(n_i, np.int64), np.ones(len(a_created), np.int64))
    outcome = cat(i_outcome, a_outcome)
    close = cat(i_close, a_close)
    created = created[order]
    n_stages = np.where(pipeline == 0, len(INBOUND_STAGES), len(ACCOUNT_STAGES))
    # Open deals sit in a stage that depends on their age; lost ones dropped out somewhere.
    age = np.clip((end_s - created) / np.maximum(close - created, 1), 0, 0.99)
    reached = np.where(outcome == 1, n_stages,
                       np.where(outcome == 2, 1 + rng.integers(0, 1 << 20, n_deals) % n_stages,
                                1 + (age * n_stages).astype(np.int64)))
    stage = np.where(outcome == 1, -1, np.where(outcome == 2, -2, reached - 1))
    source = cat(i_source, np.full(len(a_created), -1))
    reason_p = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    lost_reason = rng.choice(len(LOST_REASONS), n_deals, p=reason_p)

    lead_deal_created = np.concatenate([w_deal, o_deal])
    contacted, first = _first_contacts(plan, reps, lead_created, lead_owner, has_deal,
                                       lead_deal_created, rng)
    return Pipeline(lead_created, lead_source, lead_owner, deal_of_lead, lead_customer,
                    contacted, first, cat(i_customer, a_customer), cat(i_owner, a_owner),
                    pipeline, created, close, outcome, stage, cat(i_amount, a_amount), reached,
                    lost_reason, source)


def _first_contacts(plan: Plan, reps: Reps, created: IntArray, owner: IntArray,
                    has_deal: BoolArray, deal_created: IntArray, rng: np.random.Generator
                    ) -> tuple[BoolArray, IntArray]:
    """Which leads were ever contacted and when: minutes to hours, the slow rep days.

    A lead that became a deal was necessarily contacted, before its deal was created.
    """
    n = len(created)
    slow = owner == reps.slow
    never = rng.random(n) < np.where(slow, 0.2, UNCONTACTED)
    contacted = has_deal | ~never
    median = np.where(slow, 20 * 3600.0, 1.5 * 3600.0)
    delay = np.minimum(rng.lognormal(np.log(median), 1.0), 10 * DAY).astype(np.int64) + 60
    first = created + delay
    first = np.where(has_deal, np.maximum(np.minimum(first, deal_created - 600), created + 60),
                     first)
    # Leads that arrive in the last hours of the history may simply not be reached yet.
    end_s = (plan.end + 1) * DAY - 1
    contacted &= first <= end_s
    return contacted, first


def _lead_people(n: int) -> dict[str, pa.Array]:
    """Who asked, for the ``n`` leads: name, company, phone and e-mail, a fixed function of the
    lead's number (no random draw, so the rest of the company stays as it was)."""
    from salesradar.demo.catalog import FIRST_NAMES, SURNAMES

    k = np.arange(n, dtype=np.int64)
    first = A.pick(FIRST_NAMES, (k * 5) % len(FIRST_NAMES))
    last = A.pick(SURNAMES, (k * 11 + 3) % len(SURNAMES))
    house = A.pick(SURNAMES, (k * 13 + 7) % len(SURNAMES))
    company = pc.binary_join_element_wise(house, A.pick(_LEAD_TRADES, k % len(_LEAD_TRADES)),
                                          " ")
    local = pc.utf8_lower(pc.binary_join_element_wise(first, last, "."))
    domain = pc.binary_join_element_wise(pc.utf8_lower(house), "co.il", ".")
    return {"name": pc.binary_join_element_wise(first, last, " "), "company": company,
            "phone": A.phones(k + 100_003),
            "email": pc.binary_join_element_wise(local, domain, "@")}


_LEAD_TRADES = ("Market", "Catering", "Hotels", "Kiosk", "Cafe", "Foods")


def write_pipeline(pipe: Pipeline, reps: Reps, plan: Plan, out: dict[str, A.TableWriter],
                   rng: np.random.Generator) -> None:
    """Write leads, deals and deal_stage_history."""
    n_leads, n_deals = len(pipe.lead_created), len(pipe.deal_created)
    lead_order = np.argsort(pipe.lead_created, kind="stable")
    status = np.where(pipe.lead_deal >= 0, 0, np.where(~pipe.lead_contacted, 1,
                      np.where(pipe.lead_created > (plan.end - 14) * DAY, 2, 3)))
    lo = lead_order
    out["leads"].write({
        "lead_id": A.ids("L", np.arange(n_leads) + 1, 6),
        "created_at": A.timestamps(pipe.lead_created[lo]),
        "source": A.pick(SOURCES, pipe.lead_source[lo]),
        "owner_rep_id": reps.ids.take(pipe.lead_owner[lo]),
        "status": A.pick(("converted", "new", "working", "disqualified"), status[lo]),
        "deal_id": _optional_ids("D", pipe.lead_deal[lo], 6),
        "customer_id": _optional_ids("C", pipe.lead_customer[lo], plan.cid_width),
        **_lead_people(n_leads),
    })
    stage_names = _stage_names(pipe)
    forecast = np.where(pipe.deal_outcome == 1, 0, np.where(pipe.deal_outcome == 2, 1,
                        np.where(pipe.deal_reached >= _n_stages(pipe), 2,
                                 np.where(pipe.deal_reached >= _n_stages(pipe) - 1, 3, 4))))
    out["deals"].write({
        "deal_id": A.ids("D", np.arange(n_deals) + 1, 6),
        "customer_id": _optional_ids("C", pipe.deal_customer, plan.cid_width),
        "owner_rep_id": reps.ids.take(pipe.deal_owner),
        "pipeline": A.pick(PIPELINES, pipe.deal_pipeline),
        "stage": stage_names,
        "amount": A.money(pipe.deal_amount),
        "created_at": A.dates(pipe.deal_created // DAY),
        "close_date": A.dates(pipe.deal_close // DAY),
        "outcome": A.pick(("open", "won", "lost"), pipe.deal_outcome),
        "forecast_category": A.pick(("closed", "omitted", "commit", "best_case", "pipeline"),
                                    forecast),
        "lost_reason": A.pick(LOST_REASONS, pipe.deal_lost_reason,
                              valid=pipe.deal_outcome == 2),
    })
    # One history row per stage entered, plus the closing stage of closed deals.
    closed = pipe.deal_outcome > 0
    rows = pipe.deal_reached + closed
    deal = np.repeat(np.arange(n_deals), rows)
    k = np.arange(len(deal)) - np.repeat(np.cumsum(rows) - rows, rows)
    last = np.minimum(np.where(closed, pipe.deal_close, (plan.end + 1) * DAY - 1),
                      (plan.end + 1) * DAY - 1)
    span = np.maximum(last - pipe.deal_created, 1)
    frac = np.where(k == 0, 0.0, (k + rng.uniform(-0.3, 0.3, len(k))) / (rows[deal] + 0.5))
    at = pipe.deal_created[deal] + (np.clip(frac, 0, 1) * span[deal]).astype(np.int64)
    is_close = closed[deal] & (k == rows[deal] - 1)
    at = np.where(is_close, pipe.deal_close[deal], at)
    # Stages never go back in time: a running maximum within each deal.
    at = np.maximum.accumulate(at + deal * (1 << 40)) - deal * (1 << 40)
    pipe_of = pipe.deal_pipeline[deal]
    names = np.where(pipe_of == 0, k, len(INBOUND_STAGES) + k)
    names = np.where(is_close, np.where(pipe.deal_outcome[deal] == 1, 7, 8), names)
    all_names = (*INBOUND_STAGES, *ACCOUNT_STAGES, "closed_won", "closed_lost")
    keep = at <= (plan.end + 1) * DAY - 1
    out["deal_stage_history"].write({
        "deal_id": A.ids("D", deal[keep] + 1, 6),
        "stage": A.pick(all_names, names[keep]),
        "entered_at": A.timestamps(at[keep]),
    })


def _n_stages(pipe: Pipeline) -> IntArray:
    return np.where(pipe.deal_pipeline == 0, len(INBOUND_STAGES), len(ACCOUNT_STAGES))


def _stage_names(pipe: Pipeline) -> pa.Array:
    all_names = (*INBOUND_STAGES, *ACCOUNT_STAGES, "closed_won", "closed_lost")
    idx = np.where(pipe.deal_pipeline == 0, pipe.deal_stage,
                   len(INBOUND_STAGES) + pipe.deal_stage)
    idx = np.where(pipe.deal_stage == -1, 7, np.where(pipe.deal_stage == -2, 8, idx))
    return A.pick(all_names, idx)


def _optional_ids(prefix: str, rows: IntArray, width: int) -> pa.Array:
    """Ids for rows >= 0, empty values for -1."""
    valid = rows >= 0
    return pc.if_else(pa.array(valid), A.ids(prefix, np.maximum(rows, 0) + 1, width),
                      pa.nulls(len(rows), pa.string()))
