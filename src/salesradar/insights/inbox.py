"""The inbox of a person: what to do first, grouped by customer, a page at a time, with the trail.

Order (:func:`order`): lead alerts that can still be saved (past their SLA by less than
:data:`WARM_DAYS`) come first, the one due earliest on top; then everything else by priority
(value at stake × urgency, :func:`salesradar.insights.generate.priority`), then value; leads too
old to call (:data:`STALE_LEAD_DAYS`) come last: they need re-qualifying, not a call. Insights of
the same customer are kept together (:func:`group`), in the place of the customer's first one.

Undo (:func:`undo`) moves an insight back to the status it had before the person's last move,
within :data:`UNDO_MINUTES` and only when that move is still the latest event.

>>> rows = [{"id": 1, "kind": "churn_risk", "subject_id": "C1", "priority": 40,
...          "value_at_stake": 900.0, "evidence": {"customer_id": "C1"}},
...         {"id": 2, "kind": "lead_not_contacted", "subject_id": "L1", "priority": 30,
...          "value_at_stake": 50.0, "evidence": {"created_at": "2026-11-01 10:00:00",
...          "sla_hours": 24, "age_hours": 30}},
...         {"id": 3, "kind": "cross_sell", "subject_id": "C1/S9", "priority": 20,
...          "value_at_stake": 100.0, "evidence": {"customer_id": "C1"}}]
>>> [r["id"] for r in group(order(rows))]
[2, 1, 3]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from salesradar.access import Scope, visible_insight
from salesradar.errors import UserInputError
from salesradar.insights.texts import STALE_LEAD_DAYS

LEAD = "lead_not_contacted"
WARM_DAYS = 7  # a lead past its SLA by less than this can still be saved: first in the inbox
UNDO_MINUTES = 15
__all__ = ["STALE_LEAD_DAYS", "group", "order", "page_of", "trail", "undo"]


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            found = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    return None


def lead_due(insight: dict[str, Any]) -> dt.datetime | None:
    """When a lead alert fell due: the lead's creation plus its SLA (None for other kinds)."""
    if insight.get("kind") != LEAD:
        return None
    e = insight.get("evidence") or {}
    created = _time(e.get("created_at"))
    if created is None or e.get("sla_hours") is None:
        return None
    return created + dt.timedelta(hours=float(e["sla_hours"]))


def lead_age_days(insight: dict[str, Any]) -> float | None:
    """A lead alert's lead age in days when it was last found (None for other kinds)."""
    if insight.get("kind") != LEAD:
        return None
    hours = (insight.get("evidence") or {}).get("age_hours")
    return float(hours) / 24 if isinstance(hours, int | float) else None


def is_stale_lead(insight: dict[str, Any]) -> bool:
    age = lead_age_days(insight)
    return age is not None and age > STALE_LEAD_DAYS


def _bucket(insight: dict[str, Any]) -> int:
    if insight.get("kind") != LEAD:
        return 1
    if is_stale_lead(insight):
        return 2
    e = insight.get("evidence") or {}
    age, sla = e.get("age_hours"), e.get("sla_hours")
    if isinstance(age, int | float) and isinstance(sla, int | float):
        return 0 if age - sla <= WARM_DAYS * 24 else 1
    return 1


def order(insights: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``insights`` (dicts of :meth:`StoredInsight.to_dict`) in the order to work them."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)

    def key(i: dict[str, Any]) -> tuple[Any, ...]:
        bucket = _bucket(i)
        due = lead_due(i) or far
        if bucket == 1:
            return (1, -int(i.get("priority") or 0), -float(i.get("value_at_stake") or 0.0),
                    far, int(i["id"]))
        return (bucket, 0, 0.0, due, int(i["id"]))
    return sorted(insights, key=key)


def customer_of(insight: dict[str, Any]) -> str | None:
    """The customer an insight is about (None for reps, periods and unknown leads)."""
    e = insight.get("evidence") or {}
    if e.get("customer_id"):
        return str(e["customer_id"])
    if insight.get("subject_type") == "customer":
        return str(insight.get("subject_id") or "").partition("/")[0] or None
    return None


def group(ordered: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``ordered`` with each customer's insights together, where its first one stands."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for i in ordered:
        customer = customer_of(i)
        groups.setdefault(f"c:{customer}" if customer else f"i:{i['id']}", []).append(i)
    return [i for members in groups.values() for i in members]


def page_of(rows: Sequence[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    """One page (1-based, clamped to the last) of ``rows`` with the counts the page shows."""
    total = len(rows)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    start = (page - 1) * size
    shown = list(rows[start:start + size])
    return {"rows": shown, "total": total, "page": page, "pages": pages,
            "first": start + 1 if shown else 0, "last": start + len(shown)}


def trail(store: Any, insight_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Per insight, its status changes and the outcomes people logged, oldest first: ``at``,
    ``what`` (``status`` or ``outcome``), ``from``/``to`` or ``outcome``, ``note``, ``actor``."""
    from sqlalchemy import select

    from salesradar.app import InsightEvent
    from salesradar.app.rep_outcomes import logged

    out: dict[int, list[dict[str, Any]]] = {i: [] for i in insight_ids}
    if not insight_ids:
        return out
    with store.db.session() as s:
        query = (select(InsightEvent).where(InsightEvent.insight_id.in_(list(insight_ids)))
                 .order_by(InsightEvent.id))
        for e in s.scalars(query):
            out[e.insight_id].append({"at": e.at, "what": "status", "from": e.from_status,
                                      "to": e.to_status, "note": e.note})
    for insight_id, found in logged(store.db, insight_ids).items():
        out[insight_id] += [{"at": o.at, "what": "outcome", "outcome": o.outcome,
                             "note": o.note, "actor": o.actor} for o in found]
    for events in out.values():
        events.sort(key=lambda e: e["at"])
    return out


def undo(store: Any, scope: Scope, insight_id: int, *, note: str,
         at: dt.datetime | None = None) -> dict[str, Any]:
    """Move the insight back to the status it had before its latest change, when that change
    was a person's (not a run's) within the last :data:`UNDO_MINUTES`; else a
    :class:`UserInputError` saying why."""
    from sqlalchemy import select

    from salesradar.app import InsightEvent, InsightRow
    from salesradar.insights.model import Status
    from salesradar.insights.store import StoredInsight, add_event

    visible_insight(store, scope, insight_id)
    now = at or dt.datetime.now(dt.UTC)
    with store.db.session() as s:
        row = s.get(InsightRow, insight_id)
        last = s.scalar(select(InsightEvent).where(InsightEvent.insight_id == insight_id)
                        .order_by(InsightEvent.id.desc()).limit(1))
        if row is None or last is None or last.from_status is None:
            raise UserInputError("there is nothing to undo on this insight")
        if last.to_status not in ("acknowledged", "done", "dismissed", "snoozed") or (
                last.note or "").startswith("undo"):
            raise UserInputError("the last change of this insight was not a person's")
        if now - last.at > dt.timedelta(minutes=UNDO_MINUTES):
            raise UserInputError(f"a change can be undone for {UNDO_MINUTES} minutes only")
        if row.status == Status.SNOOZED.value:
            row.snoozed_until = None
        if row.status in (Status.SNOOZED.value, Status.DISMISSED.value):
            row.quiet_value = row.quiet_priority = None
        add_event(s, row, Status(last.from_status), now, note)
        return dict(StoredInsight.of(row).to_dict())
