"""Sales KPIs on invoice lines: revenue, gross profit and margin, revenue per rep, attainment.

Returns are lines with negative quantity and revenue, so every sum nets them out.

Unknown is not zero: a line without a cost is not a line at 100% margin. **Cost coverage** is the
share of revenue (in absolute amounts, so returns count as much as sales) on lines whose cost is
known. Gross profit and gross margin are computed over the lines that have a cost, and only where
the cost coverage is at least :data:`MIN_COST_COVERAGE`; below it they are unknown (null), and
the cost coverage says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ibis

from salesradar.metrics.catalog._common import agg, f64, finish, per_customer, ratio
from salesradar.metrics.frame import LINE_DIMS, REP_DIMS, SOURCES, Query, attach_dims, shift
from salesradar.metrics.registry import ONLY_GRAINS, Kind, Kpi, Unit

MIN_COST_COVERAGE = 0.95
"""Gross profit and margin are shown when lines with a cost hold at least this share of revenue."""

_COST_MEASURES = {
    "cost": lambda t: t.cost.sum(),
    "costed_revenue": lambda t: t.net_revenue.sum(where=t.cost.notnull()),
    "abs_revenue": lambda t: f64(t.net_revenue.abs()).sum(),
    "abs_costed": lambda t: f64(t.net_revenue.abs()).sum(where=t.cost.notnull()),
}


def cost_coverage_of(m: Any) -> Any:
    """Share of absolute revenue on lines with a known cost (null without revenue)."""
    return ratio(m.abs_costed.fill_null(0), m.abs_revenue)


def _when_costed(m: Any, value: Any) -> Any:
    """``value`` where the cost coverage reaches :data:`MIN_COST_COVERAGE`, else null."""
    known = cost_coverage_of(m) >= MIN_COST_COVERAGE
    return ibis.ifelse(known.fill_null(False), value, ibis.null(value.type()))


NON_SELLING_ROLES = ("president", "vp", "vice", "chief", "ceo", "cfo", "coo", "director",
                     "marketing", "manager", "admin", "finance", "support", "operations",
                     "מנכ", "מנהל", "שיווק", "כספים", "תפעול")
"""Words of a ``reps.role`` that is not a selling role (case-insensitive, anywhere in it)."""


def _selling_role(role: Any) -> Any:
    """Whether a role is a selling one: empty, or naming none of :data:`NON_SELLING_ROLES`."""
    lower = role.lower()
    named = None
    for word in NON_SELLING_ROLES:
        hit = lower.contains(word)
        named = hit if named is None else named | hit
    assert named is not None
    return role.isnull() | ~named.fill_null(False)


def _revenue_per_rep(q: Query) -> Any:
    """Invoiced revenue in p ÷ selling reps active in p.

    A rep counts in p when active in p and selling in p. *Active*: ``active_from`` (if given)
    before the end of p and ``active_to`` (if given) on or after its start; a rep with neither
    date is active from their first to their last invoice line (a rep who never sold and has no
    dates does not count). *Selling*: the role is empty or a selling one (not president, VP,
    director, marketing, manager, ...: :data:`NON_SELLING_ROLES`), or the rep has invoice lines
    in p (a manager who sells counts in the periods they sell). Without a period, the range
    ``[start, end]`` is the period. Revenue of lines whose rep is not in ``reps`` counts in the
    numerator only.
    """
    pc = per_customer(q)  # the revenue per customer other KPIs share, summed per slice
    revenue = agg(pc, q.keys, revenue=pc.revenue.sum())
    reps = q.table("reps")
    lines = q.table("invoice_lines")
    seen = lines.group_by(_sr=lines.rep_id).aggregate(_first=lines.invoice_date.min(),
                                                       _last=lines.invoice_date.max())
    reps = reps.left_join(seen, reps.rep_id == seen._sr)
    no_dates = reps.active_from.isnull() & reps.active_to.isnull()
    # rep_id, team and manager_id are reps' own columns
    reps = reps.select(
        *[c for c in ("team", "manager_id") if c in q.keys],
        _rep=reps.rep_id, _seller=_selling_role(reps.role),
        _from=ibis.ifelse(no_dates, reps._first, reps.active_from),
        _to=ibis.ifelse(no_dates, reps._last, reps.active_to),
        _never=no_dates & reps._first.isnull(),
    )
    reps = reps.filter(~reps._never)
    period_key = ["period"] if q.grain is not None else []
    if "rep_id" in q.keys:
        # the slices with revenue rows are the (period, rep) with invoice lines: no second
        # pass over the lines (on DuckDB it also kept a 10M-line copy of the lines in memory)
        sold = revenue.select(*period_key, "rep_id").distinct()
    else:
        sold_lines = replace(q, dims=()).fact("invoice_lines")
        sold = sold_lines.group_by([*period_key, sold_lines.rep_id]).aggregate(
            _n=sold_lines.rep_id.count())
    sold = sold.select(*[sold[k].name("_sp") for k in period_key], _ss=sold.rep_id,
                       _sold=ibis.literal(True))
    if q.grain is not None:
        periods = revenue.select("period").distinct()
        span = periods.cross_join(reps)
        first, after = span.period, shift(span.period, q.grain)
        on = [span.period == sold._sp, span._rep == sold._ss]
    else:
        span = reps
        first = ibis.date(q.start) if q.start else None
        after = ibis.date(q.end) + ibis.interval(days=1) if q.end else None
        on = [span._rep == sold._ss]
    cond = []
    if after is not None:
        cond.append(span._from.isnull() | (span._from < after))
    if first is not None:
        cond.append(span._to.isnull() | (span._to >= first))
    if cond:
        span = span.filter(*cond)
    span = span.left_join(sold, on)
    span = span.filter(span._seller | span._sold.fill_null(False))
    keys = [k if k != "rep_id" else "_rep" for k in q.keys]
    active = agg(span, keys, reps=span._rep.nunique())
    if "rep_id" in q.keys:
        active = active.rename(rep_id="_rep")
    joined = revenue.left_join(active, q.keys) if q.keys else revenue.cross_join(active)
    return finish(q, joined, ratio(joined.revenue, joined.reps))


def _target_attainment(q: Query) -> Any:
    """Invoiced revenue ÷ revenue target of the same reps (or team) and period.

    Targets are the ``targets`` rows with ``metric = 'revenue'`` whose grain is the requested
    grain (or not given); see :func:`targets_for` for rep and team rows. Null when there is no
    target or it is 0.
    """
    lines = q.fact("invoice_lines")
    rev = agg(lines, q.keys, revenue=f64(lines.net_revenue.sum()), target=ibis.null("float64"))
    tg = targets_for(q)
    tgt = agg(tg, q.keys, revenue=ibis.null("float64"), target=f64(tg.value.sum()))
    both = rev.union(tgt)
    total = agg(both, q.keys, revenue=both.revenue.sum(), target=both.target.sum())
    return finish(q, total, ratio(total.revenue, total.target))


def targets_for(q: Query, metric: str = "revenue") -> Any:
    """Target rows for ``metric`` at the query grain: the query's keys and ``value``.

    A ``targets`` row is for a rep (``rep_id`` given) or for a team (``rep_id`` empty, ``team``
    given). By rep or manager, rep rows count. By team, and for the company, each team's target
    in a period is its team row(s) when it has any, else the sum of its reps' rows (a rep's team
    is the one in ``reps``); the company target is the sum over teams (reps without a team
    counting as one).
    """
    t = replace(q, dims=()).fact("targets")
    t = t.filter(t.metric == metric)
    if q.grain is not None:
        t = t.filter(t.grain.isnull() | (t.grain == q.grain))
    if set(q.dims) - {"team"}:  # rep or manager: rep rows only
        reps = t.filter(t.rep_id.notnull()).drop("team")
        return attach_dims(q, reps, SOURCES["targets"].keys)
    periods = ["period"] if q.grain is not None else []
    owners = q.table("reps").select(_r="rep_id", _team="team")
    by_rep = t.filter(t.rep_id.notnull())
    by_rep = by_rep.left_join(owners, by_rep.rep_id == owners._r)
    by_rep = by_rep.select(*periods, team=by_rep._team, _reps=by_rep.value,
                           _own=ibis.null("float64"))
    by_team = t.filter(t.rep_id.isnull() & t.team.notnull())
    by_team = by_team.select(*periods, "team", _reps=ibis.null("float64"), _own=by_team.value)
    both = by_rep.union(by_team)
    teams = both.group_by([*periods, "team"]).aggregate(_reps=both._reps.sum(),
                                                        _own=both._own.sum())
    return teams.select(*periods, "team", value=teams._own.fill_null(teams._reps))


def _sales(
    name: str, en: str, he: str, den: str, dhe: str, unit: Unit, **kw: Any
) -> Kpi:
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               kw.pop("tables", ("invoice_lines",)), kw.pop("dimensions", LINE_DIMS),
               theme="sales", **kw)


KPIS: tuple[Kpi, ...] = (
    _sales(
        "revenue", "Revenue", "הכנסות",
        "Sum of net revenue of invoice lines (returns net out).",
        "סכום ההכנסה נטו משורות החשבוניות (החזרות מתקזזות).",
        Unit.MONEY, source="invoice_lines",
        measures={"revenue": lambda t: t.net_revenue.sum()},
        formula=lambda m: m.revenue,
    ),
    _sales(
        "gross_profit", "Gross profit", "רווח גולמי",
        "Revenue minus cost of goods, over the invoice lines that have a cost; unknown when "
        "those lines hold less than 95% of revenue (see cost coverage).",
        "הכנסות פחות עלות המכר, על שורות החשבוניות שיש להן עלות; לא ידוע כששורות אלה מחזיקות "
        "פחות מ-95% מההכנסות (ראו כיסוי עלות).",
        Unit.MONEY, source="invoice_lines", measures=_COST_MEASURES,
        formula=lambda m: _when_costed(m, m.costed_revenue - m.cost),
    ),
    _sales(
        "gross_margin", "Gross margin", "שיעור רווח גולמי",
        "Gross profit ÷ revenue, both over the invoice lines that have a cost; unknown when "
        "those lines hold less than 95% of revenue (see cost coverage) or revenue is 0.",
        "רווח גולמי חלקי הכנסות, שניהם על שורות החשבוניות שיש להן עלות; לא ידוע כששורות אלה "
        "מחזיקות פחות מ-95% מההכנסות (ראו כיסוי עלות) או כשההכנסות אפס.",
        Unit.PERCENT, source="invoice_lines", measures=_COST_MEASURES,
        formula=lambda m: _when_costed(m, ratio(m.costed_revenue - m.cost, m.costed_revenue)),
    ),
    _sales(
        "cost_coverage", "Cost coverage", "כיסוי עלות",
        "Share of revenue (absolute amounts, returns included) on invoice lines whose cost is "
        "known. Gross profit and margin are shown only from 95%.",
        "חלק ההכנסות (בערך מוחלט, כולל החזרות) בשורות חשבונית שעלותן ידועה. רווח גולמי ושיעורו "
        "מוצגים רק מ-95%.",
        Unit.PERCENT, source="invoice_lines", measures=_COST_MEASURES,
        formula=cost_coverage_of,
    ),
    _sales(
        "revenue_per_rep", "Revenue per rep", "הכנסה לנציג",
        "Invoiced revenue ÷ selling reps active in the period: reps whose active dates (or, "
        "without dates, first to last sale) cover it and whose role sells (not president, VP, "
        "director, marketing, manager...) or who invoiced in the period.",
        "הכנסה מחשבוניות חלקי הנציגים המוכרים שפעילים בתקופה: נציגים שתאריכי הפעילות שלהם (או, "
        "בלי תאריכים, המכירה הראשונה עד האחרונה) מכסים אותה ושתפקידם מוכר (לא נשיא, סמנכ\"ל, "
        "מנהל, שיווק...) או שהוציאו חשבונית בתקופה.",
        Unit.MONEY, tables=("invoice_lines", "reps"), dimensions=REP_DIMS,
        kind=Kind.DERIVED, build=_revenue_per_rep,
    ),
    _sales(
        "target_attainment", "Target attainment", "עמידה ביעד",
        "Invoiced revenue ÷ revenue target of the period.",
        "הכנסה מחשבוניות חלקי יעד ההכנסות לתקופה.",
        Unit.PERCENT, tables=("invoice_lines", "targets"), dimensions=REP_DIMS,
        periods=ONLY_GRAINS, kind=Kind.DERIVED, build=_target_attainment,
    ),
)
