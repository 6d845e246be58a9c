"""The CEO dashboard in a real Chromium: every tile with its trend, the charts, the manager's
dashboard limited to the team, and a top risk that leads to the customer's page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Rendered
from salesradar.dashboard import TILE_KPIS

Render = Callable[[str, str], Rendered]
OpenAs = Callable[[str | None], Page]
HEBREW = re.compile(r"[\u05d0-\u05ea]")


def tile_value(page: Page, kpi: str) -> float:
    """The big number of a tile, as a reader reads it (`92`, `₪148,265`, `24%`)."""
    text = page.locator(f"[data-testid=kpi-tile][data-kpi={kpi}]").inner_text()
    number = re.search(r"^\s*₪?(-?[\d,]+(?:\.\d+)?)", text.split("\n", 1)[1], re.MULTILINE)
    assert number, text
    return float(number.group(1).replace(",", ""))


@pytest.mark.parametrize("username", ["admin", "admin_he"])
def test_every_tile_has_a_label_in_the_users_language_a_value_and_a_trend(
        rendered: Render, username: str) -> None:
    page = rendered(username, "dashboard").page
    tiles = page.get_by_test_id("kpi-tile")
    assert [tiles.nth(i).get_attribute("data-kpi") for i in range(tiles.count())] == list(
        TILE_KPIS)
    for i in range(tiles.count()):
        label = tiles.nth(i).inner_text().split("\n", 1)[0]
        assert bool(HEBREW.search(label)) == username.endswith("_he"), label
        if tiles.nth(i).get_attribute("data-kpi") == "pipeline_coverage":
            continue  # it looks ahead: a month already over has no coverage to chart
        expect(tiles.nth(i).get_by_test_id("chart").locator("svg")).to_have_count(1)
    # the quick comparison, concentration, whale curve and top risks are there too: one more
    # chart (the whale curve) beyond the sparklines, and the risks link to customers
    charts = page.get_by_test_id("chart")
    assert charts.count() >= len(TILE_KPIS)  # the sparklines but coverage's, the whale curve
    assert page.locator("main a[href^='/customers/']").count() >= 5


def test_a_managers_dashboard_covers_the_team_only(rendered: Render) -> None:
    company = rendered("admin", "dashboard").page
    team = rendered("manager", "dashboard").page
    # the demo's manager leads one of two selling teams: fewer active customers, less profit
    for kpi in ("active_customers", "gross_profit"):
        assert 0 < tile_value(team, kpi) < tile_value(company, kpi), kpi


@pytest.mark.parametrize("username", ["admin", "admin_he"])
def test_a_top_risk_opens_the_customers_page(open_as: OpenAs, username: str) -> None:
    page = open_as(username)
    page.goto("/")
    link = page.locator("main a[href^='/customers/']").last  # the last link is a top risk
    customer_id = (link.get_attribute("href") or "").rsplit("/", 1)[1]
    with page.expect_navigation():
        link.click()
    expect(page.get_by_test_id("customer-header")).to_contain_text(customer_id)
