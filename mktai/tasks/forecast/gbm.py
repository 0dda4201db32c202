"""A global gradient-boosting model over all series (the approach that won M5).

One scikit-learn HistGradientBoostingRegressor is trained on every series at once: each row is
one period of one series, scaled by the series' mean absolute level so that big and small series
share a model; features are the last m lags and the lag 2m back and the mean of the last m
periods, all divided by the series' mean of the last 4m periods (its local level, which is also
what the target is divided by), the calendar position in the season (from the series' real start
date, so Mondays line up across series) and the exogenous regressors of that period. The forecast is recursive:
each step's prediction feeds the lags of the next. Intervals come from backtest residuals
(conformal); the model's own sigma is the in-sample residual spread, a rough fallback.
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.simple import Fit

MAX_ROWS = 400_000
MAX_RATIO = 10.0


def _features(Z: np.ndarray, t: np.ndarray, m: int, phase: np.ndarray,
              X: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Features for target position t[i] of series i, and the local level they are scaled by.

    Every lag and rolling mean is divided by the mean of the last 4m values, so the trees see
    shapes, not levels: a seasonal peak above anything in the history is still in range.
    """
    rows = np.arange(len(t))
    window = max(4 * m, 8)
    idx = t[:, None] - np.arange(1, window + 1)[None, :]
    recent = np.where(idx >= 0, Z[rows[:, None], np.maximum(idx, 0)], np.nan)
    with np.errstate(all="ignore"):
        level = np.nanmean(recent, axis=1)
    # Z is scaled to a mean |value| of 1 per series: a floor of 0.1 keeps the ratios of an
    # intermittent series' empty weeks bounded
    level = np.where(np.isfinite(level), np.maximum(level, 0.1), 1.0)
    cols = []
    for lag in [*range(1, max(m, 2) + 1), *([2 * m] if 2 * m > max(m, 2) else [])]:
        cols.append(Z[rows, np.maximum(t - lag, 0)] / level)
    with np.errstate(all="ignore"):
        cols.append(np.nanmean(recent[:, : max(m, 2)], axis=1) / level)
    cols.append(((t + phase) % max(m, 1)).astype(float))
    out = np.stack(cols, axis=1)
    if X is not None and X.shape[2]:
        ex = X[rows, np.minimum(t, X.shape[1] - 1)]
        out = np.concatenate([out, ex], axis=1)
    return out, level


def fit(Y, n, m, h, X=None, seed=0, phase=None, **_) -> Fit:
    from sklearn.ensemble import HistGradientBoostingRegressor

    N, T = Y.shape
    phase = np.zeros(N, int) if phase is None else np.asarray(phase)
    mask = np.arange(T)[None, :] < n[:, None]
    with np.errstate(all="ignore"):
        scale = np.where(mask, np.abs(Y), 0).sum(axis=1) / np.maximum(n, 1)
    scale = np.where(scale > 0, scale, 1.0)
    Z = np.zeros((N, T + h))
    Z[:, :T] = np.where(mask, np.nan_to_num(Y), 0) / scale[:, None]
    Xs = None
    if X is not None and X.shape[2]:
        Xs = np.zeros((N, T + h, X.shape[2]))
        width = min(T + h, X.shape[1])
        Xs[:, :width] = np.nan_to_num(X[:, :width])
    first = max(2 * m, 2)
    feats, target = [], []
    for t in range(first, T):
        rows = np.flatnonzero(n > t)
        if not len(rows):
            continue
        tt = np.full(len(rows), t)
        f, level = _features(Z[rows], tt, m, phase[rows], None if Xs is None else Xs[rows])
        feats.append(f)
        target.append(np.clip(Z[rows, t] / level, -MAX_RATIO, MAX_RATIO))
    if not feats:
        nan = np.full((N, h), np.nan)
        return Fit(nan, nan.copy())
    F, y = np.concatenate(feats), np.concatenate(target)
    if len(y) > MAX_ROWS:  # keep the most recent rows
        F, y = F[-MAX_ROWS:], y[-MAX_ROWS:]
    model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=31,
                                          min_samples_leaf=20, l2_regularization=1.0,
                                          random_state=seed)  # fmt: skip
    model.fit(F, y)
    resid_sd = float(np.std(y - model.predict(F)))
    nonneg = bool(np.all(np.where(mask, Y, 0) >= 0))
    Z[:, T:] = 0.0
    # each series continues at its own end n[i]
    preds = np.zeros((N, h))
    work = Z.copy()
    for k in range(h):
        t = n + k
        f, level = _features(work, t, m, phase, Xs)
        ratio = np.clip(model.predict(f), 0 if nonneg else -MAX_RATIO, MAX_RATIO)
        p = ratio * level
        preds[:, k] = p
        work[np.arange(N), t] = p
    mean = preds * scale[:, None]
    sigma = resid_sd * scale[:, None] * np.sqrt(np.arange(1, h + 1))[None, :]
    too_short = n < first + 2
    mean[too_short] = np.nan
    return Fit(mean, sigma)
