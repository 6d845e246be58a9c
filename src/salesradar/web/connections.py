"""/admin/connections: the connections to the ERP and CRM, their last sync, marks, next sync.

Connections are created from the CLI (``salesradar connect hubspot|priority|sap-b1``), because
their credentials live in environment variables or 0600 secrets files of the server, never in
the browser or the workspace. This page shows each connection (system, URL, company, where its
credential is read from), its last sync (when, ok or the error, per object fetched and changed),
its high-water marks and its next sync (the refresh schedule's next run, when the connection's
``sync_before_refresh`` option is on); "test" makes one authenticated call and shows what the
system answered, or the error (never the credential). Admins only; the test is a CSRF-checked
form post recorded in the audit log (``connection.test``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from salesradar.api.admin_auth import AdminPage
from salesradar.api.auth import Caller, State, check_csrf
from salesradar.app import audit
from salesradar.app import schedule as sched
from salesradar.app.jobs import syncs_before_refresh
from salesradar.errors import SalesradarError
from salesradar.web import i18n
from salesradar.web.pages import render

router = APIRouter(include_in_schema=False)

WORDS: dict[str, tuple[str, str]] = {
    "adm_connections": ("Connections", "חיבורים"),
    "adm_connections_line": ("The ERP and CRM: last sync, errors, next sync, a connection test.",
                             "מערכות ה-ERP וה-CRM: הסנכרון האחרון, שגיאות, הסנכרון הבא ובדיקת "
                             "חיבור."),
    "adm_connections_count": ("{n} connected", "{n} מחוברות"),
    "cn_intro": ("Each connection pulls what changed in the source system into the data, all "
                 "or nothing, before the refresh (or with salesradar sync).",
                 "כל חיבור מושך מהמערכת את מה שהשתנה אל הנתונים, הכול או כלום, לפני הרענון "
                 "(או עם salesradar sync)."),
    "cn_none": ("No connections yet. Connections are created on the server with the command "
                "line, because their credentials stay in an environment variable or a secrets "
                "file readable by its owner only (chmod 600), never in the browser:",
                "אין עדיין חיבורים. חיבור נוצר בשרת משורת הפקודה, כי פרטי הגישה נשמרים במשתנה "
                "סביבה או בקובץ סודות שרק בעליו יכול לקרוא (chmod 600), ולעולם לא בדפדפן:"),
    "cn_then": ("Then test it here, and the next refresh syncs it first.",
                "אחר כך בדקו אותו כאן, והרענון הבא יסנכרן אותו קודם."),
    "cn_system": ("System", "מערכת"),
    "cn_url": ("Address", "כתובת"),
    "cn_company": ("Company", "חברה"),
    "cn_credential": ("Credential read from", "פרטי הגישה נקראים מ"),
    "cn_last": ("Last sync", "סנכרון אחרון"),
    "cn_never": ("Never synced yet.", "עוד לא סונכרן."),
    "cn_ok": ("ok", "תקין"),
    "cn_failed": ("failed", "נכשל"),
    "cn_counts": ("{fetched} fetched, {changed} changed", "{fetched} נמשכו, {changed} השתנו"),
    "cn_object": ("Object", "ישות"),
    "cn_fetched": ("Fetched", "נמשכו"),
    "cn_changed": ("Changed", "השתנו"),
    "cn_marks": ("High-water marks", "סימני התקדמות"),
    "cn_mark": ("Changes seen up to", "שינויים נראו עד"),
    "cn_no_marks": ("None yet: the first sync reads everything.",
                    "אין עדיין: הסנכרון הראשון קורא הכול."),
    "cn_next": ("Next sync", "הסנכרון הבא"),
    "cn_next_at": ("with the scheduled refresh, {when}", "עם הרענון המתוזמן, {when}"),
    "cn_next_manual": ("no refresh schedule: with a refresh started by hand or salesradar sync",
                       "אין רענון מתוזמן: ברענון ידני או עם salesradar sync"),
    "cn_next_off": ("only with salesradar sync (sync_before_refresh is off)",
                    "רק עם salesradar sync (האפשרות sync_before_refresh כבויה)"),
    "cn_test": ("Test the connection", "בדיקת החיבור"),
    "cn_test_ok": ("{name}: ok, the system answered in {seconds} s", "{name}: תקין, המערכת "
                   "ענתה תוך {seconds} שניות"),
    "cn_test_failed": ("Test failed", "הבדיקה נכשלה"),
    "cn_answer": ("Answer", "תשובה"),
    "stage_syncing": ("syncing the connections", "סנכרון החיבורים"),
}
i18n.register(WORDS)


def next_run(schedule: sched.Schedule, now: datetime) -> datetime | None:
    """When the scheduled refresh runs next (None when the schedule is off).

    >>> s = sched.Schedule("daily", "02:00", "2026-12-06")
    >>> next_run(s, datetime(2026, 12, 6, 9, 0))
    datetime.datetime(2026, 12, 7, 2, 0)
    >>> next_run(sched.Schedule("daily", "02:00", None), datetime(2026, 12, 6, 1, 0))
    datetime.datetime(2026, 12, 6, 2, 0)
    """
    if schedule.mode != "daily":
        return None
    hour, minute = (int(part) for part in schedule.at.split(":"))
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if schedule.last_run_on == now.date().isoformat():
        return today + timedelta(days=1)
    return max(today, now.replace(second=0, microsecond=0))  # due: runs within the minute


def overview(st: Any) -> list[dict[str, Any]]:
    """Every connection as the page shows it (none while the workspace does not exist)."""
    from salesradar.connectors.sync import connections_overview

    try:
        found = connections_overview(st.workspace)
    except SalesradarError:
        return []
    upcoming = next_run(sched.get_schedule(st.db), datetime.now())
    for connection in found:
        on = syncs_before_refresh(connection.get("options") or {})
        connection["next"] = ("off" if not on else "manual" if upcoming is None else "at")
        connection["next_at"] = upcoming.strftime("%d/%m/%Y %H:%M") if upcoming else None
    return found


def _page(request: Request, caller: Caller, st: Any, status: int = 200,
          result: dict[str, Any] | None = None) -> Response:
    return render(request, "admin_connections.html", caller, status, page="admin",
                  connections=overview(st), result=result)


@router.get("/admin/connections")
def connections_page(request: Request, caller: AdminPage, st: State) -> Response:
    return _page(request, caller, st)


def redact(text: str, secret: str | None) -> str:
    """``text`` without the credential or any part of it (belt and braces: the connectors'
    messages never hold it).

    >>> redact("bad apiuser:pw1 for pw1", "apiuser:pw1")
    'bad *** for ***'
    """
    if not secret:
        return text
    parts = sorted({secret, *(p for p in secret.split(":") if len(p) >= 3)}, key=len,
                   reverse=True)
    for part in parts:
        text = text.replace(part, "***")
    return text


@router.post("/admin/connections/test")
def run_test(request: Request, caller: AdminPage, st: State,
         name: Annotated[str, Form(max_length=200)] = "",
         csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """One authenticated call to the connection's system; its answer or the error."""
    from salesradar.connectors.secrets import read_secret
    from salesradar.connectors.store import get_connection
    from salesradar.connectors.sync import test_connection
    from salesradar.workspace import open_served

    check_csrf(caller, csrf_token)
    secret: str | None = None
    result: dict[str, Any]
    try:
        with open_served(st.workspace) as ws:
            source = get_connection(ws, name).credential
        secret = read_secret(name, source)
        answer = test_connection(st.workspace, name)
        answer.pop("ok", None)
        result = {"name": name, "ok": True, "seconds": answer.pop("seconds", 0.0),
                  "answer": {k: redact(str(v), secret) for k, v in answer.items()
                             if k not in ("connection",)}}
    except SalesradarError as exc:
        result = {"name": name, "ok": False, "error": redact(str(exc), secret)[:500]}
    audit.record(st.db, caller.user.username, "connection.test", name,
                 {"ok": result["ok"], **({"error": result["error"]} if not result["ok"]
                                         else {})})
    return _page(request, caller, st, 200, result)
