"""The conversions' cheap branches give exactly what the long way gives: typed text taken as it
is when ``trim`` would leave it so, typed amounts and whole numbers cast directly where the
DOUBLE path is exact, enum values written as allowed taken as they are. The references are the
long expressions written out here, and hand-written values."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesradar.io import import_file, parse
from salesradar.schema import ColumnType
from salesradar.schema.tables import TABLES, Column
from salesradar.workspace import Workspace

TRIMMED = "nullif(trim(CAST(x AS VARCHAR)), '')"
MONEY = "TRY_CAST(round(TRY_CAST(x AS DOUBLE), 4) AS DECIMAL(18,4))"
WHOLE = ("(CASE WHEN TRY_CAST(x AS DOUBLE) = trunc(TRY_CAST(x AS DOUBLE)) "
         "THEN TRY_CAST(TRY_CAST(x AS DOUBLE) AS BIGINT) END)")
# the space separators (Unicode Zs): what DuckDB's trim removes
ZS = (0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)


def _differences(con: duckdb.DuckDBPyConnection, values: str, fast: str,
                 slow: str) -> list[tuple[Any, ...]]:
    return con.execute(
        f"SELECT x, {fast}, {slow} FROM ({values}) WHERE ({fast}) IS DISTINCT FROM ({slow}) "
        "LIMIT 5").fetchall()


def test_trim_removes_the_space_separators_only() -> None:
    """The text shortcut relies on it: of ASCII, trim removes the space alone."""
    con = duckdb.connect()
    trimmed = con.execute(
        "SELECT list(range ORDER BY range) FROM range(1, 1114112) "
        "WHERE range NOT BETWEEN 55296 AND 57343 "
        "AND trim(chr(range::INTEGER) || 'a' || chr(range::INTEGER)) = 'a'").fetchone()
    assert trimmed is not None and tuple(trimmed[0]) == ZS


def test_typed_text_is_what_trim_gives_for_every_character_at_either_end() -> None:
    con = duckdb.connect()
    fast = parse.text("x", "VARCHAR")
    assert fast != parse.text("x")
    characters = ("SELECT chr(range::INTEGER) AS c FROM range(1, 1114112) "
                  "WHERE range NOT BETWEEN 55296 AND 57343")
    values = (f"SELECT unnest([c, c || 'ab', 'ab' || c, c || 'a' || c, 'a' || c || 'b', "
              f"c || c, ' ' || c, c || ' ']) AS x FROM ({characters}) "
              "UNION ALL SELECT unnest(['', ' ', '  ', NULL, 'A1', ' A1', 'A1 ', '17850.0', "
              "'\u00a0A1', 'A1\u3000', '\tA1', 'A1\t', 'שלום', ' שלום ', '!', '~'])")
    assert _differences(con, values, fast, TRIMMED) == []
    # the shortcut is taken: clean ASCII values come out as they are
    assert con.execute(f"SELECT {fast} FROM (SELECT 'A-17 x' AS x)").fetchone() == ("A-17 x",)


@pytest.mark.parametrize("source_type", ["DECIMAL(18,2)", "DECIMAL(38,4)", "DECIMAL(9,1)",
                                         "DECIMAL(15,0)", "DECIMAL(18,3)"])
def test_typed_amounts_convert_as_through_a_double(source_type: str) -> None:
    con = duckdb.connect()
    column = Column("amount", ColumnType.MONEY, "")
    fast = parse.convert(column, "x", source_type, number_format=parse.NumberFormat(),
                         date_formats=())
    assert "CAST(x AS DECIMAL(18,4))" in fast
    width, scale = map(int, re.findall(r"\d+", source_type))
    top = 10 ** (width - scale) - 1
    unit = Decimal(1).scaleb(-scale)
    edges = [Decimal(v) for v in (0, 1, 999_999_999, 1_000_000_000, 12_345_678_901, top)
             if v <= top]
    edges += [e - unit for e in edges if e > 0] + [e + unit for e in edges if e + unit <= top]
    listed = ", ".join(f"'{sign}{e}'" for e in edges for sign in ("", "-"))
    values = (f"SELECT CAST(v AS {source_type}) AS x FROM (SELECT unnest([{listed}]) AS v "
              f"UNION ALL SELECT NULL "
              f"UNION ALL SELECT CAST(CAST(range - 200000 AS DECIMAL(38,0)) * "
              f"CAST('{unit}' AS DECIMAL({scale + 1},{scale})) AS VARCHAR) FROM range(400000) "
              f"UNION ALL SELECT CAST(CAST(hash(range) % {min(top, 10 ** 13)} AS DECIMAL(38,0)) "
              f"* CAST('{unit}' AS DECIMAL({scale + 1},{scale})) AS VARCHAR) FROM range(400000))")
    assert _differences(con, values, fast, MONEY) == []


@pytest.mark.parametrize("source_type", ["BIGINT", "UBIGINT", "HUGEINT", "INTEGER"])
def test_typed_whole_numbers_convert_as_through_a_double(source_type: str) -> None:
    con = duckdb.connect()
    column = Column("line_no", ColumnType.INTEGER, "")
    fast = parse.convert(column, "x", source_type, number_format=parse.NumberFormat(),
                         date_formats=())
    assert "CAST(x AS BIGINT)" in fast
    edges = [0, 1, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1]
    listed = ", ".join(f"'{sign}{e}'" for e in edges for sign in ("", "-"))
    values = (f"SELECT TRY_CAST(v AS {source_type}) AS x FROM (SELECT unnest([{listed}]) AS v "
              "UNION ALL SELECT CAST(range - 100000 AS VARCHAR) FROM range(200000))")
    assert _differences(con, values, fast, WHOLE) == []


def _normalized(column: Column, value: str) -> str | None:
    """The enum rule in Python: lower case, runs of spaces and dashes to one underscore,
    synonyms, then only the allowed values."""
    key = re.sub(r"[ \t\n\r\f\v\-]+", "_", value.lower())
    synonyms = {k.replace(" ", "_").replace("-", "_"): v for k, v in column.synonyms.items()}
    key = synonyms.get(key, key)
    return key if key in column.values else None


def test_enum_values_of_every_table_convert_by_the_rule() -> None:
    con = duckdb.connect()
    for spec in TABLES.values():
        for column in (c for c in spec.columns if c.type is ColumnType.ENUM):
            words = {*column.values, *column.synonyms, "bogus", ""}
            variants = sorted({w2 for w in words for w2 in (
                w, w.upper(), w.title(), w.replace("_", " "), w.replace("_", "-"),
                w.replace("_", " - "), f"{w}_", f"_{w}")})
            got = dict(con.execute(
                f"SELECT x, {parse.enum_value(column, 'x')} FROM "
                "(SELECT unnest($values) AS x)", {"values": variants}).fetchall())
            assert got == {v: _normalized(column, v) for v in variants}, column.name


def test_typed_file_with_padded_ids_and_large_amounts(ws: Workspace, tmp_path: Path) -> None:
    """A typed (Parquet) file through the shortcuts and around them, value by value."""
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.table({
        "invoice_id": ["A", " A", "B\u00a0", "17850.0"],
        "line_no": pa.array([1, 2, 2**53 + 1, 3], pa.int64()),
        "invoice_date": [dt.date(2024, 1, 2)] * 4,
        "customer_id": ["C1", "C1 ", "\u3000C2", "C3"],
        "sku": ["S1", "S2", "S3", "40.0"],
        "quantity": [1.0, 2.0, 1.0, 1.0],
        "net_revenue": pa.array([Decimal("10.25"), Decimal("999999999.99"),
                                 Decimal("1000000000.01"), Decimal("12345678901234.57")],
                                pa.decimal128(18, 2)),
        "channel": ["web", " web ", "", "ווב"],
    }), path)
    import_file(ws, "invoice_lines", path)
    assert ws.con.execute(
        "SELECT invoice_id, line_no, customer_id, sku, net_revenue, channel "
        "FROM invoice_lines ORDER BY rowid").fetchall() == [
        ("A", 1, "C1", "S1", Decimal("10.2500"), "web"),
        ("A", 2, "C1", "S2", Decimal("999999999.9900"), "web"),
        ("B", 9007199254740992, "C2", "S3", Decimal("1000000000.0100"), None),
        # beyond the double's 16 digits the amount keeps the double's rounding
        ("17850", 3, "C3", "40", Decimal("12345678901234.5696"), "ווב"),
    ]
