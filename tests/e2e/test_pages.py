"""Every page in English and Hebrew, in a real Chromium: it answers, has the language and
direction of its user, loads everything from the app, fits the window, and is photographed into
test-artifacts/e2e/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

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
