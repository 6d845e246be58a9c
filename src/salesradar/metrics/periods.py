"""Partial periods and changes a manager can read.

**Partial period.** The data end on a day (the last invoice day, or the last day of the CRM data
in a workspace without invoices). The period holding that day is *partial* unless the day ends
it: UCI Online Retail ends on 09/12/2011, so December 2011 is "partial: 9 of 31 days". A partial
period is never compared with the whole previous period (9 days against 30 reads as a collapse):
its change is against the *same days* of the previous period (1–9 November), recomputed by the
engine, or withheld with the reason when the period is too young to compare (less than
:data:`MIN_COMPARABLE_SHARE` of its days). No flag fires on a partial period.

**Change in the KPI's unit** (:func:`describe_change`): a rate or share (unit ``%``) changes in
*points* (gross margin 18.3% → 17.5% is −0.8 pts, not −4%), a multiple or an index in its own
unit (coverage 2.1× → 2.4× is +0.3×), an amount, a count or a duration in *relative* terms
(+12%). A change below the display precision is no change (no red "−0%"), and a relative change
from a base of zero or below is not shown (from −55% nothing is "+202%").

>>> partial_period(date(2011, 12, 9), "month").text("en")
'partial: 9 of 31 days'
>>> partial_period(date(2011, 11, 30), "month") is None
True
>>> describe_change("%", 0.175, 0.183)["text_en"]
'−0.8 pts'
>>> describe_change("count", 100.0, 100.002)["text_en"] is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from salesradar.dates import as_date
from salesradar.engine import table_names
from salesradar.metrics.frame import DIMENSIONS, period_end, period_start, shift_date
from salesradar.metrics.registry import GRAINS, Grain

MIN_COMPARABLE_SHARE = 0.25
"""A partial period holding less than this share of its days shows no change at all."""

FORWARD_KPIS = frozenset({"pipeline_coverage", "weighted_pipeline"})
"""KPIs about deals still to close: their current and next periods are not partial data."""


@dataclass(frozen=True)
class PartialPeriod:
    """The period of ``grain`` starting on ``start`` of which the data hold ``days`` days."""

    start: date
    grain: Grain
    days: int
    of_days: int

    @property
    def comparable(self) -> bool:
        return self.days / self.of_days >= MIN_COMPARABLE_SHARE

    @property
    def previous_start(self) -> date:
        return shift_date(self.start, self.grain, -1)

    @property
    def previous_end(self) -> date:
        """The last of the same days in the previous period: the same day of the month one
        month, quarter or year earlier (09/12 → 09/11; 31/05/2005 → 31/05/2004), the same
        number of days for a day or a week; never past the previous period's end."""
        prev = self.previous_start
        end = period_end(prev, self.grain)
        if self.grain in ("day", "week"):
            return min(prev + timedelta(days=self.days - 1), end)
        last = self.start + timedelta(days=self.days - 1)
        month = shift_date(last.replace(day=1), self.grain, -1)
        return min(month + timedelta(days=last.day - 1), period_end(month, "month"), end)

    def text(self, lang: str) -> str:
        if lang == "he":
            return f"חלקי: {self.days} מתוך {self.of_days} ימים"
        return f"partial: {self.days} of {self.of_days} days"

    def compared_text(self, lang: str) -> str:
        """Against what the change is measured (or why there is none)."""
        prev, last = self.previous_start, self.previous_end
        if not self.comparable:
            if lang == "he":
                return (f"מוקדם מדי להשוואה: {self.days} מתוך {self.of_days} ימים; "
                        "השינוי לא מוצג")
            return (f"too young to compare: {self.days} of {self.of_days} days; "
                    "no change shown")
        if lang == "he":
            return (f"לעומת אותם ימים בתקופה הקודמת ({prev:%d/%m/%Y}–{last:%d/%m/%Y})")
        return f"vs the same days of the previous period ({prev:%d/%m/%Y}–{last:%d/%m/%Y})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "partial": True, "start": self.start.isoformat(), "days": self.days,
            "of_days": self.of_days, "comparable": self.comparable,
            "previous_from": self.previous_start.isoformat(),
            "previous_to": self.previous_end.isoformat(),
            "text_en": self.text("en"), "text_he": self.text("he"),
            "compared_en": self.compared_text("en"), "compared_he": self.compared_text("he"),
        }


def partial_period(last_day: date | None, grain: str | None) -> PartialPeriod | None:
    """The period of ``grain`` holding ``last_day`` when the data stop before its end."""
    if last_day is None or grain not in GRAINS:
        return None
    g: Grain = grain
    start = period_start(last_day, g)
    end = period_end(start, g)
    if last_day >= end:
        return None
    return PartialPeriod(start, g, (last_day - start).days + 1, (end - start).days + 1)


def data_last_day(backend: Any, present: Iterable[str] | None = None) -> date | None:
    """The data's "today": the last invoice day; without invoice lines, the last day of the CRM
    data (deal creation or closing up to the last activity or lead, never a planned close date
    of an open deal). None on an empty workspace."""
    tables = set(present if present is not None else table_names(backend))
    if "invoice_lines" in tables:
        day = as_date(backend.table("invoice_lines").invoice_date.max().to_pyarrow().as_py())
        if day is not None:
            return day
    days: list[date] = []
    for name, column in (("activities", "at"), ("leads", "created_at"),
                         ("deals", "created_at")):
        if name in tables:
            found = as_date(backend.table(name)[column].max().to_pyarrow().as_py())
            if found is not None:
                days.append(found)
    if "deals" in tables:
        d = backend.table("deals")
        closed = d.filter(d.outcome.isin(["won", "lost"]))
        found = as_date(closed.close_date.max().to_pyarrow().as_py())
        if found is not None:
            days.append(found)
    return max(days) if days else None


def _dim_key(record: dict[str, Any], dims: Sequence[str]) -> tuple[Any, ...]:
    return tuple(record.get(DIMENSIONS[d].column) for d in dims if d in DIMENSIONS)


def same_days_previous(
    backend: Any, names: Sequence[str], partial: PartialPeriod, by: Sequence[str] = (),
    settings: Any = None,
) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Each KPI's value over the same days of the period before ``partial``, by dimensions."""
    from salesradar.metrics.compute import compute_kpis, kpi_records

    if not names or not partial.comparable:
        return {}
    results = compute_kpis(backend, names, by=by, period=partial.grain,
                           start=partial.previous_start, end=partial.previous_end,
                           settings=settings)
    prev = partial.previous_start.isoformat()
    out: dict[str, dict[tuple[Any, ...], Any]] = {}
    for name, table in results.items():
        out[name] = {_dim_key(r, by): r["value"] for r in kpi_records(table)
                     if r["period"] == prev}
    return out


def mark_partial(
    records: list[dict[str, Any]], partial: PartialPeriod | None,
    previous: dict[tuple[Any, ...], Any] | None, by: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Add ``partial`` to each record (null on whole periods); on the partial period, replace
    the previous value and the change by the same-days ones (or none, with the reason in
    ``partial.compared_*``) and clear the flags."""
    start = partial.start.isoformat() if partial else None
    for rec in records:
        if partial is None or rec.get("period") != start:
            rec["partial"] = None
            continue
        rec["partial"] = partial.to_dict()
        rec["flags"] = []
        prev = (previous or {}).get(_dim_key(rec, by)) if partial.comparable else None
        value = rec.get("value")
        rec["previous"] = prev
        if prev is None or value is None:
            rec["change"] = rec["change_pct"] = None
        else:
            rec["change"] = value - prev
            rec["change_pct"] = (value - prev) / abs(prev) if prev else None
    return records


def partial_records(
    backend: Any, name: str, records: list[dict[str, Any]], period: str | None,
    by: Sequence[str] = (), end: date | None = None, settings: Any = None,
) -> list[dict[str, Any]]:
    """:func:`mark_partial` for one KPI's records, the data's last day bounded by ``end``."""
    if name in FORWARD_KPIS or period not in GRAINS:
        for rec in records:
            rec["partial"] = None
        return records
    last = data_last_day(backend)
    if last is not None and end is not None:
        last = min(last, end)
    partial = partial_period(last, period)
    previous = same_days_previous(backend, [name], partial, by, settings).get(name) \
        if partial else None
    return mark_partial(records, partial, previous, by)


# -- a change in the KPI's unit ---------------------------------------------------------------
_POINTS = {"en": "pts", "he": "נק׳"}


def _signed(amount: float, decimals: int, suffix: str) -> str:
    sign = "+" if amount > 0 else "−"
    return f"{sign}{abs(amount):,.{decimals}f}{suffix}"


def describe_change(
    unit: str, value: float | None, previous: float | None,
    higher_is_better: bool | None = None,
) -> dict[str, Any]:
    """The change from ``previous`` to ``value`` in the unit of the KPI.

    Returns ``kind`` (``points``, ``absolute``, ``relative`` or null), ``amount`` (points,
    units or a fraction; null when nothing is shown), ``text_en``/``text_he`` (null when there
    is no change to show), ``direction`` (``up``, ``down``, ``flat`` or null) and ``good``
    (whether it goes the better way; null when neither way is better or nothing is shown).

    >>> describe_change("%", 0.4, 0.485)["text_en"], describe_change("money", 130, 100)["text_en"]
    ('−8.5 pts', '+30%')
    >>> describe_change("ratio", 2.4, 2.1)["text_en"], describe_change("%", 0.1, -0.55)["kind"]
    ('+0.3×', 'points')
    >>> describe_change("count", 5.0, 0.0)["text_en"] is None
    True
    """
    out: dict[str, Any] = {"kind": None, "amount": None, "text_en": None, "text_he": None,
                           "direction": None, "good": None}
    if value is None or previous is None:
        return out
    v, p = float(value), float(previous)
    if unit in ("%", "percent"):
        amount = round((v - p) * 100, 1)
        out["kind"] = "points"
        texts = {lang: _signed(amount, 1, f" {_POINTS[lang]}") for lang in ("en", "he")}
    elif unit in ("ratio", "index"):
        decimals = 1 if unit == "ratio" else 3
        amount = round(v - p, decimals)
        out["kind"] = "absolute"
        suffix = "×" if unit == "ratio" else ""
        texts = {lang: _signed(amount, decimals, suffix) for lang in ("en", "he")}
    else:
        out["kind"] = "relative"
        if p <= 0:  # a relative change from nothing or from a loss says nothing
            return out
        amount = round((v - p) / p, 2)
        texts = {lang: _signed(amount * 100, 0, "%") for lang in ("en", "he")}
    if amount == 0:  # below the display precision
        out["direction"] = "flat"
        return out
    out["amount"] = amount
    out["text_en"], out["text_he"] = texts["en"], texts["he"]
    out["direction"] = "up" if amount > 0 else "down"
    if higher_is_better is not None:
        out["good"] = (amount > 0) == higher_is_better
    return out
