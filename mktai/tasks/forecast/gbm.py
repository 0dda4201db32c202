"""A global gradient-boosting model over all series (the approach that won M5).

One scikit-learn HistGradientBoostingRegressor is trained on every series at once: each row is
one period of one series, scaled by the series' mean absolute level so that big and small series
share a model; features are the last m lags, the lags m and 2m back, rolling means over m and
4m periods, the calendar position in the season (from the series' real start date, so Mondays
line up across series) and the exogenous regressors of that period. The forecast is recursive:
each step's prediction feeds the lags of the next. Intervals come from backtest residuals
(conformal); the model's own sigma is the in-sample residual spread, a rough fallback.
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.simple import Fit

MAX_ROWS = 400_000


def _features(Z: np.ndarray, t: np.ndarray, m: int, phase: np.ndarray,
              X: np.ndarray | None) -> np.ndarray:  # fmt: skip
    """(len(t), F) features for target position t[i] of series i (rows of Z)."""
    rows = np.arange(len(t))
    L = max(m, 2)
    cols = []
    for lag in range(1, L + 1):
        cols.append(Z[rows, np.maximum(t - lag, 0)])
    for lag in (2 * m,):
        if lag > L:
            cols.append(Z[rows, np.maximum(t - lag, 0)])
    for window in (m, 4 * m):
        window = max(window, 2)
        idx = t[:, None] - np.arange(1, window + 1)[None, :]
        vals = Z[rows[:, None], np.maximum(idx, 0)]
        vals = np.where(idx >= 0, vals, np.nan)
        with np.errstate(all="ignore"):
            cols.append(np.nanmean(vals, axis=1) if vals.size else np.zeros(len(t)))
    cols.append(((t + phase) % max(m, 1)).astype(float))
    cols.append(t.astype(float) / 1000.0)
    out = np.stack(cols, axis=1)
    if X is not None and X.shape[2]:
        ex = X[rows, np.minimum(t, X.shape[1] - 1)]
        out = np.concatenate([out, ex], axis=1)
    return out


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
        feats.append(_features(Z[rows], tt, m, phase[rows], None if Xs is None else Xs[rows]))
        target.append(Z[rows, t])
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
    Z[:, T:] = 0.0
    # each series continues at its own end n[i]
    preds = np.zeros((N, h))
    work = Z.copy()
    for k in range(h):
        t = n + k
        f = _features(work, t, m, phase, Xs)
        p = model.predict(f)
        preds[:, k] = p
        work[np.arange(N), t] = p
    mean = preds * scale[:, None]
    sigma = resid_sd * scale[:, None] * np.sqrt(np.arange(1, h + 1))[None, :]
    too_short = n < first + 2
    mean[too_short] = np.nan
    return Fit(mean, sigma)
