"""The REST API of account management, sales performance, commitments and reports (issue 7).

Thin handlers over the service functions of :mod:`salesradar.accounts`,
:mod:`salesradar.performance`, :mod:`salesradar.commitments` and :mod:`salesradar.reports`. Each
reads the workspace through the caller's scope (a rep sees their own accounts, funnel and
commission statement only); company-level documents (vendor commitments, the CEO and account
review reports) are for admins and managers. Results are cached per data version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from salesradar.access import EVERYTHING, require_customer
from salesradar.api.auth import ApiCaller, ApiError, Caller, State
from salesradar.api.edge import MAX_ID, ROWS, Day, Limit, Offset, PeriodText, RowId, page
from salesradar.api.routes import dashboard_data
from salesradar.lang import Lang

router = APIRouter(prefix="/api/v1")


def _company_only(caller: Caller) -> None:
    if caller.user.role == "rep":
        raise ApiError(403, "forbidden", "company-level documents are for admins and managers")


def _scoped(st: Any, caller: Caller, name: str, compute: Any) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        with st.open(caller.scope) as ws:
            result: dict[str, Any] = compute(ws)
            return result
    found: dict[str, Any] = st.cached(name, caller.scope, run)
    return found


@router.get("/accounts/profitability", tags=["accounts"])
def profitability(
    caller: ApiCaller, st: State,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = ROWS, offset: Offset = 0,
) -> dict[str, Any]:
    """Profit after cost to serve per customer, with the flags (discounts, cost to serve):
    ``limit`` customers from ``offset``, the ``total`` and ``next_offset``."""
    from salesradar.accounts.profitability import customer_profitability

    return page(_scoped(st, caller, f"profitability:{start}:{end}",
                        lambda ws: customer_profitability(ws, start=start, end=end)),
                "customers", limit, offset)


@router.get("/accounts/contact-coverage", tags=["accounts"])
def contacts(caller: ApiCaller, st: State, flagged_only: bool = False, limit: Limit = ROWS,
             offset: Offset = 0) -> dict[str, Any]:
    """Contact coverage of the A and B accounts: levels in touch, single-threaded flags
    (``limit`` accounts from ``offset``, the ``total`` and ``next_offset``)."""
    from salesradar.accounts.contacts import contact_coverage

    return page(_scoped(st, caller, f"contacts:{flagged_only}", lambda ws: {
        "accounts": contact_coverage(ws, flagged_only=flagged_only)}), "accounts", limit, offset)


@router.get("/accounts/risk", tags=["accounts"])
def risk(caller: ApiCaller, st: State) -> dict[str, Any]:
    """Portfolio risk: concentration, credit and sudden churn, with headlines (en, he)."""
    from salesradar.accounts.risk import portfolio_risk

    return _scoped(st, caller, "risk", lambda ws: portfolio_risk(ws))


@router.get("/accounts/review", tags=["accounts"])
def review(caller: ApiCaller, st: State,
           quarter: Annotated[PeriodText, Query(max_length=8, description="2026Q3 or 2026-Q3")],
           lang: Lang = "en") -> dict[str, Any]:
    """The quarterly account review of the caller's accounts, by tier."""
    from salesradar.accounts.review import quarterly_review

    return _scoped(st, caller, f"review:{quarter}:{lang}",
                   lambda ws: quarterly_review(ws, quarter=quarter, lang=lang, db=st.db))


@router.get("/customers/{customer_id}/plan", tags=["accounts"])
def plan(customer_id: str, caller: ApiCaller, st: State) -> dict[str, Any]:
    """A customer's account plan: the current version, its history and plan vs actual."""
    from salesradar.accounts.plans import current_plan, plan_history, plan_vs_actual

    with st.open(caller.scope) as ws:
        require_customer(ws, customer_id)
        current = current_plan(st.db, customer_id)
        return {"customer_id": customer_id, "current": current,
                "history": plan_history(st.db, customer_id),
                "vs_actual": plan_vs_actual(ws, st.db, customer_id) if current else None}


@router.get("/performance/pacing", tags=["performance"])
def pacing(caller: ApiCaller, st: State,
           period: Annotated[PeriodText | None, Query(max_length=10)] = None,
           metric: Annotated[str, Query(max_length=40)] = "revenue") -> dict[str, Any]:
    """Each rep's and team's standing against target in the period (ahead, on pace, behind)."""
    from salesradar.performance.plans import pacing as run

    return _scoped(st, caller, f"pacing:{period}:{metric}",
                   lambda ws: run(ws, st.db, period=period, metric=metric))


@router.get("/performance/forecast", tags=["performance"])
def forecast(caller: ApiCaller, st: State,
             periods: Annotated[int, Query(ge=1, le=12)] = 3,
             grain: Literal["month", "quarter"] = "month") -> dict[str, Any]:
    """The portfolio forecast per period: repeat business (seasonal, net of returns) plus new
    business (new customers or their weighted open deals), with an 80% range."""
    from salesradar.performance.forecast import portfolio_forecast

    return _scoped(st, caller, f"forecast:{periods}:{grain}",
                   lambda ws: portfolio_forecast(ws, periods=periods, grain=grain))


@router.get("/performance/funnel", tags=["performance"])
def funnel(caller: ApiCaller, st: State,
           days: Annotated[int, Query(ge=7, le=730)] = 180) -> dict[str, Any]:
    """Each rep's funnel ratios (calls, meetings, deals, wins) over the last ``days``."""
    from salesradar.performance.funnel import rep_funnels

    return _scoped(st, caller, f"funnel:{days}", lambda ws: rep_funnels(ws, days=days))


@router.get("/performance/commissions", tags=["performance"])
def commissions(caller: ApiCaller, st: State,
                plan: Annotated[str, Query(max_length=100, description="a stored plan's name")],
                period: Annotated[PeriodText | None, Query(max_length=10)] = None,
                ) -> dict[str, Any]:
    """Commissions under a stored plan: a rep sees only their own statement."""
    from salesradar.performance.commissions import compute_commissions, stored_plan

    doc = stored_plan(st.db, plan)
    return _scoped(st, caller, f"commissions:{plan}:{period}",
                   lambda ws: compute_commissions(ws, doc, period=period, db=st.db))


@router.get("/commitments", tags=["commitments"])
def commitments(caller: ApiCaller, st: State) -> list[dict[str, Any]]:
    """The vendor commitments on record (admins and managers)."""
    from salesradar.commitments.store import list_commitments

    _company_only(caller)
    return [c.to_dict() for c in list_commitments(st.db)]


@router.get("/commitments/{commitment_id}", tags=["commitments"])
def commitment(commitment_id: RowId, caller: ApiCaller, st: State) -> dict[str, Any]:
    """One commitment: terms, concerns, tracking against the baseline, fee, ROI and verdict."""
    from salesradar.commitments.status import commitment_status
    from salesradar.commitments.store import get_commitment

    _company_only(caller)
    c = get_commitment(st.db, commitment_id)

    def run() -> dict[str, Any]:
        with st.open() as ws:
            return commitment_status(ws.backend, c)
    found: dict[str, Any] = st.cached(f"commitment:{commitment_id}", EVERYTHING, run)
    return found


@router.get("/reports/{kind}", tags=["reports"], response_model=None)
def report(kind: Literal["ceo", "account-review", "commitment", "diagnostic"],
           caller: ApiCaller, st: State, lang: Lang = "en",
           format: Literal["html", "pdf"] = "html",
           ident: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
           quarter: Annotated[PeriodText | None, Query(max_length=8)] = None) -> Response:
    """A report as a self-contained HTML page or a PDF (admins and managers), through the
    caller's scope: a manager's CEO, account-review and diagnostic reports cover the team's
    reps and customers only. The commitment report is the vendor's commitment on the whole
    company (the figures of ``/commitments/{id}``: totals, no customer rows)."""
    from salesradar.api.routes import as_of
    from salesradar.reports import build_html
    from salesradar.reports.render import write_pdf

    _company_only(caller)
    scope = EVERYTHING if kind == "commitment" else caller.scope
    if kind == "ceo":
        # the cached dashboard of the caller's scope (the pages and the warm-up keep it)
        html = build_html(kind, lang=lang, workspace=st.workspace, pdf=format == "pdf",
                          db=st.db, dashboard=dashboard_data(st, scope))
    else:
        # the served app database as it is open (its URL as text hides the password); the
        # company's data day, so a team's quarter is the company's
        day = None if scope.everything else as_of(st)
        with st.open(scope) as ws:
            html = build_html(kind, lang=lang, workspace=st.workspace, ident=ident,
                              quarter=quarter, pdf=format == "pdf", db=st.db, ws=ws,
                              as_of=day)
    if format == "html":
        return HTMLResponse(html)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{kind}.pdf"
        write_pdf(html, out)
        body = out.read_bytes()
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="salesradar-{kind}-{lang}.pdf"'})
