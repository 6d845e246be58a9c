"""Contact coverage: who we know at each account, by level, and which strategic accounts are thin.

A relationship that hangs on one person ends when that person leaves; a strategic account where we
do not know an executive is negotiated from below. So for every *strategic* account (tiers A and B
by default: the accounts that get an account plan):

* ``no_contact`` -- not a single contact on record;
* ``single_contact`` -- exactly one contact;
* ``no_executive`` -- no contact at the ``executive`` level.

Counts are by level (executive, finance, operations, end user, other) and ``recent`` counts the
contacts with an activity in the last ``recent_days`` days. All of it is one Ibis query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis

from salesradar.accounts.common import tiers_as_of
from salesradar.metrics import plain_rows
from salesradar.workspace import data_day

LEVELS = ("executive", "finance", "operations", "end_user", "other")
FLAGS = ("no_contact", "single_contact", "no_executive")
FLAG_TEXT = {
    "no_contact": ("no contact on record", "אין אף איש קשר"),
    "single_contact": ("one contact only: the relationship hangs on one person",
                       "איש קשר אחד בלבד: הקשר תלוי באדם אחד"),
    "no_executive": ("no executive contact", "אין איש קשר בדרג בכיר"),
}


def contact_coverage(
    ws: Any,
    *,
    tiers: Sequence[str] = ("A", "B"),
    as_of: dt.date | None = None,
    recent_days: int = 90,
    flagged_only: bool = False,
) -> list[dict[str, Any]]:
    """Contacts by level per account of ``tiers``, with the flags of the module docstring.

    Returns rows ``customer_id, name, rep_id, tier, contacts, <one count per level>, recent,
    levels, flags, flags_en, flags_he``, flagged accounts first, then by tier and customer.
    """
    day = as_of or data_day(ws)
    tier_rows = [{"customer_id": c, "tier": r["tier"]} for c, r in tiers_as_of(ws).items()
                 if r["tier"] in tiers]
    if not tier_rows:
        return []
    accounts = ibis.memtable(tier_rows)
    contacts = ws.table("contacts")
    since = ibis.timestamp(dt.datetime.combine(day - dt.timedelta(days=recent_days), dt.time()))

    def count_if(condition: Any) -> Any:
        return ibis.ifelse(condition.fill_null(False), 1, 0).sum()

    per = contacts.group_by("customer_id").aggregate(
        contacts=contacts.count(),
        recent=count_if(contacts.last_activity_at >= since),
        **{level: count_if(contacts.level == level) for level in LEVELS},
    )
    j = accounts.left_join(per, accounts.customer_id == per.customer_id)
    j = j.select(accounts.customer_id, accounts.tier, *(
        j[c].fill_null(0).name(c) for c in ("contacts", "recent", *LEVELS)))
    j = j.mutate(
        no_contact=j.contacts == 0,
        single_contact=j.contacts == 1,
        no_executive=j.executive == 0,
        levels=sum((ibis.ifelse(j[level] > 0, 1, 0) for level in LEVELS[:4]),
                   ibis.literal(0)),
    )
    cust = ws.table("customers").select("customer_id", "name", "rep_id")
    j = j.left_join(cust, j.customer_id == cust.customer_id).drop("customer_id_right")
    j = j.mutate(_flagged=j.no_contact | j.single_contact | j.no_executive)
    if flagged_only:
        j = j.filter(j._flagged)
    rows = plain_rows(j.order_by([ibis.desc("_flagged"), "tier", "customer_id"]).to_pyarrow())
    for row in rows:  # one row per account: the words of its flags
        flags = [f for f in FLAGS if row.pop(f)]
        row.pop("_flagged")
        row["flags"] = flags
        row["flags_en"] = "; ".join(FLAG_TEXT[f][0] for f in flags)
        row["flags_he"] = "; ".join(FLAG_TEXT[f][1] for f in flags)
    return rows
