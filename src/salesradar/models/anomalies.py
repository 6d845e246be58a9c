"""Anomalies: drops that seasonality does not explain, and where the margin went.

**Drops** (:func:`detect_anomalies`, core :func:`seasonal_drops`). For each group (rep, region,
channel or the whole company) and month, the expected value is the same month last year scaled
by the recent trend::

    expected(m) = value(m - 12) * sum(value[m-3 .. m-1]) / sum(value[m-15 .. m-13])

so a December dip that happens every year is expected, and a business that grew 10% is expected
10% higher. The residual is ``log(value / expected)``; its robust spread is 1.4826 x the median
absolute deviation of the group's own past residuals (at least ``min_sd``). A month is flagged
when its residual is more than ``k`` robust standard deviations below the group's typical
residual *and* the value is at least ``min_drop`` below expectation. With less than 15 months
of history the baseline is the median of the previous 6 months (seasonality not removed; the
``method`` column says so).

**Margin erosion** (:func:`margin_erosion`). The change of gross margin (gross profit ÷ revenue)
between two periods, split over products, customers or channels::

    margin_to - margin_from = sum_i (GP_to,i / R_to - GP_from,i / R_from)

Each item's part is the difference of its gross-profit share of total revenue; it splits further
into a *rate* effect ``s_to,i * (m_to,i - m_from,i)`` (the item's own margin moved; items sold in
both periods) and a *mix* effect (the rest: the item's share of revenue moved, items new or
lost). Parts sum exactly to the total change, so "which SKUs explain the drop" is a sort.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.errors import UserInputError
from salesradar.models.base import FloatArray
from salesradar.models.text import as_floats, join_text, number_text
from salesradar.workspace import data_day

__all__ = ["detect_anomalies", "margin_erosion", "seasonal_drops"]

Metric = Literal["revenue", "active_customers"]
_DIMENSIONS = {"rep": "rep_id", "rep_id": "rep_id", "region": "region", "channel": "channel",
               "company": None}
_MARGIN_GROUPS = {"product": "sku", "customer": "customer_id", "channel": "channel"}
_SEASON = 12
_TREND = 3
_LEVEL = 6
_MAD_TO_SD = 1.4826


def seasonal_drops(
    values: Any,
    evaluate: Any,
    *,
    k: float = 3.0,
    min_drop: float = 0.1,
    min_sd: float = 0.05,
    min_history: int = 6,
) -> dict[str, Any]:
    """Expected value, robust z and flag for chosen months of monthly series.

    Parameters
    ----------
    values
        Groups x months array of non-negative monthly values (oldest month first, no gaps).
    evaluate
        Month indices (columns) to judge.
    k
        Flag when the residual is more than ``k`` robust standard deviations below typical.
    min_drop
        ...and the value is at least this share below the expected value.
    min_sd
        Floor of the robust standard deviation of log residuals (0.05 = 5%).
    min_history
        Past residuals needed to judge a month; fewer gives NaN z and no flag.

    Returns
    -------
    dict
        ``expected, residual, z, sd, flagged`` (groups x len(evaluate) arrays) and
        ``seasonal`` (bool per evaluated month: the year-ago baseline was used).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise UserInputError("values must be a groups x months array")
    cols = np.asarray(evaluate, dtype=np.int64)
    groups, months = v.shape
    csum = np.concatenate([np.zeros((groups, 1)), np.cumsum(v, axis=1)], axis=1)

    def window_sum(end: npt.NDArray[np.int64], length: int) -> FloatArray:
        """Sum of the ``length`` months before column ``end`` (exclusive), per group."""
        result: FloatArray = csum[:, end] - csum[:, end - length]
        return result

    all_months = np.arange(months)
    seasonal = months > _SEASON + _TREND
    if seasonal:
        ok = all_months >= _SEASON + _TREND
        idx = np.where(ok, all_months, _SEASON + _TREND)
        recent = window_sum(idx, _TREND)
        year_ago = window_sum(idx - _SEASON, _TREND)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(year_ago > 0, recent / year_ago, 1.0)
        expected = v[:, idx - _SEASON] * growth
    else:
        ok = all_months >= _LEVEL
        idx = np.where(ok, all_months, _LEVEL)
        # median of the previous 6 months, for every month at once
        stacked = np.stack([v[:, idx - j] for j in range(1, _LEVEL + 1)], axis=2)
        expected = np.median(stacked, axis=2)
    expected[:, ~ok] = np.nan
    scale = np.nanmedian(np.where(v > 0, v, np.nan), axis=1, keepdims=True)
    eps = 0.01 * np.nan_to_num(scale, nan=1.0) + 1e-12
    with np.errstate(invalid="ignore"):
        residual = np.log((v + eps) / (expected + eps))
    z = np.full((groups, len(cols)), np.nan)
    sd = np.full((groups, len(cols)), np.nan)
    for j, col in enumerate(cols):  # a few evaluated months; each step vectorized over groups
        past = residual[:, :col]
        enough = np.isfinite(past).sum(axis=1) >= min_history
        if not enough.any():
            continue
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            # groups without history give NaN on purpose ("All-NaN slice")
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            centre = np.nanmedian(past, axis=1)
            mad = np.nanmedian(np.abs(past - centre[:, None]), axis=1)
        spread = np.maximum(_MAD_TO_SD * mad, min_sd)
        z[enough, j] = ((residual[:, col] - centre) / spread)[enough]
        sd[enough, j] = spread[enough]
    exp_eval = expected[:, cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(exp_eval > 0, v[:, cols] / exp_eval - 1.0, np.nan)
    flagged = (z < -k) & (change <= -min_drop)
    return {
        "expected": exp_eval,
        "residual": residual[:, cols],
        "z": z,
        "sd": sd,
        "change": change,
        "flagged": flagged,
        "seasonal": seasonal,
    }


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.month - 1 + n, 12)
    return dt.date(day.year + y, m + 1, 1)


def _monthly(ws: Any, dimension: str | None, metric: Metric, end: dt.date) -> ir.Table:
    lines = ws.table("invoice_lines")
    day = lines.invoice_date.cast("date")
    lines = lines.mutate(month=day.truncate("M")).filter(day < ibis.date(end))
    if dimension == "region":
        customers = ws.table("customers").select("customer_id", "region")
        lines = lines.left_join(customers, "customer_id").select(lines, customers.region)
    group = lines[dimension].cast("string").fill_null("(none)") if dimension \
        else ibis.literal("all")
    lines = lines.mutate(group=group)
    per_customer = lines.group_by(["group", "month", "customer_id"]).aggregate(
        revenue=lines.net_revenue.sum().cast("float64")
    )
    if metric == "revenue":
        out = per_customer.group_by(["group", "month"]).aggregate(
            value=per_customer.revenue.sum())
    else:
        out = per_customer.group_by(["group", "month"]).aggregate(
            value=(per_customer.revenue > 0).sum().cast("float64"))
    return out


def detect_anomalies(
    ws: Any,
    by: str = "rep",
    metric: Metric = "revenue",
    *,
    as_of: dt.date | None = None,
    months: int = 1,
    k: float = 3.0,
    min_drop: float = 0.1,
    min_sd: float = 0.05,
    only_flagged: bool = True,
) -> pa.Table:
    """Drops in revenue or active customers per rep/region/channel beyond seasonality.

    Parameters
    ----------
    ws
        A workspace (``invoice_lines``; ``customers.region`` for ``by="region"``).
    by
        ``"rep"``, ``"region"``, ``"channel"`` or ``"company"``.
    metric
        ``"revenue"`` or ``"active_customers"`` (customers with net revenue > 0 in the month).
    as_of
        The last complete month on or before this date is judged (default: last invoice date).
    months
        How many of the latest complete months to judge.
    k, min_drop, min_sd
        See :func:`seasonal_drops`.
    only_flagged
        Return only flagged rows (else every group and judged month).

    Returns
    -------
    pyarrow.Table
        ``dimension, group, month, metric, value, expected, change, z, method, flagged,
        explanation``, worst first.
    """
    if by not in _DIMENSIONS:
        raise UserInputError(f"by must be one of {', '.join(_DIMENSIONS)}, not {by!r}")
    if metric not in ("revenue", "active_customers"):
        raise UserInputError(f"metric must be 'revenue' or 'active_customers', not {metric!r}")
    day = as_of or data_day(ws)
    # the month containing `day` is complete only when `day` is its last day
    next_day = day + dt.timedelta(days=1)
    end = _month_start(next_day) if next_day.day == 1 else _month_start(day)
    dimension = _DIMENSIONS[by]
    data: pa.Table = _monthly(ws, dimension, metric, end).to_pyarrow()
    if data.num_rows == 0:
        return _empty()
    groups = pc.unique(pc.cast(data["group"], pa.string())).sort()
    month_values = pc.cast(data["month"], pa.date32()).to_numpy(zero_copy_only=False)
    month_num = month_values.astype("datetime64[M]").astype(np.int64)
    first, last = int(month_num.min()), int((np.datetime64(end, "M") - 1).astype(np.int64))
    n_months = last - first + 1
    row = pc.index_in(pc.cast(data["group"], pa.string()), value_set=groups).to_numpy()
    matrix = np.zeros((len(groups), n_months))
    np.add.at(matrix, (row, month_num - first), as_floats(data["value"]))
    cols = np.arange(max(n_months - months, 0), n_months)
    result = seasonal_drops(matrix, cols, k=k, min_drop=min_drop, min_sd=min_sd)
    g_idx = np.repeat(np.arange(len(groups)), len(cols))
    m_idx = np.tile(np.arange(len(cols)), len(groups))
    flagged = result["flagged"].ravel()
    keep = flagged if only_flagged else np.ones(len(flagged), dtype=bool)
    g_idx, m_idx = g_idx[keep], m_idx[keep]
    month_of = (np.datetime64("1970-01", "M") + first + cols[m_idx]).astype("datetime64[D]")
    value = matrix[g_idx, cols[m_idx]]
    expected = result["expected"][g_idx, m_idx]
    change = result["change"][g_idx, m_idx]
    z = result["z"][g_idx, m_idx]
    method = ("same month last year x recent trend" if result["seasonal"]
              else "median of the previous 6 months (under 15 months of history: "
                   "seasonality not removed)")
    label = "revenue" if metric == "revenue" else "active customers"
    month_text = pc.strftime(pa.array(month_of, pa.date32()).cast(pa.timestamp("s")),
                             format="%Y-%m")
    explanation = join_text(
        label, " ", number_text(value), " in ", month_text, " vs ", number_text(expected),
        " expected (", number_text(100 * change), "%), ", number_text(-z, 1),
        " robust SDs below the usual; ", method,
    )
    n = len(g_idx)
    table = pa.table({
        "dimension": pa.array([by] * n, pa.string()),
        "group": groups.take(pa.array(g_idx)),
        "month": pa.array(month_of, pa.date32()),
        "metric": pa.array([metric] * n, pa.string()),
        "value": value,
        "expected": expected,
        "change": pa.array(change, from_pandas=True),
        "z": pa.array(z, from_pandas=True),
        "method": pa.array([method] * n, pa.string()),
        "flagged": flagged[keep],
        "explanation": explanation,
    })
    return table.take(pa.array(np.argsort(np.nan_to_num(z, nan=np.inf), kind="stable")))


def _empty() -> pa.Table:
    return pa.table({
        "dimension": pa.array([], pa.string()), "group": pa.array([], pa.string()),
        "month": pa.array([], pa.date32()), "metric": pa.array([], pa.string()),
        "value": pa.array([], pa.float64()), "expected": pa.array([], pa.float64()),
        "change": pa.array([], pa.float64()), "z": pa.array([], pa.float64()),
        "method": pa.array([], pa.string()), "flagged": pa.array([], pa.bool_()),
        "explanation": pa.array([], pa.string()),
    })








# ------------------------------------------------------------------------ margin erosion
def margin_erosion(
    ws: Any,
    before: tuple[dt.date, dt.date],
    after: tuple[dt.date, dt.date],
    by: str = "product",
) -> pa.Table:
    """Which products, customers or channels explain the change of gross margin.

    Parameters
    ----------
    ws
        A workspace whose ``invoice_lines`` have ``cost`` (lines without cost are left out).
    before, after
        ``(start, end)`` date ranges, end exclusive.
    by
        ``"product"``, ``"customer"`` or ``"channel"``.

    Returns
    -------
    pyarrow.Table
        One row per group: ``group, revenue_before, revenue_after, margin_before,
        margin_after, contribution`` (margin points this group adds to the total change),
        ``rate_effect, mix_effect, share_of_change``; the biggest negative contribution
        first. ``contribution`` sums exactly to the total margin change; the metadata key
        ``total_change`` holds it.
    """
    if by not in _MARGIN_GROUPS:
        raise UserInputError(f"by must be one of {', '.join(_MARGIN_GROUPS)}, not {by!r}")
    column = _MARGIN_GROUPS[by]
    lines = ws.table("invoice_lines")
    day = lines.invoice_date.cast("date")
    in_a = (day >= ibis.date(before[0])) & (day < ibis.date(before[1]))
    in_b = (day >= ibis.date(after[0])) & (day < ibis.date(after[1]))
    t = lines.filter((in_a | in_b) & lines.cost.notnull())
    revenue, cost = t.net_revenue, t.cost  # exact sums, then floats
    agg = t.group_by(t[column].cast("string").fill_null("(none)").name("group")).aggregate(
        r0=revenue.sum(where=in_a).cast("float64"), c0=cost.sum(where=in_a).cast("float64"),
        r1=revenue.sum(where=in_b).cast("float64"), c1=cost.sum(where=in_b).cast("float64"),
    ).order_by("group")
    data: pa.Table = agg.to_pyarrow()
    r0, c0, r1, c1 = (np.nan_to_num(as_floats(data[c])) for c in ("r0", "c0", "r1", "c1"))
    parts = margin_parts(r0, c0, r1, c1)
    total = parts.pop("total_change")
    table = pa.table({"group": data["group"], "revenue_before": r0, "revenue_after": r1,
                      **{k: pa.array(v, from_pandas=True) for k, v in parts.items()}})
    order = np.argsort(parts["contribution"], kind="stable")
    table = table.take(pa.array(order))
    return table.replace_schema_metadata({"total_change": repr(float(total[0]))})


def margin_parts(r0: FloatArray, c0: FloatArray, r1: FloatArray, c1: FloatArray
                 ) -> dict[str, FloatArray]:
    """Exact decomposition of the margin change over items (arrays per item).

    Returns ``margin_before, margin_after`` (per item, NaN without revenue),
    ``contribution, rate_effect, mix_effect, share_of_change`` and ``total_change`` (the
    total margin change, repeated).
    """
    total_r0, total_r1 = float(r0.sum()), float(r1.sum())
    if total_r0 <= 0 or total_r1 <= 0:
        raise UserInputError("both periods need positive revenue with cost")
    gp0, gp1 = r0 - c0, r1 - c1
    with np.errstate(divide="ignore", invalid="ignore"):
        m0 = np.where(r0 != 0, gp0 / r0, np.nan)
        m1 = np.where(r1 != 0, gp1 / r1, np.nan)
    contribution = gp1 / total_r1 - gp0 / total_r0
    both = (r0 != 0) & (r1 != 0)
    rate = np.where(both, (r1 / total_r1) * (np.nan_to_num(m1) - np.nan_to_num(m0)), 0.0)
    total = gp1.sum() / total_r1 - gp0.sum() / total_r0
    share = contribution / total if total != 0 else np.full(len(r0), np.nan)
    return {
        "margin_before": m0, "margin_after": m1, "contribution": contribution,
        "rate_effect": rate, "mix_effect": contribution - rate, "share_of_change": share,
        "total_change": np.full(len(r0), total),
    }
