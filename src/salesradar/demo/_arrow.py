"""Vectorized conversions from numpy arrays to the Arrow columns the demo files are written from.

Everything here works on whole columns (no Python loop over rows), so that ten million invoice
lines can be formatted in seconds: ids are built as fixed-width byte matrices, money as exact
decimals from integer agorot, dates and timestamps from integer day and second counts.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from salesradar.schema import TABLES, ColumnType

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Fmt = Literal["csv", "parquet"]

EPOCH = datetime.date(1970, 1, 1)
MONEY_TYPE = pa.decimal128(18, 2)
# No quotes: the generated text never holds a delimiter, quote or newline (Arrow would refuse).
CSV_OPTIONS = pacsv.WriteOptions(quoting_style="none", quoting_header="none")

# The Arrow type each logical column type is written as; ids and periods are plain text.
ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.ID: pa.string(),
    ColumnType.TEXT: pa.string(),
    ColumnType.ENUM: pa.string(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("s"),
    ColumnType.PERIOD: pa.string(),
    ColumnType.MONEY: MONEY_TYPE,
    ColumnType.NUMBER: pa.float64(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.BOOLEAN: pa.bool_(),
}


def day_number(day: datetime.date) -> int:
    """Days since 1970-01-01, the integer representation of Arrow's date32."""
    return (day - EPOCH).days


def ids(prefix: str, numbers: npt.ArrayLike, width: int) -> pa.Array:
    """Readable ids such as ``C00042`` for many numbers at once, without formatting in Python.

    The digits are computed as a ``(n, width)`` byte matrix and handed to Arrow as the data
    buffer of a string array whose offsets advance by a fixed length.
    """
    nums = np.asarray(numbers, dtype=np.int64)
    n = len(nums)
    pre = np.frombuffer(prefix.encode(), dtype=np.uint8)
    length = len(pre) + width
    mat = np.empty((n, length), dtype=np.uint8)
    mat[:, : len(pre)] = pre
    rest = nums.copy()
    for pos in range(length - 1, len(pre) - 1, -1):
        mat[:, pos] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(mat.tobytes())]
    )


def money(cents: npt.ArrayLike) -> pa.Array:
    """An exact ``decimal(18, 2)`` column from integer agorot (hundredths of a shekel)."""
    lo = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(lo), 2), dtype=np.int64)
    words[:, 0] = lo
    words[:, 1] = np.where(lo < 0, -1, 0)  # two's complement sign extension to 128 bits
    return pa.Array.from_buffers(MONEY_TYPE, len(lo), [None, pa.py_buffer(words.tobytes())])


def dates(days: npt.ArrayLike, valid: BoolArray | None = None) -> pa.Array:
    """A date column from days since the epoch; ``valid`` false gives an empty value."""
    arr = np.asarray(days, dtype=np.int32)
    return pa.array(arr, pa.date32(), mask=None if valid is None else ~valid)


def timestamps(seconds: npt.ArrayLike, valid: BoolArray | None = None) -> pa.Array:
    """A timestamp column (whole seconds) from seconds since the epoch."""
    arr = np.asarray(seconds, dtype=np.int64)
    return pa.array(arr, pa.timestamp("s"), mask=None if valid is None else ~valid)


def pick(labels: Sequence[str], index: npt.ArrayLike, valid: BoolArray | None = None) -> pa.Array:
    """Strings ``labels[index]`` for many rows, by Arrow's take on a small dictionary."""
    idx = pa.array(np.asarray(index, dtype=np.int32),
                   mask=None if valid is None else ~valid)
    return pa.array(list(labels), pa.string()).take(idx)


def phones(numbers: npt.ArrayLike, valid: BoolArray | None = None) -> pa.Array:
    """Israeli mobile numbers such as ``054-1234567``, a fixed function of ``numbers`` (no
    random draw, so adding them changes nothing else of a generated company)."""
    nums = np.asarray(numbers, dtype=np.int64)
    prefix = 50 + (nums * 7) % 9
    rest = (nums * 7919 + 1_234_567) % 10_000_000
    texts = [f"0{p}-{r:07d}" for p, r in zip(prefix.tolist(), rest.tolist(), strict=True)]
    return pa.array(texts, pa.string(), mask=None if valid is None else ~valid)


def month_labels(first_month: int, count: int) -> list[str]:
    """``YYYY-MM`` labels of ``count`` months from a month number (year * 12 + month - 1)."""
    return [f"{(m // 12):04d}-{(m % 12) + 1:02d}" for m in range(first_month, first_month + count)]


class TableWriter:
    """Writes one canonical table, in chunks, with exactly its canonical columns and types."""

    def __init__(self, out_dir: Path, table: str, fmt: Fmt) -> None:
        self.table = TABLES[table]
        self.schema = pa.schema([
            pa.field(col.name, ARROW_TYPES[col.type]) for col in self.table.columns
        ])
        self.path = out_dir / f"{table}.{fmt}"
        self.rows = 0
        self._writer: pacsv.CSVWriter | pq.ParquetWriter
        if fmt == "csv":
            self._writer = pacsv.CSVWriter(
                str(self.path), self.schema,
                write_options=CSV_OPTIONS)
        else:
            self._writer = pq.ParquetWriter(str(self.path), self.schema, compression="zstd")

    def write(self, columns: dict[str, Any]) -> None:
        """Append rows; ``columns`` maps every canonical column to an array (or None = empty)."""
        unknown = set(columns) - set(self.schema.names)
        if unknown:
            raise ValueError(f"{self.table.name} has no columns {sorted(unknown)}")
        n = next(len(v) for v in columns.values() if v is not None)
        arrays = []
        for field in self.schema:
            value = columns.get(field.name)
            if value is None:
                arrays.append(pa.nulls(n, field.type))
            elif isinstance(value, pa.Array | pa.ChunkedArray):
                arrays.append(value.cast(field.type) if value.type != field.type else value)
            else:
                arrays.append(pa.array(value, field.type))
        batch = pa.record_batch(arrays, schema=self.schema)
        self._writer.write(batch)
        self.rows += n

    def close(self) -> None:
        """Finish the file (writes the Parquet footer)."""
        self._writer.close()


def write_table(out_dir: Path, table: str, fmt: Fmt, columns: dict[str, Any]) -> int:
    """Write a whole (small) table in one go; returns the number of rows."""
    writer = TableWriter(out_dir, table, fmt)
    try:
        writer.write(columns)
    finally:
        writer.close()
    return int(writer.rows)


def write_truth(path: Path, columns: dict[str, Any]) -> int:
    """Write one truth file (always CSV, so people can open it); returns the number of rows."""
    arrays = {k: (v if isinstance(v, pa.Array) else pa.array(v)) for k, v in columns.items()}
    tbl = pa.table(arrays)
    pacsv.write_csv(tbl, str(path), write_options=CSV_OPTIONS)
    return int(tbl.num_rows)
