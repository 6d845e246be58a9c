"""The API documentation at /docs renders the OpenAPI 3.1 schema in a real browser, offline."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect


def test_swagger_ui_renders_every_operation(open_as: Callable[[str | None], Page]) -> None:
    page = open_as(None)  # the documentation is public; the operations need a token
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("salesradar", timeout=30_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 20  # every route of /api/v1, grouped by tag
    assert "Unable to render this definition" not in page.content()
    assert page.locator(".swagger-ui .version").first.inner_text()  # the app's version
    assert errors == []
