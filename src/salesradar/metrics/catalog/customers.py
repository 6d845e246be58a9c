"""Customer-base KPIs: active, new, reactivated and churned customers, breadth, ARPA, concentration.

Definitions (DESIGN.md, "KPI definitions"), for a period ``p`` of the requested grain:

* A customer is **active in a slice** (a combination of dimension values, e.g. one rep) in ``p``
  when the net revenue of its lines in that slice in ``p`` is > 0.
* A customer's **status** is company-wide: active in ``p`` when its total net revenue in ``p`` is
  > 0; its **first period** is the first period it was active in, over all history.
* **New** in ``p``: active in the slice in ``p`` and its first period is ``p``.
* **Reactivated** in ``p``: active in the slice in ``p``, not active (company-wide) in the
  previous period ``p-1`` (the previous window of the same length), but active some period
  before ``p-1``.
* **Churned** in ``p`` (window ``w`` = the grain): active in the slice in ``p-1`` and not active
  (company-wide) in ``p``; a customer who moved to another rep has not churned. Churn rate
  divides by the customers active in the slice in ``p-1``; revenue churn divides their ``p-1``
  revenue by the slice's total ``p-1`` revenue. Periods after the last period with any invoice
  are not reported.
* **Concentration** in ``p``: shares of the slice's revenue over the trailing twelve months ending
  with ``p`` (the twelve months before the end of ``p``) held by the top 1, 3 and 5 customers, and
  HHI = Σ share² (0..1). Without a period, the whole selected range is the window.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ibis

from salesradar.metrics.catalog._common import (
    agg,
    count_if,
    f64,
    finish,
    per_customer,
    ratio,
    shared,
    unique,
)
from salesradar.metrics.frame import LINE_DIMS, Query, shift, truncate
from salesradar.metrics.ranking import first_rows
from salesradar.metrics.registry import ALL_PERIODS, ONLY_GRAINS, Kind, Kpi, Unit


def _active(q: Query) -> Any:
    pc = per_customer(q)
    out = agg(pc, q.keys, value=count_if(pc.revenue > 0))
    return out


def _arpa(q: Query) -> Any:
    pc = per_customer(q)
    out = agg(pc, q.keys, revenue=pc.revenue.sum(), active=count_if(pc.revenue > 0))
    return finish(q, out, ratio(out.revenue, out.active))


def _unique_skus(q: Query) -> Any:
    pc = per_customer(replace(q, sku_detail=True))
    pc = pc.filter(pc.revenue > 0)
    return agg(pc, q.keys, value=f64(pc.skus).mean())


@shared
def _status(q: Query) -> Any:
    """Company-wide activity: one row per (period, customer) the customer was active in.

    Summed from revenue per customer and slice over all history (which churn and concentration
    also use, so the engine computes it once when the KPIs run together).
    """
    assert q.grain is not None
    pc = per_customer(q, history=True)
    by = pc.group_by(["period", "customer_id"]).aggregate(_rev=pc.revenue.sum())
    return by.filter(by._rev > 0).select(_sp="period", _sc="customer_id")


def _in_range(q: Query, t: Any) -> Any:
    if q.compute_start is not None:
        t = t.filter(t.period >= ibis.date(q.compute_start))
    return t


@shared
def _new_and_reactivated(q: Query) -> Any:
    """Per slice: the active customers that are new and those reactivated (one aggregate that
    both KPIs share when they run together, over one join of the active customers to their
    first period and to the previous period's status)."""
    assert q.grain is not None
    active = per_customer(q)
    active = active.filter(active.revenue > 0)
    status = _status(q)
    first = status.group_by("_sc").aggregate(_first=status._sp.min())
    joined = active.left_join(first, active.customer_id == first._sc)
    prev = status.select(_pp=shift(status._sp, q.grain), _pc="_sc")  # one row per (p, customer)
    joined = joined.left_join(
        prev, (joined.period == prev._pp) & (joined.customer_id == prev._pc)
    )
    back = joined._pc.isnull() & (joined._first < shift(joined.period, q.grain, -1))
    return agg(joined, q.keys, new=count_if(joined._first == joined.period),
               reactivated=count_if(back))


def _new_or_reactivated(q: Query, *, new: bool) -> Any:
    both = _new_and_reactivated(q)
    return finish(q, both, both.new if new else both.reactivated)


def _churn(q: Query, what: str) -> Any:
    assert q.grain is not None
    before = per_customer(q, history=True)
    moved = before.mutate(period=shift(before.period, q.grain))  # evaluated in the next period
    status = _status(q)
    last = status._sp.max()
    j = moved.left_join(status, (moved.period == status._sp) & (moved.customer_id == status._sc))
    j = j.mutate(_was=j.revenue > 0).mutate(_gone=(j.revenue > 0) & j._sc.isnull())
    j = _in_range(q, j.filter(j.period <= last))
    out = agg(
        j,
        q.keys,
        churned=count_if(j._gone),
        was=count_if(j._was),
        lost_revenue=j.revenue.sum(where=j._gone),
        revenue=j.revenue.sum(),
    )
    if what == "count":
        value = out.churned
    elif what == "rate":
        value = ratio(out.churned, out.was)
    else:
        value = ratio(out.lost_revenue.fill_null(0), out.revenue)
    return finish(q, out, value)


@shared
def trailing_revenue(q: Query) -> Any:
    """Revenue per period, dimensions and customer over the trailing twelve months of each period.

    Rows are the (period, slice, customer) with at least one monthly total in the window. Without
    a grain the window is the selected range. Monthly, quarterly and yearly windows are summed
    from monthly totals (:func:`_trailing_monthly`); daily and weekly ones from daily totals.
    """
    if q.grain is None:
        return per_customer(q)
    if q.grain in ("month", "quarter", "year"):
        return _trailing_monthly(q)
    dims = unique([*q.dim_columns, "customer_id"])
    t = q.fact("invoice_lines", history=True)
    t = t.mutate(_m=truncate(t._date, "day"))
    small = t.group_by([*dims, "_m"]).aggregate(_rev=t.net_revenue.sum())
    periods = _in_range(q, t.select("period").distinct())
    periods = periods.mutate(_end=shift(periods.period, q.grain))
    periods = periods.mutate(_from=shift(periods._end, "month", -12))
    j = periods.inner_join(small, (small._m >= periods._from) & (small._m < periods._end))
    return j.group_by(["period", *dims]).aggregate(revenue=j._rev.sum())


def _trailing_monthly(q: Query) -> Any:
    """Trailing-twelve-month revenue for month, quarter and year grains, by running sums.

    Joining every period to its twelve months of rows multiplies the rows by twelve. Instead,
    each monthly total ``r`` of month ``m`` is an event ``+r`` at ``m`` and ``-r`` at ``m + 12``;
    the running sum of the events of a slice member, in month order, is its trailing revenue,
    which holds from one event month until the next. A period takes the value that holds in its
    last month. A running count of the months in the window keeps exactly the members with a
    monthly total in the window (even a total of 0), as a plain window join would.
    """
    assert q.grain is not None
    member = unique([*q.dim_columns, "customer_id"])
    if q.grain == "month":  # the monthly totals are revenue per customer (shared with churn)
        pc = per_customer(q, history=True)
        monthly = pc.select(*member, _m=pc.period, _rev=pc.revenue)
        periods = pc.select("period").distinct()
    else:
        t = q.fact("invoice_lines", history=True)
        t = t.mutate(_m=truncate(t._date, "month"))
        monthly = t.group_by([*member, "_m"]).aggregate(_rev=t.net_revenue.sum())
        periods = t.select("period").distinct()
    one = ibis.literal(1, type="int64")
    events = monthly.select(*member, _at=monthly._m, _d=monthly._rev, _n=one).union(
        monthly.select(*member, _at=shift(monthly._m, "month", 12), _d=-monthly._rev, _n=-one)
    )
    # Two events of a member in the same month (one entering, one leaving the window) need no
    # summing first: the state after the first holds from _at to _next = _at, an empty span.
    # Ordering by _n too makes the order total, so every engine sums and leads alike.
    running = ibis.cumulative_window(group_by=member, order_by=["_at", "_n"])
    following = ibis.window(group_by=member, order_by=["_at", "_n"])
    held = events.select(
        *member, "_at", revenue=events._d.sum().over(running),
        _count=events._n.sum().over(running), _next=events._at.lead().over(following),
    )
    held = held.filter(held._count > 0)  # the last event of a member always brings it to 0
    periods = _in_range(q, periods)
    periods = periods.mutate(_last=shift(shift(periods.period, q.grain), "month", -1))
    j = periods.inner_join(held, (periods._last >= held._at) & (periods._last < held._next))
    return j.select("period", *member, "revenue")


_TOP_MOST = 5  # the largest k of the top-k concentration KPIs


@shared
def _trailing_totals(q: Query) -> Any:
    """Per slice: Σ, Σ² and the largest of the customers' trailing revenue (one aggregate that
    the concentration KPIs share when they run together)."""
    rev = trailing_revenue(q)
    amount = f64(rev.revenue)
    return agg(rev, q.keys, total=amount.sum(), squares=(amount * amount).sum(),
               largest=amount.max())


def _concentration(q: Query, top: int | None) -> Any:
    """Top-``top`` share (or HHI when ``top`` is None) of trailing revenue per slice.

    HHI = Σ revenue² ÷ (Σ revenue)² and the top-1 share = max ÷ Σ need no ranking. The top-3 and
    top-5 shares rank customers and keep only the first ``top`` before summing, which engines
    run as a per-slice top-N instead of sorting every customer of the slice.
    """
    totals = _trailing_totals(q)
    if top is None:
        return finish(q, totals, totals.squares / (totals.total * totals.total).nullif(0))
    if top == 1:
        return finish(q, totals, totals.largest / totals.total.nullif(0))
    rev = trailing_revenue(q)
    rev = rev.select(*q.keys, _amount=f64(rev.revenue))  # ranking doubles sorts faster
    # the same rows for every top-k share
    ranked = first_rows(rev, q.keys, ibis.desc(rev._amount), _TOP_MOST, "_rank")
    best = agg(ranked, q.keys, top=ranked._amount.sum(where=ranked._rank <= top))
    if q.keys:
        best = best.rename({f"_b_{c}": c for c in q.keys})
        j = totals.left_join(best, [totals[c].identical_to(best[f"_b_{c}"]) for c in q.keys])
    else:
        j = totals.cross_join(best)
    return finish(q, j, j.top / j.total.nullif(0))


def _customers(
    name: str, en: str, he: str, den: str, dhe: str, unit: Unit, build: Any, **kw: Any
) -> Kpi:
    return Kpi(name, en, he, den, dhe, unit, kw.pop("higher_is_better", True),
               kw.pop("tables", ("invoice_lines",)), kw.pop("dimensions", LINE_DIMS),
               kw.pop("periods", ONLY_GRAINS), Kind.DERIVED, build=build, theme="customers",
               **kw)


def _conc(k: int) -> Kpi:
    return _customers(
        f"concentration_top{k}", f"Top-{k} customer concentration", f"ריכוזיות {k} הלקוחות הגדולים",
        f"Share of trailing-12-month revenue held by the {k} largest customers.",
        f"חלק {k} הלקוחות הגדולים בהכנסות 12 החודשים האחרונים.",
        Unit.PERCENT, lambda q: _concentration(q, k), higher_is_better=False,
        periods=ALL_PERIODS, flags=("customer_over_threshold",) if k == 1 else (),
    )


KPIS: tuple[Kpi, ...] = (
    _customers(
        "active_customers", "Active customers", "לקוחות פעילים",
        "Distinct customers with net revenue > 0 in the period.",
        "לקוחות שונים עם הכנסה נטו חיובית בתקופה.",
        Unit.COUNT, _active, periods=ALL_PERIODS, flags=("active_drop",),
    ),
    _customers(
        "new_customers", "New customers", "לקוחות חדשים",
        "Active customers whose first purchase ever was in the period.",
        "לקוחות פעילים שרכישתם הראשונה אי פעם הייתה בתקופה.",
        Unit.COUNT, lambda q: _new_or_reactivated(q, new=True),
    ),
    _customers(
        "reactivated_customers", "Reactivated customers", "לקוחות שחזרו",
        "Active customers not active in the previous period but active before it.",
        "לקוחות פעילים שלא היו פעילים בתקופה הקודמת אך היו פעילים לפניה.",
        Unit.COUNT, lambda q: _new_or_reactivated(q, new=False),
    ),
    _customers(
        "unique_skus_per_customer", "Unique SKUs per customer", "מק\"טים שונים ללקוח",
        "Mean over active customers of the distinct SKUs bought (net revenue > 0) in the period.",
        "ממוצע על פני הלקוחות הפעילים של מספר המק\"טים השונים שנרכשו בתקופה.",
        Unit.COUNT, _unique_skus, periods=ALL_PERIODS, sku_detail=True,
    ),
    _customers(
        "churned_customers", "Churned customers", "לקוחות שנטשו",
        "Customers active in the previous period who bought nothing in this one.",
        "לקוחות שהיו פעילים בתקופה הקודמת ולא קנו דבר בתקופה זו.",
        Unit.COUNT, lambda q: _churn(q, "count"), higher_is_better=False,
    ),
    _customers(
        "churn_rate", "Churn rate", "שיעור נטישה",
        "Churned customers ÷ customers active in the previous period.",
        "לקוחות שנטשו חלקי הלקוחות שהיו פעילים בתקופה הקודמת.",
        Unit.PERCENT, lambda q: _churn(q, "rate"), higher_is_better=False,
    ),
    _customers(
        "revenue_churn_rate", "Revenue churn rate", "שיעור נטישת הכנסות",
        "Previous-period revenue of churned customers ÷ all previous-period revenue.",
        "הכנסות התקופה הקודמת מלקוחות שנטשו חלקי כלל הכנסות התקופה הקודמת.",
        Unit.PERCENT, lambda q: _churn(q, "revenue"), higher_is_better=False,
    ),
    _customers(
        "arpa", "Average revenue per account", "הכנסה ממוצעת ללקוח",
        "Revenue ÷ active customers.",
        "הכנסות חלקי מספר הלקוחות הפעילים.",
        Unit.MONEY, _arpa, periods=ALL_PERIODS,
    ),
    _conc(1),
    _conc(3),
    _conc(5),
    _customers(
        "hhi", "Herfindahl-Hirschman index", "מדד הרפינדל-הירשמן",
        "Σ of squared customer shares of trailing-12-month revenue (0..1).",
        "סכום ריבועי חלקי הלקוחות בהכנסות 12 החודשים האחרונים (0 עד 1).",
        Unit.INDEX, lambda q: _concentration(q, None), higher_is_better=False,
        periods=ALL_PERIODS,
    ),
)
