"""Shared pieces of the statistical models: the not-fitted error and input checks.

The models follow scikit-learn's conventions: the constructor only stores settings, ``fit``
learns and returns ``self``, learned attributes end in ``_``, and using a model before ``fit``
raises :class:`NotFittedError`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from salesradar.errors import SalesradarError, UserInputError

FloatArray = npt.NDArray[np.float64]


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class NotFittedError(SalesradarError, ValueError, AttributeError):
    """A model was used (scored, inspected) before ``fit`` was called."""


class ConvergenceWarning(UserWarning):
    """The optimizer stopped before the fit converged; the estimates may be off."""


class NoDropoutWarning(UserWarning):
    """The data do not show customers dropping out: P(alive) is ~1 for everyone and says
    nothing (see :attr:`salesradar.models.rhythm.BetaGeoModel.dropout_identified_`)."""


def check_is_fitted(model: object, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``model`` has the learned ``attribute``.

    Parameters
    ----------
    model
        The estimator.
    attribute
        A learned attribute (ending in ``_``) that ``fit`` sets.
    """
    if getattr(model, attribute, None) is None:
        name = type(model).__name__
        raise NotFittedError(
            f"This {name} is not fitted yet; call {name}.fit(...) before using it."
        )


def dot(left: FloatArray, right: FloatArray) -> float:
    """Sum of products of two 1-D arrays, without BLAS.

    ``left @ right`` goes to multithreaded OpenBLAS, whose spinning worker threads made the fit
    10-100x slower when the cores are shared with other processes; einsum runs in this thread.
    """
    return float(np.einsum("i,i->", left, right))


def as_float_array(values: Any, name: str) -> FloatArray:
    """Return ``values`` as a 1-D float64 array of finite numbers.

    Parameters
    ----------
    values
        Anything array-like (list, numpy array, pandas/pyarrow column).
    name
        The argument name, used in the error message.

    Raises
    ------
    UserInputError
        If the values are not 1-D numbers or contain NaN/inf.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} must be numbers: {exc}") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise UserInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise UserInputError(f"{name} contains missing or infinite values")
    return array


def check_same_length(**arrays: FloatArray) -> int:
    """Return the common length of ``arrays`` or raise :class:`UserInputError`."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise UserInputError(f"inputs must have the same length, got {described}")
    return next(iter(lengths.values()), 0)


def as_weights(weights: Any, n: int) -> FloatArray:
    """Return per-row weights (ones when ``weights`` is None), checked non-negative."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_float_array(weights, "weights")
    if len(w) != n:
        raise UserInputError(f"weights must have length {n}, got {len(w)}")
    if (w < 0).any():
        raise UserInputError("weights must be non-negative")
    if w.sum() <= 0:
        raise UserInputError("weights must not all be zero")
    return w
