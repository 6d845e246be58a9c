"""The server-rendered pages: login, CEO dashboard, inbox, customers, reps, pipeline.

Handlers are thin: they resolve the caller (anonymous visitors go to /login), call the same
service functions as the API through the caller's scope, and render a Jinja2 template in the
caller's language. Every form post checks the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from salesradar import charts
from salesradar.access import NotVisible, require_rep, visible_insight
from salesradar.api.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    PageCaller,
    State,
    check_csrf,
    client_ip,
    cookie_args,
    resolve,
    session_id,
    sign,
    state,
    unsign,
)
from salesradar.api.edge import RowId
from salesradar.api.routes import dashboard_data, pipeline_data
from salesradar.app import users
from salesradar.web import data, i18n

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(
    t=i18n.t, money=i18n.ltr(i18n.money_text), value=i18n.ltr(i18n.value_text),
    pct=i18n.ltr(i18n.pct_text), change=i18n.ltr(i18n.change_text),
    date=i18n.ltr(charts.format_day), month=i18n.ltr(i18n.month_text))
templates.env.globals.update(
    tier_word=lambda code, lang: i18n.word(i18n.TIERS, code, lang),
    factor_word=lambda code, lang: i18n.word(i18n.FACTORS, code, lang),
    stage_word=i18n.stage_text)
templates.env.filters["numbers"] = i18n.isolate_numbers
INBOX_ROWS = 50  # the most valuable first; the API lists more


def render(request: Request, template: str, caller: Caller | None, status: int = 200,
           lang: str | None = None, **context: Any) -> HTMLResponse:
    lang = i18n.lang_of(lang or (caller.user.lang if caller else
                                 request.query_params.get("lang")))
    return templates.TemplateResponse(request, template, {
        "lang": lang, "dir": "rtl" if lang == "he" else "ltr", "caller": caller,
        "user": caller.user if caller else None,
        "csrf": caller.csrf_token if caller else None, **context}, status_code=status)


def error_page(request: Request, status: int, message: str,
               lang: str | None = None) -> HTMLResponse:
    """The error page in ``lang``; without the caller's menu when even the caller cannot be
    resolved (their scope reads the workspace, which may be what failed)."""
    try:
        caller = resolve(request)
    except Exception:
        caller = None
    return render(request, "error.html", caller, status, lang, status_code=status,
                  message=message)


# -- login -----------------------------------------------------------------------------------
def _login_form(request: Request, error: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status, error=error, login_csrf=token)
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_CSRF_COOKIE, sign(state(request), token, "salesradar-login"),
                        max_age=3600, **cookie_args(state(request)))
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    if resolve(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_form(request)


@router.post("/login")
def login(request: Request, st: State, username: Annotated[str, Form(max_length=100)] = "",
          password: Annotated[str, Form(max_length=1000)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    expected = unsign(st, request.cookies.get(LOGIN_CSRF_COOKIE), "salesradar-login")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_form(request, "login_expired", 403)
    ip = client_ip(request)
    wait = users.login_wait(st.db, username, ip)
    if wait:  # this name from this address failed too often: slowed down, not locked out
        return _login_form(request, "login_blocked", 429, {"Retry-After": str(wait)})
    try:
        user = users.authenticate(st.db, username, password)
    except users.LoginBusy:
        return _login_form(request, "login_busy", 503, {"Retry-After": "5"})
    if user is None:
        users.record_failure(st.db, username, ip)
        return _login_form(request, "login_failed", 401)
    users.clear_failures(st.db, username, ip)
    sid, _csrf = users.create_session(st.db, user.id)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, sign(st, sid), max_age=users.SESSION_DAYS * 86400,
                        **cookie_args(st))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, caller: PageCaller, st: State,
           csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(caller, csrf_token)
    sid = session_id(request)
    if sid:
        users.end_session(st.db, sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/settings/lang")
def set_lang(request: Request, caller: PageCaller, st: State,
             lang: Annotated[str, Form(max_length=5)] = "en",
             csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(caller, csrf_token)
    users.set_lang(st.db, caller.user.id, lang)
    back = request.headers.get("referer") or "/"
    return RedirectResponse(_local(back), status_code=303)


def _local(url: str) -> str:
    """Only redirect within the site (a Referer could name another host)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return path + (f"?{parts.query}" if parts.query else "")


# -- pages -----------------------------------------------------------------------------------
@router.get("/")
def dashboard(request: Request, caller: PageCaller, st: State) -> Response:
    if caller.user.role == "rep":
        return RedirectResponse("/inbox", status_code=303)
    board = dashboard_data(st, caller.scope)
    lang = i18n.lang_of(caller.user.lang)

    def draw() -> tuple[dict[str, str], str | None]:
        sparks = {tile["name"]: charts.sparkline(
            [p["value"] for p in tile["trend"]], title=i18n.t("vs_previous", lang), lang=lang,
            unit=tile["unit"]) for tile in board["tiles"] if len(tile["trend"]) > 1}
        points = board["whale_curve"]["points"]
        whale = charts.whale_curve_chart(
            [p["customer_share"] for p in points], [p["profit_share"] or 0.0 for p in points],
            title=i18n.t("whale_title", lang), lang=lang) if points else None
        return sparks, whale

    # the charts change only with the data: drawn once per scope, language and version
    sparks, whale = st.cached(f"dashboard-charts-{lang}", caller.scope, draw)
    return render(request, "dashboard.html", caller, board=board, sparks=sparks, whale=whale,
                  page="dashboard")


@router.get("/inbox")
def inbox(request: Request, caller: PageCaller, st: State, rep: str | None = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1,
          undo: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    """Open insights in the order to work them, each customer's together, a page at a time
    with the counts, the people to call, the trail, and an undo offer after a move."""
    from salesradar.app.rep_outcomes import OUTCOMES
    from salesradar.insights.inbox import customer_of, is_stale_lead, lead_due, page_of, trail
    from salesradar.web import worklist

    if rep == "":
        rep = None
    if rep is None and caller.user.role == "rep":
        rep = caller.user.rep_id or ""
    if rep is not None:
        require_rep(caller.scope, rep)
    ordered = st.cached(f"inbox-ordered:{rep}", caller.scope,
                        lambda: worklist.inbox_rows(st.store, caller.scope, rep),
                        extra=st.insights_version())
    view = page_of(ordered, page, INBOX_ROWS)
    rows = view["rows"]
    moved = None
    if undo is not None:
        try:
            moved = visible_insight(st.store, caller.scope, undo).to_dict()
        except NotVisible:
            moved = None
    team = sorted(r["rep_id"] for r in st.reps() if caller.scope.allows_rep(r["rep_id"]))
    return render(request, "inbox.html", caller, rows=rows, rep=rep, team=team, page="inbox",
                  names={r["rep_id"]: r.get("name") for r in st.reps()}, view=view,
                  trails=trail(st.store, [r["id"] for r in rows]),
                  reach=worklist.reach(st, caller.scope, rows), moved=moved,
                  customer_of=customer_of, stale=is_stale_lead, due=lead_due,
                  tel=worklist.tel, outcomes=OUTCOMES,
                  here="/inbox?" + urlencode({k: v for k, v in (
                      ("rep", rep if caller.user.role != "rep" else None),
                      ("page", view["page"])) if v}),
                  export_query=urlencode({"rep": rep} if rep else {}))


@router.post("/insights/{insight_id}/status")
def insight_status(request: Request, insight_id: RowId, caller: PageCaller, st: State,
                   status: Annotated[str, Form(max_length=20)] = "",
                   until: Annotated[str, Form(max_length=20)] = "",
                   back: Annotated[str, Form(max_length=2000)] = "",
                   next_id: Annotated[str, Form(max_length=20)] = "",
                   csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Move an insight, then back to the same inbox page, at the next row, with an undo offer."""
    from salesradar.app import audit
    from salesradar.web.worklist import back_url

    check_csrf(caller, csrf_token)
    moved = data.change_status(st.store, caller.scope, insight_id, status, until=until,
                               note=f"by {caller.user.username} (web)")
    audit.record(st.db, caller.user.username, "insight.status", str(insight_id),
                 {"status": moved["status"]})
    anchor = int(next_id) if next_id.isdigit() and moved["status"] != "acknowledged" \
        else insight_id
    if not back:
        back = _local(request.headers.get("referer") or "/inbox")
    return RedirectResponse(back_url(back, undo=insight_id, anchor=anchor), status_code=303)


@router.get("/customers")
def customers(request: Request, caller: PageCaller, st: State, q: str | None = None) -> Response:
    from salesradar.api.routes import as_of

    day = as_of(st)  # the company's data day, as on the dashboard
    with st.open(caller.scope) as ws:
        rows = data.customers_list(ws, q, 100, day=day)
    return render(request, "customers.html", caller, rows=rows, q=q or "", page="customers")


@router.get("/customers/{customer_id}")
def customer(request: Request, customer_id: str, caller: PageCaller, st: State) -> Response:
    from salesradar.api.routes import churn_model

    lang = i18n.lang_of(caller.user.lang)
    from salesradar.accounts.plans import current_plan, with_names

    with st.open(caller.scope) as ws:
        view = data.customer_360(ws, customer_id, churn_model=churn_model(st), lang=lang)
        plan = current_plan(st.db, customer_id)  # after the scope check of the view
        plan = with_names(ws, plan) if plan else None
    timeline = view["timeline"]
    chart = charts.line_chart(
        [dt.date.fromisoformat(p["period"]) for p in timeline],
        {i18n.t("revenue", lang): [p["revenue"] for p in timeline]},
        title=i18n.t("timeline", lang), unit="money", lang=lang) if len(timeline) > 1 else None
    return render(request, "customer.html", caller, v=view, chart=chart, page="customers",
                  plan=plan, due=(dt.date.today() + dt.timedelta(days=14)).isoformat())


@router.get("/reps")
def reps(request: Request, caller: PageCaller, st: State) -> Response:
    from salesradar.api.routes import scorecards

    cards = [c for c in scorecards(st) if caller.scope.allows_rep(c["rep_id"])]
    lang = i18n.lang_of(caller.user.lang)
    comparisons = []  # per operating model, one bar chart per KPI: every rep side by side
    for model in sorted({c["model"] for c in cards}):
        team = [c for c in cards if c["model"] == model]
        if len(team) < 2:  # nobody to compare with
            continue
        for k, kpi in enumerate(team[0]["kpis"]):
            values = [c["kpis"][k]["value"] for c in team]
            if any(v is not None for v in values):
                comparisons.append(charts.bar_chart(
                    [c["name"] for c in team], [v or 0.0 for v in values],
                    title=kpi[f"label_{lang}"], unit=kpi["unit"], lang=lang, horizontal=True))
    return render(request, "reps.html", caller, cards=cards, comparisons=comparisons,
                  page="reps")


@router.get("/reps/{rep_id}")
def rep(request: Request, rep_id: str, caller: PageCaller, st: State) -> Response:
    from salesradar.api.routes import scorecards

    require_rep(caller.scope, rep_id)
    card = next((c for c in scorecards(st) if c["rep_id"] == rep_id), None)
    if card is None:
        return error_page(request, 404, f"no scorecard for rep {rep_id}")
    lang = i18n.lang_of(caller.user.lang)
    sparks = {k["name"]: charts.sparkline([p["value"] for p in k["trend"]],
                                          title=k[f"label_{lang}"], lang=lang, unit=k["unit"])
              for k in card["kpis"] if len(k.get("trend") or []) > 1}
    return render(request, "rep.html", caller, card=card, sparks=sparks, page="reps")


@router.get("/pipeline")
def pipeline(request: Request, caller: PageCaller, st: State) -> Response:
    view = pipeline_data(st, caller.scope)
    lang = i18n.lang_of(caller.user.lang)

    def draw() -> dict[str, Any]:
        cov = view["coverage"]
        coverage = charts.coverage_chart(
            [i18n.month_text(p["period"]) for p in cov], [p["value"] for p in cov],
            title=i18n.t("coverage", lang), lang=lang) if cov else None
        funnels = [(pipe, charts.funnel_chart(
            [i18n.stage_text(s["stage"], lang) for s in rows], [s["deals"] for s in rows],
            title=f'{i18n.t("stages", lang)}: {pipe}', lang=lang))
            for pipe, rows in _by_pipeline(view["stages"]).items()]
        fva = view["forecast_vs_actual"]
        forecast = charts.line_chart(
            [dt.date.fromisoformat(p["period"]) for p in fva],
            {i18n.t("forecast", lang): [p["forecast"] for p in fva],
             i18n.t("actual", lang): [p["actual"] for p in fva]},
            title=i18n.t("forecast_vs_actual", lang), unit="money", lang=lang,
        ) if len(fva) > 1 else None
        return {"coverage": coverage, "funnels": funnels, "forecast": forecast}

    drawn = st.cached(f"pipeline-charts-{lang}", caller.scope, draw)
    return render(request, "pipeline.html", caller, view=view, page="pipeline", **drawn)


def _by_pipeline(stages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in stages:
        out.setdefault(str(row.get("pipeline") or "–"), []).append(row)
    return out


@router.get("/manage")
def manage(request: Request, caller: PageCaller, st: State) -> Response:
    """Account and sales management in one page: portfolio risk, pacing against target, the
    portfolio forecast, funnels, and (for admins and managers) the reports."""
    from salesradar.api import manage as api
    from salesradar.engine import table_names
    from salesradar.errors import UserInputError

    lang = i18n.lang_of(caller.user.lang)
    with st.open(caller.scope) as ws:
        has_sales = "invoice_lines" in table_names(ws.backend) and ws.table(
            "invoice_lines").count().to_pyarrow().as_py() > 0
    if not has_sales:  # an empty scope (a new rep, a team without customers) or workspace
        key = "empty_workspace" if caller.user.role == "admin" else "empty_scope"
        return render(request, "manage.html", caller, page="manage", risk=None, pacing=None,
                      forecast=None, funnel=None, empty=i18n.t(key, lang))

    def section(compute: Any) -> Any:
        try:
            return compute(caller, st)
        except UserInputError:  # a section whose data are missing is left out, not a 400
            return None

    return render(request, "manage.html", caller, page="manage", empty=None,
                  risk=section(api.risk), pacing=section(api.pacing),
                  forecast=section(api.forecast), funnel=section(api.funnel))
