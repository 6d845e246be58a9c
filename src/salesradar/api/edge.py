"""Checks at the edge of the app, before any handler runs, and what every response carries.

* Control characters (NUL, line breaks, ...) in the path or the query string are refused with 400
  in the error shape: no identifier or search text carrying them reaches a handler or SQL.
* ``HEAD`` is answered wherever ``GET`` is (the ``GET`` handler runs; the body is dropped), so
  uptime probes see the app up.
* Anything scoped is ``Cache-Control: no-store`` (pages, API answers, PDFs: Back after logout
  shows nothing); only the static assets may be cached.
* A redirect's ``Location`` is a path on this site, never a URL built from the Host header.

>>> control_character("/api/v1/customers", "q=acme%20ltd"), control_character("/x", "q=a%00")
(False, True)
>>> relative("http://evil.example/api/v1/insights?limit=5")
'/api/v1/insights?limit=5'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlsplit

from fastapi import Path, Query
from pydantic import AfterValidator

# C0 controls and DEL; text a person types into a search or an id never holds them
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CACHEABLE = ("/static/", "/swagger/")  # assets: the same for everyone, never scoped

Scope = dict[str, Any]
MAX_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL store (BIGINT)
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)  # dates any period fits in

# a stored row's id in a path: 1 to 2^63 - 1, else 422 (a larger one overflowed the database)
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def plausible_day(day: dt.date) -> dt.date:
    """``day`` when between 1900 and 2199, else a ValueError (a 422 at the edge): the first
    and last days of Python's calendar leave no room for a period or the one before it.

    >>> plausible_day(dt.date(2026, 3, 1))
    datetime.date(2026, 3, 1)
    """
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a date between {FIRST_DAY} and {LAST_DAY} is expected")
    return day


Day = Annotated[dt.date, AfterValidator(plausible_day)]


def plausible_period(text: str) -> str:
    """``text`` (a period such as 2026, 2026Q3, 2026-Q3, 2026-03) when its year is between 1900
    and 2199, else a ValueError (a 422 at the edge); its form is checked where it is parsed.

    >>> plausible_period("2026Q3")
    '2026Q3'
    """
    year = re.match(r"\s*(\d+)", text)
    if year and not FIRST_DAY.year <= int(year.group(1)) <= LAST_DAY.year:
        raise ValueError(f"a period between {FIRST_DAY.year} and {LAST_DAY.year} is expected")
    return text


PeriodText = Annotated[str, AfterValidator(plausible_period)]


def plain_text(text: str) -> str:
    """``text`` when it holds no control character but tabs and line breaks, else a
    ValueError (a 422 at the edge: PostgreSQL cannot even store a NUL).

    >>> plain_text("called; will call back")
    'called; will call back'
    """
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise ValueError("control characters (such as NUL) are not allowed")
    return text


PlainText = Annotated[str, AfterValidator(plain_text)]


def control_character(path: str, query: str) -> bool:
    """Whether the (percent-decoded) path or query string holds a control character."""
    return bool(_CONTROL.search(unquote_plus(path)) or _CONTROL.search(unquote_plus(query)))


def relative(location: str) -> str:
    """``location`` as a path on this site (scheme and host dropped; ``//host`` refused; the
    fragment kept: the inbox returns to the row acted on)."""
    parts = urlsplit(location)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return (path + (f"?{parts.query}" if parts.query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


def no_store(path: str) -> bool:
    """Whether the response to ``path`` must not be stored by the browser or a proxy."""
    return not path.startswith(CACHEABLE)


ROWS, MAX_ROWS = 1000, 10_000  # a page of a list by default, and at most
Limit = Annotated[int, Query(ge=1, le=MAX_ROWS, description="Rows at most (paging).")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip (paging).")]


def page(body: dict[str, Any], key: str, limit: int, offset: int) -> dict[str, Any]:
    """``body`` with its list ``key`` cut to ``limit`` rows from ``offset``, and ``total``,
    ``offset`` and ``next_offset`` (None on the last page); ``body`` itself is not changed
    (it may be a cached result).

    >>> page({"rows": [1, 2, 3]}, "rows", 2, 0)
    {'rows': [1, 2], 'total': 3, 'offset': 0, 'next_offset': 2}
    """
    rows = list(body.get(key) or [])
    cut = rows[offset:offset + limit]
    following = offset + len(cut)
    return {**body, key: cut, "total": len(rows), "offset": offset,
            "next_offset": following if following < len(rows) else None}


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` request runs as ``GET`` and its body is not sent."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class CompanyContext:
    """ASGI middleware: each request runs with the company's currency and fiscal year current
    (:mod:`salesradar.app.settings`), read from the app database, so a change shows at once."""

    def __init__(self, app: Any, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self.state.company().active():
            await self.app(scope, receive, send)
