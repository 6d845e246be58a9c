"""Which customers' invoice lines changed since per-customer state kept in the workspace was
computed (the customer-days of :mod:`salesradar.models.features`, the pair facts of
:mod:`salesradar.models.stopped_items`).

A customer's lines are fingerprinted by their number and the sum of a hash of each line's
columns that the kept state reads: a line added, removed or edited changes the fingerprint
(its *stamp*). The stamps of every customer scan all the invoice lines, so a refresh
(:func:`~salesradar.models.features.sharing_customer_days`) computes them once, with the
lines of the customers whose customer-days changed, in its shared database; every kept state
then compares them with the stamps it was computed from."""

from __future__ import annotations

from typing import Any

from salesradar.models.refresh_scope import SHARED_DATABASE, shared_value

__all__ = [
    "CHANGED_CUSTOMERS",
    "CHANGED_LINES",
    "LINE_COLUMNS",
    "STAMP_COLUMNS",
    "changed_lines",
    "line_stamps",
    "share_changed_lines",
    "share_line_stamps",
]

# per customer: lines, stamp (of what the pair facts read: SKU, date, amount) and day_stamp (of
# what the customer-days read: date, amount, cost)
STAMP_COLUMNS = ("customer_id", "lines", "stamp", "day_stamp")
_STAMPS_SELECT = (
    "SELECT customer_id, count(*) AS lines, "
    "sum(hash(sku, invoice_date, net_revenue)::HUGEINT) AS stamp, "
    "sum(hash(invoice_date, net_revenue, cost)::HUGEINT) AS day_stamp "
    "FROM invoice_lines GROUP BY customer_id")
# the shared copies, in the refresh's shared database
_SHARED_STAMPS = f"{SHARED_DATABASE}.main._salesradar_line_stamps"
# the customers whose customer-days are computed again in this refresh (filled by features)
CHANGED_CUSTOMERS = f"{SHARED_DATABASE}.main._salesradar_changed_customers"
CHANGED_LINES = "_salesradar_changed_lines"  # in SHARED_DATABASE
# the columns of the invoice lines any kept state reads
LINE_COLUMNS = ("customer_id", "invoice_date", "sku", "net_revenue", "cost")
# a connection's own stamps, when the refresh shares none: only what the pair facts read
_OWN_STAMPS = "_salesradar_line_stamps_own"  # a temporary table
_OWN_STAMPS_SELECT = (
    "SELECT customer_id, count(*) AS lines, "
    "sum(hash(sku, invoice_date, net_revenue)::HUGEINT) AS stamp "
    "FROM invoice_lines GROUP BY customer_id")


def share_line_stamps(con: Any) -> str:
    """Compute the stamps of every customer's lines into the refresh's shared database (which
    must be attached) and return the table's name, for :func:`line_stamps`."""
    con.execute(f"CREATE OR REPLACE TABLE {_SHARED_STAMPS} AS {_STAMPS_SELECT}")
    return _SHARED_STAMPS


def line_stamps(ws: Any) -> tuple[str, bool]:
    """The name of a table of every customer's stamps of ``ws``'s invoice lines (at least
    ``customer_id``, ``lines`` and ``stamp``), and whether it is the caller's own, to drop when
    done: the refresh's shared one (:data:`STAMP_COLUMNS`) when ``ws`` is refreshed and keeps
    its customer-days (:func:`~salesradar.models.features.sharing_customer_days`), else a
    temporary table computed now on ``ws``'s connection (without ``day_stamp``)."""
    shared = shared_value(ws, "line_stamps")
    if shared is not None:
        return str(shared), False
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE {_OWN_STAMPS} AS {_OWN_STAMPS_SELECT}")
    return f"temp.main.{_OWN_STAMPS}", True


def share_changed_lines(con: Any, with_null: bool) -> tuple[str, str]:
    """Copy the lines (:data:`LINE_COLUMNS`) of the customers in :data:`CHANGED_CUSTOMERS`
    (``with_null``: and the lines without a customer) into the shared database, in one scan
    of the lines, read by every kept state; return the names of the customers' table and of
    the lines' (in the shared database), for :func:`changed_lines`."""
    nulls = " OR customer_id IS NULL" if with_null else ""
    con.execute(
        f"CREATE OR REPLACE TABLE {SHARED_DATABASE}.main.{CHANGED_LINES} AS "  # noqa: S608
        f"SELECT {', '.join(LINE_COLUMNS)} FROM invoice_lines WHERE customer_id IN "
        f"(SELECT customer_id FROM {CHANGED_CUSTOMERS}){nulls}")
    return CHANGED_CUSTOMERS, CHANGED_LINES


def changed_lines(ws: Any) -> tuple[str, str] | None:
    """The refresh's shared (customers, lines) of :func:`share_changed_lines` when ``ws`` is
    refreshed and they were copied: the qualified name of the table of customers, and the
    name of the lines' table in the shared database. None otherwise."""
    value = shared_value(ws, "changed_lines")
    return None if value is None else (str(value[0]), str(value[1]))
