"""The REST API on the demo company: authentication, visibility per role, error shape, numbers.

Expected numbers come from SQL run directly on the workspace file, not from the service functions.
"""

from __future__ import annotations

import duckdb
import pytest

from web.web_helpers import Site, csrf_of


def sql(site: Site, query: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(site.workspace), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def owned_customers(site: Site, rep: str) -> set[str]:
    return {str(r[0]) for r in sql(site, "SELECT customer_id FROM customers WHERE rep_id = ?",
                                   [rep])}


def test_anonymous_calls_get_401_in_the_one_error_shape(site: Site) -> None:
    response = site.client().get("/api/v1/insights")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": response.json()[
        "error"]["message"]}}
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_token_is_anonymous(site: Site) -> None:
    response = site.client().get("/api/v1/me", headers={"Authorization": "Bearer sr_nope"})
    assert response.status_code == 401


def test_me_names_the_caller_and_their_scope(site: Site) -> None:
    me = site.client().get("/api/v1/me", headers=site.bearer("rep")).json()
    assert (me["username"], me["role"], me["scope"]) == ("rep", "rep",
                                                          {"rep_ids": [site.rep_id]})
    admin = site.client().get("/api/v1/me", headers=site.bearer("admin")).json()
    assert admin["scope"] == {"rep_ids": None}
    team = {str(r[0]) for r in sql(site, "SELECT rep_id FROM reps WHERE team = ?", [site.team])}
    manager = site.client().get("/api/v1/me", headers=site.bearer("manager")).json()
    assert set(manager["scope"]["rep_ids"]) == team


def test_insights_are_those_of_the_callers_reps(site: Site) -> None:
    client = site.client()
    open_ = [i for i in site.store.list_insights(status=["new", "sent", "acknowledged"])]
    mine = client.get("/api/v1/insights", headers=site.bearer("rep")).json()
    assert {i["id"] for i in mine} == {i.id for i in open_ if i.owner_rep_id == site.rep_id}
    values = [i["value_at_stake"] for i in mine]
    assert values == sorted(values, reverse=True)  # ordered by value at stake
    team = client.get("/api/v1/insights", headers=site.bearer("manager")).json()
    assert {i["id"] for i in team} == {i.id for i in open_ if i.team == site.team
                                       and i.owner_rep_id}
    everything = client.get("/api/v1/insights?limit=5000", headers=site.bearer("admin")).json()
    assert len(everything) == len(open_)


def test_a_rep_gets_404_and_no_data_for_another_reps_objects(site: Site) -> None:
    client, auth = site.client(), site.bearer("rep")
    theirs_customer = sorted(owned_customers(site, site.other_rep_id))[0]
    theirs_deal = str(sql(site, "SELECT min(deal_id) FROM deals WHERE owner_rep_id = ?",
                          [site.other_rep_id])[0][0])
    theirs_insight = next(i for i in site.store.list_insights()
                          if i.owner_rep_id == site.other_rep_id)
    name = str(sql(site, "SELECT name FROM customers WHERE customer_id = ?",
                   [theirs_customer])[0][0])
    for url in (f"/api/v1/customers/{theirs_customer}", f"/api/v1/deals/{theirs_deal}",
                f"/api/v1/insights/{theirs_insight.id}", f"/api/v1/reps/{site.other_rep_id}",
                f"/api/v1/insights?rep={site.other_rep_id}"):
        response = client.get(url, headers=auth)
        assert response.status_code == 404, url
        assert set(response.json()) == {"error"}
        assert name not in response.text
    moved = client.post(f"/api/v1/insights/{theirs_insight.id}/status", json={"status": "done"},
                        headers=auth)
    assert moved.status_code == 404
    assert site.store.get(theirs_insight.id).status == theirs_insight.status
    listed = client.get("/api/v1/customers?limit=500", headers=auth).json()
    assert {c["customer_id"] for c in listed} <= owned_customers(site, site.rep_id)
    assert theirs_customer not in {c["customer_id"] for c in listed}


def test_a_rep_sees_their_own_customer_360(site: Site) -> None:
    mine = sorted(owned_customers(site, site.rep_id))[0]
    view = site.client().get(f"/api/v1/customers/{mine}", headers=site.bearer("rep")).json()
    revenue = float(sql(site, "SELECT sum(net_revenue) FROM invoice_lines WHERE customer_id = ?",
                        [mine])[0][0])  # type: ignore[arg-type]
    assert view["customer_id"] == mine
    # explained by the churn model the demo's score run saved, not refitted, not raw codes
    assert view["why"] and view["why"][0].startswith("orders every")
    assert view["sales"]["revenue"] == pytest.approx(revenue)
    assert sum(p["revenue"] for p in view["timeline"]) == pytest.approx(revenue)


def test_kpi_revenue_of_a_rep_is_the_sum_of_their_customers_lines(site: Site) -> None:
    rows = site.client().get("/api/v1/kpis/revenue?period=year",
                             headers=site.bearer("rep")).json()["rows"]
    expected = dict(sql(site, "SELECT year(invoice_date), sum(net_revenue) FROM invoice_lines "
                        "WHERE customer_id IN (SELECT customer_id FROM customers WHERE rep_id = ?)"
                        " GROUP BY 1", [site.rep_id]))
    got = {int(r["period"][:4]): r["value"] for r in rows}
    assert got == {y: pytest.approx(float(v)) for y, v in expected.items()}  # type: ignore[arg-type]


def test_dashboard_active_customers_match_sql(site: Site) -> None:
    board = site.client().get("/api/v1/dashboard", headers=site.bearer("admin")).json()
    tile = next(t for t in board["tiles"] if t["name"] == "active_customers")
    # active customers of the last month = distinct customers with net revenue > 0 in it
    ((count,),) = sql(site, "SELECT count(*) FROM (SELECT customer_id FROM invoice_lines "
                      "WHERE date_trunc('month', invoice_date) = ?::DATE GROUP BY 1 "
                      "HAVING sum(net_revenue) > 0)", [tile["period"]])
    assert tile["value"] == count
    assert tile["period"][:7] == board["as_of"][:7]


def test_status_change_by_token_and_the_csrf_rule_for_cookies(site: Site) -> None:
    mine = [i for i in site.store.list_insights(status=["new", "sent"])
            if i.owner_rep_id == site.rep_id]
    first, second = mine[-1], mine[-2]
    client = site.client()
    response = client.post(f"/api/v1/insights/{first.id}/status", json={"status": "ack"},
                           headers=site.bearer("rep"))
    assert response.status_code == 200
    assert site.store.get(first.id).status == "acknowledged"
    browser = site.client("rep")
    refused = browser.post(f"/api/v1/insights/{second.id}/status", json={"status": "done"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf"
    assert site.store.get(second.id).status == second.status
    token = csrf_of(browser.get("/inbox").text)
    accepted = browser.post(f"/api/v1/insights/{second.id}/status", json={"status": "done"},
                            headers={"X-CSRF-Token": token})
    assert accepted.status_code == 200
    assert site.store.get(second.id).status == "done"


def test_snooze_needs_until_and_bad_input_is_422_in_the_error_shape(site: Site) -> None:
    client, auth = site.client(), site.bearer("admin")
    some = site.store.list_insights(status=["new", "sent"])[0]
    missing = client.post(f"/api/v1/insights/{some.id}/status", json={"status": "snooze"},
                          headers=auth)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_request"
    bad = client.post(f"/api/v1/insights/{some.id}/status", json={"status": "explode"},
                      headers=auth)
    assert bad.status_code == 422
    assert set(bad.json()) == {"error"}
    assert client.get("/api/v1/insights/not-a-number", headers=auth).status_code == 422
    unknown = client.get("/api/v1/kpis/no_such_kpi", headers=auth)
    assert unknown.status_code == 404
    assert client.get("/api/v1/nowhere", headers=auth).json()["error"]["code"] == "not_found"


def test_openapi_and_swagger_ui_are_served_locally(site: Site) -> None:
    client = site.client()
    schema = client.get("/openapi.json").json()
    assert "/api/v1/customers/{customer_id}" in schema["paths"]
    docs = client.get("/docs").text
    assert "/swagger/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert client.get("/swagger/swagger-ui-bundle.js").status_code == 200


def test_pipeline_stages_carry_the_registry_stage_conversion(site: Site) -> None:
    stages = site.client().get("/api/v1/pipeline", headers=site.bearer("admin")).json()["stages"]
    assert stages and {s["pipeline"] for s in stages}
    open_stages = [s for s in stages if not s["stage"].startswith("closed")]
    assert all(s["conversion"] is None or 0 <= s["conversion"] <= 1 for s in open_stages)
    assert any(s["conversion"] is not None for s in open_stages)
