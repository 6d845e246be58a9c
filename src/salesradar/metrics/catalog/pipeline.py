"""Pipeline KPIs on deals ("marathoners"): coverage, weighted pipeline, win rate, cycle, forecast.

Deals are placed in the period of their ``close_date`` (expected for open deals, actual for closed
ones); deals without a close date are left out.

* **Pipeline coverage** in ``p`` = open deal amount closing in ``p`` ÷ (revenue target of ``p`` −
  won amount closing in ``p``). Null when there is no target or the target is already met.
  Targets are ``targets`` rows with ``metric = 'revenue'`` at the requested grain: rep rows by
  rep, and by team (and company) a team's own rows, else the sum of its reps' rows.
* **Weighted pipeline** = Σ open amount × the weight of its forecast category
  (:data:`CATEGORY_WEIGHTS`; any other category weighs :data:`OTHER_WEIGHT`).
* **Forecast accuracy** in ``p`` = 1 − |forecast − actual| ÷ actual, where forecast is the latest
  ``commit`` submission of each rep for ``p`` (summed over the reps of a team) and actual is the
  same measure in ``p``: the net revenue invoiced by the rep (``invoice_lines.rep_id``) unless
  the submission's ``measure`` says ``won_amount`` (the won deal amount closing in ``p``). Null
  when actual is 0.
"""

from __future__ import annotations

from typing import Any

import ibis

from salesradar.metrics.catalog._common import (
    agg,
    count_if,
    days_between,
    f64,
    finish,
    lit,
    ratio,
)
from salesradar.metrics.catalog.sales import targets_for
from salesradar.metrics.frame import CUSTOMER_DIMS, REP_DIMS, Query, shift
from salesradar.metrics.ranking import first_rows
from salesradar.metrics.registry import ALL_PERIODS, ONLY_GRAINS, Kind, Kpi, Unit

DEAL_DIMS = (*REP_DIMS, *CUSTOMER_DIMS)
WON_AMOUNT = "won_amount"  # forecast_submissions.measure of a forecast of won deal amounts
CATEGORY_WEIGHTS: dict[str, float] = {
    "commit": 0.9, "best_case": 0.5, "pipeline": 0.2, "omitted": 0.0,
}
OTHER_WEIGHT = 0.1


def _coverage(q: Query) -> Any:
    deals = q.fact("deals")
    d = agg(
        deals, q.keys,
        open=f64(deals.amount.sum(where=deals.outcome == "open")),
        won=f64(deals.amount.sum(where=deals.outcome == "won")),
        target=ibis.null("float64"),
    )
    tg = targets_for(q)
    t = agg(tg, q.keys, open=ibis.null("float64"), won=ibis.null("float64"),
            target=f64(tg.value.sum()))
    both = d.union(t)
    out = agg(both, q.keys, open=both.open.sum(), won=both.won.sum(), target=both.target.sum())
    remaining = out.target - out.won.fill_null(0)
    value = ibis.ifelse(remaining > 0, out.open.fill_null(0) / remaining, ibis.null("float64"))
    if q.grain is not None:
        # coverage looks ahead from the data's day: a period already over has no open pipeline
        # left (its deals were won, lost or moved), so its coverage is unknown, not 0x
        value = ibis.ifelse(shift(out.period, q.grain) <= _deals_day(q), ibis.null("float64"),
                            value)
    return finish(q, out, value)


def _deals_day(q: Query) -> Any:
    """The CRM data's "today" as a scalar: the last deal created or closed (never a planned
    close date of an open deal)."""
    deals = q.table("deals")
    created = deals.created_at.max().cast("date")
    closed = deals.filter(deals.outcome != "open").close_date.max().cast("date")
    return ibis.coalesce(ibis.greatest(created, closed), created, closed)


def _weight(t: Any) -> Any:
    category = t.forecast_category.lower().replace(" ", "_")
    return ibis.cases(
        *((category == name, lit(weight)) for name, weight in CATEGORY_WEIGHTS.items()),
        else_=lit(OTHER_WEIGHT),
    )


def _forecast_accuracy(q: Query) -> Any:
    fc = q.fact("forecast_submissions")
    fc = fc.filter(fc.category == "commit")
    fc = fc.filter(fc.grain.isnull() | (fc.grain == q.grain))
    fc = first_rows(fc, ["rep_id", "_date"], ibis.desc(fc.submitted_at), 1)  # the latest
    won_measure = ((fc.measure == WON_AMOUNT).fill_null(False) if "measure" in fc.columns
                   else ibis.literal(False))  # a workspace made before the column existed
    fc = fc.mutate(_won=won_measure)
    none = ibis.null("float64")
    f = agg(fc, q.keys, f_rev=f64(fc.amount.sum(where=~fc._won)),
            f_won=f64(fc.amount.sum(where=fc._won)), a_rev=none, a_won=none)
    lines = q.fact("invoice_lines")
    r = agg(lines, q.keys, f_rev=none, f_won=none, a_rev=f64(lines.net_revenue.sum()),
            a_won=none)
    deals = q.fact("deals")
    won = deals.filter(deals.outcome == "won")
    a = agg(won, q.keys, f_rev=none, f_won=none, a_rev=none, a_won=f64(won.amount.sum()))
    both = f.union(r).union(a)
    out = agg(both, q.keys, f_rev=both.f_rev.sum(), f_won=both.f_won.sum(),
              a_rev=both.a_rev.sum(), a_won=both.a_won.sum())
    # each submission against the actual of its own measure; a measure nobody forecast adds
    # nothing to either side
    forecast = out.f_rev.fill_null(0) + out.f_won.fill_null(0)
    actual = (ibis.ifelse(out.f_rev.notnull(), out.a_rev.fill_null(0), 0.0)
              + ibis.ifelse(out.f_won.notnull(), out.a_won.fill_null(0), 0.0))
    out = out.mutate(forecast=ibis.ifelse(out.f_rev.notnull() | out.f_won.notnull(), forecast,
                                          none), actual=actual)
    value = 1 - (out.forecast - out.actual).abs() / out.actual.nullif(0)
    return finish(q, out, value)


def _deal(name: str, en: str, he: str, den: str, dhe: str, unit: Unit, **kw: Any) -> Kpi:
    derived = "build" in kw
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               kw.pop("tables", ("deals",)), kw.pop("dimensions", DEAL_DIMS),
               kw.pop("periods", ONLY_GRAINS if derived else ALL_PERIODS),
               Kind.DERIVED if derived else Kind.SIMPLE, None if derived else "deals",
               theme="pipeline", **kw)


def _won(t: Any) -> Any:
    return t.outcome == "won"


KPIS: tuple[Kpi, ...] = (
    _deal(
        "pipeline_coverage", "Pipeline coverage", "כיסוי צנרת",
        "Open pipeline closing in the period ÷ (target − won so far); below 3× is a risk.",
        "צנרת פתוחה שצפויה להיסגר בתקופה חלקי (יעד פחות מה שכבר נסגר); מתחת ל-3 זה סיכון.",
        Unit.RATIO, tables=("deals", "targets"), dimensions=REP_DIMS, build=_coverage,
        flags=("coverage_below_min",),
    ),
    _deal(
        "weighted_pipeline", "Weighted pipeline", "צנרת משוקללת",
        "Σ open deal amount × forecast-category weight, by expected close date (0 if none).",
        "סכום הסכומים של עסקאות פתוחות כפול משקל קטגוריית התחזית, לפי מועד סגירה צפוי.",
        Unit.MONEY,
        measures={"weighted": lambda t: (f64(t.amount) * _weight(t)).sum(
            where=t.outcome == "open")},
        formula=lambda m: m.weighted.fill_null(0),
    ),
    _deal(
        "win_rate", "Win rate", "שיעור זכייה",
        "Won ÷ (won + lost) deals closed in the period, by count.",
        "עסקאות שנזכו חלקי (נזכו + הופסדו) שנסגרו בתקופה, לפי מספר.",
        Unit.PERCENT,
        measures={"won": lambda t: count_if(_won(t)),
                  "closed": lambda t: count_if(t.outcome.isin(["won", "lost"]))},
        formula=lambda m: ratio(m.won, m.closed),
    ),
    _deal(
        "win_rate_amount", "Win rate by amount", "שיעור זכייה לפי סכום",
        "Won amount ÷ (won + lost) amount of deals closed in the period.",
        "סכום העסקאות שנזכו חלקי סכום העסקאות שנזכו או הופסדו בתקופה.",
        Unit.PERCENT,
        measures={"won": lambda t: t.amount.sum(where=_won(t)),
                  "closed": lambda t: t.amount.sum(where=t.outcome.isin(["won", "lost"]))},
        formula=lambda m: ratio(m.won.fill_null(0), m.closed),
    ),
    _deal(
        "sales_cycle_days", "Sales cycle", "אורך מחזור מכירה",
        "Mean days from creation to close of deals won in the period.",
        "ממוצע הימים מפתיחת העסקה ועד סגירתה, לעסקאות שנזכו בתקופה.",
        Unit.DAYS, higher_is_better=False,
        measures={"days": lambda t: days_between(t.close_date, t.created_at).mean(
            where=_won(t))},
        formula=lambda m: m.days,
    ),
    _deal(
        "avg_deal_size", "Average deal size", "גודל עסקה ממוצע",
        "Mean amount of deals won in the period.",
        "הסכום הממוצע של עסקאות שנזכו בתקופה.",
        Unit.MONEY,
        measures={"amount": lambda t: f64(t.amount).mean(where=_won(t))},
        formula=lambda m: m.amount,
    ),
    _deal(
        "forecast_accuracy", "Forecast accuracy", "דיוק תחזית",
        "1 − |commit forecast − actual| ÷ actual, the actual of the forecast's measure: "
        "invoiced revenue, or the won deal amount when the submission's measure is won_amount.",
        "1 פחות (הפרש מוחלט בין תחזית ההתחייבות לבפועל) חלקי הבפועל, בפועל של אותו מדד: "
        "הכנסות שחויבו, או סכום העסקאות שנזכו כשמדד ההגשה הוא won_amount.",
        Unit.PERCENT, tables=("forecast_submissions", "invoice_lines"), dimensions=REP_DIMS,
        build=_forecast_accuracy,
    ),
)
