"""Claims: every number an insight or a customer explanation states, with what it was computed
over, so that the truth audit can recompute it from the raw invoice lines.

An insight's evidence carries ``claims``, a list of :func:`claim` dicts. A claim names one
quantity of the vocabulary below, the subject it is about (``customer_id``, optionally ``sku``,
or a list of ``customer_ids``) and its window, and holds the value the text states. The audit
(:mod:`salesradar.insights.audit`) recomputes each claim on its own from ``invoice_lines``;
the texts are built from the same values, so a claim that holds makes the sentence true.

Vocabulary (a *purchase day* is a day whose positive invoice lines sum above zero for the
subject; dates are ISO ``YYYY-MM-DD``; ``to`` is inclusive, ``from`` inclusive; a subject is a
``customer_id`` (with a ``sku``, a pair), a ``rep_id`` (the lines of that rep) or none (every
line)):

============================ ===================================================================
``purchase_days``            purchase days on or before ``to``
``first_purchase_day``       the first purchase day on or before ``to``
``last_purchase_day``        the last purchase day on or before ``to``
``previous_purchase_day``    the purchase day before the last one, on or before ``to``
``median_gap_days``          median of the gaps (days) between consecutive purchase days on or
                             before ``to``; stated only with at least
                             :data:`~salesradar.models.cadence.RHYTHM_MIN_DAYS` purchase days
``longest_gap_days``         the longest of those gaps (the customer's longest pause that
                             ended in a purchase); with the same minimum
``days_since_last_purchase`` ``to`` − the last purchase day, in days
``sales_on_day``             sum of the positive lines on ``day``
``net_revenue``              sum of ``net_revenue`` of the lines dated in [``from``, ``to``]
``gross_sales``              sum of the positive lines dated in [``from``, ``to``]
``returned``                 minus the sum of the negative lines dated in [``from``, ``to``]
``purchase_days_in``         purchase days in [``from``, ``to``]
``distinct_skus``            SKUs with a positive line in [``from``, ``to``]
``value_at_stake``           money at stake (GLOSSARY.md): the net revenue of the lines dated
                             in (last purchase day − 365 days, ``to``], floored at 0
``sku_buyers``               customers with a line of ``sku`` (quantity and net revenue > 0)
                             on or before ``to``
``sku_net_buyers``           customers whose net revenue on ``sku`` over [``from``, ``to``] is
                             above 0
``median_buyer_spend``       the median, over those customers, of that net revenue
``co_buyers``                customers who are ``sku_buyers`` of both ``sku`` and ``with_sku``
``customers``                customers with a line (quantity and net revenue > 0) on or before
                             ``to`` of a SKU not in ``exclude_skus``
``past_rhythm``              true: ``days_since_last_purchase`` > ``median_gap_days`` (the
                             words "drifting" and "stopped ordering" rest on it)
``revenue_share``            the subject's ``net_revenue`` ÷ every line's, over [``from``, ``to``]
``costed_revenue``           ``net_revenue`` of the lines whose cost is known
``gross_profit``             net revenue − cost over the lines whose cost is known
``gross_margin``             ``gross_profit`` ÷ ``costed_revenue``
``overdue_amount``           ``payments`` of the customer due before ``to`` and not paid by it:
                             their amount
``overdue_invoices``         ... their number
``days_overdue_max``         ... ``to`` − the oldest due date, in days
``lead_age_hours``           hours from the lead's ``created_at`` to ``at``
``record_count``             rows of the canonical ``table`` whose columns equal ``where``
                             (and whose ``date_column`` is in [``from``, ``to``] when given)
``record_sum``               ... the sum of their ``column``
``record_value``             ... the ``column`` of the one such row
``derived``                  ``formula`` (+ − × ÷, ``max``, ``min``) over ``inputs``, each a
                             claim of its own that is recomputed first
``sum_of``                   the sum of the values of the statement's claims named ``of`` (a
                             card's total over its items or customers)
``model_output``             a model's number (a churn probability, an offer's score), named by
                             ``output``: not recomputable from the lines; the audit checks only
                             its range
``setting``                  a threshold or setting the text quotes (a window length, an SLA),
                             named by ``setting``
============================ ===================================================================

>>> claim("purchase_days", 3, customer_id="C1", to="2026-01-31")
{'claim': 'purchase_days', 'value': 3, 'customer_id': 'C1', 'to': '2026-01-31'}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["CLAIMS", "Claim", "claim"]

Claim = dict[str, Any]

CLAIMS = (
    "purchase_days", "first_purchase_day", "last_purchase_day", "previous_purchase_day",
    "median_gap_days", "longest_gap_days", "days_since_last_purchase", "sales_on_day",
    "net_revenue", "gross_sales", "returned", "purchase_days_in", "distinct_skus", "value_at_stake",
    "sku_buyers", "sku_net_buyers", "median_buyer_spend", "co_buyers", "customers",
    "revenue_share", "costed_revenue", "gross_profit", "gross_margin", "overdue_amount",
    "overdue_invoices", "days_overdue_max", "lead_age_hours", "record_count", "record_sum",
    "record_value", "derived", "past_rhythm", "sum_of", "model_output", "setting",
)


_KNOWN = frozenset(CLAIMS)
# values a claim keeps as they are (no date to write as ISO text)
_AS_IS = frozenset({str, int, float, bool})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return value


def claim(name: str, value: Any, **where: Any) -> Claim:
    """One claim: the quantity ``name`` (of :data:`CLAIMS`), the value stated and where it
    holds (subject and window; dates as ISO text; ``None`` entries are left out)."""
    if name not in _KNOWN:
        raise ValueError(f"unknown claim {name!r}")
    out: Claim = {"claim": name,
                  "value": value if type(value) in _AS_IS else _plain(value)}
    for k, v in where.items():
        if v is not None:
            out[k] = v if type(v) in _AS_IS else _plain(v)
    return out


# values steady() returns as they are (exact types: a float subclass takes the general path)
_ATOMS = frozenset({str, int, bool, type(None)})


def steady(value: Any) -> Any:
    """Numbers to 4 decimals, inside lists and dicts too: DuckDB's parallel float sums differ in
    the last bits from run to run (7808.39 or 7808.390000000001), and a claim or an insight must
    not change for that.

    >>> steady({"value": 7808.390000000001, "parts": [0.123456, "x"]})
    {'value': 7808.39, 'parts': [0.1235, 'x']}
    """
    kind = type(value)
    if kind is float:
        return round(value, 4)
    if kind in _ATOMS:
        return value
    if kind is dict:  # the common case, its plain items without a call each
        return {k: round(v, 4) if type(v) is float else v if type(v) in _ATOMS else steady(v)
                for k, v in value.items()}
    if kind is list:
        return [round(v, 4) if type(v) is float else v if type(v) in _ATOMS else steady(v)
                for v in value]
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list | tuple):
        return [steady(v) for v in value]
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items()}
    return value
