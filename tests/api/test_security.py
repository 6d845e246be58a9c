"""The attacks of issue 14, replayed against a real server on the demo company.

Each test is one repro of the issue: reports read beyond the manager's team, access that could
not be taken back, a login limit that locked the real user out or trusted a forged
X-Forwarded-For, crafted input answering 500 and dropping the connection, and the loose ends
(leaky 503, cacheable pages, Host-header redirects, no HEAD, unbounded KPI rows, endless snoozes).
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import duckdb
import httpx
import pytest
from fastapi.routing import APIRoute

from salesradar.api import create_app
from salesradar.app.users import add_user, create_token, set_active, set_password
from salesradar.demo.catalog import BRANCH_TOWNS
from web.test_coexistence import release, writer
from web.test_routes_need_login import all_routes
from web.web_helpers import PASSWORD, Site, csrf_of, login, serve


def sql(site: Site, query: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def team_reps(site: Site) -> set[str]:
    return {str(r[0]) for r in sql(site, "SELECT rep_id FROM reps WHERE team = ?", [site.team])}


def outside_names(site: Site) -> set[str]:
    """Names of customers owned outside the manager's team and by nobody in it."""
    team = team_reps(site)
    rows = sql(site, "SELECT name, rep_id FROM customers")
    inside = {n for n, r in rows if r in team}
    return {n for n, r in rows if r not in team and n not in inside}


# -- 1. reports through the caller's scope ---------------------------------------------------
@pytest.mark.parametrize("kind", ["ceo", "account-review", "diagnostic"])
def test_a_managers_report_covers_only_the_team(site: Site, kind: str) -> None:
    client = site.client()
    mine = client.get(f"/api/v1/reports/{kind}", headers=site.bearer("manager"))
    every = client.get(f"/api/v1/reports/{kind}", headers=site.bearer("admin"))
    assert mine.status_code == every.status_code == 200, mine.text
    assert mine.text != every.text  # was byte-identical: the whole company
    if kind == "account-review":
        others = outside_names(site)
        assert any(name in every.text for name in others)
        assert not [name for name in others if name in mine.text]
        team = team_reps(site)
        assert any(name in mine.text for name, rep in sql(
            site, "SELECT name, rep_id FROM customers") if rep in team)


def test_reps_still_get_no_company_documents(site: Site) -> None:
    for kind in ("ceo", "account-review", "diagnostic", "commitment"):
        refused = site.client().get(f"/api/v1/reports/{kind}", headers=site.bearer("rep"))
        assert refused.status_code == 403


# a route's path parameters, within the manager's team
def _params(site: Site) -> dict[str, str]:
    team = sorted(team_reps(site))
    customer = sql(site, "SELECT min(customer_id) FROM customers WHERE rep_id IN "
                   "(SELECT unnest(?::VARCHAR[]))", [team])[0][0]
    deal = sql(site, "SELECT min(deal_id) FROM deals WHERE owner_rep_id IN "
               "(SELECT unnest(?::VARCHAR[]))", [team])[0][0]
    insight = next(i.id for i in site.store.list_insights() if i.owner_rep_id in team)
    return {"customer_id": customer, "deal_id": deal, "rep_id": team[0], "name": "revenue",
            "insight_id": str(insight), "commitment_id": "1", "kind": "account-review"}


def test_no_api_answer_of_a_manager_names_a_customer_of_another_team(site: Site) -> None:
    """The route walker, as a manager: every GET of the API (reports included) answers with
    no customer id and no customer name owned only outside the team."""
    team = team_reps(site)
    foreign_ids = {str(r[0]) for r in sql(site, "SELECT customer_id, rep_id FROM customers")
                   if r[1] not in team}
    names = outside_names(site)
    params = _params(site)
    client = site.client()
    walked = set()
    for route in all_routes(site.app.routes):
        if not (isinstance(route, APIRoute) and "GET" in route.methods
                and route.path.startswith("/api/")):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], route.path)
        kinds = ["ceo", "account-review", "diagnostic"] if "{kind}" in route.path else [None]
        for kind in kinds:
            target = url.replace("account-review", kind) if kind else url
            response = client.get(target, headers=site.bearer("manager"), params={
                "by": "customer", "from_period": "2025", "to_period": "2026",
                "quarter": "2026Q1", "plan": "x"})
            # 400/404: a plan or commitment the demo's app database does not hold; 403: the
            # administration, closed to managers
            allowed = (403,) if route.path.startswith("/api/v1/admin") else (200, 400, 404)
            assert response.status_code in allowed, (target, response.text[:300])
            found = set(re.findall(r"C\d{5}", response.text)) & foreign_ids
            assert not found, (target, sorted(found)[:5])
            if route.path.startswith("/api/v1/reports"):
                # a whole name: "Cohen Foods Ltd" is not inside "Cohen Foods Ltd Haifa", the
                # name the demo gives the next customer of that surname and trade
                assert not [n for n in names if re.search(
                    rf"{re.escape(n)}(?! (?:{'|'.join(BRANCH_TOWNS)}))", response.text)], target
            if response.status_code == 200:
                walked.add(route.path)
    assert {"/api/v1/reports/{kind}", "/api/v1/customers", "/api/v1/kpis/{name}",
            "/api/v1/accounts/profitability", "/api/v1/whale-curve"} <= walked


# -- 2. access taken back --------------------------------------------------------------------
def _signed_in(site: Site, username: str) -> tuple[httpx.Client, dict[str, str]]:
    add_user(site.db, username, PASSWORD, role="rep", rep_id=site.rep_id)
    client = site.client(username)
    token = {"Authorization": f"Bearer {create_token(site.db, username)}"}
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/inbox").status_code == 200
    assert site.client().get("/api/v1/me", headers=token).status_code == 200
    return client, token


def test_a_disabled_users_session_and_token_answer_401_at_once(site: Site) -> None:
    client, token = _signed_in(site, "leaver")
    set_active(site.db, "leaver", False)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/inbox").headers["location"] == "/login"
    assert site.client().get("/api/v1/me", headers=token).status_code == 401
    set_active(site.db, "leaver", True)  # enabling does not bring the old ones back
    assert client.get("/api/v1/me").status_code == 401
    assert site.client().get("/api/v1/me", headers=token).status_code == 401


def test_a_new_password_ends_the_old_session_and_token(site: Site) -> None:
    client, token = _signed_in(site, "changer")
    set_password(site.db, "changer", "a-brand-new-password")
    assert client.get("/api/v1/me").status_code == 401
    assert site.client().get("/api/v1/me", headers=token).status_code == 401


# -- 3. the login limit ----------------------------------------------------------------------
def _from(url: str, address: str) -> httpx.Client:
    """A client whose connections leave from ``address`` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=url, follow_redirects=False, timeout=120,
                        transport=httpx.HTTPTransport(local_address=address))


def _try(client: httpx.Client, username: str, password: str,
         headers: dict[str, str] | None = None) -> httpx.Response:
    form = client.get("/login")
    return client.post("/login", headers=headers, data={
        "username": username, "password": password, "csrf_token": csrf_of(form.text)})


def test_failures_from_one_address_never_lock_the_user_out_of_another(site: Site) -> None:
    add_user(site.db, "target", PASSWORD, role="rep", rep_id=site.rep_id)
    with _from(site.url, "127.0.0.3") as attacker, _from(site.url, "127.0.0.4") as owner:
        for _ in range(5):
            assert _try(attacker, "target", "guess-guess").status_code == 401
        slowed = _try(attacker, "target", PASSWORD)  # even the right one waits there
        assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0
        assert _try(owner, "target", PASSWORD).status_code == 303


def test_a_forged_forwarded_for_is_not_believed(site: Site) -> None:
    """Guessing across usernames from loopback (which uvicorn's default believed), with a new
    X-Forwarded-For each time: the real address is what counts. On a server of its own, as
    its failures slow down all of 127.0.0.1."""
    from salesradar.app.db import AppDB
    from salesradar.app.users import ADDRESS_LIMIT

    db = AppDB.open("sqlite://")
    add_user(db, "admin", PASSWORD, role="admin")
    with httpx.Client(base_url=serve(create_app(site.workspace, db)), timeout=120) as attacker:
        for i in range(ADDRESS_LIMIT):
            assert _try(attacker, f"guess{i}", "guess-guess",
                        {"X-Forwarded-For": f"10.9.{i // 250}.{i % 250}"}).status_code == 401
        again = _try(attacker, "admin", PASSWORD, {"X-Forwarded-For": "10.9.9.9"})
        assert again.status_code == 429 and int(again.headers["retry-after"]) > 0


def test_a_trusted_proxys_forwarded_for_is_the_client(site: Site) -> None:
    add_user(site.db, "proxied", PASSWORD, role="rep", rep_id=site.rep_id)
    url = serve(create_app(site.workspace, site.db), forwarded_allow_ips="127.0.0.1")
    with httpx.Client(base_url=url, follow_redirects=False, timeout=120) as proxy:
        for _ in range(5):
            assert _try(proxy, "proxied", "guess-guess",
                        {"X-Forwarded-For": "10.8.0.1"}).status_code == 401
        assert _try(proxy, "proxied", PASSWORD,
                    {"X-Forwarded-For": "10.8.0.1"}).status_code == 429
        assert _try(proxy, "proxied", PASSWORD,
                    {"X-Forwarded-For": "10.8.0.2"}).status_code == 303


def test_a_login_waits_for_a_free_password_check(site: Site,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With every argon2 slot busy (a burst of logins), a login answers 503 with Retry-After
    instead of starting one more 64 MiB computation."""
    from salesradar.app import users

    monkeypatch.setattr(users, "VERIFY_WAIT", 0.0)
    taken = [users._VERIFYING.acquire(timeout=30) for _ in range(users.VERIFY_SLOTS)]
    try:
        assert all(taken)
        busy = _try(site.client(), "admin", PASSWORD)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    finally:
        for _ in taken:
            users._VERIFYING.release()
    assert _try(site.client(), "admin", PASSWORD).status_code == 303


# -- 4. crafted input ------------------------------------------------------------------------
NUL = "a\x00b"
HUGE = str(2**64)
EXTREME = ("0001-01-01", "9999-12-31")


FILL = {"kind": "ceo", "name": "revenue"}  # other path parameters are "1"


def _path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), template)


def _fuzz_urls(site: Site) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(method, url, query) of every route with a NUL byte, a huge integer or an extreme date
    in each path parameter and each query parameter."""
    base = {"from_period": "2025", "to_period": "2026", "quarter": "2026Q1", "plan": "x",
            "period": "day"}
    for route in all_routes(site.app.routes):
        if not isinstance(route, APIRoute):
            continue
        names = re.findall(r"\{(\w+)\}", route.path)
        queries = [p.alias or p.name for p in route.dependant.query_params]
        for method in sorted(route.methods):
            for bad in (NUL, HUGE, "-" + HUGE, *EXTREME):
                for name in names:
                    yield method, _path(route.path, {**FILL, name: quote(bad, safe="")}), {}
                for query in queries:
                    yield method, _path(route.path, FILL), {**base, query: bad}


def test_no_500_on_nul_bytes_huge_integers_and_extreme_dates(site: Site) -> None:
    client = site.client()
    answered = 0
    for method, url, query in _fuzz_urls(site):
        response = client.request(method, url, params=query, headers=site.bearer("admin"))
        assert response.status_code < 500, (method, url, query, response.text[:300])
        if url.startswith("/api/") and response.status_code >= 400:
            assert set(response.json()) == {"error"}, (method, url, query)
        answered += 1
    assert answered > 200


@pytest.mark.parametrize(("url", "code"), [
    ("/api/v1/customers?q=a%00b", 400),  # reached DuckDB as a quoted literal
    (f"/api/v1/deals/D{quote(NUL)}", 400),
    ("/api/v1/kpis/revenue?from=0001-01-01&period=day", 422),
    (f"/api/v1/insights/{HUGE}", 422),
])
def test_the_repros_answer_in_the_error_shape(site: Site, url: str, code: int) -> None:
    response = site.client().get(url, headers=site.bearer("admin"))
    assert response.status_code == code, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_500_keeps_the_connection_and_tells_nothing(site: Site,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected error is a 500 in the error shape that names no internals, and the same
    keep-alive connection serves the client's next request."""
    app = create_app(site.workspace, site.db)

    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("/secret/path/salesradar.duckdb held by PID 4242")

    parts = urlsplit(serve(app))
    con = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        con.request("GET", "/api/v1/broken", headers=site.bearer("admin"))
        first = con.getresponse()
        body = first.read().decode()
        local = con.sock.getsockname()
        assert first.status == 500 and '"internal"' in body and "4242" not in body
        assert first.getheader("connection") != "close"
        con.request("GET", "/api/v1/me", headers=site.bearer("admin"))
        second = con.getresponse()
        assert second.status == 200 and b'"admin"' in second.read()
        assert con.sock.getsockname() == local  # the same connection, not a new one
    finally:
        con.close()
    assert "PID 4242" in caplog.text  # the details are in the log


# -- 5. loose ends ---------------------------------------------------------------------------
def test_workspace_busy_says_what_to_do_in_the_users_language(site: Site, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "salesradar.duckdb"
    shutil.copy2(site.workspace, copy)
    url = serve(create_app(copy, site.db))
    held = writer(copy)
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            busy = client.get("/api/v1/customers", headers=site.bearer("admin"))
            login(client, "rep_he")
            page = client.get("/customers")
    finally:
        release(held)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "60"
    message = busy.json()["error"]["message"]
    assert "try again" in message
    for leak in (str(copy), str(tmp_path), "python", "PID", "pid"):
        assert leak not in message and leak not in page.text
    assert page.status_code == 503 and "נסו שוב" in page.text
    assert page.headers["retry-after"] == "60"


@pytest.mark.parametrize("url", ["/", "/customers", "/api/v1/insights", "/api/v1/me",
                                 "/api/v1/reports/ceo"])
def test_scoped_answers_are_not_stored(site: Site, url: str) -> None:
    client = site.client("admin")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_static_assets_may_be_cached(site: Site) -> None:
    css = next(p.name for p in (Path(__file__).parents[2] / "src" / "salesradar" / "web"
                                / "static").iterdir() if p.suffix == ".css")
    response = site.client().get(f"/static/{css}")
    assert response.status_code == 200 and "cache-control" not in response.headers


def test_redirects_never_reflect_the_host_header(site: Site) -> None:
    response = site.client().get("/api/v1/insights/", headers={"Host": "evil.example"})
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/api/v1/insights"


@pytest.mark.parametrize("url", ["/healthz", "/login", "/api/v1/me", "/inbox"])
def test_head_answers_wherever_get_does(site: Site, url: str) -> None:
    client = site.client(None if url in ("/healthz", "/login") else "admin")
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_kpi_rows_come_in_pages(site: Site) -> None:
    client = site.client()
    url = "/api/v1/kpis/revenue?by=customer&period=month"
    first = client.get(url, headers=site.bearer("admin")).json()
    total = first["total"]
    assert total > 1000 and len(first["rows"]) == 1000 and first["next_offset"] == 1000
    last = client.get(f"{url}&offset={total - 3}&limit=10", headers=site.bearer("admin")).json()
    assert len(last["rows"]) == 3 and last["next_offset"] is None
    assert client.get(f"{url}&limit=10001", headers=site.bearer("admin")).status_code == 422


def test_lists_page_with_offset(site: Site) -> None:
    client = site.client()
    # compared by id: DuckDB's parallel sums may differ in the last digit between two calls
    for url, key in (("/api/v1/customers?limit=4", "customer_id"),
                     ("/api/v1/insights?limit=4", "id"),
                     ("/api/v1/pvm?from_period=2024&to_period=2025&by=customer&limit=4",
                      "customer_id")):
        whole = [r[key] for r in client.get(url, headers=site.bearer("admin")).json()]
        second = [r[key] for r in client.get(f"{url}&offset=2",
                                             headers=site.bearer("admin")).json()]
        assert len(whole) == 4 and second[:2] == whole[2:], url
    for url, key in (("/api/v1/whale-curve", "curve"),
                     ("/api/v1/accounts/profitability", "customers")):
        whole = client.get(url, headers=site.bearer("admin")).json()
        part = client.get(f"{url}?limit=3&offset=1", headers=site.bearer("admin")).json()
        ids = [r["customer_id"] for r in whole[key][1:4]]
        assert [r["customer_id"] for r in part[key]] == ids, url
        assert part["total"] == whole["total"] > 4, url
        assert part["next_offset"] == 4 and whole["next_offset"] is None


def test_a_note_with_a_nul_byte_is_refused(site: Site) -> None:
    some = site.store.list_insights(status=["new", "sent"])[0]
    refused = site.client().post(f"/api/v1/insights/{some.id}/status",
                                 headers=site.bearer("admin"),
                                 json={"status": "ack", "note": "called\x00"})
    assert refused.status_code == 422 and set(refused.json()) == {"error"}
    assert site.store.get(some.id).status == some.status


def test_a_snooze_is_at_most_ninety_days(site: Site) -> None:
    some = site.store.list_insights(status=["new", "sent"])[0]
    client = site.client()
    today = dt.date.today()
    for until in ("9999-12-31", (today + dt.timedelta(days=91)).isoformat()):
        refused = client.post(f"/api/v1/insights/{some.id}/status", headers=site.bearer("admin"),
                              json={"status": "snooze", "until": until})
        assert refused.status_code == 400, refused.text
        assert "90 days" in refused.json()["error"]["message"]
    assert site.store.get(some.id).status == some.status
    longest = (today + dt.timedelta(days=90)).isoformat()
    ok = client.post(f"/api/v1/insights/{some.id}/status", headers=site.bearer("admin"),
                     json={"status": "snooze", "until": longest})
    assert ok.status_code == 200 and ok.json()["status"] == "snoozed"
