"""A change of the company's currency shows at once on every page, the API and the reports."""

from __future__ import annotations

from salesradar.app.settings import reset_setting, set_setting
from web.web_helpers import Site

PAGES = ["/", "/inbox", "/customers", "/reps", "/pipeline", "/manage"]


def test_usd_on_every_page_and_back(site: Site) -> None:
    admin = site.client("admin")
    before = {path: admin.get(path).text for path in PAGES}
    assert "₪" in before["/"] and "₪" in before["/inbox"]
    try:
        set_setting(site.db, "currency", "USD")
        for path in PAGES:
            page = admin.get(path)
            assert page.status_code == 200, path
            assert "₪" not in page.text, path
        assert "$" in admin.get("/").text and "$" in admin.get("/inbox").text
        api = admin.get("/api/v1/insights", headers=site.bearer("admin")).text
        assert "₪" not in api and "$" in api
        report = admin.get("/api/v1/reports/ceo", headers=site.bearer("admin"))
        assert report.status_code == 200 and "₪" not in report.text and "$" in report.text
    finally:
        reset_setting(site.db, "currency")
    assert "₪" in admin.get("/").text
