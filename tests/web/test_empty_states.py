"""Empty states say what is missing instead of answering an error."""

from __future__ import annotations

from salesradar.app.users import add_user, set_active
from web.web_helpers import PASSWORD, Site


def test_management_page_of_an_empty_scope_says_so(site: Site) -> None:
    add_user(site.db, "newcomer", PASSWORD, role="rep", rep_id="R-NEW-0001", lang="he")
    try:
        page = site.client("newcomer").get("/manage")
        assert page.status_code == 200
        assert 'data-testid="empty-state"' in page.text
        assert "אין עדיין לקוחות בתחום שלך" in page.text
        assert 'data-testid="risk"' not in page.text
    finally:
        set_active(site.db, "newcomer", False)


def test_management_page_with_sales_has_every_section(site: Site) -> None:
    page = site.client("admin").get("/manage")
    assert page.status_code == 200 and 'data-testid="empty-state"' not in page.text
    assert all(f'data-testid="{s}"' in page.text for s in ("risk", "pacing", "forecast"))
