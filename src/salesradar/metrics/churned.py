"""Who churned in a period: the customers behind ``churned_customers``, their value, and which of
them should have bought given their own rhythm.

Same definition as the KPI (DESIGN.md, "churn over window w"): a customer churned in period ``p``
(window ``w`` = the length of ``p``) when it was active in the slice in the period before ``p``
(net revenue > 0 there) and bought nothing in ``p`` (its company-wide net revenue in ``p`` is not
> 0). With ``by=("rep",)`` a customer appears under every rep it was active with before ``p``,
as in the KPI by rep; without ``by`` once, for the whole company.

For each churned customer:

* ``value``: its net revenue in the period before ``p`` (in the slice): what is at stake;
* ``last_purchase``: its last purchase day before ``p`` (a day with gross sales > 0, as
  everywhere: :func:`salesradar.models.cadence.customer_rhythm`);
* ``purchase_days``: how many purchase days it had before ``p``;
* ``typical_gap_days``: the median number of days between consecutive purchase days before ``p``
  (the rhythm the churn texts, the health score and the customer view state too); null with
  fewer than three purchase days (one gap is not a rhythm);
* ``days_since_last``: days from ``last_purchase`` to the last day of ``p``;
* ``expected_purchases``: the length of ``p`` in days ÷ ``typical_gap_days``: how many purchases
  its own rhythm would have put in ``p``;
* ``should_have_bought``: ``expected_purchases`` ≥ 1 (null when the rhythm is unknown) — these
  customers broke their own rhythm, which makes the loss more likely real than seasonal.

>>> import datetime as dt
>>> from salesradar.workspace import Workspace
>>> ws = Workspace.open(":memory:")
>>> ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, "
...                "sku, quantity, net_revenue) VALUES ('1', 1, '2024-02-10', 'c1', 'X', 1, 110), "
...                "('2', 1, '2024-03-31', 'c2', 'X', 1, 50)").fetchall()
[(2,)]
>>> row = churned(ws.backend, "2024-03").to_pylist()[0]
>>> row["customer_id"], float(row["value"]), row["should_have_bought"]
('c1', 110.0, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa

from salesradar.charts.labels import format_day
from salesradar.currency import exact
from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics.analyses import parse_period
from salesradar.metrics.catalog._common import days_between, per_customer, ratio
from salesradar.metrics.frame import LINE_DIMS, Query, check_request, period_start, shift_date
from salesradar.metrics.registry import ONLY_GRAINS, Grain
from salesradar.workspace import last_invoice_day

COLUMNS = ("value", "last_purchase", "purchase_days", "typical_gap_days", "days_since_last",
           "expected_purchases", "should_have_bought")


def churn_window(period: str | date, window: str | None = None) -> tuple[date, Grain]:
    """The start and grain of the period asked for: ``2024-03``, ``2024-Q1``, ``2024``, or a date
    with ``window`` (month by default) meaning the period of that grain holding the date."""
    if window is not None and window not in ONLY_GRAINS:
        raise UserInputError(f"--window must be one of {', '.join(map(str, ONLY_GRAINS))}, "
                             f"not {window!r}")
    grain: Grain | None = window
    start, found = parse_period(period, grain)
    if grain is not None and found != grain:
        raise UserInputError(f"--period {period} is a {found}, but --window says {grain}; "
                             "give a date (2024-03-15) to pick the window around it")
    return period_start(start, found), found


def churned(
    backend: Any,
    period: str | date,
    *,
    window: str | None = None,
    by: Sequence[str] = (),
) -> pa.Table:
    """The customers who churned in ``period``, most valuable first (see the module docstring).

    Columns: the dimension columns of ``by`` (e.g. ``rep_id``), ``customer_id``, ``name`` (from
    ``customers``, when loaded) and :data:`COLUMNS`.

    Raises
    ------
    UserInputError
        Unreadable period, unknown or unsupported dimension, or a period after the data.
    """
    start, grain = churn_window(period, window)
    dims, _ = check_request("churned", LINE_DIMS, ONLY_GRAINS, tuple(by), grain)
    before, after = shift_date(start, grain, -1), shift_date(start, grain)
    lines = backend.table("invoice_lines")
    last_day = last_invoice_day(lines)
    if last_day is None or last_day < start:
        raise UserInputError(f"the invoice lines end on {last_day}, before {start}: "
                             "there is nothing to say about who stopped buying then")
    q = Query(backend, dims, grain, before, start - timedelta(days=1))
    was = per_customer(q)
    was = was.filter((was.period == ibis.date(before)) & (was.revenue > 0))
    now = lines.filter((lines.invoice_date >= ibis.date(start))
                       & (lines.invoice_date < ibis.date(after)))
    now = now.group_by("customer_id").aggregate(_now=now.net_revenue.sum())
    now = now.filter(now._now > 0).select(_active="customer_id")
    gone = was.anti_join(now, was.customer_id == now._active)
    rhythm = _rhythm(lines, start).rename(_rc="customer_id")
    j = gone.left_join(rhythm, gone.customer_id == rhythm._rc)
    length = float((after - start).days)
    expected = ratio(ibis.literal(length, type="float64"), j.typical_gap_days)
    out = j.select(
        *q.dim_columns, "customer_id", value=j.revenue, last_purchase=j.last_purchase,
        purchase_days=j.purchase_days.fill_null(0), typical_gap_days=j.typical_gap_days,
        days_since_last=days_between(ibis.date(after - timedelta(days=1)), j.last_purchase),
        expected_purchases=expected, should_have_bought=expected >= 1,
    )
    out = _with_names(backend, out)
    table: pa.Table = out.order_by([ibis.desc("value"), *q.dim_columns, "customer_id"]) \
        .to_pyarrow()
    return table


def _rhythm(lines: Any, before: date) -> Any:
    """Per customer, from its purchase days before ``before``: count, last day, median gap, as
    :func:`salesradar.models.cadence.customer_rhythm` defines them."""
    # imported here: the models package takes about a second to import; `salesradar kpi` needs
    # none of it
    from salesradar.models.cadence import customer_rhythm

    terms = customer_rhythm(lines, before - timedelta(days=1))
    return terms.select("customer_id", "purchase_days", "typical_gap_days",
                        last_purchase=terms.last_order)


def _with_names(backend: Any, t: Any) -> Any:
    """``t`` with the customer's ``name`` after ``customer_id`` (null without ``customers``)."""
    order = [*t.columns[: t.columns.index("customer_id") + 1], "name", *COLUMNS]
    if "customers" not in table_names(backend):
        return t.mutate(name=ibis.null("string")).select(*order)
    c = backend.table("customers")
    c = c.select(_nc=c.customer_id, name=c.name)
    return t.left_join(c, t.customer_id == c._nc).select(*order)


def churned_summary(table: pa.Table, period: str | date, window: str | None = None
                    ) -> dict[str, Any]:
    """Totals of a :func:`churned` table: how many, their value, how many broke their rhythm."""
    start, grain = churn_window(period, window)
    values = [float(v) for v in table["value"].to_pylist() if v is not None]
    broke = [v for v in table["should_have_bought"].to_pylist() if v]
    before = shift_date(start, grain, -1)
    n, value = table.num_rows, sum(values)
    since, of = format_day(before), format_day(start)
    return {
        "period": start.isoformat(),
        "window": grain,
        "previous_period": before.isoformat(),
        "customers": n,
        "value": value,
        "should_have_bought": len(broke),
        "summary_en": f"{n:,} customers who bought in the {grain} from {since} bought nothing "
                      f"in the {grain} from {of} ({exact(value)} the {grain} before); "
                      f"{len(broke):,} of them should have bought by their own rhythm.",
        "summary_he": f"{n:,} לקוחות שקנו ב{_HE_GRAIN[grain]} שמתחיל ב-{since} לא קנו דבר "
                      f"ב{_HE_GRAIN[grain]} שמתחיל ב-{of} ({exact(value)} בתקופה הקודמת); "
                      f"{len(broke):,} מהם היו אמורים לקנות לפי הקצב שלהם.",
    }


_HE_GRAIN = {"day": "יום", "week": "שבוע", "month": "חודש", "quarter": "רבעון", "year": "שנה"}
