"""What the pages and the API show, as plain data: service functions with no web framework inside.

Each takes a workspace already seen through the caller's scope (:func:`salesradar.access.
scoped_workspace`) or the scope itself, so a rep's request can only ever read the rep's rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from salesradar.access import (
    NotVisible,
    Scope,
    require_customer,
    require_rep,
    visible_insight,
    visible_insights,
)
from salesradar.dashboard import FORWARD_KPIS, kpi_series
from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.lang import Lang
from salesradar.metrics import REGISTRY, compute_kpi, compute_kpis, kpi_records, plain_rows
from salesradar.metrics.catalog.pipeline import WON_AMOUNT
from salesradar.metrics.ranking import first_rows
from salesradar.models.scoring import in_language
from salesradar.workspace import Workspace, last_invoice_day

OPEN_STATUSES = ("new", "sent", "acknowledged")


def inbox(store: Any, scope: Scope, *, rep: str | None = None,
          statuses: tuple[str, ...] | None = OPEN_STATUSES, kind: str | None = None,
          limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Open insights within ``scope`` (of one rep when ``rep`` is given), largest value at
    stake first, at most ``limit`` from ``offset``."""
    if rep is not None:
        require_rep(scope, rep)
    found = visible_insights(store, scope, status=statuses, owner_rep_id=rep, kind=kind,
                             limit=limit, offset=offset)
    return [i.to_dict() for i in found]


STATUS_ACTIONS = {"ack": "acknowledged", "done": "done", "dismiss": "dismissed",
                  "snooze": "snoozed"}  # what a person asks -> the insight's new status
SNOOZE_DAYS = 7  # a snooze without a date
MAX_SNOOZE_ENV = "SALESRADAR_MAX_SNOOZE_DAYS"
MAX_SNOOZE_DAYS = 90  # the longest snooze, unless $SALESRADAR_MAX_SNOOZE_DAYS says otherwise


def max_snooze_days() -> int:
    """The longest snooze in days: $SALESRADAR_MAX_SNOOZE_DAYS (a whole number from 1), else
    :data:`MAX_SNOOZE_DAYS`."""
    import os

    text = os.environ.get(MAX_SNOOZE_ENV, "").strip()
    if not text:
        return MAX_SNOOZE_DAYS
    if not text.isdigit() or int(text) < 1:
        raise UserInputError(f"{MAX_SNOOZE_ENV} must be a whole number of days from 1, "
                             f"not {text!r}")
    return int(text)


def change_status(store: Any, scope: Scope, insight_id: int, action: str, *,
                  until: str | dt.date | None = None, note: str | None = None,
                  today: dt.date | None = None) -> dict[str, Any]:
    """Move an insight within ``scope`` (else :class:`NotVisible`) as a person asked: ack, done,
    dismiss, or snooze until ``until`` (a date or YYYY-MM-DD; by default :data:`SNOOZE_DAYS`
    after ``today``, at most :func:`max_snooze_days` after it). An unknown action, a bad date
    or a snooze beyond the longest is a :class:`UserInputError`."""
    visible_insight(store, scope, insight_id)
    if action not in STATUS_ACTIONS:
        raise UserInputError(f"status must be one of {', '.join(STATUS_ACTIONS)}, "
                             f"not {action!r}")
    when = None
    if action == "snooze":
        today = today or dt.date.today()
        day = _date(until) or today + dt.timedelta(days=SNOOZE_DAYS)
        longest = max_snooze_days()
        if day > today + dt.timedelta(days=longest):
            raise UserInputError(f"a snooze lasts at most {longest} days: until must be "
                                 f"{today + dt.timedelta(days=longest)} or earlier, not {day}")
        when = dt.datetime.combine(day, dt.time(), dt.UTC)
    moved = store.transition(insight_id, STATUS_ACTIONS[action], dt.datetime.now(dt.UTC),
                             until=when, note=note)
    return dict(moved.to_dict())


def _date(value: str | dt.date | None) -> dt.date | None:
    """``value`` as a date (None when empty); text that is not YYYY-MM-DD is a user error."""
    if not isinstance(value, str):
        return value
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise UserInputError(f"until must be a date (YYYY-MM-DD), not {value!r}") from None


def _tables(ws: Workspace) -> set[str]:
    return table_names(ws.backend)


def customers_list(ws: Workspace, query: str | None = None, limit: int = 50, *,
                   day: dt.date | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Customers in scope with name, rep, trailing-12-month revenue, tier, health and risk,
    largest first, ``limit`` of them from ``offset``; ``query`` matches id or name
    (case-insensitive).

    The 12 months end on ``day``: the data day of the whole workspace, like the dashboard's
    (the last invoice day of a scoped ``ws`` would end a rep's window at the rep's own last
    sale); by default the last invoice day of ``ws``.
    """
    present = _tables(ws)
    if "invoice_lines" not in present:
        return []
    day = day or last_invoice_day(ws)
    if day is None:
        return []
    lines = ws.table("invoice_lines")
    recent = lines.filter(lines.invoice_date > ibis.date(day - dt.timedelta(days=365)))
    per = lines.group_by("customer_id").aggregate(last_order=lines.invoice_date.max())
    rev = recent.group_by("customer_id").aggregate(revenue_12m=recent.net_revenue.sum())
    t = per.left_join(rev, "customer_id").select(per, rev.revenue_12m)
    if "customers" in present:
        c = ws.table("customers").select("customer_id", "name", "rep_id")
        t = t.left_join(c, "customer_id").select(t, c.name, c.rep_id)
    for table, columns in (("score_tiers", ("tier",)), ("score_health", ("health",)),
                           ("score_churn", ("churn_probability",))):
        if table in present:
            s = ws.table(table).select("customer_id", *columns)
            t = t.left_join(s, "customer_id").select(t, *(s[c] for c in columns))
    if query:
        needle = query.strip().lower()
        match = t.customer_id.lower().contains(needle)
        if "name" in t.columns:
            match = match | t.name.lower().contains(needle)
        t = t.filter(match)
    t = t.order_by([ibis.desc(t.revenue_12m.fill_null(0)), "customer_id"]).limit(
        limit, offset=offset)
    return plain_rows(t.to_pyarrow())


def customer_360(ws: Workspace, customer_id: str, *, churn_model: Any = None,
                 lang: Lang = "en") -> dict[str, Any]:
    """The 360 view of one customer in scope (else :class:`NotVisible`): the models' view plus
    the monthly purchase timeline, SKU history, profitability after cost to serve, contacts.

    ``churn_model``: the model saved by the last ``salesradar score``
    (:func:`saved_churn_model`); with it, ``why`` is the model's explanation in ``lang``,
    without it the reasons stored with the scores. No model is ever fitted per request.
    """
    require_customer(ws, customer_id)
    present = _tables(ws)
    view = in_language(_scores(ws, present, customer_id), lang)
    risk = view["churn_risk"]
    if risk is not None:
        view["why"] = list(risk.get("reasons") or [])  # the stored reasons, in ``lang``
    if risk is not None and churn_model is not None and churn_model.scored_ is not None and (
            str(churn_model.scored_.as_of[0])[:10] == str(risk.get("as_of"))[:10]):
        view["why"] = churn_model.explain(customer_id, lang=lang)
    lines = ws.table("invoice_lines")
    mine = lines.filter(lines.customer_id == customer_id)
    month = mine.invoice_date.truncate("M").name("period")
    timeline = mine.group_by(month).aggregate(
        revenue=mine.net_revenue.sum(), gross_profit=(mine.net_revenue - mine.cost).sum(),
        invoices=mine.invoice_id.nunique()).order_by("period")
    skus = mine.group_by("sku").aggregate(
        first=mine.invoice_date.min(), last=mine.invoice_date.max(),
        invoices=mine.invoice_id.nunique(), quantity=mine.quantity.sum(),
        revenue=mine.net_revenue.sum())
    if "products" in present:
        p = ws.table("products").select("sku", "name")
        skus = skus.left_join(p, "sku").select(skus, p.name)
    stopped = {r["sku"] for r in view.get("stopped_items") or []}
    sku_rows = plain_rows(skus.order_by([ibis.desc("revenue"), "sku"]).to_pyarrow())
    for row in sku_rows:
        row["stopped"] = row["sku"] in stopped
    contacts: list[dict[str, Any]] = []
    if "contacts" in present:
        c = ws.table("contacts")
        contacts = plain_rows(c.filter(c.customer_id == customer_id)
                              .order_by([c.level, c.name]).to_pyarrow())
    last = (view.get("sales") or {}).get("last")
    return {**view, "timeline": plain_rows(timeline.to_pyarrow()), "skus": sku_rows,
            "contacts": contacts, "contact_levels": contact_levels(contacts, last)}


CONTACT_LEVELS = ("executive", "finance", "operations", "end_user", "other")
IN_TOUCH_DAYS = 90


def contact_levels(contacts: list[dict[str, Any]], as_of: str | None) -> list[dict[str, Any]]:
    """Contact coverage of one account (a handful of rows): per level, how many contacts and
    how many were in touch in the :data:`IN_TOUCH_DAYS` before ``as_of``."""
    since = ((dt.date.fromisoformat(as_of[:10]) - dt.timedelta(days=IN_TOUCH_DAYS)).isoformat()
             if as_of else None)
    out = []
    for level in CONTACT_LEVELS:
        mine = [c for c in contacts if c.get("level") == level]
        touched = [c for c in mine if since and (c.get("last_activity_at") or "") >= since]
        out.append({"level": level, "contacts": len(mine), "in_touch": len(touched)})
    return out


def saved_churn_model(ws: Workspace) -> Any:
    """The churn model the last ``salesradar score`` saved for this data, or None (the whole
    workspace, never a scoped view: the model is keyed by a fingerprint of all the data)."""
    from salesradar.models.store import load_latest

    try:
        return load_latest(ws, "churn")
    except Exception:  # an unreadable or foreign file only means: no explanation from it
        return None


def _scores(ws: Workspace, present: set[str], customer_id: str) -> dict[str, Any]:
    """The stored scores of one customer (no model is fitted per request): what
    :func:`salesradar.models.scoring.customer_view` shows, with the churn reasons as stored."""
    from salesradar.models.scoring import SCORE_TABLES

    def rows(name: str) -> list[dict[str, Any]]:
        table = SCORE_TABLES[name]
        if table not in present:
            return []
        s = ws.table(table)
        return plain_rows(s.filter(s.customer_id == customer_id).to_pyarrow())

    master: list[dict[str, Any]] = []
    if "customers" in present:
        c = ws.table("customers")
        master = plain_rows(c.filter(c.customer_id == customer_id).to_pyarrow())
    lines = ws.table("invoice_lines")
    mine = lines.filter(lines.customer_id == customer_id)
    sales = plain_rows(mine.aggregate(
        first=mine.invoice_date.min(), last=mine.invoice_date.max(),
        revenue=mine.net_revenue.sum(), cost=mine.cost.sum(),
        invoices=mine.invoice_id.nunique(), skus=mine.sku.nunique()).to_pyarrow())[0]
    risk = rows("churn")
    recs = rows("cross_sell")
    recs.sort(key=lambda r: r.get("rank") or 0)
    return {
        "customer_id": customer_id, "customer": master[0] if master else None,
        "sales": sales if sales.get("first") else None,
        "churn_risk": risk[0] if risk else None,
        "why": list(risk[0].get("reasons") or []) if risk else [],
        "stopped_items": rows("stopped_items"), "recommendations": recs,
        "tier": next(iter(rows("tiers")), None), "health": next(iter(rows("health")), None),
    }


def deal_view(ws: Workspace, deal_id: str) -> dict[str, Any]:
    """One deal in scope with its stage history, else :class:`NotVisible`."""
    present = _tables(ws)
    if "deals" not in present:
        raise NotVisible(f"no deal {deal_id!r}")
    d = ws.table("deals")
    rows = plain_rows(d.filter(d.deal_id == deal_id).to_pyarrow())
    if not rows:
        raise NotVisible(f"no deal {deal_id!r}")
    stages: list[dict[str, Any]] = []
    if "deal_stage_history" in present:
        h = ws.table("deal_stage_history")
        stages = plain_rows(h.filter(h.deal_id == deal_id).order_by("entered_at").to_pyarrow())
    return {**rows[0], "stages": stages}


def kpi_query(ws: Workspace, name: str, by: tuple[str, ...] = (), period: str | None = None,
              start: dt.date | None = None, end: dt.date | None = None, *,
              limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    """One KPI by dimensions and period, computed on the scoped workspace (not persisted):
    ``limit`` rows from ``offset`` (all when None), with the ``total`` and the ``next_offset``
    to ask for (None after the last page)."""
    if name not in set(REGISTRY):  # the registry raises a ValueError on unknown names
        raise NotVisible(f"no KPI {name!r}; GET /api/v1/kpis lists them")
    table = compute_kpi(ws.backend, name, by=by, period=period, start=start, end=end,
                        persist=False)
    total = table.num_rows
    page = table.slice(offset, limit) if limit is not None else table.slice(offset)
    following = offset + page.num_rows
    from salesradar.metrics.periods import partial_records

    rows = partial_records(ws.backend, name, kpi_records(page), period, by, end)
    return {"kpi": REGISTRY[name].info().to_dict(), "rows": rows, "total": total,
            "offset": offset, "next_offset": following if following < total else None}


def pipeline_view(ws: Workspace, as_of: dt.date | None = None) -> dict[str, Any]:
    """Coverage by month against the 3× line, win rate, cycle, stage conversion, and forecast
    against actual won amounts."""
    present = _tables(ws)
    wanted = [n for n in ("pipeline_coverage", "win_rate", "win_rate_amount", "sales_cycle_days",
                          "avg_deal_size", "forecast_accuracy")
              if set(REGISTRY[n].tables) <= present]
    results = compute_kpis(ws.backend, wanted, period="month") if wanted else {}
    from salesradar.metrics.periods import data_last_day

    as_of = as_of or data_last_day(ws.backend, present) or dt.date.today()
    day = as_of.isoformat()
    records = {n: kpi_records(t) for n, t in results.items()}
    # coverage looks ahead: every month with open deals, up to a year back
    coverage = [r for r in records.get("pipeline_coverage", []) if r["value"] is not None][-15:]
    series = {n: kpi_series(rows, as_of, n in FORWARD_KPIS) for n, rows in records.items()}
    return {
        "coverage": [{"period": r["period"], "value": r["value"]} for r in coverage],
        "latest": {n: (rows[-1]["value"] if rows else None) for n, rows in series.items()},
        "trend": {n: [{"period": r["period"], "value": r["value"]} for r in rows][-12:]
                  for n, rows in series.items()},
        "stages": _stage_conversion(ws, present),
        "forecast_vs_actual": _forecast_vs_actual(ws, present, day),
    }


def _stage_conversion(ws: Workspace, present: set[str]) -> list[dict[str, Any]]:
    """Per pipeline, the deals that reached each stage, stages in their usual order (mean
    position in the deals' histories), with the share of the pipeline's first stage."""
    if not {"deal_stage_history", "deals"} <= present:
        return []
    h = ws.table("deal_stage_history")
    d = ws.table("deals").select("deal_id", "pipeline")
    h = h.join(d, "deal_id")
    pos = ibis.row_number().over(group_by=h.deal_id, order_by=h.entered_at)
    ranked = h.mutate(pos=pos)
    per = ranked.group_by(["pipeline", "stage"]).aggregate(deals=ranked.deal_id.nunique(),
                                                           order=ranked.pos.mean())
    rows = plain_rows(per.order_by(["pipeline", "order", "stage"]).to_pyarrow())
    rows = [r for r in rows if r["stage"] != "closed_lost"]
    first: dict[str, int] = {}
    for r in rows:
        first.setdefault(r["pipeline"], r["deals"])
    conversion = {(r["pipeline"], r["stage"]): r["value"] for r in kpi_records(compute_kpi(
        ws.backend, "stage_conversion", by=("pipeline", "stage"), persist=False))}
    return [{"pipeline": r["pipeline"], "stage": r["stage"], "deals": r["deals"],
             "share": r["deals"] / first[r["pipeline"]] if first[r["pipeline"]] else None,
             # the registry's stage_conversion: moved on ÷ decided visits (none for closing)
             "conversion": conversion.get((r["pipeline"], r["stage"]))}
            for r in rows]


def _forecast_vs_actual(ws: Workspace, present: set[str], day: str) -> list[dict[str, Any]]:
    """Per month: the last committed forecast of each rep, summed, against the actual of the
    same measure (invoiced revenue, or the won deal amount for submissions whose measure is
    ``won_amount``), as the ``forecast_accuracy`` KPI compares them."""
    if "forecast_submissions" not in present:
        return []
    f = ws.table("forecast_submissions")
    f = f.filter(f.category == "commit")
    last = first_rows(f, ["rep_id", "period"], ibis.desc(f.submitted_at), 1)
    won_measure = ((last.measure == WON_AMOUNT).fill_null(False) if "measure" in last.columns
                   else ibis.literal(False))
    last = last.mutate(_won=won_measure, _amount=last.amount.cast("float64"))
    fc = last.group_by("period").aggregate(
        forecast=last._amount.sum(), f_won=last._amount.sum(where=last._won),
        n_rev=last.count(where=~last._won))
    lines = ws.table("invoice_lines")
    rev = lines.group_by(period=lines.invoice_date.truncate("M")).aggregate(
        revenue=lines.net_revenue.sum().cast("float64"))
    d = ws.table("deals")
    won = d.filter(d.outcome == "won")
    wins = won.group_by(period=won.close_date.truncate("M")).aggregate(
        won=won.amount.sum().cast("float64"))
    actuals = {str(r["period"])[:10]: r for r in plain_rows(rev.to_pyarrow())}
    won_by = {str(r["period"])[:10]: r["won"] for r in plain_rows(wins.to_pyarrow())}
    rows = []
    for r in plain_rows(fc.order_by("period").to_pyarrow()):
        key = str(r["period"])[:10]
        actual = ((actuals.get(key, {}).get("revenue") or 0.0) if r["n_rev"] else 0.0) + (
            (won_by.get(key) or 0.0) if r["f_won"] is not None else 0.0)
        rows.append({"period": r["period"], "forecast": r["forecast"], "actual": actual})
    return [r for r in rows if r["period"] <= day][-12:]
