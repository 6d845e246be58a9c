"""``?format=csv|xlsx`` on the API's lists (issue 16, item 4): same rows as the JSON, headers
in the caller's language, server-chosen file names, the caller's scope, no formula injection."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from sqlalchemy import update

from salesradar.app import InsightRow
from salesradar.exports import columns_for, filename, to_csv, to_xlsx
from web.web_helpers import Site


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(body: bytes) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))


@pytest.mark.parametrize(("url", "params", "rows_of"), [
    ("/api/v1/insights", {"limit": 5000}, lambda j: j),
    ("/api/v1/customers", {"limit": 500}, lambda j: j),
    ("/api/v1/kpis/revenue", {"period": "month", "by": "rep"}, lambda j: j["rows"]),
    ("/api/v1/churned", {}, lambda j: j["rows"]),
    ("/api/v1/deals", {}, lambda j: j["rows"]),
])
def test_each_list_downloads_the_rows_of_its_json(site: Site, url: str, params: dict[str, Any],
                                                  rows_of: Any) -> None:
    client = site.client()
    for user in ("admin", "rep"):
        auth = site.bearer(user)
        expected = rows_of(client.get(url, params=params, headers=auth).json())
        as_csv = client.get(url, params={**params, "format": "csv"}, headers=auth)
        as_xlsx = client.get(url, params={**params, "format": "xlsx"}, headers=auth)
        assert as_csv.status_code == as_xlsx.status_code == 200, as_csv.text[:300]
        assert re.fullmatch(r'attachment; filename="salesradar-[a-z0-9-]+-\d{4}-\d\d-\d\d\.csv"',
                            as_csv.headers["content-disposition"])
        assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert len(_csv(as_csv.content)) - 1 == len(expected)
        assert len(_xlsx(as_xlsx.content)) - 1 == len(expected)


def test_a_reps_exports_hold_only_their_rows(site: Site) -> None:
    client = site.client()
    theirs = {i.id for i in site.store.list_insights() if i.owner_rep_id == site.other_rep_id}
    rows = _xlsx(client.get("/api/v1/insights", params={"format": "xlsx", "limit": 5000},
                            headers=site.bearer("rep")).content)
    rep_col = rows[0].index("Rep")
    assert rows[1:] and {r[rep_col] for r in rows[1:]} == {site.rep_id}
    assert not {r[0] for r in rows[1:]} & theirs
    # another rep asked for by name: 404, as in the JSON
    other = client.get("/api/v1/insights", headers=site.bearer("rep"),
                       params={"format": "csv", "rep": site.other_rep_id})
    assert other.status_code == 404
    deals = _csv(client.get("/api/v1/deals", params={"format": "csv"},
                            headers=site.bearer("rep")).content)
    assert {r[deals[0].index("Rep")] for r in deals[1:]} <= {site.rep_id}
    customers = _csv(client.get("/api/v1/customers", params={"format": "csv", "limit": 5000},
                                headers=site.bearer("rep")).content)
    assert {r[customers[0].index("Rep")] for r in customers[1:]} <= {site.rep_id}


def test_formulas_in_the_data_are_neutralized(site: Site) -> None:
    evil = '=HYPERLINK("http://evil.example","x")'
    target = next(i for i in site.store.list_insights(status=["new", "sent", "acknowledged"]))
    with site.db.session() as s:
        s.execute(update(InsightRow).where(InsightRow.id == target.id).values(what_en=evil))
    try:
        client = site.client()
        params = {"limit": 5000, "rep": target.owner_rep_id}
        rows = _csv(client.get("/api/v1/insights", params={**params, "format": "csv"},
                               headers=site.bearer("admin")).content)
        what = rows[0].index("What happened")
        assert ["'" + evil] == [r[what] for r in rows[1:] if r[0] == str(target.id)]
        book = openpyxl.load_workbook(io.BytesIO(client.get(
            "/api/v1/insights", params={**params, "format": "xlsx"},
            headers=site.bearer("admin")).content))
        cells = [row[what] for row in book.active.iter_rows(min_row=2)
                 if row[0].value == target.id]
        assert [(c.value, c.data_type) for c in cells] == [(evil, "s")]  # text, not a formula
    finally:
        with site.db.session() as s:
            s.execute(update(InsightRow).where(InsightRow.id == target.id)
                      .values(what_en=target.en.what))


def test_the_writers_by_themselves() -> None:
    rows = [{"a": "+1", "b": -2.5, "c": "@x", "d": "שלום", "e": {"k": 1}}]
    parsed = _csv(to_csv(rows, columns_for(rows), "he"))
    assert parsed[1] == ["'+1", "-2.5", "'@x", "שלום", '{"k": 1}']
    sheet = _xlsx(to_xlsx(rows, columns_for(rows), "en"))
    assert sheet[1] == ("+1", -2.5, "@x", "שלום", '{"k": 1}')
    assert filename("commissions-תוכנית/../x", "xlsx").startswith("salesradar-commissions-x-")
    with pytest.raises(ValueError, match="csv or xlsx"):
        filename("x", "pdf")
