"""Every route of the app needs a login, except the few public ones named in PUBLIC_PATHS.

The test walks the app's registered routes, so a route added without authorization fails here: an
anonymous API call must get 401 in the JSON error shape, an anonymous page a redirect to /login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from salesradar.api.app import PUBLIC_PATHS
from web.web_helpers import Site

PARAMS = {"insight_id": "1", "customer_id": "C00001", "deal_id": "D000001", "rep_id": "R01",
          "name": "revenue", "commitment_id": "1", "kind": "ceo"}


def all_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, including those of included routers (FastAPI nests them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from all_routes(inner.routes) if inner is not None else [route]


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)


def test_every_route_refuses_anonymous_callers(site: Site) -> None:
    client = site.client()
    checked = []
    for route in all_routes(site.app.routes):
        if not isinstance(route, APIRoute) or route.path in PUBLIC_PATHS:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            url = _url(route.path)
            response = client.request(method, url, params={
                "from_period": "2025", "to_period": "2026", "quarter": "2026Q3", "plan": "x"})
            if route.path.startswith("/api/"):
                assert response.status_code == 401, (method, url, response.text)
                assert response.json()["error"]["code"] == "unauthorized"
            else:
                assert response.status_code == 303, (method, url, response.status_code)
                assert response.headers["location"] == "/login"
            checked.append((method, route.path))
    # the walk covers the API and the pages of the contract
    paths = {p for _, p in checked}
    assert {"/api/v1/insights", "/api/v1/customers/{customer_id}", "/", "/inbox",
            "/insights/{insight_id}/status", "/customers/{customer_id}", "/reps", "/pipeline",
            "/logout", "/settings/lang", "/api/v1/reports/{kind}", "/api/v1/commitments"} <= paths


def test_public_paths_are_only_login_docs_and_assets(site: Site) -> None:
    paths = {getattr(r, "path", None) for r in all_routes(site.app.routes)}
    public = {p for p in paths if p in PUBLIC_PATHS}
    assert public <= {"/login", "/docs", "/openapi.json", "/static", "/swagger", "/healthz",
                      "/setup"}
    # the first-run page opens only with the token a first run prints
    assert site.client().get("/setup").status_code == 404
    assert site.client().get("/setup?token=guess").status_code == 404
    login = site.client().get("/login")
    assert login.status_code == 200 and 'name="csrf_token"' in login.text
