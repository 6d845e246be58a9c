"""BG/NBD: reproduction of the published CDNOW results, recovery, gradient, stability, API."""

from __future__ import annotations

import doctest
from types import ModuleType

import numpy as np
import pytest
from scipy import integrate, optimize, special  # type: ignore[import-untyped, unused-ignore]

from salesradar.errors import SalesradarError, UserInputError
from salesradar.models import (
    BetaGeoModel,
    BetaGeoParams,
    ConvergenceWarning,
    NoDropoutWarning,
    NotFittedError,
    rhythm,
    simulate_purchases,
    spend,
)
from salesradar.models.rhythm import _Likelihood, _purchases_if_alive

from .conftest import CDNOW, Summary

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4


@pytest.fixture(scope="module")
def fitted(cdnow: Summary) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)


# --- the summary built from raw transactions --------------------------------------------------


def test_summary_from_raw_follows_the_paper_conventions(cdnow: Summary) -> None:
    assert len(cdnow.customer) == 2357
    assert cdnow.n_customer_days == 6696
    assert cdnow.frequency.sum() == 2457
    assert (cdnow.frequency == 0).sum() == 1411
    assert cdnow.holdout.sum() == 1882
    assert (cdnow.holdout > 0).sum() == 684


def test_summary_from_raw_matches_hardies_csv(cdnow: Summary) -> None:
    csv = np.loadtxt(CDNOW / "cdnow_customers_summary.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(csv[:, 0], cdnow.customer)
    np.testing.assert_array_equal(csv[:, 1], cdnow.frequency)
    # Hardie rounds weeks to 2 decimals
    np.testing.assert_allclose(csv[:, 2], cdnow.recency, atol=0.005 + 1e-9)
    np.testing.assert_allclose(csv[:, 3], cdnow.T, atol=0.005 + 1e-9)


# --- published estimates ----------------------------------------------------------------------


def test_reproduces_published_parameters_to_3_decimals(fitted: BetaGeoModel) -> None:
    assert fitted.params_ is not None
    got = {k: round(v, 3) for k, v in fitted.params_.as_dict().items()}
    assert got == PUBLISHED


def test_reproduces_published_log_likelihood(fitted: BetaGeoModel) -> None:
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_hardies_csv_gives_the_same_estimates() -> None:
    csv = np.loadtxt(CDNOW / "cdnow_customers_summary.csv", delimiter=",", skiprows=1)
    model = BetaGeoModel().fit(csv[:, 1], csv[:, 2], csv[:, 3])
    assert model.params_ is not None
    assert {k: round(v, 3) for k, v in model.params_.as_dict().items()} == PUBLISHED
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_conditional_expectation_matches_hardies_spreadsheet(fitted: BetaGeoModel) -> None:
    expected = fitted.expected_purchases(39, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=1e-3)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (0.1429, 0.0078),
        (1.0, 0.0532),
        (3.0, 0.1506),
        (31.8571, 1.0405),
        (32.0, 1.0437),
        (78.0, 1.8576),
    ],
)
def test_unconditional_expectation_matches_hardies_spreadsheet(
    fitted: BetaGeoModel, t: float, expected: float
) -> None:
    assert fitted.expected_purchases_unconditional(t)[0] == pytest.approx(expected, abs=1e-3)


def test_holdout_forecast_matches_published_reproduction(
    fitted: BetaGeoModel, cdnow: Summary
) -> None:
    predicted = fitted.expected_purchases(39, cdnow.frequency, cdnow.recency, cdnow.T)
    assert predicted.sum() == pytest.approx(1653.9, abs=1.0)  # vs 1,882 actual
    zero = cdnow.frequency == 0
    assert predicted[zero].mean() == pytest.approx(0.225, abs=1e-3)
    assert cdnow.holdout[zero].mean() == pytest.approx(0.237, abs=1e-3)
    assert np.corrcoef(predicted, cdnow.holdout)[0, 1] == pytest.approx(0.626, abs=1e-3)
    # cumulative to week 78 the BG/NBD under-forecasts the 4,339 actual by about 4%
    cumulative = fitted.expected_purchases_unconditional(cdnow.T + 39).sum()
    assert cumulative / (cdnow.frequency.sum() + cdnow.holdout.sum()) - 1 == pytest.approx(
        -0.04, abs=0.005
    )


def test_totals_at_the_published_parameters(cdnow: Summary) -> None:
    model = BetaGeoModel()
    model.params_ = BetaGeoParams(**PUBLISHED)  # score with the paper's rounded estimates
    total = model.log_likelihood(cdnow.frequency, cdnow.recency, cdnow.T).sum()
    assert total == pytest.approx(-9582.43, abs=0.01)
    assert model.expected_purchases_unconditional(cdnow.T).sum() == pytest.approx(2497.6, abs=0.1)
    week_78 = model.expected_purchases_unconditional(cdnow.T + 39).sum()
    assert week_78 == pytest.approx(4166.4, abs=0.1)
    holdout = model.expected_purchases(39, cdnow.frequency, cdnow.recency, cdnow.T).sum()
    assert holdout == pytest.approx(1653.9, abs=0.1)


# --- recovery, gradient, compression ----------------------------------------------------------


@pytest.mark.parametrize(
    "truth",
    [BetaGeoParams(0.243, 4.414, 0.793, 2.426), BetaGeoParams(0.8, 40.0, 0.6, 3.0)],
    ids=["cdnow-like-weeks", "b2b-like-days"],
)
def test_recovers_parameters_from_simulated_data(truth: BetaGeoParams) -> None:
    rng = np.random.default_rng(20261124)
    n = 20_000
    horizon = 52.0 if truth.alpha < 10 else 730.0
    T = rng.uniform(0.5 * horizon, horizon, n)
    frequency, recency = simulate_purchases(truth, T, seed=rng)
    model = BetaGeoModel().fit(frequency, recency, T)
    assert model.params_ is not None
    got = model.params_
    assert got.r == pytest.approx(truth.r, rel=0.1)
    assert got.alpha == pytest.approx(truth.alpha, rel=0.1)
    # the dropout process is seen through few deaths: a and b are less precise
    assert got.a == pytest.approx(truth.a, rel=0.25)
    assert got.b == pytest.approx(truth.b, rel=0.25)
    # likelihood-ratio check: the truth lies inside the 99.9% confidence region
    at_truth = BetaGeoModel()
    at_truth.params_ = truth
    ll_truth = at_truth.log_likelihood(frequency, recency, T).sum()
    assert model.log_likelihood_ is not None
    assert 0.0 <= 2.0 * (model.log_likelihood_ - ll_truth) < 18.47  # chi2(4) 0.999 quantile


@pytest.mark.parametrize(
    "theta", [[0.243, 4.414, 0.793, 2.426], [1.5, 0.7, 3.0, 0.4], [0.05, 300.0, 0.2, 9.0]]
)
def test_gradient_matches_finite_differences(cdnow: Summary, theta: list[float]) -> None:
    likelihood = _Likelihood(cdnow.frequency, cdnow.recency, cdnow.T, np.ones(len(cdnow.frequency)))
    point = np.array(theta)
    analytic = likelihood.value_and_grad(point)[1]
    step = 1e-6 * point
    numeric = np.array(
        [
            (
                likelihood.value_and_grad(point + np.eye(4)[i] * step[i])[0]
                - likelihood.value_and_grad(point - np.eye(4)[i] * step[i])[0]
            )
            / (2 * step[i])
            for i in range(4)
        ]
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)
    # and in log-parameters, as the optimizer sees it
    log_point = np.log(point)
    _, log_grad = likelihood.objective(log_point)
    numeric_log = optimize.approx_fprime(log_point, lambda v: likelihood.objective(v)[0], 1e-7)
    np.testing.assert_allclose(log_grad, numeric_log, rtol=1e-4, atol=1e-6)


def test_compressed_likelihood_equals_sum_over_customers(
    fitted: BetaGeoModel, cdnow: Summary
) -> None:
    per_customer = fitted.log_likelihood(cdnow.frequency, cdnow.recency, cdnow.T)
    assert per_customer.sum() == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    assert fitted.n_rows_ < len(cdnow.frequency)  # duplicates were collapsed


def test_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    T = np.round(rng.uniform(20, 39, 3000) * 7) / 7  # whole days in weeks: many duplicates
    frequency, recency = simulate_purchases(BetaGeoParams(0.25, 4.4, 0.8, 2.4), T, seed=rng)
    recency = np.minimum(np.round(recency * 7) / 7, T)
    rows, counts = np.unique(np.stack([frequency, recency, T]), axis=1, return_counts=True)
    assert len(counts) < 3000
    weighted = BetaGeoModel().fit(rows[0], rows[1], rows[2], weights=counts)
    repeated = BetaGeoModel().fit(frequency, recency, T)
    assert weighted.params_ is not None and repeated.params_ is not None
    np.testing.assert_allclose(
        list(weighted.params_.as_dict().values()),
        list(repeated.params_.as_dict().values()),
        rtol=1e-6,
    )
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-10)


# --- predictions: sanity and numerical stability -----------------------------------------------


def test_probability_alive_increases_with_recency(fitted: BetaGeoModel) -> None:
    recency = np.linspace(0.5, 38.0, 50)
    for x in (1, 3, 10):
        alive = fitted.probability_alive(np.full(50, x), recency, np.full(50, 38.0))
        assert np.all(np.diff(alive) > 0)
        assert np.all((alive >= 0) & (alive <= 1))
    assert fitted.probability_alive([0], [0.0], [38.0])[0] == 1.0
    # bought right at the end: dead only if they dropped out right after that purchase
    p = fitted.params_
    assert p is not None
    at_end = fitted.probability_alive([5], [38.0], [38.0])[0]
    assert at_end == pytest.approx(1 / (1 + p.a / (p.b + 4)), rel=1e-12)


def test_expected_purchases_grow_with_horizon_and_activity(fitted: BetaGeoModel) -> None:
    horizons = np.array([0.0, 1.0, 13.0, 52.0, 520.0])
    per_horizon = [fitted.expected_purchases(t, [3], [35.0], [38.0])[0] for t in horizons]
    assert per_horizon[0] == 0.0
    assert np.all(np.diff(per_horizon) > 0)
    # the same horizon per customer or as one scalar
    many = fitted.expected_purchases([13.0, 13.0], [3, 3], [35.0, 10.0], [38.0, 38.0])
    assert many[0] > many[1]  # more recent buyer, more purchases


def test_unconditional_equals_conditional_for_a_new_customer(fitted: BetaGeoModel) -> None:
    t = np.array([1.0, 10.0, 100.0])
    np.testing.assert_allclose(
        fitted.expected_purchases_unconditional(t),
        fitted.expected_purchases(t, np.zeros(3), np.zeros(3), np.zeros(3)),
        rtol=1e-12,
    )


def _by_integration(p: BetaGeoParams, t: float, x: float, t_x: float, T: float) -> float:
    """E[Y(t) | x, t_x, T] as P(alive) * E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p].

    Given alive, the purchase rate is Gamma(r + x, alpha + T) and the dropout probability
    Beta(a, b + x); the integral over p uses quad's algebraic weight for the beta density.
    """
    log_odds = (
        np.log(p.a) - np.log(p.b + x - 1) + (p.r + x) * np.log((p.alpha + T) / (p.alpha + t_x))
        if x > 0
        else -np.inf
    )
    alive = special.expit(-log_odds)

    log_norm = special.betaln(p.a, p.b + x)

    def integrand(q: float) -> float:
        # (1 - E[exp(-lambda q t)]) / q times the beta density without its q^(a-1) factor
        density = np.exp((p.b + x - 1.0) * np.log1p(-q) - log_norm)
        if q == 0.0:  # the limit as q -> 0
            return float((p.r + x) * t / (p.alpha + T) * density)
        return float(-np.expm1(-(p.r + x) * np.log1p(q * t / (p.alpha + T))) / q * density)

    # the beta(a, b + x) mass sits below ~50 / (b + x): integrate there with quad's algebraic
    # weight for the q^(a-1) singularity, and the (negligible) rest plainly
    split = min(0.5, 50.0 / (p.b + x))
    head, _ = integrate.quad(
        integrand, 0.0, split, weight="alg", wvar=(p.a - 1.0, 0.0), epsabs=0, epsrel=1e-11
    )
    tail, _ = integrate.quad(
        lambda q: q ** (p.a - 1.0) * integrand(q), split, 1.0, epsabs=1e-14, limit=200
    )
    return float(alive * (head + tail))


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [
        (500, 995.0, 1000.0, 365.0),  # a weekly+ wholesaler buyer, daily units
        (500, 990.0, 1000.0, 3650.0),  # ten-year horizon
        (480, 400.0, 1000.0, 90.0),  # frequent buyer, silent for 600 days
        (2000, 1999.0, 2000.0, 10_000.0),  # far beyond any real data
        (2, 30.43, 38.86, 39.0),  # Hardie's customer, weekly
        (0, 0.0, 1000.0, 365.0),
    ],
)
def test_expected_purchases_stable_for_large_histories(
    x: float, t_x: float, T: float, t: float
) -> None:
    p = BetaGeoParams(r=0.8, alpha=40.0, a=0.6, b=3.0)
    model = BetaGeoModel()
    model.params_ = p  # score with known parameters
    got = model.expected_purchases(t, [x], [t_x], [T])[0]
    assert np.isfinite(got) and got >= 0
    assert got == pytest.approx(_by_integration(p, t, x, t_x, T), rel=1e-7)
    alive = model.probability_alive([x], [t_x], [T])[0]
    assert 0.0 <= alive <= 1.0


def test_naive_hypergeometric_would_overflow_where_ours_does_not() -> None:
    # the textbook form needs 2F1(r+x, b+x; a+b+x-1; z) with z near 1 for long horizons
    r, alpha, a, b, x, T, t = 0.8, 40.0, 0.6, 3.0, 2000.0, 2000.0, 100_000.0
    z = t / (alpha + T + t)
    naive = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    assert not np.isfinite(naive) or naive > 1e300
    model = BetaGeoModel()
    model.params_ = BetaGeoParams(r, alpha, a, b)
    assert np.isfinite(model.expected_purchases(t, [x], [T], [T])[0])


def test_a_equal_to_one_is_continuous() -> None:
    at, near = BetaGeoModel(), BetaGeoModel()
    at.params_ = BetaGeoParams(0.5, 10.0, 1.0, 2.0)
    near.params_ = BetaGeoParams(0.5, 10.0, 1.0 + 1e-4, 2.0)
    got = at.expected_purchases(52.0, [3], [20.0], [40.0])[0]
    assert np.isfinite(got)
    assert got == pytest.approx(near.expected_purchases(52.0, [3], [20.0], [40.0])[0], rel=1e-3)


# --- API --------------------------------------------------------------------------------------


def test_unfitted_model_raises_a_clear_error() -> None:
    model = BetaGeoModel()
    with pytest.raises(NotFittedError, match=r"not fitted yet; call BetaGeoModel\.fit"):
        model.probability_alive([1], [2.0], [3.0])
    with pytest.raises(NotFittedError):
        model.expected_purchases_unconditional(10)
    assert issubclass(NotFittedError, SalesradarError)
    assert issubclass(NotFittedError, AttributeError)
    assert repr(model) == "BetaGeoModel()"


def test_constructor_stores_no_learned_state_and_fit_returns_self(cdnow: Summary) -> None:
    model = BetaGeoModel()
    assert model.params_ is None and model.log_likelihood_ is None
    fitted = model.fit(cdnow.frequency, cdnow.recency, cdnow.T)
    assert fitted is model
    assert repr(fitted).startswith("BetaGeoModel(r=0.2426")
    params = fitted.params_
    assert params is not None
    with pytest.raises(AttributeError):
        params.r = 1.0  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [1.0], [2.0, 3.0], "same length"),
        ([-1], [0.0], [2.0], "whole numbers"),
        ([1.5], [1.0], [2.0], "whole numbers"),
        ([1], [3.0], [2.0], "cannot exceed T"),
        ([0], [1.0], [2.0], "recency must be 0"),
        ([1], [float("nan")], [2.0], "missing or infinite"),
        ([], [], [], "empty"),
    ],
)
def test_rejects_bad_input(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(UserInputError, match=message):
        BetaGeoModel().fit(frequency, recency, T)


def test_tiny_data_warns_that_the_fit_did_not_converge() -> None:
    with pytest.warns(ConvergenceWarning, match="fit on more customers"), \
            pytest.warns(NoDropoutWarning, match="do not show customers dropping out"):
        BetaGeoModel().fit([2, 1, 0, 0, 5, 3], [30.4, 1.7, 0, 0, 35.0, 12.0], [39] * 4 + [38, 30])


def test_cdnow_shows_dropout_against_the_nbd(cdnow: Summary) -> None:
    """CDNOW: the NBD without dropout has LL -9763.7 (r = 0.385, alpha = 12.072 in Fader &
    Hardie's NBD fit of the same 39 weeks), the BG/NBD -9582.4: 2 x 181.2 = 362.5 >> 2.71."""
    model = BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    assert model.dropout_evidence_ == pytest.approx(2 * (9763.66 - 9582.43), abs=0.1)
    assert model.dropout_identified_


def test_no_dropout_in_the_data_is_flagged() -> None:
    """Simulated buyers who practically never drop out (mean dropout 1e-6 per purchase): the
    fit sends a to 0, P(alive) is ~1 for everyone, and the model says so instead of showing
    99% alive as if it were information."""
    T = np.linspace(20.0, 52.0, 4000)
    frequency, recency = simulate_purchases(BetaGeoParams(0.7, 9.0, 1.0, 1e6), T, seed=4)
    with pytest.warns(NoDropoutWarning):
        model = BetaGeoModel().fit(frequency, recency, T)
    assert not model.dropout_identified_ and model.dropout_evidence_ < 2.71
    assert model.probability_alive(frequency, recency, T).min() > 0.95
    # quiet: the same fit, no warning (the test's filters turn any warning into an error)
    quiet = BetaGeoModel().fit(frequency, recency, T, quiet=True)
    assert quiet.params_ == model.params_ and not quiet.dropout_identified_


@pytest.mark.parametrize("module", [rhythm, spend], ids=["rhythm", "spend"])
def test_docstring_examples_run(module: ModuleType) -> None:
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failed == 0


def test_expected_purchases_with_very_large_a_and_b_stay_finite() -> None:
    """A fit on a small simulated book ended at a = 3.2e5, b = 9.2e6 (every customer drops out
    with p = 3.3%): 2F1 overflows there. The fixed-p limit takes over and agrees with the
    exact value at a hundred times smaller a and b (same p) to 1e-5."""
    x, T, t = np.array([0.0, 1.0, 7.0]), np.array([100.0, 200.0, 300.0]), np.full(3, 90.0)
    huge = _purchases_if_alive(BetaGeoParams(1.92, 37.46, 3e5, 9.2e6), t, x, T)
    large = _purchases_if_alive(BetaGeoParams(1.92, 37.46, 3e3, 9.2e4), t, x, T)
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, large, rtol=1e-5)
