"""Who is asking: API tokens, the session cookie, CSRF checks, as FastAPI dependencies.

An API client sends ``Authorization: Bearer <token>``; a browser carries the session cookie, a
signed (itsdangerous), HttpOnly, SameSite=Lax cookie holding a random session id whose SHA-256 is
the key of a server-side session row (deleted on logout). Unsafe requests made with the cookie must
carry the session's CSRF token: a ``csrf_token`` form field on pages, an ``X-CSRF-Token`` header
on the API. Token-authenticated requests need no CSRF token (browsers never send it by themselves).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer

from salesradar.access import Scope
from salesradar.api.state import AppState
from salesradar.app.users import User, session_user, user_for_token

SESSION_COOKIE = "salesradar_session"
LOGIN_CSRF_COOKIE = "salesradar_login_csrf"


class ApiError(Exception):
    """An error answered with the one JSON shape (or an HTML page on page routes)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers


class LoginRequired(Exception):
    """A page needs a logged-in user: the handler redirects to /login."""


@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request, their scope and how they authenticated."""

    user: User
    scope: Scope
    csrf_token: str | None  # set for cookie sessions, None for API tokens
    via_token: bool


def state(request: Request) -> AppState:
    found: AppState = request.app.state.sr
    return found


def sign(st: AppState, value: str, salt: str = "salesradar-session") -> str:
    return URLSafeSerializer(st.secret, salt=salt).dumps(value)


def unsign(st: AppState, value: str | None, salt: str = "salesradar-session") -> str | None:
    if not value:
        return None
    try:
        out = URLSafeSerializer(st.secret, salt=salt).loads(value)
    except BadSignature:
        return None
    return out if isinstance(out, str) else None


def session_id(request: Request) -> str | None:
    return unsign(state(request), request.cookies.get(SESSION_COOKIE))


def resolve(request: Request) -> Caller | None:
    """The caller of ``request`` (cached on the request), or None when anonymous."""
    if hasattr(request.state, "caller"):
        found: Caller | None = request.state.caller
        return found
    st = state(request)
    caller = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(st.db, header[7:].strip())
        if user is not None:
            caller = Caller(user, st.scope(user), None, True)
    else:
        sid = session_id(request)
        found_session = session_user(st.db, sid) if sid else None
        if found_session is not None:
            user, csrf = found_session
            caller = Caller(user, st.scope(user), csrf, False)
    request.state.caller = caller
    return caller


def user_of(request: Request) -> User | None:
    """The user behind ``request`` without their scope (which reads the workspace): what an
    error answer needs for its language even while the workspace cannot be read."""
    caller = getattr(request.state, "caller", None)
    if caller is not None:
        found: User = caller.user
        return found
    st = state(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_token(st.db, header[7:].strip())
    sid = session_id(request)
    session = session_user(st.db, sid) if sid else None
    return session[0] if session else None


def api_caller(request: Request) -> Caller:
    """The API's dependency: 401 for anonymous callers; CSRF header for cookie-made writes."""
    caller = resolve(request)
    if caller is None:
        raise ApiError(401, "unauthorized", "log in or send Authorization: Bearer <token>")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not caller.via_token:
        sent = request.headers.get("x-csrf-token", "")
        if not caller.csrf_token or not secrets.compare_digest(sent, caller.csrf_token):
            raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token header")
    return caller


def page_caller(request: Request) -> Caller:
    """The pages' dependency: anonymous visitors are sent to /login."""
    caller = resolve(request)
    if caller is None:
        raise LoginRequired
    return caller


def check_csrf(caller: Caller, sent: str | None) -> None:
    """A page form post must echo the session's CSRF token."""
    if caller.via_token:
        return
    if not sent or not caller.csrf_token or not secrets.compare_digest(sent, caller.csrf_token):
        raise ApiError(403, "csrf", "the form expired or did not come from this site; "
                       "reload the page and try again")


ApiCaller = Annotated[Caller, Depends(api_caller)]
PageCaller = Annotated[Caller, Depends(page_caller)]
State = Annotated[AppState, Depends(state)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def cookie_args(st: AppState) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": st.secure_cookies, "path": "/"}
