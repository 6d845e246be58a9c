"""Customer lifetime value: discounted expected gross profit over a horizon."""

from __future__ import annotations

import numpy as np
import pytest

from salesradar.errors import UserInputError
from salesradar.models import (
    BetaGeoModel,
    BetaGeoParams,
    GammaGammaModel,
    GammaGammaParams,
    customer_lifetime_value,
)

FREQUENCY = np.array([0.0, 2.0, 10.0, 10.0])
RECENCY = np.array([0.0, 100.0, 350.0, 60.0])
T = np.array([200.0, 365.0, 365.0, 365.0])
MONETARY = np.array([0.0, 800.0, 1200.0, 1200.0])


@pytest.fixture
def models() -> tuple[BetaGeoModel, GammaGammaModel]:
    rhythm, spend = BetaGeoModel(), GammaGammaModel()
    rhythm.params_ = BetaGeoParams(r=0.8, alpha=40.0, a=0.6, b=3.0)  # daily units
    spend.params_ = GammaGammaParams(p=6.0, q=4.0, gamma=400.0)
    return rhythm, spend


def test_without_discounting_is_purchases_times_spend_times_margin(
    models: tuple[BetaGeoModel, GammaGammaModel],
) -> None:
    rhythm, spend = models
    clv = customer_lifetime_value(
        rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
        horizon=365.0, margin=0.3, annual_discount_rate=0.0, time_unit="days",
    )  # fmt: skip
    expected = (
        rhythm.expected_purchases(365.0, FREQUENCY, RECENCY, T)
        * spend.expected_spend(FREQUENCY, MONETARY)
        * 0.3
    )
    np.testing.assert_allclose(clv, expected, rtol=1e-12)
    assert clv[2] > clv[3]  # same history, but the recent buyer is worth more


def test_discounting_matches_a_monthly_sum(models: tuple[BetaGeoModel, GammaGammaModel]) -> None:
    rhythm, spend = models
    margin = np.array([0.2, 0.25, 0.3, 0.3])
    clv = customer_lifetime_value(
        rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
        horizon=730.5, margin=margin, annual_discount_rate=0.12, time_unit="days",
    )  # fmt: skip
    ends = 730.5 * np.arange(1, 25) / 24
    cumulative = [np.zeros(4)] + [rhythm.expected_purchases(e, FREQUENCY, RECENCY, T) for e in ends]
    by_hand = sum(
        (cumulative[k + 1] - cumulative[k]) * 1.12 ** (-ends[k] / 365.25) for k in range(24)
    )
    expected = by_hand * spend.expected_spend(FREQUENCY, MONETARY) * margin
    np.testing.assert_allclose(clv, expected, rtol=1e-12)
    undiscounted = customer_lifetime_value(
        rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
        horizon=730.5, margin=margin, annual_discount_rate=0.0, time_unit="days",
    )  # fmt: skip
    assert np.all(clv < undiscounted)


def test_weeks_and_days_agree(models: tuple[BetaGeoModel, GammaGammaModel]) -> None:
    rhythm, spend = models
    weekly = BetaGeoModel()
    weekly.params_ = BetaGeoParams(r=0.8, alpha=40.0 / 7, a=0.6, b=3.0)  # alpha scales with time
    in_days = customer_lifetime_value(
        rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
        horizon=364.0, margin=0.3, annual_discount_rate=0.1, time_unit="days",
    )  # fmt: skip
    in_weeks = customer_lifetime_value(
        weekly, spend, FREQUENCY, RECENCY / 7, T / 7, MONETARY,
        horizon=52.0, margin=0.3, annual_discount_rate=0.1, time_unit="weeks",
    )  # fmt: skip
    np.testing.assert_allclose(in_days, in_weeks, rtol=1e-9)


def test_rejects_bad_settings(models: tuple[BetaGeoModel, GammaGammaModel]) -> None:
    rhythm, spend = models
    with pytest.raises(UserInputError, match="time_unit"):
        customer_lifetime_value(
            rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
            horizon=10.0, margin=0.3, annual_discount_rate=0.1, time_unit="months",  # type: ignore[arg-type]
        )  # fmt: skip
    with pytest.raises(UserInputError, match="horizon"):
        customer_lifetime_value(
            rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
            horizon=0.0, margin=0.3, annual_discount_rate=0.1, time_unit="days",
        )  # fmt: skip
    with pytest.raises(UserInputError, match="margin"):
        customer_lifetime_value(
            rhythm, spend, FREQUENCY, RECENCY, T, MONETARY,
            horizon=10.0, margin=[0.3, 0.2], annual_discount_rate=0.1, time_unit="days",
        )  # fmt: skip
