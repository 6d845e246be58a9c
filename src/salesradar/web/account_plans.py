"""Account plans and their actions from the customer 360: create the plan from the draft, edit
it, add an action, mark one done.

Allowed to whoever may see the customer (:func:`salesradar.access.require_customer` through the
caller's scope): admins, the customer's managers and the customer's own rep; anyone else gets
404, as for a customer that does not exist. Every change goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from salesradar.access import NotVisible, require_customer
from salesradar.api.auth import Caller, PageCaller, State, check_csrf
from salesradar.app import audit
from salesradar.errors import UserInputError
from salesradar.web import admin_texts as _texts  # noqa: F401  (registers the words)

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]
Csrf = Annotated[str, Form(max_length=200)]


def _allowed(caller: Caller, st: Any, customer_id: str, csrf_token: str) -> None:
    check_csrf(caller, csrf_token)
    with st.open(caller.scope) as ws:
        require_customer(ws, customer_id)


def _back(customer_id: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/customers/{quote(customer_id, safe='')}#plan", status_code=303)


def _money(text: str, what: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.replace(",", "").replace("₪", "").strip())
    except ValueError:
        raise UserInputError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UserInputError(f"{what} must be a finite number, got {text!r}")
    return value


@router.post("/customers/{customer_id}/plan")
def create_plan(request: Request, customer_id: str, caller: PageCaller, st: State,
                revenue_target: Text = "", any_tier: Text = "",
                csrf_token: Csrf = "") -> Response:
    """Store version 1 of the plan, drafted from the data (with the target, if typed)."""
    from salesradar.accounts import plans

    check_csrf(caller, csrf_token)
    lang = caller.user.lang
    with st.open(caller.scope) as ws:
        require_customer(ws, customer_id)
        if plans.current_plan(st.db, customer_id) is not None:
            raise UserInputError(f"{customer_id} has an account plan already: edit it")
        stored = plans.create_plan(
            st.db, ws, customer_id, author=caller.user.username, lang=lang,
            any_tier=bool(any_tier), revenue_target=_money(revenue_target, "the target"))
    audit.record(st.db, caller.user.username, "plan.create", customer_id,
                 {"version": stored["version"], "revenue_target": stored["revenue_target"]})
    return _back(customer_id)


@router.post("/customers/{customer_id}/plan/edit")
def edit_plan(request: Request, customer_id: str, caller: PageCaller, st: State,
              revenue_target: Text = "", pricing_strategy: Annotated[str, Form(
                  max_length=2000)] = "", needs: Annotated[str, Form(max_length=4000)] = "",
              note: Text = "", csrf_token: Csrf = "") -> Response:
    """Write the next version of the plan with the fields changed."""
    from salesradar.accounts import plans

    _allowed(caller, st, customer_id, csrf_token)
    current = plans.current_plan(st.db, customer_id)
    if current is None:
        raise UserInputError(f"{customer_id} has no account plan yet: create one first")
    changes: dict[str, Any] = {}
    target = _money(revenue_target, "the target")
    if target is not None and target != current["revenue_target"]:
        changes["revenue_target"] = target
    if pricing_strategy.strip() and pricing_strategy.strip() != current["pricing_strategy"]:
        changes["pricing_strategy"] = pricing_strategy.strip()
    listed = [line.strip() for line in needs.splitlines() if line.strip()]
    if listed != current["needs"]:
        changes["needs"] = listed
    if not changes:
        return _back(customer_id)
    stored = plans.revise_plan(st.db, customer_id, author=caller.user.username,
                               note=note.strip() or None, **changes)
    audit.record(st.db, caller.user.username, "plan.revise", customer_id,
                 {"version": stored["version"], "changed": sorted(changes)})
    return _back(customer_id)


@router.post("/customers/{customer_id}/actions")
def add_action(request: Request, customer_id: str, caller: PageCaller, st: State,
               title: Text = "", owner: Text = "", due: Annotated[str, Form(max_length=10)] = "",
               csrf_token: Csrf = "") -> Response:
    """Add an open action to the customer's plan."""
    from salesradar.accounts import plans

    _allowed(caller, st, customer_id, csrf_token)
    if plans.current_plan(st.db, customer_id) is None:
        raise UserInputError(f"{customer_id} has no account plan yet: create one first")
    try:
        day = dt.date.fromisoformat(due.strip())
    except ValueError:
        raise UserInputError(f"the due date must be a date (yyyy-mm-dd), got {due!r}") from None
    row = plans.add_action(st.db, customer_id, title, owner or caller.user.username, day)
    audit.record(st.db, caller.user.username, "action.add", customer_id,
                 {"action": row["id"], "title": row["title"], "due": row["due_date"]})
    return _back(customer_id)


@router.post("/customers/{customer_id}/actions/status")
def action_status(request: Request, customer_id: str, caller: PageCaller, st: State,
                  action_id: Annotated[int, Form(ge=1, le=2**63 - 1)] = 1,
                  status: Annotated[str, Form(max_length=10)] = "done",
                  csrf_token: Csrf = "") -> Response:
    """Mark one of the customer's actions done, dropped or open again."""
    from salesradar.accounts import plans

    _allowed(caller, st, customer_id, csrf_token)
    if action_id not in {a["id"] for a in plans.list_actions(st.db, customer_id)}:
        raise NotVisible(f"no action {action_id} on the plan of {customer_id}")
    row = plans.set_action_status(st.db, action_id, status)
    audit.record(st.db, caller.user.username, f"action.{row['status']}", customer_id,
                 {"action": row["id"], "title": row["title"]})
    return _back(customer_id)
