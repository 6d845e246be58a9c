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


def _revenue_per_rep(q: Query) -> Any:
    """Invoiced revenue in p ÷ reps active in p.

    A rep is active in p when ``active_from`` (if given) is before the end of p and ``active_to``
    (if given) is on or after the start of p. Without a period, the range ``[start, end]`` is the
    period. Revenue of lines whose rep is not in ``reps`` counts in the numerator only.
    """
    pc = per_customer(q)  # the revenue per customer other KPIs share, summed per slice
    revenue = agg(pc, q.keys, revenue=pc.revenue.sum())
    reps = q.table("reps")
    reps = reps.mutate(_rep=reps.rep_id)  # rep_id, team and manager_id are reps' own columns
    if q.grain is not None:
        periods = revenue.select("period").distinct()
        span = periods.cross_join(reps)
        first, after = span.period, shift(span.period, q.grain)
    else:
        span = reps
        first = ibis.date(q.start) if q.start else None
        after = ibis.date(q.end) + ibis.interval(days=1) if q.end else None
    cond = []
    if after is not None:
        cond.append(span.active_from.isnull() | (span.active_from < after))
    if first is not None:
        cond.append(span.active_to.isnull() | (span.active_to >= first))
    if cond:
        span = span.filter(*cond)
    active = agg(span, q.keys, reps=span._rep.nunique())
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
        Unit.SHEKEL, source="invoice_lines",
        measures={"revenue": lambda t: t.net_revenue.sum()},
        formula=lambda m: m.revenue,
    ),
    _sales(
        "gross_profit", "Gross profit", "רווח גולמי",
        "Revenue minus cost of goods, over the invoice lines that have a cost; unknown when "
        "those lines hold less than 95% of revenue (see cost coverage).",
        "הכנסות פחות עלות המכר, על שורות החשבוניות שיש להן עלות; לא ידוע כששורות אלה מחזיקות "
        "פחות מ-95% מההכנסות (ראו כיסוי עלות).",
        Unit.SHEKEL, source="invoice_lines", measures=_COST_MEASURES,
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
        "Invoiced revenue ÷ reps active in the period (from the reps table).",
        "הכנסה מחשבוניות חלקי מספר הנציגים הפעילים בתקופה.",
        Unit.SHEKEL, tables=("invoice_lines", "reps"), dimensions=REP_DIMS,
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
