"""Per-customer churn features and labels as of one or more cutoffs, as Ibis expressions.

Everything here is a lazy Ibis expression run by the workspace's engine (no Python loop over
rows). The building block is the *customer-day*: all invoice lines of one customer on one date.
A **purchase day** is a customer-day with positive gross sales (lines with positive revenue):
cancellations and credit notes never count as a purchase, but they are netted into revenue.

Several cutoffs are computed in one query (the purchase days joined with a small table of
cutoffs, ``as_of``, on ``day <= as_of``; window sums and SKU counts from a few rows per customer
between the windows' ends); features only ever see data on or before their own cutoff, labels
only data after it. That is how the churn model builds monthly training
snapshots without leaking the future::

    feats = churn_features(lines, [dt.date(2026, 6, 30), dt.date(2026, 7, 31)])
    labels = churn_labels(lines, [dt.date(2026, 6, 30)], horizon_days=90)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.models.customer_changes import (
    CHANGED_CUSTOMERS,
    CHANGED_LINES,
    share_changed_lines,
    share_line_stamps,
)
from salesradar.models.refresh_scope import SHARED_DATABASE, SHARING, Sharing

__all__ = [
    "FEATURES",
    "CustomerTables",
    "churn_features",
    "churn_labels",
    "customer_days",
    "purchase_days",
    "purchase_gaps",
    "sharing_customer_days",
]

# the model's input columns, in order (BG/NBD outputs are added in numpy by the churn model)
FEATURES: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "purchase_days",
    "orders_w1",
    "orders_w2",
    "orders_365",
    "order_trend",
    "median_gap",
    "mean_gap",
    "gap_cv",
    "gap_ratio",
    "recency_2nd",
    "recency_3rd",
    "orders_decay30",
    "orders_decay90",
    "revenue_decay90",
    "active_months",
    "revenue_w1",
    "revenue_w2",
    "revenue_365",
    "revenue_trend",
    "revenue_per_order",
    "returns_share",
    "skus_w1",
    "skus_w2",
    "skus_365",
    "sku_trend",
    "margin_rate",
    "late_share",
    "mean_days_late",
    "overdue_open",
    "contacts",
    "contact_levels",
    "orders_last_season",
    "revenue_last_season",
)


# money sums are rounded to this many decimals (see _money)
_MONEY_DECIMALS = 6


@dataclass(frozen=True)
class CustomerTables:
    """The workspace tables the customer models read; only ``lines`` is required.

    ``payments`` and ``contacts`` are ``None`` when the workspace has no rows in them; their
    features are then missing values (the boosting models handle missing values natively).
    """

    lines: ir.Table
    payments: ir.Table | None = None
    contacts: ir.Table | None = None
    products: ir.Table | None = None

    @classmethod
    def from_workspace(cls, ws: Any) -> CustomerTables:
        """The tables of a :class:`~salesradar.workspace.Workspace` (empty ones as ``None``)."""

        def optional(name: str) -> ir.Table | None:
            return ws.table(name) if ws.row_count(name) > 0 else None

        return cls(
            ws.table("invoice_lines"),
            optional("payments"),
            optional("contacts"),
            optional("products"),
        )


def _day(column: ir.Value) -> ir.DateValue:
    return column.date() if column.type().is_timestamp() else column.cast("date")


def customer_days(lines: ir.Table) -> ir.Table:
    """One row per customer-day: revenue (net), gross sales, returns, cost-covered revenue.

    Columns: ``customer_id``, ``day``, ``revenue`` (net of returns), ``gross`` (positive lines),
    ``returns`` (minus the negative lines, >= 0), ``costed_revenue`` and ``cost`` (over lines
    whose cost is known; null without a ``cost`` column) and ``purchase`` (gross > 0).
    """
    shared = _shared(lines, CUSTOMER_DAYS_TABLE)
    if shared is not None:
        return shared
    missing = [c for c in ("customer_id", "invoice_date", "net_revenue") if c not in lines.columns]
    if missing:
        raise UserInputError(f"invoice lines lack column(s) {', '.join(sorted(missing))}")
    # summed as the stored decimals, then converted: a float sum's last digit depends on the
    # order the engine's threads add in
    rev = lines.net_revenue
    values: dict[str, ir.Value] = {
        "revenue": rev.sum().cast("float64"),
        "gross": rev.sum(where=rev > 0).cast("float64"),
        "returns": (-rev).sum(where=rev < 0).cast("float64"),
    }
    if "cost" in lines.columns:
        values["costed_revenue"] = rev.sum(where=lines.cost.notnull()).cast("float64")
        values["cost"] = lines.cost.sum().cast("float64")
    else:
        values["costed_revenue"] = ibis.null("float64").max()
        values["cost"] = ibis.null("float64").max()
    days = lines.mutate(day=_day(lines.invoice_date)).group_by(["customer_id", "day"]).aggregate(
        **values
    )
    return days.mutate(
        gross=days.gross.fill_null(0.0),
        returns=days.returns.fill_null(0.0),
        purchase=days.gross.fill_null(0.0) > 0,
    )


def purchase_days(lines: ir.Table) -> ir.Table:
    """Every purchase day (:func:`customer_days` with ``purchase``) with the one and the two
    purchase days before it: ``customer_id``, ``day``, ``revenue``, ``gross``, ``previous`` and
    ``previous_2`` (null before the first and second).

    A day's predecessors are the same whatever date the data are judged at, so the churn
    features of every cutoff, the rhythm and the gaps all read this one window (the window is
    the costliest step of each: 3.1M purchase days on 10M lines)."""
    shared = _shared(lines, PURCHASE_DAYS_TABLE)
    return shared if shared is not None else _with_previous(customer_days(lines))


def _with_previous(days: ir.Table) -> ir.Table:
    bought = days.filter(days.purchase).select("customer_id", "day", "revenue", "gross")
    before = ibis.window(group_by=bought.customer_id, order_by=bought.day)
    return bought.mutate(previous=bought.day.lag().over(before),
                         previous_2=bought.day.lag(2).over(before))


# The customer-days and purchase days of the workspace's invoice lines, made once per refresh
# (sharing_customer_days): in the refresh's in-memory database, or kept in the workspace from
# one day's refresh to the next and brought up to date for the customers whose lines changed.
# Every connection to the workspace reads both, so the threads of a refresh (each with its own
# cursor, shared_view) read the same two tables
_SHARED_SCHEMA = f"{SHARED_DATABASE}.main"  # as Ibis names a catalog's schema
CUSTOMER_DAYS_TABLE = "_salesradar_customer_days"
PURCHASE_DAYS_TABLE = "_salesradar_purchase_days"
# the stamps (salesradar.models.customer_changes) of the lines the two tables were computed from
DAY_STAMPS_TABLE = "_salesradar_day_stamps"
# bump when customer_days or purchase_days compute something else: tables kept by an older
# version are then computed anew
CUSTOMER_DAYS_FORMAT = 1
# the customers with changed lines are computed again, the others' rows kept, while they hold
# at most this share of the lines; more, and every customer is computed anew (one pass)
_MOST_CHANGED = 0.25
_CHANGED_DAYS = f"{_SHARED_SCHEMA}._salesradar_changed_days"
_CHANGED_PURCHASES = f"{_SHARED_SCHEMA}._salesradar_changed_purchases"
# Sharing.values: where the refresh's two tables are (the in-memory schema; absent: the
# workspace's kept tables)
_DAYS_SCHEMA = "customer_days_schema"


def _shared(lines: ir.Table, name: str) -> ir.Table | None:
    """The refresh's table ``name`` when ``lines`` are the whole invoice lines of the workspace
    being refreshed (:func:`sharing_customer_days`); None otherwise (compute them)."""
    sharing = SHARING.get()
    op = lines.op()
    if sharing is None or not isinstance(op, ops.DatabaseTable) \
            or op.name != "invoice_lines" or not any(op.source is b for b in sharing.backends):
        return None
    table: ir.Table = op.source.table(name, database=sharing.values.get(_DAYS_SCHEMA))
    return table


@contextmanager
def sharing_customer_days(ws: Any, *, keep: bool = False) -> Iterator[None]:
    """Inside the block, :func:`customer_days` and :func:`purchase_days` of the workspace's
    invoice lines read two tables made once on entry, not computed again in every query that
    needs them (the churn features, labels and gates, the rhythm, the money at stake, the
    insight rules): the same values, computed once per refresh. The invoice lines must not
    change inside the block. Nested blocks share the outer one's tables; another thread reads
    them through :func:`shared_view`.

    Without ``keep`` (a full refresh, or outside the pipeline) the two tables are computed
    in memory for the block and nothing is written to the workspace. With ``keep`` (a day's
    refresh) they are kept in the workspace with the stamps of the lines they were computed
    from (:mod:`~salesradar.models.customer_changes`): only the rows of the customers whose
    lines changed are computed again (a day of new lines: those invoiced that day; the stamps
    scan every line, the changed customers' lines are read once more and shared with the
    stopped items' pair facts). When nothing usable is kept (the first such refresh after a
    full one, an older format's tables, most lines changed) they are computed in memory as
    without ``keep`` and written to the workspace when the block ends without error, for
    the next refresh."""
    if SHARING.get() is not None:
        yield
        return
    backend = ws.backend
    sharing = Sharing([backend])
    try:
        ws.con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SHARED_DATABASE}")
        kept = keep and _keep_customer_days(ws, sharing)
        if not kept:
            _compute_in_memory(ws)
            sharing.values[_DAYS_SCHEMA] = _SHARED_SCHEMA
        token = SHARING.set(sharing)
        try:
            yield
        finally:
            SHARING.reset(token)
        if keep and not kept:
            _write_kept(ws, sharing)
    finally:
        ws.con.execute(f"DETACH DATABASE IF EXISTS {SHARED_DATABASE}")


def _compute_in_memory(ws: Any) -> None:
    """The customer-days and purchase days of every line, into the refresh's in-memory
    database (nothing written to the workspace)."""
    backend = ws.backend
    backend.create_table(CUSTOMER_DAYS_TABLE, customer_days(ws.table("invoice_lines")),
                         database=_SHARED_SCHEMA, overwrite=True)
    backend.create_table(
        PURCHASE_DAYS_TABLE,
        _with_previous(backend.table(CUSTOMER_DAYS_TABLE, database=_SHARED_SCHEMA)),
        database=_SHARED_SCHEMA, overwrite=True)


def _stamps_now(stamps: str) -> str:
    """The customer-days' stamps of the lines now, from the table of every customer's stamps
    (:func:`~salesradar.models.customer_changes.share_line_stamps`)."""
    return (f"SELECT customer_id, lines, day_stamp AS stamp, "  # noqa: S608 (constants)
            f"{CUSTOMER_DAYS_FORMAT} AS format FROM {stamps}")


def _write_kept(ws: Any, sharing: Sharing) -> None:
    """Write the two tables computed in memory, with their stamps, into the workspace (one
    transaction), for the next refresh to keep."""
    stamps = sharing.values["line_stamps"]
    _in_one_transaction(ws.con, [
        f"CREATE OR REPLACE TABLE {CUSTOMER_DAYS_TABLE} AS "
        f"FROM {_SHARED_SCHEMA}.{CUSTOMER_DAYS_TABLE}",
        f"CREATE OR REPLACE TABLE {PURCHASE_DAYS_TABLE} AS "
        f"FROM {_SHARED_SCHEMA}.{PURCHASE_DAYS_TABLE}",
        f"CREATE OR REPLACE TABLE {DAY_STAMPS_TABLE} AS {_stamps_now(stamps)}",
    ])


def _keep_customer_days(ws: Any, sharing: Sharing) -> bool:
    """Bring the kept customer-days and purchase days of ``ws`` up to date with its invoice
    lines: the rows of the customers whose stamp changed (added, edited or deleted lines)
    computed again from those customers' lines. False, changing nothing, when there are no
    kept tables (or an older format's) or most lines changed: all must be computed anew. The
    tables and their stamps change in one transaction: they never disagree with each other.
    Shares the stamps, and the changed customers' lines, in ``sharing``."""
    con, backend = ws.con, ws.backend
    stamps = share_line_stamps(con)
    sharing.values["line_stamps"] = stamps
    now = _stamps_now(stamps)
    if not {CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE, DAY_STAMPS_TABLE} <= table_names(backend):
        return False
    con.execute(
        f"CREATE OR REPLACE TABLE {CHANGED_CUSTOMERS} AS "  # noqa: S608 (constants)
        f"SELECT DISTINCT customer_id FROM (({now} EXCEPT FROM {DAY_STAMPS_TABLE}) "
        f"UNION ALL (FROM {DAY_STAMPS_TABLE} EXCEPT {now}))")
    changed, null_changed, other_format, changed_lines, lines = con.execute(
        f"SELECT (SELECT count(*) FROM {CHANGED_CUSTOMERS}), "  # noqa: S608 (constants)
        f"(SELECT count(*) > 0 FROM {CHANGED_CUSTOMERS} WHERE customer_id IS NULL), "
        f"(SELECT count(*) FROM {DAY_STAMPS_TABLE} WHERE format <> {CUSTOMER_DAYS_FORMAT}), "
        f"(SELECT coalesce(sum(s.lines), 0) FROM {stamps} s JOIN {CHANGED_CUSTOMERS} c "
        f"ON s.customer_id IS NOT DISTINCT FROM c.customer_id), "
        f"(SELECT coalesce(sum(lines), 0) FROM {stamps})").fetchone()
    if other_format or changed_lines > _MOST_CHANGED * lines:
        return False
    if not changed:
        return True  # the kept tables are those of the lines
    sharing.values["changed_lines"] = share_changed_lines(con, bool(null_changed))
    # computed into the shared database first: a transaction writes one database
    lines_changed = backend.table(CHANGED_LINES, database=_SHARED_SCHEMA)
    con.execute(f"CREATE OR REPLACE TABLE {_CHANGED_DAYS} AS "
                f"{backend.compile(customer_days(lines_changed))}")
    days = backend.table(_CHANGED_DAYS.rsplit(".", 1)[1], database=_SHARED_SCHEMA)
    con.execute(f"CREATE OR REPLACE TABLE {_CHANGED_PURCHASES} AS "
                f"{backend.compile(_with_previous(days))}")
    forget = (f"WHERE customer_id IN (SELECT customer_id FROM {CHANGED_CUSTOMERS})"  # noqa: S608
              + (" OR customer_id IS NULL" if null_changed else ""))
    _in_one_transaction(con, [
        f"DELETE FROM {CUSTOMER_DAYS_TABLE} {forget}",  # noqa: S608 (constants)
        f"INSERT INTO {CUSTOMER_DAYS_TABLE} BY NAME FROM {_CHANGED_DAYS}",
        f"DELETE FROM {PURCHASE_DAYS_TABLE} {forget}",  # noqa: S608 (constants)
        f"INSERT INTO {PURCHASE_DAYS_TABLE} BY NAME FROM {_CHANGED_PURCHASES}",
        f"CREATE OR REPLACE TABLE {DAY_STAMPS_TABLE} AS {now}",
    ])
    con.execute(f"DROP TABLE {_CHANGED_DAYS}")
    con.execute(f"DROP TABLE {_CHANGED_PURCHASES}")
    return True


def _in_one_transaction(con: Any, statements: Sequence[str]) -> None:
    """Run ``statements`` in one transaction, all or nothing."""
    con.begin()
    try:
        for sql in statements:
            con.execute(sql)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def shared_view(ws: Any) -> Any:
    """A view of ``ws`` for work in another thread (:meth:`Workspace.thread_view`: its own
    DuckDB connection, since threads must not share one), reading the shared customer-days
    when ``ws`` shares them (:func:`sharing_customer_days`). The thread must run in a copy of
    this context (:func:`contextvars.copy_context`), where the sharing is known."""
    view = ws.thread_view()
    sharing = SHARING.get()
    if sharing is not None:
        sharing.backends.append(view.backend)
    return view


def purchase_gaps(days: ir.Table, by: Sequence[str] = ("customer_id",)) -> ir.Table:
    """Days between consecutive purchase days, one row per gap (their median is the customer's
    typical gap everywhere, see :mod:`salesradar.models.cadence`).

    ``days`` holds one row per purchase day with a ``day`` column (date) and the ``by``
    columns (e.g. ``customer_id``, or ``as_of, customer_id`` for several cutoffs at once).
    Returns the ``by`` columns and ``gap`` (days, int).
    """
    keys = [days[k] for k in by]
    window = ibis.window(group_by=keys, order_by=days.day)
    gaps = days.mutate(gap=days.day.delta(days.day.lag().over(window), unit="day"))
    return gaps.filter(gaps.gap.notnull()).select(*by, "gap")


def _cutoffs(cutoffs: Sequence[dt.date]) -> ir.Table:
    if not cutoffs:
        raise UserInputError("give at least one cutoff date")
    return ibis.memtable({"as_of": sorted(set(cutoffs))}, schema={"as_of": "date"})


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.NumericValue:
    """num / den, null when den is 0 or null."""
    return num.cast("float64") / den.cast("float64").nullif(0.0)


def _money(value: ir.NumericValue) -> ir.NumericValue:
    """A float money sum rounded to :data:`_MONEY_DECIMALS`.

    A sale and its cancellation then net to 0 exactly, not to +-1e-14 by the engine's
    (parallel, run-dependent) order of addition, which made revenue trends flip between 1 and
    null and the model differ from run to run. The lines' money has at most 4 decimals
    (``DECIMAL(18, 4)``), so its exact sum lies on the 6-decimal grid and any order or
    grouping of the float additions (errors ~1e-9) rounds to the same double: summing per
    period first, then the periods (:func:`_window_sums`), gives what one sum gave."""
    return value.round(_MONEY_DECIMALS)


def _periods(day: ir.DateValue, ends: Sequence[dt.date]) -> ir.IntegerValue:
    """How many of ``ends`` (sorted, distinct) are before ``day``: days of one period lie
    between two consecutive ends, so ``day <= ends[i]`` exactly when the period is ``<= i``.
    A binary search (nested CASE), a few comparisons a day however many ends."""

    def search(lo: int, hi: int) -> ir.IntegerValue:  # the answer is in [lo, hi]
        if lo == hi:
            return ibis.literal(lo, type="int32")
        mid = (lo + hi) // 2  # day > ends[mid] means more than mid ends before it
        return ibis.ifelse(day > ends[mid], search(mid + 1, hi), search(lo, mid))

    return search(0, len(ends))


def _window_sums(days: ir.Table, cutoffs: Sequence[dt.date], w: int,
                 season: int) -> ir.Table:
    """Per cutoff and customer with a purchase day on or before it: first and last purchase
    days, purchase days and money in the windows w1, w2, the last year and last season.

    The windows of all cutoffs start and end at a few dates; between two consecutive ones
    lies a *period*. The customer-days are summed per customer and period first (all days
    before the first date are one period; money rounded only at the end, see
    :func:`_money`), then the periods
    are summed into each cutoff's windows: the cutoffs meet a few rows per customer, not
    every customer-day (the join of customer-days to cutoffs was the costliest step)."""
    backs = {"now": 0, "w1": w, "w2": 2 * w, "year": 365, "season": 365 - season}
    ends = sorted({c - dt.timedelta(days=b) for c in cutoffs for b in backs.values()})
    # a day is on or before ends[i] when its period is <= i
    index = {end: i + 1 for i, end in enumerate(ends)}
    seen = days.filter(days.day <= ends[-1])
    seen = seen.mutate(period=_periods(seen.day, ends))
    periods = seen.group_by(["customer_id", "period"]).aggregate(
        first_day=seen.day.min(where=seen.purchase),
        last_day=seen.day.max(where=seen.purchase),
        buy=seen.purchase.sum().cast("int64"),
        rev=seen.revenue.sum(),
        gross=seen.gross.sum(),
        ret=seen.returns.sum(),
        # null where no day of the period knows its cost
        costed=seen.costed_revenue.sum(),
        cost=seen.cost.sum(),
    )
    bounds = ibis.memtable(
        {"as_of": list(cutoffs),
         **{f"p_{name}": [index[c - dt.timedelta(days=b)] for c in cutoffs]
            for name, b in backs.items()}},
        schema={"as_of": "date", **{f"p_{name}": "int32" for name in backs}},
    )
    j = periods.join(bounds, periods.period < bounds.p_now)
    in_w1 = j.period >= j.p_w1
    in_w2 = (j.period >= j.p_w2) & (j.period < j.p_w1)
    in_365 = j.period >= j.p_year
    in_last_season = in_365 & (j.period < j.p_season)

    def count(where: ir.BooleanValue) -> ir.Value:
        return j.buy.sum(where=where).fill_null(0).cast("float64")

    def total(column: str, where: ir.BooleanValue | None = None) -> ir.Value:
        return _money(j[column].sum(where=where).fill_null(0))

    base = j.group_by(["as_of", "customer_id"]).aggregate(
        first_day=j.first_day.min(),
        last_day=j.last_day.max(),
        purchase_days=j.buy.sum().cast("int64"),
        orders_w1=count(in_w1),
        orders_w2=count(in_w2),
        orders_365=count(in_365),
        revenue_w1=total("rev", in_w1),
        revenue_w2=total("rev", in_w2),
        revenue_365=total("rev", in_365),
        orders_last_season=count(in_last_season),
        revenue_last_season=total("rev", in_last_season),
        gross_365=total("gross", in_365),
        returns_365=total("ret", in_365),
        revenue_all=total("rev"),
        costed_365=_money(j.costed.sum(where=in_365)),
        cost_365=_money(j.cost.sum(where=in_365)),
    )
    return base.filter(base.purchase_days > 0)


def _sku_breadth(lines: ir.Table, cutoffs: Sequence[dt.date], w: int) -> ir.Table:
    """Distinct SKUs sold (positive lines) per cutoff and customer in w1, w2 and the last year.

    A customer bought a SKU in a window when its last sale of it on or before the window's
    end falls in the window. One group-by per (customer, SKU) finds its last sale before each
    window end (the cutoffs and w before them), over the lines of the dates any cutoff looks
    at; no line is joined to every cutoff that sees it (the costliest step of the features,
    as three distinct counts or as a group-by per cutoff, customer and SKU)."""
    reach = max(365, 2 * w)
    sold = lines.filter(lines.net_revenue > 0).select(
        "customer_id", "sku", day=_day(lines.invoice_date))
    sold = sold.filter(sold.day <= max(cutoffs),
                       sold.day > min(cutoffs) - dt.timedelta(days=reach))
    ends = sorted(set(cutoffs) | {c - dt.timedelta(days=w) for c in cutoffs})
    name = {end: f"last_{i}" for i, end in enumerate(ends)}
    last = sold.group_by(["customer_id", "sku"]).aggregate(
        **{name[end]: sold.day.max(where=sold.day <= end) for end in ends})

    def bought(end: dt.date, since: dt.date) -> ir.Value:
        return (last[name[end]] > since).sum().fill_null(0).cast("float64")

    counts = last.group_by("customer_id").aggregate(**{
        f"{column}_{k}": value for k, c in enumerate(cutoffs) for column, value in (
            ("skus_w1", bought(c, c - dt.timedelta(days=w))),
            ("skus_w2", bought(c - dt.timedelta(days=w), c - dt.timedelta(days=2 * w))),
            ("skus_365", bought(c, c - dt.timedelta(days=365))),
        )})
    return ibis.union(*(
        counts.select("customer_id", as_of=ibis.literal(c, type="date"),
                      **{column: counts[f"{column}_{k}"]
                         for column in ("skus_w1", "skus_w2", "skus_365")})
        for k, c in enumerate(cutoffs)), distinct=False)


def churn_features(
    tables: CustomerTables | ir.Table,
    cutoffs: Sequence[dt.date],
    *,
    window_days: int = 90,
    season_days: int | None = None,
) -> ir.Table:
    """Features of every customer with a purchase on or before each cutoff.

    Parameters
    ----------
    tables
        The customer tables (or just the invoice lines).
    cutoffs
        Dates the features are computed *as of* (inclusive): only data dated on or before each
        cutoff is used for it.
    window_days
        Length of the recent window ``w1`` = (as_of - window, as_of] and of the window before it
        ``w2`` = (as_of - 2 window, as_of - window], used for trends.
    season_days
        Length of "this season last year" = (as_of - 365, as_of - 365 + season_days], the
        window one year before the next ``season_days`` (default ``window_days``; the churn
        model passes its horizon, so the window is its label window a year earlier; at most
        365).

    Returns
    -------
    ibis.expr.types.Table
        One row per (``as_of``, ``customer_id``) with the columns of :data:`FEATURES` plus
        ``frequency``, ``recency`` and ``T`` in days (the BG/NBD summary over purchase days).
        ``gap_ratio`` is the days since the last purchase divided by the customer's median
        gap between purchase days (null with fewer than two purchase days); trends are
        ``(w1 - w2) / (w1 + w2)`` in [-1, 1]. ``orders_last_season`` (purchase days) and
        ``revenue_last_season`` (net) cover this season last year; both are null when the data
        (all customers' lines) start after as_of - 365, so that a short history is "unknown",
        not "bought nothing"; a customer whose first purchase came later has 0.
    """
    if not isinstance(tables, CustomerTables):
        tables = CustomerTables(tables)
    w = int(window_days)
    if w <= 0:
        raise UserInputError(f"window_days must be positive, got {window_days}")
    season = w if season_days is None else int(season_days)
    if not 0 < season <= 365:
        raise UserInputError(f"season_days must be between 1 and 365, got {season_days}")
    cut = _cutoffs(cutoffs)
    dates = sorted(set(cutoffs))
    days = customer_days(tables.lines)
    base = _window_sums(days, dates, w, season)
    # last season is unknown (null) where the data do not reach back a year
    start = days.aggregate(data_start=days.day.min())
    base = base.cross_join(start)
    reaches = base.data_start <= base.as_of - ibis.interval(days=365)
    base = base.mutate(
        orders_last_season=ibis.ifelse(reaches, base.orders_last_season, ibis.null("float64")),
        revenue_last_season=ibis.ifelse(reaches, base.revenue_last_season, ibis.null("float64")),
    ).drop("data_start")

    # Each purchase day with the one and two before it (computed once over the purchase days,
    # not per cutoff: a day's predecessors are the same at every cutoff that sees it), joined
    # to the cutoffs on or after it: each cutoff's gaps (a day minus the one before) and
    # time-decayed order and revenue counts, in one pass.
    # The decayed sums add every purchase day ever seen, as they always did (not a running
    # sum: a float sum's last bits depend on what is added, not only on the total).
    purchases = purchase_days(tables.lines)
    seen = purchases.join(cut, purchases.day <= cut.as_of)
    has_gap = seen.previous.notnull()
    gap = seen.day.delta(seen.previous, unit="day")
    age = seen.as_of.delta(seen.day, unit="day").cast("float64")
    recent_stats = seen.group_by(["as_of", "customer_id"]).aggregate(
        median_gap=gap.median(where=has_gap).cast("float64"),
        gap_std=gap.cast("float64").std(how="pop", where=has_gap),
        orders_decay30=(-age / 30.0).exp().sum(),
        orders_decay90=(-age / 90.0).exp().sum(),
        revenue_decay90=(seen.revenue * (-age / 90.0).exp()).sum().round(_MONEY_DECIMALS),
    )
    # distinct months with a purchase day in the last year: a month of purchase days counts
    # when its first is on or before the cutoff and its last within the year before it (a
    # month is shorter than the year, so some day of it is then in the year); a row per
    # customer and month, not a distinct count over every purchase day and cutoff
    month = purchases.day.truncate("M")
    months = purchases.group_by(["customer_id", month.name("month")]).aggregate(
        first=purchases.day.min(), last=purchases.day.max())
    active = months.join(cut, [months.first <= cut.as_of,
                               cut.as_of.delta(months.last, unit="day") < 365])
    active_months = active.group_by(["as_of", "customer_id"]).aggregate(
        active_months=active.count().cast("float64"))
    skus = _sku_breadth(tables.lines, dates, w)

    f = base.left_join(skus, ["as_of", "customer_id"]).drop("as_of_right", "customer_id_right")
    f = f.left_join(recent_stats, ["as_of", "customer_id"]).drop(
        "as_of_right", "customer_id_right"
    )
    f = f.left_join(active_months, ["as_of", "customer_id"]).drop(
        "as_of_right", "customer_id_right"
    )
    # the 2nd and 3rd last purchase days: those before the last one up to the cutoff
    before = purchases.select(buyer="customer_id", bought="day", previous="previous",
                              previous_2="previous_2")
    f = f.left_join(before, [f.customer_id == before.buyer, f.last_day == before.bought]).drop(
        "buyer", "bought")
    recency = f.as_of.delta(f.last_day, unit="day").cast("float64")
    tenure = f.as_of.delta(f.first_day, unit="day").cast("float64")
    span = f.last_day.delta(f.first_day, unit="day").cast("float64")
    repeats = (f.purchase_days - 1).cast("float64")
    mean_gap = _ratio(span, repeats)

    def trend(a: ir.NumericValue, b: ir.NumericValue) -> ir.NumericValue:
        return _ratio(a - b, a.abs() + b.abs())

    out = f.select(
        as_of=f.as_of,
        customer_id=f.customer_id,
        recency_days=recency,
        tenure_days=tenure,
        purchase_days=f.purchase_days.cast("float64"),
        orders_w1=f.orders_w1,
        orders_w2=f.orders_w2,
        orders_365=f.orders_365,
        order_trend=trend(f.orders_w1, f.orders_w2),
        median_gap=f.median_gap,
        mean_gap=mean_gap,
        gap_cv=_ratio(f.gap_std, mean_gap),
        gap_ratio=_ratio(recency, f.median_gap),
        recency_2nd=f.as_of.delta(f.previous, unit="day").cast("float64"),
        recency_3rd=f.as_of.delta(f.previous_2, unit="day").cast("float64"),
        orders_decay30=f.orders_decay30,
        orders_decay90=f.orders_decay90,
        revenue_decay90=f.revenue_decay90,
        active_months=f.active_months.fill_null(0.0),
        revenue_w1=f.revenue_w1,
        revenue_w2=f.revenue_w2,
        revenue_365=f.revenue_365,
        revenue_trend=trend(f.revenue_w1, f.revenue_w2),
        revenue_per_order=_ratio(f.revenue_all, f.purchase_days),
        returns_share=_ratio(f.returns_365, f.gross_365),
        skus_w1=f.skus_w1.fill_null(0.0),
        skus_w2=f.skus_w2.fill_null(0.0),
        skus_365=f.skus_365.fill_null(0.0),
        sku_trend=trend(f.skus_w1.fill_null(0.0), f.skus_w2.fill_null(0.0)),
        margin_rate=_ratio(f.costed_365 - f.cost_365, f.costed_365),
        orders_last_season=f.orders_last_season,
        revenue_last_season=f.revenue_last_season,
        frequency=repeats,
        recency=span,
        T=tenure,
    )
    out = _join_payments(out, tables.payments, cut)
    out = _join_contacts(out, tables.contacts)
    return out.select("as_of", "customer_id", *FEATURES, "frequency", "recency", "T")


def _join_payments(out: ir.Table, payments: ir.Table | None, cut: ir.Table) -> ir.Table:
    """Late payments over the 365 days before each cutoff, as known at the cutoff.

    A payment is late when it was paid after its due date or is still open after it; a payment
    made after the cutoff counts as still open at the cutoff (the future is not used).
    """
    if payments is None:
        return out.mutate(
            late_share=ibis.null("float64"),
            mean_days_late=ibis.null("float64"),
            overdue_open=ibis.null("float64"),
        )
    p = payments.filter(payments.due_date.notnull())
    pj = p.join(cut, (p.due_date <= cut.as_of) & (p.due_date > cut.as_of - ibis.interval(days=365)))
    paid_known = pj.paid_date.notnull() & (pj.paid_date <= pj.as_of)
    settled = ibis.ifelse(paid_known, pj.paid_date, pj.as_of)
    late_days = ibis.greatest(settled.delta(pj.due_date, unit="day"), 0).cast("float64")
    stats = pj.group_by(["as_of", "customer_id"]).aggregate(
        late_share=(late_days > 0).cast("float64").mean(),
        mean_days_late=late_days.mean(),
        overdue_open=(~paid_known & (late_days > 0)).sum().cast("float64"),
    )
    joined = out.left_join(stats, ["as_of", "customer_id"])
    return joined.drop("as_of_right", "customer_id_right")


def _join_contacts(out: ir.Table, contacts: ir.Table | None) -> ir.Table:
    """Number of contacts and of distinct contact levels per customer.

    The contacts table is a snapshot without history, so it is joined as is to every cutoff.
    """
    if contacts is None:
        return out.mutate(contacts=ibis.null("float64"), contact_levels=ibis.null("float64"))
    stats = contacts.group_by("customer_id").aggregate(
        contacts=contacts.count().cast("float64"),
        contact_levels=contacts.level.nunique().cast("float64"),
    )
    joined = out.left_join(stats, "customer_id").drop("customer_id_right")
    return joined.mutate(
        contacts=joined.contacts.fill_null(0.0), contact_levels=joined.contact_levels.fill_null(0.0)
    )


def churn_labels(
    tables: CustomerTables | ir.Table,
    cutoffs: Sequence[dt.date],
    *,
    horizon_days: int = 90,
) -> ir.Table:
    """What each customer did in the ``horizon_days`` after each cutoff.

    Returns
    -------
    ibis.expr.types.Table
        One row per (``as_of``, ``customer_id``) with a purchase day on or before ``as_of``:
        ``churned`` (true when no purchase day falls in (as_of, as_of + horizon]),
        ``next_revenue`` (net revenue in that window) and ``last_revenue`` (net revenue in the
        ``horizon_days`` up to and including ``as_of``, the revenue lost if they churned).
    """
    if not isinstance(tables, CustomerTables):
        tables = CustomerTables(tables)
    h = int(horizon_days)
    if h <= 0:
        raise UserInputError(f"horizon_days must be positive, got {horizon_days}")
    cut = _cutoffs(cutoffs)
    days = customer_days(tables.lines)
    joined = days.join(cut, days.day <= cut.as_of + ibis.interval(days=h))
    after = joined.day > joined.as_of
    before = ~after
    recent = before & (joined.day > joined.as_of - ibis.interval(days=h))
    agg = joined.group_by(["as_of", "customer_id"]).aggregate(
        seen=(joined.purchase & before).sum(),
        bought_after=(joined.purchase & after).sum(),
        next_revenue=joined.revenue.sum(where=after).fill_null(0.0).round(_MONEY_DECIMALS),
        last_revenue=joined.revenue.sum(where=recent).fill_null(0.0).round(_MONEY_DECIMALS),
    )
    agg = agg.filter(agg.seen > 0)
    return agg.select(
        "as_of",
        "customer_id",
        churned=agg.bought_after == 0,
        next_revenue=agg.next_revenue,
        last_revenue=agg.last_revenue,
    )
