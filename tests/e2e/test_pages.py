"""Every page in English and Hebrew, in a real Chromium: it answers, has the language and
direction of its user, loads everything from the app, fits the window, and is photographed into
test-artifacts/e2e/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Rendered, snap

Render = Callable[[str, str], Rendered]
LANGS = {"en": ("admin", "ltr"), "he": ("admin_he", "rtl")}
PAGES = ["dashboard", "inbox", "customers", "customer-360", "reps", "rep-scorecard", "pipeline"]


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("name", PAGES)
def test_every_page_answers_in_the_users_language_and_fits(rendered: Render, name: str,
                                                            lang: str) -> None:
    username, direction = LANGS[lang]
    shown = rendered(username, name)
    page = shown.page
    assert shown.status == 200
    assert shown.outside == [], "the page reached outside the app"
    assert shown.broken == [], "assets the app did not serve"
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    assert (html.get_attribute("dir") or "ltr") == direction
    # the navigation is there, the page does not scroll sideways at 1280 px
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"{name} is {width} px wide: it scrolls sideways"
    snap(page, f"{lang}-{name}")


@pytest.mark.parametrize("username", ["admin", "admin_he"])
def test_settings_on_a_phone_need_no_sideways_scroll(open_as: Callable[[str | None], Page],
                                                     username: str) -> None:
    # at 390 px each setting is a card: its value, default and description (in the admin's
    # language) inside the window, not off-screen in a table that scrolls sideways
    page = open_as(username)
    page.set_viewport_size({"width": 390, "height": 900})
    answer = page.goto("/admin/settings")
    assert answer is not None and answer.status == 200
    table = page.get_by_test_id("settings-table")
    box = table.bounding_box()
    assert box is not None and box["width"] <= 390
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    rows = page.locator("[data-testid^=setting-row-]")
    assert rows.count() > 10
    for i in range(rows.count()):
        for cell in rows.nth(i).locator("td").all():
            where = cell.bounding_box()
            assert where is not None and where["x"] >= 0 and where["x"] + where["width"] <= 390
    first = rows.first.locator("td").nth(3)
    label = "What it does" if username == "admin" else "מה היא קובעת"
    assert first.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
    snap(page, f"{username}-settings-390")
