"""Forecast accuracy measures (the M4 conventions), on (series x horizon) arrays with NaN gaps.

MASE scales the mean absolute error by the in-sample MAE of the seasonal naive forecast
(lag m, lag 1 when the history is shorter than m + 1); RMSSE (the M5 measure) scales the RMSE by
the in-sample root mean squared seasonal difference; sMAPE is 200 |y - f| / (|y| + |f|) with 0/0
counted as 0; OWA is the mean of sMAPE and MASE relative to Naive2. Interval coverage is the
share of actuals inside [lo, hi]; its gate-able distance to nominal is `coverage_error_XX`
(|coverage - level|, lower is better). Per-series values are averaged over series, as in M4.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """np.nanmean without the all-NaN RuntimeWarning (a series without actuals is NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def scales(Y: np.ndarray, n: np.ndarray, m: int, power: int = 1) -> np.ndarray:
    """In-sample mean |y_t - y_{t-lag}|**power per left-aligned series (lag m, or 1 if short)."""
    N, T = Y.shape
    out = np.full(N, np.nan)
    t = np.arange(T)[None, :]
    for lag in sorted({1, max(m, 1)}):
        if lag >= T:
            continue
        d = np.abs(Y[:, lag:] - Y[:, :-lag]) ** power
        inside = t[:, lag:] < n[:, None]
        cnt = inside.sum(axis=1)
        with np.errstate(all="ignore"):
            # summed in time order: a series' scale is the same whatever the padding
            val = np.cumsum(np.where(inside, d, 0), axis=1)[:, -1] / cnt
        use = (n > lag) if lag == 1 else (n > lag + 1)
        use = use & (cnt > 0)
        out = np.where(use, val, out)
    return out


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def per_series(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray,
               scale2: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """mase, smape, rmsse per series (NaN where the series has no actuals)."""
    err = actual - forecast
    with np.errstate(all="ignore"):
        mae = nanmean(np.abs(err), axis=1)
        mse = nanmean(err**2, axis=1)
        denom = np.abs(actual) + np.abs(forecast)
        sm = np.where(denom > 0, 200 * np.abs(err) / np.where(denom > 0, denom, 1), 0.0)
        sm = np.where(np.isfinite(err), sm, np.nan)
        smape = nanmean(sm, axis=1)
    return {
        "mase": _safe_div(mae, scale),
        "smape": smape,
        "rmsse": np.sqrt(_safe_div(mse, scale2)),
    }


def coverage(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Share of actuals inside [lo, hi] per series."""
    inside = np.where(np.isfinite(actual), ((actual >= lo) & (actual <= hi)).astype(float), np.nan)
    with np.errstate(all="ignore"):
        return nanmean(inside, axis=1)


def winkler(actual, lo, hi, level: float) -> np.ndarray:
    """Winkler (interval) score: width plus 2/alpha times the miss, mean per series."""
    alpha = 1 - level
    score = (hi - lo) + (2 / alpha) * (np.maximum(lo - actual, 0) + np.maximum(actual - hi, 0))
    with np.errstate(all="ignore"):
        return nanmean(score, axis=1)


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.mean(finite)) if finite.size else None


def summary(
    actual: np.ndarray,
    forecast: np.ndarray,
    scale: np.ndarray,
    scale2: np.ndarray,
    *,
    naive2: np.ndarray | None = None,
    intervals: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """The flat metric map: mase, smape, rmsse, owa, coverage_XX, coverage_error_XX, series."""
    ps = per_series(actual, forecast, scale, scale2)
    has = np.isfinite(actual).any(axis=1)
    out: dict[str, Any] = {k: _mean(v[has]) for k, v in ps.items()}
    if naive2 is not None:
        ref = per_series(actual, naive2, scale, scale2)
        sm_ref, mase_ref = _mean(ref["smape"][has]), _mean(ref["mase"][has])
        if out["smape"] is not None and out["mase"] is not None and sm_ref and mase_ref:
            out["owa"] = 0.5 * (out["smape"] / sm_ref + out["mase"] / mase_ref)
        else:
            out["owa"] = None
    for level, (lo, hi) in (intervals or {}).items():
        inside = (actual >= lo) & (actual <= hi)
        valid = np.isfinite(actual) & np.isfinite(lo) & np.isfinite(hi)
        cov = float(inside[valid].mean()) if valid.any() else None
        out[f"coverage_{level}"] = cov
        out[f"coverage_error_{level}"] = None if cov is None else abs(cov - level / 100)
    out["series"] = int(has.sum())
    out["points"] = int(np.isfinite(actual).sum())
    return out
