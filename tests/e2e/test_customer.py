"""Customer 360 in a real Chromium, and what each role may open: a rep or a manager asking for a
customer outside their scope gets 404 and none of its data."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Demo, snap

OpenAs = Callable[[str | None], Page]


def owners(demo: Demo) -> dict[str, tuple[str, str]]:
    """customer_id -> (name, rep_id), read from the workspace (the server does not hold it)."""
    with duckdb.connect(str(demo.workspace), read_only=True) as con:
        rows = con.sql("SELECT customer_id, name, rep_id FROM customers").fetchall()
    return {str(c): (str(n), str(r)) for c, n, r in rows}


def insight_of(demo: Demo, kind: str) -> dict[str, object]:
    """The most valuable insight of a kind owned by the demo rep."""
    return max((i for i in demo.insights if i["kind"] == kind and i["owner_rep_id"] == demo.rep_id),
               key=lambda i: float(i["value_at_stake"] or 0))


@pytest.mark.parametrize("username", ["rep", "rep_he"])
def test_the_360_view_shows_stopped_items_and_offers(open_as: OpenAs, demo: Demo,
                                                     username: str) -> None:
    stopped = insight_of(demo, "stopped_item")  # one card per customer, its items inside
    customer_id = str(stopped["subject_id"])
    sku = str(stopped["evidence"]["items"][0]["sku"])  # type: ignore[index]
    page = open_as(username)
    response = page.goto(f"/customers/{customer_id}")
    assert response is not None and response.status == 200
    name = owners(demo)[customer_id][0]
    expect(page.get_by_test_id("customer-header")).to_contain_text(name)
    expect(page.get_by_test_id("customer-header")).to_contain_text(customer_id)
    # the purchase timeline is a chart; the stopped item is in the SKU history
    assert page.get_by_test_id("chart").locator("svg").count() >= 1
    expect(page.locator("main tr", has_text=sku).first).to_be_visible()
    if username == "rep":
        expect(page.locator("main tr", has_text=sku).first).to_contain_text("stopped")
    snap(page, f"{'he' if username == 'rep_he' else 'en'}-customer-360-rep")


def test_a_customer_with_an_offer_lists_it(open_as: OpenAs, demo: Demo) -> None:
    offer = insight_of(demo, "cross_sell")
    customer_id, sku = str(offer["subject_id"]).split("/")
    page = open_as("rep")
    page.goto(f"/customers/{customer_id}")
    expect(page.locator("main li", has_text=sku).first).to_be_visible()


@pytest.mark.parametrize("username", ["rep", "manager"])
def test_a_customer_outside_the_scope_is_not_found(open_as: OpenAs, demo: Demo,
                                                   username: str) -> None:
    customers = owners(demo)
    # a customer of the other team's rep: outside the rep's and the manager's scope alike
    outsider = next(c for c, (_, rep) in customers.items() if rep == demo.other_rep_id)
    page = open_as(username)
    response = page.goto(f"/customers/{outsider}")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("customer-header")).to_have_count(0)
    assert customers[outsider][0] not in page.content()


def test_a_rep_lists_only_own_customers(open_as: OpenAs, demo: Demo) -> None:
    customers = owners(demo)
    page = open_as("rep")
    page.goto("/customers")
    listed = {(href or "").rsplit("/", 1)[1] for href in
              page.locator("main a[href^='/customers/']").evaluate_all(
                  "links => links.map(a => a.getAttribute('href'))")}
    assert listed, "the rep's customer list is empty"
    assert {customers[c][1] for c in listed} == {demo.rep_id}
