"""The pages on the demo company: login, CSRF, rate limit, roles, inbox actions, Hebrew."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from salesradar.api import create_app
from salesradar.app.db import AppDB
from salesradar.app.users import add_user
from web.web_helpers import PASSWORD, Site, csrf_of, serve


def test_login_sets_a_signed_httponly_lax_cookie_and_logout_ends_the_session(site: Site) -> None:
    client = site.client()
    form = client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                           "csrf_token": csrf_of(form.text)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("salesradar_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    stolen = dict(client.cookies)
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="kpi-tile"' in page.text
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    replay = site.client()
    replay.cookies.update(stolen)  # the old cookie no longer opens anything
    assert replay.get("/").headers["location"] == "/login"


def test_a_login_post_without_its_csrf_token_fails(site: Site) -> None:
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "salesradar_session" not in response.headers.get("set-cookie", "")


def test_form_posts_without_the_session_csrf_token_fail(site: Site) -> None:
    client = site.client("rep")
    insight = next(i for i in site.store.list_insights(status=["new", "sent"])
                   if i.owner_rep_id == site.rep_id)
    for data in ({"status": "done"}, {"status": "done", "csrf_token": "forged"}):
        response = client.post(f"/insights/{insight.id}/status", data=data)
        assert response.status_code == 403
    assert site.store.get(insight.id).status == insight.status
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/settings/lang", data={"lang": "he"}).status_code == 403


def test_inbox_actions_move_the_insight(site: Site) -> None:
    client = site.client("rep")
    page = client.get("/inbox")
    ids = [int(x) for x in re.findall(r'data-testid="insight-row" data-insight-id="(\d+)"',
                                      page.text)]
    mine = {i.id: i for i in site.store.list_insights() if i.owner_rep_id == site.rep_id}
    assert ids and set(ids) <= set(mine)
    from salesradar.insights.inbox import group, order

    open_mine = [i.to_dict() for i in mine.values()
                 if i.status in ("new", "sent", "acknowledged")]
    assert ids == [i["id"] for i in group(order(open_mine))][:len(ids)]  # what to do first
    target = ids[0]
    for action in ("ack", "done", "dismiss", "snooze"):
        assert f'data-testid="insight-action-{action}"' in page.text
    response = client.post(f"/insights/{target}/status", headers={"referer": "/inbox"},
                           data={"status": "snooze", "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/inbox?undo={target}#i-")
    moved = site.store.get(target)
    assert moved.status == "snoozed" and moved.snoozed_until is not None
    assert f'data-insight-id="{target}"' not in client.get("/inbox").text


def test_a_rep_cannot_see_or_move_another_reps_things(site: Site) -> None:
    client = site.client("rep")
    token = csrf_of(client.get("/inbox").text)
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        customer, name = con.execute(
            "SELECT customer_id, name FROM customers WHERE rep_id = ? ORDER BY 1 LIMIT 1",
            [site.other_rep_id]).fetchone() or ("", "")
    page = client.get(f"/customers/{customer}")
    assert page.status_code == 404 and name not in page.text
    assert client.get(f"/reps/{site.other_rep_id}").status_code == 404
    assert client.get(f"/inbox?rep={site.other_rep_id}").status_code == 404
    theirs = next(i for i in site.store.list_insights(status=["new", "sent"])
                  if i.owner_rep_id == site.other_rep_id)
    moved = client.post(f"/insights/{theirs.id}/status",
                        data={"status": "done", "csrf_token": token})
    assert moved.status_code == 404
    assert site.store.get(theirs.id).status == theirs.status
    assert customer not in client.get("/customers").text


def test_a_rep_goes_to_the_inbox_and_a_manager_sees_the_team(site: Site) -> None:
    rep = site.client("rep")
    assert rep.get("/").headers["location"] == "/inbox"
    manager = site.client("manager")
    team_page = manager.get("/inbox")
    shown = {int(x) for x in re.findall(r'data-insight-id="(\d+)"', team_page.text)}
    team = {i.id for i in site.store.list_insights(status=["new", "sent", "acknowledged"])
            if i.team == site.team and i.owner_rep_id}
    assert shown and shown <= team
    one = manager.get(f"/inbox?rep={site.rep_id}").text
    assert {int(x) for x in re.findall(r'data-insight-id="(\d+)"', one)} <= {
        i.id for i in site.store.list_insights() if i.owner_rep_id == site.rep_id}
    assert manager.get(f"/inbox?rep={site.other_rep_id}").status_code == 404


def test_hebrew_pages_are_right_to_left_with_shekels_and_dates(site: Site) -> None:
    client = site.client("rep_he")
    page = client.get("/inbox").text
    assert '<html lang="he" dir="rtl">' in page
    assert "תיבת משימות" in page and "₪" in page
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        (customer,) = con.execute("SELECT customer_id FROM customers WHERE rep_id = ? ORDER BY 1 "
                                  "LIMIT 1", [site.rep_id]).fetchone() or ("",)
    view = client.get(f"/customers/{customer}").text
    assert 'data-testid="customer-header"' in view
    assert re.search(r"\b\d\d/\d\d/20\d\d\b", view)  # dd/mm/yyyy
    switch = client.post("/settings/lang", data={"lang": "en", "csrf_token": csrf_of(page)},
                         headers={"referer": "/inbox"})
    assert switch.status_code == 303
    assert '<html lang="en" dir="ltr">' in client.get("/inbox").text
    client.post("/settings/lang", data={"lang": "he", "csrf_token": csrf_of(page)})


def test_pages_load_nothing_from_other_hosts(site: Site) -> None:
    client = site.client("admin")
    for url in ("/", "/inbox", "/customers", "/reps", "/pipeline", "/login"):
        html = client.get(url).text
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            # a phone number or an e-mail address to reach a customer is not a load
            assert ref.startswith(("/", "tel:", "mailto:")), (url, ref)
        assert not re.findall(r'src="(?!/)', html), url
    assert 'data-testid="chart"' in client.get("/").text
    assert client.get("/static/app.css").status_code == 200


def test_login_is_rate_limited_per_username(site: Site, tmp_path: Path) -> None:
    # its own app database: the failures must not block the other tests' logins
    db = AppDB.open(f"sqlite:///{tmp_path / 'app.sqlite'}")
    add_user(db, "dana", PASSWORD, role="admin")
    import httpx

    with httpx.Client(base_url=serve(create_app(site.workspace, db)),
                      follow_redirects=False) as client:
        def attempt(password: str) -> httpx.Response:
            token = csrf_of(client.get("/login").text)
            return client.post("/login", data={"username": "dana", "password": password,
                                               "csrf_token": token})

        for _ in range(5):
            wrong = attempt("wrong password")
            assert wrong.status_code == 401 and 'data-testid="login-error"' in wrong.text
        blocked = attempt(PASSWORD)  # even the right password waits out the window
        assert blocked.status_code == 429 and 'data-testid="login-error"' in blocked.text
    db.close()


def test_pages_forbid_other_hosts_and_framing(site: Site) -> None:
    page = site.client("admin").get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    docs = site.client().get("/docs").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in docs  # Swagger UI's own inline start-up


def test_the_management_page_follows_the_scope(site: Site) -> None:
    admin = site.client("admin").get("/manage")
    assert admin.status_code == 200 and 'data-testid="reports"' in admin.text
    rep = site.client("rep_he").get("/manage")
    assert rep.status_code == 200 and 'data-testid="reports"' not in rep.text
    assert '<html lang="he" dir="rtl">' in rep.text and 'data-testid="pacing"' in rep.text
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        names = [str(r[0]) for r in con.execute(
            "SELECT name FROM reps WHERE rep_id <> ? AND team <> (SELECT team FROM reps "
            "WHERE rep_id = ?)", [site.rep_id, site.rep_id]).fetchall()]
    funnel = rep.text.split('data-testid="funnels"')[1].split("</section>")[0]
    assert not any(name in funnel for name in names)  # no other team's rep in the rep's view


def test_a_bad_snooze_date_is_refused_on_the_page_and_in_the_api(site: Site) -> None:
    client = site.client("admin")
    token = csrf_of(client.get("/inbox").text)
    some = site.store.list_insights(status=["new", "sent"])[-1]
    page = client.post(f"/insights/{some.id}/status",
                       data={"status": "snooze", "until": "31/12/2026", "csrf_token": token})
    assert page.status_code == 400 and "YYYY-MM-DD" in page.text
    api = site.client().post(f"/api/v1/insights/{some.id}/status", headers=site.bearer("admin"),
                             json={"status": "snooze", "until": "31/12/2026"})
    # the API's schema types it as a date: a validation error (422) in the one error shape
    assert api.status_code == 422 and set(api.json()) == {"error"}
    assert site.store.get(some.id).status == some.status
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()  # within the 90-day cap
    later = client.post(f"/insights/{some.id}/status", headers={"referer": "/inbox"},
                        data={"status": "snooze", "until": until, "csrf_token": token})
    assert later.status_code == 303
    moved = site.store.get(some.id)
    assert moved.status == "snoozed" and str(moved.snoozed_until)[:10] == until


def test_a_managers_dashboard_says_whose_numbers_and_marks_the_partial_month(site: Site) -> None:
    # the demo data end before the last day of their month: that month is partial
    page = site.client("manager").get("/").text
    assert "Team dashboard" in page and "CEO dashboard" not in page
    assert f"team {site.team}" in page and "not the company&#39;s" in page
    assert 'data-testid="partial-period"' in page and "partial: " in page
    assert "no flag fires on it" in page
    admin = site.client("admin").get("/").text
    assert "CEO dashboard" in admin and "The whole company&#39;s numbers." in admin


def test_a_scorecard_page_renders_each_kpi_with_its_reason_when_empty(site: Site) -> None:
    page = site.client("admin").get(f"/reps/{site.rep_id}")
    assert page.status_code == 200
    assert page.text.count('data-testid="kpi-tile"') >= 5
