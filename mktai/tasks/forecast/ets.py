"""Exponential smoothing (the ETS family), fitted for many series and parameter sets at once.

Why not a per-series optimiser: a Python loop of statsmodels fits costs ~0.1-1 s per series and
form; here one recursion runs over an (N series x G parameter sets) array per time step, so the
cost is T numpy steps per form whatever N is. Parameters are chosen by a coarse grid and a
vectorised pattern search on the likelihood; initial states start from the classical heuristic
(decomposition of the first two seasons) and are then estimated with the parameters, as
Hyndman et al. (2008) and statsmodels do: REFINE_PLAN alternations of a Gauss-Newton step on
the states (exact least squares for additive forms) and a finer pattern search on the
parameters (24 real series of benchmarks/forecast.py: ETS holdout MASE 1.335 -> 1.307, mean
over 8 earlier origins 1.259 -> 1.214). Forms follow Hyndman et al. (2008):
error A/M, trend N/Ad (see TRENDS), season N/A/M, without the unstable additive-error/multiplicative-season
combinations; the form of each series is the one with the smallest AICc.

The point recursions of additive and multiplicative errors coincide for given parameters (only
the likelihood differs), so each (trend, season) pair is run once and scored both ways.

Series are left-aligned: row i holds its own history Y[i, :n[i]] (NaN after), so time t is the
same position in every series' own cycle and the state of a finished series is simply frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Searched trends: none and damped. The undamped additive trend is kept for stored models only:
# without it, 24 real series of benchmarks/forecast.py give ETS holdout MASE 1.297 against 1.307
# (8 earlier origins 1.209 against 1.214), auto 1.257 against 1.260, at 2/3 of the cost.
TRENDS = ("N", "Ad")
ALL_TRENDS = ("N", "A", "Ad")
SEASONS = ("N", "A", "M")
PHI_LOW, PHI_HIGH = 0.8, 0.98
_GRID = {
    "alpha": (0.05, 0.2, 0.45, 0.8),
    "beta": (0.05, 0.3),
    "gamma": (0.05, 0.4),
    "phi": (0.3, 0.9),
}
_STEPS = (0.15, 0.06, 0.025, 0.01)
CYCLES = 2
# After the grid and the pattern search (INITIAL_STEPS), each entry of REFINE_PLAN is one
# Gauss-Newton step on the initial states followed by a pattern search with those steps.
INITIAL_STEPS = _STEPS
REFINE_PLAN: tuple[tuple[float, ...], ...] = (_STEPS[1:], _STEPS[1:])


@dataclass
class EtsFit:
    """Per-series result: the chosen form, parameters, final states, forecasts."""

    mean: np.ndarray  # (N, h)
    sigma: np.ndarray  # (N, h) model-based standard deviation
    form: np.ndarray  # (N,) str "A,Ad,M" etc.
    params: np.ndarray  # (N, 4) alpha, beta, gamma, phi
    aicc: np.ndarray  # (N,)


def _unit_to_params(u: np.ndarray) -> tuple[np.ndarray, ...]:
    """Box coordinates u in (0,1)^4 -> admissible alpha, beta<alpha, gamma<1-alpha, phi."""
    alpha = 0.0001 + 0.9998 * u[..., 0]
    beta = alpha * u[..., 1]
    gamma = (1 - alpha) * u[..., 2]
    phi = PHI_LOW + (PHI_HIGH - PHI_LOW) * u[..., 3]
    return alpha, beta, gamma, phi


def _params_to_unit(p: np.ndarray) -> np.ndarray:
    alpha, beta, gamma, phi = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    u = np.empty_like(p)
    u[..., 0] = (alpha - 0.0001) / 0.9998
    u[..., 1] = np.where(alpha > 0, beta / np.maximum(alpha, 1e-12), 0)
    u[..., 2] = np.where(alpha < 1, gamma / np.maximum(1 - alpha, 1e-12), 0)
    u[..., 3] = (phi - PHI_LOW) / (PHI_HIGH - PHI_LOW)
    return np.clip(u, 0.0, 1.0)


def initial_states(
    Y: np.ndarray, n: np.ndarray, m: int, trend: str, season: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level, trend (at time -1) and m seasonal states from the first observations."""
    N = Y.shape[0]
    s0 = np.zeros((N, max(m, 1))) if season != "M" else np.ones((N, max(m, 1)))
    if season != "N":
        # the seasonal pattern from up to CYCLES whole cycles (two weeks of daily data are
        # too noisy a start for a weekly pattern), detrended by each cycle's own mean
        k = int(np.clip((n.min() if len(n) else 2) // m, 2, CYCLES))
        cycles = Y[:, : k * m].reshape(N, k, m)
        means = np.nanmean(cycles, axis=2)  # (N, k)
        mean1 = means[:, 0]
        slope = (means[:, -1] - means[:, 0]) / ((k - 1) * m) if trend != "N" else np.zeros(N)
        centre = np.arange(m) - (m - 1) / 2
        level = means[:, :, None] + slope[:, None, None] * centre[None, None, :]
        if season == "M":
            with np.errstate(all="ignore"):
                ratio = np.nanmean(cycles / np.where(level == 0, np.nan, level), axis=1)
            ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
            s0 = ratio / ratio.mean(axis=1, keepdims=True)
        else:
            diff = np.nanmean(cycles - level, axis=1)
            s0 = diff - diff.mean(axis=1, keepdims=True)
        l0 = mean1 - slope * (m + 1) / 2
        return l0, slope, s0
    k = np.minimum(n, 10)
    t = np.arange(10, dtype=float)
    mask = t[None, :] < k[:, None]
    y = np.where(mask, Y[:, :10] if Y.shape[1] >= 10 else _pad(Y, 10), 0.0)
    cnt = mask.sum(axis=1)
    tm = (mask * t).sum(axis=1) / cnt
    ym = y.sum(axis=1) / cnt
    var = (mask * (t - tm[:, None]) ** 2).sum(axis=1)
    cov = (mask * (t - tm[:, None]) * (y - ym[:, None])).sum(axis=1)
    slope = np.where(var > 0, cov / np.where(var > 0, var, 1), 0.0)
    if trend == "N":
        return Y[:, 0].copy() if Y.shape[1] else ym, np.zeros(N), s0
    return ym - slope * (tm + 1), slope, s0


def _pad(Y: np.ndarray, width: int) -> np.ndarray:
    out = np.full((Y.shape[0], width), np.nan)
    out[:, : Y.shape[1]] = Y
    return out


def run(
    Y: np.ndarray,
    n: np.ndarray,
    m: int,
    trend: str,
    season: str,
    pars: tuple[np.ndarray, ...],
    init: tuple[np.ndarray, np.ndarray, np.ndarray],
    keep_states: bool = False,
    relative: bool = True,
    jacobian: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The recursion for (N, G) parameter sets; returns sse, relative sse, sum log|mu|.

    relative=False skips the multiplicative-error terms (ssr, slog), which cost a log per step.
    init: level/slope (N,) or (N, G), seasons (N, m) or (N, G, m).
    jacobian: (N, G-1) steps; column g >= 1 then runs the initial states of column 0 moved by
    that step along one state, and the normal equations JJ (N, G-1, G-1), Jr (N, G-1) of the
    finite-difference Jacobian of the errors (relative errors for a multiplicative season) are
    returned too.
    """
    alpha, beta, gamma, phi = pars
    N, G = alpha.shape
    l0, b0, s0 = init
    level = np.repeat(l0[:, None], G, axis=1) if l0.ndim == 1 else l0.copy()
    slope = np.repeat(b0[:, None], G, axis=1) if b0.ndim == 1 else b0.copy()
    # seasons first: the state of season position j is one contiguous (N, G) block
    seas = None
    if season != "N":
        seas = np.repeat(s0.T[:, :, None], G, axis=2) if s0.ndim == 2 else s0.transpose(2, 0, 1)
        seas = np.ascontiguousarray(seas)
    if jacobian is not None:
        D = np.zeros((int(n.max()) if len(n) else 0, N, G - 1))
        R = np.zeros(D.shape[:2])
    damp = phi if trend == "Ad" else (np.ones_like(alpha) if trend == "A" else None)
    sse = np.zeros((N, G))
    ssr = np.zeros((N, G))
    slog = np.zeros((N, G))
    Tmax = int(n.max()) if len(n) else 0
    with np.errstate(all="ignore"):
        n_min = int(n.min()) if len(n) else 0
        for t in range(Tmax):
            act = (t < n)[:, None] if t >= n_min else None
            y = Y[:, t][:, None]
            base = level + damp * slope if damp is not None else level
            if seas is not None:
                j = t % m
                sj = seas[j]
                mu = base * sj if season == "M" else base + sj
            else:
                mu = base
            e = y - mu if act is None else np.where(act, y - mu, 0.0)
            if season == "M":
                new_level = base + alpha * e / sj
                new_slope = damp * slope + beta * e / sj if damp is not None else None
                new_seas = sj + gamma * e / base
            else:
                new_level = base + alpha * e
                new_slope = damp * slope + beta * e if damp is not None else None
                new_seas = sj + gamma * e if seas is not None else None
            if act is None:
                level = new_level
                if new_slope is not None:
                    slope = new_slope
                if seas is not None:
                    seas[j] = new_seas
            else:
                level = np.where(act, new_level, level)
                if new_slope is not None:
                    slope = np.where(act, new_slope, slope)
                if seas is not None:
                    seas[j] = np.where(act, new_seas, sj)
            sse += e * e
            if jacobian is not None:
                r = e / mu if season == "M" else e
                if act is not None:
                    r = np.where(act, r, 0.0)
                D[t] = (r[:, 1:] - r[:, :1]) / jacobian
                R[t] = r[:, 0]
            if relative:
                rel = e / mu if act is None else np.where(act, e / mu, 0.0)
                ssr += rel * rel
                logmu = np.log(np.abs(mu))
                slog += logmu if act is None else np.where(act, logmu, 0.0)
    out = {"sse": sse, "ssr": ssr, "slog": slog}
    if jacobian is not None:
        out.update(_normal_equations(D, R, n))
    if keep_states:
        out.update(level=level, slope=slope,
                   seas=None if seas is None else seas.transpose(1, 2, 0))  # fmt: skip
    return out


def _normal_equations(D: np.ndarray, R: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """JJ = sum_t d_t d_t' and Jr = sum_t d_t r_t per series, over its own n steps only.

    Rows of one length go through one batched matmul on exactly their steps, so a series'
    sums do not depend on the padding of the batch it is in (parity with series-by-series).
    """
    N, k = D.shape[1], D.shape[2]
    JJ, Jr = np.zeros((N, k, k)), np.zeros((N, k))
    for length in np.unique(n):
        rows = np.flatnonzero(n == length)
        Dg = np.ascontiguousarray(D[:length, rows].transpose(1, 2, 0))  # (rows, k, length)
        Rg = np.ascontiguousarray(R[:length, rows].T)[..., None]  # (rows, length, 1)
        JJ[rows] = Dg @ np.ascontiguousarray(Dg.transpose(0, 2, 1))
        Jr[rows] = (Dg @ Rg)[..., 0]
    return {"JJ": JJ, "Jr": Jr}


def _objective(res: dict[str, np.ndarray], n: np.ndarray, error: str) -> np.ndarray:
    nn = n[:, None].astype(float)
    with np.errstate(all="ignore"):
        if error == "A":
            value = nn * np.log(res["sse"] / nn)
        else:
            value = nn * np.log(res["ssr"] / nn) + 2 * res["slog"]
    return np.where(np.isfinite(value), value, np.inf)


def _free(trend: str, season: str) -> list[int]:
    free = [0]
    if trend != "N":
        free.append(1)
    if season != "N":
        free.append(2)
    if trend == "Ad":
        free.append(3)
    return free


def _search(Y, n, m, trend, season, error, init, start=None, steps=_STEPS):
    """Best unit-box parameters (N, 4) and objective (N,) by grid then pattern search.

    start: (N, 4) unit parameters to refine instead of the grid (after new initial states).
    """
    free = _free(trend, season)
    N = Y.shape[0]
    rel = error == "M"
    if start is None:
        names = ("alpha", "beta", "gamma", "phi")
        axes = [np.array(_GRID[names[k]]) if k in free else np.array([0.5]) for k in range(4)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 4)
        units = np.broadcast_to(grid[None], (N, *grid.shape))
    else:
        units = start[:, None, :]
    res = run(Y, n, m, trend, season, _unit_to_params(units), init, relative=rel)
    obj = _objective(res, n, error)
    best = obj.argmin(axis=1)
    u = units[np.arange(N), best].copy()
    val = obj[np.arange(N), best]
    for step in steps:
        cands = [u]
        for k in free:
            for sign in (-1.0, 1.0):
                c = u.copy()
                c[:, k] = np.clip(c[:, k] + sign * step, 0.001, 0.999)
                cands.append(c)
        stack = np.stack(cands, axis=1)
        res = run(Y, n, m, trend, season, _unit_to_params(stack), init, relative=rel)
        obj = _objective(res, n, error)
        obj[:, 0] = np.minimum(obj[:, 0], val)
        pick = obj.argmin(axis=1)
        u = stack[np.arange(N), pick]
        val = obj[np.arange(N), pick]
    return u, val


def _to_vector(init, trend: str, season: str) -> np.ndarray:
    """Initial states as one (N, k) vector: level, slope (trended forms), m seasons."""
    l0, b0, s0 = init
    cols = [l0[:, None]]
    if trend != "N":
        cols.append(b0[:, None])
    if season != "N":
        cols.append(s0)
    return np.concatenate(cols, axis=1)


def _from_vector(x: np.ndarray, trend: str, season: str, s_like: np.ndarray):
    """(N, ..., k) vector -> level, slope, seasons; seasons renormalised (sum 0 / mean 1) with
    the level absorbing the difference, which leaves every fitted value unchanged."""
    l0 = x[..., 0].copy()
    b0 = x[..., 1].copy() if trend != "N" else np.zeros_like(l0)
    if season == "N":
        return l0, b0, s_like  # not used by non-seasonal forms
    s0 = x[..., 2 if trend != "N" else 1 :].copy()
    c = s0.mean(axis=-1)
    if season == "M":
        s0 = np.maximum(s0, 1e-3)
        c = s0.mean(axis=-1)
        s0 /= c[..., None]
        l0 *= c
        b0 *= c
    else:
        s0 -= c[..., None]
        l0 += c
    return l0, b0, s0


def refine_initial(Y, n, m, trend, season, u, init):
    """One Gauss-Newton step on the initial states for the parameters u (N, 4), kept per
    series only where it lowers the objective (full or half step).

    Why: the heuristic start (the first two seasons) is noisy; estimating the states with the
    smoothing parameters, as Hyndman et al. (2008) and statsmodels do, fits the whole history.
    Additive forms are affine in the states, so the step is their least-squares optimum.
    """
    error = "M" if season == "M" else "A"
    x0 = _to_vector(init, trend, season)
    N, k = x0.shape
    size = np.maximum(np.abs(x0[:, :1]), 1e-6)
    eps = 1e-4 * np.repeat(size, k, axis=1)
    if season == "M":
        eps[:, k - m :] = 1e-4
    cols = np.repeat(x0[:, None, :], k + 1, axis=1)
    cols[:, 1:, :] += eps[:, :, None] * np.eye(k)[None]
    pars = _unit_to_params(np.repeat(u[:, None, :], k + 1, axis=1))
    start = _from_vector(cols, trend, season, init[2])
    res = run(Y, n, m, trend, season, pars, start, relative=False, jacobian=eps)
    JJ, Jr = res["JJ"], res["Jr"]
    ridge = 1e-9 * np.trace(JJ, axis1=1, axis2=2)[:, None, None] / k + 1e-300
    with np.errstate(all="ignore"):
        d = np.linalg.solve(JJ + ridge * np.eye(k)[None], -Jr[..., None])[..., 0]
    d = np.where(np.isfinite(d), d, 0.0)
    trial = np.stack([x0, x0 + d, x0 + 0.5 * d], axis=1)  # (N, 3, k)
    states = _from_vector(trial, trend, season, init[2])
    p3 = _unit_to_params(np.repeat(u[:, None, :], 3, axis=1))
    obj = _objective(run(Y, n, m, trend, season, p3, states, relative=error == "M"), n, error)
    pick = obj.argmin(axis=1)
    rows = np.arange(N)
    l0, b0 = states[0][rows, pick], states[1][rows, pick]
    s0 = states[2][rows, pick] if season != "N" else init[2]
    return l0, b0, s0


def _n_params(trend: str, season: str, m: int) -> int:
    k = len(_free(trend, season)) + 1 + (trend != "N") + ((m - 1) if season != "N" else 0)
    return k + 1  # the innovation variance


def forms(m: int, positive: bool, seasonal: bool,
          trends: tuple[str, ...] = TRENDS) -> list[tuple[str, str, str]]:  # fmt: skip
    """The admissible (error, trend, season) forms."""
    out = []
    for error in ("A", "M") if positive else ("A",):
        for trend in trends:
            for season in SEASONS if (seasonal and m > 1) else ("N",):
                if season == "M" and (error == "A" or not positive):
                    continue
                out.append((error, trend, season))
    return out


def _forecast(states, n, m, trend, season, pars, h) -> np.ndarray:
    level, slope, seas = states
    alpha, beta, gamma, phi = pars
    steps = np.arange(1, h + 1)
    if trend == "Ad":
        cum = np.cumsum(phi[:, None] ** steps[None, :], axis=1)
    elif trend == "A":
        cum = np.broadcast_to(steps[None, :].astype(float), (len(n), h))
    else:
        cum = np.zeros((len(n), h))
    base = level[:, None] + cum * slope[:, None]
    if season == "N":
        return base
    idx = (n[:, None] + steps[None, :] - 1) % m
    s = np.take_along_axis(seas, idx, axis=1)
    return base * s if season == "M" else base + s


def _sigma(res, n, k, mean, m, trend, season, error, pars, h) -> np.ndarray:
    alpha, beta, gamma, phi = pars
    dof = np.maximum(n - k, 1).astype(float)
    steps = np.arange(1, h)
    if trend == "Ad":
        bj = beta[:, None] * np.cumsum(phi[:, None] ** steps[None, :], axis=1)
    elif trend == "A":
        bj = beta[:, None] * steps[None, :]
    else:
        bj = np.zeros((len(n), h - 1))
    c = alpha[:, None] + bj + (gamma[:, None] * (steps % max(m, 1) == 0) if season != "N" else 0)
    factor = np.concatenate([np.ones((len(n), 1)), 1 + np.cumsum(c * c, axis=1)], axis=1)
    if error == "A":
        var = res["sse"] / dof
        return np.sqrt(var[:, None] * factor)
    var = res["ssr"] / dof
    return np.abs(mean) * np.sqrt(var[:, None] * factor)


def fit(
    Y: np.ndarray,
    n: np.ndarray,
    m: int,
    h: int,
    *,
    seasonal: np.ndarray | None = None,
    fixed_form: np.ndarray | None = None,
    fixed_params: np.ndarray | None = None,
) -> EtsFit:
    """Fit every admissible form to every series; keep the smallest AICc per series.

    seasonal: (N,) bool, series long enough for a seasonal form (default n >= 2m + 2).
    fixed_form / fixed_params: re-run stored forms and parameters on new data (no search).
    """
    N = Y.shape[0]
    seasonal = (n >= 2 * m + 2) if seasonal is None else seasonal
    positive = np.array([np.all(Y[i, : n[i]] > 0) for i in range(N)]) if N else np.zeros(0, bool)
    mean = np.full((N, h), np.nan)
    sigma = np.full((N, h), np.nan)
    form_out = np.full(N, "", dtype="<U8")
    params_out = np.full((N, 4), np.nan)
    best_aicc = np.full(N, np.inf)
    groups: dict[tuple[bool, bool], np.ndarray] = {}
    for pos in (False, True):
        for sea in (False, True):
            idx = np.flatnonzero((positive == pos) & (seasonal == sea) & (n >= 4))
            if len(idx):
                groups[(pos, sea)] = idx
    for (pos, sea), idx in groups.items():
        Yg, ng = Y[idx], n[idx]
        pairs: dict[tuple[str, str], list[str]] = {}
        trends = ALL_TRENDS if fixed_form is not None else TRENDS
        for error, trend, season in forms(m, pos, sea, trends):
            pairs.setdefault((trend, season), []).append(error)
        for (trend, season), errors in pairs.items():
            if fixed_form is not None:
                wanted = [e for e in errors if np.any(fixed_form[idx] == f"{e},{trend},{season}")]
                if not wanted:
                    continue
            init = initial_states(Yg, ng, m, trend, season)
            k = _n_params(trend, season, m)
            ok = ng - k - 1 > 0
            err = "M" if season == "M" else "A"
            if fixed_params is not None:
                u = _params_to_unit(fixed_params[idx])
                for _ in REFINE_PLAN:
                    init = refine_initial(Yg, ng, m, trend, season, u, init)
            else:
                u, _ = _search(Yg, ng, m, trend, season, err, init, steps=INITIAL_STEPS)
                for steps in REFINE_PLAN:
                    init = refine_initial(Yg, ng, m, trend, season, u, init)
                    if steps:
                        u, _ = _search(Yg, ng, m, trend, season, err, init, u, steps)
            pars = _unit_to_params(u[:, None, :])
            res = run(Yg, ng, m, trend, season, pars, init, keep_states=True)
            flat = {key: (v[:, 0] if v is not None else None) for key, v in res.items()}
            states = (flat["level"], flat["slope"], flat["seas"])
            p1 = tuple(p[:, 0] for p in pars)
            point = _forecast(states, ng, m, trend, season, p1, h)
            for error in errors:
                name = f"{error},{trend},{season}"
                obj = _objective(res, ng, error)[:, 0]
                with np.errstate(all="ignore"):
                    aicc = obj + 2 * k + 2 * k * (k + 1) / np.where(ok, ng - k - 1, 1)
                aicc = np.where(ok & np.isfinite(point).all(axis=1), aicc, np.inf)
                if fixed_form is not None:
                    aicc = np.where(fixed_form[idx] == name, -np.inf, np.inf)
                better = aicc < best_aicc[idx]
                if not better.any():
                    continue
                rows = idx[better]
                best_aicc[rows] = aicc[better]
                mean[rows] = point[better]
                sd = _sigma(flat, ng, k, point, m, trend, season, error, p1, h)
                sigma[rows] = sd[better]
                form_out[rows] = name
                params_out[rows] = np.stack(p1, axis=1)[better]
    return EtsFit(mean=mean, sigma=sigma, form=form_out, params=params_out, aicc=best_aicc)
