"""Customer lifetime value: BG/NBD (repeat purchasing) + Gamma-Gamma (spend), numpy/scipy only.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop out with
probability p ~ Beta(a, b). Per customer: x repeat purchases, t_x time of the last purchase and
T the age, both measured from the first purchase (here in days).

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): spend per transaction ~ Gamma(p, nu),
nu ~ Gamma(q, v); fitted on customers with x >= 1 repeat transactions and mean repeat spend
m > 0 (the first purchase is not in m, as in the paper and in lifetimes).

Both likelihoods are vectorised (gammaln/betaln, logaddexp), use analytic gradients and are
maximised on log-parameters with L-BFGS-B, so a million customers fit in seconds and large x
never overflows. The lifetimes package is not used (unmaintained).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BGNBD_NAMES = ("r", "alpha", "a", "b")
GG_NAMES = ("p", "q", "v")


# --------------------------------------------------------------------------- BG/NBD


def bgnbd_loglik_terms(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005 eq. 6), stable for large x."""
    import numpy as np
    from scipy.special import betaln, gammaln

    r, alpha, a, b = (float(v) for v in params)
    x = np.asarray(x, dtype="float64")
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def _bgnbd_objective(
    log_params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray,
    penalty: float,
    x_index: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient w.r.t. the log-parameters.

    The special functions only depend on x, which takes few distinct values: they are evaluated
    once per distinct x (x_index = np.unique(x, return_inverse=True)) and gathered back.
    """
    import numpy as np
    from scipy.special import betaln, digamma, gammaln

    r, alpha, a, b = np.exp(log_params)
    n = weights.sum()
    ux, inv = x_index if x_index is not None else np.unique(x, return_inverse=True)
    # per distinct x
    u_a12 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
    u_pos = ux > 0
    u_bx1 = np.where(u_pos, b + ux - 1, 1.0)
    u_loga_bx1 = np.where(u_pos, np.log(a) - np.log(u_bx1), -np.inf)
    psi_ab = digamma(a + b)
    u_psi_abx = digamma(a + b + ux)
    u_dr = digamma(r + ux) - digamma(r) + np.log(alpha)
    u_da = psi_ab - u_psi_abx
    u_db = psi_ab + digamma(b + ux) - digamma(b) - u_psi_abx
    # per row
    rx = r + x
    log_aT = np.log(alpha + T)
    log_atx = np.log(alpha + t_x)
    a3 = -rx * log_aT
    a4 = u_loga_bx1[inv] - rx * log_atx
    both = np.logaddexp(a3, a4)
    ll = u_a12[inv] + both
    w3 = np.exp(a3 - both)  # share of the "still alive" branch
    w4 = np.where(x > 0, 1.0 - w3, 0.0)
    d_r = u_dr[inv] - w3 * log_aT - w4 * log_atx
    d_alpha = r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + t_x)
    d_a = u_da[inv] + w4 / a
    d_b = u_db[inv] - w4 / u_bx1[inv]
    grads = np.array([d_r, d_alpha, d_a, d_b]) @ weights
    value = -(ll @ weights) / n + penalty * float(np.sum(np.exp(2 * log_params)))
    grad = -(grads * np.exp(log_params)) / n + penalty * 2 * np.exp(2 * log_params)
    return float(value), grad


@dataclass
class BGNBD:
    """Fitted BG/NBD parameters (time unit: days) and the fit diagnostics."""

    r: float
    alpha: float
    a: float
    b: float
    loglik: float = float("nan")
    n: int = 0
    converged: bool = True

    @property
    def params(self) -> np.ndarray:
        import numpy as np

        return np.array([self.r, self.alpha, self.a, self.b])

    def to_dict(self) -> dict[str, Any]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "loglik": self.loglik,
            "n": self.n,
            "converged": self.converged,
        }

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(still alive at T | x, t_x, T); customers without repeats are alive with P = 1."""
        import numpy as np
        from scipy.special import expit

        x = np.asarray(x, dtype="float64")
        with np.errstate(divide="ignore"):
            log_odds_dead = (
                np.log(self.a)
                - np.log(np.maximum(self.b + x - 1, 1e-300))
                + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x))
            )
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def expected_purchases(
        self, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005 eq. 10).

        The factor (1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t), is evaluated
        through Euler's transformation as (1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the
        first two parameters do not grow with x and z stays in [0, 1), so the series is
        tame. (Pfaff's form, 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)), overflows to inf/NaN for
        frequent buyers once the horizon exceeds alpha + T, e.g. a one-year CLV.)
        """
        import numpy as np
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if abs(a - 1.0) < 1e-9:
            a = 1.0 + 1e-9
        x = np.asarray(x, dtype="float64")
        T = np.asarray(T, dtype="float64")
        t = np.asarray(t, dtype="float64")
        z = t / (alpha + T + t)
        hyp = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(
            a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
        )
        ratio = (a + b + x - 1.0) / (a - 1.0)
        return np.maximum(self.p_alive(x, t_x, T) * ratio * (1.0 - hyp), 0.0)


def _pool(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t_x, T) rows and their counts; whole days pack into one int64 key."""
    import numpy as np

    whole = all(np.array_equal(v, np.round(v)) for v in (x, t_x, T))
    big = max(float(t_x.max(initial=0)), float(T.max(initial=0))) + 1
    if (
        whole
        and x.min(initial=0) >= 0
        and t_x.min(initial=0) >= 0
        and (float(x.max(initial=0)) + 1) * big * big < 2**62
    ):
        span = int(big)
        key = (x.astype(np.int64) * span + t_x.astype(np.int64)) * span + T.astype(np.int64)
        uniq, counts = np.unique(key, return_counts=True)
        ux = (uniq // (span * span)).astype("float64")
        utx = (uniq // span % span).astype("float64")
        uT = (uniq % span).astype("float64")
        return ux, utx, uT, counts.astype("float64")
    stacked = np.stack([x, t_x, T], axis=1)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return uniq[:, 0], uniq[:, 1], uniq[:, 2], counts.astype("float64")


def fit_bgnbd(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    *,
    penalty: float = 0.0,
    init: tuple[float, float, float, float] | None = None,
) -> BGNBD:
    """Maximum likelihood BG/NBD on per-customer (x, t_x, T); identical rows are pooled."""
    import numpy as np
    from scipy.optimize import minimize

    from mktai.errors import InputError

    x = np.asarray(x, dtype="float64")
    t_x = np.asarray(t_x, dtype="float64")
    T = np.asarray(T, dtype="float64")
    if x.size == 0:
        raise InputError("no customers to fit BG/NBD on")
    if (x > 0).sum() == 0:
        raise InputError(
            "no customer bought on more than one day: repeat-purchase (BG/NBD) CLV is undefined"
        )
    # Pool identical (x, t_x, T): the likelihood only depends on them (big speed-up at 1M).
    ux, utx, uT, w = _pool(x, t_x, T)
    if init is None:
        scale = max(float(np.average(T, weights=None)), 1.0)
        init = (0.5, scale / 4.0, 1.0, 3.0)
    start = np.log(np.asarray(init, dtype="float64"))
    result = minimize(
        _bgnbd_objective,
        start,
        args=(ux, utx, uT, w, penalty, np.unique(ux, return_inverse=True)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * 4,
        options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-13},
    )
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    loglik = float(bgnbd_loglik_terms(np.exp(result.x), ux, utx, uT) @ w)
    # With almost no dropout the likelihood is flat along a -> 0, b -> inf and L-BFGS-B stops
    # with a line-search message at a zero gradient: that is an optimum, not a failure.
    converged = bool(result.success or np.max(np.abs(result.jac)) < 1e-5)
    return BGNBD(r, alpha, a, b, loglik=loglik, n=int(x.size), converged=converged)


# --------------------------------------------------------------------------- Gamma-Gamma


def gg_loglik_terms(params: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log density of the mean spend m over n transactions."""
    import numpy as np
    from scipy.special import gammaln

    p, q, v = (float(val) for val in params)
    n = np.asarray(n, dtype="float64")
    m = np.asarray(m, dtype="float64")
    pn = p * n
    return (
        gammaln(pn + q)
        - gammaln(pn)
        - gammaln(q)
        + q * np.log(v)
        + (pn - 1) * np.log(m)
        + pn * np.log(n)
        - (pn + q) * np.log(v + n * m)
    )


def _gg_objective(
    log_params: np.ndarray, n: np.ndarray, m: np.ndarray, stats: dict | None = None
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and gradient; special functions once per distinct n."""
    import numpy as np
    from scipy.special import digamma, gammaln

    stats = stats if stats is not None else _gg_stats(n, m)
    un, counts = stats["un"], stats["counts"]
    p, q, v = np.exp(log_params)
    size = n.size
    pu = p * un
    log_vnm = np.log(v + n * m)
    weight = p * n + q
    ll = (
        counts @ (gammaln(pu + q) - gammaln(pu))
        - size * gammaln(q)
        + size * q * np.log(v)
        + p * stats["sum_n_log_m"]
        - stats["sum_log_m"]
        + p * stats["sum_n_log_n"]
        - weight @ log_vnm
    )
    psi_puq = digamma(pu + q)
    d_p = (
        counts @ (un * (psi_puq - digamma(pu)))
        + stats["sum_n_log_m"]
        + stats["sum_n_log_n"]
        - n @ log_vnm
    )
    d_q = counts @ psi_puq - size * digamma(q) + size * np.log(v) - log_vnm.sum()
    d_v = size * q / v - (weight / (v + n * m)).sum()
    grad = -np.array([d_p, d_q, d_v]) * np.exp(log_params) / size
    return float(-ll / size), grad


def _gg_stats(n: np.ndarray, m: np.ndarray) -> dict:
    """Sufficient statistics of the Gamma-Gamma likelihood that do not depend on (p, q, v)."""
    import numpy as np

    un, counts = np.unique(n, return_counts=True)
    log_m = np.log(m)
    return {
        "un": un,
        "counts": counts.astype("float64"),
        "sum_log_m": float(log_m.sum()),
        "sum_n_log_m": float(n @ log_m),
        "sum_n_log_n": float(n @ np.log(n)),
    }


@dataclass
class GammaGamma:
    """Fitted Gamma-Gamma spend model."""

    p: float
    q: float
    v: float
    loglik: float = float("nan")
    n: int = 0
    converged: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "q": self.q,
            "v": self.v,
            "loglik": self.loglik,
            "n": self.n,
            "converged": self.converged,
        }

    @property
    def population_mean(self) -> float:
        """E[M] = p v / (q - 1) (infinite when q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")

    def expected_spend(self, n: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[M | n, m]: a weighted mean of the population mean and the customer's own mean."""
        import numpy as np

        n = np.asarray(n, dtype="float64")
        m = np.asarray(m, dtype="float64")
        return self.p * (self.v + n * m) / (self.p * n + self.q - 1)


def fit_gamma_gamma(n: np.ndarray, m: np.ndarray) -> GammaGamma:
    """Maximum likelihood Gamma-Gamma on customers with n >= 1 repeat transactions, mean m > 0."""
    import numpy as np
    from scipy.optimize import minimize

    from mktai.errors import InputError

    n = np.asarray(n, dtype="float64")
    m = np.asarray(m, dtype="float64")
    keep = (n >= 1) & (m > 0) & np.isfinite(m)
    n, m = n[keep], m[keep]
    if n.size < 3:
        raise InputError(
            "fewer than 3 repeat customers with positive spend: the Gamma-Gamma spend model "
            "is undefined"
        )
    # Moment-style start: q from the spread of the means, v scales the typical mean.
    start = np.log([2.0, 3.0, max(float(np.median(m)), 1e-3)])
    result = minimize(
        _gg_objective,
        start,
        args=(n, m, _gg_stats(n, m)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0), (-12.0, 12.0), (-20.0, 25.0)],
        options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-13},
    )
    p, q, v = (float(val) for val in np.exp(result.x))
    loglik = float(gg_loglik_terms(np.exp(result.x), n, m).sum())
    converged = bool(result.success or np.max(np.abs(result.jac)) < 1e-5)
    return GammaGamma(p, q, v, loglik=loglik, n=int(n.size), converged=converged)


# --------------------------------------------------------------------------- CLV


def expected_value(
    bg: BGNBD,
    gg: GammaGamma | None,
    *,
    horizon: float,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    spend_n: np.ndarray,
    spend_mean: np.ndarray,
    discount: float = 0.0,
    step: float = 30.0,
) -> np.ndarray:
    """Expected purchases over the horizon x expected spend, discounted per `step` days.

    discount is an annual rate (0.1 = 10%); purchases expected in each step are discounted to
    the step's end, like lifetimes' customer_lifetime_value.
    """
    import numpy as np

    spend = (
        gg.expected_spend(spend_n, spend_mean)
        if gg is not None
        else np.asarray(spend_mean, dtype="float64")
    )
    if discount <= 0:
        return bg.expected_purchases(horizon, x, t_x, T) * spend
    points = list(np.arange(step, horizon, step)) + [horizon]
    total = np.zeros(np.asarray(x).shape, dtype="float64")
    previous = np.zeros_like(total)
    for point in points:
        cumulative = bg.expected_purchases(point, x, t_x, T)
        factor = (1.0 + discount) ** (-point / 365.0)
        total += (cumulative - previous) * factor
        previous = cumulative
    return total * spend
