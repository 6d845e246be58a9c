"""The administration API (admins only, 403 for anyone else): company settings, users and the
audit log, over the same service functions as the CLI and the administration pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from salesradar.api.admin_auth import admin_api
from salesradar.api.auth import ApiError, Caller, State
from salesradar.app import audit, users
from salesradar.app.settings import describe_settings, reset_setting, set_setting

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])
# an admin, resolved without reading the workspace (401, 403, CSRF header on cookie writes)
AdminApi = Annotated[Caller, Depends(admin_api)]


def _admin(caller: Caller) -> None:
    if caller.user.role != "admin":
        raise ApiError(403, "forbidden", "the administration API is for administrators")


class SettingValue(BaseModel):
    """A setting's new value as text (as ``salesradar settings set`` takes it); ``null``
    resets it to the default."""

    value: str | None = Field(default=None, max_length=2000)


@router.get("/settings")
def settings(caller: AdminApi, st: State) -> list[dict[str, Any]]:
    """Every company setting: value, default, whether changed, group and description."""
    _admin(caller)
    return describe_settings(st.db)


@router.put("/settings/{name}")
def put_setting(name: Annotated[str, Path(max_length=100)], body: SettingValue,
                caller: AdminApi, st: State) -> dict[str, Any]:
    """Set one setting (checked like the CLI does: 400 with the reason) or reset it."""
    _admin(caller)
    if body.value is None:
        reset_setting(st.db, name, by=caller.user.username)
    else:
        set_setting(st.db, name, body.value, by=caller.user.username)
    return next(s for s in describe_settings(st.db) if s["key"] == name)


@router.get("/users")
def list_users(caller: AdminApi, st: State) -> list[dict[str, Any]]:
    """The users: name, role, rep id, team, language, active (never a password or token)."""
    _admin(caller)
    return [u.to_dict() for u in users.list_users(st.db)]


@router.get("/audit")
def audit_log(caller: AdminApi, st: State,
              action: Annotated[str | None, Query(max_length=60)] = None,
              actor: Annotated[str | None, Query(max_length=100)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200,
              offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict[str, Any]:
    """The audit log, latest first; ``action`` is a prefix (``user``, ``settings.set``)."""
    _admin(caller)
    total = audit.count_events(st.db, action=action, actor=actor)
    rows = audit.list_events(st.db, action=action, actor=actor, limit=limit, offset=offset)
    return {"total": total, "events": rows,
            "next_offset": offset + len(rows) if offset + len(rows) < total else None}
