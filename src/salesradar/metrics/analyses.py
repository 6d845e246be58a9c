"""Analyses that are tables rather than single numbers: the whale curve and price-volume-mix.

**Whale curve.** Customers ranked by profitability (gross profit − cost to serve over the selected
range), best first, with the cumulative profit; the *peak* is the rank where cumulative profit is
highest (the classic finding: 20% of customers make 120% of the profit, the rest destroy some).

**Price-volume-mix.** The change of revenue between period A and period B, per item (an item is a
SKU within a group: a product, a customer × SKU or a channel × SKU), split as

* volume = R_A,i × (Q_B / Q_A − 1)   — every item growing with total volume, at A's price;
* price  = (p_B,i − p_A,i) × q_B,i    — only for items sold in both periods;
* mix    = ΔR_i − price − volume     — the rest: the shift between items, new and lost items.

For gross profit, cost = −(u_B,i − u_A,i) × q_B,i (u = unit cost, items sold in both periods),
volume = GP_A,i × (Q_B / Q_A − 1), price as above and mix the rest. Effects therefore sum to the
total change by construction. Item effects are summed per group.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics.catalog._common import f64
from salesradar.metrics.catalog.profitability import _profitability
from salesradar.metrics.fiscal import parse_quarter
from salesradar.metrics.frame import Query, last_whole, shift_date
from salesradar.metrics.registry import GRAINS, Grain

PVM_GROUPS = {"product": "sku", "customer": "customer_id", "channel": "channel"}


def whale_curve(
    backend: Any, start: date | None = None, end: date | None = None, *, persist: bool = True
) -> pa.Table:
    """Customers by profitability with cumulative profit and the peak (customers whose profit
    is unknown, their lines lacking a cost, are left out).

    Columns: ``rank`` (1 = most profitable), ``customer_id``, ``profit``, ``cumulative_profit``,
    ``customer_share`` (rank ÷ customers), ``cumulative_profit_share`` (÷ total profit; null when
    the total is 0) and ``is_peak``.
    """
    q = Query(backend, ("customer",), None, start, end)
    per = _profitability(q)
    per = per.filter(per.value.notnull())  # customers whose profit is unknown (no cost)
    order = [ibis.desc(per.value), per.customer_id]
    w = ibis.window(order_by=order)
    curve = per.select(
        rank=ibis.row_number().over(w) + 1,
        customer_id=per.customer_id,
        profit=f64(per.value),
        cumulative_profit=f64(per.value).sum().over(
            ibis.window(order_by=order, preceding=None, following=0)
        ),
    ).order_by("rank")
    if persist:
        if "mart_whale_curve" in table_names(backend):
            backend.drop_table("mart_whale_curve")
        backend.create_table("mart_whale_curve", curve)
        curve = backend.table("mart_whale_curve").order_by("rank")
    table: pa.Table = curve.to_pyarrow()
    cum = table["cumulative_profit"].to_numpy(zero_copy_only=False)
    n = len(cum)
    total = cum[-1] if n else 0.0
    peak = np.zeros(n, dtype=bool)
    if n:
        peak[int(np.argmax(cum))] = True
    share = pa.array(np.arange(1, n + 1) / n if n else np.array([]), pa.float64())
    cum_share = pa.array(cum / total if total else np.full(n, np.nan), pa.float64(),
                         from_pandas=True)
    table = table.append_column("customer_share", share)
    table = table.append_column("cumulative_profit_share", cum_share)
    return table.append_column("is_peak", pa.array(peak))


def whale_summary(curve: pa.Table) -> dict[str, Any]:
    """The peak of a whale curve: where it is, and how much profit the rest gives back."""
    if curve.num_rows == 0:
        return {"customers": 0, "total_profit": 0.0, "peak_rank": None}
    cum = curve["cumulative_profit"].to_numpy(zero_copy_only=False)
    i = int(np.argmax(cum))
    return {
        "customers": curve.num_rows,
        "total_profit": float(cum[-1]),
        "peak_rank": i + 1,
        "peak_customer_share": (i + 1) / curve.num_rows,
        "peak_profit": float(cum[i]),
        "peak_profit_share": float(cum[i] / cum[-1]) if cum[-1] else None,
    }


_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str | date, grain: Grain | None = None) -> tuple[date, Grain]:
    """``"2024-03"``, ``"2024-Q1"``, ``"2024"`` or an ISO date (+ ``grain``) -> (start, grain)."""
    if isinstance(text, date):
        return text, grain or "month"
    s = text.strip()
    if m := _QUARTER.match(s):  # fiscal quarters: Q1 starts in the company's fiscal month
        return parse_quarter(int(m[1]), int(m[2])), "quarter"
    if m := _MONTH.match(s):
        return date(int(m[1]), int(m[2]), 1), "month"
    if m := _YEAR.match(s):
        return parse_quarter(int(m[1]), None), "year"
    try:
        return date.fromisoformat(s), grain or "month"
    except ValueError:
        raise UserInputError(
            f"cannot read period {text!r}; write 2024-03, 2024-Q1, 2024 or 2024-03-01"
        ) from None


def _check_spans(t: Any, *periods: tuple[date, date, str | date, str]) -> None:
    """Refuse a period the data end inside: 10 months of 2026 against 12 of 2025 would read the
    missing months as a fall in volume."""
    last = t.invoice_date.max().to_pyarrow().as_py()
    if last is None:
        return
    last = _day(last)
    for start, after, text, option in periods:
        days = (after - start).days
        held = min(days, (last - start).days + 1)
        if 0 < held < days:
            raise UserInputError(
                f"{option} {text} is not whole in the data: they end on {last:%d/%m/%Y}, "
                f"{held} of its {days} days; compared with a whole period the missing days "
                "would read as lost volume. Compare two periods the data cover whole (the last "
                f"whole month is {last_whole(last, 'month'):%Y-%m})."
            )


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def price_volume_mix(
    backend: Any,
    from_period: str | date,
    to_period: str | date,
    by: str = "product",
    grain: Grain | None = None,
) -> pa.Table:
    """Revenue and gross-profit change from ``from_period`` to ``to_period`` split into effects.

    Returns one row per group value (``sku``, ``customer_id`` or ``channel``) with
    ``revenue_from, revenue_to, revenue_change, price_effect, volume_effect, mix_effect`` and
    ``gross_profit_from, gross_profit_to, gross_profit_change, gp_price_effect, gp_volume_effect,
    gp_mix_effect, gp_cost_effect``, largest revenue change first.
    """
    if by not in PVM_GROUPS:
        raise UserInputError(f"pvm --by must be one of {', '.join(PVM_GROUPS)}, not {by!r}")
    if grain is not None and grain not in GRAINS:
        raise UserInputError(f"unknown period {grain!r}")
    a, ga = parse_period(from_period, grain)
    b, gb = parse_period(to_period, grain)
    if ga != gb:
        raise UserInputError(f"--from-period is a {ga} but --to-period is a {gb}")
    a_end, b_end = shift_date(a, ga), shift_date(b, gb)
    t = backend.table("invoice_lines")
    _check_spans(t, (a, a_end, from_period, "--from-period"), (b, b_end, to_period, "--to-period"))
    in_a = (t.invoice_date >= ibis.date(a)) & (t.invoice_date < ibis.date(a_end))
    in_b = (t.invoice_date >= ibis.date(b)) & (t.invoice_date < ibis.date(b_end))
    t = t.filter(in_a | in_b)
    group = PVM_GROUPS[by]
    keys = [group] if group == "sku" else [group, "sku"]
    cost = f64(t.cost.fill_null(0))
    items = t.group_by(keys).aggregate(
        q0=f64(t.quantity).sum(where=in_a), r0=f64(t.net_revenue).sum(where=in_a),
        c0=cost.sum(where=in_a), q1=f64(t.quantity).sum(where=in_b),
        r1=f64(t.net_revenue).sum(where=in_b), c1=cost.sum(where=in_b),
    ).to_pyarrow()
    effects = _effects({k: _np(items[k]) for k in ("q0", "r0", "c0", "q1", "r1", "c1")})
    table = pa.table({group: items[group], **{k: pa.array(v) for k, v in effects.items()}})
    out = table.group_by(group).aggregate([(k, "sum") for k in effects])
    out = out.rename_columns([c.removesuffix("_sum") for c in out.column_names])
    order = np.argsort(-np.abs(_np(out["revenue_change"])), kind="stable")
    return out.take(pa.array(order))


def _np(column: Any) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = column.to_numpy(zero_copy_only=False).astype(float)
    cleaned: np.ndarray[Any, Any] = np.nan_to_num(values, nan=0.0)
    return cleaned


def _effects(v: dict[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    q0, r0, c0, q1, r1, c1 = (v[k] for k in ("q0", "r0", "c0", "q1", "r1", "c1"))
    total_q0, total_q1 = q0.sum(), q1.sum()
    growth = total_q1 / total_q0 - 1 if total_q0 else 0.0
    both = (q0 != 0) & (q1 != 0)
    safe0 = np.where(q0 != 0, q0, 1.0)
    safe1 = np.where(q1 != 0, q1, 1.0)
    price = np.where(both, (r1 / safe1 - r0 / safe0) * q1, 0.0)
    volume = np.where(q0 != 0, r0 * growth, 0.0)
    gp0, gp1 = r0 - c0, r1 - c1
    cost = np.where(both, -(c1 / safe1 - c0 / safe0) * q1, 0.0)
    gp_volume = np.where(q0 != 0, gp0 * growth, 0.0)
    return {
        "revenue_from": r0, "revenue_to": r1, "revenue_change": r1 - r0,
        "price_effect": price, "volume_effect": volume, "mix_effect": (r1 - r0) - price - volume,
        "gross_profit_from": gp0, "gross_profit_to": gp1, "gross_profit_change": gp1 - gp0,
        "gp_price_effect": price, "gp_volume_effect": gp_volume,
        "gp_mix_effect": (gp1 - gp0) - price - gp_volume - cost, "gp_cost_effect": cost,
    }
