"""Rolling-origin fits of every candidate model, per-series choice, conformal intervals.

Origin 0 is the forecast itself (all history); origin j >= 1 cuts the last j*h periods of each
series and keeps them as truth. Because series are left-aligned, an origin is only a smaller
length vector n - j*h: the same arrays serve every origin. `auto` at origin j chooses per series
the candidate with the lowest mean MASE over origins j+1..j+K (all strictly before origin j's
window), so a backtest of `auto` never sees its own test window. Conformal intervals at origin j
use the scaled absolute errors of the same earlier origins, pooled over series per horizon step.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mktai.evaluation import forecast_metrics as fm
from mktai.tasks.forecast import ets, linear, simple
from mktai.tasks.forecast.simple import Fit

BASE_MODELS = ("naive", "snaive", "drift", "ets", "theta", "arima", "linear", "gbm")
# comb: the mean of ETS, ARIMA and the seeds' linear model (trend + Fourier): chosen on the 8
# rolling origins before the holdout of benchmarks/forecast.py's 24 real series, mean MASE 1.197
# against 1.218 for the former median of ETS, theta and ARIMA (holdout 1.261 against 1.317).
COMBINED = ("ets", "arima", "linear")
# auto: the same members weighted per series by their rolling-origin backtest (see weighted()).
WEIGHTED = "wcomb"
WEIGHT_POWER = 2  # Bates & Granger (1969): weights proportional to the inverse error variance
# The statistical candidates of the M4 leaders; naive and seasonal naive are the references, not
# candidates: with them in, the two-best choice on three origins picked a lucky baseline often
# enough to lose to ETS alone (24 real series of benchmarks/forecast.py: mean MASE 1.429 with
# them, 1.331 without, ETS 1.335).
AUTO_CANDIDATES = ("ets", "theta", "arima", "comb")
WITH_REGRESSORS = ("linear", "gbm")  # auto candidates too when --exog gives regressors
MIN_LENGTH = 3


def _ets(Y, n, m, h, fixed=None, **_) -> Fit:
    kwargs = {}
    if fixed is not None:
        kwargs = {"fixed_form": fixed["form"], "fixed_params": fixed["params"]}
    res = ets.fit(Y, n, m, h, **kwargs)
    out = Fit(res.mean, res.sigma, res.params)
    out.form = res.form  # type: ignore[attr-defined]
    return out


def _arima(Y, n, m, h, **kw) -> Fit:
    from mktai.tasks.forecast import arima

    return arima.fit(Y, n, m, h, **kw)


def _gbm(Y, n, m, h, **kw) -> Fit:
    from mktai.tasks.forecast import gbm

    return gbm.fit(Y, n, m, h, **kw)


FITTERS: dict[str, Callable[..., Fit]] = {
    "naive": simple.naive,
    "snaive": simple.snaive,
    "drift": simple.drift,
    "naive2": simple.naive2,
    "theta": simple.theta,
    "ets": _ets,
    "linear": linear.fit,
    "arima": _arima,
    "gbm": _gbm,
}


def available() -> tuple[str, ...]:
    """Base models built in this version (arima / gbm when their modules exist)."""
    import importlib.util

    out = []
    for name in BASE_MODELS:
        optional = name in ("arima", "gbm")
        if optional and importlib.util.find_spec(f"mktai.tasks.forecast.{name}") is None:
            continue
        out.append(name)
    return tuple(out)


def candidates(exog: bool) -> tuple[str, ...]:
    """What auto chooses among: the regression models join when regressors are given."""
    return AUTO_CANDIDATES + (WITH_REGRESSORS if exog else ())


def members(exog: bool) -> tuple[str, ...]:
    """The members of auto's weighted combination: the global GBM joins with regressors."""
    return COMBINED + (("gbm",) if exog else ())


def models_for(algorithm: str, exog: bool = False) -> tuple[str, ...]:
    """The base models an algorithm needs fitted, plus the reference baselines."""
    built = available()
    if algorithm == "auto":
        need = [m for m in candidates(exog) if m in built]
        need += [m for m in members(exog) if m in built]
    elif algorithm == "comb":
        need = [m for m in COMBINED if m in built]
    else:
        need = [algorithm]
    # the references: naive2 for OWA, naive as the fallback, seasonal naive for the tables
    return tuple(dict.fromkeys([*need, "naive2", "naive", "snaive"]))


@dataclass
class Origins:
    """Fits at every origin: fits[j][model] -> Fit, truth[j] (N, h), n[j], scale[j]."""

    h: int
    m: int
    fits: list[dict[str, Fit]] = field(default_factory=list)
    n: list[np.ndarray] = field(default_factory=list)
    truth: list[np.ndarray | None] = field(default_factory=list)
    scale: list[np.ndarray] = field(default_factory=list)
    scale2: list[np.ndarray] = field(default_factory=list)
    raw: dict[str, np.ndarray] = field(default_factory=dict)  # origin-0 means before clipping
    weights: list[np.ndarray] = field(default_factory=list)  # per origin (N, members) of wcomb


def _truth(Y: np.ndarray, n_o: np.ndarray, n_full: np.ndarray, h: int) -> np.ndarray:
    idx = n_o[:, None] + np.arange(h)[None, :]
    inside = idx < n_full[:, None]
    vals = np.take_along_axis(Y, np.clip(idx, 0, Y.shape[1] - 1), axis=1)
    return np.where(inside, vals, np.nan)


GLOBAL_MODELS = ("gbm",)  # trained across series: fitted per origin, on that origin's data only
BLOCK_ROWS = 2000  # (series x origin) rows per block of stacked fits: the unit of parallel work


def _jobs(cells: int, blocks: int) -> int:
    """Worker processes: MKTAI_JOBS, else the cores (2 at most) for big panels."""
    import os

    wanted = os.environ.get("MKTAI_JOBS")
    if wanted and wanted.isdigit():
        return max(1, min(int(wanted), blocks))
    if cells < 100_000 or blocks < 2:
        return 1
    return max(1, min(os.cpu_count() or 1, 2, blocks))


def _fit_rows(Y, n_rows, series, m, h, models, X, seed, phase) -> dict[str, Fit]:
    """Every model on the rows (series[i] cut to n_rows[i]): one batch, whatever the origins."""
    Yr = Y[series, : int(n_rows.max())]
    extra: dict[str, Any] = {"X": X[series] if X is not None else None, "seed": seed}
    if phase is not None:
        extra["phase"] = phase[series]
    return {name: FITTERS[name](Yr, n_rows, m, h, **extra) for name in models}


def _fit_stacked(Y, n_all, m, h, models, X, seed, phase, progress) -> list[dict[str, Fit]]:
    """Per-series models at every origin at once: the origins are stacked as extra rows.

    Each series' fit depends only on its own values (no model here pools series), so stacking
    the origins, and splitting the rows into blocks for worker processes, changes nothing but
    the speed: one batch per block instead of one per origin, and a block's fixed costs (time
    loops, per-step overhead) shared by every origin.
    """
    N, tasks = len(n_all[0]), len(n_all)
    n_stack = np.concatenate(n_all)
    rows = np.flatnonzero(n_stack >= MIN_LENGTH)
    # longest rows first, dealt round-robin, so that blocks cost about the same
    rows = rows[np.argsort(-n_stack[rows], kind="stable")]
    count = max(1, -(-len(rows) // BLOCK_ROWS))
    blocks = [np.sort(rows[i::count]) for i in range(count)] if len(rows) else []
    args = [(Y, n_stack[b], b % N, m, h, models, X, seed, phase) for b in blocks]
    jobs = _jobs(Y.size * tasks, len(blocks))
    if jobs > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs, return_as="generator")(delayed(_fit_rows)(*a) for a in args)
    else:
        results = (_fit_rows(*a) for a in args)
    parts = []
    done = 0
    for block, fits in zip(blocks, results, strict=True):
        parts.append((block, fits))
        done += len(block)
        if progress is not None:
            progress("series", min(N, done // tasks), N)
    out = []
    for j in range(tasks):
        fits = {}
        for name in models:
            pieces = [(b, f[name]) for b, f in parts]
            fits[name] = _collect(pieces, j * N, N, h)
        out.append(fits)
    return out


def _collect(pieces: list[tuple[np.ndarray, Fit]], offset: int, N: int, h: int) -> Fit:
    """The Fit of stacked rows offset..offset+N-1 from the blocks (NaN where not fitted)."""
    mean, sigma = np.full((N, h), np.nan), np.full((N, h), np.nan)
    params, form = None, None
    for rows, fit in pieces:
        inside = (rows >= offset) & (rows < offset + N)
        at = rows[inside] - offset
        mean[at], sigma[at] = fit.mean[inside], fit.sigma[inside]
        if fit.params is not None:
            if params is None:
                params = np.full((N, *fit.params.shape[1:]), np.nan)
            params[at] = fit.params[inside]
        f = getattr(fit, "form", None)
        if f is not None:
            if form is None:
                form = np.full(N, "", dtype=f.dtype)
            form[at] = f[inside]
    out = Fit(mean, sigma, params)
    if form is not None:
        out.form = form  # type: ignore[attr-defined]
    return out


def _fit_origin(Y, n_o, m, h, models, X, seed, phase, fixed) -> dict[str, Fit]:
    """Every model at one origin (n_o), expanded back to all series (NaN where too short)."""
    N = len(n_o)
    fits: dict[str, Fit] = {}
    ok = n_o >= MIN_LENGTH
    if ok.any():
        rows = np.flatnonzero(ok)
        Yj = Y[rows, : int(n_o[rows].max())]
        Xj = X[rows] if X is not None else None
        for name in models:
            extra: dict[str, Any] = {"X": Xj, "seed": seed}
            if phase is not None:
                extra["phase"] = phase[rows]
            if fixed is not None and name in fixed:
                extra["fixed"] = {k: v[rows] for k, v in fixed[name].items()}
            fits[name] = _expand(FITTERS[name](Yj, n_o[rows], m, h, **extra), rows, N, h)
    for name in models:
        fits.setdefault(name, Fit(np.full((N, h), np.nan), np.full((N, h), np.nan)))
    return fits


def fit_origins(
    Y: np.ndarray,
    n: np.ndarray,
    m: int,
    h: int,
    models: tuple[str, ...],
    origins: int,
    *,
    X: np.ndarray | None = None,
    nonneg: np.ndarray | None = None,
    seed: int = 0,
    fixed: dict[str, Any] | None = None,
    phase: np.ndarray | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Origins:
    """Fit `models` at origin 0 and `origins` earlier ones (step h).

    Per-series models are fitted for every origin in one stacked batch (_fit_stacked); global
    models (gbm) and models re-run with stored parameters (`fixed`, origin 0 only) per origin.
    Each series' result does not depend on the others, on the blocks or on the workers.
    """
    out = Origins(h=h, m=m)
    tasks = origins + 1
    n_all = [n - j * h for j in range(tasks)]
    stacked = tuple(name for name in models
                    if name not in GLOBAL_MODELS and not (fixed and name in fixed))  # fmt: skip
    single = tuple(name for name in models if name not in stacked)
    per_origin: list[dict[str, Fit]] = [{} for _ in range(tasks)]
    if stacked:
        for j, fits in enumerate(_fit_stacked(Y, n_all, m, h, stacked, X, seed, phase, progress)):
            per_origin[j].update(fits)
    for j in range(tasks):
        if single:
            per_origin[j].update(_fit_origin(Y, n_all[j], m, h, single, X, seed, phase,
                                             fixed if j == 0 else None))  # fmt: skip
    for j, fits in enumerate(per_origin):
        fits = {name: fits[name] for name in models}
        n_o = n_all[j]
        for name in models:
            if j == 0:
                out.raw[name] = fits[name].mean.copy()
            if nonneg is not None:
                fits[name].mean = np.where(nonneg[:, None], np.maximum(fits[name].mean, 0),
                                           fits[name].mean)  # fmt: skip
        _add_comb(fits)
        out.fits.append(fits)
        out.n.append(n_o)
        out.truth.append(None if j == 0 else _truth(Y, n_o, n, h))
        out.scale.append(fm.scales(Y, np.maximum(n_o, 0), m))
        out.scale2.append(fm.scales(Y, np.maximum(n_o, 0), m, power=2))
    return out


def _expand(fit: Fit, rows: np.ndarray, N: int, h: int) -> Fit:
    mean = np.full((N, h), np.nan)
    sigma = np.full((N, h), np.nan)
    mean[rows], sigma[rows] = fit.mean, fit.sigma
    params = None
    if fit.params is not None:
        params = np.full((N, *fit.params.shape[1:]), np.nan)
        params[rows] = fit.params
    out = Fit(mean, sigma, params)
    form = getattr(fit, "form", None)
    if form is not None:
        full = np.full(N, "", dtype=form.dtype)
        full[rows] = form
        out.form = full  # type: ignore[attr-defined]
    return out


def _add_comb(fits: dict[str, Fit]) -> None:
    """The combination: the equal-weight mean of COMBINED where each member exists (M4's
    leaders combined ETS, ARIMA and theta; here the linear model replaces theta, see COMBINED).
    """
    parts = [fits[name] for name in COMBINED if name in fits]
    if len(parts) < 2:
        return
    stack = np.stack([f.mean for f in parts])
    sig = np.stack([f.sigma for f in parts])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN, as intended
        mean = np.nanmean(stack, axis=0)
        sigma = np.nanmean(sig, axis=0)
    fits["comb"] = Fit(mean, sigma)


def weighted(org: Origins, K: int, names: tuple[str, ...],
             fixed: np.ndarray | None = None) -> None:  # fmt: skip
    """Add `wcomb` at every origin j: the members weighted per series by 1 / MASE^2 over the
    backtest origins j+1..j+K (strictly before origin j's window).

    Why weights and not a pick: on 24 real series, choosing per series by three origins (the
    best, or the mean of the two best) lost to the plain combination; weights use the same
    evidence without betting the whole forecast on a noisy ranking (holdout MASE 1.260 against
    1.261 equal and 1.285 two-best; mean over three earlier origins 1.161 against 1.174).
    A member without a backtest score (origins too short) gets the worst score of the others;
    no score at all: equal weights. fixed: (N, members) stored weights for origin 0.
    """
    present = [m for m in names if all(m in f for f in org.fits)]
    if not present:
        return
    for j in range(len(org.fits)):
        stack = np.stack([org.fits[j][m].mean for m in present])  # (M, N, h)
        sig = np.stack([org.fits[j][m].sigma for m in present])
        ok = np.isfinite(stack).all(axis=2)
        later = list(range(j + 1, min(j + K, len(org.fits) - 1) + 1))
        score = np.full(ok.shape, np.nan)
        for mi, m in enumerate(present):
            if later:
                vals = np.stack([mase_at(org, k, m) for k in later])
                score[mi] = fm.nanmean(np.where(np.isfinite(vals), vals, np.nan), axis=0)
        score = np.where(np.isfinite(score) & (score >= 0), score, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            worst = np.nanmax(np.where(ok, score, np.nan), axis=0)
        score = np.where(np.isnan(score), worst[None, :], score)
        score = np.where(np.isnan(score), 1.0, score)  # nothing scored: equal weights
        w = np.where(ok, 1.0 / np.maximum(score, 1e-6) ** WEIGHT_POWER, 0.0)
        if fixed is not None and j == 0:
            w = np.where(ok, fixed.T[: len(present)], 0.0)
        total = w.sum(axis=0)
        with np.errstate(all="ignore"):
            w = np.where(total > 0, w / np.where(total > 0, total, 1.0), np.nan)
        wz = np.nan_to_num(w)[..., None]
        mean = np.where(total[:, None] > 0, (wz * np.nan_to_num(stack)).sum(axis=0), np.nan)
        sigma = np.where(total[:, None] > 0, (wz * np.nan_to_num(sig)).sum(axis=0), np.nan)
        org.fits[j][WEIGHTED] = Fit(mean, sigma)
        org.weights.append(w.T)
        if j == 0 and all(m in org.raw for m in present):
            raw = np.stack([org.raw[m] for m in present])
            org.raw[WEIGHTED] = (wz * np.nan_to_num(raw)).sum(axis=0)


def has(org: Origins, j: int, name: str) -> bool:
    return all(part in org.fits[j] for part in name.split("+"))


def fit_at(org: Origins, j: int, name: str) -> Fit:
    """The fit of `name` at origin j; "a+b" is the mean of a and b (built once, cached)."""
    fits = org.fits[j]
    if name not in fits:
        parts = [fits[p] for p in name.split("+")]
        fits[name] = Fit(np.mean([p.mean for p in parts], axis=0),
                         np.mean([p.sigma for p in parts], axis=0))  # fmt: skip
    return fits[name]


def errors(org: Origins, j: int, model: str) -> np.ndarray:
    """Scaled absolute errors (N, h) of `model` at origin j >= 1."""
    truth = org.truth[j]
    assert truth is not None
    scale = org.scale[j]
    with np.errstate(all="ignore"):
        return (
            np.abs(truth - fit_at(org, j, model).mean) / np.where(scale > 0, scale, np.nan)[:, None]
        )


def mase_at(org: Origins, j: int, model: str) -> np.ndarray:
    truth = org.truth[j]
    assert truth is not None
    ps = fm.per_series(truth, fit_at(org, j, model).mean, org.scale[j], org.scale2[j])
    return ps["mase"]


def choose(org: Origins, j: int, K: int, candidates: tuple[str, ...],
           fallback: str = "ets", top: int = 2) -> np.ndarray:  # fmt: skip
    """Per series, the mean of the `top` candidates with the lowest mean MASE over origins
    j+1..j+K ("ets+naive"); top=1 is plain selection.

    Averaging the two best (rather than taking the best) is what made the choice robust on
    noisy retail series: the single best of three origins is often best by luck.
    """
    N = len(org.n[0])
    present = [c for c in candidates if c in org.fits[j]]
    later = [k for k in range(j + 1, min(j + K, len(org.fits) - 1) + 1)]
    score = np.full((len(present), N), np.inf)
    if later:
        for ci, name in enumerate(present):
            vals = np.stack([mase_at(org, k, name) for k in later])
            with np.errstate(all="ignore"):
                mean = fm.nanmean(np.where(np.isfinite(vals), vals, np.nan), axis=0)
            ok = np.isfinite(org.fits[j][name].mean).all(axis=1)
            score[ci] = np.where(np.isfinite(mean) & ok, mean, np.inf)
    pick = score.argmin(axis=0) if present else np.zeros(N, int)
    names = np.array(present or [fallback], dtype="<U40")[pick]
    if top > 1 and len(present) > 1:
        order = np.argsort(score, axis=0, kind="stable")
        second = order[1]
        ok2 = np.isfinite(score[second, np.arange(N)])
        for i in np.flatnonzero(ok2):
            pair = sorted((order[0, i], second[i]))
            names[i] = "+".join(present[k] for k in pair)
    none = ~np.isfinite(score.min(axis=0)) if present else np.ones(N, bool)
    if none.any():
        fb = fallback if fallback in org.fits[j] else "naive"
        good = np.isfinite(org.fits[j][fb].mean).all(axis=1)
        names[none] = np.where(good[none], fb, "naive")
    return names


def gather(org: Origins, j: int, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and sigma of each series' chosen model at origin j."""
    N, h = len(names), org.h
    mean, sigma = np.full((N, h), np.nan), np.full((N, h), np.nan)
    for name in np.unique(names):
        rows = names == name
        fit = fit_at(org, j, str(name))
        mean[rows] = fit.mean[rows]
        sigma[rows] = fit.sigma[rows]
    return mean, sigma


def conformal_quantiles(org: Origins, j: int, K: int, model: str,
                        levels: tuple[int, ...]) -> dict[int, np.ndarray] | None:  # fmt: skip
    """Per-step quantiles (h,) of scaled |error| of `model` over origins j+1..j+K, all series.

    Few errors per step (< 30) pool the steps as |e| / sqrt(step); fewer than 8 in all: None
    (the caller uses the model's own distribution).
    """
    later = [k for k in range(j + 1, min(j + K, len(org.fits) - 1) + 1)]
    if not later or not has(org, j, model):
        return None
    errs = np.concatenate([errors(org, k, model) for k in later if has(org, k, model)], axis=0)
    counts = np.isfinite(errs).sum(axis=0)
    if counts.sum() < 8:
        return None
    steps = np.arange(1, org.h + 1)
    out = {}
    for level in levels:
        q = level / 100
        if counts.min() >= 30:
            values = []
            for s in range(org.h):
                col = errs[:, s][np.isfinite(errs[:, s])]
                rank = min(1.0, q * (1 + 1 / len(col)))
                values.append(np.quantile(col, rank))
            qs = np.maximum.accumulate(np.array(values))
        else:
            norm = (errs / np.sqrt(steps)[None, :])[np.isfinite(errs)]
            rank = min(1.0, q * (1 + 1 / len(norm)))
            qs = np.quantile(norm, rank) * np.sqrt(steps)
        out[level] = qs
    return out


def intervals(
    org: Origins,
    j: int,
    K: int,
    names: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    levels: tuple[int, ...],
    method: str = "conformal",
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """lo/hi per level and the method used per series ("conformal" or "model")."""
    from scipy.stats import norm

    N, h = mean.shape
    out = {lv: (np.full((N, h), np.nan), np.full((N, h), np.nan)) for lv in levels}
    used = np.full(N, "model", dtype="<U9")
    scale = org.scale[j]
    for name in np.unique(names):
        rows = names == name
        qs = conformal_quantiles(org, j, K, str(name), levels) if method == "conformal" else None
        for lv in levels:
            lo, hi = out[lv]
            if qs is not None:
                half = qs[lv][None, :] * np.where(scale[rows] > 0, scale[rows], 0)[:, None]
                used[rows] = "conformal"
            else:
                half = norm.ppf(0.5 + lv / 200) * np.nan_to_num(sigma[rows])
            lo[rows], hi[rows] = mean[rows] - half, mean[rows] + half
    return out, used


def backtest_table(
    org: Origins, B: int, K: int, models: list[str], levels: tuple[int, ...],
    nonneg: np.ndarray | None = None, method: str = "conformal",
    auto_candidates: tuple[str, ...] = AUTO_CANDIDATES,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, np.ndarray]]]:  # fmt: skip
    """Metrics per model over origins 1..B (auto chosen from the origins before each).

    Returns the table rows and, per model, per-series mase/smape/coverage for --detail.
    """
    rows, detail = [], {}
    for model in models:
        actual, pred, n2, s1, s2 = [], [], [], [], []
        bands: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {lv: [] for lv in levels}
        for j in range(1, B + 1):
            if j >= len(org.fits):
                break
            N = len(org.n[j])
            if model == "auto" and WEIGHTED in org.fits[j]:
                names = np.full(N, WEIGHTED, dtype="<U40")
            elif model == "auto":
                names = choose(org, j, K, auto_candidates)
            else:
                names = np.full(N, model, dtype="<U40")
            if model != "auto" and not has(org, j, model):
                continue
            mean, sigma = gather(org, j, names)
            iv, _ = intervals(org, j, K, names, mean, sigma, levels, method)
            for lv in levels:
                lo, hi = iv[lv]
                if nonneg is not None:
                    lo = np.where(nonneg[:, None], np.maximum(lo, 0), lo)
                bands[lv].append((lo, hi))
            actual.append(org.truth[j])
            pred.append(mean)
            n2.append(org.fits[j]["naive2"].mean)
            s1.append(org.scale[j])
            s2.append(org.scale2[j])
        if not actual:
            continue
        a, p = np.concatenate(actual), np.concatenate(pred)
        sc1, sc2 = np.concatenate(s1), np.concatenate(s2)
        ivs = {lv: (np.concatenate([b[0] for b in bands[lv]]),
                    np.concatenate([b[1] for b in bands[lv]])) for lv in levels}  # fmt: skip
        summary = fm.summary(a, p, sc1, sc2, naive2=np.concatenate(n2), intervals=ivs)
        N = len(org.n[0])
        summary["series"] = int(np.isfinite(a).any(axis=1).reshape(-1, N).any(axis=0).sum())
        rows.append({"model": model, **summary})
        ps = fm.per_series(a, p, sc1, sc2)
        for lv in levels:
            ps[f"coverage_{lv}"] = fm.coverage(a, *ivs[lv])
        N = len(org.n[0])
        with np.errstate(all="ignore"):
            detail[model] = {k: fm.nanmean(v.reshape(-1, N), axis=0) for k, v in ps.items()}
    return rows, detail
