"""/admin/data and its API: upload, the proposed mapping, a correction, the import, bad rows.

The imports write a workspace of their own (a new, empty company on a server of its own), so
the shared demo company stays as it is; the access checks (403, CSRF) use the shared one.
"""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest
from fastapi.routing import APIRoute

from helpers import DATA
from salesradar.api import create_app
from salesradar.app.audit import list_events
from salesradar.app.db import AppDB
from salesradar.app.uploads import uploads_root
from salesradar.app.users import add_user, create_token
from web.test_routes_need_login import all_routes
from web.web_helpers import OPEN_CLIENTS, PASSWORD, Site, csrf_of, login, serve

PRIORITY = DATA / "priority_invoice_lines.csv"  # Windows-1255, Hebrew headers
ADMIN_PREFIXES = ("/admin/data", "/admin/refresh", "/api/v1/admin/data", "/api/v1/admin/refresh")


@dataclass
class Company:
    """A new company: an empty workspace, its app database, an admin, served."""

    workspace: Path
    db: AppDB
    url: str
    token: str

    def admin(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=120)
        OPEN_CLIENTS.append(client)  # closed after the test
        login(client, "admin")
        return client

    def rows(self, table: str = "invoice_lines") -> int:
        if not self.workspace.exists():
            return 0
        with duckdb.connect(str(self.workspace), read_only=True) as con:
            found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                [table]).fetchone()
            if not found or not found[0]:
                return 0
            counted = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            return int(counted[0]) if counted else 0


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    folder = tmp_path_factory.mktemp("new-company")
    db = AppDB.open(f"sqlite:///{folder / 'app.sqlite'}")
    add_user(db, "admin", PASSWORD, role="admin", lang="he")
    workspace = folder / "acme.duckdb"
    yield Company(workspace, db, serve(create_app(workspace, db)), create_token(db, "admin"))
    db.close()


def upload(client: httpx.Client, path: Path | str, content: bytes | None = None,
           table: str = "invoice_lines", name: str | None = None) -> httpx.Response:
    form = client.get("/admin/data")
    assert form.status_code == 200, form.text
    body = content if content is not None else Path(path).read_bytes()
    return client.post("/admin/data/upload", data={
        "csrf_token": csrf_of(form.text), "table": table},
        files={"file": (name or Path(path).name, body, "application/octet-stream")})


def wait_job(client: httpx.Client, location: str) -> dict[str, object]:
    job = location.split("job=")[1]
    deadline = time.monotonic() + 60
    while True:
        status = client.get(f"/admin/data/job/status?job={job}")
        assert status.status_code == 200, status.text
        found: dict[str, object] = status.json()
        if found["finished"]:
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def selected(page: str, column: str) -> str:
    """The header chosen in a column's select of the proposal page."""
    select = re.search(rf'name="col_{column}".*?</select>', page, re.S)
    assert select, column
    found = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return html.unescape(found.group(1)) if found else ""


def test_upload_propose_correct_import_and_the_mapping_is_kept(company: Company) -> None:
    """The Hebrew Windows-1255 Priority export, no mapping file: recognized, one column
    corrected (the description, which the shipped mapping leaves out), imported; the next
    upload of the source is recognized by the saved mapping."""
    client = company.admin()
    sent = upload(client, PRIORITY, name="ייצוא פריוריטי 2024.csv")
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"])
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and "זוהה" in page.text  # recognized, in Hebrew
    assert 'data-testid="recognized-shipped"' in page.text
    assert selected(page.text, "customer_id") == "מס. לקוח"
    assert selected(page.text, "description") == ""
    assert 'data-testid="preview-row"' in page.text and "MLK-1L" in page.text
    assert "ייצוא פריוריטי 2024.csv" in page.text  # the client's name, shown only
    upload_id = sent.headers["location"].split("upload=")[1]
    stored = list((uploads_root(company.workspace) / upload_id).iterdir())
    assert sorted(p.name for p in stored) == ["invoice_lines.csv", "meta.json"]

    token = csrf_of(page.text)
    corrected = client.post("/admin/data/upload/mapping", data={
        "csrf_token": token, "upload": upload_id, "action": "preview",
        "col_description": "תאור מוצר", "save_as": "Priority invoices"})
    assert corrected.status_code == 303
    page = client.get(corrected.headers["location"])
    assert selected(page.text, "description") == "תאור מוצר"
    assert "חלב 3% 1 ליטר" in page.text  # the preview reads the corrected column
    assert "chosen by hand" in page.text

    before = company.rows()
    started = client.post("/admin/data/upload/mapping", data={
        "csrf_token": token, "upload": upload_id, "action": "import", "save": "1",
        "save_as": "Priority invoices", "col_description": "תאור מוצר"})
    assert started.status_code == 303, started.text
    assert wait_job(client, started.headers["location"])["status"] == "done"
    done = client.get(started.headers["location"])
    assert 'data-testid="import-done"' in done.text and "Priority invoices" in done.text
    assert company.rows() == before + 5
    with duckdb.connect(str(company.workspace), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT description FROM invoice_lines").fetchall()}
    assert "חלב 3% 1 ליטר" in names
    assert not (uploads_root(company.workspace) / upload_id).exists()  # imported: deleted

    imports = list_events(company.db, action="data.import")
    assert imports[0]["detail"]["file"] == "ייצוא פריוריטי 2024.csv"
    assert imports[0]["detail"]["rows"] == 5 and imports[0]["detail"]["mapping"] == "corrected"
    assert list_events(company.db, action="data.mapping")[0]["target"] == "Priority invoices"

    again = client.get(upload(client, PRIORITY).headers["location"])
    assert 'data-testid="recognized-saved"' in again.text and "Priority invoices" in again.text
    assert selected(again.text, "description") == "תאור מוצר"
    assert "Priority invoices" in client.get("/admin/data").text  # the saved mappings


def _bad_priority(tmp_path: Path) -> Path:
    rows = list(csv.reader(io.StringIO(PRIORITY.read_text(encoding="cp1255"))))
    rows[2][2] = "31/02/2024"  # spreadsheet row 3: no such day
    rows[4][7] = "many"  # row 5: not a quantity
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="cp1255", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_a_bad_file_lists_every_bad_row_and_loads_nothing(company: Company,
                                                          tmp_path: Path) -> None:
    client = company.admin()
    sent = upload(client, _bad_priority(tmp_path), name="bad export.csv")
    page = client.get(sent.headers["location"])
    upload_id = sent.headers["location"].split("upload=")[1]
    before = company.rows()
    started = client.post("/admin/data/upload/mapping", data={
        "csrf_token": csrf_of(page.text), "upload": upload_id, "action": "import"})
    assert started.status_code == 303, started.text
    assert wait_job(client, started.headers["location"])["status"] == "rejected"
    assert company.rows() == before  # all or nothing
    result = client.get(started.headers["location"])
    assert 'data-testid="import-rejected"' in result.text
    rows = set(re.findall(r'data-testid="error-row" data-row="(\d+)"', result.text))
    assert {"3", "5"} <= rows, rows
    assert 'data-testid="back-to-mapping"' in result.text  # the upload is kept to correct
    job = started.headers["location"].split("job=")[1]
    download = client.get(f"/admin/data/job/errors.csv?job={job}")
    assert download.status_code == 200 and "attachment" in download.headers[
        "content-disposition"]
    table = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert {"3", "5"} <= {r["row"] for r in table}
    assert {r["file"] for r in table} == {"bad export.csv"}


def test_an_upload_over_the_limit_is_refused_with_413(company: Company,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRADAR_UPLOAD_LIMIT", "1K")
    client = company.admin()
    before = set(uploads_root(company.workspace).iterdir())
    refused = upload(client, "big.csv", content=b"a,b\n" + b"1,2\n" * 2000)
    assert refused.status_code == 413
    assert "upload limit of 1 KB" in refused.text and "SALESRADAR_UPLOAD_LIMIT" in refused.text
    # streamed without a length (chunked): stopped while the bytes arrive
    with httpx.Client(base_url=company.url, timeout=120) as raw:
        chunked = raw.post(
            "/api/v1/admin/data/uploads?table=invoice_lines",
            headers={"Authorization": f"Bearer {company.token}",
                     "Content-Type": "multipart/form-data; boundary=XyZ"},
            content=iter([b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
                          b'filename="big.csv"\r\n\r\n', *([b"1,2\n" * 500] * 4),
                          b"\r\n--XyZ--\r\n"]))
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
    assert set(uploads_root(company.workspace).iterdir()) == before  # nothing left behind


@pytest.mark.parametrize(("name", "content", "said"), [
    ("report.xlsx", b"a,b\n1,2\n", "the content is text"),
    ("data.csv", b"\x00\x01\x02binary", "not a file salesradar reads"),
    ("setup.exe", b"MZ\x90\x00", "salesradar reads CSV or TXT"),
    ("empty.csv", b"", "empty"),
])
def test_the_type_is_read_from_the_content(company: Company, name: str, content: bytes,
                                           said: str) -> None:
    refused = upload(company.admin(), name, content=content)
    assert refused.status_code == 400 and said in refused.text


def test_the_api_uploads_proposes_imports(company: Company) -> None:
    client = httpx.Client(base_url=company.url, timeout=120,
                          headers={"Authorization": f"Bearer {company.token}"})
    OPEN_CLIENTS.append(client)
    sent = client.post("/api/v1/admin/data/uploads?table=invoice_lines",
                       files={"file": ("export.csv", PRIORITY.read_bytes(), "text/csv")})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["proposal"]["saved"] == "Priority invoices" or body["proposal"]["shipped"]
    assert len(body["preview"]) == 5
    wrong = client.post("/api/v1/admin/data/import", json={
        "upload": body["upload"], "columns": {"rep_id": "no such header"}})
    assert wrong.status_code == 400 and "no such header" in wrong.json()["error"]["message"]
    started = client.post("/api/v1/admin/data/import", json={"upload": body["upload"]})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while not (job := client.get(f"/api/v1/admin/data/job?job={started.json()['id']}")
               .json())["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["status"] == "done" and job["result"]["unchanged"] == 5  # imported before


# -- who may -----------------------------------------------------------------------------------
def _admin_routes(site: Site) -> list[tuple[str, str]]:
    found = [(method, route.path) for route in all_routes(site.app.routes)
             if isinstance(route, APIRoute) and route.path.startswith(ADMIN_PREFIXES)
             for method in sorted(route.methods - {"HEAD"})]
    assert len(found) >= 19, found
    return found


@pytest.mark.parametrize("username", ["rep", "manager"])
def test_reps_and_managers_get_403_on_every_data_and_refresh_route(site: Site,
                                                                   username: str) -> None:
    client = site.client(username)
    page = client.get("/inbox")
    token = csrf_of(page.text)
    for method, path in _admin_routes(site):
        if path.startswith("/api/"):
            response = site.client().request(method, path, headers=site.bearer(username))
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
        else:
            response = client.request(method, path, data={"csrf_token": token}
                                      if method == "POST" else None)
            assert response.status_code == 403, (method, path, response.status_code)
    assert not list_events(site.db, action="refresh.run")


@pytest.mark.parametrize("path", ["/admin/data/upload", "/admin/data/upload/mapping",
                                  "/admin/data/mappings/delete", "/admin/refresh/run",
                                  "/admin/refresh/schedule"])
def test_a_form_without_the_csrf_token_is_refused(site: Site, path: str) -> None:
    client = site.client("admin")
    before = set(uploads_root(site.workspace).iterdir()) \
        if uploads_root(site.workspace).exists() else set()
    if path == "/admin/data/upload":
        response = client.post(path, data={"table": "invoice_lines"},
                               files={"file": ("x.csv", PRIORITY.read_bytes(), "text/csv")})
    else:
        response = client.post(path, data={"mode": "daily", "at": "03:00", "upload": "0" * 32})
    assert response.status_code == 403, response.text
    after = set(uploads_root(site.workspace).iterdir()) \
        if uploads_root(site.workspace).exists() else set()
    assert after == before
    assert not list_events(site.db, action="refresh")


def test_the_pages_say_what_to_do_in_english_too(site: Site) -> None:
    client = site.client("admin")
    data = client.get("/admin/data")
    assert data.status_code == 200 and 'data-testid="upload-form"' in data.text
    assert 'enctype="multipart/form-data"' in data.text and "Files up to 1 GB" in data.text
    refresh = client.get("/admin/refresh")
    assert refresh.status_code == 200 and 'data-testid="refresh-now"' in refresh.text
    assert '<script src="/static/progress.js"' in refresh.text
    assert client.get("/static/progress.js").status_code == 200


def _priority_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(PRIORITY.read_text(encoding="cp1255"))))


@pytest.mark.parametrize("kind", ["xlsx", "parquet"])
def test_excel_and_parquet_are_proposed_too(company: Company, tmp_path: Path,
                                            kind: str) -> None:
    rows = _priority_rows()
    path = tmp_path / f"export.{kind}"
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({h: [r[i] for r in rows[1:]] for i, h in
                                 enumerate(rows[0])}), path)
    client = company.admin()
    sent = upload(client, path, name=f"../../etc/{path.name}")
    assert sent.status_code == 303, sent.text
    upload_id = sent.headers["location"].split("upload=")[1]
    stored = uploads_root(company.workspace) / upload_id
    assert sorted(p.name for p in stored.iterdir()) == ["invoice_lines." + kind, "meta.json"]
    page = client.get(sent.headers["location"])
    assert page.status_code == 200 and 'data-testid="missing-columns"' not in page.text
    assert selected(page.text, "sku") == 'מק"ט'
    assert "MLK-1L" in page.text


def test_an_ambiguous_column_is_flagged_not_guessed_silently(company: Company) -> None:
    content = (b"Invoice,Date,Customer,Client,Item,Qty,Total\n"
               b"A1,2024-01-05,C1,C1,S1,1,10.00\nA2,2024-01-06,C2,C2,S2,2,20.00\n")
    client = company.admin()
    page = client.get(upload(client, "orders.csv", content=content).headers["location"])
    row = re.search(r'<tr data-testid="mapping-row" data-column="customer_id"[^>]*>.*?</tr>',
                    page.text, re.S)
    assert row and 'data-flagged="1"' in row.group(0)
    assert 'data-testid="ambiguous"' in row.group(0) and "Client" in row.group(0)
    other = re.search(r'<tr data-testid="mapping-row" data-column="sku"[^>]*>', page.text)
    assert other and 'data-flagged="0"' in other.group(0)
