"""Account plans for A and B accounts: drafted from the data, stored as versions, tracked.

A plan holds the revenue today (last 12 months) and the target for the plan year, the customer's
needs, growth opportunities, actions with owner and due date, risks with a contingency, and the
pricing strategy for the renewal. :func:`draft_plan` fills what the data knows:

* opportunities -- the products look-alike customers buy (``score_cross_sell``) and the items the
  customer stopped buying (``score_stopped_items``), each with its yearly value (the scores'
  ``expected_value`` and ``value_at_stake`` are yearly amounts);
* target -- revenue today + half the yearly value of the opportunities (:data:`CAPTURE`);
* risks -- churn risk (worded "drifting from its purchase rhythm" only past its rhythm and its
  longest pause before), thin contact coverage, a large share of
  the company's revenue;
* pricing -- from the account's gross margin against the company's and its cost to serve.

Plans are never edited in place: :func:`revise_plan` writes version n + 1 and
:func:`plan_history` lists them all. Actions live beside the versions (:func:`add_action`,
:func:`set_action_status`). :func:`plan_vs_actual` tracks the current version against the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import ibis
from sqlalchemy import func, select

from salesradar.accounts.common import (
    cost_to_serve_by_customer,
    customer_names,
    require_customer,
    sales_by_customer,
    score_rows,
    tiers_as_of,
)
from salesradar.accounts.contacts import contact_coverage
from salesradar.app.db import AppDB
from salesradar.app.management import AccountActionRow, AccountPlanRow
from salesradar.charts.labels import format_day
from salesradar.errors import UserInputError
from salesradar.metrics import plain_rows
from salesradar.metrics.frame import period_end, period_start, shift_date
from salesradar.models.churn_text import past_rhythm, paused_longer_before, terms_of
from salesradar.performance.text import money_text
from salesradar.workspace import data_day

PLANNED_TIERS = ("A", "B")
CAPTURE = 0.5  # share of the opportunities' yearly value a plan counts on
CHURN_RISK = 0.3  # churn probability from which churn is a plan risk
SHARE_RISK = 0.10  # share of company revenue from which dependence is a plan risk
ACTION_STATUSES = ("open", "done", "dropped")
EDITABLE = ("revenue_target", "needs", "opportunities", "risks", "pricing_strategy",
            "period_start", "period_end")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stopped_reason(row: dict[str, Any], lang: str) -> str:
    """Why a stopped item is an opportunity: its usual rhythm (the median gap between purchase
    days, as the models define it) against the days since it was last bought."""
    usual, since = f"{row['median_gap']:.0f}", f"{row['gap_days']:.0f}"
    if lang == "he":
        return f"נקנה כל ~{usual} יום; לאחרונה לפני {since} יום"
    return f"bought every ~{usual} days; last {since} days ago"


def product_names(ws: Any, skus: Sequence[str]) -> dict[str, str]:
    """``sku -> name`` from the products master (empty without one)."""
    if not skus:
        return {}
    t = ws.table("products")
    t = t.filter(t.sku.isin(list(skus))).select("sku", "name")
    return {r["sku"]: r["name"] for r in plain_rows(t.to_pyarrow()) if r["name"]}


def _opportunities(ws: Any, customer_id: str, top: int, lang: str = "en") -> list[dict[str, Any]]:
    stopped = score_rows(ws, "stopped_items", customer_id)
    names = product_names(ws, [r["sku"] for r in stopped])
    out = [{"source": "cross_sell", "sku": r["sku"], "name": r.get("name"),
            "yearly_value": float(r["expected_value"] or 0.0),
            "reason": r.get("reason")}
           for r in score_rows(ws, "cross_sell", customer_id)]
    out += [{"source": "stopped_item", "sku": r["sku"], "name": names.get(r["sku"]),
             "yearly_value": float(r["value_at_stake"] or 0.0),
             "reason": _stopped_reason(r, lang)}
            for r in stopped]
    out.sort(key=lambda o: -o["yearly_value"])
    return out[:top]


def _risks(ws: Any, customer_id: str, revenue: float, company: float,
           lang: str) -> list[dict[str, str]]:
    he = lang == "he"
    risks = []
    churn = score_rows(ws, "churn", customer_id)
    if churn and (churn[0]["churn_probability"] or 0.0) >= CHURN_RISK:
        p = f"{100 * churn[0]['churn_probability']:.0f}%"
        # "drifting" only where its own history shows it (as the churn alert words it): past
        # its rhythm and past any pause it came back from before; else the model's risk alone
        terms = terms_of(churn[0])
        drifting = past_rhythm(terms) and not paused_longer_before(terms)
        risks.append({
            "risk": (f"סוטה מקצב הקנייה שלו (סיכון נטישה {p})" if drifting else
                     f"סיכון נטישה {p}") if he
            else (f"drifting from its purchase rhythm (churn risk {p})" if drifting else
                  f"churn risk {p}"),
            "contingency": "שיחה בדרג בכיר והצעת הזמנה חוזרת החודש" if he
            else "an executive call and a reorder offer this month"})
    coverage = [r for r in contact_coverage(ws, tiers=("A", "B", "C", "D"))
                if r["customer_id"] == customer_id]
    if coverage and coverage[0]["flags"]:
        risks.append({
            "risk": coverage[0]["flags_he" if he else "flags_en"],
            "contingency": "למפות ולפגוש את אנשי הקשר בדרג הבכיר ובכספים" if he
            else "map and meet the executive and finance contacts"})
    if company > 0 and revenue / company >= SHARE_RISK:
        share = f"{100 * revenue / company:.0f}%"
        risks.append({
            "risk": f"{share} מהכנסות החברה: תלות גבוהה" if he
            else f"{share} of the company's revenue: a dependence",
            "contingency": "חוזה ארוך טווח ופיתוח הלקוחות הבאים בתור" if he
            else "a longer contract, and develop the next accounts"})
    return risks


def _pricing(tier: str | None, margin: float | None, company_margin: float | None,
             cost_share: float, lang: str) -> str:
    he = lang == "he"
    if tier == "D" or (margin is not None and margin - cost_share < 0):
        return ("לתמחר מחדש או לקבוע מינימום הזמנה: הלקוח מפסיד אחרי עלות השירות" if he
                else "Reprice or set a minimum order: the account loses money after cost to "
                     "serve")
    if margin is not None and company_margin is not None and margin < company_margin:
        m, c = f"{100 * margin:.0f}%", f"{100 * company_margin:.0f}%"
        return (f"לחדש במחיר המחירון: הרווח הגולמי {m} נמוך מ-{c} של החברה" if he
                else f"Renew at list price: gross margin {m} is below the company's {c}")
    return ("להחזיק מחיר; כל הנחה רק תמורת התחייבות לכמות" if he
            else "Hold the price; give any discount only for a volume commitment")


def draft_plan(ws: Any, customer_id: str, *, as_of: dt.date | None = None,
               lang: str = "en", top: int = 5) -> dict[str, Any]:
    """A plan pre-filled from the data (not stored): see the module docstring."""
    require_customer(ws, customer_id)
    day = as_of or data_day(ws)
    year_ago = day - dt.timedelta(days=364)
    mine = sales_by_customer(ws, year_ago, day, [customer_id]).get(customer_id, {})
    lines = ws.table("invoice_lines")
    lines = lines.filter((lines.invoice_date >= ibis.date(year_ago))
                         & (lines.invoice_date <= ibis.date(day)))
    totals = plain_rows(lines.aggregate(
        revenue=lines.net_revenue.sum().cast("float64"),
        cost=lines.cost.sum().cast("float64")).to_pyarrow())[0]
    revenue = float(mine.get("revenue") or 0.0)
    company = float(totals["revenue"] or 0.0)
    cts = cost_to_serve_by_customer(ws, year_ago, day).get(customer_id, {}).get("total", 0.0)
    margin = mine["gross_profit"] / revenue if revenue > 0 else None
    company_margin = (company - float(totals["cost"] or 0.0)) / company if company > 0 else None
    tier = tiers_as_of(ws, as_of).get(customer_id, {}).get("tier")  # the stored ones without as_of
    opportunities = _opportunities(ws, customer_id, top, lang)
    start = shift_date(period_start(day, "month"), "month")
    return {
        "customer_id": customer_id,
        "name": customer_names(ws, [customer_id]).get(customer_id, {}).get("name"),
        "tier": tier,
        "period_start": start.isoformat(),
        "period_end": period_end(start, "year").isoformat(),
        "revenue_today": revenue,
        "revenue_target": round(revenue + CAPTURE * sum(o["yearly_value"] for o in opportunities),
                                -2),
        "needs": [],
        "opportunities": opportunities,
        "risks": _risks(ws, customer_id, revenue, company, lang),
        "pricing_strategy": _pricing(tier, margin, company_margin,
                                     cts / revenue if revenue > 0 else 0.0, lang),
    }


def _as_dict(row: AccountPlanRow) -> dict[str, Any]:
    return {
        "customer_id": row.customer_id, "version": row.version,
        "created_at": row.created_at.isoformat(), "author": row.author, "tier": row.tier,
        "period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(),
        "revenue_today": row.revenue_today, "revenue_target": row.revenue_target,
        "needs": list(row.needs), "opportunities": list(row.opportunities),
        "risks": list(row.risks), "pricing_strategy": row.pricing_strategy, "note": row.note,
    }


def _action_dict(row: AccountActionRow) -> dict[str, Any]:
    return {"id": row.id, "customer_id": row.customer_id, "title": row.title,
            "owner": row.owner, "due_date": row.due_date.isoformat(), "status": row.status,
            "created_at": row.created_at.isoformat(),
            "closed_at": row.closed_at.isoformat() if row.closed_at else None}


def _write(db: AppDB, plan: dict[str, Any], author: str | None, note: str | None) -> dict[str, Any]:
    start = dt.date.fromisoformat(str(plan["period_start"]))
    end = dt.date.fromisoformat(str(plan["period_end"]))
    if end <= start:
        raise UserInputError(f"the plan period ends ({end}) before it starts ({start})")
    if float(plan["revenue_target"]) < 0:
        raise UserInputError("the revenue target cannot be negative")
    with db.session() as s:
        last = s.scalar(select(func.max(AccountPlanRow.version))
                        .where(AccountPlanRow.customer_id == plan["customer_id"]))
        row = AccountPlanRow(
            customer_id=plan["customer_id"], version=(last or 0) + 1, created_at=_now(),
            author=author, tier=plan.get("tier"), period_start=start, period_end=end,
            revenue_today=float(plan["revenue_today"]),
            revenue_target=float(plan["revenue_target"]), needs=list(plan["needs"]),
            opportunities=list(plan["opportunities"]), risks=list(plan["risks"]),
            pricing_strategy=str(plan["pricing_strategy"]), note=note,
        )
        s.add(row)
        s.flush()
        return _as_dict(row)


def create_plan(
    db: AppDB, ws: Any, customer_id: str, *, author: str | None = None,
    as_of: dt.date | None = None, lang: str = "en", any_tier: bool = False,
    actions: Iterable[tuple[str, str, dt.date]] = (), note: str | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Store a new plan version drafted from the data, with ``changes`` (see :data:`EDITABLE`)
    applied, and its ``actions`` ``(title, owner, due date)``. Only A and B accounts get a plan
    unless ``any_tier``."""
    plan = draft_plan(ws, customer_id, as_of=as_of, lang=lang)
    if not any_tier and plan["tier"] not in PLANNED_TIERS:
        raise UserInputError(
            f"{customer_id} is a tier {plan['tier'] or '(none)'} account; account plans are for "
            "A and B accounts (pass --any-tier to plan it anyway)"
        )
    plan.update(_checked(changes))
    stored = _write(db, plan, author, note or "created")
    for title, owner, due in actions:
        add_action(db, customer_id, title, owner, due)
    return stored


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise UserInputError(f"cannot change {', '.join(unknown)} in a plan; the fields are: "
                             f"{', '.join(EDITABLE)}")
    return {k: v for k, v in changes.items() if v is not None}


def current_plan(db: AppDB, customer_id: str) -> dict[str, Any] | None:
    """The latest version of the customer's plan, with its actions; ``None`` without a plan."""
    with db.session() as s:
        row = s.scalars(select(AccountPlanRow).where(AccountPlanRow.customer_id == customer_id)
                        .order_by(AccountPlanRow.version.desc()).limit(1)).first()
        if row is None:
            return None
        plan = _as_dict(row)
    plan["actions"] = list_actions(db, customer_id)
    return plan


def with_names(ws: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """The stored plan with the customer's name and its opportunities' product names from the
    workspace (a stored version keeps ids; the names are the master data's of today)."""
    cid = plan["customer_id"]
    named = {**plan, "name": customer_names(ws, [cid]).get(cid, {}).get("name")}
    skus = [o["sku"] for o in plan["opportunities"] if not o.get("name")]
    products = product_names(ws, skus)
    named["opportunities"] = [o if o.get("name") else {**o, "name": products.get(o["sku"])}
                              for o in plan["opportunities"]]
    return named


def revise_plan(db: AppDB, customer_id: str, *, author: str | None = None,
                note: str | None = None, **changes: Any) -> dict[str, Any]:
    """Write version n + 1: the current version with ``changes`` applied."""
    plan = current_plan(db, customer_id)
    if plan is None:
        raise UserInputError(f"{customer_id} has no account plan yet: create one first")
    plan.update(_checked(changes))
    return _write(db, plan, author, note or "revised: " + ", ".join(sorted(changes)))


def plan_history(db: AppDB, customer_id: str) -> list[dict[str, Any]]:
    """Every version of the customer's plan, oldest first."""
    with db.session() as s:
        rows = s.scalars(select(AccountPlanRow).where(AccountPlanRow.customer_id == customer_id)
                         .order_by(AccountPlanRow.version)).all()
        return [_as_dict(r) for r in rows]


def current_plans(db: AppDB, customers: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The latest plan version of every customer with a plan (or of ``customers``)."""
    with db.session() as s:
        latest = (select(AccountPlanRow.customer_id, func.max(AccountPlanRow.version).label("v"))
                  .group_by(AccountPlanRow.customer_id).subquery())
        q = select(AccountPlanRow).join(latest, (AccountPlanRow.customer_id
                                                 == latest.c.customer_id)
                                        & (AccountPlanRow.version == latest.c.v))
        if customers is not None:
            q = q.where(AccountPlanRow.customer_id.in_(list(customers)))
        return {r.customer_id: _as_dict(r) for r in s.scalars(q).all()}


def add_action(db: AppDB, customer_id: str, title: str, owner: str,
               due: dt.date) -> dict[str, Any]:
    """Add an open action to the customer's plan."""
    if not title.strip() or not owner.strip():
        raise UserInputError("an action needs a title and an owner")
    with db.session() as s:
        row = AccountActionRow(customer_id=customer_id, title=title.strip(),
                               owner=owner.strip(), due_date=due, status="open",
                               created_at=_now(), closed_at=None)
        s.add(row)
        s.flush()
        return _action_dict(row)


def set_action_status(db: AppDB, action_id: int, status: str) -> dict[str, Any]:
    """Mark an action open, done or dropped."""
    if status not in ACTION_STATUSES:
        raise UserInputError(f"action status must be one of {', '.join(ACTION_STATUSES)}, "
                             f"not {status!r}")
    with db.session() as s:
        row = s.get(AccountActionRow, action_id)
        if row is None:
            raise UserInputError(f"no action with id {action_id}")
        row.status = status
        row.closed_at = None if status == "open" else _now()
        s.flush()
        return _action_dict(row)


def list_actions(db: AppDB, customer_id: str | None = None) -> list[dict[str, Any]]:
    """Actions of one customer's plan (or of every plan), by due date."""
    with db.session() as s:
        q = select(AccountActionRow).order_by(AccountActionRow.due_date, AccountActionRow.id)
        if customer_id is not None:
            q = q.where(AccountActionRow.customer_id == customer_id)
        return [_action_dict(r) for r in s.scalars(q).all()]


def pro_rated_target(plan: dict[str, Any], start: dt.date, end: dt.date) -> float:
    """The part of the plan's target that falls in ``[start, end]``, by days."""
    p0 = dt.date.fromisoformat(plan["period_start"])
    p1 = dt.date.fromisoformat(plan["period_end"])
    overlap = (min(end, p1) - max(start, p0)).days + 1
    days = (p1 - p0).days + 1
    return float(plan["revenue_target"]) * max(overlap, 0) / days


def plan_vs_actual(ws: Any, db: AppDB, customer_id: str, *, as_of: dt.date | None = None,
                   today: dt.date | None = None) -> dict[str, Any]:
    """The current plan against the data: revenue so far vs the target to date, the run rate
    needed for the rest of the plan year, opportunities taken, actions open and overdue.

    Revenue is tracked up to ``as_of`` (default: the data's last day); an open action is overdue
    once its due date is before ``as_of`` when given, else before ``today`` (default: the
    clock's date): actions are people's work, due in real time, not on the last invoice's day."""
    plan = current_plan(db, customer_id)
    if plan is None:
        raise UserInputError(f"{customer_id} has no account plan yet: create one first")
    day = as_of or data_day(ws)
    start = dt.date.fromisoformat(plan["period_start"])
    end = dt.date.fromisoformat(plan["period_end"])
    upto = min(day, end)
    actual = sales_by_customer(ws, start, upto, [customer_id]).get(customer_id, {})
    revenue = float(actual.get("revenue") or 0.0) if upto >= start else 0.0
    expected = pro_rated_target(plan, start, upto) if upto >= start else 0.0
    days_left = max((end - upto).days, 0)
    remaining = max(float(plan["revenue_target"]) - revenue, 0.0)
    skus = [o["sku"] for o in plan["opportunities"]]
    lines = ws.table("invoice_lines")
    taken = lines.filter((lines.customer_id == customer_id) & lines.sku.isin(skus or [""])
                         & (lines.invoice_date >= ibis.date(start))
                         & (lines.invoice_date <= ibis.date(upto)))
    bought = {r["sku"]: r["revenue"] for r in plain_rows(
        taken.group_by("sku").aggregate(revenue=taken.net_revenue.sum().cast("float64"))
        .to_pyarrow())}
    actions = plan["actions"]
    due_day = (as_of or today or dt.date.today()).isoformat()
    overdue = [a for a in actions if a["status"] == "open" and a["due_date"] < due_day]
    return {
        "customer_id": customer_id, "version": plan["version"], "as_of": day.isoformat(),
        "period_start": plan["period_start"], "period_end": plan["period_end"],
        "revenue_target": plan["revenue_target"], "revenue_to_date": revenue,
        "target_to_date": expected,
        "attainment_to_date": revenue / expected if expected > 0 else None,
        "run_rate_needed_per_month": remaining / days_left * 30.44 if days_left else None,
        "opportunities": [{**o, "taken": o["sku"] in bought,
                           "revenue_since": bought.get(o["sku"], 0.0)}
                          for o in plan["opportunities"]],
        "actions_open": sum(a["status"] == "open" for a in actions),
        "actions_overdue": len(overdue), "actions_done": sum(a["status"] == "done"
                                                             for a in actions),
        "summary_en": f"{money_text(revenue)} of {money_text(expected)} expected by "
                      f"{format_day(upto)}; {len(overdue)} action(s) overdue",
        "summary_he": f"{money_text(revenue, 'he')} מתוך {money_text(expected, 'he')} הצפויים "
                      f"עד {format_day(upto)}; {len(overdue)} פעולות באיחור",
    }
