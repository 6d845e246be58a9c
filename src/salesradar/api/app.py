"""The web application: REST API, pages, static assets and Swagger UI, all served by the app.

>>> from salesradar.app.db import AppDB
>>> app = create_app("demo/salesradar.duckdb", AppDB.open("sqlite://"))
>>> "/api/v1/dashboard" in app.openapi()["paths"]
True

Errors have one JSON shape on the API, ``{"error": {"code": ..., "message": ...}}``; on pages the
same errors render an HTML page with the status, and a missing login redirects to /login.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from salesradar import __version__
from salesradar.access import NotVisible
from salesradar.api.auth import ApiError, LoginRequired
from salesradar.api.edge import (
    CompanyContext,
    HeadAsGet,
    control_character,
    no_store,
    relative,
)
from salesradar.api.state import AppState
from salesradar.app.db import AppDB
from salesradar.app.settings import activate
from salesradar.errors import SalesradarError, UserInputError, WorkspaceError
from salesradar.web import i18n

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
LOG = logging.getLogger("salesradar.web")
# pages and documents anyone may fetch; every other route needs a login (tests walk the routes)
# /setup answers only with the one-time token a first run prints, and 404 once a user exists
PUBLIC_PATHS = frozenset({"/login", "/docs", "/openapi.json", "/static", "/swagger",
                          "/healthz", "/setup"})


def create_app(workspace: str | Path, db: AppDB, *, secure_cookies: bool = False,
               warm: bool = False) -> FastAPI:
    """The app serving ``workspace`` with users and insights in ``db``.

    ``warm``: compute the company dashboard, scorecards and pipeline in a background thread at
    start and again whenever the workspace changes, so no visitor waits for them.
    """
    import fastapi_offline

    from salesradar.api import admin as admin_api
    from salesradar.api.admin_data import router as admin_data_api
    from salesradar.api.manage import router as manage_router
    from salesradar.api.routes import router
    from salesradar.web import account_plans, admin_sales, worklist
    from salesradar.web import admin as admin_pages
    from salesradar.web.data_in import router as data_in_pages
    from salesradar.web.pages import router as pages
    from salesradar.web.refresh import router as refresh_pages
    from salesradar.web.setup import router as first_run
    from salesradar.web.setup import setup_token as first_run_token

    st = AppState(Path(workspace), db, secure_cookies=secure_cookies,
                  setup_token=first_run_token(db))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if warm:
            threading.Thread(target=_keep_warm, args=(st, stop), daemon=True,
                             name="salesradar-warm").start()
        yield
        stop.set()

    app = FastAPI(title="salesradar", version=__version__, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="B2B sales KPIs, insights and customer views. Authenticate with "
                  "`Authorization: Bearer <token>` (`salesradar user token NAME`).")
    app.state.sr = st
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    swagger = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI 5: OpenAPI 3.1
    app.mount("/swagger", StaticFiles(directory=swagger), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="salesradar API",
            swagger_js_url="/swagger/swagger-ui-bundle.js",
            swagger_css_url="/swagger/swagger-ui.css",
            swagger_favicon_url="/swagger/favicon.png")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, object]:
        """Up; ``warm``: the dashboards of the current data are computed (load tests wait)."""
        return {"status": "ok", "warm": st.warm.is_set()}

    @app.middleware("http")
    async def edge(request: Request, call_next: Any) -> Response:
        """The edge checks and headers of :mod:`salesradar.api.edge`; an unexpected error is
        a 500 in the error shape here, so the connection stays open for the next request."""
        if control_character(request.url.path, request.url.query):
            response = _error(request, 400, "invalid_request",
                              i18n.t("bad_characters", _lang(request)))
        else:
            try:
                response = await call_next(request)
            except Exception:
                LOG.exception("unhandled error on %s %s", request.method, request.url.path)
                response = _error(request, 500, "internal",
                                  i18n.t("internal_error", _lang(request)))
        # nothing loads from another host (offline by construction); Swagger UI's page alone
        # runs an inline script
        script = "'self' 'unsafe-inline'" if request.url.path == "/docs" else "'self'"
        response.headers.setdefault("Content-Security-Policy", (
            f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if no_store(request.url.path):
            response.headers["Cache-Control"] = "no-store"
        if "location" in response.headers:
            response.headers["location"] = relative(response.headers["location"])
        return response

    app.add_middleware(CompanyContext, state=st)
    app.add_middleware(HeadAsGet)  # outermost: the checks above see HEAD as GET
    app.include_router(router)
    app.include_router(manage_router)
    app.include_router(pages)
    app.include_router(first_run)  # /setup: the first administrator, on a store without users
    app.include_router(worklist.router)  # inbox actions, deal list, exports
    app.include_router(admin_pages.router)
    app.include_router(admin_sales.router)
    app.include_router(account_plans.router)
    app.include_router(admin_api.router)
    app.include_router(data_in_pages)  # /admin/data: upload, mapping, import
    app.include_router(refresh_pages)  # /admin/refresh, and the schedule thread
    app.include_router(admin_data_api)  # /api/v1/admin/data, /api/v1/admin/refresh
    _handlers(app)
    return app


def _keep_warm(st: AppState, stop: threading.Event, every: float = 5.0) -> None:
    """Keep the heavy results computed for the current workspace version: the dashboards
    (company, then each manager's team: what the load lands on), then the pipeline and the
    scorecards. Checked every few seconds, so new managers and new data are picked up;
    ``st.warm`` is set after the first full pass (``/healthz`` reports it)."""
    from salesradar.access import EVERYTHING
    from salesradar.api.routes import churn_model, dashboard_data, pipeline_data, scorecards
    from salesradar.app.users import list_users

    while not stop.is_set():
        try:
            activate(st.company())  # this thread's currency and fiscal year
            managers = sorted({st.scope(u) for u in list_users(st.db, active_only=True)
                               if u.role == "manager"}, key=lambda s: s.key())
            for scope in [EVERYTHING, *managers]:
                if stop.is_set():
                    return
                dashboard_data(st, scope)
            pipeline_data(st, EVERYTHING)
            scorecards(st)
            churn_model(st)
            st.warm.set()
        except UserInputError:  # no data yet (a new company): nothing to warm, said once
            if not st.warm.is_set():
                LOG.info("nothing to warm yet: the workspace has no data")
                st.warm.set()
        except Exception:  # busy (a run holds the file) or broken: retry on the next tick
            LOG.warning("warming the caches failed; retrying", exc_info=True)
        stop.wait(every)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _lang(request: Request) -> str:
    """The language to answer in: the user's, else ``?lang=``, else Accept-Language."""
    from salesradar.api.auth import user_of

    try:
        user = user_of(request)
    except Exception:  # the app database itself failing: answer in the asked language
        user = None
    if user is not None:
        return i18n.lang_of(user.lang)
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")[:2]
    return i18n.lang_of(asked.lower())


def _error(request: Request, status: int, code: str, message: str,
           headers: dict[str, str] | None = None) -> Response:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    if _is_api(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                            headers=headers)
    from salesradar.web.pages import error_page

    response = error_page(request, status, message, _lang(request))
    response.headers.update(headers or {})
    return response


RETRY_AFTER = "60"  # seconds: about one refresh of a small company's data


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    def api_error(request: Request, exc: ApiError) -> Response:
        return _error(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(NotVisible)
    def not_visible(request: Request, exc: NotVisible) -> Response:
        return _error(request, 404, "not_found", str(exc))

    @app.exception_handler(UserInputError)
    def user_input(request: Request, exc: UserInputError) -> Response:
        return _error(request, 400, "invalid_request", str(exc))

    @app.exception_handler(SalesradarError)
    def unavailable(request: Request, exc: SalesradarError) -> Response:
        LOG.warning("unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _error(request, 503, "unavailable", str(exc), {"Retry-After": RETRY_AFTER})

    @app.exception_handler(WorkspaceError)
    def workspace(request: Request, exc: WorkspaceError) -> Response:
        # the details (the file's path, the process holding it) go to the log, not to the user
        LOG.warning("workspace busy on %s %s: %s", request.method, request.url.path, exc)
        return _error(request, 503, "workspace_busy", i18n.t("workspace_busy", _lang(request)),
                      {"Retry-After": RETRY_AFTER})

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg')}")
        return _error(request, 422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        message = str(exc.detail)
        if not _is_api(request) and message == HTTPStatus(exc.status_code).phrase:
            # the server's own English phrase ("Not Found"): the page says it in its language
            message = i18n.t(f"http_{exc.status_code}", _lang(request))
        return _error(request, exc.status_code, codes.get(exc.status_code, "http_error"),
                      message, dict(exc.headers or {}))
