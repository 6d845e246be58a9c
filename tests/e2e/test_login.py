"""Login, landing page by role, anonymous access and logout, in a real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import PASSWORD, Sessions, login, snap

OpenAs = Callable[[str | None], Page]


def path(page: Page) -> str:
    return urlsplit(page.url).path


def test_a_wrong_password_shows_the_error_and_keeps_the_form(open_as: OpenAs) -> None:
    page = open_as(None)
    login(page, "admin", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    assert path(page) == "/login"
    # the form is back, ready for another try, and does not echo the password
    expect(page.locator("input[name=password]")).to_have_value("")
    snap(page, "login-error")


def test_an_unknown_user_gets_the_same_error(open_as: OpenAs) -> None:
    page = open_as(None)
    login(page, "nobody-here", PASSWORD)
    expect(page.get_by_test_id("login-error")).to_be_visible()
    assert path(page) == "/login"


@pytest.mark.parametrize(("username", "landing"), [("admin", "/"), ("manager", "/"),
                                                    ("rep", "/inbox"), ("rep_he", "/inbox")])
def test_the_right_password_lands_on_the_users_home(open_as: OpenAs, username: str,
                                                      landing: str) -> None:
    page = open_as(None)
    page.goto("/login")
    snap(page, "login")
    login(page, username)
    assert path(page) == landing
    if landing == "/":
        expect(page.get_by_test_id("kpi-tile").first).to_be_visible()
    else:
        expect(page.get_by_test_id("insight-row").first).to_be_visible()


@pytest.mark.parametrize("url", ["/", "/inbox", "/customers", "/reps", "/pipeline"])
def test_anonymous_visitors_are_sent_to_login(open_as: OpenAs, url: str) -> None:
    page = open_as(None)
    page.goto(url)
    assert path(page) == "/login"


def test_logout_ends_the_session(open_as: OpenAs, sessions: Sessions) -> None:
    # `leaver` logs in here, not through the shared sessions, so logging out spoils nothing
    page = open_as(None)
    login(page, "leaver")
    assert path(page) == "/"
    cookies = page.context.cookies()
    with page.expect_navigation():
        page.get_by_test_id("logout").click()
    assert path(page) == "/login"
    page.goto("/")
    assert path(page) == "/login"
    # the cookie the browser had before logging out is no longer a session when replayed
    replay = sessions.context()
    replay.add_cookies(cookies)  # type: ignore[arg-type]
    again = replay.new_page()
    again.goto("/")
    assert path(again) == "/login"
    replay.close()
