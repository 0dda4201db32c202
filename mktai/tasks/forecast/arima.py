"""Seasonal ARIMA for many series at once: conditional least squares, orders by AICc.

Why not statsmodels' SARIMAX per series: its exact likelihood costs seconds per fit and order
(measured ~3.4 s per series for three orders in benchmarks/forecast.py), far from a 1,000-series
budget. Here every (series, candidate order) pair is one cell of an (N, G) array and the
multiplicative model phi(B) Phi(B^m) (w_t - mu) = theta(B) Theta(B^m) e_t is fitted by
conditional sum of squares (Box & Jenkins' CSS, what statsmodels/R use as the start of exact
ML) with a batched Levenberg-Marquardt: the residuals and their exact derivatives are linear
filters through 1/theta(B)Theta(B^m), one time loop over the whole array per iteration, and each
cell solves its own 7 x 7 normal equations. Steps that would leave the stationary / invertible
region are refused (the damping grows instead).

Differencing as auto.arima: one seasonal difference when the seasonal autocorrelation is
significant (the M4 test), then d = 0 or 1 by the KPSS test at 5% on the (seasonally) differenced
series. A mean (d + D = 0) or drift (d + D = 1) is estimated with the ARMA terms. Orders
(p, q) with p + q <= 2, plain or with a seasonal MA term, or p + q <= 1 with a seasonal AR term,
are chosen per series by AICc on a common residual window (so that orders with more lags are
not scored on fewer points). A fixed number of steps (no early exit) keeps every series' fit
independent of the other series in the batch.
"""

from __future__ import annotations

import numpy as np

from mktai.tasks.forecast.simple import Fit, seasonality_test

KPSS_CRIT = 0.463  # 5% level, level stationarity
SLOTS = ("mu", "ar1", "ar2", "sar", "ma1", "ma2", "sma")  # the columns of Fit.params
ITERATIONS = 12
MARGIN = 0.01  # keep roots this far inside the unit circle


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


def kpss(W: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """KPSS level-stationarity statistic per series (Newey-West, lag trunc(3 sqrt(n)/13))."""
    cnt = np.maximum(valid.sum(axis=1), 1)
    mean = np.where(valid, W, 0).sum(axis=1) / cnt
    e = np.where(valid, W - mean[:, None], 0.0)
    S = np.cumsum(e, axis=1)
    num = (S**2).sum(axis=1) / cnt**2
    lags = np.floor(3 * np.sqrt(cnt) / 13).astype(int)
    s2 = (e**2).sum(axis=1) / cnt
    for k in range(1, int(lags.max()) + 1 if len(lags) else 1):
        gamma = (e[:, k:] * e[:, :-k]).sum(axis=1) / cnt
        w = np.where(k <= lags, 1 - k / (lags + 1), 0.0)
        s2 = s2 + 2 * w * gamma
    with np.errstate(all="ignore"):
        return np.where(s2 > 0, num / s2, 0.0)


def _triangle(a1: np.ndarray, a2: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """AR(2) stationarity region (for MA invertibility pass -theta): |a2|<1, a1+a2<1, a2-a1<1."""
    lim = 1 - margin
    return (np.abs(a2) < lim) & (a1 + a2 < lim) & (a2 - a1 < lim)


def orders(m: int) -> list[tuple[int, int, int, int]]:
    """The candidate (p, q, P, Q): p + q <= 2 (parsimony: six orders), alone and with a seasonal
    MA term, and p + q <= 1 with a seasonal AR term when there is a season (15 orders; AICc chose
    a seasonal AR for 4% of 300 benchmark panel series, a seasonal MA for the others)."""
    base = [(p, q) for p in range(3) for q in range(3) if p + q <= 2]
    out = [(p, q, 0, 0) for p, q in base]
    if m > 1:
        out += [(p, q, 0, 1) for p, q in base] + [(p, q, 1, 0) for p, q in base if p + q <= 1]
    return out


def _admissible(beta: np.ndarray) -> np.ndarray:
    """Stationary AR and invertible MA factors (each factor is at most of order 2)."""
    ok = _triangle(beta[..., 1], beta[..., 2]) & _triangle(-beta[..., 4], -beta[..., 5])
    return ok & (np.abs(beta[..., 3]) < 1 - MARGIN) & (np.abs(beta[..., 6]) < 1 - MARGIN)


def _polys(beta: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Expanded a(B) = phi(B)Phi(B^m) and b(B) = theta(B)Theta(B^m), coefficients 0..m+2."""
    L = (m + 2) if m > 1 else 2
    shape = (*beta.shape[:-1], L + 1)
    a, b = np.zeros(shape), np.zeros(shape)
    a[..., 0] = b[..., 0] = 1.0
    a[..., 1] -= beta[..., 1]
    a[..., 2] -= beta[..., 2]
    b[..., 1] += beta[..., 4]
    b[..., 2] += beta[..., 5]
    if m > 1:
        a[..., m] -= beta[..., 3]
        a[..., m + 1] += beta[..., 1] * beta[..., 3]
        a[..., m + 2] += beta[..., 2] * beta[..., 3]
        b[..., m] += beta[..., 6]
        b[..., m + 1] += beta[..., 4] * beta[..., 6]
        b[..., m + 2] += beta[..., 5] * beta[..., 6]
    return a, b


def _shift(X: np.ndarray, k: int) -> np.ndarray:
    """X_{t-k} along axis 0 (time first), zero before the start."""
    if k == 0:
        return X
    out = np.zeros_like(X)
    if k < len(X):
        out[k:] = X[:-k]
    return out


def _filter(U: np.ndarray, b: np.ndarray, lags: list[int], act: np.ndarray) -> np.ndarray:
    """z_t = act_t (u_t - sum_j b_j z_{t-j}): the inverse MA filter, time first.

    U is (T, N, G, ...), b (N, G, L+1), act (T, N, G); one loop over t for every cell, the lags
    of a step gathered and summed in one operation.
    """
    Z = np.zeros_like(U)
    extra = (slice(None),) * 3 + (None,) * (U.ndim - 3)
    mask = act[extra] if U.ndim > 3 else act
    if not lags:
        return U * mask
    lag = np.array(lags)
    coefs = np.stack([b[:, :, j] for j in lags])[extra]  # (lags, N, G[, 1])
    for t in range(len(U)):
        if t >= lag[-1]:
            Z[t] = (U[t] - np.einsum("l...,l...->...", coefs, Z[t - lag])) * mask[t]
        else:
            use = lag <= t
            past = np.einsum("l...,l...->...", coefs[use], Z[t - lag[use]]) if use.any() else 0.0
            Z[t] = (U[t] - past) * mask[t]
    return Z


def _residuals(Wc: np.ndarray, a: np.ndarray, b: np.ndarray, lags: list[int],
               act: np.ndarray) -> np.ndarray:  # fmt: skip
    """e = a(B)(w - mu) / b(B) on the active window; Wc is (T, N, G) centred."""
    U = np.zeros_like(Wc)
    for j in range(a.shape[-1]):
        if np.any(a[..., j] != 0):
            U += a[:, :, j][None] * _shift(Wc, j)
    return _filter(U * act, b, lags, act)


def _lagged(X: np.ndarray, k: int, out: np.ndarray) -> None:
    """out_t = -X_{t-k} (zero before the start), written in place."""
    out[:k] = 0.0
    if k < len(X):  # a series shorter than the lag has no lagged values at all
        np.negative(X[: len(X) - k], out=out[k:])


def _jacobian(Wc, e, beta, m, b, lags, act) -> np.ndarray:
    """de/dbeta (T, N, G, 7), exact for the conditional residuals.

    d/dphi_i of a(B)Wc is -B^i Phi(B^m) Wc, of b(B) e it is B^i Theta(B^m) e (and so on for the
    seasonal factors); each input is then filtered by 1/b(B) like the residuals themselves.
    Channels of parameters an order does not have are computed too but never used.
    """
    T, N, G = Wc.shape
    x_phi, x_th = Wc.copy(), e.copy()
    if m > 1:
        x_phi[m:] -= beta[..., 3][None] * Wc[:-m]
        x_th[m:] += beta[..., 6][None] * e[:-m]
    a1 = (1 - beta[..., 1] - beta[..., 2]) * (1 - beta[..., 3])
    U = np.empty((T, N, G, 7), dtype=np.float32)  # a search direction: single precision will do
    U[..., 0] = -a1[None]
    _lagged(x_phi, 1, U[..., 1])
    _lagged(x_phi, 2, U[..., 2])
    _lagged(x_th, 1, U[..., 4])
    _lagged(x_th, 2, U[..., 5])
    if m > 1:
        x_Phi = Wc.copy()
        x_Phi[1:] -= beta[..., 1][None] * Wc[:-1]
        x_Phi[2:] -= beta[..., 2][None] * Wc[:-2]
        x_Th = e.copy()
        x_Th[1:] += beta[..., 4][None] * e[:-1]
        x_Th[2:] += beta[..., 5][None] * e[:-2]
        _lagged(x_Phi, m, U[..., 3])
        _lagged(x_Th, m, U[..., 6])
    else:
        U[..., 3] = U[..., 6] = 0.0
    return _filter(U, b.astype(np.float32), lags, act)


def _sse(e: np.ndarray, window: np.ndarray) -> np.ndarray:
    return np.einsum("tng,tng->ng", e, e * window)


def css(W2: np.ndarray, v2: np.ndarray, m: int, order_list: list[tuple[int, int, int, int]],
        constant: np.ndarray, iterations: int = ITERATIONS) -> dict[str, np.ndarray]:  # fmt: skip
    """CSS fits of every order to every (differenced) series: beta (N, G, 7), sse, counts."""
    N, T = W2.shape
    cells = np.broadcast_to(np.arange(len(order_list))[None, :], (N, len(order_list)))
    G = cells.shape[1]
    table = np.array([[0, *([1] * p), *([0] * (2 - p)), P, *([1] * q), *([0] * (2 - q)), Q]
                      for p, q, P, Q in order_list], bool)  # fmt: skip
    free = table[cells].copy()
    free[..., 0] = constant[:, None]
    spans = np.array([p + P * m for p, _, P, _ in order_list])
    span = spans[cells]  # (N, G)
    # time first; the AR start of each order is its first `span` points, and every order is
    # scored on the window after the longest span (comparable AICc)
    valid = v2.T  # (T, N)
    first = np.where(valid.any(axis=0), valid.argmax(axis=0), T)  # (N,)
    t = np.arange(T)[:, None, None]
    act = (t >= (first[:, None] + span)[None]) & valid[:, :, None]
    window = (t >= first[None, :, None] + spans.max()) & valid[:, :, None]
    Wt = np.where(valid, W2.T, 0.0)
    cnt_v = np.maximum(valid.sum(axis=0), 1)
    mean = Wt.sum(axis=0) / cnt_v
    beta = np.zeros((N, G, 7))
    beta[..., 0] = np.where(constant, mean, 0.0)[:, None]
    beta[..., 6] = np.where(free[..., 6], SMA_START, 0.0)
    lam = np.full((N, G), 1e-3)
    L = (m + 2) if m > 1 else 2
    lags = list(range(1, L + 1))

    def used(b):
        return [j for j in lags if np.any(b[..., j] != 0)]

    def evaluate(bt):
        a, b = _polys(bt, m)
        Wc = (Wt[:, :, None] - bt[..., 0][None]) * valid[:, :, None]
        e = _residuals(Wc, a, b, used(b), act)
        return Wc, e, b, _sse(e, act)

    Wc, e, b, sse = evaluate(beta)
    eye = np.eye(7)[None, None]
    pair = free[..., :, None] & free[..., None, :]
    for _ in range(iterations):
        J = _jacobian(Wc, e, beta, m, b, used(b), act)
        Jf = J.reshape(T, N * G, 7).transpose(1, 2, 0)  # (NG, 7, T)
        JtJ = np.matmul(Jf, Jf.transpose(0, 2, 1)).reshape(N, G, 7, 7).astype(float)
        Jte = np.einsum("tngk,tng->ngk", J, e.astype(np.float32)).astype(float)
        del J, Jf
        diag = np.diagonal(JtJ, axis1=2, axis2=3)
        scale = np.where(free, diag, 1.0)
        A = JtJ * pair + ((lam[..., None] + 1e-10) * scale)[..., None, :] * eye
        A = A + eye * (~free)[..., None, :]
        try:
            delta = -np.linalg.solve(A, Jte[..., None])[..., 0]
        except np.linalg.LinAlgError:
            delta = np.zeros_like(beta)
        delta = np.where(free & np.isfinite(delta), delta, 0.0)
        trial = beta + delta
        ok = _admissible(trial)
        trial = np.where(ok[..., None], trial, beta)
        Wc_t, e_t, b_t, sse_t = evaluate(trial)
        better = ok & np.isfinite(sse_t) & (sse_t < sse)
        beta = np.where(better[..., None], trial, beta)
        sel = better[None]
        Wc, e = np.where(sel, Wc_t, Wc), np.where(sel, e_t, e)
        b = np.where(better[..., None], b_t, b)
        sse = np.where(better, sse_t, sse)
        lam = np.where(better, lam / 3, np.minimum(lam * 4, 1e8))
        # no early exit when all cells have converged: a fixed number of steps keeps each
        # series' fit independent of the other series in its batch
    return {"beta": beta, "sse": sse, "cnt": act.sum(axis=0), "sse_w": _sse(e, window),
            "cnt_w": window.sum(axis=0), "k": free.sum(axis=2) + 1,
            "e": e.transpose(1, 2, 0)}  # fmt: skip


def _aicc(res: dict[str, np.ndarray], m: int, seasonal_cells: np.ndarray) -> np.ndarray:
    k, cnt = res["k"], res["cnt_w"]
    with np.errstate(all="ignore"):
        aicc = cnt * np.log(res["sse_w"] / cnt) + 2 * k + 2 * k * (k + 1) / (cnt - k - 1)
    aicc = np.where((cnt - k - 1 > 0) & np.isfinite(aicc), aicc, np.inf)
    return np.where(seasonal_cells & (m <= 1), np.inf, aicc)


CHUNK_CELLS = 4_000_000  # time x series x orders x 7 per chunk (~32 MB per array)
SMA_START = -0.5  # seasonal MA start: after a seasonal difference it is usually negative


def _chunked(W2, v2, m, order_list, constant) -> dict[str, np.ndarray]:
    """css() over blocks of series, so that memory stays bounded for big panels."""
    N, T = W2.shape
    size = max(1, CHUNK_CELLS // max(T * len(order_list) * 7, 1))
    parts = [css(W2[i : i + size], v2[i : i + size], m, order_list, constant[i : i + size])
             for i in range(0, N, size)]  # fmt: skip
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def fit(Y, n, m, h, **_) -> Fit:
    """Per series: differencing by tests, then the order with the smallest AICc.

    (Screening every order with a few iterations and finishing only the best few was tried:
    after 3-6 steps the AICc ranking of MA orders is not yet reliable, benchmark MASE 1.44
    against 1.30, so every order is iterated.)
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
    a, b = _polys(coef, m)
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
