"""First run: the company's first administrator, created in the browser.

``salesradar serve`` on a store without users prints a one-time address, ``/setup?token=...``
(the token is random, kept in the server's memory only, and shown nowhere else), where the person
who started the server creates the administrator; from then on ``/setup`` answers 404 and users
are managed under Administration. Whoever cannot read the server's output cannot use it, so a
fresh server reachable by others is not theirs to take.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from salesradar.api.auth import SESSION_COOKIE, State, cookie_args, sign
from salesradar.app import audit, users
from salesradar.errors import UserInputError
from salesradar.web import i18n

router = APIRouter(include_in_schema=False)

i18n.register({
    "setup_title": ("Welcome: create the administrator", "ברוכים הבאים: יצירת מנהל המערכת"),
    "setup_intro": ("This account manages the company's data, users and settings. Other users "
                    "are added later under Administration.",
                    "החשבון הזה מנהל את הנתונים, המשתמשים וההגדרות של החברה. משתמשים נוספים "
                    "מוסיפים אחר כך בניהול מערכת."),
    "setup_password_again": ("Password again", "הסיסמה שוב"),
    "setup_mismatch": ("The two passwords differ.", "שתי הסיסמאות שונות."),
    "setup_create": ("Create and log in", "יצירה וכניסה"),
    "setup_language": ("Language", "שפה"),
})


def setup_token(db: object) -> str | None:
    """A one-time token when the store has no user yet (first run), else None."""
    return None if users.list_users(db) else secrets.token_urlsafe(24)


def _allowed(request: Request, st: State, token: str) -> bool:
    expected = st.setup_token
    return bool(expected) and secrets.compare_digest(expected or "", token) \
        and not users.list_users(st.db)


def _form(request: Request, token: str, lang: str, error: str | None = None,
          status: int = 200) -> Response:
    from salesradar.web.pages import render

    return render(request, "setup.html", None, status, lang, token=token, error=error)


@router.get("/setup")
def setup_page(request: Request, st: State, token: str = "", lang: str = "en") -> Response:
    if not _allowed(request, st, token):
        from salesradar.web.pages import error_page

        return error_page(request, 404, i18n.t("http_404", lang), lang)
    return _form(request, token, i18n.lang_of(lang))


@router.post("/setup")
def setup(request: Request, st: State, token: Annotated[str, Form(max_length=200)] = "",
          username: Annotated[str, Form(max_length=100)] = "",
          password: Annotated[str, Form(max_length=1000)] = "",
          password_again: Annotated[str, Form(max_length=1000)] = "",
          lang: Annotated[str, Form(max_length=5)] = "en") -> Response:
    language = i18n.lang_of(lang)
    if not _allowed(request, st, token):  # the token is the form's CSRF defence too
        from salesradar.web.pages import error_page

        return error_page(request, 404, i18n.t("http_404", language), language)
    if password != password_again:
        return _form(request, token, language, i18n.t("setup_mismatch", language), 400)
    try:
        user = users.add_user(st.db, username.strip(), password, role="admin", lang=language)
    except UserInputError as exc:
        return _form(request, token, language, str(exc), 400)
    st.setup_token = None  # one administrator, once
    audit.record(st.db, user.username, "user.add", user.username,
                 {"role": "admin", "via": "first-run setup"})
    sid, _csrf = users.create_session(st.db, user.id)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, sign(st, sid), max_age=users.SESSION_DAYS * 86400,
                        **cookie_args(st))
    return response
