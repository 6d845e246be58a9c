"""Downloads: any list of the API or the pages as CSV or Excel, and the lists only exports need.

:func:`download` answers rows as a file (the server names it); the list endpoints of the API
take ``?format=csv|xlsx`` and call it, through the caller's scope like their JSON. This module
adds the lists that had no endpoint: churned customers, open deals, and a commission statement
as a table (one line per rep and metric).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from salesradar import exports
from salesradar.access import require_rep
from salesradar.api.auth import ApiCaller, Caller, State
from salesradar.api.edge import PeriodText
from salesradar.web import i18n

router = APIRouter(prefix="/api/v1")
Format = Literal["json", "csv", "xlsx"]
FormatQuery = Annotated[Format, Query(description="json (default), csv or xlsx: a download "
                                      "in the caller's language")]

INSIGHT_COLUMNS = ("id", "kind", "status", "priority", "value_at_stake", "owner_rep_id",
                   "customer_id", "customer_name", "what", "why", "next_step", "detected_at")
CUSTOMER_COLUMNS = ("customer_id", "name", "rep_id", "revenue_12m", "last_order", "tier",
                    "health", "churn_probability")
CHURNED_COLUMNS = ("customer_id", "name", "value", "last_purchase", "purchase_days",
                   "typical_gap_days", "days_since_last", "expected_purchases",
                   "should_have_bought")
COMMISSION_COLUMNS = ("rep_id", "metric", "weight", "target", "actual", "attainment",
                      "commission", "weighted", "payout")


def download(rows: Sequence[Mapping[str, Any]], keys: Iterable[str] | None, fmt: str,
             stem: str, caller: Caller) -> Response:
    """``rows`` as a CSV or .xlsx download in the caller's language, named by the server."""
    lang = i18n.lang_of(caller.user.lang)
    body = exports.export(rows, exports.columns_for(rows, keys), fmt, lang, stem)
    name = exports.filename(stem, fmt)
    return Response(body, media_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def insight_rows(found: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Insights (``to_dict``) as export rows: texts in ``lang``, kind and status in words."""
    out = []
    for i in found:
        texts, e = i[lang], i.get("evidence") or {}
        out.append({**{k: i.get(k) for k in ("id", "priority", "value_at_stake",
                                               "owner_rep_id", "detected_at")},
                    "kind": i18n.t(f"kind_{i['kind']}", lang),
                    "status": i18n.t(f"status_{i['status']}", lang),
                    "customer_id": e.get("customer_id"), "customer_name": e.get("customer_name"),
                    "what": texts["what"], "why": texts["why"], "next_step": texts["next_step"]})
    return out


def customer_rows(rows: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Customers with the tier in words."""
    return [{**r, "tier": i18n.word(i18n.TIERS, r.get("tier"), lang) if r.get("tier") else None}
            for r in rows]


@router.get("/churned", tags=["customers"], response_model=None)
def churned(caller: ApiCaller, st: State,
            period: Annotated[PeriodText | None, Query(
                max_length=20, description="2026-10, 2026-Q3, 2026; default: the last "
                "whole month of the data")] = None,
            format: FormatQuery = "json") -> Any:
    """The customers in the caller's scope who churned in ``period``, most valuable first."""
    from salesradar.api.routes import as_of
    from salesradar.metrics import plain_rows
    from salesradar.metrics.churned import churned as who_churned

    if period is None:
        day = as_of(st) or dt.date.today()
        first = day.replace(day=1) - dt.timedelta(days=1)
        period = first.strftime("%Y-%m")
    with st.open(caller.scope) as ws:
        rows = plain_rows(who_churned(ws.backend, period))
    if format == "json":
        return {"period": period, "rows": rows, "total": len(rows)}
    return download(rows, CHURNED_COLUMNS, format, f"churned-{period}", caller)


@router.get("/deals", tags=["pipeline"], response_model=None)
def deals(caller: ApiCaller, st: State,
          stage: Annotated[str | None, Query(max_length=100)] = None,
          rep: Annotated[str | None, Query(max_length=100)] = None,
          pipeline: Annotated[str | None, Query(max_length=100)] = None,
          slipped: bool | None = None,
          sort: Annotated[str, Query(max_length=40, description="close_date, age_days, "
                                     "days_in_stage, amount, stage, owner_rep_id, "
                                     "customer_name, deal_id")] = "close_date",
          desc: bool = False, format: FormatQuery = "json") -> Any:
    """Open deals in the caller's scope with age, days in stage, expected close and whether
    they slipped (expected close before the data day), filtered and sorted."""
    rows = deal_rows(st, caller, stage=stage, rep=rep, pipeline=pipeline, slipped=slipped,
                     sort=sort, descending=desc)
    if format == "json":
        return {"as_of": _as_of(st), "rows": rows, "total": len(rows)}
    lang = i18n.lang_of(caller.user.lang)
    shown = [{**r, "stage": i18n.stage_text(r["stage"], lang)} for r in rows]
    from salesradar.deal_list import COLUMNS

    return download(shown, COLUMNS, format, "open-deals", caller)


def _as_of(st: Any) -> dt.date:
    from salesradar.api.routes import as_of

    return as_of(st) or dt.date.today()


def deal_rows(st: Any, caller: Caller, **how: Any) -> list[dict[str, Any]]:
    """:func:`salesradar.deal_list.open_deals` through the caller's scope, as of the data day."""
    from salesradar.deal_list import open_deals

    if how.get("rep"):
        require_rep(caller.scope, how["rep"])
    with st.open(caller.scope) as ws:
        return open_deals(ws, _as_of(st), **how)


@router.get("/exports/commissions", tags=["performance"], response_model=None)
def commission_table(caller: ApiCaller, st: State,
                     plan: Annotated[str, Query(max_length=100, description="a stored plan")],
                     period: Annotated[PeriodText | None, Query(max_length=10)] = None,
                     format: Annotated[Literal["csv", "xlsx"], Query()] = "xlsx") -> Response:
    """A commission statement as a table, one line per rep and metric (a rep: their own)."""
    from salesradar.api.manage import commissions

    found = commissions(caller, st, plan=plan, period=period)
    rows = []
    for rep in found["reps"]:
        if not caller.scope.allows_rep(rep["rep_id"]):
            continue
        for line in rep["lines"]:
            rows.append({"rep_id": rep["rep_id"], **line, "payout": None})
        rows.append({"rep_id": rep["rep_id"], "metric": "", "weighted": rep["before_cap"],
                     "payout": rep["payout"]})
    return download(rows, COMMISSION_COLUMNS, format,
                    f"commissions-{found['plan']}-{found['period']}", caller)
