"""Rep scorecards, the team comparison and the pipeline page in a real Chromium, per role."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Demo, Rendered

OpenAs = Callable[[str | None], Page]
Render = Callable[[str, str], Rendered]


def team_of(demo: Demo) -> dict[str, str]:
    with duckdb.connect(str(demo.workspace), read_only=True) as con:
        return {str(r): str(t) for r, t in con.sql("SELECT rep_id, team FROM reps").fetchall()}


def linked_reps(page: Page) -> set[str]:
    hrefs = page.locator("main a[href^='/reps/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    return {h.rsplit("/", 1)[1] for h in hrefs}


def test_a_rep_sees_own_scorecard_and_not_anothers(open_as: OpenAs, demo: Demo) -> None:
    page = open_as("rep")
    response = page.goto(f"/reps/{demo.rep_id}")
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("kpi-tile").first).to_be_visible()
    response = page.goto(f"/reps/{demo.other_rep_id}")
    assert response is not None and response.status == 404


def test_the_managers_team_comparison_lists_the_team_only(open_as: OpenAs, demo: Demo) -> None:
    page = open_as("manager")
    page.goto("/reps")
    reps = linked_reps(page)
    teams = team_of(demo)
    assert demo.rep_id in reps
    assert {teams[r] for r in reps} == {demo.team}


def test_the_admins_team_comparison_lists_every_team(rendered: Render, demo: Demo) -> None:
    reps = linked_reps(rendered("admin", "reps").page)
    assert {demo.rep_id, demo.other_rep_id} <= reps


@pytest.mark.parametrize("username", ["admin", "admin_he"])
def test_the_pipeline_shows_coverage_against_the_3x_line(rendered: Render, username: str) -> None:
    page = rendered(username, "pipeline").page
    charts = page.get_by_test_id("chart").locator("svg")
    assert charts.count() >= 3  # coverage, stage conversion, forecast vs actual
    # the coverage chart draws the 3× target line and labels it
    expect(page.get_by_test_id("chart").filter(has_text="3×").first).to_be_visible()
