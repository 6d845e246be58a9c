"""Axis and value labels as a reader of each language expects them.

Both languages write numbers with a comma between thousands, shekel amounts as ``₪1,250`` and dates
as ``dd/mm/yyyy`` (Israeli usage, which the English pages keep so that one report reads the same in
both languages). Units follow :class:`salesradar.metrics.registry.Unit` values, so a page can pass a
KPI's unit straight through.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from salesradar.currency import symbol
from salesradar.lang import Lang

# unit name -> how a value of it reads; the KPI registry's Unit values are accepted as they are
_DAYS = {"en": "days", "he": "ימים"}
_HOURS = {"en": "h", "he": "שע׳"}


def format_value(value: float | None, unit: str = "number", *, lang: Lang = "en",
                 currency: str | None = None, decimals: int | None = None) -> str:
    """One value as text: ``₪1,250,000``, ``12.5%``, ``3.2×``, ``14 days``, ``1,204``.

    ``unit`` is ``"money"`` (in ``currency``, else the company's: :mod:`salesradar.currency`),
    ``"percent"`` (or ``"%"``; values are fractions:
    0.125 reads 12.5%, 0.4 reads 40%), ``"ratio"``, ``"days"``, ``"hours"``, ``"count"``,
    ``"index"`` or ``"number"``.
    A missing value reads as an en dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    v = float(value)
    if unit == "money":
        d = 0 if decimals is None else decimals
        sign = "-" if v < 0 else ""
        return f"{sign}{currency or symbol()}{abs(v):,.{d}f}"
    if unit in ("percent", "%"):
        pct = v * 100
        d = (0 if round(pct, 1) == round(pct) else 1) if decimals is None else decimals
        return f"{pct:,.{d}f}%"
    if unit == "ratio":
        return f"{v:,.{1 if decimals is None else decimals}f}×"
    if unit == "days":
        return f"{v:,.{0 if decimals is None else decimals}f} {_DAYS[lang]}"
    if unit == "hours":
        return f"{v:,.{1 if decimals is None else decimals}f} {_HOURS[lang]}"
    if unit == "index":
        return f"{v:,.{3 if decimals is None else decimals}f}"
    if decimals is None:
        decimals = 0 if v == round(v) or abs(v) >= 100 else 1
    return f"{v:,.{decimals}f}"


def format_tick(value: float, unit: str, *, lang: Lang = "en", currency: str | None = None,
                step: float = 1.0) -> str:
    """An axis tick: as :func:`format_value`, with as many decimals as the tick step needs."""
    if unit in ("percent", "%"):
        decimals = _decimals_for(step * 100)
    elif unit in ("money", "count"):
        decimals = _decimals_for(step) if step < 1 else 0
    else:
        decimals = _decimals_for(step)
    if unit == "count":
        return f"{value:,.{decimals}f}"
    return format_value(value, unit, lang=lang, currency=currency, decimals=decimals)


def format_date(value: date | datetime | str) -> str:
    """``dd/mm/yyyy`` for a date; a string (a period name such as ``2026-Q3``) is kept as it is."""
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def format_day(value: date | datetime | str | None) -> str:
    """``dd/mm/yyyy`` from a date or an ISO date string; an en dash when missing.

    A string that is not an ISO date (a period name such as ``2026-Q3``) is kept as it is.
    """
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    return format_date(value)


def _decimals_for(step: float) -> int:
    """How many decimals tick labels need so that neighbouring ticks read differently."""
    if step <= 0 or step >= 1:
        return 0
    return max(0, -math.floor(math.log10(step) + 1e-9))
