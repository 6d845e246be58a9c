"""Numbers in words: the helpers models and insights use to write their reasons.

The array helpers are vectorized (pyarrow, no Python loop over rows); :func:`money` formats one
amount the way every reason shows money.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.currency import symbol
from salesradar.models.base import FloatArray


def as_floats(values: Any) -> FloatArray:
    """A pyarrow (or array-like) column as float64 numpy, nulls as NaN."""
    result: FloatArray = np.asarray(
        pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return result


def number_text(values: FloatArray, decimals: int = 0) -> pa.Array:
    """Numbers as text, rounded to ``decimals`` (NaN as 0)."""
    rounded = np.round(np.nan_to_num(values), decimals)
    if decimals == 0:
        result: pa.Array = pc.cast(pa.array(rounded.astype(np.int64)), pa.string())
        return result
    return pc.cast(pa.array(rounded), pa.string())


def day_texts(days: Any) -> pa.Array:
    """Days (numpy ``datetime64`` or an Arrow date column) as ``dd/mm/yyyy`` text, the way
    :func:`salesradar.charts.labels.format_day` writes one day.

    >>> day_texts(np.array(["2018-12-31", "2019-03-30"], dtype="datetime64[D]")).to_pylist()
    ['31/12/2018', '30/03/2019']
    """
    column = pa.array(np.asarray(days, dtype="datetime64[D]"), pa.date32())
    result: pa.Array = pc.strftime(column.cast(pa.timestamp("s")), format="%d/%m/%Y")
    return result


def join_text(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    arrays = [p if isinstance(p, pa.Array) else pa.scalar(p) for p in parts]
    result: pa.Array = pc.binary_join_element_wise(*arrays, "")
    return result


def money(value: float | None, currency: str | None = None) -> str:
    """A short amount: ``₪850``, ``₪3.8k``, ``₪38k``, ``₪1.2M`` (``-₪38k`` when negative)."""
    v = float(value or 0.0)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v >= 1e6:
        text = f"{v / 1e6:.1f}M"
    elif v >= 1e4:
        text = f"{v / 1e3:.0f}k"
    elif v >= 1e3:
        text = f"{v / 1e3:.1f}k"
    else:
        text = f"{v:.0f}"
    return f"{sign}{currency or symbol()}{text}"
