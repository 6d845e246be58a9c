"""Downloads from the pages (issue 16, item 4): every list's CSV and Excel buttons, in the
user's language, through the user's scope."""

from __future__ import annotations

import csv
import io
import re

import openpyxl  # type: ignore[import-untyped]

from web.web_helpers import Site


def _links(html: str) -> dict[str, str]:
    return {k: v.replace("&amp;", "&") for k, v in re.findall(
        r'data-testid="(export-(?:csv|xlsx))" href="([^"]+)"', html)}


def test_every_list_page_offers_csv_and_excel(site: Site) -> None:
    client = site.client("manager")
    for path in ("/inbox", "/customers", "/pipeline", "/pipeline/deals"):
        links = _links(client.get(path).text)
        assert set(links) == {"export-csv", "export-xlsx"}, path
        for kind, url in links.items():
            got = client.get(url)
            assert got.status_code == 200, (path, url, got.text[:200])
            assert got.headers["content-disposition"].startswith("attachment; filename=")
            assert got.headers["content-disposition"].endswith(
                '.csv"' if kind == "export-csv" else '.xlsx"')


def test_a_hebrew_rep_downloads_the_inbox_as_excel_and_csv(site: Site) -> None:
    client = site.client("rep_he")
    links = _links(client.get("/inbox").text)
    expected = client.get("/api/v1/insights", params={"limit": 5000}).json()
    book = openpyxl.load_workbook(io.BytesIO(client.get(links["export-xlsx"]).content))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.sheet_view.rightToLeft
    assert rows[0][:4] == ("מזהה", "סוג", "סטטוס", "עדיפות")
    assert len(rows) - 1 == len(expected)
    assert {r[5] for r in rows[1:]} == {site.rep_id}  # the rep's own insights only
    assert [r[0] for r in rows[1:]] == [i["id"] for i in expected]
    text = client.get(links["export-csv"]).content
    assert text.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Hebrew
    parsed = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert parsed[0][0] == "מזהה" and len(parsed) - 1 == len(expected)
