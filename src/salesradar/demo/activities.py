"""Activities (calls, meetings, emails, tasks) and the contacts at each customer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.demo import _arrow as A
from salesradar.demo._arrow import BoolArray, IntArray
from salesradar.demo.catalog import FIRST_NAMES, SURNAMES, Plan, Reps
from salesradar.demo.crm import DAY, Pipeline, _optional_ids, business_seconds, to_workday
from salesradar.demo.customers import Customers

KINDS = ("call", "meeting", "email", "task")
OUTCOMES = ("answered", "no_answer", "held", "cancelled", "sent", "done")
LEVELS = ("executive", "finance", "operations", "end_user", "other")
ANSWER_RATE = np.array([0.5, 0.65, 0.55, 0.3])  # by lead source: cold calls are answered less


class _Acts:
    """Activity rows collected from several generators, concatenated at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, IntArray]] = []

    def add(self, kind: IntArray, rep: IntArray, customer: IntArray, lead: IntArray,
            deal: IntArray, at: IntArray, outcome: IntArray, duration: IntArray) -> None:
        self.parts.append({"kind": kind, "rep": rep, "customer": customer, "lead": lead,
                           "deal": deal, "at": at, "outcome": outcome, "duration": duration})

    def merged(self) -> dict[str, IntArray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _working_time(at: IntArray, rng: np.random.Generator) -> IntArray:
    """The same day (or the next working day) at a random time within office hours."""
    return np.asarray(to_workday(at // DAY) * DAY + business_seconds(rng, len(at)),
                      dtype=np.int64)


def _calls(rng: np.random.Generator, answer_p: np.ndarray) -> tuple[IntArray, IntArray]:
    """Outcome (answered / no_answer) and duration in seconds of calls."""
    answered = rng.random(len(answer_p)) < answer_p
    duration = np.where(answered, rng.lognormal(np.log(200), 0.7, len(answer_p)),
                        rng.integers(0, 30, len(answer_p)))
    return np.where(answered, 0, 1), np.round(duration).astype(np.int64)


def write_activities(plan: Plan, reps: Reps, cust: Customers, pipe: Pipeline,
                     writer: A.TableWriter, rng: np.random.Generator) -> IntArray:
    """Lead follow-up, deal work and key-account coverage; returns each customer's last
    activity time (seconds, -1 if none), for the contacts table."""
    end_s = (plan.end + 1) * DAY - 1
    acts = _Acts()
    none = np.int64(-1)
    # Leads: a first call at the first-contact time, then follow-up calls and emails.
    leads = np.flatnonzero(pipe.lead_contacted)
    tries = 1 + rng.poisson(1.2, len(leads))
    lead = np.repeat(leads, tries)
    k = np.arange(len(lead)) - np.repeat(np.cumsum(tries) - tries, tries)
    gap = (rng.exponential(1.5, len(lead)) * DAY * (k > 0)).astype(np.int64)
    run = np.cumsum(gap)
    at = pipe.first_contact[lead] + run - np.repeat(run[np.cumsum(tries) - tries], tries)
    # Follow-ups happen in office hours, never before the first contact.
    at = np.where(k > 0, np.maximum(_working_time(at, rng), pipe.first_contact[lead]), at)
    outcome, duration = _calls(rng, ANSWER_RATE[pipe.lead_source[lead]])
    is_email = (k > 0) & (rng.random(len(lead)) < 0.3)
    kind = np.where(is_email, 2, 0)
    outcome = np.where(is_email, 4, outcome)
    duration = np.where(is_email, 0, duration)
    n = len(lead)
    # Lead work happens before the lead is a customer, so it names no customer.
    acts.add(kind, pipe.lead_owner[lead], np.full(n, none), lead, np.full(n, none), at,
             outcome, duration)
    # A meeting before each inbound deal is created.
    conv = np.flatnonzero(pipe.lead_deal >= 0)
    deal = pipe.lead_deal[conv]
    m_at = np.maximum(pipe.deal_created[deal] - rng.integers(600, 2 * 3600, len(conv)),
                      pipe.first_contact[conv])
    acts.add(np.ones(len(conv), np.int64), pipe.lead_owner[conv], np.full(len(conv), none),
             conv, deal, m_at, np.full(len(conv), 2), rng.integers(1800, 5400, len(conv)))
    # Deal work between creation and close: calls, emails, meetings and tasks.
    n_deals = len(pipe.deal_created)
    per = rng.poisson(np.where(pipe.deal_pipeline == 0, 3.0, 7.0))
    d = np.repeat(np.arange(n_deals), per)
    stop = np.minimum(pipe.deal_close[d], end_s)
    at = _working_time(pipe.deal_created[d] + (rng.random(len(d)) * np.maximum(
        stop - pipe.deal_created[d], 0)).astype(np.int64), rng)
    kind = rng.choice(4, len(d), p=[0.4, 0.2, 0.3, 0.1])
    outcome, duration = _calls(rng, np.full(len(d), 0.6))
    outcome = np.select([kind == 1, kind == 2, kind == 3], [2 + (rng.random(len(d)) < 0.1),
                        np.full(len(d), 4), np.full(len(d), 5)], outcome)
    duration = np.select([kind == 1, kind >= 2], [rng.integers(1800, 5400, len(d)),
                         np.zeros(len(d), np.int64)], duration)
    acts.add(kind, pipe.deal_owner[d], pipe.deal_customer[d], np.full(len(d), none), d, at,
             outcome, duration)
    # Key-account coverage: visits and calls by the account manager, about twice a month.
    acc = np.flatnonzero(cust.segment <= 1)
    per = rng.poisson(plan.days / 15, len(acc))
    c = np.repeat(acc, per)
    day = to_workday(plan.start + rng.integers(0, plan.days, len(c)))
    day = np.minimum(day, plan.end)
    at = day * DAY + business_seconds(rng, len(c))
    rep = np.where((cust.rep[c] == reps.successor) & (day < reps.handover), reps.leaver,
                   cust.rep[c])
    kind = rng.choice(3, len(c), p=[0.5, 0.35, 0.15])
    outcome, duration = _calls(rng, np.full(len(c), 0.7))
    outcome = np.where(kind == 1, 2, np.where(kind == 2, 4, outcome))
    duration = np.where(kind == 1, rng.integers(1800, 7200, len(c)),
                        np.where(kind == 2, 0, duration))
    acts.add(kind, rep, c, np.full(len(c), none), np.full(len(c), none), at, outcome, duration)

    r = acts.merged()
    keep = r["at"] <= end_s
    r = {k: v[keep] for k, v in r.items()}
    order = np.lexsort((r["rep"], r["at"]))
    r = {k: v[order] for k, v in r.items()}
    lead_number = np.empty(len(pipe.lead_created), dtype=np.int64)
    lead_number[np.argsort(pipe.lead_created, kind="stable")] = np.arange(len(lead_number))
    lead_ref = np.where(r["lead"] >= 0, lead_number[np.maximum(r["lead"], 0)], -1)
    writer.write({
        "activity_id": A.ids("A", np.arange(len(r["at"])) + 1, 7),
        "kind": A.pick(KINDS, r["kind"]),
        "rep_id": reps.ids.take(r["rep"]),
        "customer_id": _optional_ids("C", r["customer"], plan.cid_width),
        "lead_id": _optional_ids("L", lead_ref, 6),
        "deal_id": _optional_ids("D", r["deal"], 6),
        "at": A.timestamps(r["at"]),
        "outcome": A.pick(OUTCOMES, r["outcome"]),
        "duration_s": r["duration"].astype(np.float64),
    })
    last = np.full(plan.customers, -1, dtype=np.int64)
    has = r["customer"] >= 0
    np.maximum.at(last, r["customer"][has], r["at"][has])
    return last


def write_contacts(plan: Plan, cust: Customers, last_activity: IntArray,
                   writer: A.TableWriter, rng: np.random.Generator) -> BoolArray:
    """Contacts by level; ~25% of strategic accounts are planted single-threaded.

    Returns the planted single-threaded customers (strategic, exactly one contact).
    """
    n = plan.customers
    strategic = cust.segment <= 1
    single = strategic & (rng.random(n) < 0.25)
    single[cust.whales[:1]] = True  # the biggest customer hangs on one relationship
    count = np.where(strategic, 2 + rng.poisson(2.5, n), 1 + rng.poisson(0.6, n))
    count = np.where(single, 1, count)
    owner = np.repeat(np.arange(n), count)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    # The first contact is the buyer: operations at big accounts, the owner at small ones.
    level = np.where(k == 0, np.where(strategic[owner], 2, 0),
                     rng.choice(5, len(owner), p=[0.25, 0.25, 0.2, 0.2, 0.1]))
    first = rng.integers(0, len(FIRST_NAMES), len(owner))
    last = rng.integers(0, len(SURNAMES), len(owner))
    first_a, last_a = A.pick(FIRST_NAMES, first), A.pick(SURNAMES, last)
    names = pc.binary_join_element_wise(first_a, last_a, " ")
    domain = pc.replace_substring(pc.utf8_lower(cust.names.take(owner)), " ", "")
    local = pc.replace_substring(pc.utf8_lower(names), " ", ".")
    email = pc.binary_join_element_wise(local, pc.binary_join_element_wise(domain, "co.il", "."),
                                        "@")
    has_email = rng.random(len(owner)) > 0.1
    end_s = (plan.end + 1) * DAY - 1
    seen_day = to_workday(plan.end - rng.exponential(90, len(owner)).astype(np.int64))
    seen = np.minimum(seen_day * DAY + business_seconds(rng, len(owner)), end_s)
    seen = np.where((k == 0) & (last_activity[owner] >= 0), last_activity[owner],
                    np.minimum(seen, np.where(last_activity[owner] >= 0,
                                              last_activity[owner], seen)))
    seen_valid = (rng.random(len(owner)) > 0.15) | ((k == 0) & (last_activity[owner] >= 0))
    writer.write({
        "contact_id": A.ids("P", np.arange(len(owner)) + 1, 6),
        "customer_id": A.ids("C", owner + 1, plan.cid_width),
        "name": names,
        "level": A.pick(LEVELS, level),
        "email": pc.if_else(pa.array(has_email), email, pa.scalar(None, pa.string())),
        "phone": A.phones(np.arange(len(owner)) + 1, valid=np.arange(len(owner)) % 7 != 3),
        "last_activity_at": A.timestamps(seen, valid=seen_valid),
    })
    return np.asarray(strategic & (count == 1), dtype=np.bool_)
