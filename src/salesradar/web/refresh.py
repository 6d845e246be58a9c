"""/admin/refresh: "refresh now" with live progress by stage, the last runs, the schedule.

``POST /admin/refresh/run`` starts :func:`salesradar.pipeline.run` in a server thread (one at a
time: a second click while one runs says so, 409); ``GET /admin/refresh/status`` is its
progress as JSON, polled by ``static/progress.js`` (without JavaScript the page reloads itself
while a refresh runs). ``POST /admin/refresh/schedule`` sets ``off`` or ``daily HH:MM``, which
the serving app runs by itself: this router's lifespan starts the schedule thread
(:func:`salesradar.app.jobs.scheduler`) when the app serves.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from salesradar.api.admin_auth import AdminPage
from salesradar.api.auth import Caller, State, check_csrf
from salesradar.app import schedule as sched
from salesradar.app.jobs import Busy, runner_for, scheduler
from salesradar.errors import UserInputError
from salesradar.web import data_in_words as words
from salesradar.web import i18n
from salesradar.web.pages import render

SCHEDULE_EVERY = 30.0  # seconds between two looks at the schedule


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves, a thread runs the scheduled refresh when it is due."""
    st = app.state.sr
    stop = threading.Event()
    threading.Thread(target=scheduler, args=(st.workspace, st.db, stop),
                     kwargs={"every": SCHEDULE_EVERY}, daemon=True,
                     name="salesradar-schedule").start()
    yield
    stop.set()


router = APIRouter(include_in_schema=False, lifespan=lifespan)


def status_of(st: Any, lang: str) -> dict[str, Any]:
    """The running (or last) refresh of this server, the history and the schedule."""
    runner = runner_for(st.workspace)
    active = runner.active()
    job = active if active is not None and active.kind == "refresh" else runner.last("refresh")
    shown = job.to_dict() if job is not None else None
    if shown is not None:
        shown["stage_text"] = words.stage_text(shown["stage"], lang)
        shown.pop("issues", None)
    running_id = job.run_id if job is not None and not job.finished else None
    return {"job": shown, "busy": active.to_dict() if active is not None else None,
            "runs": sched.list_runs(st.db, 10, running=running_id),
            "schedule": sched.get_schedule(st.db).to_dict()}


def _page(request: Request, caller: Caller, st: Any, message: str | None = None,
          error: str | None = None, status: int = 200) -> Response:
    lang = i18n.lang_of(caller.user.lang)
    return render(request, "admin_refresh.html", caller, status, page="admin",
                  s=status_of(st, lang), message=message, error=error,
                  stage_text=words.stage_text, time_text=words.time_text,
                  schedule_text=words.schedule_text,
                  server_now=datetime.now().strftime("%H:%M"))


@router.get("/admin/refresh")
def refresh_page(request: Request, caller: AdminPage, st: State) -> Response:
    return _page(request, caller, st)


@router.get("/admin/refresh/status")
def refresh_status(caller: AdminPage, st: State) -> JSONResponse:
    """The refresh's progress as JSON (``static/progress.js`` polls it)."""
    return JSONResponse(status_of(st, i18n.lang_of(caller.user.lang)))


@router.post("/admin/refresh/run")
def refresh_run(request: Request, caller: AdminPage, st: State,
                csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(caller, csrf_token)
    lang = i18n.lang_of(caller.user.lang)
    try:
        runner_for(st.workspace).start_refresh(st.db, actor=caller.user.username)
    except Busy as exc:
        busy = "rf_busy_refresh" if exc.job.kind == "refresh" else "rf_busy_import"
        return _page(request, caller, st, error=i18n.t(busy, lang),
                     status=409)
    return RedirectResponse("/admin/refresh", status_code=303)


@router.post("/admin/refresh/schedule")
def refresh_schedule(request: Request, caller: AdminPage, st: State,
                     mode: Annotated[str, Form(max_length=10)] = "off",
                     at: Annotated[str, Form(max_length=10)] = "02:00",
                     csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(caller, csrf_token)
    try:
        sched.set_schedule(st.db, "off" if mode == "off" else f"daily {at}",
                           by=caller.user.username)
    except UserInputError as exc:
        return _page(request, caller, st, error=str(exc), status=400)
    return _page(request, caller, st,
                 message=i18n.t("rf_sched_saved", i18n.lang_of(caller.user.lang)))
