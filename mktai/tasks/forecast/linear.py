"""The seeds' linear model: trend + Fourier seasonality + exogenous regressors, per series.

One batched least-squares solve for all series (normal equations with a small ridge so a
regressor that never varies in a series, e.g. a shop that is always open, cannot break it).
Fourier terms are in each series' own time (left-aligned), so the per-series coefficients absorb
the phase; exogenous columns are standardised per series before the solve.
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.simple import Fit

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


def design(T: int, m: int, seasonal: bool) -> np.ndarray:
    t = np.arange(T, dtype=float)[:, None] / max(T, 1)
    parts = [np.ones((T, 1)), t]
    if seasonal:
        parts.append(fourier(T, m))
    return np.concatenate(parts, axis=1)


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
    base = design(width, m, seasonal)
    Z = np.broadcast_to(base[None], (N, width, base.shape[1]))
    if X is not None and X.shape[2]:
        Xw = np.zeros((N, width, X.shape[2]))
        Xw[:, : min(width, X.shape[1])] = np.nan_to_num(X[:, :width])
        mask = np.arange(width)[None, :] < n[:, None]
        cnt = np.maximum(mask.sum(axis=1), 1)[:, None]
        mean = np.where(mask[..., None], Xw, 0).sum(axis=1) / cnt
        sd = np.sqrt(np.where(mask[..., None], (Xw - mean[:, None]) ** 2, 0).sum(axis=1) / cnt)
        Xs = (Xw - mean[:, None]) / np.where(sd > 0, sd, 1)[:, None]
        Z = np.concatenate([Z, Xs], axis=2)
    p = Z.shape[2]
    age = n[:, None] - 1 - np.arange(width)[None, :]
    weight = np.where(age >= 0, 0.5 ** (np.maximum(age, 0) / half_life(m, h)), 0.0)
    mask = (np.arange(width)[None, :] < n[:, None]).astype(float)
    Yw = np.zeros((N, width))
    Yw[:, :T] = np.nan_to_num(Y)
    Zm = Z * weight[..., None]
    A = np.einsum("ntp,ntq->npq", Zm, Z) + RIDGE * np.eye(p)[None] * np.maximum(n, 1)[:, None, None]
    b = np.einsum("ntp,nt->np", Zm, Yw)
    coef = np.linalg.solve(A, b[..., None])[..., 0]
    fitted = np.einsum("ntp,np->nt", Z, coef)
    resid = (Yw - fitted) * mask
    dof = np.maximum(n - p, 1)
    sd = np.sqrt((resid**2).sum(axis=1) / dof)
    idx = n[:, None] + np.arange(h)[None, :]
    mean = np.take_along_axis(fitted, idx, axis=1)
    too_short = n < p + 2
    mean[too_short] = np.nan
    sigma = np.repeat((sd * np.sqrt(1 + p / np.maximum(n, 1)))[:, None], h, axis=1)
    return Fit(mean, sigma, coef)
