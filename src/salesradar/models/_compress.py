"""Collapse duplicate summary rows into distinct rows with summed weights.

Likelihoods of the purchase models depend on a customer only through a few numbers, and real
summaries repeat them a lot (whole days, many one-time buyers), so each distinct row is evaluated
once with the count of customers sharing it as its weight.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from salesradar.models.base import FloatArray

IntArray = npt.NDArray[np.int64]

# Times are often whole days, or whole days expressed in weeks (days / 7).
_GRID_MULTIPLIERS = (1.0, 7.0)
_KEY_LIMIT = 2**62


def _grid_codes(column: FloatArray) -> IntArray | None:
    """Integer codes when ``column`` lies on a whole-number grid (after x1 or x7), else None."""
    if len(column) == 0 or column.min() < 0:
        return None
    for multiplier in _GRID_MULTIPLIERS:
        scaled = column * multiplier if multiplier != 1.0 else column
        rounded = np.rint(scaled)
        if np.abs(scaled - rounded).max() <= 1e-7 and rounded.max() < _KEY_LIMIT:
            return rounded.astype(np.int64)
    return None


def _dense_codes(column: FloatArray) -> tuple[IntArray, int]:
    """Codes 0..k-1 of the distinct values of ``column`` and k."""
    grid = _grid_codes(column)
    if grid is not None:
        return grid, int(grid.max()) + 1
    _, inverse = np.unique(column, return_inverse=True)
    return inverse.astype(np.int64), int(inverse.max()) + 1


def _combine(left: IntArray, n_left: int, right: IntArray, n_right: int) -> tuple[IntArray, int]:
    """One integer key per (left, right) pair, re-coded densely if the product would overflow."""
    if n_left * n_right < _KEY_LIMIT:
        return left * n_right + right, n_left * n_right
    _, inverse = np.unique(left, return_inverse=True)
    left2 = inverse.astype(np.int64)
    _, inverse = np.unique(right, return_inverse=True)
    right2 = inverse.astype(np.int64)
    n_r2 = int(right2.max()) + 1
    return left2 * n_r2 + right2, (int(left2.max()) + 1) * n_r2


def compress_rows(
    columns: tuple[FloatArray, ...], weights: FloatArray | None
) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """Distinct rows of ``columns`` and the summed weight of each.

    Parameters
    ----------
    columns
        Equal-length 1-D arrays; a row is one position across them.
    weights
        Per-row weights, or None for all ones.

    Returns
    -------
    tuple
        The distinct rows (one array per column, taken from the first occurrence) and
        their weights.
    """
    n = len(columns[0])
    if n == 0:
        return columns, np.zeros(0, dtype=np.float64)
    key, size = _dense_codes(columns[0])
    for column in columns[1:]:
        codes, n_codes = _dense_codes(column)
        key, size = _combine(key, size, codes, n_codes)
    order = np.argsort(key)
    sorted_key = key[order]
    is_start = np.empty(n, dtype=bool)
    is_start[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    first = order[starts]
    if weights is None:
        summed = np.diff(np.append(starts, n)).astype(np.float64)
    else:
        summed = np.add.reduceat(weights[order], starts)
    return tuple(c[first] for c in columns), summed
