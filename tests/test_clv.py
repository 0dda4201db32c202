"""BG/NBD + Gamma-Gamma: parameter recovery on simulated customers, likelihoods checked against
independent scalar / numerical-integration implementations, predictions against simulation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.optimize import approx_fprime

from mktai.tasks.segment import clv as clv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "transactions.csv.gz"

# Published CDNOW estimates (Fader, Hardie & Lee 2005), time unit weeks.
TRUE_BG = (0.243, 4.414, 0.793, 2.426)
TRUE_GG = (6.25, 3.74, 15.44)


def simulate_bgnbd(n, params, T_max, seed, extra=0.0):
    """Simulate the BG/NBD story customer by customer (vectorised over customers).

    Each customer makes a first purchase at 0, then buys at rate lambda ~ Gamma(r, 1/alpha) and
    drops out after each purchase with probability p ~ Beta(a, b). Observed until T (uniform
    in [T_max/3, T_max]); purchases in (T, T + extra] are returned as the future count.
    """
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(T_max / 3, T_max, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    future = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t_new = t[idx] + rng.exponential(1 / lam[idx])
        inside = t_new <= T[idx]
        later = (~inside) & (t_new <= T[idx] + extra)
        future[idx[later]] += 1
        stop = ~(inside | later)
        alive[idx[stop]] = False
        moved = idx[~stop]
        t[moved] = t_new[~stop]
        in_obs = idx[inside]
        x[in_obs] += 1
        t_x[in_obs] = t_new[inside]
        dropped = rng.random(moved.size) < p[moved]
        alive[moved[dropped]] = False
    return x, t_x, T, future


def simulate_gg(n, params, seed):
    p, q, v = params
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 12, n)
    nu = rng.gamma(q, 1 / v, n)
    spends = rng.gamma(p, 1, counts.sum()) / np.repeat(nu, counts)
    means = np.bincount(np.repeat(np.arange(n), counts), weights=spends) / counts
    return counts, means


@pytest.fixture(scope="module")
def bg_sample():
    return simulate_bgnbd(20_000, TRUE_BG, 39.0, seed=7)


def test_bgnbd_recovers_known_parameters(bg_sample):
    x, t_x, T, _ = bg_sample
    fitted = clv.fit_bgnbd(x, t_x, T)
    assert fitted.converged
    for est, true, tol in zip(fitted.params, TRUE_BG, (0.10, 0.10, 0.25, 0.25), strict=True):
        assert abs(est - true) / true < tol, (fitted, TRUE_BG)
    # Maximum likelihood: the fitted parameters explain the data at least as well as the truth.
    ll_true = clv.bgnbd_loglik_terms(np.array(TRUE_BG), x, t_x, T).sum()
    assert fitted.loglik >= ll_true - 1e-6


def test_gamma_gamma_recovers_known_parameters():
    counts, means = simulate_gg(20_000, TRUE_GG, seed=11)
    fitted = clv.fit_gamma_gamma(counts, means)
    assert fitted.converged
    p, q, v = TRUE_GG
    assert abs(fitted.p - p) / p < 0.2
    assert abs(fitted.q - q) / q < 0.1
    assert abs(fitted.v - v) / v < 0.2
    # p and v trade off; the population mean spend p v / (q - 1) is pinned down tightly.
    assert abs(fitted.population_mean - p * v / (q - 1)) / (p * v / (q - 1)) < 0.05
    ll_true = clv.gg_loglik_terms(np.array(TRUE_GG), counts, means).sum()
    assert fitted.loglik >= ll_true - 1e-6


def test_analytic_gradients_match_finite_differences(bg_sample):
    x, t_x, T, _ = bg_sample
    w = np.ones_like(x)
    point = np.log([0.3, 5.0, 0.6, 2.0])
    value = lambda z: clv._bgnbd_objective(z, x, t_x, T, w, 0.0)[0]  # noqa: E731
    grad = clv._bgnbd_objective(point, x, t_x, T, w, 0.0)[1]
    np.testing.assert_allclose(grad, approx_fprime(point, value, 1e-7), rtol=1e-4, atol=1e-7)
    counts, means = simulate_gg(2_000, TRUE_GG, seed=3)
    gpoint = np.log([4.0, 3.0, 10.0])
    gvalue = lambda z: clv._gg_objective(z, counts.astype(float), means)[0]  # noqa: E731
    ggrad = clv._gg_objective(gpoint, counts.astype(float), means)[1]
    # the pooled objectives equal the plain mean of the per-customer log-likelihoods
    assert gvalue(gpoint) == pytest.approx(
        -clv.gg_loglik_terms(np.exp(gpoint), counts, means).mean(), rel=1e-12
    )
    assert value(point) == pytest.approx(
        -clv.bgnbd_loglik_terms(np.exp(point), x, t_x, T).mean(), rel=1e-12
    )
    np.testing.assert_allclose(ggrad, approx_fprime(gpoint, gvalue, 1e-7), rtol=1e-4, atol=1e-7)


def _scalar_bgnbd_loglik(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. (6) written term by term with math.lgamma, one customer at a time."""

    def lbeta(u, v):
        return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)

    common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    alive = lbeta(a, b + x) - lbeta(a, b) + common - (r + x) * math.log(alpha + T)
    if x == 0:
        return alive
    dead = lbeta(a + 1, b + x - 1) - lbeta(a, b) + common - (r + x) * math.log(alpha + t_x)
    top = max(alive, dead)
    return top + math.log(math.exp(alive - top) + math.exp(dead - top))


@pytest.fixture(scope="module")
def real_summary():
    if not DATA.exists():
        pytest.skip(f"real data not found: {DATA}")
    from mktai.data import load_table
    from mktai.tasks.segment import rfm as rfm
    from mktai.tasks.segment.family import transactions_frame

    frame, _ = transactions_frame(load_table(DATA, kind="transactions"))
    summary, _ = rfm.summarise(frame)
    return summary.loc[summary["excluded_reason"] == ""]


def test_loglik_matches_scalar_implementation_on_real_data(real_summary):
    import pandas as pd

    sample = pd.concat([real_summary.sample(600, random_state=0), real_summary.nlargest(20, "x")])
    x = sample["x"].to_numpy(dtype=float)
    t_x = sample["t_x"].to_numpy(dtype=float)
    T = sample["T"].to_numpy(dtype=float)
    assert x.max() > 50  # large repeat counts are part of the check
    params = (0.83, 69.0, 0.05, 6.8)
    vectorised = clv.bgnbd_loglik_terms(np.array(params), x, t_x, T)
    scalar = [
        _scalar_bgnbd_loglik(*params, xi, ti, Ti) for xi, ti, Ti in zip(x, t_x, T, strict=True)
    ]
    np.testing.assert_allclose(vectorised, scalar, rtol=1e-10, atol=1e-9)


def test_real_data_fit_is_a_likelihood_maximum(real_summary):
    x = real_summary["x"].to_numpy(dtype=float)
    t_x = real_summary["t_x"].to_numpy(dtype=float)
    T = real_summary["T"].to_numpy(dtype=float)
    fitted = clv.fit_bgnbd(x, t_x, T)
    best = clv.bgnbd_loglik_terms(fitted.params, x, t_x, T).sum()
    rng = np.random.default_rng(0)
    for _ in range(20):
        nudged = fitted.params * np.exp(rng.normal(0, 0.05, 4))
        assert clv.bgnbd_loglik_terms(nudged, x, t_x, T).sum() <= best + 1e-6


def test_gamma_gamma_density_matches_numerical_integration():
    p, q, v = TRUE_GG
    for n, m in [(2, 10.0), (5, 40.0), (11, 3.5)]:
        # mean of n Gamma(p, nu) spends is Gamma(n p, rate n nu); nu ~ Gamma(q, rate v)
        density = integrate.quad(
            lambda nu, n=n, m=m: (
                stats.gamma.pdf(m, n * p, scale=1 / (n * nu)) * stats.gamma.pdf(nu, q, scale=1 / v)
            ),
            0,
            np.inf,
            limit=200,
        )[0]
        assert clv.gg_loglik_terms(np.array(TRUE_GG), [n], [m])[0] == pytest.approx(
            math.log(density), rel=1e-6
        )


def test_expected_purchases_and_p_alive_match_simulation():
    horizon = 26.0
    x, t_x, T, future = simulate_bgnbd(40_000, TRUE_BG, 39.0, seed=5, extra=horizon)
    model = clv.BGNBD(*TRUE_BG)
    predicted = model.expected_purchases(horizon, x, t_x, T)
    assert predicted.sum() == pytest.approx(future.sum(), rel=0.05)
    for bucket in (0, 1, 2, 3):
        mask = x == bucket
        assert predicted[mask].mean() == pytest.approx(future[mask].mean(), rel=0.15, abs=0.02)
    alive = model.p_alive(x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(alive[x == 0] == 1.0)


def test_expected_purchases_pfaff_form_equals_direct_formula():
    from scipy.special import hyp2f1

    r, alpha, a, b = TRUE_BG
    model = clv.BGNBD(r, alpha, a, b)
    x, t_x, T, t = (
        np.array([0.0, 2.0, 7.0]),
        np.array([0.0, 20.0, 30.0]),
        np.array([39.0] * 3),
        10.0,
    )
    z = t / (alpha + T + t)
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    ) * model.p_alive(x, t_x, T)
    np.testing.assert_allclose(model.expected_purchases(t, x, t_x, T), direct, rtol=1e-9)


def test_large_repeat_counts_stay_finite():
    model = clv.BGNBD(0.8, 70.0, 0.01, 6.8)
    x = np.array([0, 10, 500, 5000], dtype=float)
    t_x = np.array([0, 300, 360, 364], dtype=float)
    T = np.full(4, 365.0)
    assert np.all(np.isfinite(clv.bgnbd_loglik_terms(model.params, x, t_x, T)))
    assert np.all(np.isfinite(model.expected_purchases(90.0, x, t_x, T)))
    assert np.all(np.isfinite(model.p_alive(x, t_x, T)))


def test_fits_refuse_data_without_repeat_purchases():
    from mktai.errors import InputError

    with pytest.raises(InputError, match="more than one day"):
        clv.fit_bgnbd(np.zeros(5), np.zeros(5), np.full(5, 30.0))
    with pytest.raises(InputError, match="Gamma-Gamma"):  # n = repeat transactions: none
        clv.fit_gamma_gamma(np.zeros(5), np.full(5, 10.0))


def test_discounting_lowers_value_and_zero_rate_matches_undiscounted(bg_sample):
    x, t_x, T, _ = bg_sample
    x, t_x, T = x[:500], t_x[:500], T[:500]
    model = clv.BGNBD(*TRUE_BG)
    gg = clv.GammaGamma(*TRUE_GG)
    n = x + 1
    m = np.full_like(x, 20.0)
    plain = clv.expected_value(model, gg, horizon=52, x=x, t_x=t_x, T=T, spend_n=n, spend_mean=m)
    zero = clv.expected_value(
        model, gg, horizon=52, x=x, t_x=t_x, T=T, spend_n=n, spend_mean=m, discount=1e-12
    )
    discounted = clv.expected_value(
        model, gg, horizon=52, x=x, t_x=t_x, T=T, spend_n=n, spend_mean=m, discount=0.2, step=4
    )
    np.testing.assert_allclose(zero, plain, rtol=1e-6)
    assert np.all(discounted <= plain + 1e-12)
    assert discounted.sum() < plain.sum()


def test_pooling_whole_days_matches_row_unique():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 30, 5000).astype(float)
    t_x = rng.integers(0, 300, 5000).astype(float)
    T = t_x + rng.integers(0, 60, 5000)
    pooled = clv._pool(x, t_x, T)
    rows, counts = np.unique(np.stack([x, t_x, T], axis=1), axis=0, return_counts=True)
    np.testing.assert_array_equal(np.stack(pooled[:3], axis=1), rows)
    np.testing.assert_array_equal(pooled[3], counts)


def _expected_purchases_by_quadrature(params, t, x, t_x, T):
    """E[Y(t) | x, t_x, T] integrated numerically over the dropout probability p.

    Independent of any hypergeometric function: integrating lambda out analytically, a customer
    alive at T with (lambda, p) makes (1 - exp(-lambda p t)) / p purchases in expectation, so
    E = int (1-p)^x / p [1 - ((alpha+T)/(alpha+T+p t))^(r+x)] Beta(p; a, b) dp / likelihood,
    everything relative to the common factor Gamma(r+x) alpha^r / Gamma(r) (alpha+T)^-(r+x).
    """
    from scipy.integrate import quad
    from scipy.special import betaln

    r, alpha, a, b = params

    def integrand(u):
        # p = u^(1/a) turns the p^(a-1) singularity at 0 into a constant 1/a
        p = u ** (1.0 / a)
        if p == 0.0:
            gain_per_p = t * (r + x) / (alpha + T)
        else:
            gain_per_p = -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p
        return np.exp((b + x - 1) * np.log1p(-p) - betaln(a, b)) * gain_per_p / a

    numerator = quad(integrand, 0, 1, limit=500, epsabs=0, epsrel=1e-10)[0]
    alive = np.exp(betaln(a, b + x) - betaln(a, b))
    dead = 0.0
    if x > 0:
        dead = np.exp(
            betaln(a + 1, b + x - 1) - betaln(a, b) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        )
    return numerator / (alive + dead)


@pytest.mark.parametrize("params", [(0.83, 69.4, 0.0039, 6.78), (0.25, 4.4, 0.79, 2.43), TRUE_BG])
def test_expected_purchases_match_quadrature_for_frequent_buyers_and_long_horizons(params):
    # Pfaff's form 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)) returned inf/NaN here: frequent
    # buyers (x ~ 100) over a horizon longer than alpha + T, e.g. a one-year or five-year CLV.
    model = clv.BGNBD(*params)
    cases = [(0, 0, 30), (3, 40, 200), (97, 100, 108), (162, 966, 1701), (400, 700, 730)]
    for t in (30.0, 365.0, 1825.0):
        for x, t_x, T in cases:
            got = float(
                model.expected_purchases(t, np.array([x]), np.array([t_x]), np.array([T]))[0]
            )
            want = _expected_purchases_by_quadrature(params, t, x, t_x, T)
            assert np.isfinite(got)
            assert got == pytest.approx(want, rel=1e-6, abs=1e-9), (t, x, t_x, T)
