"""The administration pages (admins only): the hub, users, company settings, delivery channels
and the audit log. Targets, commission plans and vendor commitments live in
:mod:`salesradar.web.admin_sales`.

Every handler is thin: it checks that the caller is an admin (403 otherwise), checks the form's
CSRF token, calls the same service function as the CLI (so the CLI's checks apply, and their
message is shown next to the form with a 400), and records the change in the audit log.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from salesradar.api.admin_auth import admin_page
from salesradar.api.auth import ApiError, Caller, State, check_csrf
from salesradar.app import audit, users
from salesradar.app.settings import describe_settings, reset_setting, set_setting
from salesradar.errors import SalesradarError, UserInputError
from salesradar.web import admin_texts, connections, i18n  # they register words at import
from salesradar.web.pages import render

router = APIRouter(include_in_schema=False)
router.include_router(connections.router)  # /admin/connections

# an admin, resolved without reading the workspace: the pages work before any data is in
AdminCaller = Annotated[Caller, Depends(admin_page)]
Text = Annotated[str, Form(max_length=200)]
Csrf = Annotated[str, Form(max_length=200)]
AUDIT_PAGE = 50


def require_admin(caller: Caller) -> None:
    """403 unless the caller is an admin: these pages configure the company."""
    if caller.user.role != "admin":
        raise ApiError(403, "forbidden", "the administration pages are for administrators")


def admin_form(caller: Caller, csrf_token: str) -> None:
    """An admin's form post: the role, then the CSRF token."""
    require_admin(caller)
    check_csrf(caller, csrf_token)


def actor(caller: Caller) -> str:
    """Who the audit log names for a change made from the web."""
    return caller.user.username


def reps_of(st: Any) -> list[dict[str, Any]]:
    """The reps table, or none while the workspace holds no data yet."""
    try:
        found: list[dict[str, Any]] = st.reps()
    except SalesradarError:
        return []
    return found


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- the hub ---------------------------------------------------------------------------------
@router.get("/admin")
def hub(request: Request, caller: AdminCaller, st: State) -> Response:
    """One line per administration page, with a count or state."""
    from salesradar.app.management import CommissionPlanRow, SalesTargetRow
    from salesradar.commitments.store import list_commitments

    require_admin(caller)
    everyone = users.list_users(st.db)
    settings = describe_settings(st.db)
    channels, channel_error = configured_channels()
    with st.db.session() as s:
        targets = int(s.scalar(select(func.count(SalesTargetRow.id))) or 0)
        plans = int(s.scalar(select(func.count(CommissionPlanRow.name))) or 0)
    counts = {
        "users": {"n": sum(u.active for u in everyone), "off": sum(not u.active for u in everyone)},
        "settings": {"n": len(settings), "changed": sum(bool(x["changed"]) for x in settings)},
        "channels": {"n": len(channels)},
        "targets": {"n": targets},
        "commissions": {"n": plans},
        "commitments": {"n": len(list_commitments(st.db))},
        "audit": {"n": audit.count_events(st.db)},
        "connections": {"n": len(connections.overview(st))},
    }
    return render(request, "admin_hub.html", caller, page="admin", counts=counts,
                  channel_error=channel_error)


# -- users -----------------------------------------------------------------------------------
def _users_page(request: Request, caller: Caller, st: Any, status: int = 200,
                error: str | None = None, form: dict[str, str] | None = None,
                done: str | None = None) -> Response:
    teams = sorted({str(r["team"]) for r in reps_of(st) if r.get("team")})
    return render(request, "admin_users.html", caller, status, page="admin",
                  users=users.list_users(st.db), error=error, form=form or {}, done=done,
                  teams=teams, roles=users.ROLES)


@router.get("/admin/users")
def users_page(request: Request, caller: AdminCaller, st: State,
               done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    require_admin(caller)
    return _users_page(request, caller, st, done=done)


@router.post("/admin/users")
def add_user(request: Request, caller: AdminCaller, st: State, username: Text = "",
             password: Annotated[str, Form(max_length=1000)] = "", role: Text = "rep",
             rep_id: Text = "", team: Text = "", lang: Text = "he",
             csrf_token: Csrf = "") -> Response:
    """Create a user with the checks of ``salesradar user add``."""
    admin_form(caller, csrf_token)
    form = {"username": username, "role": role, "rep_id": rep_id, "team": team, "lang": lang}
    if any(u.username == username.strip() for u in users.list_users(st.db)):
        return _users_page(request, caller, st, 400, f"a user named {username.strip()!r} "
                           "exists already: change them in the list below", form)
    try:
        user = users.add_user(st.db, username.strip(), password, role=role,
                              rep_id=rep_id.strip() or None, team=team.strip() or None,
                              lang=lang)
    except UserInputError as exc:
        return _users_page(request, caller, st, 400, str(exc), form)
    audit.record(st.db, actor(caller), "user.add", user.username,
                 {"role": user.role, "rep_id": user.rep_id, "team": user.team,
                  "lang": user.lang})
    return back("/admin/users?done=added")


@router.post("/admin/users/profile")
def change_user(request: Request, caller: AdminCaller, st: State, username: Text = "",
                role: Text = "", rep_id: Text = "", team: Text = "", lang: Text = "en",
                csrf_token: Csrf = "") -> Response:
    """Change a user's role, rep id, team and language."""
    admin_form(caller, csrf_token)
    try:
        user = users.set_profile(st.db, username, role=role, rep_id=rep_id.strip() or None,
                                 team=team.strip() or None, lang=lang)
    except UserInputError as exc:
        return _users_page(request, caller, st, 400, f"{username}: {exc}")
    audit.record(st.db, actor(caller), "user.role", user.username,
                 {"role": user.role, "rep_id": user.rep_id, "team": user.team,
                  "lang": user.lang})
    return back("/admin/users?done=changed")


@router.post("/admin/users/active")
def activate_user(request: Request, caller: AdminCaller, st: State, username: Text = "",
                  active: Text = "", csrf_token: Csrf = "") -> Response:
    """Disable (sessions and tokens end at once) or enable a user."""
    admin_form(caller, csrf_token)
    if active not in ("0", "1"):
        raise UserInputError("active must be 0 or 1")
    if username == caller.user.username and active == "0":
        return _users_page(request, caller, st, 400, "you cannot disable yourself: another "
                           "administrator can")
    user = users.set_active(st.db, username, active == "1")
    audit.record(st.db, actor(caller), "user.enable" if user.active else "user.disable",
                 user.username)
    return back("/admin/users?done=changed")


@router.post("/admin/users/password")
def reset_password(request: Request, caller: AdminCaller, st: State, username: Text = "",
                   password: Annotated[str, Form(max_length=1000)] = "",
                   csrf_token: Csrf = "") -> Response:
    """Set a user's password (their sessions and API tokens end); never logged."""
    admin_form(caller, csrf_token)
    try:
        user = users.set_password(st.db, username, password)
    except UserInputError as exc:
        return _users_page(request, caller, st, 400, f"{username}: {exc}")
    audit.record(st.db, actor(caller), "user.password", user.username, {"change": "password set"})
    if user.id == caller.user.id:  # their own session ended with the old password
        return back("/login")
    return back("/admin/users?done=password")


# -- company settings ------------------------------------------------------------------------
def shown(value: Any) -> str:
    """A setting's value as the form writes it (and set_setting reads it back)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _settings_page(request: Request, caller: Caller, st: Any, status: int = 200,
                   errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
                   done: str | None = None) -> Response:
    rows = describe_settings(st.db)
    return render(request, "admin_settings.html", caller, status, page="admin", rows=rows,
                  shown=shown, errors=errors or {}, typed=typed or {}, done=done,
                  hebrew=admin_texts.SETTINGS_HE, groups=admin_texts.GROUPS)


@router.get("/admin/settings")
def settings_page(request: Request, caller: AdminCaller, st: State,
                  done: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    require_admin(caller)
    return _settings_page(request, caller, st, done=done)


@router.post("/admin/settings")
def change_setting(request: Request, caller: AdminCaller, st: State, key: Text = "",
                   value: Annotated[str, Form(max_length=2000)] = "", reset: Text = "",
                   csrf_token: Csrf = "") -> Response:
    """Set one setting (checked by set_setting, the error shown next to it) or reset it."""
    admin_form(caller, csrf_token)
    try:
        if reset:
            reset_setting(st.db, key, by=actor(caller))
        else:
            set_setting(st.db, key, value, by=actor(caller))
    except UserInputError as exc:
        return _settings_page(request, caller, st, 400, {key: str(exc)}, {key: value})
    return back(f"/admin/settings?done={key}#setting-{key}")


# -- delivery channels -----------------------------------------------------------------------
def configured_channels() -> tuple[list[Any], str | None]:
    """The channels of the server's environment, or none and the reason they are wrong."""
    from salesradar.delivery.setup import channels_from_env

    try:
        return channels_from_env(), None
    except UserInputError as exc:
        return [], str(exc)


def _where(channel: Any) -> str:
    """Where a channel sends, without secrets: the SMTP host, or a URL's host."""
    if hasattr(channel, "host"):
        return f"{channel.host}:{channel.port}"
    url = urlsplit(str(getattr(channel, "url", "")))
    return url.netloc or "–"


def outbox_state(db: Any, latest: int = 20) -> dict[str, Any]:
    """Outbox rows by status and the latest rows (no message bodies)."""
    from salesradar.app import OutboxRow

    with db.session() as s:
        counts = {str(k): int(n) for k, n in s.execute(
            select(OutboxRow.status, func.count(OutboxRow.id)).group_by(OutboxRow.status))}
        rows = [{"id": r.id, "channel": r.channel, "recipient": r.recipient, "kind": r.kind,
                 "status": r.status, "attempts": r.attempts, "at": r.sent_at or r.created_at,
                 "last_error": (r.last_error or "")[:200]}
                for r in s.scalars(select(OutboxRow).order_by(OutboxRow.id.desc())
                                   .limit(latest))]
    return {"counts": counts, "rows": rows}


def _channels_page(request: Request, caller: Caller, st: Any, status: int = 200,
                   result: tuple[bool, str] | None = None) -> Response:
    channels, error = configured_channels()
    listed = [{"name": c.name, "kind": type(c).__name__.removesuffix("Channel"),
               "where": _where(c), "email": hasattr(c, "host")} for c in channels]
    return render(request, "admin_channels.html", caller, status, page="admin",
                  channels=listed, channel_error=error, outbox=outbox_state(st.db),
                  result=result)


@router.get("/admin/channels")
def channels_page(request: Request, caller: AdminCaller, st: State) -> Response:
    require_admin(caller)
    return _channels_page(request, caller, st)


@router.post("/admin/channels/test")
def test_channel(request: Request, caller: AdminCaller, st: State, channel: Text = "",
                 email: Text = "", csrf_token: Csrf = "") -> Response:
    """Send a test message on one configured channel, through the channel's own code."""
    from salesradar.delivery.channels import DeliveryError
    from salesradar.delivery.message import Message, Person

    admin_form(caller, csrf_token)
    channels, _ = configured_channels()
    found = next((c for c in channels if c.name == channel), None)
    if found is None:
        raise UserInputError(f"no delivery channel named {channel!r} is configured")
    lang = i18n.lang_of(caller.user.lang)
    who = caller.user.username
    text = i18n.t("adm_test_text", lang, who=who)
    person = Person(id=who, name=who, email=email.strip() or None, lang=lang)
    message = Message(key=f"test-{secrets.token_hex(8)}", kind="push", recipient=person,
                      subject=i18n.t("adm_test_subject", lang), text=text,
                      html=f'<p dir="{"rtl" if lang == "he" else "ltr"}">{text}</p>',
                      priority=0)
    try:
        found.send(message)
        ok, reason = True, ""
    except DeliveryError as exc:
        ok, reason = False, str(exc)[:300]
    audit.record(st.db, actor(caller), "channel.test", channel,
                 {"ok": ok, **({"error": reason} if reason else {})})
    word = i18n.t("adm_test_sent" if ok else "adm_test_failed", lang, channel=channel,
                  reason=reason)
    return _channels_page(request, caller, st, 200, (ok, word))


# -- the audit log ---------------------------------------------------------------------------
@router.get("/admin/audit")
def audit_page(request: Request, caller: AdminCaller, st: State,
               action: Annotated[str, Query(max_length=60)] = "",
               who: Annotated[str, Query(max_length=100)] = "",
               offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Response:
    """The audit log, latest first, paged, filtered by action prefix and actor."""
    require_admin(caller)
    events = audit.list_events(st.db, action=action or None, actor=who or None,
                               limit=AUDIT_PAGE, offset=offset)
    total = audit.count_events(st.db, action=action or None, actor=who or None)
    return render(request, "admin_audit.html", caller, page="admin", events=events,
                  total=total, offset=offset, size=AUDIT_PAGE, action=action, who=who)
