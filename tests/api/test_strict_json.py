"""No NaN in any JSON: every GET of the API answers strict JSON (no NaN, no Infinity) on the
demo company, for an admin and for a manager (a team's scope has its own empty slices)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from web.test_routes_need_login import all_routes
from web.web_helpers import Site

FILL = {"kind": "ceo", "name": "gross_margin"}  # other path parameters are "1"
QUERIES = {"/api/v1/pvm": {"from_period": "2025-Q1", "to_period": "2025-Q2"},
           "/api/v1/kpis/{name}": {"period": "month"}}


def refuse(name: str) -> Any:
    raise ValueError(f"{name} in an API answer")


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_every_api_answer_is_strict_json(site: Site, who: str) -> None:
    client = site.client()
    answered = 0
    for route in all_routes(site.app.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods \
                or not route.path.startswith("/api/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: FILL.get(m.group(1), "1"), route.path)
        response = client.get(url, params=QUERIES.get(route.path, {}),
                              headers=site.bearer(who))
        assert response.status_code < 500, (url, response.text[:300])
        if response.headers.get("content-type", "").startswith("application/json"):
            json.loads(response.text, parse_constant=refuse)
            answered += 1
    assert answered > 20
