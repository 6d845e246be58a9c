"""Gamma-Gamma spend model: Hardie's CDNOW estimates, recovery, gradient, API."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from salesradar.errors import UserInputError
from salesradar.models import GammaGammaModel, GammaGammaParams, NotFittedError
from salesradar.models.spend import _Likelihood

from .conftest import Summary

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # Hardie's note 025, 946 repeaters


def test_reproduces_hardies_estimates_from_raw_transactions(cdnow: Summary) -> None:
    model = GammaGammaModel().fit(cdnow.frequency, cdnow.monetary)
    assert model.params_ is not None
    assert model.n_customers_ == 946
    assert {k: round(v, 2) for k, v in model.params_.as_dict().items()} == PUBLISHED


def test_reproduces_hardies_estimates_from_his_summary(
    hardie_summary: npt.NDArray[np.float64],
) -> None:
    # zbar is rounded to cents, so allow 2-decimal agreement as the lifetimes tests do
    model = GammaGammaModel().fit(hardie_summary[:, 1], hardie_summary[:, 4])
    assert model.params_ is not None
    for name, value in model.params_.as_dict().items():
        assert value == pytest.approx(PUBLISHED[name], abs=0.015), name


def test_raw_monetary_matches_hardies_zbar(
    cdnow: Summary, hardie_summary: npt.NDArray[np.float64]
) -> None:
    np.testing.assert_allclose(cdnow.monetary, hardie_summary[:, 4], atol=0.005 + 1e-9)


def test_expected_spend_shrinks_towards_the_population_mean(cdnow: Summary) -> None:
    model = GammaGammaModel().fit(cdnow.frequency, cdnow.monetary)
    p = model.params_
    assert p is not None
    population = model.population_mean_spend()
    assert population == pytest.approx(p.p * p.gamma / (p.q - 1))
    spend = model.expected_spend([0, 1, 10, 100], [0.0, 100.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < spend[3] < 100.0  # towards the customer's own 100
    assert spend[1] == pytest.approx((p.gamma + 100.0) * p.p / (p.p + p.q - 1))
    # customers without repeats: monetary is ignored
    assert model.expected_spend([0], [999.0])[0] == pytest.approx(population)


def test_recovers_parameters_from_simulated_data() -> None:
    truth = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    rng = np.random.default_rng(7)
    n = 20_000
    frequency = rng.integers(1, 12, n).astype(np.float64)
    nu = rng.gamma(truth.q, 1.0 / truth.gamma, n)
    # the mean of `frequency` Gamma(p, nu) values is Gamma(p * frequency, nu * frequency)
    monetary = rng.gamma(truth.p * frequency, 1.0 / (nu * frequency))
    model = GammaGammaModel().fit(frequency, monetary)
    assert model.params_ is not None
    for name, value in model.params_.as_dict().items():
        assert value == pytest.approx(getattr(truth, name), rel=0.1), name


def test_gradient_matches_finite_differences(cdnow: Summary) -> None:
    repeat = cdnow.frequency > 0
    likelihood = _Likelihood(
        cdnow.frequency[repeat], cdnow.monetary[repeat], np.ones(int(repeat.sum()))
    )
    for theta in ([6.25, 3.74, 15.44], [1.0, 2.0, 40.0], [20.0, 1.5, 3.0]):
        point = np.array(theta)
        analytic = likelihood.value_and_grad(point)[1]
        step = 1e-6 * point
        numeric = [
            (
                likelihood.value_and_grad(point + np.eye(3)[i] * step[i])[0]
                - likelihood.value_and_grad(point - np.eye(3)[i] * step[i])[0]
            )
            / (2 * step[i])
            for i in range(3)
        ]
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


def test_unfitted_and_bad_input() -> None:
    with pytest.raises(NotFittedError, match=r"GammaGammaModel\.fit"):
        GammaGammaModel().expected_spend([1], [10.0])
    with pytest.raises(UserInputError, match="monetary must be > 0"):
        GammaGammaModel().fit([1, 2], [10.0, -3.0])
    with pytest.raises(UserInputError, match="no customer with repeat purchases"):
        GammaGammaModel().fit([0, 0], [0.0, 0.0])
