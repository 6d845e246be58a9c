"""The API of data in and refresh (admins only; a token, or the session with X-CSRF-Token).

* ``POST /api/v1/admin/data/uploads?table=T`` (multipart, field ``file``): the upload and the
  detector's proposal (201), with the first rows as canonical columns;
* ``GET /api/v1/admin/data/upload?upload=ID``: the proposal again;
* ``POST /api/v1/admin/data/import``: ``{"upload": ID, "columns": {"rep_id": "Agent"},
  "save_as": "Priority invoices"}`` starts the import (202; 409 while another job writes);
* ``GET /api/v1/admin/data/job?job=ID``: its progress and end (every bad row under
  ``issues``);
* ``POST /api/v1/admin/refresh`` starts a refresh (202; 409 while one runs),
  ``GET /api/v1/admin/refresh`` its progress, the last runs and the schedule;
* ``PUT /api/v1/admin/refresh/schedule``: ``{"schedule": "daily 02:00"}`` or ``"off"``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from salesradar.api.admin_auth import AdminApi, receive_upload
from salesradar.api.auth import ApiError, State
from salesradar.app import schedule as sched
from salesradar.app import uploads
from salesradar.app.jobs import Busy, Job, runner_for
from salesradar.web import i18n
from salesradar.web.data_in import PREVIEW_ROWS, start_import
from salesradar.web.refresh import status_of

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])
Token = Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f]{1,64}$")]
TableName = Annotated[str, Query(max_length=60, pattern=r"^[a-z_]+$")]


def _proposal(upload: uploads.Upload, db: Any) -> dict[str, Any]:
    proposal = upload.proposal(db)
    return {"upload": upload.id, "table": upload.table, "file": upload.name,
            "size": upload.meta.get("size"), "proposal": proposal.to_dict(),
            "preview": proposal.preview(PREVIEW_ROWS)}


@router.post("/data/uploads", status_code=201)
async def upload_file(request: Request, caller: AdminApi, st: State,
                      table: TableName) -> dict[str, Any]:
    """Upload a file (multipart, field ``file``) for ``table``; answers the proposed mapping.
    413 beyond the limit (``SALESRADAR_UPLOAD_LIMIT``, default 1 GB)."""
    stored, _ = await receive_upload(request, caller, table=table, form_csrf=False)
    return await run_in_threadpool(_proposal, stored, st.db)


@router.get("/data/upload")
def get_upload(caller: AdminApi, st: State, upload: Token) -> dict[str, Any]:
    """The proposal for an upload (kept for a day, or until it imports)."""
    return _proposal(uploads.load_upload(st.workspace, upload), st.db)


class ImportRequest(BaseModel):
    """What to import: the upload, corrections (canonical column -> the file's header, or
    null to leave it out) and the name to save the mapping under."""

    upload: str = Field(max_length=64, pattern=r"^[0-9a-f]{32}$")
    columns: dict[str, str | None] = Field(default_factory=dict, max_length=200)
    save_as: str | None = Field(default=None, max_length=100)


def _busy(exc: Busy) -> ApiError:
    return ApiError(409, "busy", str(exc))


@router.post("/data/import", status_code=202)
def import_upload(body: ImportRequest, caller: AdminApi, st: State) -> dict[str, Any]:
    """Start importing an upload with the proposal and the corrections (all-or-nothing)."""
    stored = uploads.load_upload(st.workspace, body.upload)
    if body.columns:
        stored.meta["corrections"] = {**stored.corrections, **body.columns}
    proposal = stored.proposal(st.db)  # a header the file lacks: 400 naming the headers
    stored.save_meta()
    try:
        job = start_import(st, caller, stored, proposal, body.save_as)
    except Busy as exc:
        raise _busy(exc) from None
    return _job(job)


def _job(job: Job, lang: str = "en") -> dict[str, Any]:
    from salesradar.web.data_in_words import stage_text

    shown = job.to_dict()
    shown["stage_text"] = stage_text(job.stage, lang)
    return shown


@router.get("/data/job")
def get_job(caller: AdminApi, st: State, job: Token) -> dict[str, Any]:
    """An import's (or refresh's) progress and end; ``issues`` lists every bad row."""
    return _job(runner_for(st.workspace).get(job), i18n.lang_of(caller.user.lang))


@router.post("/refresh", status_code=202)
def start_refresh(caller: AdminApi, st: State) -> dict[str, Any]:
    """Start a refresh (scores, insights, outcomes, delivery) in the background."""
    try:
        job = runner_for(st.workspace).start_refresh(st.db, actor=caller.user.username,
                                                      trigger="api")
    except Busy as exc:
        raise _busy(exc) from None
    return _job(job)


@router.get("/refresh")
def refresh_status(caller: AdminApi, st: State) -> dict[str, Any]:
    """The running (or last) refresh, the last runs and the schedule."""
    return status_of(st, i18n.lang_of(caller.user.lang))


class ScheduleRequest(BaseModel):
    """``off``, or ``daily HH:MM`` (server local time)."""

    schedule: str = Field(max_length=20)


@router.put("/refresh/schedule")
def put_schedule(body: ScheduleRequest, caller: AdminApi, st: State) -> JSONResponse:
    """Set the schedule the server runs the refresh on."""
    found = sched.set_schedule(st.db, body.schedule, by=caller.user.username)
    return JSONResponse(found.to_dict())
