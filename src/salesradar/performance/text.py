"""Values in words for the management features: a KPI value by its unit, in English or Hebrew.

>>> value_text(0.4167, "%")
'42%'
>>> value_text(38_250.0, "money", "he")
'₪38 אלף'
>>> value_text(3.25, "ratio")
'3.2×'
"""

from __future__ import annotations

from salesradar.charts.labels import format_value
from salesradar.models.text import money

_HE_SUFFIX = {"k": " אלף", "M": " מיליון"}


def money_text(value: float | None, lang: str = "en", currency: str | None = None) -> str:
    """An amount as :func:`salesradar.models.text.money` writes it, with Hebrew units in Hebrew."""
    text = money(value, currency)
    if lang == "he" and text[-1:] in _HE_SUFFIX:
        return text[:-1] + _HE_SUFFIX[text[-1]]
    return text


def value_text(value: float | None, unit: str, lang: str = "en",
               currency: str | None = None) -> str:
    """One KPI value with its unit (``unit`` is a :class:`salesradar.metrics.Unit` value)."""
    if value is None:
        return "—"
    if unit == "money":
        return money_text(value, lang, currency)
    if unit == "%":
        return f"{100 * value:.0f}%"
    if unit == "days":
        return f"{value:.0f} ימים" if lang == "he" else f"{value:.0f} days"
    if unit == "hours":
        return f"{value:.1f} שעות" if lang == "he" else f"{value:.1f} h"
    if unit == "ratio":
        return f"{value:.1f}×"
    if unit == "index":
        return f"{value:.3f}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def exact_money(value: float | None, currency: str | None = None) -> str:
    """An amount to the agora, for statements: ``₪1,785.00`` (the same in Hebrew)."""
    return format_value(float(value or 0.0), "money", currency=currency, decimals=2)
