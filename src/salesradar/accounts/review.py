"""The quarterly account review: one section per ABCD tier, plan against actual per account.

For the quarter asked for, every customer with sales or cost to serve in the twelve months up to
the quarter's end is placed in its tier as of that day (:func:`salesradar.models.tiers.
assign_tiers`). Each tier section holds the tier's revenue in the quarter and the quarter before,
gross profit, cost to serve, profit (gross profit − cost to serve), its share of the quarter's
revenue, and for the accounts with an account plan the quarter's part of the plan target
(pro-rated by days) and the attainment. Each account row says whether it is ahead of its plan
(attainment ≥ 100%), close (≥ 90%), behind, or has no plan, and counts its open and overdue plan
actions. The totals add the tiers up.

The texts (title, tier names, handling, column labels, statuses) are in the language asked for,
so a report renders the dict as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from salesradar.accounts.common import (
    HANDLING_HE,
    TIER_LABELS,
    cost_to_serve_by_customer,
    customer_names,
    sales_by_customer,
    score_rows,
)
from salesradar.accounts.plans import current_plans, list_actions, pro_rated_target
from salesradar.app.db import AppDB
from salesradar.errors import UserInputError
from salesradar.lang import parse_lang
from salesradar.metrics import parse_period
from salesradar.metrics.fiscal import period_name
from salesradar.metrics.frame import period_end, shift_date
from salesradar.models.tiers import HANDLING, assign_tiers
from salesradar.performance.text import money_text
from salesradar.workspace import data_day

CLOSE = 0.9  # attainment from which an account is "close" to its plan
COLUMNS = {
    "customer": ("Customer", "לקוח"), "rep_id": ("Rep", "נציג"),
    "revenue": ("Revenue", "הכנסות"), "revenue_previous": ("Previous quarter", "רבעון קודם"),
    "change_pct": ("Change", "שינוי"), "gross_profit": ("Gross profit", "רווח גולמי"),
    "cost_to_serve": ("Cost to serve", "עלות שירות"), "profit": ("Profit", "רווח"),
    "target": ("Plan target", "יעד בתוכנית"), "attainment": ("Attainment", "עמידה ביעד"),
    "status": ("Status", "מצב"), "actions_overdue": ("Overdue actions", "פעולות באיחור"),
    "health": ("Health", "בריאות"),
}
STATUS = {"ahead": ("ahead of plan", "מקדים את התוכנית"),
          "close": ("close to plan", "קרוב לתוכנית"),
          "behind": ("behind plan", "מפגר אחרי התוכנית"), "no_plan": ("no plan", "אין תוכנית"),
          "outside_plan": ("plan period does not cover this quarter",
                           "תקופת התוכנית לא כוללת את הרבעון")}
SUMS = ("revenue", "revenue_previous", "gross_profit", "cost_to_serve", "profit")


def _status(attainment: float | None, has_plan: bool, target: float | None = None) -> str:
    if not has_plan:
        return "no_plan"
    if target is None or attainment is None:  # a plan whose year does not reach the quarter
        return "outside_plan"
    return "ahead" if attainment >= 1.0 else "close" if attainment >= CLOSE else "behind"


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def quarterly_review(
    ws: Any, *, quarter: str, lang: str = "en", db: AppDB | None = None, top: int = 25,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The review of ``quarter`` (``"2026Q3"`` or ``"2026-Q3"``) in ``lang`` (en or he).

    ``db`` is the app database holding the account plans (default: the one beside the
    workspace). An open action is overdue once its due date is before ``today`` (default: the
    clock's date; actions are work of people, not of the data's last day). ``top`` limits the
    account rows listed per tier (by revenue); the tier totals
    always cover every account. See the module docstring for the numbers.
    """
    parse_lang(lang, "lang")
    start, grain = parse_period(quarter)
    if grain != "quarter":
        raise UserInputError(f"{quarter!r} is not a quarter; write it like 2026Q3")
    end = period_end(start, "quarter")
    data_end = data_day(ws)
    if start > data_end:
        raise UserInputError(f"{quarter} starts after the last invoice ({data_end})")
    day = min(end, data_end)
    prev_start = shift_date(start, "quarter", -1)
    tiers = {r["customer_id"]: r["tier"] for r in assign_tiers(ws, day).to_pylist()}
    now = sales_by_customer(ws, start, day)
    before = sales_by_customer(ws, prev_start, start - dt.timedelta(days=1))
    cts = cost_to_serve_by_customer(ws, start, day)
    names = customer_names(ws)
    health = {r["customer_id"]: r["health"] for r in score_rows(ws, "health")}
    own_db = db is None
    store = AppDB.open(workspace=ws.path) if db is None else db
    try:
        plans = current_plans(store)
        actions = list_actions(store)
    finally:
        if own_db:
            store.close()
    overdue: dict[str, int] = {}
    open_: dict[str, int] = {}
    for a in actions:
        if a["status"] == "open":
            open_[a["customer_id"]] = open_.get(a["customer_id"], 0) + 1
            if a["due_date"] < (today or dt.date.today()).isoformat():
                overdue[a["customer_id"]] = overdue.get(a["customer_id"], 0) + 1
    he = lang == "he"
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TIER_LABELS}
    for cid, tier in tiers.items():  # one row per customer (tiers are already aggregated)
        s, b = now.get(cid, {}), before.get(cid, {})
        revenue = float(s.get("revenue") or 0.0)
        gp = float(s.get("gross_profit") or 0.0)
        cost = cts.get(cid, {}).get("total", 0.0)
        plan = plans.get(cid)
        # a plan whose year does not overlap the quarter has no target here (not a target of 0)
        target = (pro_rated_target(plan, start, end) or None) if plan else None
        attainment = _ratio(revenue, target) if target else None
        status = _status(attainment, plan is not None, target)
        previous = float(b.get("revenue") or 0.0)
        rows[tier].append({
            "customer_id": cid, "name": names.get(cid, {}).get("name") or cid,
            "rep_id": names.get(cid, {}).get("rep_id"), "revenue": revenue,
            "revenue_previous": previous,
            "change_pct": _ratio(revenue - previous, abs(previous)),
            "gross_profit": gp, "cost_to_serve": cost, "profit": gp - cost,
            "target": target, "attainment": attainment, "status": status,
            "status_text": STATUS[status][he], "plan_version": plan["version"] if plan else None,
            "actions_open": open_.get(cid, 0), "actions_overdue": overdue.get(cid, 0),
            "health": health.get(cid),
        })
    total_revenue = sum(r["revenue"] for rs in rows.values() for r in rs)
    sections = [_section(t, rs, total_revenue, he, top) for t, rs in rows.items()]
    totals = _sums([r for rs in rows.values() for r in rs])
    name = period_name(start, "quarter").replace("-", "")
    title = f"סקירת לקוחות רבעונית {name}" if he else f"Quarterly account review {name}"
    return {
        "quarter": name, "start": start.isoformat(),
        "end": end.isoformat(), "as_of": day.isoformat(), "partial": day < end, "lang": lang,
        "title": title, "columns": {k: v[he] for k, v in COLUMNS.items()},
        "totals": totals, "tiers": sections,
    }


def _sums(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {k: sum(r[k] for r in rows) for k in SUMS}
    planned = [r for r in rows if r["target"] is not None]
    target = sum(r["target"] for r in planned)
    out.update(
        accounts=len(rows), with_plan=sum(r["plan_version"] is not None for r in rows),
        change_pct=_ratio(out["revenue"] - out["revenue_previous"], abs(out["revenue_previous"])),
        target=target if planned else None,
        revenue_planned=sum(r["revenue"] for r in planned),
        attainment=_ratio(sum(r["revenue"] for r in planned), target) if planned else None,
        actions_open=sum(r["actions_open"] for r in rows),
        actions_overdue=sum(r["actions_overdue"] for r in rows),
        behind=sum(r["status"] == "behind" for r in rows),
    )
    return out


def _section(tier: str, rows: list[dict[str, Any]], total_revenue: float, he: bool,
             top: int) -> dict[str, Any]:
    rows.sort(key=lambda r: -r["revenue"])
    sums = _sums(rows)
    share = _ratio(sums["revenue"], total_revenue)
    lang = "he" if he else "en"
    if he:
        summary = (f"{sums['accounts']} לקוחות, הכנסות {money_text(sums['revenue'], lang)} "
                   f"({100 * (share or 0):.0f}% מהרבעון); ל-{sums['with_plan']} תוכנית לקוח, "
                   f"{sums['behind']} מפגרים אחריה")
    else:
        summary = (f"{sums['accounts']} accounts, revenue {money_text(sums['revenue'])} "
                   f"({100 * (share or 0):.0f}% of the quarter); {sums['with_plan']} with an "
                   f"account plan, {sums['behind']} behind it")
    return {
        "tier": tier, "label": TIER_LABELS[tier][he],
        "handling": HANDLING_HE[tier] if he else HANDLING[tier],
        "share_of_revenue": share, "summary": summary, **sums,
        "accounts_listed": min(top, len(rows)), "rows": rows[:top],
    }
