"""tiers._pct_rank counts ranks with numpy: the same bits as scipy.stats.rankdata
(method="max") divided by the number ranked, ties, infinities, signed zeros, masks and NaN
included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata  # type: ignore[import-untyped, unused-ignore]

from salesradar.models.tiers import _pct_rank


def _reference(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    m = np.ones(len(values), dtype=bool) if mask is None else mask
    out = np.full(len(values), np.nan)
    if m.any():
        out[m] = rankdata(values[m], method="max") / m.sum()
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_ranks_are_scipys_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(300):
        n = int(rng.integers(1, 80))
        values = (rng.choice([-2.0, -0.0, 0.0, 1.5, 3.0, np.inf, -np.inf, 7.25], n)
                  if trial % 2 else rng.normal(size=n))
        if trial % 7 == 0:
            values[rng.integers(0, n)] = np.nan
        mask = None if trial % 3 == 0 else rng.random(n) < 0.6
        expected, got = _reference(values, mask), _pct_rank(values, mask)
        assert np.array_equal(expected.view(np.int64), got.view(np.int64))


def test_ties_share_the_highest_rank() -> None:
    got = _pct_rank(np.array([5.0, 1.0, 5.0, 3.0]), np.array([True, True, True, False]))
    assert np.array_equal(got, [1.0, 1 / 3, 1.0, np.nan], equal_nan=True)
