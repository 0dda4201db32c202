"""The seeds' linear model: trend + Fourier seasonality + exogenous regressors, per series.

One batched least-squares solve for all series (normal equations with a small ridge so a
regressor that never varies in a series, e.g. a shop that is always open, cannot break it).
Fourier terms are in each series' own time (left-aligned), so the per-series coefficients absorb
the phase; exogenous columns are standardised per series before the solve.
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.simple import Fit, tsum

RIDGE = 1e-6


def fourier(T: int, m: int, terms: int | None = None) -> np.ndarray:
    """(T, 2K) sin/cos pairs of period m (the zero sin of K = m/2 dropped)."""
    if m <= 1:
        return np.zeros((T, 0))
    K = terms if terms is not None else min(m // 2, 10)
    t = np.arange(T, dtype=float)
    cols = []
    for k in range(1, K + 1):
        cols.append(np.cos(2 * np.pi * k * t / m))
        if not (m % 2 == 0 and 2 * k == m):
            cols.append(np.sin(2 * np.pi * k * t / m))
    return np.stack(cols, axis=1)


def design(T: int, m: int, seasonal: bool, n: np.ndarray) -> np.ndarray:
    """(N, T, p): intercept, trend in each series' own time (0 at its last period, 1 per n
    periods, so nothing depends on the batch's padding), Fourier terms."""
    t = (np.arange(T, dtype=float)[None, :] - (n[:, None] - 1)) / np.maximum(n, 1)[:, None]
    parts = [np.ones((len(n), T, 1)), t[..., None]]
    if seasonal:
        F = fourier(T, m)
        parts.append(np.broadcast_to(F[None], (len(n), *F.shape)))
    return np.concatenate(parts, axis=2)


def _by_length(n: np.ndarray):
    """Rows grouped by length: products summed over exactly a series' own periods give the
    same numbers in any batch (a sum over the padded width may round differently)."""
    for length in np.unique(n):
        yield int(length), np.flatnonzero(n == length)


def half_life(m: int, h: int) -> float:
    """Discounting of old periods: recent behaviour matters most for the next h periods."""
    return float(max(8 * max(m, 1), 3 * h))


def fit(Y, n, m, h, X=None, **_) -> Fit:
    """Forecast with trend + Fourier(m) [+ X]; X is (N, >= max(n)+h, k) left-aligned.

    Discounted least squares (Brown): weights halve every `half_life` periods back from each
    series' end, so the trend and level are local (a year-long linear trend misses a Q4 peak).
    """
    N, T = Y.shape
    width = T + h
    seasonal = m > 1
    Z = design(width, m, seasonal, n)
    if X is not None and X.shape[2]:
        Xw = np.zeros((N, width, X.shape[2]))
        Xw[:, : min(width, X.shape[1])] = np.nan_to_num(X[:, :width])
        mask = np.arange(width)[None, :] < n[:, None]
        cnt = np.maximum(mask.sum(axis=1), 1)[:, None]
        mean = np.stack([tsum(np.where(mask, Xw[..., c], 0)) for c in range(Xw.shape[2])], 1) / cnt
        dev = np.where(mask[..., None], (Xw - mean[:, None]) ** 2, 0)
        sd = np.sqrt(np.stack([tsum(dev[..., c]) for c in range(Xw.shape[2])], 1) / cnt)
        Xs = (Xw - mean[:, None]) / np.where(sd > 0, sd, 1)[:, None]
        Z = np.concatenate([Z, Xs], axis=2)
    p = Z.shape[2]
    age = n[:, None] - 1 - np.arange(width)[None, :]
    weight = np.where(age >= 0, 0.5 ** (np.maximum(age, 0) / half_life(m, h)), 0.0)
    mask = (np.arange(width)[None, :] < n[:, None]).astype(float)
    Yw = np.zeros((N, width))
    Yw[:, :T] = np.nan_to_num(Y)
    Zm = Z * weight[..., None]
    A = RIDGE * np.eye(p)[None] * np.maximum(n, 1)[:, None, None]
    b = np.zeros((N, p))
    for length, rows in _by_length(n):
        Zr = np.ascontiguousarray(Zm[rows, :length].transpose(0, 2, 1))  # (rows, p, length)
        A[rows] += Zr @ np.ascontiguousarray(Z[rows, :length])
        b[rows] = (Zr @ np.ascontiguousarray(Yw[rows, :length])[..., None])[..., 0]
    coef = np.linalg.solve(A, b[..., None])[..., 0]
    fitted = (Z * coef[:, None, :]).sum(axis=2)
    resid = (Yw - fitted) * mask
    dof = np.maximum(n - p, 1)
    sd = np.sqrt(tsum(resid**2) / dof)
    idx = n[:, None] + np.arange(h)[None, :]
    mean = np.take_along_axis(fitted, idx, axis=1)
    too_short = n < p + 2
    mean[too_short] = np.nan
    sigma = np.repeat((sd * np.sqrt(1 + p / np.maximum(n, 1)))[:, None], h, axis=1)
    return Fit(mean, sigma, coef)
