"""Who may configure the company: the admin-only dependencies, and receiving an upload.

Administration routes (``/admin/data``, ``/admin/refresh`` and their API twins under
``/api/v1/admin``) are for admins alone: an anonymous page visitor goes to /login, an anonymous
API caller gets 401, a manager or a rep 403. The admin check needs only the user, not their
scope, so the pages work on a workspace that holds no data yet (a new company's first upload).

An upload is read off the wire by :func:`salesradar.app.uploads.receive_form` into a folder the
server names: the size limit is checked on ``Content-Length`` before a byte is read and again
as the bytes arrive (413), the CSRF token and the table are checked before the file part is
written, and the content's type is sniffed before the file is kept.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from salesradar.access import EVERYTHING, Scope
from salesradar.api.auth import ApiError, Caller, LoginRequired, check_csrf, session_id, state
from salesradar.app.uploads import (
    Received,
    Upload,
    UploadTooLarge,
    check_table,
    new_upload,
    receive_form,
    upload_limit,
)
from salesradar.app.users import session_user, user_for_token
from salesradar.errors import UserInputError

FORM_OVERHEAD = 64 * 1024  # the form's other fields and multipart headers, beyond the file


def _unscoped(request: Request) -> Caller | None:
    """The caller without reading the workspace (an admin's scope is everything anyway)."""
    found: Caller | None = getattr(request.state, "caller", None)
    if found is not None:
        return found
    st = state(request)
    header = request.headers.get("authorization", "")
    caller = None
    if header.lower().startswith("bearer "):
        user = user_for_token(st.db, header[7:].strip())
        if user is not None:
            caller = Caller(user, EVERYTHING, None, True)
    else:
        sid = session_id(request)
        session = session_user(st.db, sid) if sid else None
        if session is not None:
            caller = Caller(session[0], EVERYTHING, session[1], False)
    if caller is not None and caller.user.role != "admin":
        caller = Caller(caller.user, Scope(frozenset()), caller.csrf_token, caller.via_token)
        return caller  # not cached: the error page resolves the real scope
    if caller is not None:
        request.state.caller = caller
    return caller


def _forbidden() -> ApiError:
    return ApiError(403, "forbidden", "administration is for admins")


def admin_page(request: Request) -> Caller:
    """The administration pages' dependency: /login for visitors, 403 for non-admins."""
    caller = _unscoped(request)
    if caller is None:
        raise LoginRequired
    if caller.user.role != "admin":
        raise _forbidden()
    return caller


def admin_api(request: Request) -> Caller:
    """The administration API's dependency: 401, 403 for non-admins, the CSRF header for
    writes made with the session cookie."""
    caller = _unscoped(request)
    if caller is None:
        raise ApiError(401, "unauthorized", "log in or send Authorization: Bearer <token>")
    if caller.user.role != "admin":
        raise _forbidden()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not caller.via_token:
        sent = request.headers.get("x-csrf-token", "")
        if not caller.csrf_token or not secrets.compare_digest(sent, caller.csrf_token):
            raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token header")
    return caller


AdminPage = Annotated[Caller, Depends(admin_page)]
AdminApi = Annotated[Caller, Depends(admin_api)]


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", str(UploadTooLarge(limit)))


async def receive_upload(request: Request, caller: Caller, *, table: str | None = None,
                         form_csrf: bool = True) -> tuple[Upload, Received]:
    """Stream the request's file into a new upload and keep it (sniffed, checked).

    ``table``: the canonical table, else the form's ``table`` field; ``form_csrf``: the form
    must carry the session's ``csrf_token`` before the file (pages; the API checks its header).
    """
    st = state(request)
    limit = upload_limit()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    if table is not None:
        check_table(table)

    def before_file(fields: dict[str, str]) -> None:
        if form_csrf:
            check_csrf(caller, fields.get("csrf_token"))
        check_table(table or fields.get("table", ""))

    upload = new_upload(st.workspace)
    try:
        got = await receive_form(request.stream(), request.headers.get("content-type", ""),
                                 upload.incoming, limit=limit, before_file=before_file)
        if form_csrf:
            check_csrf(caller, got.fields.get("csrf_token"))
        if got.file_name is None:
            raise UserInputError("choose a file to upload")
        await run_in_threadpool(upload.accept, table or got.fields.get("table", ""),
                                got.file_name, got.size, caller.user.username)
    except UploadTooLarge as exc:
        upload.delete()
        raise too_large(exc.limit) from None
    except BaseException:
        upload.delete()
        raise
    return upload, got
