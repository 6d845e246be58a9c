"""Purchase rhythm: the BG/NBD "buy till you die" model of repeat purchasing.

See :class:`BetaGeoModel` for the user manual.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import (  # type: ignore[import-untyped, unused-ignore]
    betaln,
    digamma,
    expit,
    gammaln,
    hyp2f1,
)

from salesradar.errors import UserInputError
from salesradar.models._compress import compress_rows
from salesradar.models.base import (
    ConvergenceWarning,
    FloatArray,
    NoDropoutWarning,
    as_float_array,
    as_weights,
    check_is_fitted,
    check_same_length,
    dot,
)

__all__ = ["BetaGeoModel", "BetaGeoParams", "simulate_purchases"]

# log-parameter box for the optimizer: e^-30 .. e^30 covers any sensible unit of time
_LOG_BOUND = 30.0
# likelihood-ratio threshold for "the data show dropout": the no-dropout NBD is the BG/NBD at
# the boundary a -> 0, so 2 x the log-likelihood gain is a 50:50 mixture of chi2(0) and chi2(1)
# under no dropout; 2.71 is its 95% point
_DROPOUT_LR = 2.71
# below this distance from a = 1 the closed form is 0/0; evaluate on both sides and average
_A_NEAR_ONE = 1e-7


@dataclass(frozen=True, slots=True)
class BetaGeoParams:
    """Fitted BG/NBD parameters.

    Attributes
    ----------
    r, alpha
        Shape and rate of the gamma distribution of purchase rates across customers; the mean
        rate while alive is ``r / alpha`` purchases per time unit. ``alpha`` is in time units.
    a, b
        Shapes of the beta distribution of the dropout probability after each repeat
        purchase; its mean is ``a / (a + b)``.
    """

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        """The parameters as a plain dict."""
        return asdict(self)


def _check_summary(
    frequency: Any, recency: Any, T: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate a (frequency, recency, T) summary and return float arrays."""
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    big_t = as_float_array(T, "T")
    check_same_length(frequency=x, recency=t_x, T=big_t)
    if (x < 0).any() or (x != np.round(x)).any():
        raise UserInputError("frequency must be whole numbers >= 0 (repeat purchases)")
    if (t_x < 0).any():
        raise UserInputError("recency must be >= 0")
    tolerance = 1e-9 * np.maximum(1.0, big_t)
    if (t_x > big_t + tolerance).any():
        raise UserInputError(
            "recency cannot exceed T: the last purchase must lie between the first purchase "
            "and the end of the observation period"
        )
    if ((x == 0) & (t_x > 0)).any():
        raise UserInputError("recency must be 0 for customers with frequency 0")
    return x, t_x, big_t


class _Likelihood:
    """BG/NBD log-likelihood and gradient over compressed, weighted summary rows."""

    def __init__(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> None:
        (x, t_x, big_t), w = compress_rows((x, t_x, big_t), w)
        self.total_weight = float(w.sum())
        # terms depending on x only: one evaluation per distinct x
        counts = np.bincount(x.astype(np.int64), weights=w)
        self.ux = np.flatnonzero(counts).astype(np.float64)
        self.wx = counts[counts != 0]
        zero = x == 0
        self.t0 = big_t[zero]
        self.w0 = w[zero]
        repeat = ~zero
        self.x = x[repeat]
        self.t_x = t_x[repeat]
        self.big_t = big_t[repeat]
        self.w = w[repeat]
        self.wx_rows = self.w * self.x
        self.buffers = [np.empty(len(self.x)) for _ in range(9)]
        self.n_rows = len(w)

    def value_and_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Log-likelihood and its gradient with respect to (r, alpha, a, b)."""
        r, alpha, a, b = (float(v) for v in theta)
        ux, wx = self.ux, self.wx
        ab = a + b
        ll = dot(
            wx,
            gammaln(r + ux)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(ab)
            + gammaln(b + ux)
            - gammaln(b)
            - gammaln(ab + ux),
        )
        g_r = dot(wx, digamma(r + ux) - digamma(r) + np.log(alpha))
        g_alpha = self.total_weight * r / alpha
        g_a = dot(wx, digamma(ab) - digamma(ab + ux))
        g_b = dot(wx, digamma(ab) + digamma(b + ux) - digamma(b) - digamma(ab + ux))

        # customers without repeat purchases: only the "still alive at T" term
        log_t0 = np.log(alpha + self.t0)
        ll -= r * dot(self.w0, log_t0)
        g_r -= dot(self.w0, log_t0)
        g_alpha -= r * dot(self.w0, 1.0 / (alpha + self.t0))

        # repeaters: log-sum-exp of "alive at T" (a3) and "dropped out right after t_x" (a4),
        # a3 = -(r+x) log(alpha+T), a4 = log a - log(b+x-1) - (r+x) log(alpha+t_x), computed in
        # preallocated buffers (this loop dominates the fit time on large inputs)
        x, w, wx = self.x, self.w, self.wx_rows
        log_t, inv_t, log_tx, inv_tx, diff, d, e, tmp, inv_bx = self.buffers
        np.add(self.big_t, alpha, out=log_t)
        np.divide(1.0, log_t, out=inv_t)
        np.log(log_t, out=log_t)
        np.add(self.t_x, alpha, out=log_tx)
        np.divide(1.0, log_tx, out=inv_tx)
        np.log(log_tx, out=log_tx)
        np.subtract(log_t, log_tx, out=diff)  # log((alpha+T)/(alpha+t_x)) >= 0
        np.add(x, b - 1.0, out=inv_bx)  # b + x - 1
        np.log(inv_bx, out=d)
        np.divide(1.0, inv_bx, out=inv_bx)
        # d = a4 - a3 = log a - log(b+x-1) + (r+x) * diff
        np.subtract(np.log(a), d, out=d)
        np.add(x, r, out=e)
        np.multiply(e, diff, out=e)
        np.add(d, e, out=d)
        sum_w_log_t = dot(w, log_t)
        ll += -r * sum_w_log_t - dot(wx, log_t)
        # softplus(d) = max(d, 0) + log1p(exp(-|d|)); expit(d) from the same exp(-|d|)
        np.abs(d, out=e)
        # clip so that exp(-|d|) stays a normal float: subnormals make every later op ~50x slower
        np.negative(e, out=e)
        np.maximum(e, -600.0, out=e)
        np.exp(e, out=e)
        np.maximum(d, 0.0, out=tmp)
        ll += dot(w, tmp)
        np.log1p(e, out=tmp)
        ll += dot(w, tmp)
        positive = d >= 0
        np.add(e, 1.0, out=tmp)
        np.divide(1.0, tmp, out=tmp)  # 1 / (1 + exp(-|d|))
        np.multiply(e, tmp, out=e)  # exp(-|d|) / (1 + exp(-|d|))
        np.copyto(e, tmp, where=positive)  # e = expit(d) = P(dropped out after t_x)
        np.multiply(e, w, out=e)  # weighted
        wp4 = e
        g_a += float(wp4.sum()) / a
        g_b -= dot(wp4, inv_bx)
        g_r += -sum_w_log_t + dot(wp4, diff)
        np.subtract(inv_t, inv_tx, out=inv_tx)  # 1/(alpha+T) - 1/(alpha+t_x) <= 0
        np.multiply(wp4, x, out=tmp)
        g_alpha += -r * dot(w, inv_t) - dot(wx, inv_t) + r * dot(wp4, inv_tx) + dot(tmp, inv_tx)
        return ll, np.array([g_r, g_alpha, g_a, g_b])

    def objective(self, log_theta: FloatArray) -> tuple[float, FloatArray]:
        """Negative mean log-likelihood and its gradient in log-parameters."""
        theta = np.exp(log_theta)
        ll, grad = self.value_and_grad(theta)
        scale = -1.0 / self.total_weight
        return ll * scale, grad * theta * scale


def _log_alive_odds(
    p: BetaGeoParams, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """log of P(dropped out) / P(alive); -inf for customers without repeat purchases."""
    with np.errstate(divide="ignore"):
        out = (
            np.log(p.a)
            - np.log(np.maximum(p.b + x - 1.0, 1e-300))
            + (p.r + x) * (np.log(p.alpha + big_t) - np.log(p.alpha + t_x))
        )
    return np.asarray(np.where(x > 0, out, -np.inf), dtype=np.float64)


def _purchases_if_alive(
    p: BetaGeoParams, t: FloatArray, x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """E[purchases in (T, T + t] | alive at T, x, T].

    Uses the Euler transform of the Gauss hypergeometric function,
    ``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``,
    whose parameters stay small for large ``x`` so that nothing overflows.
    """
    if abs(p.a - 1.0) < _A_NEAR_ONE:
        lower = BetaGeoParams(p.r, p.alpha, 1.0 - 2 * _A_NEAR_ONE, p.b)
        upper = BetaGeoParams(p.r, p.alpha, 1.0 + 2 * _A_NEAR_ONE, p.b)
        return 0.5 * (
            _purchases_if_alive(lower, t, x, big_t) + _purchases_if_alive(upper, t, x, big_t)
        )
    z = t / (p.alpha + big_t + t)
    scale = (p.a + p.b + x - 1.0) / (p.a - 1.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        hyper = hyp2f1(p.a + p.b - 1.0 - p.r, p.a - 1.0, p.a + p.b + x - 1.0, z)
        # with a + b < 1 the third parameter is negative for x = 0 and 2F1 can be negative:
        # no log there
        positive = (hyper > 0) & np.isfinite(hyper)
        log_hyper = np.log(np.where(positive, hyper, 1.0))
        bracket = np.where(
            positive,
            -np.expm1((p.a - 1.0) * np.log1p(-z) + log_hyper),
            1.0 - np.exp((p.a - 1.0) * np.log1p(-z)) * hyper,
        )
        result = scale * bracket
        # very large a and b (a fit where every customer drops out with the same probability
        # p): 2F1 overflows; the limit is the fixed-p process, (1/p)(1 - ((alpha+T) /
        # (alpha+T+p t))^(r+x)) with p = (a-1)/(a+b+x-1), the posterior mean in that limit
        limit = -scale * np.expm1(
            (p.r + x) * (np.log(p.alpha + big_t) - np.log(p.alpha + big_t + t / scale))
        )
    return np.asarray(np.where(np.isfinite(result), result, limit), dtype=np.float64)


def _nbd_log_likelihood(likelihood: _Likelihood) -> float:
    """Maximized log-likelihood of the NBD without dropout (the BG/NBD at a -> 0).

    Per customer ``log G(r+x) - log G(r) + r log alpha - (r+x) log(alpha+T)``: every customer
    is alive at T, and gamma-distributed rates explain the silences. Fitted with L-BFGS-B and
    the analytic gradient, on the rows the BG/NBD likelihood already compressed.
    """
    ux, wx, total = likelihood.ux, likelihood.wx, likelihood.total_weight
    big_t = np.concatenate([likelihood.t0, likelihood.big_t])
    x = np.concatenate([np.zeros(len(likelihood.t0)), likelihood.x])
    w = np.concatenate([likelihood.w0, likelihood.w])

    def objective(log_theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha = np.exp(log_theta)
        log_t = np.log(alpha + big_t)
        ll = dot(wx, gammaln(r + ux) - gammaln(r)) + total * r * np.log(alpha) \
            - dot(w * (r + x), log_t)
        g_r = dot(wx, digamma(r + ux) - digamma(r)) + total * np.log(alpha) - dot(w, log_t)
        g_alpha = total * r / alpha - dot(w * (r + x), 1.0 / (alpha + big_t))
        return -ll / total, -np.array([g_r * r, g_alpha * alpha]) / total

    alpha0 = dot(w, big_t) / max(dot(wx, ux), 1e-9)
    from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]

    result = minimize(objective, np.log([1.0, max(alpha0, 1e-9)]), jac=True,
                      method="L-BFGS-B", bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 2,
                      options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    return -float(result.fun) * total


def _starting_point(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> FloatArray:
    """log(r, alpha, a, b) at r = a = b = 1 and the observed mean purchase rate r / alpha."""
    total_x, total_t = dot(w, x), dot(w, big_t)
    alpha0 = total_t / total_x if total_x > 0 and total_t > 0 else 1.0
    return np.log(np.array([1.0, alpha0, 1.0, 1.0], dtype=np.float64)).astype(np.float64)


def _maximize(likelihood: _Likelihood, start: FloatArray, tolerance: float) -> Any:
    """L-BFGS-B on the mean negative log-likelihood over log-parameters."""
    # imported here: scipy.optimize takes 0.4 s to import, which every CLI command would pay
    from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]

    return minimize(
        likelihood.objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
        options={"ftol": tolerance, "gtol": tolerance * 100, "maxiter": 2000},
    )


class BetaGeoModel:
    """BG/NBD model of repeat purchasing: who is still a customer, and how much will they buy.

    The beta-geometric / negative binomial distribution model (Fader, Hardie & Lee 2005) is a
    "buy till you die" model for *non-contractual* relationships, where a customer never
    announces that they left: they just stop ordering. From each customer's purchase history it
    estimates the probability that they are still active (``probability_alive``) and how many
    purchases they will make over a coming period (``expected_purchases``). Combined with
    :class:`~salesradar.models.spend.GammaGammaModel` it gives customer lifetime value
    (:func:`~salesradar.models.clv.customer_lifetime_value`).

    **Assumptions.** While active, a customer buys at a steady random (Poisson) rate λ, so gaps
    between purchases are exponential. Right after each *repeat* purchase they drop out for good
    with probability ``p``. Across customers λ ~ Gamma(r, α) and p ~ Beta(a, b), independent.
    A customer with no repeat purchase is therefore certainly still active. The model has no
    seasonality, no trend and no covariates; fit it per homogeneous segment when that matters.

    **Inputs** (one value per customer, see :func:`~salesradar.models.summary.purchase_summary`):

    ``frequency`` (x)
        Number of *repeat* purchases in the observation period: purchase occasions minus one.
        A purchase occasion is a customer-day (all invoices of one customer on one date count
        once), as in the paper.
    ``recency`` (t_x)
        Time from the first purchase to the last purchase; 0 when ``frequency`` is 0.
    ``T``
        Time from the first purchase to the end of the observation period (the cutoff).

    **Units.** Any time unit (days, weeks) as long as it is the same for ``recency``, ``T``
    and the horizon ``t`` of the predictions. ``alpha`` is expressed in that unit; ``r``,
    ``a`` and ``b`` do not depend on it. Weeks reproduce the paper; days suit B2B ordering.

    **Fitting.** Maximum likelihood: the log-likelihood is vectorized, evaluated once per
    distinct (frequency, recency, T) row weighted by its count, with an analytic gradient,
    and maximized with L-BFGS-B over log-parameters. A million customers fit in well under a
    second. There are no settings; the constructor takes none.

    **Numerics.** ``expected_purchases`` needs the Gauss hypergeometric function
    2F1(r+x, b+x; a+b+x-1; z), which overflows for long histories (x in the hundreds, T in
    days). It is evaluated through its Euler transform, whose parameters stay small, so a
    wholesaler's customer with x = 500 repeat orders over 1,000 days and a ten-year horizon is
    scored to ~1e-9 relative accuracy. P(alive) is a logistic of a log-odds, which cannot
    overflow.

    Attributes
    ----------
    params_ : BetaGeoParams
        Fitted r, alpha, a, b.
    log_likelihood_ : float
        Maximized log-likelihood (sum over customers, weighted).
    n_customers_ : float
        Number (total weight) of customers fitted.
    n_rows_ : int
        Distinct (frequency, recency, T) rows the likelihood was evaluated on.
    n_iter_ : int
        Optimizer iterations.
    dropout_evidence_ : float
        Likelihood-ratio statistic of the BG/NBD against the same model without dropout
        (2 x the log-likelihood gain; 0 when dropout adds nothing).
    dropout_identified_ : bool
        Whether that statistic exceeds 2.71 (5% test). When it does not, the fit explains
        every silence by a slow purchase rate: ``a`` runs to 0, P(alive) is ~1 for everyone,
        and :class:`~salesradar.models.base.NoDropoutWarning` is raised.

    Examples
    --------
    >>> import numpy as np
    >>> from salesradar.models import BetaGeoModel, BetaGeoParams, simulate_purchases
    >>> T = np.full(2000, 39.0)  # weeks since each customer's first purchase
    >>> frequency, recency = simulate_purchases(BetaGeoParams(0.25, 4.0, 0.8, 2.5), T, seed=1)
    >>> model = BetaGeoModel().fit(frequency, recency, T)
    >>> model
    BetaGeoModel(r=0.1975, alpha=2.952, a=0.8194, b=2.135)
    >>> # two customers with 2 repeat purchases, the last one 9 and 34 weeks ago
    >>> model.probability_alive([2, 2], [30.0, 5.0], [39.0, 39.0]).round(2)
    array([0.69, 0.09])
    >>> model.expected_purchases(13, [2, 2], [30.0, 5.0], [39.0, 39.0]).round(2)  # next quarter
    array([0.44, 0.06])

    With few customers or few repeat purchases the likelihood is flat and the estimates can run
    off (a and b very large means "no dropout seen"); the fit then warns with
    :class:`~salesradar.models.base.ConvergenceWarning`.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way:
    An Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). Computing P(alive) using the BG/NBD
    model. http://brucehardie.com/notes/021/
    Fader, P. S. & Hardie, B. G. S. (2013). Overcoming the BG/NBD model's #NUM! error problem.
    http://brucehardie.com/notes/027/
    """

    params_: BetaGeoParams | None
    log_likelihood_: float | None

    def __init__(self) -> None:
        self.params_ = None
        self.log_likelihood_ = None

    def __repr__(self) -> str:
        if self.params_ is None:
            return "BetaGeoModel()"
        p = self.params_
        return f"BetaGeoModel(r={p.r:.4g}, alpha={p.alpha:.4g}, a={p.a:.4g}, b={p.b:.4g})"

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None, *,
            quiet: bool = False) -> BetaGeoModel:
        """Estimate r, alpha, a, b by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T
            Per-customer summary (see the class docstring for definitions and units).
        weights
            Optional non-negative count per row, e.g. when rows are already aggregated.
        quiet
            Do not warn of a fit that did not converge or shows no dropout (the caller reads
            ``dropout_identified_`` itself). Unlike filtering the warnings, this is safe while
            other threads run: :func:`warnings.catch_warnings` changes the whole process's
            filters.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.
        """
        x, t_x, big_t = _check_summary(frequency, recency, T)
        if len(x) == 0:
            raise UserInputError("cannot fit on an empty summary (no customers)")
        w = None if weights is None else as_weights(weights, len(x))
        w_all = w if w is not None else np.ones(len(x))
        start = _starting_point(x, t_x, big_t, w_all)
        likelihood = _Likelihood(x, t_x, big_t, w_all)
        result = _maximize(likelihood, start, tolerance=1e-15)
        theta = np.exp(result.x)
        gradient_norm = float(np.abs(result.jac).max())
        if not result.success and gradient_norm > 1e-5 and not quiet:
            warnings.warn(
                f"BG/NBD fit did not converge ({result.message}); max gradient "
                f"{gradient_norm:.2g}. With few customers or repeat purchases the data may not "
                "identify the parameters; fit on more customers.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.params_ = BetaGeoParams(*(float(v) for v in theta))
        self.log_likelihood_ = -float(result.fun) * likelihood.total_weight
        gain = self.log_likelihood_ - _nbd_log_likelihood(likelihood)
        self.dropout_evidence_ = max(2.0 * gain, 0.0)
        self.dropout_identified_ = self.dropout_evidence_ > _DROPOUT_LR
        if not self.dropout_identified_ and not quiet:
            warnings.warn(
                "BG/NBD: the data do not show customers dropping out (a model without dropout "
                f"fits as well: 2 x log-likelihood gain {self.dropout_evidence_:.2g} <= "
                f"{_DROPOUT_LR}); P(alive) is then ~1 for everyone and should not be shown. "
                "Expected purchases remain usable.",
                NoDropoutWarning,
                stacklevel=2,
            )
        self.n_customers_ = likelihood.total_weight
        self.n_rows_ = likelihood.n_rows
        self.n_iter_ = int(result.nit)
        return self

    def _fitted_params(self) -> BetaGeoParams:
        check_is_fitted(self, "params_")
        assert self.params_ is not None
        return self.params_

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters.

        Parameters
        ----------
        frequency, recency, T
            Per-customer summary.

        Returns
        -------
        numpy.ndarray
            log L(r, alpha, a, b | x, t_x, T) for each customer.
        """
        p = self._fitted_params()
        x, t_x, big_t = _check_summary(frequency, recency, T)
        base = (
            gammaln(p.r + x)
            - gammaln(p.r)
            + p.r * np.log(p.alpha)
            + betaln(p.a, p.b + x)
            - betaln(p.a, p.b)
            - (p.r + x) * np.log(p.alpha + big_t)
        )
        # log(1 + odds of the dropout term): log1p(exp(.)) via logaddexp
        return np.asarray(
            base + np.logaddexp(0.0, _log_alive_odds(p, x, t_x, big_t)), dtype=np.float64
        )

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Probability that each customer is still active at the end of the period.

        Parameters
        ----------
        frequency, recency, T
            Per-customer summary.

        Returns
        -------
        numpy.ndarray
            P(alive | x, t_x, T) in [0, 1]; exactly 1 for customers without repeat purchases.
        """
        p = self._fitted_params()
        x, t_x, big_t = _check_summary(frequency, recency, T)
        return np.asarray(expit(-_log_alive_odds(p, x, t_x, big_t)), dtype=np.float64)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units, given each history.

        Parameters
        ----------
        t
            Horizon after the end of the observation period, in the model's time unit;
            a scalar or one value per customer.
        frequency, recency, T
            Per-customer summary.

        Returns
        -------
        numpy.ndarray
            E[Y(t) | x, t_x, T] per customer (conditional expectation, eq. 10 of the paper).
        """
        p = self._fitted_params()
        x, t_x, big_t = _check_summary(frequency, recency, T)
        horizon = _check_horizon(t, len(x))
        alive = expit(-_log_alive_odds(p, x, t_x, big_t))
        return np.asarray(alive * _purchases_if_alive(p, horizon, x, big_t), dtype=np.float64)

    def expected_purchases_unconditional(self, t: Any) -> FloatArray:
        """Expected purchases of a new customer in their first ``t`` time units after the trial.

        Parameters
        ----------
        t
            One horizon or an array of horizons, in the model's time unit.

        Returns
        -------
        numpy.ndarray
            E[X(t)] for a randomly chosen customer (eq. 9 of the paper), one per horizon.
        """
        p = self._fitted_params()
        horizon = as_float_array(t, "t")
        if (horizon < 0).any():
            raise UserInputError("t must be >= 0")
        zero = np.zeros_like(horizon)
        return _purchases_if_alive(p, horizon, zero, zero)


def _check_horizon(t: Any, n: int) -> FloatArray:
    """A horizon (scalar or per customer) as an array of length ``n``."""
    horizon = as_float_array(t, "t")
    if (horizon < 0).any():
        raise UserInputError("t must be >= 0")
    if len(horizon) == 1:
        return np.full(n, horizon[0])
    if len(horizon) != n:
        raise UserInputError(f"t must be one value or one per customer ({n}), got {len(horizon)}")
    return horizon


def simulate_purchases(
    params: BetaGeoParams, T: Any, *, seed: int | np.random.Generator | None = None
) -> tuple[FloatArray, FloatArray]:
    """Draw (frequency, recency) for customers observed for ``T`` under the BG/NBD process.

    Parameters
    ----------
    params
        True r, alpha, a, b.
    T
        Observation length per customer (time since the first purchase).
    seed
        Seed or generator, for reproducibility.

    Returns
    -------
    tuple of numpy.ndarray
        ``frequency`` (repeat purchases) and ``recency`` (time of the last one, 0 if none),
        in continuous time.
    """
    rng = np.random.default_rng(seed)
    big_t = as_float_array(T, "T")
    n = len(big_t)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    arrivals = rng.poisson(rate * big_t)  # purchase opportunities while (if) alive
    until_death = rng.geometric(dropout)  # repeat purchases made, the last one before dropping out
    x = np.minimum(arrivals, until_death)
    # the x-th of `arrivals` uniform arrival times on [0, T]
    has = x > 0
    position = rng.beta(np.where(has, x, 1), np.where(has, arrivals - x + 1, 1))
    recency = np.where(has, big_t * position, 0.0)
    return x.astype(np.float64), recency
