"""The account-management, performance, commitment and report endpoints through the scope."""

from __future__ import annotations

import duckdb
import pytest

from web.web_helpers import Site


def owned(site: Site, rep: str) -> set[str]:
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        return {str(r[0]) for r in con.execute(
            "SELECT customer_id FROM customers WHERE rep_id = ?", [rep]).fetchall()}


@pytest.mark.parametrize("url", [
    "/api/v1/accounts/profitability", "/api/v1/accounts/contact-coverage",
    "/api/v1/accounts/risk", "/api/v1/accounts/review?quarter=2026Q3",
    "/api/v1/performance/pacing", "/api/v1/performance/forecast",
    "/api/v1/performance/funnel",
])
@pytest.mark.parametrize("who", ["admin", "rep"])
def test_management_views_answer_for_every_role(site: Site, url: str, who: str) -> None:
    response = site.client().get(url, headers=site.bearer(who))
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), dict)


def test_a_reps_profitability_lists_only_their_customers(site: Site) -> None:
    body = site.client().get("/api/v1/accounts/profitability", headers=site.bearer("rep")).json()
    listed = {c["customer_id"] for c in body["customers"]}
    assert listed and listed <= owned(site, site.rep_id)
    everyone = site.client().get("/api/v1/accounts/profitability",
                                 headers=site.bearer("admin")).json()
    assert len(everyone["customers"]) > len(listed)


def test_another_reps_account_plan_is_404(site: Site) -> None:
    theirs = sorted(owned(site, site.other_rep_id))[0]
    mine = sorted(owned(site, site.rep_id))[0]
    client = site.client()
    assert client.get(f"/api/v1/customers/{theirs}/plan",
                      headers=site.bearer("rep")).status_code == 404
    plan = client.get(f"/api/v1/customers/{mine}/plan", headers=site.bearer("rep")).json()
    assert plan["customer_id"] == mine and isinstance(plan["history"], list)


def test_company_documents_are_for_admins_and_managers(site: Site) -> None:
    client = site.client()
    for url in ("/api/v1/commitments", "/api/v1/reports/ceo"):
        refused = client.get(url, headers=site.bearer("rep"))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/commitments", headers=site.bearer("admin")).status_code == 200
    report = client.get("/api/v1/reports/ceo?lang=he", headers=site.bearer("admin"))
    assert report.status_code == 200, report.text
    assert 'dir="rtl"' in report.text


def test_reports_read_the_served_app_database(site: Site) -> None:
    """The commitment and account-review reports read the app database the server has open:
    an in-memory one (its URL opened again is a new, empty database) holding a commitment."""
    from salesradar.api import create_app
    from salesradar.app.db import AppDB
    from salesradar.app.users import add_user, create_token
    from salesradar.commitments.store import add_commitment, read_yaml
    from web.web_helpers import PASSWORD, serve

    db = AppDB.open("sqlite://")
    ident = add_commitment(db, read_yaml(site.workspace.parent / "data" / "commitment.yaml")).id
    add_user(db, "boss", PASSWORD, role="admin")
    headers = {"Authorization": f"Bearer {create_token(db, 'boss')}"}
    url = serve(create_app(site.workspace, db))
    client = site.client()
    report = client.get(f"{url}/api/v1/reports/commitment?ident={ident}", headers=headers)
    assert report.status_code == 200, report.text
    assert "Vendor commitment status" in report.text
    review = client.get(f"{url}/api/v1/reports/account-review?lang=he", headers=headers)
    assert review.status_code == 200, review.text
    assert 'dir="rtl"' in review.text
