"""The HTTP client every connector uses: timeouts, retries with backoff, rate limits, redaction.

One :class:`ApiClient` per sync of one connection. It retries what retrying can fix and stops
with a :class:`ConnectorError` naming the connection, the object and the reason on what it
cannot:

- a network error or a 5xx answer is retried ``attempts`` times with exponential backoff;
- a 429 waits for ``Retry-After`` (or the backoff when absent) and is retried; all such waits
  of one sync share the ``rate_limit_budget``, and one wait longer than ``max_retry_after`` stops
  at once (a daily limit will not reset in minutes);
- a 401/403 is a :class:`ConnectorAuthError` at once: retrying a wrong token only burns quota;
- any other 4xx is reported with the start of the answer.

Every message and log line passes through the client's redactor, which knows the connection's
secrets (and their Basic-auth encodings), so no error, log or status can show a credential.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from salesradar.connectors.base import ConnectorAuthError, ConnectorError

log = logging.getLogger("salesradar.connectors")
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class HttpSettings:
    """How patient a sync is. The defaults suit the real services; tests shrink the waits."""

    timeout: float = 60.0  # seconds per request (connect, read, write)
    attempts: int = 5  # tries of one request on a network error or a 5xx answer
    backoff: float = 1.0  # first wait before a retry, doubled each time
    max_backoff: float = 60.0
    rate_limit_budget: float = 900.0  # seconds one sync may spend waiting on 429 answers
    max_retry_after: float = 300.0  # a single Retry-After longer than this stops the sync


class Redactor:
    """Replaces every known secret (and its Basic-auth and URL forms) in a text with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        found: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            found.add(secret)
            found.add(base64.b64encode(secret.encode()).decode())
            user, _, password = secret.partition(":")
            # the password, or the token of Priority's TOKEN:PAT; a user name is no secret
            part = user if password == "PAT" else password
            if len(part) >= 4:
                found.add(part)
        self._secrets = sorted(found, key=len, reverse=True)

    def add(self, secret: str) -> None:
        """Also hide ``secret`` (a session id learned at login)."""
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ApiClient:
    """An ``httpx.Client`` for one connection, with the retry rules of the module docstring.

    ``on_response`` sees every answer before it is judged (HubSpot's daily-limit headers);
    ``on_rate_limit`` sees every 429 and may raise to stop at once (HubSpot's daily policy).
    """

    def __init__(
        self,
        connection: str,
        system: str,
        base_url: str,
        *,
        settings: HttpSettings | None = None,
        secrets: Iterable[str] = (),
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        sleep: Sleep | None = None,
        on_response: Callable[[httpx.Response, str], None] | None = None,
        on_rate_limit: Callable[[httpx.Response, str], None] | None = None,
    ) -> None:
        self.connection = connection
        self.system = system
        self.settings = settings or HttpSettings()
        self.redact = Redactor(secrets)
        self.sleep = sleep or time.sleep
        self.on_response = on_response
        self.on_rate_limit = on_rate_limit
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0
        self.waited = 0.0  # seconds spent waiting on 429s
        self._client = httpx.Client(
            base_url=base_url, auth=auth, headers=headers, follow_redirects=False,
            timeout=httpx.Timeout(self.settings.timeout),
        )

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    def fail(self, what: str, reason: str, *, auth: bool = False) -> ConnectorError:
        """The error to raise: connection, object and reason, redacted."""
        kind = ConnectorAuthError if auth else ConnectorError
        return kind(self.redact(f"connection {self.connection!r} ({self.system}): {what}: "
                                f"{reason}"))

    def _backoff(self, attempt: int) -> float:
        return float(min(self.settings.max_backoff, self.settings.backoff * 2 ** (attempt - 1)))

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request, retrying per the rules above; statuses in ``allow`` are returned
        to the caller instead of raising (a session to renew)."""
        if params:
            # spaces as %20, not the form encoding's "+" (which OData servers may read as a
            # plus sign: Priority's documentation warns of exactly that in date filters)
            url += ("&" if "?" in url else "?") + urlencode(
                params, quote_via=quote, safe="$,'()=:;")
        failures = 0
        while True:
            self.requests += 1
            try:
                response = self._client.request(method, url, json=json, headers=headers)
            except httpx.TransportError as exc:
                failures += 1
                reason = f"{type(exc).__name__}: {exc}"
                if failures >= self.settings.attempts:
                    raise self.fail(what, f"no answer after {failures} tries ({reason})") from None
                self._retry(what, reason, self._backoff(failures))
                continue
            if self.on_response is not None:
                self.on_response(response, what)
            status = response.status_code
            if status in allow:
                return response
            if status == 429:
                self._rate_limited(response, what)
                continue
            if status >= 500:
                failures += 1
                if failures >= self.settings.attempts:
                    raise self.fail(what, f"the server answered HTTP {status} {failures} times "
                                    f"in a row: {self._excerpt(response)}")
                self._retry(what, f"HTTP {status}", self._backoff(failures))
                continue
            if status in (401, 403):
                raise self.fail(what, f"the credentials were refused (HTTP {status}): check "
                                "the token or password this connection reads", auth=True)
            if status >= 400:
                raise self.fail(what, f"HTTP {status}: {self._excerpt(response)}")
            return response

    def get_json(self, url: str, *, what: str, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        """GET ``url`` and return its JSON body."""
        return self.json_of(self.request("GET", url, what=what, params=params,
                                         headers=headers), what)

    def json_of(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.fail(what, f"the answer is not JSON: {self._excerpt(response)}") from None

    def _rate_limited(self, response: httpx.Response, what: str) -> None:
        self.rate_limited += 1
        if self.on_rate_limit is not None:
            self.on_rate_limit(response, what)
        delay = retry_after(response)
        if delay is None:
            delay = self._backoff(min(self.rate_limited, 8))
        if delay > self.settings.max_retry_after:
            raise self.fail(what, f"rate limited (HTTP 429) and asked to wait {delay:.0f} s, "
                            f"more than the {self.settings.max_retry_after:.0f} s a sync waits; "
                            "run the sync later")
        if self.waited + delay > self.settings.rate_limit_budget:
            raise self.fail(what, f"rate limited (HTTP 429) {self.rate_limited} times; waiting "
                            f"again would pass the {self.settings.rate_limit_budget:.0f} s "
                            "budget of one sync. Nothing was written; run the sync later")
        self.waited += delay
        log.info(self.redact(f"{self.connection}: {what}: rate limited (HTTP 429), waiting "
                             f"{delay:.2f} s"))
        self.sleep(delay)

    def _retry(self, what: str, reason: str, delay: float) -> None:
        self.retries += 1
        log.warning(self.redact(f"{self.connection}: {what}: {reason}; retrying in "
                                f"{delay:.2f} s"))
        self.sleep(delay)

    def _excerpt(self, response: httpx.Response) -> str:
        return self.redact(response.text[:300].strip() or "(empty answer)")

    def resolve(self, link: str) -> str:
        """A server's next link as an absolute URL: absolute links stay, rooted and relative
        ones (SAP's v1 service writes ``Invoices?$skip=20``) are read against the service
        root, as RFC 3986 says."""
        return str(self._client.base_url.join(link))

    def close(self) -> None:
        self._client.close()


def odata_pages(
    client: ApiClient,
    url: str,
    *,
    what: str,
    params: dict[str, Any],
    page_size: int,
    next_key: str,
    headers: dict[str, str] | None = None,
    client_paging: bool = True,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of an OData collection, in order, until the last one.

    The server's ``next_key`` link (``@odata.nextLink`` in OData 4, ``odata.nextLink`` in SAP's
    v1 service) is followed whenever the answer has one. With ``client_paging`` the next page
    is then asked with ``$skip`` until one comes back empty: Priority cuts an answer at its
    MAXFORMLINES constant without a link, so a page shorter than ``$top`` does not prove the
    end. (A server that ignored ``$skip`` would send the same page again: that stops too.)
    """
    query = dict(params)
    if client_paging:
        query["$top"] = page_size
    skip = 0
    first: Any = None
    while True:  # one client page ($top/$skip) ...
        if client_paging:
            query["$skip"] = skip
        body = client.get_json(url, what=what, params=query, headers=headers)
        got = 0
        while True:  # ... with the links the server adds to it by itself
            values = body.get("value") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise client.fail(what, "the answer has no 'value' list (is this an OData "
                                  "collection?)")
            if got == 0 and skip and values and values[0] == first:
                return  # the same page again: the server ignores $skip
            if got == 0 and values:
                first = values[0]
            yield values
            got += len(values)
            next_link = body.get(next_key)
            if not next_link:
                break
            body = client.get_json(client.resolve(str(next_link)), what=what, headers=headers)
        if not client_paging or got == 0:
            return
        skip += got
