"""Stopped items: a customer who stopped buying an item it used to buy on a steady cadence.

See :class:`StoppedItemsModel` for the user manual; :func:`find_stopped_items` is the one-call
entry point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import gammaincc  # type: ignore[import-untyped, unused-ignore]

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.models.base import FloatArray, check_is_fitted
from salesradar.models.churn import _as_tables, last_invoice_date
from salesradar.models.customer_changes import changed_lines, line_stamps
from salesradar.models.evaluation import BacktestMetric
from salesradar.models.features import CustomerTables
from salesradar.models.non_product import non_product_codes, product_names
from salesradar.models.refresh_scope import SHARED_DATABASE
from salesradar.models.text import money
from salesradar.workspace import last_invoice_day

__all__ = [
    "StoppedItemsModel",
    "backtest",
    "find_stopped_items",
    "kept_pair_facts",
    "pair_facts",
    "pair_statistics",
]

# gamma shape bounds: below 0.5 the gaps are too irregular to call any gap improbable; above 50
# the cadence is as good as clockwork
_SHAPE_MIN, _SHAPE_MAX = 0.5, 50.0


def _list_function(name: str) -> Callable[[ir.ArrayValue], ir.FloatingValue]:
    """DuckDB's list function ``name`` (a list of doubles to a double) as an Ibis function."""

    def function(values: Any) -> float:
        raise NotImplementedError  # never called: the engine's own function runs

    udf = ibis.udf.scalar.builtin(
        function, name=name, signature=((idt.Array(idt.float64),), idt.float64)
    )
    return cast(Callable[[ir.ArrayValue], ir.FloatingValue], udf)


# the median of a list's elements; their population standard deviation, added in list order
# (DuckDB functions: the models run on the workspace's DuckDB)
_list_median = _list_function("list_median")
_list_stddev_pop = _list_function("list_stddev_pop")
_list_max = _list_function("list_max")


def _day(column: ir.Value) -> ir.DateValue:
    return column.date() if column.type().is_timestamp() else column.cast("date")


# the least min_purchases a cadence can have: two gaps
_FEWEST_PURCHASES = 3


def _pairs_bought(lines: ir.Table) -> ir.Table:
    """Every customer x SKU pair with a purchase day among ``lines`` (with a ``day`` column):
    ``customer_id``, ``sku``, ``revenue`` (its sales, exact), ``purchases``, ``first_day``,
    ``last_day``, ``median_gap``, ``gap_std`` and ``longest_gap`` of the gaps between its
    purchase days."""
    # amounts stay exact decimals until summed: a float sum's order (threads) moves the last digit
    bought = lines.filter(lines.net_revenue > 0)
    # one pass over the sales lines (no window over them): each pair's sale days, a day once
    # per line, sorted in the aggregate itself so the lambdas below read a column (a sort
    # inside them would run once per element; DuckDB's ordered ARRAY_AGG costs four times as
    # much); the days are never null (no FILTER clause)
    every_pair = bought.group_by(["customer_id", "sku"]).aggregate(
        days=bought.day.collect(include_null=True).sort(),
        revenue=bought.net_revenue.sum(),
    )
    days = every_pair.days
    # the gaps between purchase days: each day minus the one before it, less the zeros of a
    # day's second line (and the first day's, whose "day before" wraps round to the last: <= 0)
    gaps = days.map(
        lambda day, i: day.delta(days[i - 1], unit="day").cast("float64")
    ).filter(lambda gap: gap > 0)
    return every_pair.select(
        "customer_id",
        "sku",
        "revenue",
        purchases=gaps.length() + 1,
        first_day=days[0],
        last_day=days[-1],
        median_gap=_list_median(gaps),
        # folded in day order: the same value on every run (a parallel aggregate's is not)
        gap_std=_list_stddev_pop(gaps),
        longest_gap=_list_max(gaps),
    )


def _with_their_year(every_pair: ir.Table, lines: ir.Table, latest: dt.date,
                     min_purchases: int) -> ir.Table:
    """The pairs of :func:`_pairs_bought` with at least ``min_purchases`` purchase days, with
    ``early`` (their sales of the days 365 or more before the last purchase, null without any),
    ``returned_365``, ``returned_after_last`` and ``last_return_day`` (their returns and credit
    notes dated less than 365 days before the last purchase, or after it; null without any),
    from ``lines`` dated up to ``latest``."""
    pairs = every_pair.filter(every_pair.purchases >= min_purchases)
    last_days = pairs.select("customer_id", "sku", "last_day")
    # the sales of the days up to 365 before the last purchase (all before latest - 365)
    bought = lines.filter(lines.net_revenue > 0)
    early = bought.filter(bought.day <= ibis.date(latest - dt.timedelta(days=365)))
    early = early.join(last_days, ["customer_id", "sku"])
    early = early.filter(early.last_day.delta(early.day, unit="day") >= 365)
    early = early.group_by(["customer_id", "sku"]).aggregate(early=early.net_revenue.sum())
    # and the returns and credit notes (negative lines) of the year and after
    sent_back = lines.filter(lines.net_revenue < 0).select(
        "customer_id", "sku", "day", returned=-lines.net_revenue
    )
    year = sent_back.join(last_days, ["customer_id", "sku"])
    year = year.filter(year.last_day.delta(year.day, unit="day") < 365)
    year = year.group_by(["customer_id", "sku"]).aggregate(
        returned_365=year.returned.sum(),
        returned_after_last=year.returned.sum(where=year.day > year.last_day),
        last_return_day=year.day.max(),
    )
    pairs = pairs.left_join(early, ["customer_id", "sku"]).drop("customer_id_right", "sku_right")
    return pairs.left_join(year, ["customer_id", "sku"]).drop("customer_id_right", "sku_right")


def pair_facts(lines: ir.Table, latest: dt.date) -> ir.Table:
    """What :func:`pair_statistics` knows of every customer x SKU pair with a purchase day,
    whatever the day it is judged at: the facts of invoice lines dated up to ``latest`` (their
    ``day`` column), which stay true on any later day with no other lines.

    One row per pair: the columns of :func:`_pairs_bought`, and those of its year
    (:func:`_with_their_year`) for the pairs with a cadence (null for the others).
    """
    every_pair = _pairs_bought(lines)
    year = _with_their_year(every_pair, lines, latest, _FEWEST_PURCHASES).select(
        "customer_id", "sku", "early", "returned_365", "returned_after_last", "last_return_day")
    facts: ir.Table = every_pair.left_join(year, ["customer_id", "sku"]).drop(
        "customer_id_right", "sku_right")
    return facts


# pair_facts of the workspace's lines, kept between refreshes (kept_pair_facts), and the
# fingerprints of the customers' lines they were computed from
PAIR_FACTS_TABLE = "_salesradar_pair_facts"
PAIR_STAMPS_TABLE = "_salesradar_pair_stamps"
# bump when pair_facts computes something else: facts kept by an older version are then
# computed anew
PAIR_FACTS_FORMAT = 2  # 2: longest_gap
_CHANGED = "_salesradar_pair_customers_changed"


def _stamps_now(stamps: str) -> str:
    """The pairs' stamps of the lines now, from the table of every customer's stamps
    (:func:`~salesradar.models.customer_changes.line_stamps`)."""
    return (f"SELECT customer_id, lines, stamp, {PAIR_FACTS_FORMAT} AS format "  # noqa: S608
            f"FROM {stamps}")


def _changed_sql(now: str) -> str:
    """The customers whose stamp is new, gone or different."""
    return (f"CREATE OR REPLACE TEMP TABLE {_CHANGED} AS SELECT DISTINCT customer_id FROM ("  # noqa: S608
            f"({now} EXCEPT FROM {PAIR_STAMPS_TABLE}) UNION ALL "
            f"(FROM {PAIR_STAMPS_TABLE} EXCEPT {now}))")


# a line without a customer, or facts kept by another version (the format a constant: bound
# as a parameter, it made this little query cost a third of a second)
_CANNOT_KEEP_SQL = (
    f"SELECT (SELECT count(*) FROM {_CHANGED} WHERE customer_id IS NULL) "  # noqa: S608 (constants)
    f"+ (SELECT count(*) FROM {PAIR_STAMPS_TABLE} WHERE format <> {PAIR_FACTS_FORMAT})")
# the changed customers' lines, read once: the facts read them three times (sales, early
# sales, returns), each a scan of every line for the few customers
_CHANGED_LINES = "_salesradar_pair_changed_lines"
_CHANGED_LINES_SQL = (
    f"CREATE OR REPLACE TEMP TABLE {_CHANGED_LINES} AS "  # noqa: S608 (constants)
    "SELECT customer_id, sku, invoice_date, net_revenue FROM invoice_lines "
    f"WHERE customer_id IN (SELECT customer_id FROM {_CHANGED})")
_FORGET_CHANGED_SQL = (
    f"DELETE FROM {PAIR_FACTS_TABLE} WHERE customer_id IN "  # noqa: S608 (constants)
    f"(SELECT customer_id FROM {_CHANGED})")


def _lines_of_changed(ws: Any) -> ir.Table:
    """The invoice lines of the customers whose pair facts are computed again: those the
    refresh already copied for its customer-days
    (:func:`~salesradar.models.customer_changes.changed_lines`) when they include every such
    customer, else copied here once into a temporary table (before the facts' transaction:
    it writes the workspace, not the temporary tables)."""
    shared = changed_lines(ws)
    if shared is not None:
        customers, name = shared
        missing = ws.con.execute(
            f"SELECT count(*) FROM {_CHANGED} p ANTI JOIN {customers} c "  # noqa: S608 (constants)
            "ON p.customer_id = c.customer_id").fetchone()[0]
        if not missing:
            lines: ir.Table = ws.backend.table(name, database=f"{SHARED_DATABASE}.main")
            changed = ws.backend.table(_CHANGED, database="temp.main")
            return lines.filter(lines.customer_id.isin(changed.customer_id))
    ws.con.execute(_CHANGED_LINES_SQL)
    own: ir.Table = ws.backend.table(_CHANGED_LINES, database="temp.main")
    return own


def kept_pair_facts(ws: Any, as_of: dt.date, *, fresh: bool = False) -> ir.Table | None:
    """:func:`pair_facts` of all the workspace's invoice lines, kept in the workspace from one
    refresh to the next and computed again only for the customers whose lines changed since:
    a day of new lines recomputes the pairs of the customers invoiced that day, not the
    millions of lines of the others. ``fresh``: computed anew for every customer.

    A customer's lines changed when their fingerprint did: their number and the sum of a hash
    of each line's SKU, date and amount, all that the facts read (a line added, removed or
    edited changes it; :mod:`~salesradar.models.customer_changes`, computed once per refresh
    that keeps its customer-days). None when ``as_of`` is before the lines' last day: the kept
    facts are those of every line."""
    con = ws.con
    latest = last_invoice_day(ws)
    if latest is None or as_of < latest:
        return None
    stamps, own = line_stamps(ws)
    now = _stamps_now(stamps)
    keep = not fresh and {PAIR_FACTS_TABLE, PAIR_STAMPS_TABLE} <= table_names(ws.backend)
    try:
        if keep:
            con.execute(_changed_sql(now))
            # a line without a customer, or facts kept by another version: all computed anew
            keep = not con.execute(_CANNOT_KEEP_SQL).fetchone()[0]
        if keep:
            changed = _lines_of_changed(ws)
            facts = ws.backend.compile(pair_facts(
                changed.mutate(day=_day(changed.invoice_date)), latest))
            statements = [_FORGET_CHANGED_SQL, f"INSERT INTO {PAIR_FACTS_TABLE} BY NAME {facts}"]
        else:
            lines = ws.table("invoice_lines")
            facts = ws.backend.compile(pair_facts(lines.mutate(day=_day(lines.invoice_date)),
                                                  latest))
            statements = [f"CREATE OR REPLACE TABLE {PAIR_FACTS_TABLE} AS {facts}"]
        con.begin()
        try:
            for sql in [*statements, f"CREATE OR REPLACE TABLE {PAIR_STAMPS_TABLE} AS {now}"]:
                con.execute(sql)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{_CHANGED}")
        con.execute(f"DROP TABLE IF EXISTS temp.{_CHANGED_LINES}")
        if own:
            con.execute(f"DROP TABLE IF EXISTS {stamps}")
    table: ir.Table = ws.backend.table(PAIR_FACTS_TABLE)
    return table


def pair_statistics(
    tables: CustomerTables | ir.Table,
    as_of: dt.date,
    *,
    min_purchases: int = 4,
    recent_days: int = 90,
    exclude_skus: Sequence[str] = (),
    facts: ir.Table | None = None,
) -> ir.Table:
    """Cadence of every customer x SKU pair with at least ``min_purchases`` purchase days.

    A pair's purchase day is a date with a positive-revenue line of that SKU for that customer,
    on or before ``as_of``.

    The pair's year is the invoice lines of the pair dated in (last purchase day - 365 days,
    ``as_of``]: sales and returns (negative lines) alike.

    ``facts``: the pairs' :func:`pair_facts` of the lines to ``as_of``, when they are kept
    (:func:`kept_pair_facts`); else computed here.

    Returns
    -------
    ibis.expr.types.Table
        One row per pair: ``customer_id``, ``sku``, ``purchases``, ``first_day``, ``last_day``,
        ``gap_days`` (``as_of`` - last purchase), ``mean_gap``, ``median_gap``, ``gap_std``,
        ``longest_gap`` (the longest gap between its purchase days), ``revenue_per_purchase``;
        the pair's year: ``sold_365`` (its sales), ``returned_365`` (its returns and credit
        notes, >= 0), ``net_365`` (sold - returned, may be negative),
        ``returned_after_last`` (returns dated after the last purchase, >= 0) and
        ``last_return_day`` (its latest return, null without one); and the eligibility facts
        ``sku_recent_buyers`` (other customers who bought the SKU in the last
        ``recent_days``), ``sku_active`` (from ``products``; true when the table or the value
        is missing), ``customer_last_day`` (the customer's last purchase of anything).
    """
    if not isinstance(tables, CustomerTables):
        tables = CustomerTables(tables)
    if min_purchases < _FEWEST_PURCHASES:
        raise UserInputError("min_purchases must be at least 3 (two gaps) to estimate a cadence")
    if facts is None:
        lines = tables.lines
        lines = lines.mutate(day=_day(lines.invoice_date))
        lines = lines.filter(lines.day <= ibis.date(as_of))
        if exclude_skus:
            lines = lines.filter(~lines.sku.isin(list(exclude_skus)))
        every_pair = _pairs_bought(lines)
        pairs = _with_their_year(every_pair, lines, as_of, min_purchases)
    else:
        every_pair = facts.filter(~facts.sku.isin(list(exclude_skus))) if exclude_skus \
            else facts
        pairs = every_pair.filter(every_pair.purchases >= min_purchases)
    pairs = pairs.mutate(sold_365=pairs.revenue - pairs.early.fill_null(0)).drop("early")

    # a customer bought a SKU in the last recent_days when the pair's last purchase is in them;
    # its last purchase of anything is its pairs' latest
    recent_start = ibis.date(as_of) - ibis.interval(days=recent_days)
    recent = every_pair.filter(every_pair.last_day > recent_start)
    sku_buyers = recent.group_by("sku").aggregate(sku_recent_buyers=recent.count())
    customer_last = every_pair.group_by("customer_id").aggregate(
        customer_last_day=every_pair.last_day.max()
    )

    out = pairs.left_join(sku_buyers, "sku").drop("sku_right")
    out = out.left_join(customer_last, "customer_id").drop("customer_id_right")
    if tables.products is not None and "active" in tables.products.columns:
        products = tables.products.select("sku", "active")
        out = out.left_join(products, "sku").drop("sku_right")
        sku_active = out.active.fill_null(True)
    else:
        sku_active = ibis.literal(True)
    pair_recent = out.last_day > recent_start
    span = out.last_day.delta(out.first_day, unit="day").cast("float64")
    return out.select(
        "customer_id",
        "sku",
        purchases=out.purchases.cast("int64"),
        first_day=out.first_day,
        last_day=out.last_day,
        gap_days=ibis.date(as_of).delta(out.last_day, unit="day").cast("float64"),
        mean_gap=span / (out.purchases - 1).cast("float64"),
        median_gap=out.median_gap.cast("float64"),
        gap_std=out.gap_std.cast("float64"),
        longest_gap=out.longest_gap.cast("float64"),
        revenue_per_purchase=out.revenue.cast("float64") / out.purchases.cast("float64"),
        sold_365=out.sold_365.cast("float64").fill_null(0.0),
        returned_365=out.returned_365.cast("float64").fill_null(0.0),
        net_365=(out.sold_365.fill_null(0) - out.returned_365.fill_null(0)).cast("float64"),
        returned_after_last=out.returned_after_last.cast("float64").fill_null(0.0),
        last_return_day=out.last_return_day,
        sku_recent_buyers=(
            out.sku_recent_buyers.fill_null(0) - ibis.ifelse(pair_recent, 1, 0)
        ).cast("int64"),
        sku_active=sku_active,
        customer_last_day=out.customer_last_day,
    )


def gap_survival(gap: FloatArray, mean_gap: FloatArray, gap_std: FloatArray,
                 n_gaps: FloatArray, prior_gaps: float = 2.0) -> FloatArray:
    """P(a gap at least this long) under a gamma model of the pair's gaps between purchases.

    The gamma has the pair's mean gap; its shape is the moment estimate mean²/variance, shrunk
    toward 1 (exponential gaps, the least informative cadence) with the weight of
    ``prior_gaps`` gaps and kept in [0.5, 50].
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_shape = np.where(gap_std > 0, (mean_gap / gap_std) ** 2, _SHAPE_MAX)
    raw_shape = np.clip(np.nan_to_num(raw_shape, nan=1.0), _SHAPE_MIN, _SHAPE_MAX)
    shape = (n_gaps * raw_shape + prior_gaps) / (n_gaps + prior_gaps)
    scale_mean = np.maximum(mean_gap, 1.0)
    return np.asarray(gammaincc(shape, gap * shape / scale_mean), dtype=np.float64)


class StoppedItemsModel:
    """Customer x SKU pairs whose current gap is improbably long for the pair's own cadence.

    **What it flags.** For every customer x SKU pair with at least ``min_purchases`` purchase
    days before ``as_of``, the gaps between its purchases are modelled as gamma with the pair's
    mean gap and a shape from the pair's regularity (:func:`gap_survival`). The pair's
    ``p_gap`` is P(gap ≥ days since its last purchase): small means the customer should have
    reordered long ago. A pair is flagged when all hold:

    - ``p_gap <= max_p`` (default 0.05);
    - the SKU is still sold: other customers bought it in the last ``recent_days`` and it is
      not marked inactive (discontinued) in ``products`` when that table has rows;
    - the customer is still active: it bought something after the pair's last purchase, within
      the last ``recent_days``;
    - the gap is longer than any gap between the pair's purchase days before it: a pair that
      paused this long before and came back is not stopped on that evidence (on UCI Online
      Retail I and II, 74% and 63% of such pairs were bought again within 90 days, against
      51% and 47% of those past their longest pause; docs/model-quality.md);
    - the value at stake is material: ``value_at_stake >= min_value``.

    ``value_at_stake`` is the project's money at stake: the pair's net revenue (sales minus
    returns and credit notes) over its invoice lines dated in (last purchase day - 365 days,
    ``as_of``], floored at 0 -- what the customer bought of the item in the year to its last
    purchase, net of what it sent back since; a yearly amount, never scaled up from a short
    burst. Flags are ranked by it, highest first. Returns are evidence too: ``returned_365``,
    ``returned_after_last`` and ``last_return_day`` say whether the customer sent the item back.

    Non-product codes (postage, fees, discounts: :mod:`salesradar.models.non_product`, with the
    company's overrides when ``data`` is a workspace) are never flagged.

    **Computation.** Pair statistics are one Ibis query (:func:`pair_statistics`), the
    probabilities vectorized numpy/scipy.

    Parameters
    ----------
    min_purchases
        Purchase days a pair needs to have a cadence (default 4: three gaps).
    max_p
        Flag when P(gap ≥ current) is at most this (default 0.05).
    recent_days
        Window for "still sold" and "customer still active" (default 90).
    min_value
        Smallest value at stake worth a flag (default 0).
    exclude_skus
        More SKU codes never to flag, beside the detected non-product codes.
    exclude_non_products
        Leave out the non-product codes of :func:`~salesradar.models.non_product.
        non_product_codes` (default True).

    Attributes
    ----------
    pairs_ : pyarrow.Table
        Every eligible pair with ``p_gap``, ``value_at_stake``, the eligibility facts,
        ``flagged`` and the SKU's ``name`` (:func:`~salesradar.models.non_product.
        product_names`: ``products.name``, else the most frequent invoice-line description),
        as of ``as_of_``.
    as_of_ : datetime.date
        Date of the last :meth:`fit`.
    excluded_skus_ : list of str
        Codes left out in the last :meth:`fit` (non-product codes and ``exclude_skus``).

    Examples
    --------
    >>> model = StoppedItemsModel(min_purchases=4).fit(ws, dt.date(2026, 9, 30))  # doctest: +SKIP
    >>> model.flags().slice(0, 10)  # doctest: +SKIP
    """

    pairs_: pa.Table | None

    def __init__(
        self,
        *,
        min_purchases: int = 4,
        max_p: float = 0.05,
        recent_days: int = 90,
        min_value: float = 0.0,
        exclude_skus: Sequence[str] = (),
        exclude_non_products: bool = True,
    ) -> None:
        self.min_purchases = min_purchases
        self.max_p = max_p
        self.recent_days = recent_days
        self.min_value = min_value
        self.exclude_skus = tuple(exclude_skus)
        self.exclude_non_products = exclude_non_products
        self.pairs_ = None

    def __repr__(self) -> str:
        return f"StoppedItemsModel(min_purchases={self.min_purchases}, max_p={self.max_p})"

    def fit(self, data: Any, as_of: dt.date | None = None, *,
            facts: ir.Table | None = None) -> StoppedItemsModel:
        """Compute every pair's cadence and gap probability as of ``as_of`` (default: last day).

        ``facts``: the pairs' :func:`pair_facts` of the lines to ``as_of`` when they are kept
        (:func:`kept_pair_facts`); else computed from the lines."""
        if not 0 < self.max_p < 1:
            raise UserInputError(f"max_p must be between 0 and 1, got {self.max_p}")
        tables = _as_tables(data)
        day = as_of or last_invoice_date(tables)
        excluded = set(self.exclude_skus)
        if self.exclude_non_products:
            excluded |= set(non_product_codes(data if _is_workspace(data) else tables))
        self.excluded_skus_ = sorted(excluded)
        stats = pair_statistics(
            tables,
            day,
            min_purchases=self.min_purchases,
            recent_days=self.recent_days,
            exclude_skus=self.excluded_skus_,
            facts=facts,
        )
        names = product_names(tables)
        named = stats.left_join(names, "sku").drop("sku_right")
        arrow = named.order_by(["customer_id", "sku"]).to_pyarrow()

        def col(name: str) -> FloatArray:
            return np.asarray(arrow.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)

        purchases, gap, mean_gap = col("purchases"), col("gap_days"), col("mean_gap")
        p_gap = gap_survival(gap, mean_gap, np.nan_to_num(col("gap_std")), purchases - 1.0)
        # money at stake: the pair's net revenue in (last purchase - 365 days, as_of], >= 0
        value = np.maximum(np.nan_to_num(col("net_365")), 0.0)
        last = arrow.column("last_day").to_numpy(zero_copy_only=False).astype("datetime64[D]")
        customer_last = (
            arrow.column("customer_last_day").to_numpy(zero_copy_only=False).astype("datetime64[D]")
        )
        recent_start = np.datetime64(day, "D") - np.timedelta64(self.recent_days, "D")
        still_sold = (col("sku_recent_buyers") > 0) & np.asarray(
            arrow.column("sku_active").to_numpy(zero_copy_only=False), dtype=bool
        )
        customer_active = (customer_last > last) & (customer_last > recent_start)
        past_longest = gap > col("longest_gap")  # NaN (no gap) compares False
        eligible = still_sold & customer_active & past_longest & (value >= self.min_value)
        ratio_to_median = gap / np.maximum(col("median_gap"), 1.0)
        self.pairs_ = arrow.append_column("p_gap", pa.array(p_gap)).append_column(
            "value_at_stake", pa.array(value)
        ).append_column("gap_to_median", pa.array(ratio_to_median)).append_column(
            "still_sold", pa.array(still_sold)
        ).append_column("customer_active", pa.array(customer_active)).append_column(
            "eligible", pa.array(eligible)
        ).append_column("flagged", pa.array(eligible & (p_gap <= self.max_p)))
        self.as_of_ = day
        return self

    def flags(self, top: int | None = None) -> pa.Table:
        """Flagged pairs ranked by value at stake (highest first), optionally the first ``top``."""
        check_is_fitted(self, "pairs_")
        assert self.pairs_ is not None
        flagged = self.pairs_.filter(self.pairs_.column("flagged"))
        ranked = flagged.sort_by([("value_at_stake", "descending"), ("p_gap", "ascending")])
        columns = ["customer_id", "sku", "name", "purchases", "last_day", "gap_days",
                   "mean_gap", "median_gap", "longest_gap", "p_gap", "value_at_stake", "sold_365",
                   "returned_365", "returned_after_last", "last_return_day"]
        out = ranked.select(columns)
        return out if top is None else out.slice(0, top)

    def baseline_flags(self, multiple: float = 2.0, top: int | None = None) -> pa.Table:
        """The rule of thumb: eligible pairs whose gap exceeds ``multiple`` × their median gap."""
        check_is_fitted(self, "pairs_")
        assert self.pairs_ is not None
        pairs = self.pairs_
        hit = pc.and_(pairs.column("eligible"), pc.greater(pairs.column("gap_to_median"), multiple))
        ranked = pairs.filter(hit).sort_by([("value_at_stake", "descending")])
        out = ranked.select(["customer_id", "sku", "gap_days", "median_gap", "value_at_stake"])
        return out if top is None else out.slice(0, top)

    def explain(self, customer_id: str, sku: str, *, currency: str | None = None) -> str:
        """One pair in plain words, e.g. ``"bought SKU-7 every ~14 days (9 times); last 60 days
        ago; a gap this long had a 1% chance; ₪4.2k at stake: what it bought in the 12 months to
        its last purchase, net of returns; returned ₪300 of it after the last purchase (latest
        return 2026-08-02)"``."""
        check_is_fitted(self, "pairs_")
        assert self.pairs_ is not None
        hit = self.pairs_.filter(
            pc.and_(pc.equal(self.pairs_.column("customer_id"), str(customer_id)),
                    pc.equal(self.pairs_.column("sku"), str(sku)))
        )
        if hit.num_rows == 0:
            raise UserInputError(
                f"customer {customer_id!r} has fewer than {self.min_purchases} purchases of "
                f"{sku!r} before {self.as_of_}"
            )
        row = hit.to_pylist()[0]
        text = (
            f"bought {sku} every ~{row['median_gap']:.0f} days ({row['purchases']} times); "
            f"last {row['gap_days']:.0f} days ago; a gap this long had a "
            f"{_chance(row['p_gap'])} chance; {money(row['value_at_stake'], currency)} at stake: "
            "what it bought in the 12 months to its last purchase, net of returns"
        )
        if row["returned_after_last"] > 0:
            text += (f"; returned {money(row['returned_after_last'], currency)} of it after the "
                     f"last purchase (latest return {row['last_return_day']})")
        elif row["returned_365"] > 0:
            text += (f"; returned {money(row['returned_365'], currency)} of it in that year "
                     f"(latest return {row['last_return_day']})")
        return text


def _is_workspace(data: Any) -> bool:
    return hasattr(data, "table") and hasattr(data, "row_count")


def _chance(p: float) -> str:
    return "<0.1%" if p < 0.001 else f"{p:.1%}" if p < 0.1 else f"{p:.0%}"


def find_stopped_items(
    ws: Any, as_of: dt.date | None = None, *, top: int | None = None,
    facts: ir.Table | None = None, **settings: Any
) -> pa.Table:
    """Flagged stopped items of a workspace as of ``as_of``.

    ``settings`` go to :class:`StoppedItemsModel`; ``top`` keeps the first flags by value;
    ``facts`` as in :meth:`StoppedItemsModel.fit`.
    """
    return StoppedItemsModel(**settings).fit(ws, as_of, facts=facts).flags(top)


TWICE_MEDIAN = ("gap > 2× the pair's median gap and > its longest gap before, ranked by value "
                "at stake")


def _outcomes(
    tables: CustomerTables, as_of: dt.date, horizon_days: int
) -> tuple[set[tuple[str, str]], set[str]]:
    """Pairs bought, and customers who bought anything, in (as_of, as_of + horizon]."""
    lines = tables.lines
    lines = lines.mutate(day=_day(lines.invoice_date))
    after = lines.filter(
        (lines.day > ibis.date(as_of))
        & (lines.day <= ibis.date(as_of) + ibis.interval(days=horizon_days))
        & (lines.net_revenue > 0)
    )
    pairs = after.select("customer_id", "sku").distinct().to_pyarrow()
    bought = set(
        zip(pairs.column("customer_id").to_pylist(), pairs.column("sku").to_pylist(), strict=True)
    )
    customers = {c for c, _ in bought}
    return bought, customers


def _hits(flags: pa.Table, bought: set[tuple[str, str]], active: set[str]) -> np.ndarray[Any, Any]:
    """Per ranked flag: the pair was not bought in the horizon while the customer bought."""
    cust = flags.column("customer_id").to_pylist()
    sku = flags.column("sku").to_pylist()
    return np.array(
        [c in active and (c, s) not in bought for c, s in zip(cust, sku, strict=True)], dtype=bool
    )


def backtest(
    data: Any,
    cutoff: dt.date,
    horizon_days: int = 90,
    *,
    truth: Path | str | None = None,
    ks: Sequence[int] = (50, 100),
    **settings: Any,
) -> list[BacktestMetric]:
    """Flag stopped items at ``cutoff`` and check them against the ``horizon_days`` after.

    A flag is a *hit* when the customer bought nothing of that SKU in the horizon while it did
    buy something else (the item really stopped; the customer did not just leave). Metrics:
    precision@k for each k in ``ks``, beside the rule "gap > 2× the pair's median gap" on the
    same eligible pairs ranked the same way (by value at stake). With a demo ``truth`` folder
    holding ``dropped_pairs.csv``: recall of the planted drops of the year before the cutoff
    whose customer was still buying in the horizon.
    """
    from salesradar.models.backtest import precision_at_k

    tables = _as_tables(data)
    model = StoppedItemsModel(**settings).fit(data, cutoff)
    flags, base = model.flags(), model.baseline_flags()
    bought, active = _outcomes(tables, cutoff, horizon_days)
    hits, base_hits = _hits(flags, bought, active), _hits(base, bought, active)
    note = f"{flags.num_rows} pairs flagged; baseline flags {base.num_rows}"
    out = []
    for k in ks:
        value, n = precision_at_k(hits, k)
        base_value, _ = precision_at_k(base_hits, k)
        out.append(BacktestMetric("stopped_items", f"precision_at_{k}", value, TWICE_MEDIAN,
                                  base_value, n, note))
    if truth is not None and (Path(truth) / "dropped_pairs.csv").exists():
        out.append(_truth_recall(Path(truth), cutoff, flags, base, active))
    return out


def _truth_recall(
    truth: Path, cutoff: dt.date, flags: pa.Table, base: pa.Table, active: set[str]
) -> BacktestMetric:
    """Recall of planted drops (dropped in the year before the cutoff, customer still buying)."""
    import pyarrow.csv as pcsv

    planted = pcsv.read_csv(truth / "dropped_pairs.csv")
    dropped = planted.column("dropped_at").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    day = np.datetime64(cutoff, "D")
    recent = (dropped <= day) & (dropped > day - np.timedelta64(365, "D"))
    pairs = [
        (str(c), str(s))
        for c, s, keep in zip(
            planted.column("customer_id").to_pylist(),
            planted.column("sku").to_pylist(),
            recent.tolist(),
            strict=True,
        )
        if keep and str(c) in active
    ]

    def recall(table: pa.Table) -> float | None:
        found = set(
            zip(table.column("customer_id").to_pylist(), table.column("sku").to_pylist(),
                strict=True)
        )
        return sum(p in found for p in pairs) / len(pairs) if pairs else None

    return BacktestMetric(
        "stopped_items", "recall_planted_drops", recall(flags),
        "gap > 2× the pair's median gap and > its longest gap before",
        recall(base), len(pairs),
        "planted drops of the year before the cutoff whose customer still bought in the horizon",
    )
