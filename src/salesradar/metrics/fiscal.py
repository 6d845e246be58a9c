"""The company's fiscal year: the month its quarters and years start.

A company whose year starts in April has Q1 = April-June; its fiscal year is named after the
calendar year it starts in (FY 2026 = April 2026 - March 2027). The setting
(``salesradar settings set fiscal_year_start 4``) is made current by whoever opens the workspace
for a user, like the currency; :func:`salesradar.metrics.frame.truncate` and
:func:`~salesradar.metrics.frame.period_start` bucket quarters and years from it on every engine,
and :func:`parse_quarter` / :func:`period_name` read and write quarter and year names in it.
A January start (the default) is the calendar.

>>> with use_fiscal_year(4):
...     fiscal_start(date(2026, 2, 10), "quarter"), period_name(date(2026, 4, 1), "quarter")
(datetime.date(2026, 1, 1), '2026-Q1')
>>> period_name(date(2026, 4, 1), "quarter")
'2026-Q2'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from salesradar.errors import UserInputError

_START_MONTH: ContextVar[int] = ContextVar("salesradar_fiscal_start", default=1)


def _checked(month: int) -> int:
    if not 1 <= int(month) <= 12:
        raise UserInputError(f"the fiscal year starts in a month 1-12, not {month}")
    return int(month)


def start_month() -> int:
    """The month (1-12) the current company's fiscal year starts."""
    return _START_MONTH.get()


def set_fiscal_year(month: int) -> None:
    """Make a fiscal year starting in ``month`` current for what follows."""
    _START_MONTH.set(_checked(month))


@contextmanager
def use_fiscal_year(month: int) -> Iterator[None]:
    """A fiscal year starting in ``month`` is current inside the block."""
    token = _START_MONTH.set(_checked(month))
    try:
        yield
    finally:
        _START_MONTH.reset(token)


def _index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _of_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def fiscal_start(day: date, grain: str) -> date:
    """The first day of the fiscal quarter (``grain="quarter"``) or year holding ``day``."""
    size = 3 if grain == "quarter" else 12
    offset = start_month() - 1
    return _of_index((_index(day) - offset) // size * size + offset)


def period_name(start: date, grain: str) -> str:
    """``2026-Q1`` / ``2026`` for a fiscal quarter or year starting on ``start``, named after
    the calendar year the fiscal year starts in; ``2026-03`` for a month, the ISO date else."""
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain not in ("quarter", "year"):
        return start.isoformat()
    first = start_month()
    year = start.year if start.month >= first else start.year - 1
    if grain == "year":
        return str(year)
    return f"{year}-Q{(start.month - first) % 12 // 3 + 1}"


def parse_quarter(year: int, quarter: int | None) -> date:
    """The first day of fiscal quarter ``quarter`` (1-4) of fiscal year ``year``, or of the
    fiscal year itself when ``quarter`` is None."""
    return _of_index(year * 12 + start_month() - 1 + 3 * ((quarter or 1) - 1))
