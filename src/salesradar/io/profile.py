"""What a column's sample values look like: dates (and their day/month order), numbers (and
their separators, currency and negative notation), ids, yes/no words.

The mapping detector reads these profiles to tell an amount from an id and a date from a code
when the headers do not say, and to fill in a mapping's formats (``date_format``, ``decimal``,
``thousands``). The rules are the importer's (:mod:`salesradar.io.parse`), applied in Python to a
few hundred values: currency signs and bidi marks are stripped with the same
:data:`~salesradar.io.parse.CURRENCY_PATTERN`, ``(1,234.00)`` and ``1,234.00-`` are negatives.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from salesradar.io.parse import CURRENCY_PATTERN, FALSE_WORDS, TRUE_WORDS

CURRENCY = re.compile(CURRENCY_PATTERN)
CURRENCY_SIGNS = ("₪", "$", "€", "£", "NIS", "ILS", "USD", "EUR", 'ש"ח', "ש״ח")
ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?")
DMY_DATE = re.compile(
    r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?: (\d{1,2}:\d{2})(:\d{2})?(?: ?([AaPp][Mm]))?)?")
COMPACT_DATE = re.compile(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
NUMBER_BODY = re.compile(r"\d[\d.,]*|[.,]\d+")
SERIAL_RANGE = (20_000, 80_000)  # Excel day numbers of 1954..2119


@dataclass(frozen=True)
class NumberShape:
    """One value read as a number: its separators' evidence and its notation."""

    style: str  # "dot" (decimal point), "comma" (decimal comma), "either" (1,234), "plain"
    fraction: bool  # has digits after a decimal separator
    negative: str | None  # "trailing minus", "parentheses", "leading minus"
    currency: str | None


def number_shape(value: str) -> NumberShape | None:
    """How ``value`` reads as a number, or None when it is not one.

    >>> number_shape("₪1,234.50-")
    NumberShape(style='dot', fraction=True, negative='trailing minus', currency='₪')
    >>> number_shape("1.234,5").style, number_shape("1,234").style
    ('comma', 'either')
    """
    currency = next((s for s in CURRENCY_SIGNS if s in value), None)
    text = CURRENCY.sub("", value)
    negative = None
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        text, negative = text[1:-1], "parentheses"
    elif len(text) > 1 and text.endswith("-"):
        text, negative = text[:-1], "trailing minus"
    elif len(text) > 1 and text[0] in "-+":
        text, negative = text[1:], "leading minus" if text[0] == "-" else None
    if not NUMBER_BODY.fullmatch(text):
        return None
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        style = "dot" if text.rfind(".") > text.rfind(",") else "comma"
        decimals = text.rsplit("." if style == "dot" else ",", 1)[1]
        return NumberShape(style, bool(decimals), negative, currency)
    if commas or dots:
        sep = "," if commas else "."
        grouped = re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", text)
        if grouped and text.count(sep) > 1:  # 1,234,567: thousands
            return NumberShape("dot" if sep == "," else "comma", False, negative, currency)
        if grouped:
            return NumberShape("either", False, negative, currency)
        if text.count(sep) > 1:
            return None
        return NumberShape("dot" if sep == "." else "comma", True, negative, currency)
    return NumberShape("plain", False, negative, currency)


@dataclass(frozen=True)
class DateShape:
    """One value read as a date: its notation and, for d/m/y, the two leading fields."""

    kind: str  # "iso", "compact" (yyyymmdd) or "dmy" (either order)
    first: int = 0
    second: int = 0
    separator: str = "/"
    year_digits: int = 4
    time: str = ""  # "", "%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p"


def date_shape(value: str) -> DateShape | None:
    """How ``value`` reads as a date, or None.

    >>> date_shape("31/01/2024").first, date_shape("2024-01-31").kind
    (31, 'iso')
    """
    if ISO_DATE.fullmatch(value):
        return DateShape("iso")
    if COMPACT_DATE.fullmatch(value):
        return DateShape("compact")
    match = DMY_DATE.fullmatch(value)
    if not match:
        return None
    first, sep, second, year, clock, seconds, meridian = match.groups()
    a, b = int(first), int(second)
    if not (1 <= a <= 31 and 1 <= b <= 31) or (a > 12 and b > 12):
        return None
    time = ""
    if clock:
        hours = "%I" if meridian else "%H"
        time = f"{hours}:%M" + (":%S" if seconds else "") + (" %p" if meridian else "")
    return DateShape("dmy", a, b, sep, len(year), time)


@dataclass(frozen=True)
class Profile:
    """What the sample values of one column look like."""

    count: int  # non-empty values
    empty: int
    dates: float = 0.0  # share of values that read as dates
    numbers: float = 0.0  # share that read as numbers
    fractions: float = 0.0  # share (of numbers) with a decimal part
    money_marks: float = 0.0  # share with a currency sign
    serials: float = 0.0  # share that could be Excel day numbers
    booleans: float = 0.0  # share of yes/no words
    distinct: int = 0
    order: str | None = None  # "day-first", "month-first", "iso", "undecided", "mixed"
    date_formats: tuple[str, ...] = ()  # strftime formats of the d/m/y values, in order
    negatives: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    styles: Counter[str] = field(default_factory=Counter)  # number styles seen
    values: tuple[str, ...] = ()  # up to 20 distinct values, for enum matching

    @property
    def is_date(self) -> bool:
        return self.count > 0 and self.dates >= 0.9

    @property
    def is_number(self) -> bool:
        return self.count > 0 and self.numbers >= 0.95

    @property
    def looks_like_amount(self) -> bool:
        """Numbers with decimals or a currency sign: money rather than ids or counts."""
        return self.is_number and (self.fractions >= 0.3 or self.money_marks >= 0.3)


def _formats(shapes: list[DateShape], day_first: bool) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for shape in shapes:
        year = "%Y" if shape.year_digits == 4 else "%y"
        s = shape.separator
        base = f"%d{s}%m{s}{year}" if day_first else f"%m{s}%d{s}{year}"
        found[base] = None
        if shape.time:
            found[f"{base} {shape.time}"] = None
    return tuple(found)


def date_order(shapes: list[DateShape]) -> str | None:
    """The day/month order a column's d/m/y dates prove: a first field above 12 is a day."""
    dmy = [s for s in shapes if s.kind == "dmy"]
    if not dmy:
        return "iso" if shapes else None
    day = any(s.first > 12 for s in dmy)
    month = any(s.second > 12 for s in dmy)
    if day and month:
        return "mixed"
    return "day-first" if day else "month-first" if month else "undecided"


def profile(values: list[str | None]) -> Profile:
    """The profile of one column's sample values (``None`` for empty cells)."""
    present = [v for v in values if v is not None]
    empty = len(values) - len(present)
    if not present:
        return Profile(0, empty)
    n = len(present)
    dates = [d for v in present if (d := date_shape(v)) is not None]
    numbers = [s for v in present if (s := number_shape(v)) is not None]
    serials = sum(1 for v in present if re.fullmatch(r"\d{5}(\.\d+)?", v)
                  and SERIAL_RANGE[0] <= float(v) < SERIAL_RANGE[1])
    words = {w.lower() for w in TRUE_WORDS + FALSE_WORDS}
    order = date_order(dates)
    dmy = [d for d in dates if d.kind == "dmy"]
    formats = _formats(dmy, day_first=order != "month-first") if order != "mixed" else ()
    return Profile(
        count=n,
        empty=empty,
        dates=len(dates) / n,
        numbers=len(numbers) / n,
        fractions=sum(1 for s in numbers if s.fraction) / max(1, len(numbers)),
        money_marks=sum(1 for s in numbers if s.currency) / n,
        serials=serials / n,
        booleans=sum(1 for v in present if v.lower() in words) / n,
        distinct=len(set(present)),
        order=order,
        date_formats=formats,
        negatives=tuple(sorted({s.negative for s in numbers if s.negative})),
        currencies=tuple(sorted({s.currency for s in numbers if s.currency})),
        styles=Counter(s.style for s in numbers),
        values=tuple(dict.fromkeys(present))[:20],
    )


def number_format(profiles: Iterable[Profile]) -> tuple[str, str]:
    """The file's (decimal, thousands) separators, from every numeric column's evidence.

    A decimal comma needs a value that proves it (``12,5``, ``1.234,50``); ``1,234`` alone is
    read the usual way, as a thousands comma.
    """
    votes: Counter[str] = Counter()
    for item in profiles:
        if item.is_number:
            votes.update(item.styles)
    return (",", ".") if votes["comma"] > votes["dot"] else (".", ",")

