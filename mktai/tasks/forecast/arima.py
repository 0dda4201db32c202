"""Seasonal ARIMA for many series at once: conditional least squares, orders by AICc.

Why not statsmodels' SARIMAX per series: its exact likelihood costs seconds per fit and order
(measured ~3.4 s per series for three orders in benchmarks/forecast.py), far from a 1,000-series
budget. Here every (series, candidate order) pair is one cell, and the multiplicative model
phi(B) Phi(B^m) (w_t - mu) = theta(B) Theta(B^m) e_t is fitted by conditional sum of squares
(Box & Jenkins' CSS, what statsmodels/R use as the start of exact ML) for all cells at once
(css.py: Hannan-Rissanen starts, a batched Levenberg-Marquardt on the exact filtered Jacobian,
each cell stopping when it has converged, orders far behind on AICc dropped early).

Differencing as auto.arima: one seasonal difference when the seasonal autocorrelation is
significant (the M4 test), then d = 0 or 1 by the KPSS test at 5% on the (seasonally) differenced
series. A mean (d + D = 0) or drift (d + D = 1) is estimated with the ARMA terms. Orders
(p, q) with p + q <= 2, plain or with a seasonal MA term, or p + q <= 1 with a seasonal AR term,
are chosen per series by AICc on a common residual window (so that orders with more lags are
not scored on fewer points). A series' fit does not depend on the other series in its batch
(tests/test_forecast_batch.py).
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.css import css, polys
from mktai.tasks.forecast.simple import Fit, seasonality_test

KPSS_CRIT = 0.463  # 5% level, level stationarity


def _diff(W: np.ndarray, valid: np.ndarray, lag: int, use: np.ndarray):
    """y_t - y_{t-lag} where `use`, validity mask moved on by lag."""
    out = W.copy()
    v = valid.copy()
    rows = np.flatnonzero(use)
    if len(rows) and lag < W.shape[1]:
        out[rows, lag:] = W[rows, lag:] - W[rows, :-lag]
        out[rows, :lag] = 0.0
        v[rows, lag:] = valid[rows, lag:] & valid[rows, :-lag]
        v[rows, :lag] = False
    return np.where(v, out, 0.0), v


def _tsum(X: np.ndarray) -> np.ndarray:
    """Sum over time in time order (the same value whatever the batch's padding)."""
    return np.cumsum(X, axis=1)[:, -1] if X.shape[1] else np.zeros(len(X))


def kpss(W: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """KPSS level-stationarity statistic per series (Newey-West, lag trunc(3 sqrt(n)/13))."""
    cnt = np.maximum(valid.sum(axis=1), 1)
    mean = _tsum(np.where(valid, W, 0)) / cnt
    e = np.where(valid, W - mean[:, None], 0.0)
    S = np.cumsum(e, axis=1)
    num = _tsum(S**2) / cnt**2
    lags = np.floor(3 * np.sqrt(cnt) / 13).astype(int)
    s2 = _tsum(e**2) / cnt
    for k in range(1, int(lags.max()) + 1 if len(lags) else 1):
        gamma = _tsum(e[:, k:] * e[:, :-k]) / cnt
        w = np.where(k <= lags, 1 - k / (lags + 1), 0.0)
        s2 = s2 + 2 * w * gamma
    with np.errstate(all="ignore"):
        return np.where(s2 > 0, num / s2, 0.0)


def orders(m: int) -> list[tuple[int, int, int, int]]:
    """The candidate (p, q, P, Q): p + q <= 2 (parsimony: six orders), alone and with a seasonal
    MA term, and p + q <= 1 with a seasonal AR term when there is a season (15 orders; AICc chose
    a seasonal AR for 4% of 300 benchmark panel series, a seasonal MA for the others)."""
    base = [(p, q) for p in range(3) for q in range(3) if p + q <= 2]
    out = [(p, q, 0, 0) for p, q in base]
    if m > 1:
        out += [(p, q, 0, 1) for p, q in base] + [(p, q, 1, 0) for p, q in base if p + q <= 1]
    return out


def _aicc(res: dict[str, np.ndarray], m: int, seasonal_cells: np.ndarray) -> np.ndarray:
    k, cnt = res["k"], res["cnt_w"]
    with np.errstate(all="ignore"):
        aicc = cnt * np.log(res["sse_w"] / cnt) + 2 * k + 2 * k * (k + 1) / (cnt - k - 1)
    aicc = np.where((cnt - k - 1 > 0) & np.isfinite(aicc), aicc, np.inf)
    return np.where(seasonal_cells & (m <= 1), np.inf, aicc)


CHUNK_CELLS = 40_000_000  # time x series x orders x 7 per block (~2,000 series of 15 years)


def _chunked(W2, v2, m, order_list, constant) -> dict[str, np.ndarray]:
    """css() over blocks of series, so that memory stays bounded for big panels."""
    N, T = W2.shape
    size = max(1, CHUNK_CELLS // max(T * len(order_list) * 7, 1))
    parts = [css(W2[i : i + size], v2[i : i + size], m, order_list, constant[i : i + size])
             for i in range(0, N, size)]  # fmt: skip
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def fit(Y, n, m, h, **_) -> Fit:
    """Per series: differencing by tests, then the order with the smallest AICc.

    (Screening every order with a few iterations from zero starts and finishing only the best
    few was tried: after 3-6 such steps the AICc ranking of MA orders was not yet reliable,
    benchmark MASE 1.44 against 1.30. From Hannan-Rissanen starts css() drops only orders far
    behind the series' best: css.PRUNE.)
    """
    N, T = Y.shape
    valid = np.arange(T)[None, :] < n[:, None]
    W = np.where(valid, np.nan_to_num(Y), 0.0)
    seasonal = seasonality_test(Y, n, m) if m > 1 else np.zeros(N, bool)
    W1, v1 = _diff(W, valid, m, seasonal)
    d1 = kpss(W1, v1) > KPSS_CRIT
    W2, v2 = _diff(W1, v1, 1, d1)
    D, d = seasonal.astype(int), d1.astype(int)
    constant = (D + d) <= 1
    order_list = orders(m)
    is_seasonal = np.array([bool(P or Q) for _, _, P, Q in order_list])
    rows = np.arange(N)
    res = _chunked(W2, v2, m, order_list, constant)
    aicc = _aicc(res, m, is_seasonal[None, :])
    pick = aicc.argmin(axis=1)
    best_aicc = aicc[rows, pick]
    coef = res["beta"][rows, pick]
    e_hat = res["e"][rows, pick]
    cnt_own = res["cnt"][rows, pick]
    sigma2 = res["sse"][rows, pick] / np.maximum(cnt_own - res["k"][rows, pick] + 1, 1)
    mean, psi = _forecast(W, W2, e_hat, n, m, h, coef, d, D)
    sigma = np.sqrt(sigma2[:, None] * np.cumsum(psi**2, axis=1))
    bad = ~np.isfinite(best_aicc) | (n < 2 * m + 4 if m > 1 else n < 6)
    mean[bad] = np.nan
    return Fit(mean, sigma, coef)


def _at(A: np.ndarray, t: np.ndarray) -> np.ndarray:
    rows = np.arange(len(A))
    return A[rows, np.clip(t, 0, A.shape[1] - 1)] * (t >= 0)


def _forecast(W, W2, e_hat, n, m, h, coef, d, D):
    """Recursive ARMA forecast of the differenced series, integrated back; psi weights."""
    N, T = W.shape
    rows = np.arange(N)
    a, b = polys(coef, m)
    L = a.shape[1] - 1
    mu = coef[:, 0]
    ext = np.zeros((N, T + h))
    ext[:, :T] = W2 - mu[:, None]
    eps = np.zeros((N, T + h))
    eps[:, :T] = e_hat
    for k in range(h):
        t = n + k
        val = np.zeros(N)
        for j in range(1, L + 1):
            val += -a[:, j] * _at(ext, t - j) + b[:, j] * _at(eps, t - j)
        ext[rows, t] = val
    w_future = np.stack([ext[rows, n + k] for k in range(h)], axis=1) + mu[:, None]
    # undo (1-B)^d (1-B^m)^D: y_t = w_t - sum_{j>=1} delta_j y_{t-j}
    delta = np.zeros((N, m + 2))
    delta[:, 0] = 1
    for flag, lag in ((d, 1), (D, m)):
        shifted = np.zeros_like(delta)
        shifted[:, lag:] = delta[:, :-lag]
        delta = np.where(flag[:, None] > 0, delta - shifted, delta)
    level = np.zeros((N, T + h))
    level[:, :T] = W
    for k in range(h):
        t = n + k
        y = w_future[:, k].copy()
        for j in range(1, delta.shape[1]):
            y -= delta[:, j] * _at(level, t - j)
        level[rows, t] = y
    mean = np.stack([level[rows, n + k] for k in range(h)], axis=1)
    # psi weights of the full model: a(B) delta(B) psi(B) = b(B)
    full = np.zeros((N, L + delta.shape[1]))
    for j in range(delta.shape[1]):
        full[:, j : j + L + 1] += delta[:, j : j + 1] * a
    psi = np.zeros((N, h))
    psi[:, 0] = 1
    for j in range(1, h):
        acc = b[:, j].copy() if j <= L else np.zeros(N)
        for i in range(1, min(j, full.shape[1] - 1) + 1):
            acc -= full[:, i] * psi[:, j - i]
        psi[:, j] = acc
    return mean, psi
