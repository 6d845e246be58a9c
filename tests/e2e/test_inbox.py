"""The rep inbox in a real Chromium: whose insights show, their order, and the one-click actions
whose result must persist (checked in the app database itself and after a reload)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Demo, snap

OpenAs = Callable[[str | None], Page]
STATUS = {"ack": "acknowledged", "done": "done", "dismiss": "dismissed", "snooze": "snoozed"}


def shown_ids(page: Page) -> list[int]:
    rows = page.get_by_test_id("insight-row")
    return [int(rows.nth(i).get_attribute("data-insight-id") or "0") for i in range(rows.count())]


def stored_status(demo: Demo, insight_id: int) -> str:
    """The status the app database holds (read-only; the server keeps running)."""
    path = demo.folder / "salesradar.app.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        row = con.execute("SELECT status FROM insights WHERE id = ?", (insight_id,)).fetchone()
    return str(row[0])


@pytest.mark.parametrize("username", ["rep", "rep_he"])
def test_a_rep_sees_only_own_insights_what_to_do_first(open_as: OpenAs, demo: Demo,
                                                       username: str) -> None:
    page = open_as(username)
    page.goto("/inbox")
    ids = shown_ids(page)
    assert ids, "the rep has insights but the inbox shows none"
    assert set(ids) <= demo.insight_ids(rep=demo.rep_id)
    # what is due first, then by value x urgency, a customer's insights together (the rules
    # and their cases: tests/web/test_inbox.py)
    from salesradar.insights.inbox import group, order

    mine = [i for i in demo.insights if i["owner_rep_id"] == demo.rep_id
            and i["status"] in ("new", "sent", "acknowledged")]
    assert ids == [int(i["id"]) for i in group(order(mine))][:len(ids)]
    # every row says what, why and the next step, and offers the four actions
    first = page.get_by_test_id("insight-row").first
    for action in STATUS:
        expect(first.get_by_test_id(f"insight-action-{action}")).to_be_visible()
    snap(page, f"{'he' if username.endswith('_he') else 'en'}-inbox-rep")


def test_a_rep_cannot_open_another_reps_inbox(open_as: OpenAs, demo: Demo) -> None:
    page = open_as("rep")
    page.goto(f"/inbox?rep={demo.other_rep_id}")
    assert set(shown_ids(page)).isdisjoint(demo.insight_ids(rep=demo.other_rep_id))


@pytest.mark.parametrize("username", ["manager", "manager_he"])
def test_a_manager_sees_the_team_and_no_other_team(open_as: OpenAs, demo: Demo,
                                                   username: str) -> None:
    page = open_as(username)
    page.goto("/inbox")
    ids = set(shown_ids(page))
    team = demo.insight_ids(team=demo.team)
    assert ids and ids <= team
    owners = {str(i["owner_rep_id"]) for i in demo.insights if int(i["id"]) in ids}
    assert len(owners) >= 2, f"a team's inbox shows one rep only: {owners}"
    snap(page, f"{'he' if username.endswith('_he') else 'en'}-inbox-manager")
    # one rep of the team on its own
    page.goto(f"/inbox?rep={demo.rep_id}")
    ids = set(shown_ids(page))
    assert ids and ids <= demo.insight_ids(rep=demo.rep_id)
    # and another team's rep shows nothing of theirs
    page.goto(f"/inbox?rep={demo.other_rep_id}")
    assert set(shown_ids(page)).isdisjoint(demo.insight_ids(rep=demo.other_rep_id))


@pytest.mark.parametrize("username", ["actor", "actor_he"])
@pytest.mark.parametrize("action", list(STATUS))
def test_one_click_changes_the_status_and_it_persists(open_as: OpenAs, demo: Demo,
                                                      username: str, action: str) -> None:
    page = open_as(username)
    page.goto("/inbox")
    # the most valuable insight nobody has acted on yet (earlier tests acted on some)
    insight_id = next(i for i in shown_ids(page) if stored_status(demo, i) in ("new", "sent"))
    row = page.locator(f"[data-testid=insight-row][data-insight-id='{insight_id}']")
    with page.expect_navigation():
        row.get_by_test_id(f"insight-action-{action}").click()
    assert page.url.split("?")[0].endswith("/inbox")
    assert stored_status(demo, insight_id) == STATUS[action]
    page.reload()
    still = page.locator(f"[data-testid=insight-row][data-insight-id='{insight_id}']")
    if action == "ack":
        # acknowledged work stays in the inbox, marked as such, without the acknowledge button
        expect(still).to_have_count(1)
        expect(still.get_by_test_id("insight-action-ack")).to_have_count(0)
    else:
        # done, dismissed and snoozed insights leave the open inbox
        expect(still).to_have_count(0)
