"""Local fake servers of HubSpot's CRM API v3, Priority's REST API and SAP Business One's Service
Layer, on 127.0.0.1 only, implementing the documented subset the connectors use.

Built from the public references, not from the connectors' expectations:

- HubSpot (developers.hubspot.com, CRM API v3): ``GET /crm/v3/objects/{type}`` pages of at most
  100 with ``paging.next.after``; ``archived=true`` lists archived records with ``archivedAt``;
  ``POST /crm/v3/objects/{type}/search`` with ``filterGroups``/``sorts``, at most 200 a page,
  and a 400 for a page past the 10,000-result window; ``POST /crm/v4/associations/{from}/{to}/
  batch/read``; ``GET /crm/v3/owners``; ``GET /crm/v3/pipelines/deals``; Bearer tokens (401
  otherwise); 429 with a ``policyName``; ``X-HubSpot-RateLimit-Daily-Remaining``.
- Priority (prioritysoftware.github.io/restapi): Basic auth; ``$filter`` with ``eq``/``ge``
  joined by ``and``, DateTimeOffset literals; ``$orderby``, ``$top``, ``$skip``, ``$select``,
  ``$expand=SUBFORM($select=...)``; answers capped at MAXFORMLINES (optionally with an
  ``@odata.nextLink`` instead, as an OData 4 server may); dates as ``...+02:00``; 400 for an
  unknown field.
- SAP Business One Service Layer (the "Working with SAP Business One Service Layer" manual):
  ``POST /b1s/v1/Login`` setting the ``B1SESSION`` and ``ROUTEID`` cookies, 401 "Invalid
  session" without them, ``Prefer: odata.maxpagesize`` (20 by default) with a relative
  ``odata.nextLink``, ``$filter=UpdateDate ge '...'``, ``POST /b1s/v1/Logout``.

Every server can be told to fail: ``storm`` answers the next N requests with 429 (and a
``Retry-After``), ``fail_from``/``fail_count`` answer 500 from the Nth data request on.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else {}


@dataclass
class Faults:
    """Failures to inject: a 429 storm, a run of 500s, a daily-limit answer."""

    storm: int = 0  # the next N requests answer 429
    retry_after: str | None = "1"
    storm_body: dict[str, Any] = field(default_factory=lambda: {
        "status": "error", "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT", "policyName": "SECONDLY"})
    fail_from: int | None = None  # the Nth data request (1-based) and later answer 500 ...
    fail_count: int = 10**9  # ... this many times
    fail_path: str = ""  # ... counting only requests whose path holds this
    data_requests: int = 0
    failed: int = 0


class FakeServer:
    """A threaded HTTP server; subclasses answer in :meth:`answer`."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.faults = Faults()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms ACKs

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, dict(parse_qsl(parts.query)),
                            {k: v for k, v in self.headers.items()}, body)
                status, headers, payload = server.dispatch(seen)
                data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None \
                    else b""
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _do

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def dispatch(self, seen: Seen) -> tuple[int, list[tuple[str, str]], Any]:
        with self.lock:
            self.seen.append(seen)
            faults = self.faults
            if faults.storm > 0:
                faults.storm -= 1
                headers = [("Retry-After", faults.retry_after)] if faults.retry_after else []
                return 429, headers, faults.storm_body
            if self.is_data(seen) and faults.fail_path in seen.path:
                faults.data_requests += 1
                if (faults.fail_from is not None and faults.data_requests >= faults.fail_from
                        and faults.failed < faults.fail_count):
                    faults.failed += 1
                    return 500, [], {"error": "internal server error"}
            return self.answer(seen)

    def is_data(self, seen: Seen) -> bool:
        return True

    def answer(self, seen: Seen) -> tuple[int, list[tuple[str, str]], Any]:
        raise NotImplementedError

    def data_paths(self) -> list[str]:
        return [s.path for s in self.seen if self.is_data(s)]


# -- OData helpers -------------------------------------------------------------------------
CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ge|gt|le|lt|ne)\s+(.+?)\s*$")


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _comparable(value: Any, like: Any) -> Any:
    if isinstance(like, datetime):
        moment = datetime.fromisoformat(str(value)) if value else None
        if moment is not None and moment.tzinfo is None and like.tzinfo is not None:
            moment = moment.replace(tzinfo=like.tzinfo)
        return moment
    if isinstance(like, float):
        return float(value) if value is not None else None
    return None if value is None else str(value)


def odata_filter(records: list[dict[str, Any]], text: str | None,
                 fields: set[str]) -> list[dict[str, Any]] | str:
    """Records matching ``$filter`` (clauses joined by ``and``); an error text for a bad one."""
    if not text:
        return records
    clauses = []
    for part in re.split(r"\s+and\s+", text):
        match = CLAUSE.match(part)
        if not match:
            return f"cannot parse filter clause {part!r}"
        name, op, raw = match.groups()
        if name not in fields:
            return f"unknown field {name}"
        clauses.append((name, op, _literal(raw)))
    ops = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b,
           "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}
    found = []
    for record in records:
        ok = True
        for name, op, value in clauses:
            left = _comparable(record.get(name), value)
            if left is None or not ops[op](left, value):
                ok = False
                break
        if ok:
            found.append(record)
    return found


def odata_order(records: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    if not text:
        return records
    keys = [k.strip().split()[0] for k in text.split(",")]

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for k in keys:
            value = record.get(k)
            if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
                value = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            out.append((value is None, value if value is not None else 0))
        return tuple(out)

    return sorted(records, key=key)


def pick(record: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    return dict(record) if select is None else {k: record.get(k) for k in select}


# -- Priority ------------------------------------------------------------------------------
class PriorityServer(FakeServer):
    """Priority's REST API for one company: AGENTS, CUSTOMERS, LOGPART, AINVOICES."""

    ROOT = "/odata/Priority/tabula.ini"

    def __init__(self, company: str = "demo", user: str = "apiuser",
                 password: str = "s3cret-Pa55") -> None:
        super().__init__()
        self.company = company
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.entities: dict[str, list[dict[str, Any]]] = {
            "AGENTS": [], "CUSTOMERS": [], "LOGPART": [], "AINVOICES": []}
        self.max_form_lines = 10_000  # MAXFORMLINES: answers are cut here without a link
        self.server_page: int | None = None  # page by itself with @odata.nextLink

    @property
    def url(self) -> str:
        return self.base + self.ROOT

    def is_data(self, seen: Seen) -> bool:
        return seen.path.startswith(f"{self.ROOT}/{self.company}/")

    def answer(self, seen: Seen) -> tuple[int, list[tuple[str, str]], Any]:
        if seen.headers.get("Authorization") != self.auth:
            return 401, [("WWW-Authenticate", 'Basic realm="priority"')], \
                {"error": {"code": "401", "message": "Unauthorized"}}
        prefix = f"{self.ROOT}/{self.company}/"
        if not seen.path.startswith(prefix):
            return 404, [], {"error": {"code": "404", "message": "company not found"}}
        name = seen.path[len(prefix):]
        if name not in self.entities:
            return 404, [], {"error": {"code": "404", "message": f"form {name} not found"}}
        records = self.entities[name]
        q = seen.query
        # an empty form knows no fields from its records: any field is accepted then
        fields = set().union(*(r.keys() for r in records)) if records else set(
            re.findall(r"\w+", q.get("$select", "") + " " + q.get("$filter", "")))
        found = odata_filter(records, q.get("$filter"), fields)
        if isinstance(found, str):
            return 400, [], {"error": {"code": "400", "message": found}}
        found = odata_order(found, q.get("$orderby"))
        skip = int(q.get("$skip", 0))
        top = int(q["$top"]) if "$top" in q else None
        select = q["$select"].split(",") if "$select" in q else None
        if select and (bad := [f for f in select if f not in fields]):
            return 400, [], {"error": {"code": "400", "message": f"unknown field {bad[0]}"}}
        expand = q.get("$expand")
        keys = {"AINVOICES": ("IVNUM", "IVTYPE", "DEBIT")}.get(name, ())
        if expand and select and (missing := [k for k in keys if k not in select]):
            return 400, [], {"error": {"code": "400", "message": "an $expand needs every key "
                                       f"field of {name} in $select: {', '.join(missing)}"}}
        window = found[skip:]
        if top is not None:
            window = window[:top]
        link = None
        if self.server_page is not None and len(window) > self.server_page:
            window = window[:self.server_page]
            nxt = dict(q)
            nxt["$skip"] = str(skip + self.server_page)
            if top is not None:
                nxt["$top"] = str(top - self.server_page)
            link = f"{self.url}/{self.company}/{name}?" + urlencode(nxt, quote_via=quote)
        window = window[:self.max_form_lines]
        out = []
        for record in window:
            row = pick({k: v for k, v in record.items() if not k.endswith("_SUBFORM")},
                       select)
            if expand:
                sub, _, inner = expand.partition("(")
                sub_select = None
                match = re.search(r"\$select=([^;)]*)", inner)
                if match:
                    sub_select = match.group(1).split(",")
                row[sub] = [pick(item, sub_select) for item in record.get(sub, [])]
            out.append(row)
        payload: dict[str, Any] = {"@odata.context": f"{self.url}/$metadata#{name}",
                                   "value": out}
        if link:
            payload["@odata.nextLink"] = link
        return 200, [], payload


def priority_time(moment: datetime) -> str:
    """Priority's DateTimeOffset text (Israel, +02:00)."""
    return moment.replace(microsecond=0).isoformat() + "+02:00"


# -- SAP Business One ----------------------------------------------------------------------
class SapServer(FakeServer):
    """The Service Layer (v1) of one company database."""

    ROOT = "/b1s/v1"

    def __init__(self, company: str = "SBODEMOIL", user: str = "manager",
                 password: str = "B1-secret-pw") -> None:
        super().__init__()
        self.company, self.user, self.password = company, user, password
        self.sessions: set[str] = set()
        self.entities: dict[str, list[dict[str, Any]]] = {
            "SalesPersons": [], "BusinessPartners": [], "Items": [], "Invoices": [],
            "CreditNotes": []}
        self.logins = 0

    @property
    def url(self) -> str:
        return self.base + self.ROOT

    def is_data(self, seen: Seen) -> bool:
        return seen.method == "GET"

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def answer(self, seen: Seen) -> tuple[int, list[tuple[str, str]], Any]:
        name = seen.path[len(self.ROOT) + 1:]
        if seen.method == "POST" and name == "Login":
            body = json.loads(seen.body or b"{}")
            if (body.get("CompanyDB"), body.get("UserName"), body.get("Password")) != (
                    self.company, self.user, self.password):
                return 401, [], {"error": {"code": 100000027, "message": {
                    "lang": "en-us", "value": "Login failed"}}}
            session = str(uuid.uuid4())
            self.sessions.add(session)
            self.logins += 1
            return 200, [("Set-Cookie", f"B1SESSION={session}; path=/b1s; HttpOnly"),
                         ("Set-Cookie", "ROUTEID=.node1; path=/b1s")], {
                "odata.metadata": f"{self.url}/$metadata#B1Sessions/@Element",
                "SessionId": session, "Version": "1000180", "SessionTimeout": 30}
        cookies = dict(part.strip().split("=", 1) for part in
                       seen.headers.get("Cookie", "").split(";") if "=" in part)
        if cookies.get("B1SESSION") not in self.sessions:
            return 401, [], {"error": {"code": 301, "message": {
                "lang": "en-us", "value": "Invalid session."}}}
        if seen.method == "POST" and name == "Logout":
            self.sessions.discard(cookies["B1SESSION"])
            return 204, [], None
        if name not in self.entities:
            return 404, [], {"error": {"code": -1, "message": {"lang": "en-us",
                                                               "value": "Not found"}}}
        records = self.entities[name]
        fields = set().union(*(r.keys() for r in records)) if records else {"UpdateDate"}
        q = seen.query
        found = odata_filter(records, q.get("$filter"), fields | {"CardType", "UpdateDate"})
        if isinstance(found, str):
            return 400, [], {"error": {"code": -1, "message": {"lang": "en-us",
                                                               "value": found}}}
        found = odata_order(found, q.get("$orderby"))
        select = q["$select"].split(",") if "$select" in q else None
        if select and (bad := [f for f in select if f not in fields]):
            return 400, [], {"error": {"code": -1000, "message": {
                "lang": "en-us", "value": f"Property '{bad[0]}' of 'Document' is invalid"}}}
        skip = int(q.get("$skip", 0))
        page = 20
        prefer = seen.headers.get("Prefer", "")
        match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        headers: list[tuple[str, str]] = []
        if match:
            page = int(match.group(1))
            headers.append(("Preference-Applied", f"odata.maxpagesize={page}"))
        window = found[skip:skip + page]
        payload: dict[str, Any] = {"odata.metadata": f"{self.url}/$metadata#{name}",
                                   "value": [pick(r, select) for r in window]}
        if skip + page < len(found):
            nxt = {k: v for k, v in q.items() if k != "$skip"}
            payload["odata.nextLink"] = f"{name}?" + urlencode(
                {**nxt, "$skip": skip + page}, quote_via=quote, safe="$'")
        return 200, headers, payload


# -- HubSpot -------------------------------------------------------------------------------
class HubSpotServer(FakeServer):
    """A HubSpot account behind the CRM API v3."""

    WINDOW = 10_000

    def __init__(self, token: str = "pat-eu1-11111111-2222-3333-4444-555555555555") -> None:
        super().__init__()
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            t: {} for t in ("companies", "contacts", "deals", "calls", "meetings", "emails")}
        self.owners: list[dict[str, Any]] = []
        self.pipelines: list[dict[str, Any]] = []
        self.links: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = {}
        self.daily_remaining: int | None = None
        self.clock = datetime(2025, 1, 1, 8, 0, 0)

    @property
    def url(self) -> str:
        return self.base

    def modified_property(self, kind: str) -> str:
        return "lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"

    def tick(self) -> str:
        """The next modification time: two hours on, past a sync's one-hour overlap window."""
        self.clock += timedelta(hours=2)
        return self.clock.isoformat(timespec="milliseconds") + "Z"

    def add(self, kind: str, record_id: str, **properties: Any) -> None:
        now = self.tick()
        props = {"hs_object_id": record_id, "createdate": now,
                 self.modified_property(kind): now, **properties}
        self.objects[kind][record_id] = {"id": record_id, "properties": props,
                                         "createdAt": now, "updatedAt": now, "archived": False}

    def modify(self, kind: str, record_id: str, **properties: Any) -> None:
        record = self.objects[kind][record_id]
        now = self.tick()
        record["properties"].update(properties)
        record["properties"][self.modified_property(kind)] = now
        record["updatedAt"] = now

    def archive(self, kind: str, record_id: str) -> None:
        record = self.objects[kind][record_id]
        record["archived"] = True
        record["archivedAt"] = self.tick()

    def link(self, source: str, target: str, source_id: str, target_id: str,
             label: str | None = None) -> None:
        self.links.setdefault((source, target), {}).setdefault(source_id, []).append(
            (target_id, label or ""))

    def answer(self, seen: Seen) -> tuple[int, list[tuple[str, str]], Any]:
        headers: list[tuple[str, str]] = []
        if self.daily_remaining is not None:
            headers.append(("X-HubSpot-RateLimit-Daily-Remaining", str(self.daily_remaining)))
        if seen.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, headers, {
                "status": "error", "category": "INVALID_AUTHENTICATION",
                "message": "Authentication credentials not found. This API supports OAuth 2.0 "
                           "authentication and you can find more details at "
                           "https://developers.hubspot.com/docs/methods/auth/oauth-overview"}
        path, q = seen.path, seen.query
        if path == "/crm/v3/owners":
            return 200, headers, self._paged(self.owners, q)
        if path == "/crm/v3/pipelines/deals":
            return 200, headers, {"results": self.pipelines}
        match = re.fullmatch(r"/crm/v3/objects/(\w+)", path)
        if match and seen.method == "GET":
            kind = match.group(1)
            archived = q.get("archived") == "true"
            records = [r for r in self.objects[kind].values() if r["archived"] == archived]
            records.sort(key=lambda r: int(r["id"]))
            props = q.get("properties", "").split(",") if q.get("properties") else []
            limit = min(int(q.get("limit", 10)), 100)
            return 200, headers, self._paged([self._shape(kind, r, props) for r in records],
                                             {**q, "limit": str(limit)})
        match = re.fullmatch(r"/crm/v3/objects/(\w+)/search", path)
        if match and seen.method == "POST":
            return self._search(match.group(1), json.loads(seen.body), headers)
        match = re.fullmatch(r"/crm/v4/associations/(\w+)/(\w+)/batch/read", path)
        if match and seen.method == "POST":
            table = self.links.get((match.group(1), match.group(2)), {})
            results = []
            for item in json.loads(seen.body)["inputs"]:
                links = table.get(str(item["id"]), [])
                if links:
                    results.append({"from": {"id": str(item["id"])}, "to": [
                        {"toObjectId": int(t), "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": label or None}]}
                        for t, label in links]})
            return 200, headers, {"status": "COMPLETE", "results": results,
                                  "startedAt": "2025-01-01T00:00:00Z",
                                  "completedAt": "2025-01-01T00:00:00Z"}
        return 404, headers, {"status": "error", "message": f"no route {path}"}

    def _shape(self, kind: str, record: dict[str, Any], props: list[str]) -> dict[str, Any]:
        keep = {"hs_object_id", "createdate", self.modified_property(kind), *props}
        shaped = {"id": record["id"], "createdAt": record["createdAt"],
                  "updatedAt": record["updatedAt"], "archived": record["archived"],
                  "properties": {k: v for k, v in record["properties"].items() if k in keep}}
        for p in props:
            shaped["properties"].setdefault(p, None)
        if record.get("archivedAt"):
            shaped["archivedAt"] = record["archivedAt"]
        return shaped

    def _paged(self, items: list[dict[str, Any]], q: dict[str, str]) -> dict[str, Any]:
        start = int(q.get("after", 0))
        limit = int(q.get("limit", 100))
        page = items[start:start + limit]
        body: dict[str, Any] = {"results": page}
        if start + limit < len(items):
            nxt = str(start + limit)
            body["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return body

    def _search(self, kind: str, body: dict[str, Any],
                headers: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], Any]:
        limit = int(body.get("limit", 10))
        after = int(body.get("after") or 0)
        if limit > 200:
            return 400, headers, {"status": "error", "category": "VALIDATION_ERROR",
                                  "message": "limit must be at most 200"}
        if after + limit > self.WINDOW:
            return 400, headers, {"status": "error", "category": "VALIDATION_ERROR",
                                  "message": "There was a problem with the request: paging "
                                             "beyond 10000 results is not supported"}
        records = [r for r in self.objects[kind].values() if not r["archived"]]
        for group in body.get("filterGroups") or []:
            for flt in group.get("filters") or []:
                name, op, value = flt["propertyName"], flt["operator"], int(flt["value"])
                assert op == "GTE", op

                def millis(record: dict[str, Any], name: str = name) -> int:
                    text = record["properties"].get(name)
                    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                    return int(moment.timestamp() * 1000)

                records = [r for r in records if millis(r) >= value]
        for sort in body.get("sorts") or []:
            records.sort(key=lambda r, s=sort["propertyName"]: (r["properties"][s], int(r["id"])))
        total = len(records)
        page = records[after:after + limit]
        out: dict[str, Any] = {"total": total, "results": [
            self._shape(kind, r, body.get("properties") or []) for r in page]}
        if after + limit < total:
            out["paging"] = {"next": {"after": str(after + limit)}}
        return 200, headers, out
