"""Strategic account segmentation (ABCD tiers) and a 0-100 customer health score.

**Tiers** (:func:`assign_tiers`) sort customers by three things an account manager weighs:

- *profitability* -- gross profit minus cost to serve over the last 12 months (gross profit
  alone when there is no ``cost_to_serve`` table; revenue when lines have no cost);
- *growth potential* -- the wallet left to win (``customers.potential`` minus revenue) when the
  potential is known, else the revenue trend against the 12 months before;
- *strategic fit* -- size and breadth (revenue and distinct SKUs bought).

D = loss-making after cost to serve; A = strategic (the top ``a_share`` by the mean of the
profit and fit percentiles, and the top ``a_share / 2`` by profit alone); B = developing
(not A, growth percentile >= ``b_growth``); C = operational (the rest). Each row says why
and what to do (:data:`HANDLING`).

**Health** (:func:`health_scores`) adds interpretable factors, each scored 0-1 and weighted
(:data:`HEALTH_WEIGHTS`); factors without data (no payments table, no cost) drop out and the
remaining weights are rescaled, so every score is out of 100. Each factor's points are
returned, and :func:`health_changes` says which factors moved the score between two runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.errors import UserInputError
from salesradar.models import labels as _labels
from salesradar.models.base import FloatArray
from salesradar.models.cadence import customer_rhythm
from salesradar.models.text import as_floats, join_text, number_text
from salesradar.workspace import data_day

IntArray = npt.NDArray[np.int64]

__all__ = [
    "HANDLING",
    "HEALTH_WEIGHTS",
    "TIER_NAMES",
    "assign_tiers",
    "health_changes",
    "health_scores",
]

# English, as the tables store them; both languages in salesradar.models.labels
TIER_NAMES = _labels.TIER_NAMES["en"]
HANDLING = _labels.HANDLING["en"]
HEALTH_WEIGHTS = {
    "rhythm": 0.30,
    "revenue_trend": 0.25,
    "breadth_trend": 0.15,
    "margin_trend": 0.10,
    "payment": 0.10,
    "contacts": 0.10,
}
_CONTACT_LEVELS = ("executive", "finance", "operations")




def _pct_rank(values: FloatArray, mask: npt.NDArray[np.bool_] | None = None) -> FloatArray:
    """Percentile rank in (0, 1] among ``mask`` (ties share the highest rank); NaN elsewhere,
    and everywhere when a ranked value is NaN.

    ``scipy.stats.rankdata(method="max")``, counted with numpy: a value's rank is how many
    ranked values are at most it. Importing scipy.stats (half a second) held the scoring lane
    while the churn lane imported it too."""
    out = np.full(len(values), np.nan)
    m = np.ones(len(values), dtype=bool) if mask is None else mask
    if m.any():
        ranked = values[m]
        if not np.isnan(ranked).any():  # scipy's rankdata: a NaN makes every rank NaN
            out[m] = np.searchsorted(np.sort(ranked), ranked, side="right") / m.sum()
    return out






def _window(lines: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Lines with start < invoice_date <= end."""
    day = lines.invoice_date.cast("date")
    return lines.filter((day > ibis.date(start)) & (day <= ibis.date(end)))


def _sales(lines: ir.Table, start: dt.date, end: dt.date, prefix: str) -> ir.Table:
    t = _window(lines, start, end)
    return t.group_by("customer_id").aggregate(**{  # exact sums, then floats
        f"{prefix}revenue": t.net_revenue.sum().cast("float64"),
        f"{prefix}cost": t.cost.sum().cast("float64"),
        f"{prefix}costed_revenue": t.net_revenue.sum(where=t.cost.notnull()).cast("float64"),
        f"{prefix}skus": t.sku.nunique(where=t.quantity > 0),
    })


# --------------------------------------------------------------------------------- tiers
def assign_tiers(
    ws: Any,
    as_of: dt.date | None = None,
    *,
    months: int = 12,
    a_share: float = 0.2,
    b_growth: float = 0.6,
) -> pa.Table:
    """ABCD tier per customer with the numbers behind it and the recommended handling.

    Parameters
    ----------
    ws
        A workspace; uses ``invoice_lines`` and, when they have rows, ``cost_to_serve`` and
        ``customers.potential``.
    as_of
        Last day of the window (default: the last invoice date).
    months
        Window length; the growth trend compares it with the window before.
    a_share
        Share of profitable customers that are A by the mean of their profit and fit
        percentiles; the top ``a_share / 2`` by profit alone are A too.
    b_growth
        Growth percentile from which a non-A customer is B. Growth is the annual wallet left
        (potential minus annualised revenue) ranked among customers with a potential, else the
        revenue trend ranked among customers without one; new customers (no revenue in the
        window before) have no trend and are not B.

    Returns
    -------
    pyarrow.Table
        ``customer_id, tier, tier_name, revenue, gross_profit, cost_to_serve, profit,
        potential, share_of_wallet, revenue_trend, skus, profit_pct, growth_pct, fit_pct,
        reason, handling`` and the same texts in Hebrew (``tier_name_he, reason_he,
        handling_he``), A first, then by profit.
    """
    if not 0 < a_share < 1 or not 0 < b_growth <= 1:
        raise UserInputError("a_share must be in (0, 1) and b_growth in (0, 1]")
    end = as_of or data_day(ws)
    start = end - dt.timedelta(days=round(months * 365.25 / 12))
    before = start - (end - start)
    lines = ws.table("invoice_lines")
    now = _sales(lines, start, end, "")
    prev = _sales(lines, before, start, "prev_").select("customer_id", "prev_revenue")
    cts = ws.table("cost_to_serve")
    cts = cts.filter((cts.period > ibis.date(start)) & (cts.period <= ibis.date(end)))
    cts = cts.group_by("customer_id").aggregate(cost_to_serve=cts.amount.sum().cast("float64"))
    customers = ws.table("customers").select("customer_id", "potential")
    # customers with sales or with cost to serve in the window (serving without selling is
    # the purest loss)
    base = now.select("customer_id").union(cts.select("customer_id"), distinct=True)
    joined = base.left_join(now, "customer_id").select(
        base, *[now[c] for c in now.columns if c != "customer_id"]
    )
    joined = joined.left_join(prev, "customer_id").select(joined, prev.prev_revenue)
    joined = joined.left_join(cts, "customer_id").select(joined, cts.cost_to_serve)
    joined = joined.left_join(customers, "customer_id").select(
        joined, customers.potential.cast("float64").name("potential")
    )
    data: pa.Table = joined.order_by("customer_id").to_pyarrow()
    ids = data["customer_id"]
    n = data.num_rows
    if n == 0:
        raise UserInputError(f"no invoice lines between {start} and {end}")
    revenue = np.nan_to_num(as_floats(data["revenue"]))
    has_cost = bool(np.nansum(as_floats(data["costed_revenue"])) > 0)
    cost = np.nan_to_num(as_floats(data["cost"]))
    gross_profit = revenue - cost if has_cost else revenue.copy()
    cost_to_serve = np.nan_to_num(as_floats(data["cost_to_serve"]))
    profit = gross_profit - cost_to_serve
    prev_revenue = np.nan_to_num(as_floats(data["prev_revenue"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = np.where(prev_revenue > 0, revenue / prev_revenue - 1.0, np.inf)
        potential = as_floats(data["potential"])
        has_potential = np.isfinite(potential) & (potential > 0)
        # potential is an annual wallet
        share = np.where(has_potential, revenue * 12.0 / months / potential, np.nan)
    skus = np.nan_to_num(as_floats(data["skus"]))

    loss = profit < 0
    profit_pct = _pct_rank(profit)
    fit_pct = (_pct_rank(revenue) + _pct_rank(skus)) / 2.0
    headroom = np.where(has_potential, np.maximum(potential - revenue * 12.0 / months, 0.0),
                        0.0)
    # without a potential, growth is the revenue trend; new customers have none (NaN: not B)
    by_trend = ~has_potential & np.isfinite(trend)
    growth_pct = np.where(
        has_potential, _pct_rank(headroom, has_potential), _pct_rank(trend, by_trend)
    )
    strategic = (profit_pct + fit_pct) / 2.0
    strategic_rank = _pct_rank(strategic, ~loss)
    # the very most profitable customers are strategic whatever their breadth
    top_profit = _pct_rank(profit, ~loss) > 1.0 - a_share / 2.0
    # the tiers as codes, 0-3 for A-D (the order of their letters)
    tier = np.where(
        loss, 3,
        np.where((strategic_rank > 1.0 - a_share) | top_profit, 0,
                 np.where(growth_pct >= b_growth, 1, 2)),
    )
    # the table's order (A first, then by profit) taken before the texts are made: each row's
    # words depend on its own numbers only, so they are made in that order and no text column
    # is reordered afterwards
    order = np.lexsort((-profit, tier))
    ids = ids.take(pa.array(order))
    tier, profit, cost_to_serve, skus, profit_pct = (
        tier[order], profit[order], cost_to_serve[order], skus[order], profit_pct[order])
    share, potential, trend, has_potential = (
        share[order], potential[order], trend[order], has_potential[order])
    revenue, gross_profit, growth_pct, fit_pct = (
        revenue[order], gross_profit[order], growth_pct[order], fit_pct[order])

    profit_words = "profit " if has_cost else "gross profit unknown (no cost); revenue "
    top = number_text(np.ceil(100.0 * (1.0 - profit_pct) + 100.0 / n))
    share_text = number_text(100.0 * np.nan_to_num(share))
    potential_text = number_text(np.nan_to_num(potential))
    trend_text = number_text(100.0 * np.nan_to_num(trend, posinf=0.0))
    potential_known, trend_known = pa.array(has_potential), pa.array(np.isfinite(trend))
    reason = join_text(
        profit_words, number_text(profit), " after ", number_text(cost_to_serve),
        " cost to serve (top ", top, "%); ", number_text(skus), " SKUs; ",
        pc.if_else(
            potential_known,
            join_text("share of wallet ", share_text, "% of ", potential_text, " potential"),
            pc.if_else(trend_known,
                       join_text("revenue ", trend_text, "% vs the ", str(months),
                                 " months before"),
                       pa.scalar("new customer (no revenue the period before)")),
        ),
    )
    profit_he = "רווח " if has_cost else "רווח גולמי לא ידוע (אין עלות); הכנסות "
    reason_he = join_text(
        profit_he, number_text(profit), " אחרי ", number_text(cost_to_serve),
        " עלות שירות (", top, "% העליונים); ", number_text(skus), " מק\"טים; ",
        pc.if_else(
            potential_known,
            join_text("נתח ארנק ", share_text, "% מתוך פוטנציאל ", potential_text),
            pc.if_else(trend_known,
                       join_text("הכנסות ", trend_text, "% לעומת ", str(months),
                                 " החודשים שלפני"),
                       pa.scalar("לקוח חדש (ללא הכנסות בתקופה הקודמת)")),
        ),
    )
    return pa.table({
        "customer_id": ids,
        "tier": _map(tier, {code: code for code in _TIERS}),
        "tier_name": _map(tier, TIER_NAMES),
        "revenue": revenue,
        "gross_profit": gross_profit,
        "cost_to_serve": cost_to_serve,
        "profit": profit,
        "potential": pa.array(np.where(has_potential, potential, np.nan), from_pandas=True),
        "share_of_wallet": pa.array(share, from_pandas=True),
        "revenue_trend": pa.array(np.where(np.isfinite(trend), trend, np.nan), from_pandas=True),
        "skus": skus.astype(np.int64),
        "profit_pct": profit_pct,
        "growth_pct": growth_pct,
        "fit_pct": fit_pct,
        "reason": reason,
        "handling": _map(tier, HANDLING),
        "tier_name_he": _map(tier, _labels.TIER_NAMES["he"]),
        "reason_he": reason_he,
        "handling_he": _map(tier, _labels.HANDLING["he"]),
    })


_TIERS = ("A", "B", "C", "D")  # the tier of each code of assign_tiers


def _map(codes: IntArray, mapping: dict[str, str]) -> pa.Array:
    """``mapping``'s value of each tier code's letter (:data:`_TIERS`): the few values taken
    by index, without making a text of every row's letter to look it up."""
    values = pa.array([mapping[code] for code in _TIERS], pa.string())
    result: pa.Array = values.take(pa.array(codes, pa.int64()))
    return result


# -------------------------------------------------------------------------------- health
def _days_between(later: Any, earlier: Any) -> ir.Value:
    return later.delta(earlier, unit="day").cast("float64")


def health_scores(
    ws: Any,
    as_of: dt.date | None = None,
    *,
    trend_days: int = 90,
    weights: dict[str, float] | None = None,
) -> pa.Table:
    """A 0-100 health score per customer from interpretable factors, with each one's points.

    Factors (each scored 0-1; see :data:`HEALTH_WEIGHTS` for the default weights):

    - ``rhythm``: days since the last order against the customer's typical gap between
      orders (the median gap of :mod:`salesradar.models.cadence`, the same number churn
      explanations and insights show): 1 while within the rhythm, falling linearly to 0 at
      4x the gap. A customer with fewer than three purchase days has no rhythm, so no health
      score: ``health`` is null and the explanation says why (never 100 for a one-time
      buyer, never an invented rhythm);
    - ``revenue_trend`` and ``breadth_trend``: revenue and distinct SKUs in the last
      ``trend_days`` against the ``trend_days`` before: ``clip(1 + log2(now / before), 0,
      1)`` -- 1 without decline, 0 at half or less (0 when nothing was bought lately);
    - ``margin_trend``: gross margin now minus before, 1 without decline, 0 at -10 points
      (needs cost);
    - ``payment``: mean days late over the last year (unpaid invoices count to ``as_of``),
      0 at 60 days (needs ``payments``);
    - ``contacts``: share of the executive, finance and operations levels with an activity
      in the last 90 days (needs ``contacts``).

    Returns
    -------
    pyarrow.Table
        ``customer_id, health`` and, per factor, ``<factor>_score`` and ``<factor>_points``
        (null when the factor has no data for the customer), plus ``weakest`` (the factor
        that cost most points), ``explanation`` (it, in words with numbers) and
        ``explanation_he`` (the same in Hebrew).
    """
    w = dict(HEALTH_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(HEALTH_WEIGHTS)
    if unknown:
        raise UserInputError(f"unknown health factor(s) {sorted(unknown)}; "
                             f"known: {sorted(HEALTH_WEIGHTS)}")
    end = as_of or data_day(ws)
    mid = end - dt.timedelta(days=trend_days)
    start = mid - dt.timedelta(days=trend_days)
    from salesradar.models.churn import shared_customer_terms

    lines = ws.table("invoice_lines")
    # the one rhythm definition (median gap); it reads only days up to ``end`` itself, and from
    # the whole lines table it reads the refresh's shared customer-days (sharing_customer_days);
    # the churn scores of the refresh computed it already when they are done: read from there
    shared = shared_customer_terms(ws, end)
    terms = customer_rhythm(lines, end) if shared is None else ibis.memtable(shared.select(
        ["customer_id", "purchase_days", "typical_gap_days", "days_since_last_order"]))
    lines = lines.filter(lines.invoice_date.cast("date") <= ibis.date(end))
    rhythm = terms.select(
        "customer_id",
        purchase_days=terms.purchase_days,
        gap=terms.typical_gap_days,
        recency=terms.days_since_last_order.cast("float64"),
    )
    now = _sales(lines, mid, end, "")
    before = _sales(lines, start, mid, "b_")
    t = rhythm.left_join(now, "customer_id").select(
        rhythm, now.revenue, now.cost, now.costed_revenue, now.skus
    )
    t = t.left_join(before, "customer_id").select(
        t, before.b_revenue, before.b_cost, before.b_costed_revenue, before.b_skus
    )
    pay = ws.table("payments")
    pay = pay.filter(pay.due_date.notnull() & (pay.due_date > ibis.date(end - dt.timedelta(365)))
                     & (pay.due_date <= ibis.date(end)))
    paid = pay.paid_date.fill_null(ibis.date(end))
    late = ibis.greatest(_days_between(paid, pay.due_date), 0.0)
    pay = pay.mutate(late=late).group_by("customer_id").aggregate(days_late=ibis._.late.mean())
    t = t.left_join(pay, "customer_id").select(t, pay.days_late)
    contacts = ws.table("contacts")
    recent = contacts.filter(
        contacts.level.isin(list(_CONTACT_LEVELS))
        & (contacts.last_activity_at.cast("date") > ibis.date(end - dt.timedelta(90)))
    )
    levels = recent.group_by("customer_id").aggregate(levels=recent.level.nunique())
    t = t.left_join(levels, "customer_id").select(t, levels.levels)
    data: pa.Table = t.order_by("customer_id").to_pyarrow()
    has_payments = ws.table("payments").count().execute() > 0
    has_contacts = ws.table("contacts").count().execute() > 0
    return _score(data, w, has_payments, has_contacts, trend_days)


def _trend_score(now: FloatArray, before: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(before > 0, now / before, np.inf)
        score = np.clip(1.0 + np.log2(ratio), 0.0, 1.0)
    result: FloatArray = np.where(now > 0, score, 0.0)
    return result


def _score(
    data: pa.Table, weights: dict[str, float], has_payments: bool, has_contacts: bool,
    trend_days: int,
) -> pa.Table:
    n = data.num_rows
    gap, recency = as_floats(data["gap"]), as_floats(data["recency"])
    # no rhythm (fewer than three purchase days): no health score at all, said as such
    known = np.isfinite(gap)
    ratio = recency / np.maximum(np.where(known, gap, 1.0), 1.0)
    scores: dict[str, FloatArray] = {
        "rhythm": np.where(known, np.clip(1.0 - (ratio - 1.0) / 3.0, 0.0, 1.0), np.nan)}

    revenue, b_revenue = np.nan_to_num(as_floats(data["revenue"])), np.nan_to_num(
        as_floats(data["b_revenue"]))
    skus, b_skus = np.nan_to_num(as_floats(data["skus"])), np.nan_to_num(as_floats(data["b_skus"]))
    scores["revenue_trend"] = _trend_score(revenue, b_revenue)
    scores["breadth_trend"] = _trend_score(skus, b_skus)
    costed, b_costed = as_floats(data["costed_revenue"]), as_floats(data["b_costed_revenue"])
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = (costed - as_floats(data["cost"])) / costed
        b_margin = (b_costed - as_floats(data["b_cost"])) / b_costed
    margin_ok = (costed > 0) & (b_costed > 0)
    delta_margin = np.where(margin_ok, margin - b_margin, np.nan)
    scores["margin_trend"] = np.clip(1.0 + delta_margin / 0.10, 0.0, 1.0)
    days_late = as_floats(data["days_late"])
    scores["payment"] = np.clip(1.0 - days_late / 60.0, 0.0, 1.0) if has_payments \
        else np.full(n, np.nan)
    levels = np.nan_to_num(as_floats(data["levels"]))
    scores["contacts"] = levels / len(_CONTACT_LEVELS) if has_contacts else np.full(n, np.nan)

    names = [f for f in HEALTH_WEIGHTS if weights.get(f, 0.0) > 0]
    matrix = np.column_stack([scores[f] for f in names]) if names else np.zeros((n, 0))
    wvec = np.array([weights[f] for f in names])
    available = np.isfinite(matrix)
    total = (available * wvec).sum(axis=1)
    scale = np.where(total > 0, 100.0 / np.where(total > 0, total, 1.0), 0.0)
    points = np.where(available, matrix * wvec * scale[:, None], np.nan)
    lost = np.where(available, (1.0 - matrix) * wvec * scale[:, None], -1.0)
    health = np.where(known, np.nansum(points, axis=1), np.nan)

    # each factor's words, of the rows given (each row's words depend on its numbers only)
    texts: dict[str, Callable[[IntArray], pa.Array]] = {
        "rhythm": lambda r: join_text("orders every ~", number_text(gap[r]), " days; last order ",
                                      number_text(recency[r]), " days ago"),
        "revenue_trend": lambda r: join_text("revenue ", number_text(revenue[r]), " in the last ",
                                             str(trend_days), " days vs ",
                                             number_text(b_revenue[r]), " before"),
        "breadth_trend": lambda r: join_text(number_text(skus[r]), " SKUs in the last ",
                                             str(trend_days), " days vs ",
                                             number_text(b_skus[r]), " before"),
        "margin_trend": lambda r: join_text(
            "gross margin ", number_text(100 * np.nan_to_num(margin[r]), 1), "% vs ",
            number_text(100 * np.nan_to_num(b_margin[r]), 1), "% before"),
        "payment": lambda r: join_text("pays ", number_text(days_late[r]),
                                       " days late on average"),
        "contacts": lambda r: join_text(number_text(levels[r]), " of 3 levels (executive, "
                                        "finance, operations) in touch in the last 90 days"),
    }
    texts_he: dict[str, Callable[[IntArray], pa.Array]] = {
        "rhythm": lambda r: join_text("מזמין כל ~", number_text(gap[r]),
                                      " יום; הזמנה אחרונה לפני ", number_text(recency[r]),
                                      " יום"),
        "revenue_trend": lambda r: join_text("הכנסות ", number_text(revenue[r]), " ב-",
                                             str(trend_days), " הימים האחרונים לעומת ",
                                             number_text(b_revenue[r]), " לפני כן"),
        "breadth_trend": lambda r: join_text(number_text(skus[r]), " מק\"טים ב-",
                                             str(trend_days), " הימים האחרונים לעומת ",
                                             number_text(b_skus[r]), " לפני כן"),
        "margin_trend": lambda r: join_text(
            "רווח גולמי ", number_text(100 * np.nan_to_num(margin[r]), 1), "% לעומת ",
            number_text(100 * np.nan_to_num(b_margin[r]), 1), "% לפני כן"),
        "payment": lambda r: join_text("משלם באיחור של ", number_text(days_late[r]),
                                       " יום בממוצע"),
        "contacts": lambda r: join_text(number_text(levels[r]), " מתוך 3 דרגים (בכיר, כספים, "
                                        "תפעול) בקשר ב-90 הימים האחרונים"),
    }
    columns: dict[str, Any] = {"customer_id": data["customer_id"],
                               "health": pa.array(np.round(health, 1), from_pandas=True)}
    for j, f in enumerate(names):
        columns[f"{f}_score"] = pa.array(matrix[:, j], from_pandas=True)
        columns[f"{f}_points"] = pa.array(points[:, j], from_pandas=True)
    if names:
        worst = np.argmax(lost, axis=1)
        columns["weakest"] = pa.array(np.array(names)[worst])
        young = pa.array(~known)
        columns["weakest"] = pc.if_else(young, pa.scalar(None, pa.string()), columns["weakest"])
        purchase_days = np.nan_to_num(as_floats(data["purchase_days"]))
        # the weakest factor's words, or why there is no score (too few purchase days)
        groups = np.where(known, worst, len(names))
        columns["explanation"] = _words_by_group(groups, [texts[f] for f in names] + [
            lambda r: join_text("no health score yet: bought on ",
                                number_text(purchase_days[r]), " day(s); a rhythm needs 3")])
        columns["explanation_he"] = _words_by_group(groups, [texts_he[f] for f in names] + [
            lambda r: join_text("אין עדיין ציון בריאות: קנה ב-", number_text(purchase_days[r]),
                                " ימים; קצב דורש 3")])
    else:
        columns["weakest"] = pa.nulls(n, pa.string())
        columns["explanation"] = pa.nulls(n, pa.string())
        columns["explanation_he"] = pa.nulls(n, pa.string())
    return pa.table(columns)


def _words_by_group(groups: IntArray, words: list[Callable[[IntArray], pa.Array]]) -> pa.Array:
    """Each row's words by ``words[groups[row]]`` (a function of the rows it words), each made
    for the rows of its group only: the texts of one factor per row, not of every factor for
    every row to pick one from."""
    rows = [np.flatnonzero(groups == g) for g in range(len(words))]
    parts = pa.concat_arrays([words[g](r) for g, r in enumerate(rows)])
    order = np.empty(len(groups), dtype=np.int64)  # each row's place among the parts
    order[np.concatenate(rows)] = np.arange(len(groups), dtype=np.int64)
    result: pa.Array = parts.take(pa.array(order))
    return result


def health_changes(
    previous_scores: pa.Table, current_scores: pa.Table, *, min_points: float = 0.5
) -> pa.Table:
    """Which factors moved each customer's health since the last run.

    Parameters
    ----------
    previous_scores, current_scores
        Two results of :func:`health_scores`.
    min_points
        Factor moves smaller than this (in points) are not named.

    Returns
    -------
    pyarrow.Table
        ``customer_id, health_before, health_now, change``, one ``<factor>_change`` column per
        factor (points), ``main_factor`` and ``moved`` (e.g. ``"revenue_trend -10,
        rhythm -7.5"``), largest drop first. Customers in only one run are left out.
    """
    factors = [c.removesuffix("_points") for c in current_scores.column_names
               if c.endswith("_points") and c in previous_scores.column_names]
    cols = ["customer_id", "health", *[f"{f}_points" for f in factors]]
    before = previous_scores.select(cols).rename_columns(
        ["customer_id", *[f"{c}__before" for c in cols[1:]]])
    joined = current_scores.select(cols).join(before, "customer_id", join_type="inner")
    joined = joined.sort_by("customer_id")
    n = joined.num_rows
    delta = np.column_stack([
        np.nan_to_num(as_floats(joined[f"{f}_points"])) - np.nan_to_num(
            as_floats(joined[f"{f}_points__before"]))
        for f in factors
    ]) if factors else np.zeros((n, 0))
    change = as_floats(joined["health"]) - as_floats(joined["health__before"])
    columns: dict[str, Any] = {
        "customer_id": joined["customer_id"],
        "health_before": joined["health__before"],
        "health_now": joined["health"],
        "change": np.round(change, 1),
    }
    for j, f in enumerate(factors):
        columns[f"{f}_change"] = np.round(delta[:, j], 1)
    if factors:
        order = np.argsort(-np.abs(delta), axis=1, kind="stable")
        names = np.array(factors)
        texts, valid = [], []
        for slot in range(min(2, len(factors))):  # the two biggest movers, each vectorized
            col = order[:, slot]
            moved = np.take_along_axis(delta, col[:, None], axis=1).ravel()
            signed = pc.cast(pa.array(np.round(moved, 1)), pa.string())
            texts.append(join_text(pa.array(names[col]), " ",
                               pc.if_else(pa.array(moved > 0), join_text("+", signed), signed)))
            valid.append(np.abs(moved) >= min_points)
        # sorted by size: when the first mover is below min_points, so is the second
        text = texts[0]
        if len(texts) > 1:
            text = pc.if_else(pa.array(valid[1]), join_text(text, ", ", texts[1]), text)
        no_text = pa.array([None] * n, pa.string())
        columns["main_factor"] = pc.if_else(pa.array(valid[0]), pa.array(names[order[:, 0]]),
                                            no_text)
        columns["moved"] = pc.if_else(pa.array(valid[0]), text, no_text)
    table = pa.table(columns)
    return table.take(pa.array(np.argsort(change, kind="stable")))
