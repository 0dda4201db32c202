"""Benchmarks and the theta method, vectorised over left-aligned series (Y[i, :n[i]]).

naive, seasonal naive and drift are exact (Hyndman & Athanasopoulos, ch. 5) with their textbook
standard deviations; Naive2 (the M4 reference for OWA) and theta work on series seasonally
adjusted by classical multiplicative decomposition when the lag-m autocorrelation is significant
at 90% (the M4 rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Fit:
    mean: np.ndarray  # (N, h)
    sigma: np.ndarray  # (N, h)
    params: np.ndarray | None = None  # (N, k) what a stored model keeps


def last(Y: np.ndarray, n: np.ndarray, lag: int = 1) -> np.ndarray:
    """Y[i, n[i] - lag] for every series."""
    idx = np.clip(n - lag, 0, Y.shape[1] - 1)
    return Y[np.arange(len(n)), idx]


def _steps(Y, n, lag):
    """Differences y_t - y_{t-lag} inside each series (NaN outside)."""
    T = Y.shape[1]
    d = np.full_like(Y, np.nan)
    if lag < T:
        d[:, lag:] = Y[:, lag:] - Y[:, :-lag]
    t = np.arange(T)[None, :]
    d[t >= n[:, None]] = np.nan
    return d


def tsum(X: np.ndarray) -> np.ndarray:
    """Sum over time (axis 1) in time order: trailing padding (zeros) never changes the rounding,
    so a series gives the same value in any batch (np.sum's pairwise order depends on the
    padded length)."""
    if X.shape[1] == 0:
        return np.zeros(X.shape[0])
    return np.cumsum(X, axis=1)[:, -1]


def tmean(X: np.ndarray) -> np.ndarray:
    """Mean over time of the finite values (NaN where none), in time order as tsum."""
    ok = np.isfinite(X)
    cnt = ok.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(cnt > 0, tsum(np.where(ok, X, 0.0)) / cnt, np.nan)


def _sd(resid: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        cnt = np.sum(np.isfinite(resid), axis=1)
        out = np.sqrt(tsum(np.where(np.isfinite(resid), resid**2, 0.0)) / np.maximum(cnt - 1, 1))
    return np.where(cnt > 0, out, np.nan)


def naive(Y, n, m, h, **_):
    level = last(Y, n)
    sd = _sd(_steps(Y, n, 1))
    hs = np.arange(1, h + 1)
    return Fit(np.repeat(level[:, None], h, axis=1), sd[:, None] * np.sqrt(hs)[None, :])


def snaive(Y, n, m, h, **_):
    """Repeat the last season; series shorter than one season fall back to naive."""
    if m <= 1:
        return naive(Y, n, m, h)
    hs = np.arange(1, h + 1)
    lag = m - ((hs - 1) % m)  # y_{n+h} = y_{n+h-m*k}
    idx = np.clip(n[:, None] - lag[None, :], 0, Y.shape[1] - 1)
    mean = np.take_along_axis(Y, idx, axis=1)
    sd = _sd(_steps(Y, n, m))
    k = np.floor((hs - 1) / m) + 1
    fit = Fit(mean, sd[:, None] * np.sqrt(k)[None, :])
    short = n < m + 1
    if short.any():
        fallback = naive(Y, n, m, h)
        fit.mean[short], fit.sigma[short] = fallback.mean[short], fallback.sigma[short]
    return fit


def drift(Y, n, m, h, **_):
    first = Y[:, 0]
    end = last(Y, n)
    slope = np.where(n > 1, (end - first) / np.maximum(n - 1, 1), 0.0)
    hs = np.arange(1, h + 1)
    resid = _steps(Y, n, 1) - slope[:, None]
    sd = _sd(resid)
    factor = np.sqrt(hs[None, :] * (1 + hs[None, :] / np.maximum(n[:, None] - 1, 1)))
    return Fit(end[:, None] + slope[:, None] * hs[None, :], sd[:, None] * factor)


def acf(Y: np.ndarray, n: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_max_lag per series (N, max_lag)."""
    T = Y.shape[1]
    mask = np.arange(T)[None, :] < n[:, None]
    mean = tsum(np.where(mask, Y, 0)) / np.maximum(n, 1)
    z = np.where(mask, Y - mean[:, None], 0.0)
    denom = tsum(z * z)
    out = np.zeros((len(n), max_lag))
    for k in range(1, max_lag + 1):
        if k < T:
            out[:, k - 1] = tsum(z[:, k:] * z[:, :-k])
    with np.errstate(all="ignore"):
        return np.where(denom[:, None] > 0, out / denom[:, None], 0.0)


def seasonality_test(Y: np.ndarray, n: np.ndarray, m: int) -> np.ndarray:
    """The M4 test: |r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n), and n >= 3m."""
    if m <= 1:
        return np.zeros(len(n), bool)
    r = acf(Y, n, m)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[:, : m - 1] ** 2, axis=1)) / np.maximum(n, 1))
    return (np.abs(r[:, m - 1]) > limit) & (n >= 3 * m)


def seasonal_indices(
    Y: np.ndarray, n: np.ndarray, m: int, use: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Classical decomposition: multiplicative indices (N, m) for positive series, additive
    offsets (N, m) for series with zeros or negatives; identity (1, 0) where not seasonal.

    Index j belongs to position j of each series' own cycle (t mod m).
    """
    N, T = Y.shape
    mult, add = np.ones((N, max(m, 1))), np.zeros((N, max(m, 1)))
    if m <= 1 or not use.any():
        return mult, add
    mask = np.arange(T)[None, :] < n[:, None]
    positive = np.all(np.where(mask, Y, 1.0) > 0, axis=1)
    rows = np.flatnonzero(use)
    y = np.where(mask[rows], Y[rows], np.nan)
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(w) // 2
    cma = np.full_like(y, np.nan)
    if 2 * half < T:  # the centred moving average, summed term by term (same in any batch)
        inner = np.zeros((len(rows), T - 2 * half))
        for j, weight in enumerate(w):
            inner += weight * y[:, j : T - 2 * half + j]
        cma[:, half : T - half] = inner
    pos = np.arange(T) % m
    with np.errstate(all="ignore"):
        ratio = y / cma
        diff = y - cma
    r_idx, d_idx = np.zeros((len(rows), m)), np.zeros((len(rows), m))
    for j in range(m):
        r_idx[:, j] = tmean(ratio[:, pos == j])
        d_idx[:, j] = tmean(diff[:, pos == j])
    r_idx = np.where(np.isfinite(r_idx) & (r_idx > 0), r_idx, 1.0)
    d_idx = np.where(np.isfinite(d_idx), d_idx, 0.0)
    pos_rows = positive[rows]
    mult[rows[pos_rows]] = (r_idx / r_idx.mean(axis=1, keepdims=True))[pos_rows]
    add[rows[~pos_rows]] = (d_idx - d_idx.mean(axis=1, keepdims=True))[~pos_rows]
    return mult, add


def _adjust(Y, n, m):
    use = seasonality_test(Y, n, m)
    mult, add = seasonal_indices(Y, n, m, use)
    pos = np.arange(Y.shape[1]) % max(m, 1)
    adjusted = (Y - add[:, pos]) / mult[:, pos]
    return adjusted, mult, add


def _future(ind, n, m, h):
    idx = (n[:, None] + np.arange(h)[None, :]) % max(m, 1)
    return np.take_along_axis(ind, idx, axis=1)


def naive2(Y, n, m, h, **_):
    """Naive on the seasonally adjusted series, re-seasonalised (M4's Naive2)."""
    adjusted, mult, add = _adjust(Y, n, m)
    base = naive(adjusted, n, m, h)
    f = _future(mult, n, m, h)
    return Fit(base.mean * f + _future(add, n, m, h), base.sigma * f)


def ses(Y, n, alphas=None):
    """Simple exponential smoothing with the MSE-best alpha from a grid (vectorised).

    Returns final level (N,), alpha (N,), residual sd (N,). l0 = y_0.
    """
    grid = np.asarray(alphas if alphas is not None else np.r_[0.02:1.0:0.04], dtype=float)
    N, T = Y.shape
    level = np.repeat(Y[:, :1], len(grid), axis=1)
    sse = np.zeros((N, len(grid)))
    for t in range(1, int(n.max()) if N else 0):
        act = (t < n)[:, None]
        e = np.where(act, Y[:, t : t + 1] - level, 0.0)
        level = level + grid[None, :] * e
        sse += e * e
    best = sse.argmin(axis=1)
    r = np.arange(N)
    # refine once around the best grid point
    lo = np.clip(grid[best] - 0.04, 0.001, 0.999)
    fine = lo[:, None] + np.linspace(0, 0.08, 9)[None, :]
    fine = np.clip(fine, 0.001, 0.999)
    level = np.repeat(Y[:, :1], fine.shape[1], axis=1)
    sse = np.zeros_like(fine)
    for t in range(1, int(n.max()) if N else 0):
        act = (t < n)[:, None]
        e = np.where(act, Y[:, t : t + 1] - level, 0.0)
        level = level + fine * e
        sse += e * e
    pick = sse.argmin(axis=1)
    alpha = fine[r, pick]
    sd = np.sqrt(sse[r, pick] / np.maximum(n - 2, 1))
    return level[r, pick], alpha, sd


def theta(Y, n, m, h, **_):
    """Standard theta (Hyndman & Billah 2003): SES with drift b0/2 on the adjusted series."""
    adjusted, mult, add = _adjust(Y, n, m)
    level, alpha, sd = ses(adjusted, n)
    T = Y.shape[1]
    t = np.arange(T, dtype=float)[None, :]
    mask = t < n[:, None]
    yy = np.where(mask, adjusted, 0.0)
    tm = tsum(mask * t) / np.maximum(n, 1)
    ym = tsum(yy) / np.maximum(n, 1)
    var = tsum(mask * (t - tm[:, None]) ** 2)
    cov = tsum(mask * (t - tm[:, None]) * (yy - ym[:, None]))
    b0 = np.where(var > 0, cov / np.where(var > 0, var, 1), 0.0)
    hs = np.arange(1, h + 1)[None, :]
    a = alpha[:, None]
    drift_term = 0.5 * b0[:, None] * (hs - 1 + 1 / a - (1 - a) ** n[:, None] / a)
    f = _future(mult, n, m, h)
    mean = (level[:, None] + drift_term) * f + _future(add, n, m, h)
    sigma = sd[:, None] * np.sqrt(1 + a**2 * (hs - 1)) * f
    return Fit(mean, sigma, np.stack([alpha, b0], axis=1))
