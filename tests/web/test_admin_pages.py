"""The administration pages (issue 16, item 3 and 9) against the real server of the demo company:
admins only, the CLI's checks in the forms, every change in the audit log, and account plans
and actions from the customer 360 for whoever may see the customer.

Each test restores the shared state it changes (users stay, disabled: they cannot be deleted).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from sqlalchemy import delete

from delivery.servers import Recorder, http_server, smtp_server
from salesradar.app import audit
from salesradar.app.commitments import CommitmentRow
from salesradar.app.management import (
    AccountActionRow,
    AccountPlanRow,
    CommissionPlanRow,
    SalesTargetRow,
)
from salesradar.app.settings import reset_setting
from salesradar.app.users import add_user, set_active
from web.web_helpers import PASSWORD, Site, csrf_of, login

PAGES = ["/admin", "/admin/users", "/admin/settings", "/admin/channels", "/admin/targets",
         "/admin/commissions", "/admin/commitments", "/admin/audit",
         "/admin/commitments/check?metric=revenue"]


def test_pages_are_for_admins_only(site: Site) -> None:
    admin, manager, rep = (site.client(u) for u in ("admin", "manager", "rep"))
    for path in PAGES:
        assert admin.get(path).status_code == 200, path
        assert manager.get(path).status_code == 403, path
        assert rep.get(path).status_code == 403, path
    hub = admin.get("/admin").text
    for link in ("/admin/users", "/admin/data", "/admin/refresh", "/admin/audit"):
        assert f'href="{link}"' in hub
    # a rep's form post is refused before anything is read
    page = rep.get("/inbox")
    refused = rep.post("/admin/users", data={"csrf_token": csrf_of(page.text),
                                             "username": "x", "password": PASSWORD})
    assert refused.status_code == 403
    api = site.client()
    assert api.get("/api/v1/admin/users", headers=site.bearer("admin")).status_code == 200
    for who in ("manager", "rep"):
        assert api.get("/api/v1/admin/audit", headers=site.bearer(who)).status_code == 403


def test_hebrew_admin_pages(site: Site) -> None:
    add_user(site.db, "admin_he", PASSWORD, role="admin", lang="he")
    client = site.client("admin_he")
    for path, word in (("/admin", "ניהול מערכת"), ("/admin/users", "הוספת משתמש"),
                       ("/admin/targets", "קביעת יעד"), ("/admin/commitments", "רישום התחייבות"),
                       ("/admin/audit", "יומן שינויים"),
                       ("/admin/settings", "מטבע החברה"),
                       ("/admin/channels", "תור השליחה"), ("/admin/commissions", "תוכניות")):
        page = client.get(path)
        assert page.status_code == 200 and 'dir="rtl"' in page.text and word in page.text, path


def test_add_a_user_who_can_log_in_then_disable(site: Site) -> None:
    admin = site.client("admin")
    form = {"csrf_token": csrf_of(admin.get("/admin/users").text), "username": "newrep",
            "password": PASSWORD, "role": "boss", "rep_id": site.rep_id, "team": "",
            "lang": "he"}
    bad = admin.post("/admin/users", data=form)
    assert bad.status_code == 400 and "role must be one of" in bad.text
    assert 'value="newrep"' in bad.text  # the form keeps what was typed
    no_csrf = admin.post("/admin/users", data={**form, "csrf_token": "x", "role": "rep"})
    assert no_csrf.status_code == 403
    no_rep = admin.post("/admin/users", data={**form, "role": "rep", "rep_id": ""})
    assert no_rep.status_code == 400 and "a rep needs" in no_rep.text
    added = admin.post("/admin/users", data={**form, "role": "rep"})
    assert added.status_code == 303, added.text
    again = admin.post("/admin/users", data={**form, "role": "rep"})
    assert again.status_code == 400 and "exists already" in again.text
    try:
        newcomer = site.client("newrep")
        assert newcomer.get("/inbox").status_code == 200
        assert newcomer.get("/admin").status_code == 403
        csrf = csrf_of(admin.get("/admin/users").text)
        changed = admin.post("/admin/users/profile", data={
            "csrf_token": csrf, "username": "newrep", "role": "manager", "rep_id": "",
            "team": site.team, "lang": "en"})
        assert changed.status_code == 303
        assert newcomer.get("/").status_code == 200  # a manager now: the dashboard
        short = admin.post("/admin/users/password", data={
            "csrf_token": csrf, "username": "newrep", "password": "short"})
        assert short.status_code == 400 and "at least 8" in short.text
        assert admin.post("/admin/users/active", data={
            "csrf_token": csrf, "username": "newrep", "active": "0"}).status_code == 303
        assert newcomer.get("/inbox").headers["location"] == "/login"
    finally:
        set_active(site.db, "newrep", False)
    actions = [(e["action"], e["target"]) for e in audit.list_events(site.db, actor="admin")]
    assert {("user.add", "newrep"), ("user.role", "newrep"), ("user.disable", "newrep")} <= set(
        actions)
    assert all("short" not in str(e["detail"]) for e in audit.list_events(site.db))


def test_a_setting_changed_shows_and_a_bad_one_says_why(site: Site) -> None:
    admin = site.client("admin")
    csrf = csrf_of(admin.get("/admin/settings").text)
    try:
        bad = admin.post("/admin/settings", data={"csrf_token": csrf, "key": "coverage_min",
                                                  "value": "lots"})
        assert bad.status_code == 400 and 'data-testid="setting-coverage_min-error"' in bad.text
        assert admin.post("/admin/settings", data={"csrf_token": csrf, "key": "no_such",
                                                   "value": "1"}).status_code == 400
        ok = admin.post("/admin/settings", data={"csrf_token": csrf, "key": "coverage_min",
                                                 "value": "2.5"})
        assert ok.status_code == 303
        page = admin.get("/admin/settings").text
        assert 'data-testid="setting-coverage_min-value" data-current="2.5"' in page
        api = site.client().get("/api/v1/admin/settings", headers=site.bearer("admin")).json()
        assert next(s for s in api if s["key"] == "coverage_min")["value"] == 2.5
        reset = admin.post("/admin/settings", data={"csrf_token": csrf, "key": "coverage_min",
                                                    "reset": "1"})
        assert reset.status_code == 303
        assert 'data-current="3.0"' in admin.get("/admin/settings").text
    finally:
        reset_setting(site.db, "coverage_min")
    log = admin.get("/admin/audit?action=settings&who=admin").text
    assert "settings.set" in log and "settings.reset" in log and "coverage_min" in log


def _team_rep(site: Site) -> str:
    return site.rep_id


def test_a_target_is_saved_with_the_checks_of_the_cli(site: Site) -> None:
    admin = site.client("admin")
    csrf = csrf_of(admin.get("/admin/targets").text)
    form = {"csrf_token": csrf, "kind": "rep", "who": site.rep_id, "period": "2031-01",
            "metric": "revenue", "value": "123456"}
    try:
        bad = admin.post("/admin/targets", data={**form, "period": "next year"})
        assert bad.status_code == 400 and 'data-testid="form-error"' in bad.text
        assert admin.post("/admin/targets", data={**form, "period": "9999-12"}).status_code == 400
        assert admin.get("/admin/targets?period=9999-12").status_code == 200  # says why
        negative = admin.post("/admin/targets", data={**form, "value": "-5"})
        assert negative.status_code == 400 and "negative" in negative.text
        assert admin.post("/admin/targets", data=form).status_code == 303
        shown = admin.get("/admin/targets?period=2031-01").text
        assert site.rep_id in shown and "123,456" in shown
        upload = admin.post("/admin/targets/upload", data={"csrf_token": csrf}, files={
            "file": ("t.csv", f"rep_id,team,period,metric,value\n{site.rep_id},,2031-02,"
                     "revenue,1000\n,X,2031-02,bogus,5\n", "text/csv")})
        assert upload.status_code == 400 and "row 3" in upload.text
        assert "1,000" not in admin.get("/admin/targets?period=2031-02").text  # none saved
    finally:
        with site.db.session() as s:
            s.execute(delete(SalesTargetRow).where(SalesTargetRow.rep_id == site.rep_id,
                                                   SalesTargetRow.set_by == "admin"))
    assert audit.list_events(site.db, action="target.set")[0]["target"] == site.rep_id


def test_a_commission_plan_from_yaml(site: Site) -> None:
    admin = site.client("admin")
    csrf = csrf_of(admin.get("/admin/commissions").text)
    try:
        bad = admin.post("/admin/commissions", data={
            "csrf_token": csrf, "document": "name: X\nmetrics: [{metric: visits}]\n"})
        assert bad.status_code == 400 and "metric must be one of" in bad.text
        broken = admin.post("/admin/commissions", data={"csrf_token": csrf,
                                                        "document": "name: [unclosed"})
        assert broken.status_code == 400 and "cannot be read" in broken.text
        good = admin.post("/admin/commissions", data={
            "csrf_token": csrf, "document": "name: Test plan\ngrain: month\nmetrics:\n"
            "  - {metric: revenue, tiers: [{from: 0, rate: 0.01}]}\n"})
        assert good.status_code == 303
        listed = admin.get("/admin/commissions?name=Test%20plan").text
        assert "Test plan" in listed and "rate: 0.01" in listed
    finally:
        with site.db.session() as s:
            s.execute(delete(CommissionPlanRow).where(CommissionPlanRow.name == "Test plan"))


def test_a_vendor_commitment_with_its_warnings(site: Site) -> None:
    admin = site.client("admin")
    page = admin.get("/admin/commitments")
    assert '<script src="/static/admin.js"' in page.text and "<script>" not in page.text
    assert admin.get("/static/admin.js").status_code == 200
    terms = {"name": "Vendor X +20%", "vendor": "Vendor X", "model": "kpi",
             "metric": "revenue", "improvement": "20", "start": "2026-01-01",
             "end": "2026-02-15", "data_source": "", "no_baseline": "1"}
    checked = admin.get("/admin/commitments/check", params=terms).json()
    codes = {c["code"] for c in checked["concerns"]}
    assert {"no_baseline", "no_data_source", "unrealistic_timeline"} <= codes
    half = admin.get("/admin/commitments/check", params={**terms, "metric": "nonsense"}).json()
    assert "unknown KPI" in half["error"]
    bad = admin.post("/admin/commitments", data={**terms, "csrf_token": csrf_of(page.text),
                                                 "improvement": "lots"})
    assert bad.status_code == 400 and "must be a number" in bad.text
    created = admin.post("/admin/commitments", data={**terms, "csrf_token": csrf_of(page.text)})
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    try:
        shown = admin.get(url)
        assert shown.status_code == 200
        assert "no baseline" in shown.text and "no data source" in shown.text
        assert 'data-testid="commitment-verdict"' in shown.text  # "vague": cannot be judged
        assert 'data-testid="commitment-fee"' in shown.text
        assert "Vendor X +20%" in admin.get("/admin/commitments").text
    finally:
        with site.db.session() as s:
            s.execute(delete(CommitmentRow).where(CommitmentRow.id == int(url.rsplit("/", 1)[1])))
    assert audit.list_events(site.db, action="commitment.add")[0]["actor"] == "admin"


def test_a_test_message_goes_through_the_real_channel(site: Site,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(secret="s3cret")
    admin = site.client("admin")
    assert "SALESRADAR_WEBHOOK_URL" in admin.get("/admin/channels").text  # none: how to set
    with http_server(recorder) as url:
        monkeypatch.setenv("SALESRADAR_WEBHOOK_URL", f"{url}/hook")
        monkeypatch.setenv("SALESRADAR_WEBHOOK_SECRET", "s3cret")
        page = admin.get("/admin/channels")
        assert 'data-testid="channel-row-webhook"' in page.text
        assert 'data-testid="outbox-sent"' in page.text and "s3cret" not in page.text
        sent = admin.post("/admin/channels/test", data={"csrf_token": csrf_of(page.text),
                                                        "channel": "webhook"})
        assert sent.status_code == 200 and 'class="good"' in sent.text
        assert len(recorder.processed) == 1
        assert recorder.processed[0].json()["subject"] == "salesradar: a test message"
        unknown = admin.post("/admin/channels/test", data={"csrf_token": csrf_of(page.text),
                                                           "channel": "pigeon"})
        assert unknown.status_code == 400
    with smtp_server() as (sink, port):
        monkeypatch.setenv("SALESRADAR_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SALESRADAR_SMTP_PORT", str(port))
        monkeypatch.setenv("SALESRADAR_SMTP_FROM", "radar@example.com")
        page = admin.get("/admin/channels")
        assert 'data-testid="channel-email-email"' in page.text
        mailed = admin.post("/admin/channels/test", data={
            "csrf_token": csrf_of(page.text), "channel": "email", "email": "boss@example.com"})
        assert mailed.status_code == 200 and 'class="good"' in mailed.text
        assert [m["To"] for m in sink.messages] == ["boss@example.com"]
    assert audit.list_events(site.db, action="channel.test")[0]["detail"] == {"ok": True}


@pytest.fixture
def customer(site: Site) -> Iterator[str]:
    """A customer of the test rep, without a plan before and after the test."""
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        row = con.execute("SELECT min(customer_id) FROM customers WHERE rep_id = ?",
                          [site.rep_id]).fetchone()
    assert row and row[0]
    cid = str(row[0])

    def clean() -> None:
        with site.db.session() as s:
            s.execute(delete(AccountActionRow).where(AccountActionRow.customer_id == cid))
            s.execute(delete(AccountPlanRow).where(AccountPlanRow.customer_id == cid))
    clean()
    yield cid
    clean()


def test_plan_and_actions_from_the_360_by_the_customers_rep(site: Site, customer: str) -> None:
    rep = site.client("rep")
    page = rep.get(f"/customers/{customer}")
    assert page.status_code == 200 and 'data-testid="plan-create"' in page.text
    csrf = csrf_of(page.text)
    other = site.client("other")
    other_csrf = csrf_of(other.get("/inbox").text)
    assert other.post(f"/customers/{customer}/plan", data={
        "csrf_token": other_csrf, "any_tier": "1"}).status_code == 404
    assert rep.post(f"/customers/{customer}/plan", data={"any_tier": "1"}).status_code == 403
    created = rep.post(f"/customers/{customer}/plan", data={
        "csrf_token": csrf, "any_tier": "1", "revenue_target": "250000"})
    assert created.status_code == 303, created.text
    assert rep.post(f"/customers/{customer}/actions", data={
        "csrf_token": csrf, "title": "Visit", "due": "soon"}).status_code == 400
    added = rep.post(f"/customers/{customer}/actions", data={
        "csrf_token": csrf, "title": "Visit the buyer", "owner": "rep", "due": "2031-01-15"})
    assert added.status_code == 303
    text = rep.get(f"/customers/{customer}").text
    assert "₪250,000" in text and "Visit the buyer" in text
    action = int(text.split('data-testid="plan-action-')[1].split('"')[0].split("-")[0])
    assert other.post(f"/customers/{customer}/actions/status", data={
        "csrf_token": other_csrf, "action_id": str(action), "status": "done"}).status_code == 404
    done = rep.post(f"/customers/{customer}/actions/status", data={
        "csrf_token": csrf, "action_id": str(action), "status": "done"})
    assert done.status_code == 303
    edited = rep.post(f"/customers/{customer}/plan/edit", data={
        "csrf_token": csrf, "revenue_target": "300000", "needs": "faster delivery",
        "pricing_strategy": "", "note": "after the visit"})
    assert edited.status_code == 303
    text = rep.get(f"/customers/{customer}").text
    assert "₪300,000" in text and f'data-testid="plan-action-{action}-reopen"' in text
    log = site.client("admin").get("/admin/audit?who=rep").text
    for action_name in ("plan.create", "action.add", "action.done", "plan.revise"):
        assert action_name in log
    assert customer in log


def test_a_new_user_logs_in_with_the_language_chosen(site: Site) -> None:
    admin = site.client("admin")
    form = {"csrf_token": csrf_of(admin.get("/admin/users").text), "username": "mgr_he",
            "password": PASSWORD, "role": "manager", "team": site.team, "rep_id": "",
            "lang": "he"}
    assert admin.post("/admin/users", data=form).status_code == 303
    try:
        client = site.client()
        login(client, "mgr_he")
        assert 'dir="rtl"' in client.get("/").text
    finally:
        set_active(site.db, "mgr_he", False)
