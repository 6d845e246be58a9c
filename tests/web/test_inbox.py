"""The inbox (issue 16, items 5 and 7) on the demo company: what to do first, counts and pages,
the position kept after an action, undo, the trail, logged outcomes, leads and contacts; and the
deal list beside the pipeline."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import duckdb
from sqlalchemy import delete

from salesradar.app.audit import list_events
from salesradar.app.rep_outcomes import RepOutcome
from salesradar.insights.inbox import STALE_LEAD_DAYS, group, order, page_of
from salesradar.insights.texts import render
from salesradar.web.i18n import t
from salesradar.web.worklist import tel
from web.web_helpers import Site, csrf_of

ROW = re.compile(r'data-testid="insight-row" data-insight-id="(\d+)"')


def _lead(i: int, age_hours: float, value: float = 10.0, priority: int = 10) -> dict[str, Any]:
    created = dt.datetime(2026, 11, 30, tzinfo=dt.UTC) - dt.timedelta(hours=age_hours)
    return {"id": i, "kind": "lead_not_contacted", "subject_type": "lead", "subject_id": f"L{i}",
            "priority": priority, "value_at_stake": value,
            "evidence": {"created_at": created.isoformat(), "sla_hours": 24,
                         "age_hours": age_hours}}


def test_warm_leads_come_first_by_due_time_and_stale_leads_last() -> None:
    big = {"id": 1, "kind": "single_threaded_account", "subject_type": "customer",
           "subject_id": "C1", "priority": 95, "value_at_stake": 900_000.0,
           "evidence": {"customer_id": "C1"}}
    same_customer = {"id": 2, "kind": "cross_sell", "subject_type": "customer",
                     "subject_id": "C1/S1", "priority": 5, "value_at_stake": 10.0,
                     "evidence": {"customer_id": "C1"}}
    middle = {"id": 3, "kind": "churn_risk", "subject_type": "customer", "subject_id": "C2",
              "priority": 50, "value_at_stake": 5_000.0, "evidence": {"customer_id": "C2"}}
    rows = [big, same_customer, middle, _lead(10, 30), _lead(11, 60),
            _lead(12, 24 * (STALE_LEAD_DAYS + 900), value=99.0, priority=99)]
    assert [r["id"] for r in group(order(rows))] == [11, 10, 1, 2, 3, 12]


def test_a_stale_lead_is_re_qualified_not_called_now() -> None:
    evidence = {"lead_id": "L000006", "age_hours": 1091 * 24.0, "sla_hours": 24,
                "source": "web", "now": "2026-11-30 00:00:00"}
    en, he = render("lead_not_contacted", evidence)
    assert "Re-qualify" in en.next_step and "now" not in en.next_step.lower()
    assert "לבדוק מחדש" in he.next_step and "עכשיו" not in he.next_step
    fresh, _ = render("lead_not_contacted", {**evidence, "age_hours": 30.0})
    assert fresh.next_step.startswith("Call lead L000006 now")


def test_pages_count_and_keep_the_filter() -> None:
    rows = [{"id": i} for i in range(1, 300)]
    first, last = page_of(rows, 1, 50), page_of(rows, 99, 50)
    assert (first["first"], first["last"], first["total"], first["pages"]) == (1, 50, 299, 6)
    assert (last["page"], last["first"], last["last"]) == (6, 251, 299)


def test_the_inbox_pages_with_counts(site: Site) -> None:
    client = site.client("manager")
    scope_total = len(client.get("/api/v1/insights", params={"limit": 5000}).json())
    page = client.get("/inbox")
    assert f'data-total="{scope_total}"' in page.text
    shown = ROW.findall(page.text)
    assert len(shown) == min(50, scope_total)
    assert t("rows_of", "en", first=1, last=len(shown), total=scope_total) in re.sub(
        r"</?bdi[^>]*>", "", page.text)
    if scope_total > 50:
        assert 'data-testid="page-next" href="/inbox?page=2"' in page.text
        second = client.get("/inbox", params={"page": 2})
        assert not set(ROW.findall(second.text)) & set(shown)
        assert 'data-testid="page-previous" href="/inbox?page=1"' in second.text
    rep = site.rep_id
    filtered = client.get("/inbox", params={"rep": rep})
    mine = len(client.get("/api/v1/insights", params={"limit": 5000, "rep": rep}).json())
    assert f'data-total="{mine}"' in filtered.text
    if mine > 50:
        assert f'href="/inbox?rep={rep}&amp;page=2"' in filtered.text


def test_an_action_keeps_the_position_and_can_be_undone(site: Site) -> None:
    client = site.client("rep")
    page = client.get("/inbox", params={"page": 1})
    ids = [int(i) for i in ROW.findall(page.text)]
    target, following = ids[1], ids[2]
    before = site.store.get(target).status
    moved = client.post(f"/insights/{target}/status", data={
        "status": "done", "back": "/inbox?page=1", "next_id": str(following),
        "csrf_token": csrf_of(page.text)})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/inbox?page=1&undo={target}#i-{following}"
    assert site.store.get(target).status == "done"
    assert any(e["action"] == "insight.status" and e["target"] == str(target)
               for e in list_events(site.db, action="insight.status"))
    after = client.get(moved.headers["location"].split("#")[0])
    assert 'data-testid="undo-toast"' in after.text and str(target) not in ROW.findall(after.text)
    back = client.post(f"/insights/{target}/undo", data={
        "back": "/inbox?page=1", "csrf_token": csrf_of(after.text)})
    assert back.status_code == 303 and back.headers["location"] == f"/inbox?page=1#i-{target}"
    assert site.store.get(target).status == before
    again = client.get("/inbox")
    assert str(target) in ROW.findall(again.text)
    # the trail shows both moves, with who made them
    trail = again.text[again.text.index(f'id="i-{target}"'):]
    trail = trail[:trail.index("</li>\n", trail.index('data-testid="trail"'))]
    assert "by rep (web)" in trail and "undo by rep (web)" in trail
    # an undo of an undo, or of a run's change, is refused
    refused = client.post(f"/insights/{target}/undo", data={"csrf_token": csrf_of(again.text)})
    assert refused.status_code == 400


def test_a_rep_logs_an_outcome_that_is_stored_and_in_the_trail(site: Site) -> None:
    client = site.client("rep_he")
    page = client.get("/inbox")
    target = int(ROW.findall(page.text)[0])
    assert 'data-testid="outcome-ordered"' in page.text and "תיעוד תוצאה" in page.text
    try:
        logged = client.post(f"/insights/{target}/outcome", data={
            "outcome": "ordered", "note": "הזמין 2 משטחים", "back": "/inbox",
            "csrf_token": csrf_of(page.text)})
        assert logged.status_code == 303 and logged.headers["location"] == f"/inbox#i-{target}"
        from salesradar.app.rep_outcomes import logged as stored
        from salesradar.app.rep_outcomes import reported_outcome
        from salesradar.insights.impact import reported

        found = stored(site.db, [target])[target]
        assert [(o.outcome, o.note, o.actor) for o in found] == [
            ("ordered", "הזמין 2 משטחים", "rep_he")]
        assert reported_outcome(site.db, target) == "ordered"
        api = site.client().get(f"/api/v1/insights/{target}", headers=site.bearer("rep"))
        assert [(o["outcome"], o["source"]) for o in api.json()["outcomes"]] == [
            ("ordered", "rep")]
        kind = site.store.get(target).kind
        assert any(r["key"] == kind and r["ordered"] >= 1 and r["source"] == "rep"
                   for r in reported(site.store))
        after = client.get("/inbox").text
        row = after[after.index(f'id="i-{target}"'):]
        assert 'data-what="outcome"' in row.split("</li>\n  <li")[0]
        # the note as written, its number isolated left to right like any text on the page
        assert "הזמין <bdi dir=\"ltr\">2</bdi> משטחים" in row
        assert any(e["target"] == str(target)
                   for e in list_events(site.db, action="insight.outcome"))
        # a bad outcome is refused; another rep's insight is not there
        bad = client.post(f"/insights/{target}/outcome", data={
            "outcome": "maybe", "csrf_token": csrf_of(after)})
        assert bad.status_code == 400
        theirs = next(i.id for i in site.store.list_insights()
                      if i.owner_rep_id == site.other_rep_id)
        other = client.post(f"/insights/{theirs}/outcome", data={
            "outcome": "lost", "csrf_token": csrf_of(after)})
        assert other.status_code == 404
        api = site.client().post(f"/api/v1/insights/{theirs}/outcome",
                                 headers=site.bearer("rep"), json={"outcome": "lost"})
        assert api.status_code == 404
    finally:
        with site.db.session() as s:
            s.execute(delete(RepOutcome).where(RepOutcome.insight_id == target))


def test_contacts_and_leads_are_shown_with_links(site: Site) -> None:
    client = site.client("admin")
    page = client.get("/inbox").text
    assert 'data-testid="customer-group"' in page
    assert re.search(r'href="mailto:[^"@]+@[^"]+"', page)  # the demo's contacts have e-mail
    assert re.search(r'data-testid="contact-phone" href="tel:0\d{9}"', page)
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        lead = con.execute("SELECT lead_id, name, company, phone FROM leads "
                           "WHERE lead_id = ?", [_first_lead(site)]).fetchone()
    assert lead is not None
    rows = client.get("/inbox", params={"rep": _owner(site, lead[0])}).text
    while 'data-insight-id' in rows and f"<bdi dir=\"ltr\">{lead[0]}</bdi> · <b>" not in rows:
        nxt = re.search(r'data-testid="page-next" href="([^"]+)"', rows)
        assert nxt, f"lead {lead[0]} not found in the inbox"
        rows = client.get(nxt.group(1).replace("&amp;", "&")).text
    info = rows[rows.index(f"<bdi dir=\"ltr\">{lead[0]}</bdi> · <b>"):][:1500]
    assert lead[1] in info and lead[2] in info
    assert f'href="tel:{lead[3].replace("-", "")}"' in info
    assert tel("+972 (52) 123-4567") == "+972521234567" and tel("03-1234567") == "031234567"


def _first_lead(site: Site) -> str:
    return next(i.subject_id for i in site.store.list_insights(
        status=["new", "sent", "acknowledged"]) if i.kind == "lead_not_contacted")


def _owner(site: Site, lead_id: str) -> str:
    return next(str(i.owner_rep_id) for i in site.store.list_insights()
                if i.subject_id == lead_id and i.kind == "lead_not_contacted")


def test_dismiss_and_snooze_read_differently_in_hebrew() -> None:
    assert t("act_dismiss", "he") != t("act_snooze", "he")
    assert "דחייה" not in t("act_dismiss", "he") + t("status_dismissed", "he")
    assert t("status_dismissed", "he") != t("status_snoozed", "he")


def _sql(site: Site, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        return con.execute(query, params).fetchall()


def test_the_deal_list_flags_slipped_deals(site: Site) -> None:
    as_of = _sql(site, "SELECT max(invoice_date) FROM invoice_lines", [])[0][0]
    deals = _sql(site, "SELECT deal_id, created_at, close_date FROM deals WHERE outcome = 'open' "
                 "AND owner_rep_id = ? AND created_at <= ? ORDER BY deal_id",
                 [site.rep_id, as_of])
    assert deals, "the demo rep has open deals"
    client = site.client("rep")
    page = client.get("/pipeline/deals")
    assert page.status_code == 200
    rows = dict(re.findall(r'data-deal-id="([^"]+)" data-slipped="(\w+)"', page.text))
    assert set(rows) == {d for d, _, _ in deals}  # the rep's open deals, no one else's
    for deal_id, _created, close in deals:
        assert rows[deal_id] == ("true" if close is not None and close < as_of else "false")
    api = client.get("/api/v1/deals", params={"sort": "age_days", "desc": "true"}).json()
    first = api["rows"][0]
    created = next(c for d, c, _ in deals if d == first["deal_id"])
    assert first["age_days"] == (as_of - created).days
    assert [r["age_days"] for r in api["rows"]] == sorted(
        (r["age_days"] for r in api["rows"]), reverse=True)
    slipped = client.get("/pipeline/deals", params={"slipped": "true"}).text
    assert set(re.findall(r'data-slipped="(\w+)"', slipped)) <= {"true"}
    assert client.get("/pipeline/deals", params={"rep": site.other_rep_id}).status_code == 404
    assert 'data-testid="deals-link"' in client.get("/pipeline").text
