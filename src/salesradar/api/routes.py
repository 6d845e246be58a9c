"""The REST API under /api/v1: thin handlers over the same service functions the pages use.

Every handler takes the :class:`~salesradar.api.auth.Caller` (401 when anonymous) and reads
through the caller's scope, so a rep asking for another rep's customer, deal or insight gets 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from salesradar.access import Scope, require_rep, visible_insight
from salesradar.api.auth import ApiCaller, ApiError, State
from salesradar.api.edge import (
    ROWS,
    Day,
    Limit,
    Offset,
    PeriodText,
    PlainText,
    RowId,
    page,
)
from salesradar.dashboard import ceo_dashboard
from salesradar.engine import table_names
from salesradar.metrics import list_kpis, plain_rows, price_volume_mix, whale_curve, whale_summary
from salesradar.web import data, i18n
from salesradar.web.exports import (
    CUSTOMER_COLUMNS,
    INSIGHT_COLUMNS,
    FormatQuery,
    customer_rows,
    download,
    insight_rows,
)
from salesradar.workspace import last_invoice_day

router = APIRouter(prefix="/api/v1")
Action = Literal["ack", "done", "dismiss", "snooze"]
Id = Annotated[str, Query(min_length=1, max_length=200)]


class StatusChange(BaseModel):
    """A person's move of an insight: ack, done, dismiss, or snooze until a date."""

    status: Action
    until: dt.date | None = Field(None, description="With snooze: quiet until this date.")
    note: PlainText | None = Field(None, max_length=2000)


def _dims(by: str | None) -> tuple[str, ...]:
    return tuple(d.strip() for d in (by or "").split(",") if d.strip())


@router.get("/me", tags=["users"])
def me(caller: ApiCaller) -> dict[str, Any]:
    """The caller, their role and the reps they may see (null: every rep)."""
    return {**caller.user.to_dict(), "scope": caller.scope.to_dict()}


@router.get("/kpis", tags=["kpis"])
def kpis(caller: ApiCaller) -> list[dict[str, Any]]:
    """Every KPI: name, labels and descriptions (en, he), unit, tables, dimensions, periods."""
    return [k.to_dict() for k in list_kpis()]


@router.get("/kpis/{name}", tags=["kpis"], response_model=dict[str, Any])
def kpi(
    name: str, caller: ApiCaller, st: State,
    by: Annotated[str | None, Query(max_length=200, description="Dimensions, comma-separated: "
                                    "rep, team, channel, customer, region, product, ...")] = None,
    period: Annotated[str | None, Query(max_length=10, description="day, week, month, quarter, "
                                        "year or none")] = None,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = ROWS,
    offset: Offset = 0,
    format: FormatQuery = "json",
) -> Any:
    """One KPI by period and dimensions, with previous period, change and flags: ``limit``
    rows from ``offset``, the ``total`` and the ``next_offset`` (null on the last page);
    ``format=csv|xlsx``: those rows as a download."""
    with st.open(caller.scope) as ws:
        found = data.kpi_query(ws, name, _dims(by), period, start, end, limit=limit,
                               offset=offset)
    if format == "json":
        return found
    return download(found["rows"], None, format, f"kpi-{name}", caller)


@router.get("/dashboard", tags=["dashboard"])
def dashboard(caller: ApiCaller, st: State) -> dict[str, Any]:
    """The CEO dashboard of the caller's scope (tiles, comparison, concentration, whale, risks)."""
    return dashboard_data(st, caller.scope)


def dashboard_data(st: Any, scope: Scope) -> dict[str, Any]:
    """The CEO dashboard of ``scope``, computed once per workspace version (API, pages, warm-up)."""
    def compute() -> dict[str, Any]:
        with st.open() as ws:
            return ceo_dashboard(ws, scope=scope)
    found: dict[str, Any] = st.cached("dashboard", scope, compute)
    return found


@router.get("/insights", tags=["insights"], response_model=list[dict[str, Any]])
def insights(
    caller: ApiCaller, st: State,
    status: Annotated[str | None, Query(max_length=200, description="Statuses, comma-separated "
                                        "(default: new, sent, acknowledged)")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    rep: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Offset = 0,
    format: FormatQuery = "json",
) -> Any:
    """Insights within the caller's scope, highest value at stake first (``limit`` from
    ``offset``); ``format=csv|xlsx``: the same rows as a download in the caller's language."""
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else None
    found = data.inbox(st.store, caller.scope, rep=rep, kind=kind,
                       statuses=statuses or data.OPEN_STATUSES, limit=limit, offset=offset)
    if format == "json":
        return found
    lang = i18n.lang_of(caller.user.lang)
    return download(insight_rows(found, lang), INSIGHT_COLUMNS, format, "insights", caller)


@router.get("/insights/{insight_id}", tags=["insights"])
def insight(insight_id: RowId, caller: ApiCaller, st: State) -> dict[str, Any]:
    """One insight, its status history and the outcomes people logged on it."""
    from salesradar.app.rep_outcomes import logged

    found = visible_insight(st.store, caller.scope, insight_id)
    history = [{"at": at.isoformat(), "from": old, "to": new, "note": note}
               for at, old, new, note in st.store.history(insight_id)]
    outcomes = [o.to_dict() for o in logged(st.db, [insight_id]).get(insight_id, [])]
    return {**found.to_dict(), "history": history, "outcomes": outcomes}


@router.post("/insights/{insight_id}/status", tags=["insights"])
def change_status(insight_id: RowId, change: StatusChange, caller: ApiCaller,
                  st: State) -> dict[str, Any]:
    """Acknowledge, finish, dismiss or snooze an insight (snooze needs ``until``)."""
    visible_insight(st.store, caller.scope, insight_id)
    if change.status == "snooze" and not change.until:
        raise ApiError(400, "invalid_request", "snooze needs 'until' (a date)")
    return data.change_status(st.store, caller.scope, insight_id, change.status,
                              until=change.until, note=change.note or f"by {caller.user.username}")


@router.get("/customers", tags=["customers"], response_model=list[dict[str, Any]])
def customers(
    caller: ApiCaller, st: State,
    q: Annotated[str | None, Query(max_length=200, description="Part of id or name")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Offset = 0,
    format: FormatQuery = "json",
) -> Any:
    """Customers within the caller's scope with their scores and tiers, largest
    trailing-12-month revenue first (``limit`` from ``offset``, at most 500 as JSON);
    ``format=csv|xlsx``: the same rows as a download."""
    if format == "json" and limit > 500:
        raise ApiError(400, "invalid_request", "limit is at most 500 (5000 for csv or xlsx)")
    day = as_of(st)  # the company's data day, as on the dashboard
    with st.open(caller.scope) as ws:
        found = data.customers_list(ws, q, limit, day=day, offset=offset)
    if format == "json":
        return found
    lang = i18n.lang_of(caller.user.lang)
    return download(customer_rows(found, lang), CUSTOMER_COLUMNS, format, "customers",
                    caller)


@router.get("/customers/{customer_id}", tags=["customers"])
def customer(customer_id: str, caller: ApiCaller, st: State) -> dict[str, Any]:
    """The 360 view of one customer: sales, rhythm and risk, SKUs, offers, tier, health."""
    with st.open(caller.scope) as ws:
        return data.customer_360(ws, customer_id, churn_model=churn_model(st),
                                 lang=i18n.lang_of(caller.user.lang))


@router.get("/deals/{deal_id}", tags=["pipeline"])
def deal(deal_id: str, caller: ApiCaller, st: State) -> dict[str, Any]:
    """One deal and its stage history."""
    with st.open(caller.scope) as ws:
        return data.deal_view(ws, deal_id)


@router.get("/reps", tags=["reps"])
def reps(caller: ApiCaller, st: State) -> list[dict[str, Any]]:
    """Scorecards of the reps within the caller's scope."""
    return [c for c in scorecards(st) if caller.scope.allows_rep(c["rep_id"])]


@router.get("/reps/{rep_id}", tags=["reps"])
def rep(rep_id: str, caller: ApiCaller, st: State) -> dict[str, Any]:
    """One rep's scorecard: KPIs of their operating model vs team median and top performer."""
    require_rep(caller.scope, rep_id)
    for card in scorecards(st):
        if card["rep_id"] == rep_id:
            return card
    raise ApiError(404, "not_found", f"no scorecard for rep {rep_id!r}")


@router.get("/pipeline", tags=["pipeline"])
def pipeline(caller: ApiCaller, st: State) -> dict[str, Any]:
    """Coverage vs target (3× line), win rate, cycle, stage conversion, forecast vs actual."""
    return pipeline_data(st, caller.scope)


def pipeline_data(st: Any, scope: Scope) -> dict[str, Any]:
    """The pipeline view of ``scope`` up to the data day, computed once per workspace version
    (API, pages, warm-up)."""
    def compute() -> dict[str, Any]:
        with st.open(scope) as ws:
            return data.pipeline_view(ws, as_of(st))
    found: dict[str, Any] = st.cached("pipeline", scope, compute)
    return found


@router.get("/whale-curve", tags=["profitability"])
def whale(caller: ApiCaller, st: State, limit: Limit = ROWS,
          offset: Offset = 0) -> dict[str, Any]:
    """Customers ranked by profit after cost to serve, with cumulative profit and the peak
    (``limit`` points of the curve from ``offset``, the ``total`` and ``next_offset``)."""
    with st.open(caller.scope) as ws:
        curve = whale_curve(ws.backend, persist=False)
    return page({"summary": whale_summary(curve), "curve": plain_rows(curve)}, "curve", limit,
                offset)


@router.get("/concentration", tags=["profitability"])
def concentration(caller: ApiCaller, st: State) -> dict[str, Any]:
    """Share of trailing-12-month revenue of the top 1, 3, 5 customers, HHI and the top five."""
    found: dict[str, Any] = dashboard(caller, st)["concentration"]
    return found


@router.get("/pvm", tags=["profitability"])
def pvm(
    caller: ApiCaller, st: State,
    from_period: Annotated[PeriodText, Query(max_length=20,
                                                   description="2025, 2025-Q1, 2025-03")],
    to_period: Annotated[PeriodText, Query(max_length=20)],
    by: Annotated[Literal["product", "customer", "channel"], Query()] = "product",
    limit: Limit = ROWS, offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Revenue and gross-profit change split into price, volume, mix and cost effects
    (``limit`` rows from ``offset``)."""
    with st.open(caller.scope) as ws:
        rows = plain_rows(price_volume_mix(ws.backend, from_period, to_period, by=by))
    return rows[offset:offset + limit]


def scorecards(st: Any) -> list[dict[str, Any]]:
    """Every rep's scorecard, computed on the whole workspace (peers need every rep), cached."""
    from salesradar.access import EVERYTHING

    def compute() -> list[dict[str, Any]]:
        try:
            from salesradar.performance.scorecard import rep_scorecards
        except ImportError:  # pragma: no cover - the performance package not installed
            return []
        with st.open() as ws:
            if "reps" not in table_names(ws.backend):
                return []
            cards: list[dict[str, Any]] = rep_scorecards(ws)
            return cards
    found: list[dict[str, Any]] = st.cached("scorecards", EVERYTHING, compute)
    return found


def as_of(st: Any) -> dt.date | None:
    """The last invoice date of the workspace (cached per version)."""
    from salesradar.access import EVERYTHING

    def compute() -> dt.date | None:
        with st.open() as ws:
            return last_invoice_day(ws)
    day: dt.date | None = st.cached("as_of", EVERYTHING, compute)
    return day


def churn_model(st: Any) -> Any:
    """The saved churn model of the current data (loaded once per workspace version)."""
    from salesradar.access import EVERYTHING

    def load() -> Any:
        with st.open() as ws:
            return data.saved_churn_model(ws)
    return st.cached("churn_model", EVERYTHING, load)
