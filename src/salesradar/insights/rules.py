"""The insight rules: one query per kind over the workspace and its ``score_*`` tables.

Each rule reads the workspace through DuckDB (set-based SQL, never a Python loop over invoice
lines) or a model function, and returns :class:`Finding` rows: the subject, its owner, the money
at stake, an urgency in 0–1 and the numbers behind the *why*. :mod:`salesradar.insights.generate`
turns findings into bilingual :class:`~salesradar.insights.model.Insight` objects.

Every threshold is a field of :class:`RuleSettings` with its default documented there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.insights.model import Kind, Subject
from salesradar.insights.thresholds import RuleSettings
from salesradar.models.anomalies import detect_anomalies, margin_erosion
from salesradar.models.cadence import customer_terms
from salesradar.models.churn_text import terms_of
from salesradar.models.features import customer_days
from salesradar.models.non_product import non_product_codes, product_names
from salesradar.workspace import Workspace

__all__ = ["RULES", "Context", "Finding", "Rule", "RuleSettings"]


@dataclass(frozen=True)
class Context:
    """What every rule reads: the workspace, the moment judged and the settings.

    ``as_of`` is the day judged; ``now`` the moment (end of ``as_of`` unless a time was given),
    naive UTC like the workspace timestamps.
    """

    ws: Workspace
    as_of: dt.date
    now: dt.datetime
    settings: RuleSettings

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Run ``sql`` with positional ``?`` parameters; rows as plain-JSON dicts."""
        return plain_rows(self.ws.con.execute(sql, list(params)).to_arrow_table())


@dataclass(frozen=True)
class Finding:
    """One situation found by a rule, before it gets its words and priority."""

    kind: Kind
    subject: Subject
    owner_rep_id: str | None
    value: float
    urgency: float
    evidence: dict[str, Any]


def plain(value: Any) -> Any:
    """A JSON-ready version of a value from DuckDB (Decimal → float, NaN → None, dates → ISO)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _is_plain(kind: pa.DataType) -> bool:
    """True for an Arrow type whose Python values :func:`plain` keeps as they are."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _is_plain(kind.value_type)
    return bool(pa.types.is_integer(kind) or pa.types.is_string(kind)
                or pa.types.is_large_string(kind) or pa.types.is_boolean(kind)
                or pa.types.is_null(kind))


_MICROSECONDS = pa.timestamp("us")  # a naive timestamp column as DuckDB gives it


def _plain_column(column: pa.ChunkedArray) -> list[Any]:
    """:func:`plain` of every value of an Arrow column, converting only the types that need it
    (integer, text and boolean columns, lists of them, and float columns without NaN or
    infinity are already plain). Dates and naive timestamps become their ISO text in Arrow
    (what ``isoformat()`` writes), not through a Python object per value."""
    kind = column.type
    if pa.types.is_date(kind):  # date.isoformat(): YYYY-MM-DD
        return column.cast(pa.string()).to_pylist()  # type: ignore[no-any-return]
    if kind == _MICROSECONDS:  # datetime.isoformat(): T, and the microseconds only when not 0
        text = pc.replace_substring(column.cast(pa.string()), " ", "T", max_replacements=1)
        return pc.replace_substring_regex(  # type: ignore[no-any-return]
            text, pattern=r"\.000000$", replacement="").to_pylist()
    values: list[Any] = column.to_pylist()
    if _is_plain(kind):
        return values
    if pa.types.is_floating(kind) and not pc.any(
            pc.invert(pc.is_finite(column)), skip_nulls=True).as_py():
        return values
    if pa.types.is_decimal(kind):  # decimal.Decimal values
        return [None if v is None else float(v) for v in values]
    return [plain(v) for v in values]


def plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of an Arrow table as dicts of :func:`plain` values, converted column by column
    (what ``{k: plain(v) for k, v in row.items()}`` over ``table.to_pylist()`` gives, faster)."""
    columns = {name: _plain_column(column)
               for name, column in zip(table.column_names, table.columns, strict=True)}
    if not columns:
        return [{} for _ in range(table.num_rows)]
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.month - 1 + n, 12)
    return dt.date(day.year + y, m + 1, 1)


# ---------------------------------------------------------------------- model-based rules
_CHURN_COLUMNS = """s.customer_id, cu.name AS customer_name, cu.rep_id, s.as_of,
                   s.churn_probability, s.value_at_stake, s.year_sales, s.year_returns,
                   s.days_since_last_order, s.median_gap_days, {longest} AS longest_gap_days,
                   s.purchase_days, s.first_order, s.previous_order, s.last_order,
                   s.last_order_sales, s.p_alive, s.reasons, s.reasons_he, s.reason_groups,
                   s.reason_claims, s.scored_by"""


def _scored_or_null(ctx: Context, table: str, column: str, sql_type: str) -> str:
    """``s.<column>``, or a null of ``sql_type`` where ``table`` was scored by a version that
    did not keep that column yet (read as before until the next refresh scores anew)."""
    return f"s.{column}" if column in ctx.ws.table(table).columns else f"NULL::{sql_type}"


def _churn_columns(ctx: Context) -> str:
    """:data:`_CHURN_COLUMNS`, the longest pause null in churn scores kept before it was."""
    return _CHURN_COLUMNS.format(
        longest=_scored_or_null(ctx, "score_churn", "longest_gap_days", "DOUBLE"))
# reasons that can carry a churn alert on their own for a customer inside its rhythm
_ALERTING_REASONS = ("revenue", "orders", "breadth", "returns")


def churn_risk(ctx: Context) -> list[Finding]:
    """Customers at risk of leaving, worded by what their own history proves.

    - With a rhythm (at least three purchase days) and past it, and past its longest pause
      before: *drifting* (or *stopped ordering*, a win-back, once silent longer than
      ``churn_lost_days``).
    - Inside its rhythm, past it but not past a pause it came back from before (on the public
      datasets those customers reorder as often as the ones inside their rhythm), or with two
      purchase days: only when a reason whose direction holds (spend, orders or items
      falling, returns) carries the alert, and it is named with its numbers; two purchase
      days past their one gap also count ("not reordered").
    - One purchase day: never a churn alert (see :func:`no_repeat_order`).

    The money at stake is the customer's (``score_churn.value_at_stake``, defined once in
    :mod:`salesradar.models.cadence`), the same figure ``salesradar customer`` states.
    """
    s = ctx.settings
    rows = ctx.rows(
        f"""SELECT {_churn_columns(ctx)}
            FROM score_churn s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            WHERE s.churn_probability >= ? AND s.value_at_stake >= ? AND s.purchase_days >= 2
              AND (?::INTEGER IS NULL OR s.days_since_last_order <= ?::INTEGER)
            ORDER BY s.customer_id""",  # noqa: S608 - a constant column list, no input
        s.churn_min_probability, s.churn_min_value, s.churn_max_days_since,
        s.churn_max_days_since,
    )
    out = []
    for r in rows:
        situation, since = _churn_situation(r)
        alerting = [g for g in (r["reason_groups"] or []) if g in _ALERTING_REASONS]
        if situation in _QUIET_SITUATIONS and not alerting:
            continue  # nothing in its own history says it is leaving
        # "stopped ordering" (a win-back) needs a rhythm it is past, and a long silence
        lost = situation == "past_rhythm" and since > s.churn_lost_days
        # a long-lost customer is a win-back, less urgent than one leaving right now
        urgency = _clip(r["churn_probability"]) * (0.5 if lost else 1.0)
        evidence = {**r, "lost": lost, "situation": situation,
                    "lead_reason": alerting[0] if alerting else None,
                    # two orders, then silent that long: its next step is a win-back too
                    "long_silent": situation == "not_reordered" and since > s.churn_lost_days}
        out.append(Finding(Kind.CHURN_RISK, Subject("customer", r["customer_id"]), r["rep_id"],
                           float(r["value_at_stake"]), urgency, evidence))
    return out


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


# situations in which the silence alone says nothing: an alert needs a reason that holds
_QUIET_SITUATIONS = ("within_rhythm", "paused_before")


def _churn_situation(r: dict[str, Any]) -> tuple[str, float]:
    """past_rhythm, paused_before (past its rhythm, not past its longest pause),
    not_reordered or within_rhythm, and the days since the last order, from the customer's
    terms (:func:`~salesradar.models.churn_text.terms_of`; with three purchase days or more,
    its three numbers only)."""
    days = r.get("purchase_days")
    if days is not None and int(float(days)) >= 3:  # terms_of's purchase_days
        since = _number(r.get("days_since_last_order"))
        gap = _number(r.get("typical_gap_days", r.get("median_gap_days")))
        if not since > gap:
            return "within_rhythm", since
        # NaN (scores kept before the longest pause was) compares False: past_rhythm
        return "paused_before" if since <= _number(r.get("longest_gap_days")) else \
            "past_rhythm", since
    t = terms_of(r)  # fewer than three purchase days: the two last ones
    since = t["days_since_last_order"]
    apart = (t["last_order"] - t["previous_order"]).days if t["previous_order"] else 0
    return "not_reordered" if since > apart else "within_rhythm", since


def repeat_window(ctx: Context) -> float | None:
    """Median days from a customer's first to its second purchase day, over the customers
    who bought again (on or before the day judged); None when fewer than 10 did."""
    # a purchase day: a customer-day with a positive line (customer_days' purchase; in a
    # refresh, its shared table, not another pass over the lines); per customer its two first
    # ones (min(day, 2): the two smallest, ascending), no window and self-join over every day
    days = str(ibis.to_sql(customer_days(ctx.ws.table("invoice_lines"))))
    rows = ctx.rows(
        f"""WITH d AS ({days}),
            f AS (SELECT min(day, 2) AS two FROM d
                  WHERE purchase AND day <= ? AND customer_id IS NOT NULL
                  GROUP BY customer_id)
            SELECT count(*) AS n, median(two[2] - two[1])::DOUBLE AS days
            FROM f WHERE len(two) = 2""",  # noqa: S608 - SQL compiled by Ibis, no input
        ctx.as_of,
    )
    if not rows or (rows[0]["n"] or 0) < 10:
        return None
    return float(rows[0]["days"])


def no_repeat_order(ctx: Context) -> list[Finding]:
    """New customers whose first order has had no second one for longer than the company's
    usual wait for a second order (:func:`repeat_window`), up to ``churn_lost_days``.

    Not a churn alert (a one-time buyer has no rhythm to drift from): a real B2B moment with
    its own next step. Money at stake: the customer's (net of any credit note since).
    """
    s = ctx.settings
    window = repeat_window(ctx)
    if window is None:
        return []
    rows = ctx.rows(
        f"""SELECT {_churn_columns(ctx)}
            FROM score_churn s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            WHERE s.purchase_days = 1 AND s.value_at_stake >= ?
              AND s.days_since_last_order > ? AND s.days_since_last_order <= ?
            ORDER BY s.customer_id""",  # noqa: S608 - a constant column list, no input
        s.churn_min_value, window, s.churn_lost_days,
    )
    return [
        Finding(Kind.NO_REPEAT_ORDER, Subject("customer", r["customer_id"]), r["rep_id"],
                float(r["value_at_stake"]),
                _clip(1.0 - float(r["days_since_last_order"]) / (2.0 * s.churn_lost_days)),
                {**r, "repeat_days": round(window)})
        for r in rows
    ]


def stopped_item(ctx: Context) -> list[Finding]:
    """Items a customer bought regularly and then stopped: one finding per customer (its items
    together, biggest first, one next step), so the top of a rep's list covers several
    customers. The money at stake is the sum of the items' (each its net revenue in the year
    to its last purchase, as ``score_stopped_items.value_at_stake``)."""
    s = ctx.settings
    # items scored before the longest gap was kept: none to claim
    longest = _scored_or_null(ctx, "score_stopped_items", "longest_gap", "DOUBLE")
    rows = ctx.rows(
        f"""SELECT s.customer_id, cu.name AS customer_name, cu.rep_id, s.sku, s.purchases,
                   s.last_day, s.gap_days, s.median_gap, {longest} AS longest_gap, s.p_gap,
                   s.value_at_stake, s.returned_after_last, s.last_return_day, s.scored_by
            FROM score_stopped_items s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            WHERE s.value_at_stake >= ?
            ORDER BY s.value_at_stake DESC, s.customer_id, s.sku LIMIT ?""",  # noqa: S608
        s.stopped_min_value, s.stopped_max_insights,
    )
    if not rows:
        return []
    names_table = product_names(ctx.ws)
    wanted = names_table.filter(names_table.sku.isin(sorted({r["sku"] for r in rows})))
    names = {r["sku"]: r["name"] for r in wanted.to_pyarrow().to_pylist()}
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_customer.setdefault(r["customer_id"], []).append({**r, "sku_name": names.get(r["sku"])})
    out = []
    for customer, items in by_customer.items():
        first = items[0]
        evidence = {"customer_id": customer, "customer_name": first["customer_name"],
                    "rep_id": first["rep_id"], "as_of": ctx.as_of.isoformat(),
                    "items": items, "value_at_stake": sum(float(i["value_at_stake"])
                                                          for i in items)}
        urgency = max(_stopped_urgency(i) for i in items)
        out.append(Finding(Kind.STOPPED_ITEM, Subject("customer", customer), first["rep_id"],
                           evidence["value_at_stake"], urgency, evidence))
    return out


def _stopped_urgency(item: dict[str, Any]) -> float:
    """1 − the model's chance of a gap this long; from the gap rule (no ``p_gap``), 1 − the
    pair's median gap ÷ the current gap (at least 0.5 past twice the median)."""
    if item.get("p_gap") is not None:
        return _clip(1.0 - float(item["p_gap"]))
    gap, usual = float(item["gap_days"] or 0.0), float(item["median_gap"] or 0.0)
    return _clip(1.0 - usual / gap) if gap > 0 else 0.0


def cross_sell(ctx: Context) -> list[Finding]:
    """The top recommendation per customer above a value floor, at most N per rep.

    The offer's worth is a yearly amount (``expected_value``: the median a buyer of the item
    spent on it in the last year), told only when enough customers bought the item in that
    year (``cross_sell_min_buyers``); the reason's numbers come with it (anchor SKU, buyers,
    co-buyers) for the claims.
    """
    s = ctx.settings
    # offers scored before the anchors' names were kept: their codes
    anchor_name = _scored_or_null(ctx, "score_cross_sell", "anchor_name", "VARCHAR")
    rows = ctx.rows(
        f"""WITH top AS (
                SELECT s.customer_id, cu.name AS customer_name, cu.rep_id, s.sku,
                       s.name AS sku_name, s.score, s.reason, s.expected_value,
                       s.anchor_sku, {anchor_name} AS anchor_name, s.anchor_buyers,
                       s.co_buyers, s.sku_buyers,
                       s.year_buyers, s.customers, s.scored_by,
                       row_number() OVER (PARTITION BY cu.rep_id
                                          ORDER BY s.expected_value DESC, s.customer_id) AS n
                FROM score_cross_sell s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
                WHERE s.rank = 1 AND s.expected_value >= ? AND s.year_buyers >= ?)
            SELECT * EXCLUDE (n) FROM top WHERE n <= ? ORDER BY customer_id""",  # noqa: S608
        s.cross_sell_min_value, s.cross_sell_min_buyers, s.cross_sell_per_rep,
    )
    if not rows:
        return []
    excluded = non_product_codes(ctx.ws)
    return [
        Finding(Kind.CROSS_SELL, Subject("customer_sku", f"{r['customer_id']}/{r['sku']}"),
                r["rep_id"], float(r["expected_value"]), 0.3 * _clip(float(r["score"])),
                {**r, "anchor": {"sku": r.pop("anchor_sku"), "name": r.pop("anchor_name")},
                 "as_of": ctx.as_of.isoformat(),
                 "non_product_codes": excluded})
        for r in rows
    ]


def single_threaded_account(ctx: Context) -> list[Finding]:
    """Key accounts known through one contact only, or with no executive contact.

    Key accounts: the tiers judged, the top-N by trailing-12-month revenue, and every customer
    of a rep working as an account manager.
    """
    s = ctx.settings
    rows = ctx.rows(
        """WITH rev AS (
                SELECT customer_id, sum(net_revenue)::DOUBLE AS revenue_12m,
                       -- ties in customer order: the same rank run after run
                       row_number() OVER (ORDER BY sum(net_revenue) DESC, customer_id)
                           AS revenue_rank
                FROM invoice_lines
                WHERE invoice_date::DATE > ? - INTERVAL 365 DAY AND invoice_date::DATE <= ?
                GROUP BY customer_id),
            con AS (
                SELECT customer_id, count(*) AS contacts,
                       count(*) FILTER (WHERE level = 'executive') AS executives
                FROM contacts GROUP BY customer_id),
            s AS (
                SELECT coalesce(t.customer_id, rev.customer_id) AS customer_id, t.tier,
                       rev.revenue_12m, rev.revenue_rank
                FROM score_tiers t FULL JOIN rev ON rev.customer_id = t.customer_id)
            SELECT s.customer_id, cu.name AS customer_name, cu.rep_id, s.tier,
                   coalesce(s.revenue_12m, 0) AS revenue_12m, s.revenue_rank,
                   coalesce(con.contacts, 0) AS contacts,
                   coalesce(con.executives, 0) AS executives, r.model AS rep_model
            FROM s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            LEFT JOIN con ON con.customer_id = s.customer_id
            LEFT JOIN reps r ON r.rep_id = cu.rep_id
            WHERE (list_contains(?::VARCHAR[], s.tier) OR s.revenue_rank <= ?
                   OR list_contains(?::VARCHAR[], r.model))
              AND (coalesce(con.contacts, 0) <= 1 OR coalesce(con.executives, 0) = 0)
              AND coalesce(s.revenue_12m, 0) > 0
            ORDER BY s.customer_id""",
        ctx.as_of, ctx.as_of, list(s.single_thread_tiers), s.single_thread_top_n,
        list(s.single_thread_models),
    )
    return [
        Finding(Kind.SINGLE_THREADED_ACCOUNT, Subject("customer", r["customer_id"]),
                r["rep_id"], float(r["revenue_12m"]), 0.5 if r["contacts"] <= 1 else 0.35, r)
        for r in rows
    ]


def overdue_payments_at_risk(ctx: Context) -> list[Finding]:
    """Customers owing overdue money who also show churn risk."""
    s = ctx.settings
    rows = ctx.rows(
        """WITH due AS (
                SELECT customer_id, sum(amount)::DOUBLE AS overdue_amount,
                       count(*) AS overdue_invoices,
                       max(?::DATE - due_date) AS max_days_overdue
                FROM payments
                WHERE due_date < ? AND (paid_date IS NULL OR paid_date > ?)
                GROUP BY customer_id)
            SELECT s.customer_id, cu.name AS customer_name, cu.rep_id, s.overdue_amount,
                   s.overdue_invoices, s.max_days_overdue, c.churn_probability,
                   c.days_since_last_order
            FROM due s JOIN score_churn c ON c.customer_id = s.customer_id
            LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            WHERE c.churn_probability >= ? AND s.overdue_amount >= ?
            ORDER BY s.customer_id""",
        ctx.as_of, ctx.as_of, ctx.as_of, s.overdue_min_probability, s.overdue_min_amount,
    )
    return [
        Finding(Kind.OVERDUE_PAYMENTS_AT_RISK, Subject("customer", r["customer_id"]),
                r["rep_id"], float(r["overdue_amount"]),
                _clip(0.5 * r["churn_probability"] + r["max_days_overdue"] / 180), r)
        for r in rows
    ]


# ------------------------------------------------------------------------ data rules
def concentration(ctx: Context) -> list[Finding]:
    """Customers above the threshold share of trailing-12-month revenue."""
    rows = ctx.rows(
        """WITH rev AS (
                SELECT customer_id, sum(net_revenue) AS exact_12m
                FROM invoice_lines
                WHERE invoice_date::DATE > ? - INTERVAL 365 DAY AND invoice_date::DATE <= ?
                GROUP BY customer_id),
            -- exact sums, then floats: the share at the threshold does not move with threads
            s AS (SELECT customer_id, exact_12m::DOUBLE AS revenue_12m,
                         (sum(exact_12m) OVER ())::DOUBLE AS total_12m,
                         exact_12m::DOUBLE / nullif((sum(exact_12m) OVER ())::DOUBLE, 0)
                             AS share FROM rev)
            SELECT s.customer_id, cu.name AS customer_name, cu.rep_id, s.revenue_12m,
                   s.total_12m, s.share
            FROM s LEFT JOIN customers cu ON cu.customer_id = s.customer_id
            WHERE s.share > ? ORDER BY s.share DESC""",
        ctx.as_of, ctx.as_of, ctx.settings.concentration_threshold,
    )
    return [
        Finding(Kind.CONCENTRATION, Subject("customer", r["customer_id"]), r["rep_id"],
                float(r["revenue_12m"]), _clip(float(r["share"]) * 2),
                {**r, "threshold": ctx.settings.concentration_threshold})
        for r in rows
    ]


def lead_not_contacted(ctx: Context) -> list[Finding]:
    """Open leads older than their SLA with no activity at all."""
    s = ctx.settings
    rows = ctx.rows(
        """WITH l AS (
                SELECT l.lead_id, l.created_at, l.source, l.status, l.owner_rep_id,
                       coalesce(r.model, 'account') AS model,
                       CASE WHEN r.model = 'centre' THEN ? ELSE ? END AS sla_hours,
                       date_diff('second', l.created_at, ?::TIMESTAMP) / 3600.0 AS age_hours
                FROM leads l LEFT JOIN reps r ON r.rep_id = l.owner_rep_id
                WHERE l.created_at <= ?::TIMESTAMP AND l.deal_id IS NULL
                  AND lower(coalesce(l.status, 'new'))
                      NOT IN ('converted', 'disqualified', 'lost', 'closed', 'won'))
            SELECT l.* FROM l
            WHERE l.age_hours > l.sla_hours AND (?::INTEGER IS NULL
                                               OR l.age_hours <= ?::INTEGER * 24)
              AND NOT EXISTS (SELECT 1 FROM activities a
                              WHERE a.lead_id = l.lead_id AND a.at <= ?::TIMESTAMP)
            ORDER BY l.lead_id""",
        s.lead_sla_hours_centre, s.lead_sla_hours_account, ctx.now, ctx.now,
        s.lead_max_age_days, s.lead_max_age_days, ctx.now,
    )
    value = _lead_value(ctx)
    return [
        Finding(Kind.LEAD_NOT_CONTACTED, Subject("lead", r["lead_id"]), r["owner_rep_id"],
                value, _lead_urgency(r["age_hours"], r["sla_hours"]), {**r, "lead_value": value})
        for r in rows
    ]


def _lead_urgency(age_hours: float, sla_hours: float) -> float:
    """1 just past the SLA (the lead is still warm), falling to 0.5 as the lead goes cold."""
    return _clip(0.5 + 0.5 * sla_hours / max(age_hours, 1e-9))


def _lead_value(ctx: Context) -> float:
    """Expected value of one lead: won deal amount of converted leads ÷ all leads (12 months)."""
    rows = ctx.rows(
        """SELECT coalesce(sum(d.amount) FILTER (WHERE d.outcome = 'won'), 0)::DOUBLE
                  / nullif(count(DISTINCT l.lead_id), 0) AS v
           FROM leads l LEFT JOIN deals d ON d.deal_id = l.deal_id
           WHERE l.created_at > ?::TIMESTAMP - INTERVAL 365 DAY AND l.created_at <= ?""",
        ctx.now, ctx.now,
    )
    v = rows[0]["v"] if rows else None
    return round(float(v), 2) if v else 0.0


def coverage_period(ctx: Context) -> dt.date:
    """The month judged for coverage: this month, or next one when it is nearly over."""
    start = _month_start(ctx.as_of)
    days_left = (_add_months(start, 1) - ctx.as_of).days - 1
    return _add_months(start, 1) if days_left <= ctx.settings.coverage_roll_days else start


def pipeline_coverage_low(ctx: Context) -> list[Finding]:
    """Reps whose open pipeline closing this month is under N× the target still to win."""
    s = ctx.settings
    start = coverage_period(ctx)
    end = _add_months(start, 1)
    rows = ctx.rows(
        """WITH t AS (
                SELECT rep_id, sum(value)::DOUBLE AS target FROM targets
                WHERE rep_id IS NOT NULL AND metric = 'revenue' AND period::DATE = ?
                GROUP BY rep_id),
            d AS (
                SELECT owner_rep_id AS rep_id,
                   coalesce(sum(amount) FILTER (WHERE outcome = 'won'), 0)::DOUBLE AS won,
                   coalesce(sum(amount) FILTER (WHERE outcome = 'open'), 0)::DOUBLE AS open_pipe,
                   count(*) FILTER (WHERE outcome = 'open') AS open_deals
                FROM deals WHERE close_date >= ? AND close_date < ? GROUP BY owner_rep_id)
            SELECT t.rep_id, r.name AS rep_name, t.target, coalesce(d.won, 0) AS won,
                   coalesce(d.open_pipe, 0) AS open_pipeline,
                   coalesce(d.open_deals, 0) AS open_deals,
                   t.target - coalesce(d.won, 0) AS remaining,
                   coalesce(d.open_pipe, 0) / (t.target - coalesce(d.won, 0)) AS coverage
            FROM t LEFT JOIN d ON d.rep_id = t.rep_id LEFT JOIN reps r ON r.rep_id = t.rep_id
            WHERE t.target - coalesce(d.won, 0) > 0
              AND list_contains(?::VARCHAR[], coalesce(r.model, 'account'))
              AND coalesce(d.open_pipe, 0) < ? * (t.target - coalesce(d.won, 0))
            ORDER BY t.rep_id""",
        start, start, end, list(s.coverage_models), s.coverage_min,
    )
    return [
        Finding(Kind.PIPELINE_COVERAGE_LOW, Subject("rep", f"{r['rep_id']}/{start:%Y-%m}"),
                r["rep_id"], float(r["remaining"]),
                _clip(1.0 - float(r["coverage"]) / s.coverage_min),
                {**r, "period": f"{start:%Y-%m}", "coverage_min": s.coverage_min})
        for r in rows
    ]


def forecast_at_risk(ctx: Context) -> list[Finding]:
    """Reps whose latest commit for this month exceeds what the month is on track to bring.

    Projected = invoiced revenue so far this month + the larger of (a) the run rate of the
    days elapsed over the days left and (b) open deals closing in the rest of the month,
    weighted by forecast category. Judged from ``forecast_min_elapsed_days`` into the month.
    """
    s = ctx.settings
    start = _month_start(ctx.as_of)
    end = _add_months(start, 1)
    elapsed = (ctx.as_of - start).days + 1
    days_left = (end - ctx.as_of).days - 1
    if elapsed < s.forecast_min_elapsed_days:
        return []
    categories = [c for c, _ in s.forecast_weights]
    weights = [w for _, w in s.forecast_weights]
    rows = ctx.rows(
        """WITH f AS (
                SELECT rep_id, amount::DOUBLE AS forecast, submitted_at FROM forecast_submissions
                WHERE period::DATE = ? AND category = 'commit' AND submitted_at <= ?::TIMESTAMP
                QUALIFY row_number() OVER (PARTITION BY rep_id ORDER BY submitted_at DESC) = 1),
            a AS (
                SELECT rep_id, sum(net_revenue)::DOUBLE AS actual_so_far FROM invoice_lines
                WHERE invoice_date::DATE >= ? AND invoice_date::DATE <= ? GROUP BY rep_id),
            d AS (
                SELECT owner_rep_id AS rep_id,
                  sum(amount * coalesce(list_extract(?::DOUBLE[],
                      list_position(?::VARCHAR[], forecast_category)), 0))::DOUBLE
                    AS weighted_pipeline
                FROM deals WHERE outcome = 'open' AND close_date > ? AND close_date < ?
                GROUP BY owner_rep_id),
            p AS (
                SELECT f.rep_id, r.name AS rep_name, f.forecast, f.submitted_at,
                       coalesce(a.actual_so_far, 0) AS actual_so_far,
                       coalesce(a.actual_so_far, 0) / ? * ? AS run_rate_rest,
                       coalesce(d.weighted_pipeline, 0) AS weighted_pipeline
                FROM f LEFT JOIN a ON a.rep_id = f.rep_id LEFT JOIN d ON d.rep_id = f.rep_id
                LEFT JOIN reps r ON r.rep_id = f.rep_id)
            SELECT *, actual_so_far + greatest(run_rate_rest, weighted_pipeline) AS projected
            FROM p
            WHERE forecast > 0
              AND actual_so_far + greatest(run_rate_rest, weighted_pipeline) < (1 - ?) * forecast
            ORDER BY rep_id""",
        start, ctx.now, start, ctx.as_of, weights, categories, ctx.as_of, end, elapsed, days_left,
        s.forecast_tolerance,
    )
    by_category: dict[str, dict[str, float]] = {}
    for row in ctx.rows(
        """SELECT owner_rep_id AS rep_id, forecast_category, sum(amount)::DOUBLE AS amount
           FROM deals WHERE outcome = 'open' AND close_date > ? AND close_date < ?
             AND list_contains(?::VARCHAR[], forecast_category)
           GROUP BY ALL""", ctx.as_of, end, categories):
        by_category.setdefault(row["rep_id"], {})[row["forecast_category"]] = row["amount"]
    return [
        Finding(Kind.FORECAST_AT_RISK, Subject("rep", f"{r['rep_id']}/{start:%Y-%m}"),
                r["rep_id"], float(r["forecast"] - r["projected"]),
                _clip(1.0 - r["projected"] / r["forecast"]) * (1.0 if days_left < 10 else 0.7),
                {**r, "period": f"{start:%Y-%m}", "days_left": days_left,
                 "days_elapsed": elapsed, "weights": dict(s.forecast_weights),
                 "open_by_category": by_category.get(r["rep_id"], {})})
        for r in rows
    ]


def customers_behind_drop(ctx: Context, rep: str, month: dt.date) -> list[dict[str, Any]]:
    """The customers behind a drop in a rep's active customers in ``month``: the rep's
    customers (lines of that rep in the 90 days before the month) with a rhythm that should
    have put a purchase in the month (rhythm at most the month's length) and no purchase day
    in it. Each with its money at stake as of the month's end, biggest first."""
    end = _add_months(month, 1) - dt.timedelta(days=1)
    lines = ctx.ws.table("invoice_lines")
    day = lines.invoice_date.cast("date")
    # the rep's customers as a subquery (one query, no list of ids sent back and forth)
    mine = lines.filter((lines.rep_id == rep) & (day >= month - dt.timedelta(days=90))
                        & (day < month)).select("customer_id").distinct()
    # each customer's terms depend on its own lines only: computed from the lines of the
    # rep's customers alone (a third of the time of every customer's terms, even shared ones)
    terms = customer_terms(lines.filter(lines.customer_id.isin(mine.customer_id)), end)
    behind = terms.filter(
        (terms.typical_gap_days <= (end - month).days + 1) & (terms.last_order < month)
        & (terms.value_at_stake > 0)
    ).order_by([terms.value_at_stake.desc(), terms.customer_id])
    return plain_rows(behind.to_pyarrow())


def active_customers_drop(ctx: Context) -> list[Finding]:
    """Reps whose active customers last month fell beyond seasonality.

    The money at stake counts only the customers actually behind the drop
    (:func:`customers_behind_drop`): the sum of their money at stake. A drop with no such
    customer (its lost actives were irregular buyers) is still reported, with nothing at stake.
    """
    s = ctx.settings
    table = detect_anomalies(ctx.ws, by="rep", metric="active_customers", as_of=ctx.as_of,
                             k=s.anomaly_k, min_drop=s.anomaly_min_drop)
    flagged = plain_rows(table)
    if not flagged:
        return []
    names = {r["rep_id"]: r["name"] for r in ctx.rows("SELECT rep_id, name FROM reps")}
    out = []
    for r in flagged:
        rep, month = r["group"], dt.date.fromisoformat(str(r["month"])[:10])
        behind = customers_behind_drop(ctx, rep, month)
        value = round(sum(float(c["value_at_stake"]) for c in behind), 2)
        # the customers behind it by name where the master data give one, not as codes
        called = {row["customer_id"]: row["name"] for row in ctx.rows(
            """SELECT customer_id, name FROM customers
               WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))""",
            [str(c["customer_id"]) for c in behind])} if behind else {}
        evidence = {**r, "rep_id": rep, "rep_name": names.get(rep),
                    "month_end": (_add_months(month, 1) - dt.timedelta(days=1)).isoformat(),
                    "customers": [{**{k: c[k] for k in (
                        "customer_id", "purchase_days", "typical_gap_days", "last_order",
                        "days_since_last_order", "value_at_stake")},
                        "name": called.get(str(c["customer_id"]))} for c in behind],
                    "value_at_stake": value}
        out.append(Finding(Kind.ACTIVE_CUSTOMERS_DROP, Subject("rep", f"{rep}/{r['month'][:7]}"),
                           rep, value, _clip(-float(r["change"] or 0.0) * 2), evidence))
    return out


def quarter_windows(as_of: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The last complete quarter on or before ``as_of`` and the same quarter a year before."""
    nxt = as_of + dt.timedelta(days=1)
    q_start = dt.date(nxt.year, 3 * ((nxt.month - 1) // 3) + 1, 1)
    after = (_add_months(q_start, -3), q_start)
    before = (_add_months(after[0], -12), _add_months(after[1], -12))
    return before, after


def margin_erosion_rule(ctx: Context) -> list[Finding]:
    """Customers whose gross margin in the last quarter fell versus a year before."""
    s = ctx.settings
    before, after = quarter_windows(ctx.as_of)
    year_ago = ctx.rows(
        """SELECT count(*) AS n FROM invoice_lines WHERE cost IS NOT NULL
           AND invoice_date::DATE >= ? AND invoice_date::DATE < ?""", *before)
    if not year_ago or not year_ago[0]["n"]:  # no year-ago quarter: the previous one
        before = (_add_months(after[0], -3), after[0])
    try:
        table = margin_erosion(ctx.ws, before, after, by="customer")
    except ValueError:  # a period without revenue: nothing to compare
        return []
    eroded = []
    for row in table.to_pylist():
        m0, m1, r1 = row["margin_before"], row["margin_after"], row["revenue_after"]
        if m0 is None or m1 is None or math.isnan(m0) or math.isnan(m1):
            continue
        lost = (m0 - m1) * r1
        if m0 - m1 < s.margin_min_drop or lost < s.margin_min_value:
            continue
        if (row["revenue_before"] or 0.0) < s.margin_min_base_share * r1:
            continue  # a margin on a few small lines is no baseline
        eroded.append((row, m0, m1, r1, lost))
    if not eroded:
        return []
    # the names and drivers of these customers only (each customer's are its own)
    wanted = sorted({row["group"] for row, *_ in eroded})
    names = {r["customer_id"]: r for r in ctx.rows(
        """SELECT customer_id, name AS customer_name, rep_id FROM customers
           WHERE customer_id IN (SELECT unnest(?::VARCHAR[]))""", wanted)}
    drivers = _margin_drivers(ctx, before, after, wanted)
    out = []
    for row, m0, m1, r1, lost in eroded:
        master = names.get(row["group"], {})
        evidence = {
            "customer_id": row["group"], "customer_name": master.get("customer_name"),
            "rep_id": master.get("rep_id"),
            "period_before": f"{before[0]}/{before[1] - dt.timedelta(days=1)}",
            "period_after": f"{after[0]}/{after[1] - dt.timedelta(days=1)}",
            "margin_before": round(m0, 4), "margin_after": round(m1, 4),
            "revenue_before": round(row["revenue_before"], 2), "revenue_after": round(r1, 2),
            "gross_profit_lost": round(lost, 2),
            **drivers.get(row["group"], {}),
        }
        out.append(Finding(Kind.MARGIN_EROSION, Subject("customer", row["group"]),
                           master.get("rep_id"), lost, _clip((m0 - m1) * 5), evidence))
    return out


def _margin_drivers(ctx: Context, before: tuple[dt.date, dt.date],
                    after: tuple[dt.date, dt.date],
                    customers: list[str]) -> dict[str, dict[str, Any]]:
    """Per customer of ``customers``, the SKU that took the most margin points away (its part
    of the change)."""
    # only the lines of the two periods (a or b) count: the date bounds let the scan skip the
    # others
    rows = ctx.rows(
        """WITH t AS (
                SELECT customer_id, sku, net_revenue::DOUBLE AS r, cost::DOUBLE AS c,
                       invoice_date::DATE >= ? AND invoice_date::DATE < ? AS a,
                       invoice_date::DATE >= ? AND invoice_date::DATE < ? AS b
                FROM invoice_lines WHERE cost IS NOT NULL
                  AND invoice_date::DATE >= ? AND invoice_date::DATE < ?
                  AND customer_id IN (SELECT unnest(?::VARCHAR[]))),
            g AS (
                SELECT customer_id, sku,
                       coalesce(sum(r - c) FILTER (WHERE a), 0) AS gp0,
                       coalesce(sum(r - c) FILTER (WHERE b), 0) AS gp1,
                       coalesce(sum(r) FILTER (WHERE b), 0) AS sold1,
                       sum(sum(r) FILTER (WHERE a)) OVER (PARTITION BY customer_id) AS r0,
                       sum(sum(r) FILTER (WHERE b)) OVER (PARTITION BY customer_id) AS r1
                FROM t WHERE a OR b GROUP BY customer_id, sku)
            SELECT g.customer_id, g.sku AS driver_sku, p.name AS driver_name,
                   p.category AS driver_category, gp0 AS driver_gp_before,
                   gp1 AS driver_gp_after, sold1 AS driver_revenue_after,
                   gp1 / nullif(r1, 0) - gp0 / nullif(r0, 0) AS driver_points
            FROM g LEFT JOIN products p ON p.sku = g.sku
            WHERE r0 > 0 AND r1 > 0
            QUALIFY row_number() OVER (PARTITION BY g.customer_id
                                       ORDER BY gp1 / r1 - gp0 / r0, g.sku) = 1""",
        *before, *after, min(before[0], after[0]), max(before[1], after[1]), customers,
    )
    return {r.pop("customer_id"): r for r in rows}


@dataclass(frozen=True)
class Rule:
    """A rule: the tables it needs (non-empty) and the function that runs it."""

    needs: tuple[str, ...]
    run: Callable[[Context], list[Finding]]


RULES: dict[Kind, Rule] = {
    Kind.CHURN_RISK: Rule(("score_churn",), churn_risk),
    Kind.NO_REPEAT_ORDER: Rule(("score_churn",), no_repeat_order),
    Kind.STOPPED_ITEM: Rule(("score_stopped_items",), stopped_item),
    Kind.CROSS_SELL: Rule(("score_cross_sell",), cross_sell),
    Kind.ACTIVE_CUSTOMERS_DROP: Rule(("invoice_lines",), active_customers_drop),
    Kind.MARGIN_EROSION: Rule(("invoice_lines",), margin_erosion_rule),
    Kind.LEAD_NOT_CONTACTED: Rule(("leads", "activities"), lead_not_contacted),
    Kind.PIPELINE_COVERAGE_LOW: Rule(("deals", "targets"), pipeline_coverage_low),
    Kind.FORECAST_AT_RISK: Rule(("invoice_lines", "forecast_submissions"), forecast_at_risk),
    Kind.CONCENTRATION: Rule(("invoice_lines",), concentration),
    Kind.SINGLE_THREADED_ACCOUNT: Rule(("contacts", "score_tiers"), single_threaded_account),
    Kind.OVERDUE_PAYMENTS_AT_RISK: Rule(("payments", "score_churn"), overdue_payments_at_risk),
}
