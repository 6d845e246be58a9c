"""Customer lifetime value from the purchase-rhythm and spend models."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from salesradar.errors import UserInputError
from salesradar.models.base import FloatArray, as_float_array
from salesradar.models.rhythm import BetaGeoModel
from salesradar.models.spend import GammaGammaModel

__all__ = ["UNITS_PER_YEAR", "TimeUnit", "customer_lifetime_value"]

TimeUnit = Literal["days", "weeks"]
UNITS_PER_YEAR: dict[str, float] = {"days": 365.25, "weeks": 365.25 / 7.0}


def customer_lifetime_value(
    rhythm: BetaGeoModel,
    spend: GammaGammaModel,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary: Any,
    *,
    horizon: float,
    margin: float | Any,
    annual_discount_rate: float,
    time_unit: TimeUnit,
    steps_per_year: int = 12,
) -> FloatArray:
    """Discounted expected gross profit of each customer over the next ``horizon``.

    The horizon is cut into steps (monthly by default). For each step the expected purchases
    of the customer in that step (``rhythm.expected_purchases`` at the step's end minus at its
    start) are multiplied by the expected value per purchase (``spend.expected_spend``) and by
    ``margin``, and discounted to today at the end of the step.

    Parameters
    ----------
    rhythm
        A fitted :class:`~salesradar.models.rhythm.BetaGeoModel`.
    spend
        A fitted :class:`~salesradar.models.spend.GammaGammaModel`.
    frequency, recency, T, monetary
        Per-customer summary, in the same time unit the rhythm model was fitted in.
    horizon
        Length of the future period, in that time unit (e.g. 365 days, 52 weeks).
    margin
        Gross margin as a fraction of revenue (0.25 = 25%), one value or one per customer.
        Use 1.0 when ``monetary`` already measures gross profit.
    annual_discount_rate
        Yearly cost of capital, e.g. 0.10 for 10%; 0 for no discounting.
    time_unit
        ``"days"`` or ``"weeks"``: the unit of ``recency``, ``T`` and ``horizon``, used only to
        turn the annual rate into a per-step discount.
    steps_per_year
        Discounting steps per year (12 = monthly).

    Returns
    -------
    numpy.ndarray
        Lifetime value per customer, in the currency of ``monetary``.
    """
    if time_unit not in UNITS_PER_YEAR:
        raise UserInputError(f"time_unit must be 'days' or 'weeks', got {time_unit!r}")
    if not horizon > 0 or not math.isfinite(horizon):
        raise UserInputError(f"horizon must be a positive number, got {horizon!r}")
    if annual_discount_rate <= -1.0 or not math.isfinite(annual_discount_rate):
        raise UserInputError(f"annual_discount_rate must exceed -1, got {annual_discount_rate!r}")
    if steps_per_year < 1:
        raise UserInputError(f"steps_per_year must be >= 1, got {steps_per_year!r}")
    units_per_year = UNITS_PER_YEAR[time_unit]
    value_per_purchase = spend.expected_spend(frequency, monetary)
    margins = as_float_array(margin, "margin")
    if len(margins) not in (1, len(value_per_purchase)):
        raise UserInputError(
            f"margin must be one value or one per customer ({len(value_per_purchase)}), "
            f"got {len(margins)}"
        )
    n_steps = max(1, math.ceil(horizon / units_per_year * steps_per_year - 1e-9))
    ends = horizon * np.arange(1, n_steps + 1) / n_steps
    discounted = np.zeros(len(value_per_purchase))
    previous = np.zeros(len(value_per_purchase))
    for end in ends:  # one vectorized evaluation per step (a handful), never per customer
        cumulative = rhythm.expected_purchases(end, frequency, recency, T)
        factor = (1.0 + annual_discount_rate) ** (-end / units_per_year)
        discounted += (cumulative - previous) * factor
        previous = cumulative
    return np.asarray(discounted * value_per_purchase * margins, dtype=np.float64)
