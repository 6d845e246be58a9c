"""/admin/data: an admin uploads a file, checks the proposed mapping, corrects it, imports.

1. ``GET /admin/data``: choose the table and the file (``POST /admin/data/upload``, multipart,
   streamed to a server-named file; 413 beyond the limit).
2. ``GET /admin/data/upload?upload=ID``: the proposed mapping (source, confidence, reason;
   ambiguous and unsure columns flagged, required ones missing said) beside the first rows as
   canonical columns; a select per column corrects it (``POST /admin/data/upload/mapping``,
   ``action=preview`` shows the result, ``action=import`` starts the import).
3. ``GET /admin/data/job?job=ID``: the import's progress (``/admin/data/job/status``, polled by
   ``static/progress.js``; without JavaScript the page reloads itself) and its end: the counts,
   or every bad row with ``/admin/data/job/errors.csv``. Nothing is loaded when a row is bad.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from salesradar.api.admin_auth import AdminPage, receive_upload
from salesradar.api.auth import ApiError, Caller, State, check_csrf
from salesradar.app import uploads
from salesradar.app.jobs import Busy, Job, errors_csv, runner_for
from salesradar.errors import UserInputError
from salesradar.schema import TABLES
from salesradar.web import data_in_words as words
from salesradar.web import i18n
from salesradar.web.pages import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f]{1,64}$")]
KEEP = "="  # the select's value for "as proposed" (a formula or constant kept)
PREVIEW_ROWS = 20
LOW_CONFIDENCE = 0.6


def _lang(caller: Caller) -> str:
    return i18n.lang_of(caller.user.lang)


@router.get("/admin/data")
def data_page(request: Request, caller: AdminPage, st: State,
              table: Annotated[str | None, Query(max_length=60)] = None) -> Response:
    runner = runner_for(st.workspace)
    return render(request, "admin_data.html", caller, page="admin", tables=list(TABLES),
                  table=table if table in TABLES else "invoice_lines",
                  limit=uploads.size_text(uploads.upload_limit()),
                  limit_bytes=uploads.upload_limit(),
                  mappings=uploads.list_mappings(st.db), last=runner.last("import"),
                  time_text=words.time_text)


@router.post("/admin/data/upload")
async def upload(request: Request, caller: AdminPage) -> Response:
    """The multipart form: ``csrf_token`` and ``table`` before the ``file``."""
    stored, _ = await receive_upload(request, caller)
    return RedirectResponse(f"/admin/data/upload?upload={stored.id}", status_code=303)


def _options(proposal: Any) -> dict[str, str]:
    """What each canonical column's select starts at: its header, KEEP or ''."""
    chosen = {}
    for name, column in proposal.columns.items():
        chosen[name] = column.source or (KEEP if column.formula or column.constant else "")
    return chosen


def _proposal_page(request: Request, caller: Caller, st: Any, upload: uploads.Upload,
                   error: str | None = None, status: int = 200) -> Response:
    from salesradar.schema import table as table_spec

    proposal = upload.proposal(st.db)
    spec = table_spec(upload.table)
    headers = list(proposal.sample.headers) if proposal.sample else []
    return render(request, "admin_data_upload.html", caller, status, page="admin",
                  upload=upload, proposal=proposal, spec=spec, headers=headers,
                  chosen=_options(proposal), preview=proposal.preview(PREVIEW_ROWS),
                  keep=KEEP, low=LOW_CONFIDENCE, error=error,
                  save_as=upload.meta.get("save_as") or "",
                  size=uploads.size_text(int(upload.meta.get("size") or 0)))


@router.get("/admin/data/upload")
def upload_page(request: Request, caller: AdminPage, st: State, upload: Token) -> Response:
    return _proposal_page(request, caller, st, uploads.load_upload(st.workspace, upload))


def corrections_of(form: FormData | dict[str, Any], proposal: Any, spec: Any
                   ) -> dict[str, str | None]:
    """The form's selects (``col_<column>``) that differ from the proposal."""
    changes: dict[str, str | None] = {}
    current = _options(proposal)
    for column in spec.column_names:
        sent = form.get(f"col_{column}")
        if sent is None or not isinstance(sent, str) or sent == KEEP:
            continue
        if sent != current.get(column, ""):
            changes[column] = sent or None
    return changes


@router.post("/admin/data/upload/mapping")
async def upload_mapping(request: Request, caller: AdminPage, st: State) -> Response:
    """Apply the form's corrections (``action=preview``) or import with them
    (``action=import``; ``save`` and ``save_as`` keep the mapping for the source)."""
    from salesradar.schema import table as table_spec

    form = await request.form(max_files=0, max_fields=400)
    check_csrf(caller, str(form.get("csrf_token") or ""))
    upload_id = str(form.get("upload") or "")
    stored = uploads.load_upload(st.workspace, upload_id)
    spec = table_spec(stored.table)
    save_as = str(form.get("save_as") or "").strip()[:100]
    stored.meta["save_as"] = save_as

    def apply() -> Any:
        proposal = stored.proposal(st.db)
        stored.meta["corrections"] = {**stored.corrections,
                                      **corrections_of(form, proposal, spec)}
        stored.save_meta()
        return stored.proposal(st.db)

    try:
        proposal = await run_in_threadpool(apply)
    except UserInputError as exc:
        return _proposal_page(request, caller, st, stored, str(exc), 400)
    if form.get("action") != "import":
        return RedirectResponse(f"/admin/data/upload?upload={stored.id}", status_code=303)
    lang = _lang(caller)
    if proposal.missing:
        return _proposal_page(request, caller, st, stored, i18n.t("din_incomplete", lang), 400)
    try:
        job = start_import(st, caller, stored, proposal,
                           save_as if form.get("save") else None)
    except Busy as exc:
        busy = "rf_busy_refresh" if exc.job.kind == "refresh" else "rf_busy_import"
        return _proposal_page(request, caller, st, stored,
                              i18n.t(busy, lang), 409)
    return RedirectResponse(f"/admin/data/job?job={job.id}", status_code=303)


def mapping_source(upload: uploads.Upload, proposal: Any) -> str:
    """How the mapping came about, for the audit log."""
    if upload.corrections:
        return "corrected"
    if proposal.saved:
        return f"saved: {proposal.saved}"
    if proposal.shipped:
        return f"shipped: {proposal.shipped}"
    return "detected"


def start_import(st: Any, caller: Caller, upload: uploads.Upload, proposal: Any,
                 save_as: str | None) -> Job:
    """Start the import of ``upload`` with ``proposal``'s mapping (what the API calls too)."""
    proposal.require_complete()
    return runner_for(st.workspace).start_import(
        st.db, upload, proposal.mapping, actor=caller.user.username, save_as=save_as or None,
        mapping_source=mapping_source(upload, proposal))


@router.get("/admin/data/job")
def job_page(request: Request, caller: AdminPage, st: State, job: Token) -> Response:
    found = runner_for(st.workspace).get(job)
    if found.kind != "import":
        raise ApiError(404, "not_found", f"no import {job!r}")
    return render(request, "admin_data_job.html", caller, page="admin", job=found,
                  stage_text=words.stage_text, upload_exists=_exists(st, found))


def _exists(st: Any, job: Job) -> bool:
    try:
        uploads.load_upload(st.workspace, job.upload_id or "")
    except LookupError:
        return False
    return True


@router.get("/admin/data/job/status")
def job_status(caller: AdminPage, st: State, job: Token) -> JSONResponse:
    """The import's progress as JSON (``static/progress.js`` polls it)."""
    found = runner_for(st.workspace).get(job).to_dict()
    found["stage_text"] = words.stage_text(found["stage"], _lang(caller))
    found.pop("issues", None)
    return JSONResponse(found)


@router.get("/admin/data/job/errors.csv")
def job_errors(caller: AdminPage, st: State, job: Token) -> Response:
    """Every bad row (and warning) of the import, as CSV."""
    found = runner_for(st.workspace).get(job)
    name = f"import-errors-{found.table or 'data'}.csv"
    return Response(errors_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/admin/data/mappings/delete")
async def delete_mapping(request: Request, caller: AdminPage, st: State) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(caller, str(form.get("csrf_token") or ""))
    name = str(form.get("name") or "")[:100]
    if uploads.delete_mapping(st.db, name):
        from salesradar.app.audit import record

        record(st.db, caller.user.username, "data.mapping", name, {"deleted": True})
    return RedirectResponse("/admin/data", status_code=303)
