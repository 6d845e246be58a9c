"""One reading of a day from whatever an engine or a stored row gives back.

>>> from datetime import date, datetime
>>> as_date(datetime(2026, 12, 6, 9, 30)), as_date("2026-12-06T09:30"), as_date(None)
(datetime.date(2026, 12, 6), datetime.date(2026, 12, 6), None)
>>> as_date(float("nan")) is None
True
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

__all__ = ["as_date"]


def as_date(value: Any) -> date | None:
    """``value`` as a date: a datetime's day, a date, ISO text (its first ten characters);
    None for None or NaN (a missing value from Arrow or pandas)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
