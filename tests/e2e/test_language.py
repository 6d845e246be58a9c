"""Switching language in a real Chromium: Hebrew is right-to-left, the choice is the user's and
stays after a reload and in the user's record."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.conftest import Demo, salesradar, snap

OpenAs = Callable[[str | None], Page]


def stored_lang(demo: Demo, username: str) -> str:
    users = json.loads(salesradar("user", "list", "--workspace", str(demo.workspace), "--json",
                                  cwd=demo.folder).stdout)
    return str(next(u["lang"] for u in users if u["username"] == username))


def test_switching_to_hebrew_and_back(open_as: OpenAs, demo: Demo) -> None:
    page = open_as("switcher")
    page.goto("/inbox")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.get_by_test_id("lang-switch").click()
    expect(html).to_have_attribute("lang", "he")
    expect(html).to_have_attribute("dir", "rtl")
    assert page.url.split("?")[0].endswith("/inbox"), "the switch stays on the same page"
    page.reload()
    expect(html).to_have_attribute("dir", "rtl")
    assert stored_lang(demo, "switcher") == "he"
    snap(page, "he-inbox-after-switch")
    with page.expect_navigation():
        page.get_by_test_id("lang-switch").click()
    expect(html).to_have_attribute("lang", "en")
    assert (html.get_attribute("dir") or "ltr") == "ltr"
    assert stored_lang(demo, "switcher") == "en"
