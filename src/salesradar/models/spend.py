"""Spend per purchase: the Gamma-Gamma model of average order value.

See :class:`GammaGammaModel` for the user manual.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln  # type: ignore[import-untyped, unused-ignore]

from salesradar.errors import UserInputError
from salesradar.models.base import (
    ConvergenceWarning,
    FloatArray,
    as_float_array,
    as_weights,
    check_is_fitted,
    check_same_length,
    dot,
)

__all__ = ["GammaGammaModel", "GammaGammaParams"]

_LOG_BOUND = 30.0


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters.

    Attributes
    ----------
    p
        Shape of the gamma distribution of one purchase's value around the customer's mean.
    q, gamma
        Shape and rate of the gamma distribution of the per-customer scale across customers;
        the population mean spend per purchase is ``p * gamma / (q - 1)`` (for ``q > 1``).
    """

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        """The parameters as a plain dict."""
        return asdict(self)


def _check_spend(frequency: Any, monetary: Any) -> tuple[FloatArray, FloatArray]:
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary, "monetary")
    check_same_length(frequency=x, monetary=m)
    if (x < 0).any() or (x != np.round(x)).any():
        raise UserInputError("frequency must be whole numbers >= 0 (repeat purchases)")
    if ((x > 0) & (m <= 0)).any():
        raise UserInputError(
            "monetary must be > 0 for customers with repeat purchases; the Gamma-Gamma model "
            "describes positive order values (drop or net out credit notes first)"
        )
    return x, m


class _Likelihood:
    """Gamma-Gamma log-likelihood and gradient for repeaters, weighted."""

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray) -> None:
        self.x, self.m, self.w = x, m, w
        self.total_weight = float(w.sum())
        self.log_m = np.log(m)
        self.log_x = np.log(x)
        self.xm = x * m

    def value_and_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Log-likelihood and gradient with respect to (p, q, gamma)."""
        p, q, g = (float(v) for v in theta)
        x, w = self.x, self.w
        px = p * x
        log_gxm = np.log(g + self.xm)
        terms = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1.0) * self.log_m
            + px * self.log_x
            - (px + q) * log_gxm
        )
        dig = digamma(px + q)
        g_p = dot(w, x * (dig - digamma(px) + self.log_m + self.log_x - log_gxm))
        g_q = dot(w, dig - digamma(q) + np.log(g) - log_gxm)
        g_g = dot(w, q / g - (px + q) / (g + self.xm))
        return dot(w, terms), np.array([g_p, g_q, g_g], dtype=np.float64)

    def objective(self, log_theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(log_theta)
        ll, grad = self.value_and_grad(theta)
        scale = -1.0 / self.total_weight
        return ll * scale, grad * theta * scale


class GammaGammaModel:
    """Gamma-Gamma model of spend per purchase, for customer lifetime value.

    Each customer has their own mean order value; a customer with few purchases is pulled
    towards the population mean, one with many purchases keeps close to their own average.
    ``expected_spend`` is that shrunk estimate, the value to multiply expected purchases by.

    **Assumptions.** One purchase's value is Gamma(p, ν) distributed, so the customer's mean
    value is p/ν; ν varies across customers as Gamma(q, γ). Spend is independent of purchase
    frequency (check it: the correlation of ``frequency`` and ``monetary`` over repeaters should
    be near 0). Values must be positive.

    **Inputs** (one value per customer, see :func:`~salesradar.models.summary.purchase_summary`):

    ``frequency``
        Number of repeat purchases (customer-days after the first), as for
        :class:`~salesradar.models.rhythm.BetaGeoModel`.
    ``monetary``
        Mean value of those repeat purchases (the first purchase is excluded, as in the
        paper), in any currency; ignored when ``frequency`` is 0.

    Only customers with ``frequency > 0`` inform the fit. No settings.

    Attributes
    ----------
    params_ : GammaGammaParams
        Fitted p, q, gamma.
    log_likelihood_ : float
        Maximized log-likelihood.
    n_customers_ : float
        Number (total weight) of repeaters fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from salesradar.models import GammaGammaModel
    >>> rng = np.random.default_rng(0)
    >>> frequency = rng.integers(1, 10, 500)
    >>> monetary = rng.gamma(6.0 * frequency, 1.0 / (rng.gamma(4.0, 1 / 15.0, 500) * frequency))
    >>> spend = GammaGammaModel().fit(frequency, monetary)
    >>> spend
    GammaGammaModel(p=5.528, q=4.843, gamma=20.66)
    >>> # one purchase of 100, eight averaging 100, none: shrunk towards the mean of 29.7
    >>> spend.expected_spend([1, 8, 0], [100.0, 100.0, 0.0]).round(1)
    array([71.2, 94.4, 29.7])

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using iso-value curves for
    customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/
    Colombo, R. & Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive Marketing*
    13(3), 2-12.
    """

    params_: GammaGammaParams | None
    log_likelihood_: float | None

    def __init__(self) -> None:
        self.params_ = None
        self.log_likelihood_ = None

    def __repr__(self) -> str:
        if self.params_ is None:
            return "GammaGammaModel()"
        p = self.params_
        return f"GammaGammaModel(p={p.p:.4g}, q={p.q:.4g}, gamma={p.gamma:.4g})"

    def fit(self, frequency: Any, monetary: Any, weights: Any = None) -> GammaGammaModel:
        """Estimate p, q, gamma by maximum likelihood on customers with repeat purchases.

        Parameters
        ----------
        frequency, monetary
            Per-customer repeat purchases and their mean value.
        weights
            Optional non-negative count per row.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.
        """
        x, m = _check_spend(frequency, monetary)
        w = as_weights(weights, len(x)) if weights is not None else np.ones(len(x))
        repeat = (x > 0) & (w > 0)
        if not repeat.any():
            raise UserInputError("no customer with repeat purchases: nothing to fit spend on")
        likelihood = _Likelihood(x[repeat], m[repeat], w[repeat])
        mean_m = dot(likelihood.w, likelihood.m) / likelihood.total_weight
        # start at p = 1, q = 2, so that the population mean p * gamma / (q - 1) is the data mean
        start = np.log(np.array([1.0, 2.0, mean_m]))
        from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]

        result = minimize(
            likelihood.objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
        gradient_norm = float(np.abs(result.jac).max())
        if not result.success and gradient_norm > 1e-5:
            warnings.warn(
                f"Gamma-Gamma fit did not converge ({result.message}); max gradient "
                f"{gradient_norm:.2g}. With few repeat customers the data may not identify "
                "the parameters; fit on more customers.",
                ConvergenceWarning,
                stacklevel=2,
            )
        theta = np.exp(result.x)
        self.params_ = GammaGammaParams(*(float(v) for v in theta))
        self.log_likelihood_ = likelihood.value_and_grad(theta)[0]
        self.n_customers_ = likelihood.total_weight
        self.n_iter_ = int(result.nit)
        return self

    def _fitted_params(self) -> GammaGammaParams:
        check_is_fitted(self, "params_")
        assert self.params_ is not None
        return self.params_

    def population_mean_spend(self) -> float:
        """Mean value per purchase across customers, ``p * gamma / (q - 1)``; inf if q <= 1."""
        p = self._fitted_params()
        return p.p * p.gamma / (p.q - 1.0) if p.q > 1.0 else float("inf")

    def expected_spend(self, frequency: Any, monetary: Any) -> FloatArray:
        """Expected value of each customer's future purchases, E[M | frequency, monetary].

        Parameters
        ----------
        frequency, monetary
            Per-customer repeat purchases and their mean value.

        Returns
        -------
        numpy.ndarray
            ``(gamma + frequency * monetary) * p / (p * frequency + q - 1)``: a weighted average
            of the population mean and the customer's own mean; the population mean for
            customers without repeat purchases.
        """
        par = self._fitted_params()
        x, m = _check_spend(frequency, monetary)
        m = np.where(x > 0, m, 0.0)
        denominator = par.p * x + par.q - 1.0
        with np.errstate(divide="ignore"):
            spend = (par.gamma + x * m) * par.p / denominator
        return np.asarray(np.where(denominator > 0, spend, np.inf), dtype=np.float64)
