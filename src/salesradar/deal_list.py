"""Open deals as a manager lists them in a CRM: age, days in the current stage, expected close,
and *slipped* (expected to close before the data day, still open).

Everything is counted up to ``as_of``, the company's data day (the dashboard's), so a list read
from an old export does not call every deal ancient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics import plain_rows
from salesradar.workspace import Workspace

SORTS = ("close_date", "age_days", "days_in_stage", "amount", "stage", "owner_rep_id",
         "customer_name", "deal_id")
COLUMNS = ("deal_id", "customer_id", "customer_name", "owner_rep_id", "pipeline", "stage",
           "amount", "created_at", "close_date", "age_days", "stage_since", "days_in_stage",
           "slipped", "forecast_category")


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None


def open_deals(ws: Workspace, as_of: dt.date, *, stage: str | None = None,
               rep: str | None = None, pipeline: str | None = None,
               slipped: bool | None = None, sort: str = "close_date",
               descending: bool = False) -> list[dict[str, Any]]:
    """The open deals of the (scoped) workspace ``ws`` created by ``as_of``, filtered and
    sorted as asked (``sort`` one of :data:`SORTS`); columns :data:`COLUMNS`."""
    if sort not in SORTS:
        raise UserInputError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    present = table_names(ws.backend)
    if "deals" not in present:
        return []
    d = ws.table("deals")
    d = d.filter((d.outcome.fill_null("open") == "open")
                 & (d.created_at.cast("date") <= ibis.date(as_of)))
    if stage:
        d = d.filter(d.stage == stage)
    if rep:
        d = d.filter(d.owner_rep_id == rep)
    if pipeline:
        d = d.filter(d.pipeline == pipeline)
    deals = plain_rows(d.to_pyarrow())
    entered: dict[tuple[str, str], Any] = {}
    if "deal_stage_history" in present and deals:
        h = ws.table("deal_stage_history")
        h = h.filter(h.entered_at.cast("date") <= ibis.date(as_of))
        last = h.group_by(["deal_id", "stage"]).aggregate(since=h.entered_at.max())
        entered = {(r["deal_id"], r["stage"]): r["since"] for r in plain_rows(last.to_pyarrow())}
    names: dict[str, str] = {}
    if "customers" in present and deals:
        c = ws.table("customers")
        names = {r["customer_id"]: r["name"] for r in plain_rows(
            c.select("customer_id", "name").to_pyarrow())}
    rows = []
    for deal in deals:
        created, close = _day(deal.get("created_at")), _day(deal.get("close_date"))
        since = _day(entered.get((str(deal["deal_id"]), str(deal.get("stage"))))) or created
        row = {
            "deal_id": deal["deal_id"], "customer_id": deal.get("customer_id"),
            "customer_name": names.get(deal.get("customer_id") or ""),
            "owner_rep_id": deal.get("owner_rep_id"), "pipeline": deal.get("pipeline"),
            "stage": deal.get("stage"),
            "amount": None if deal.get("amount") is None else float(deal["amount"]),
            "created_at": created, "close_date": close,
            "age_days": (as_of - created).days if created else None,
            "stage_since": since,
            "days_in_stage": (as_of - since).days if since else None,
            "slipped": close is not None and close < as_of,
            "forecast_category": deal.get("forecast_category"),
        }
        if slipped is None or row["slipped"] == slipped:
            rows.append(row)

    def key(r: dict[str, Any]) -> tuple[bool, Any, str]:
        value = r.get(sort)
        return (value is None, value if value is not None else 0, r["deal_id"])
    rows.sort(key=key, reverse=descending)
    if descending:  # unknown values stay last
        rows.sort(key=lambda r: r.get(sort) is None)
    return rows
