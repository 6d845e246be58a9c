"""The inbox's actions and the deal list: log an outcome, undo a move, open deals beside the
pipeline; the words these pages add.

Every form post checks the session's CSRF token and reads the insight through the caller's scope
(:func:`salesradar.access.visible_insight`: another rep's insight answers 404); each change is
written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from salesradar.access import Scope, visible_insight
from salesradar.api.auth import ApiCaller, Caller, PageCaller, State, check_csrf
from salesradar.api.edge import PlainText, RowId
from salesradar.app import audit
from salesradar.app.rep_outcomes import OUTCOMES, log_outcome
from salesradar.errors import WorkspaceError
from salesradar.insights import inbox as work
from salesradar.web import i18n
from salesradar.web.exports import router as exports_router

router = APIRouter()
router.include_router(exports_router)

WORDS: dict[str, tuple[str, str]] = {
    "rows_of": ("{first}–{last} of {total}", "{first}–{last} מתוך {total}"),
    "previous_page": ("Previous", "הקודם"),
    "next_page": ("Next", "הבא"),
    "undo": ("Undo", "ביטול הפעולה"),
    "undo_note": ("{what}: {status}.", "{what}: {status}."),
    "undone": ("Moved back.", "הוחזר למצב הקודם."),
    "trail": ("History", "היסטוריה"),
    "trail_created": ("found", "זוהה"),
    "log_outcome": ("Log the outcome", "תיעוד תוצאה"),
    "outcome_reached": ("Reached", "היה מענה"),
    "outcome_no_answer": ("No answer", "אין מענה"),
    "outcome_ordered": ("Ordered", "הזמין"),
    "outcome_lost": ("Lost", "אבד"),
    "outcome_note": ("Note", "הערה"),
    "outcome_save": ("Save", "שמירה"),
    "outcome_logged": ("Outcome logged", "התוצאה נשמרה"),
    "call": ("Call", "חיוג"),
    "email": ("Email", "מייל"),
    "lead": ("Lead", "ליד"),
    "lead_source": ("source", "מקור"),
    "lead_created": ("created", "נוצר"),
    "due": ("due", "מועד"),
    "stale_lead": ("stale: re-qualify", "ישן: לבדוק מחדש"),
    "download_csv": ("Download CSV", "הורדה כ-CSV"),
    "download_xlsx": ("Download Excel", "הורדה כ-Excel"),
    "deals_title": ("Open deals", "עסקאות פתוחות"),
    "deals_link": ("Open deals list", "רשימת עסקאות פתוחות"),
    "deal": ("Deal", "עסקה"),
    "amount": ("Amount", "סכום"),
    "age_days": ("Age (days)", "גיל (ימים)"),
    "days_in_stage": ("Days in stage", "ימים בשלב"),
    "expected_close": ("Expected close", "סגירה צפויה"),
    "slipped": ("Slipped", "נדחתה"),
    "slipped_only": ("Slipped only", "רק עסקאות שנדחו"),
    "all_stages": ("All stages", "כל השלבים"),
    "all_reps": ("All reps", "כל הנציגים"),
    "sort_by": ("Sort by", "מיון לפי"),
    "no_deals": ("No open deals in your scope.", "אין עסקאות פתוחות בתחום שלך."),
    "customers_export": ("Customers with scores and tiers", "לקוחות עם ציונים ודירוגים"),
    "churned_export": ("Churned customers", "לקוחות שנטשו"),
}
i18n.register(WORDS)
ANCHOR = "i-{id}"


def back_url(back: str | None, *, undo: int | None = None, anchor: int | None = None) -> str:
    """Where a form post returns: the inbox page it came from (a local path only), with the
    undo offer and the row to scroll to."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(back or "/inbox")
    path = parts.path if parts.path in ("/inbox",) else "/inbox"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in ("rep", "page")]
    if undo is not None:
        query.append(("undo", str(undo)))
    url = path + (f"?{urlencode(query)}" if query else "")
    return url + (f"#{ANCHOR.format(id=anchor)}" if anchor is not None else "")


# -- the inbox's data --------------------------------------------------------------------------
def inbox_rows(store: Any, scope: Scope, rep: str | None) -> list[dict[str, Any]]:
    """Every open insight in scope (of one rep), in the order to work them, customers together."""
    from salesradar.web import data

    return work.group(work.order(data.inbox(store, scope, rep=rep)))


def reach(st: Any, scope: Scope, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The people behind the rows: per customer its contacts with phone and e-mail, per lead
    its name, company, phone and e-mail (from the columns the workspace has); empty while the
    workspace cannot be read (the inbox itself reads the app database only)."""
    customers = sorted({c for c in (work.customer_of(r) for r in rows) if c})
    leads = sorted({str(r["subject_id"]) for r in rows if r["kind"] == work.LEAD})
    try:
        with st.open(scope) as ws:
            return {"contacts": _contacts(ws, customers), "leads": _leads(ws, leads)}
    except WorkspaceError:
        return {"contacts": {}, "leads": {}}


def _columns(ws: Any, table: str) -> list[str]:
    from salesradar.engine import table_names

    return list(ws.table(table).columns) if table in table_names(ws.backend) else []


def _pick(columns: list[str], *names: str) -> str | None:
    return next((n for n in names if n in columns), None)


def _contacts(ws: Any, customers: list[str]) -> dict[str, list[dict[str, Any]]]:
    cols = _columns(ws, "contacts")
    if not customers or not cols:
        return {}
    phone = _pick(cols, "phone", "mobile", "phone_number", "tel")
    wanted = [c for c in ("customer_id", "name", "level", "email", phone) if c]
    t = ws.table("contacts")
    found = t.filter(t.customer_id.isin(customers)).select(*wanted).order_by(
        ["customer_id", "level", "name"]).to_pyarrow().to_pylist()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        out.setdefault(row["customer_id"], []).append(
            {"name": row.get("name"), "level": row.get("level"), "email": row.get("email"),
             "phone": row.get(phone) if phone else None})
    return out


def _leads(ws: Any, leads: list[str]) -> dict[str, dict[str, Any]]:
    cols = _columns(ws, "leads")
    if not leads or not cols:
        return {}
    t = ws.table("leads")
    found = t.filter(t.lead_id.isin(leads)).to_pyarrow().to_pylist()
    names: dict[str, str] = {}
    if "customer_id" in cols and "customers" in _tables(ws):
        ids = sorted({r["customer_id"] for r in found if r.get("customer_id")})
        if ids:
            c = ws.table("customers")
            names = {r["customer_id"]: r["name"] for r in c.filter(c.customer_id.isin(ids))
                     .select("customer_id", "name").to_pyarrow().to_pylist()}
    out = {}
    for r in found:
        out[r["lead_id"]] = {
            "name": r.get(_pick(cols, "name", "contact_name", "full_name") or ""),
            "company": r.get(_pick(cols, "company", "company_name", "organization") or "")
            or names.get(r.get("customer_id") or ""),
            "phone": r.get(_pick(cols, "phone", "mobile", "phone_number") or ""),
            "email": r.get(_pick(cols, "email", "e_mail") or ""),
            "source": r.get("source"), "created_at": r.get("created_at"),
            "customer_id": r.get("customer_id")}
    return out


def _tables(ws: Any) -> set[str]:
    from salesradar.engine import table_names

    return table_names(ws.backend)


def tel(phone: str | None) -> str:
    """A phone number as a tel: target (digits and a leading +)."""
    text = str(phone or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return ("+" if text.startswith("+") else "") + digits


# -- actions -------------------------------------------------------------------------------------
@router.post("/insights/{insight_id}/outcome")
def outcome(insight_id: RowId, caller: PageCaller, st: State,
            outcome: Annotated[str, Form(max_length=20)] = "",
            note: Annotated[str, Form(max_length=2000)] = "",
            back: Annotated[str, Form(max_length=2000)] = "",
            csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Log what happened (reached, no answer, ordered, lost) with a note; back to the row."""
    check_csrf(caller, csrf_token)
    record_outcome(st, caller, insight_id, outcome, note)
    return RedirectResponse(back_url(back, anchor=insight_id), status_code=303)


def record_outcome(st: Any, caller: Caller, insight_id: int, outcome: str,
                   note: str | None) -> dict[str, Any]:
    """Store a logged outcome of an insight in the caller's scope, and audit it."""
    visible_insight(st.store, caller.scope, insight_id)
    logged = log_outcome(st.db, insight_id, outcome, caller.user.username, note=note)
    audit.record(st.db, caller.user.username, "insight.outcome", str(insight_id),
                 {"outcome": outcome, "note": logged.note})
    return logged.to_dict()


@router.post("/insights/{insight_id}/undo")
def undo(insight_id: RowId, caller: PageCaller, st: State,
         back: Annotated[str, Form(max_length=2000)] = "",
         csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Move the insight back to its status before the caller's last move."""
    check_csrf(caller, csrf_token)
    moved = work.undo(st.store, caller.scope, insight_id,
                      note=f"undo by {caller.user.username} (web)")
    audit.record(st.db, caller.user.username, "insight.status", str(insight_id),
                 {"status": moved["status"], "undo": True})
    return RedirectResponse(back_url(back, anchor=insight_id), status_code=303)


class OutcomeIn(BaseModel):
    """An outcome a person logs on an insight."""

    outcome: str = Field(description=", ".join(OUTCOMES))
    note: PlainText | None = Field(None, max_length=2000)


@router.post("/api/v1/insights/{insight_id}/outcome", tags=["insights"])
def outcome_api(insight_id: RowId, body: OutcomeIn, caller: ApiCaller,
                st: State) -> dict[str, Any]:
    """Log the outcome of an insight: reached, no_answer, ordered or lost, with a note."""
    return record_outcome(st, caller, insight_id, body.outcome, body.note)


# -- the deal list ---------------------------------------------------------------------------
@router.get("/pipeline/deals")
def deal_list(request: Request, caller: PageCaller, st: State,
              stage: Annotated[str | None, Query(max_length=100)] = None,
              rep: Annotated[str | None, Query(max_length=100)] = None,
              slipped: Annotated[str | None, Query(max_length=5)] = None,
              sort: Annotated[str, Query(max_length=40)] = "close_date",
              desc: Annotated[str | None, Query(max_length=5)] = None) -> Response:
    """Open deals with aging and slipped deals, sortable and filterable, exportable."""
    from salesradar.deal_list import SORTS
    from salesradar.web.exports import _as_of, deal_rows
    from salesradar.web.pages import render

    sort = sort if sort in SORTS else "close_date"
    descending = desc in ("1", "true")
    only_slipped = True if slipped in ("1", "true") else None
    rows = deal_rows(st, caller, stage=stage or None, rep=rep or None,
                     slipped=only_slipped, sort=sort, descending=descending)
    every = deal_rows(st, caller) if stage or rep or only_slipped else rows
    stages = sorted({r["stage"] for r in every if r["stage"]})
    reps = sorted({r["owner_rep_id"] for r in every if r["owner_rep_id"]})
    query = {k: v for k, v in (("stage", stage), ("rep", rep), ("slipped", slipped),
                               ("sort", sort), ("desc", desc)) if v}
    return render(request, "deals.html", caller, page="pipeline", rows=rows, stages=stages,
                  reps=reps, stage=stage or "", rep=rep or "", slipped=bool(only_slipped),
                  sort=sort, desc=descending, as_of=_as_of(st), sorts=SORTS,
                  export_query=urlencode({k: v for k, v in (
                      ("stage", stage), ("rep", rep), ("sort", sort)) if v}
                      | ({"slipped": "true"} if only_slipped else {})
                      | ({"desc": "true"} if descending else {})),
                  query=query, today=dt.date.today())
