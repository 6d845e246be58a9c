"""Turn raw source values into canonical types, as DuckDB expressions over the staging table.

One function per logical type. A value that cannot be converted becomes NULL; the importer then
reports every row where the raw value was present but the converted one is NULL, so nothing is
silently dropped. Everything here is a vectorized expression: no Python runs per row.

Numbers accept what ERP exports write: currency signs (₪, $, €, £, NIS, ש"ח), thousands separators,
a decimal comma when the mapping says so, accounting negatives ``(1,234.00)`` and the trailing minus
``1,234.00-`` of Hebrew ERPs. Dates accept ISO and, unless the mapping fixes a format, either
day-first (dd/mm/yyyy, the default) or month-first, chosen per column by which parses every value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from salesradar.schema import Column, ColumnType
from salesradar.workspace import literal as literal  # the importer writes parse.literal

ISO_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y%m%d",
)
DAY_FIRST_FORMATS = (
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y",
)
MONTH_FIRST_FORMATS = (
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p",
    "%m-%d-%Y", "%m/%d/%y",
)
NUMERIC_SOURCE_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL",
)
TRUE_WORDS = ("true", "t", "yes", "y", "1", "active", "כן", "פעיל", "on")
FALSE_WORDS = ("false", "f", "no", "n", "0", "inactive", "discontinued", "לא", "לא פעיל", "off")
# the no-break space and the bidi marks (U+200E, U+200F) are what Hebrew spreadsheets paste in
CURRENCY_PATTERN = '[₪$€£\\s\u00a0\u200e\u200f]|NIS|ILS|USD|EUR|ש"ח|ש״ח'


def format_list(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(literal(f) for f in formats) + "]"


def human_format(fmt: str) -> str:
    """``%d/%m/%Y`` as people write it: ``dd/mm/yyyy``."""
    for code, shown in (("%d", "dd"), ("%m", "mm"), ("%Y", "yyyy"), ("%y", "yy"),
                        ("%H", "HH"), ("%M", "MM"), ("%S", "SS")):
        fmt = fmt.replace(code, shown)
    return fmt


def is_numeric_type(duckdb_type: str) -> bool:
    return duckdb_type.upper().startswith(NUMERIC_SOURCE_TYPES)


def is_temporal_type(duckdb_type: str) -> bool:
    return duckdb_type.upper().startswith(("DATE", "TIMESTAMP"))


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = "."
    thousands: str = ","


# 2**53: integers up to this magnitude convert through a DOUBLE and back unchanged
EXACT_DOUBLE_INTEGER = 9007199254740992
# amounts below this magnitude with at most 4 decimals come out of the DOUBLE rounding of
# convert() exactly as they went in (tests/io/test_parse_fast_paths.py)
EXACT_MONEY_BOUND = 1_000_000_000
INTEGER_SOURCE_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT",
)


def text(raw: str, source_type: str | None = None) -> str:
    """Trimmed text, NULL when empty.

    A VARCHAR source's value that ``trim`` leaves as it is, and that is not empty, is taken as it
    is: all ASCII (bytes as many as characters), not starting with a space or a control character
    and not ending with a space, since ``trim`` removes only the space separators (Unicode Zs), of
    which ASCII has the space alone. The test costs a fraction of ``trim``'s copy of every value;
    any other value (empty, padded, non-ASCII) still goes through ``trim``.
    """
    trimmed = f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
    if source_type is None or source_type.upper() != "VARCHAR":
        return trimmed
    return (f"(CASE WHEN {raw} >= '!' AND NOT suffix({raw}, ' ') AND strlen({raw}) = "
            f"length({raw}) THEN {raw} ELSE {trimmed} END)")


def translated(raw: str, values: dict[str, str], source_type: str | None = None) -> str:
    """Apply a mapping's ``values:`` translation (case-insensitive; ``*`` = every other value)."""
    value = text(raw, source_type)
    if not values:
        return value
    default = values.get("*")
    cases = " ".join(
        f"WHEN {literal(k)} THEN {literal(v)}" for k, v in values.items() if k != "*"
    )
    otherwise = f"CASE WHEN {value} IS NULL THEN NULL ELSE {literal(default)} END" if default \
        else value
    return f"(CASE lower({value}) {cases} ELSE {otherwise} END)"


def number_text(value: str, fmt: NumberFormat) -> str:
    """Number text stripped to what DuckDB casts: no currency, no thousands, '.' decimals."""
    cleaned = f"regexp_replace({value}, {literal(CURRENCY_PATTERN)}, '', 'g')"
    if fmt.thousands:
        cleaned = f"replace({cleaned}, {literal(fmt.thousands)}, '')"
    if fmt.decimal != ".":
        cleaned = f"replace({cleaned}, {literal(fmt.decimal)}, '.')"
    # (123.45) and 123.45- are negatives in accounting exports
    cleaned = f"regexp_replace({cleaned}, '^\\((.*)\\)$', '-\\1')"
    return f"regexp_replace({cleaned}, '^([0-9.]+)-$', '-\\1')"


def as_double(raw: str, source_type: str, fmt: NumberFormat) -> str:
    if is_numeric_type(source_type):
        return f"TRY_CAST({raw} AS DOUBLE)"
    return f"TRY_CAST({number_text(text(raw), fmt)} AS DOUBLE)"


def convert(
    column: Column,
    value: str,
    source_type: str,
    *,
    number_format: NumberFormat,
    date_formats: tuple[str, ...],
) -> str:
    """The expression converting ``value`` (raw or translated) to ``column``'s storage type."""
    kind = column.type
    if kind in (ColumnType.MONEY, ColumnType.NUMBER, ColumnType.INTEGER):
        exact = _exact_number(kind, value, source_type)
        if is_numeric_type(source_type):
            number = f"TRY_CAST({value} AS DOUBLE)"
        elif number_format.decimal == ".":
            # plain numbers cast directly; only the rest pays for the cleaning regexes
            number = f"coalesce(TRY_CAST({value} AS DOUBLE), " \
                     f"TRY_CAST({number_text(value, number_format)} AS DOUBLE))"
        else:
            number = f"TRY_CAST({number_text(value, number_format)} AS DOUBLE)"
        if kind is ColumnType.MONEY:
            converted = f"TRY_CAST(round({number}, 4) AS DECIMAL(18,4))"
        elif kind is ColumnType.INTEGER:
            converted = f"(CASE WHEN {number} = trunc({number}) " \
                        f"THEN TRY_CAST({number} AS BIGINT) END)"
        else:
            return number
        return f"(CASE WHEN {exact} ELSE {converted} END)" if exact else converted
    if kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
        target = "DATE" if kind is ColumnType.DATE else "TIMESTAMP"
        if is_temporal_type(source_type):
            return f"TRY_CAST({value} AS {target})"
        parsed = f"CAST(try_strptime({value}, {format_list(date_formats)}) AS {target})"
        if date_formats[:1] == ISO_FORMATS[:1]:  # ISO first: let the fast cast try it first
            return f"coalesce(TRY_CAST({value} AS {target}), {parsed})"
        return parsed
    if kind is ColumnType.PERIOD:
        return period_start(value, source_type, date_formats)
    if kind is ColumnType.BOOLEAN:
        if source_type.upper() == "BOOLEAN":
            return value
        words = f"lower({value})"
        true_list = ", ".join(literal(w) for w in TRUE_WORDS)
        false_list = ", ".join(literal(w) for w in FALSE_WORDS)
        return f"(CASE WHEN {words} IN ({true_list}) THEN true " \
               f"WHEN {words} IN ({false_list}) THEN false END)"
    if kind is ColumnType.ENUM:
        return enum_value(column, value)
    if kind is ColumnType.ID:
        # ids that went through a float column arrive as "17850.0"
        return f"(CASE WHEN suffix({value}, '.0') THEN " \
               f"regexp_replace({value}, '^([0-9]+)\\.0+$', '\\1') ELSE {value} END)"
    return value


def _exact_number(kind: ColumnType, value: str, source_type: str) -> str | None:
    """A cheaper CASE branch for the typed source values whose conversion through a DOUBLE in
    :func:`convert` is exact: a direct cast then gives the identical value. Larger magnitudes
    keep the DOUBLE path (and its rounding, or its failure), so every value converts as before.
    """
    kind_type = source_type.upper()
    if kind is ColumnType.MONEY:
        scale = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", kind_type)
        if scale is None or int(scale.group(2)) > 4:
            return None
        return f"abs({value}) < {EXACT_MONEY_BOUND} THEN CAST({value} AS DECIMAL(18,4))"
    if kind is ColumnType.INTEGER and kind_type in INTEGER_SOURCE_TYPES:
        return (f"{value} BETWEEN -{EXACT_DOUBLE_INTEGER} AND {EXACT_DOUBLE_INTEGER} "
                f"THEN CAST({value} AS BIGINT)")
    return None


def enum_value(column: Column, value: str) -> str:
    """Lower-cased, spaces and dashes to underscores, synonyms applied; NULL if not allowed."""
    key = f"regexp_replace(lower({value}), '[\\s\\-]+', '_', 'g')"
    synonyms = {k.replace(" ", "_").replace("-", "_"): v for k, v in column.synonyms.items()}
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in synonyms.items())
    normalized = f"(CASE {key} {cases} ELSE {key} END)" if cases else key
    allowed = ", ".join(literal(v) for v in column.values)
    converted = f"(CASE WHEN {normalized} IN ({allowed}) THEN {normalized} END)"
    # a value written exactly as an allowed one (lower case, no space or dash, no synonym)
    # converts to itself: taken as it is, without the lower-casing and the regex
    as_is = [v for v in column.values if re.fullmatch("[a-z0-9_]+", v) and v not in synonyms]
    if not as_is:
        return converted
    return f"(CASE WHEN {value} IN ({', '.join(literal(v) for v in as_is)}) THEN {value} " \
           f"ELSE {converted} END)"


PERIOD_SHAPES = ("\\d{4}[-/]\\d{1,2}", "\\d{1,2}[-/.]\\d{4}",
                 "(\\d{4}[- ]?Q[1-4])|(Q[1-4][- ]?\\d{4})", "\\d{4}")


def period_shaped(value: str) -> str:
    """True where a period's text is a month, quarter or year rather than a date (those are
    read without any date format; only the rest says which date order the column uses)."""
    shapes = "|".join(f"({shape})" for shape in PERIOD_SHAPES)
    return f"regexp_full_match(upper({value}), '{shapes}')"


def period_start(value: str, source_type: str, date_formats: tuple[str, ...]) -> str:
    """Start of a period written 2024-03, 2024/03, 03/2024, 2024-Q1, Q1 2024, 2024 or a date."""
    if is_temporal_type(source_type):
        return f"TRY_CAST({value} AS DATE)"
    v = f"upper({value})"
    quarter = (
        f"make_date(TRY_CAST(regexp_extract({v}, '(\\d{{4}})', 1) AS INTEGER), "
        f"(TRY_CAST(regexp_extract({v}, 'Q([1-4])', 1) AS INTEGER) - 1) * 3 + 1, 1)"
    )
    year_month, month_year, quarter_shape, year = PERIOD_SHAPES
    return (
        f"(CASE WHEN regexp_full_match({v}, '{year_month}') "
        f"THEN CAST(try_strptime({v} || '-01', ['%Y-%m-%d', '%Y/%m-%d']) AS DATE) "
        f"WHEN regexp_full_match({v}, '{month_year}') "
        f"THEN CAST(try_strptime('01/' || replace(replace({v}, '-', '/'), '.', '/'), '%d/%m/%Y') "
        f"AS DATE) "
        f"WHEN regexp_full_match({v}, '{quarter_shape}') "
        f"THEN {quarter} "
        f"WHEN regexp_full_match({v}, '{year}') THEN make_date(CAST({v} AS INTEGER), 1, 1) "
        f"ELSE CAST(try_strptime({value}, {format_list(date_formats)}) AS DATE) END)"
    )


def period_grain(value: str, source_type: str) -> str:
    """The grain a period's text implies (month for a plain date)."""
    if is_temporal_type(source_type):
        return "'month'"
    v = f"upper({value})"
    return (
        f"(CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN regexp_full_match({v}, '(\\d{{4}}[- ]?Q[1-4])|(Q[1-4][- ]?\\d{{4}})') "
        f"THEN 'quarter' WHEN regexp_full_match({v}, '\\d{{4}}') THEN 'year' ELSE 'month' END)"
    )


def date_order_candidates(explicit: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Format lists to try on a date column: the mapping's own, or day-first and month-first."""
    if explicit:
        return {"mapping": explicit + ISO_FORMATS}
    return {
        "day-first": ISO_FORMATS + DAY_FIRST_FORMATS,
        "month-first": ISO_FORMATS + MONTH_FIRST_FORMATS,
    }

