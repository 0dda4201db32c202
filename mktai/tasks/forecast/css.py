"""Conditional least squares for many seasonal ARMA cells at once (what arima.py fits).

A cell is one (series, candidate order) pair; the model of a cell is
phi(B) Phi(B^m) (w_t - mu) = theta(B) Theta(B^m) e_t with at most two AR/MA lags and one
seasonal AR/MA lag, seven parameter slots (SLOTS), the ones an order does not have fixed at zero.

Why this shape of code:
- Start values by Hannan-Rissanen (a long autoregression gives residual estimates, then one
  least-squares regression per order on lagged values and lagged residuals), or the plain start
  (zeros, seasonal MA -0.5) where that has the smaller sum of squares. From there a
  Levenberg-Marquardt on the exact filtered Jacobian needs a few steps, not a fixed dozen.
- Each cell stops on its own when a step no longer lowers its sum of squares by more than
  FTOL (relative), or when its damping has grown past LAM_MAX; only the cells still moving are
  computed in the next step (compacted arrays), and a cell whose last step was refused keeps its
  normal equations (only the damping changes).
- A cell's result must not depend on which other series share its batch (the batch and
  series-by-series fits must give the same forecasts). So every sum over time is sequential
  (accumulated step by step or by cumsum, never a pairwise reduction whose rounding depends on
  the padded length), the lags filtered are fixed by the order list (not by the batch's
  values), and everything else is elementwise per cell or a per-cell 7 x 7 solve.
"""

from __future__ import annotations

import numpy as np

SLOTS = ("mu", "ar1", "ar2", "sar", "ma1", "ma2", "sma")
MARGIN = 0.01  # keep roots this far inside the unit circle
SMA_START = -0.5  # the plain start's seasonal MA: after a seasonal difference usually negative
MAX_ITER = 25
FTOL = 1e-8  # a step lowering the sum of squares by less than this (relative): converged
LAM_MAX = 1e7  # refused steps until the damping reaches this: converged (no descent left)
LAM_DOWN = 3  # damping divided by this after a step that lowered the sum of squares
# (steps taken, AICc gap): from then on a cell this far behind the best of its series stops.
# Gaps of 20-30 after 0-3 steps dropped the eventual best order of one of the 24 real benchmark
# series (its MASE 8.7 instead of 5.7); these keep every benchmark choice and change 1 of 300
# panel series' order, at about 5.7 steps per cell instead of 12 fixed.
PRUNE = ((0, 60.0), (3, 40.0), (8, 20.0))
JAC_DTYPE = np.float64  # the search direction's precision
RIDGE = 1e-8  # relative ridge of the Hannan-Rissanen regressions (collinear lags stay solvable)


def table(order_list: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Which slots each order (p, q, P, Q) estimates (G, 7); mu is decided per series."""
    return np.array([[0, *([1] * p), *([0] * (2 - p)), P, *([1] * q), *([0] * (2 - q)), Q]
                     for p, q, P, Q in order_list], bool)  # fmt: skip


def spans(order_list: list[tuple[int, int, int, int]], m: int) -> np.ndarray:
    """AR start of each order: its first p + P m points are lags only."""
    return np.array([p + P * m for p, _, P, _ in order_list])


def _lag_sets(order_list, m: int) -> tuple[list[int], list[int]]:
    """Lags of a(B) = phi(B)Phi(B^m) and b(B) = theta(B)Theta(B^m) any order of the list has."""
    a, b = set(), set()
    for p, q, P, Q in order_list:
        a |= {*range(1, p + 1), *([m * P] if P else []), *range(m * P + 1, m * P + p + 1)}
        b |= {*range(1, q + 1), *([m * Q] if Q else []), *range(m * Q + 1, m * Q + q + 1)}
    a.discard(0)
    b.discard(0)
    return sorted(a), sorted(b)


def _triangle(a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """AR(2) stationarity region (for MA invertibility pass -theta): |a2|<1, a1+a2<1, a2-a1<1."""
    lim = 1 - MARGIN
    return (np.abs(a2) < lim) & (a1 + a2 < lim) & (a2 - a1 < lim)


def admissible(beta: np.ndarray) -> np.ndarray:
    """Stationary AR and invertible MA factors (each factor is at most of order 2)."""
    ok = _triangle(beta[..., 1], beta[..., 2]) & _triangle(-beta[..., 4], -beta[..., 5])
    return ok & (np.abs(beta[..., 3]) < 1 - MARGIN) & (np.abs(beta[..., 6]) < 1 - MARGIN)


def polys(beta: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
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


def colsum(X: np.ndarray) -> np.ndarray:
    """Sum over axis 0 in time order (the same rounding whatever the other columns are)."""
    if not len(X):
        return np.zeros(X.shape[1:])
    return np.cumsum(X, axis=0)[-1]


def solve(A: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched A x = rhs; a singular matrix gives zeros for its own cell only."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(A, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            out = np.zeros(rhs.shape)
            flat_a, flat_b = A.reshape(-1, *A.shape[-2:]), rhs.reshape(-1, rhs.shape[-1])
            flat = out.reshape(-1, rhs.shape[-1])
            for i in range(len(flat_a)):
                try:
                    flat[i] = np.linalg.solve(flat_a[i], flat_b[i])
                except np.linalg.LinAlgError:
                    flat[i] = 0.0
            return out


class _Group:
    """The cells of some orders (`members`, indices into the order list) for every series.

    Orders are grouped by the lags of their MA filter, so that a plain ARMA(1,1) does not run
    the seasonal lags. Each cell's free slots are packed into the first k channels (k <= 4), so
    the filtered Jacobian and its products cost k, not 7, channels.
    """

    def __init__(self, Wt, valid, first, m, order_list, members, constant):
        T, N = Wt.shape
        sub = [order_list[g] for g in members]
        G = len(sub)
        self.m, self.T, self.N, self.G = m, T, N, G
        self.Wt, self.valid = Wt, valid
        # cells by decreasing length: at step t the series still running are a prefix, so the
        # time loops work on slices without the padding of shorter series
        end = np.where(valid.any(axis=0), T - np.argmax(valid[::-1], axis=0), 0)
        series = np.repeat(np.arange(N), G)
        within = np.tile(np.arange(G), N)
        perm = np.argsort(-end[series], kind="stable")
        series, within = series[perm], within[perm]
        self.series = series
        self.column = np.asarray(members)[within]
        self.end = end[series]
        free = table(sub)[within]
        free[:, 0] = constant[series]
        self.free = free
        count = free.sum(axis=1)
        self.k = max(int(count.max()) if len(count) else 1, 1)
        order = np.argsort(~free, axis=1, kind="stable")[:, : self.k]
        self.used = np.arange(self.k)[None, :] < count[:, None]
        self.slots = np.where(self.used, order, 7)  # 7: a dummy slot for padding channels
        start = first[series] + spans(sub, m)[within]
        t = np.arange(T)[:, None]
        self.act = (t >= start[None, :]) & valid[:, self.series]  # (T, C)
        self.lo = int(start.min()) if len(start) else T
        self.a_lags, self.b_lags = _lag_sets(sub, m)

    def centred(self, idx: np.ndarray, mu: np.ndarray) -> np.ndarray:
        s = self.series[idx]
        return (self.Wt[:, s] - mu[None, :]) * self.valid[:, s]

    def residuals(self, idx: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals e (T, c) and sums of squares (c,) of cells idx with parameters beta."""
        a, b = polys(beta, self.m)
        Wc = self.centred(idx, beta[:, 0])
        act = self.act[:, idx]
        e = Wc.copy()
        for j in self.a_lags:
            e[j:] += a[:, j] * Wc[:-j]
        e *= act
        sse = np.zeros(len(idx))
        alive = self.alive(idx)
        for t in range(self.lo, self.T):
            c = alive[t]
            if not c:
                break
            row = e[t, :c]
            for k in self.b_lags:
                if t - k < self.lo:
                    break
                row -= b[:c, k] * e[t - k, :c]
            row *= act[t, :c]
            sse[:c] += row * row
        return e, sse

    def alive(self, idx: np.ndarray) -> np.ndarray:
        """How many of cells idx (by decreasing length) still run at each step t."""
        return np.searchsorted(-self.end[idx], -np.arange(self.T), side="left")

    def _source(self, slot: int, beta: np.ndarray, Wc: np.ndarray, e: np.ndarray):
        """The derivative input of `slot` before its lag and the 1/b(B) filter, and the lag.

        d/dphi_i of a(B)Wc is -B^i Phi(B^m) Wc, d/dPhi of it -B^m phi(B) Wc; d/dtheta_i of
        b(B)e is B^i Theta(B^m) e, d/dTheta B^m theta(B) e (the Jacobian is minus those,
        filtered by 1/b(B) like the residuals themselves).
        """
        m = self.m
        if slot in (1, 2, 4, 5):
            base, coef = (Wc, -beta[:, 3]) if slot in (1, 2) else (e, beta[:, 6])
            x = base.copy()
            if m > 1:
                x[m:] += coef * base[:-m]
            return x, slot if slot < 3 else slot - 3
        base, c1, c2 = (Wc, -beta[:, 1], -beta[:, 2]) if slot == 3 else (e, beta[:, 4], beta[:, 5])
        x = base.copy()
        x[1:] += c1 * base[:-1]
        x[2:] += c2 * base[:-2]
        return x, m

    def normal(self, idx, beta, e) -> tuple[np.ndarray, np.ndarray]:
        """Packed J'J (c, k, k) and J'e (c, k) of the conditional residuals' exact Jacobian.

        d/dphi_i of a(B)Wc is -B^i Phi(B^m) Wc, of b(B) e it is B^i Theta(B^m) e (and so on for
        the seasonal factors); each input is filtered by 1/b(B) like the residuals themselves,
        the products accumulated step by step.
        """
        _, b = polys(beta, self.m)
        Wc = self.centred(idx, beta[:, 0])
        T, lo, c, k = self.T, self.lo, len(idx), self.k
        slots = self.slots[idx]
        # channels first, cells last: every operation runs along long contiguous cell vectors
        U = np.zeros((T, k, c), dtype=JAC_DTYPE)
        for slot in sorted(set(np.unique(slots).tolist()) - {7}):
            rows, cols = np.nonzero(slots == slot)
            if slot == 0:  # d/dmu: -a(1), the same at every step
                U[:, cols, rows] = -((1 - beta[rows, 1] - beta[rows, 2]) * (1 - beta[rows, 3]))
                continue
            x, lag = self._source(slot, beta[rows], Wc[:, rows], e[:, rows])
            if lag < T:
                U[lag:, cols, rows] = -x[: T - lag]
        act = self.act[:, idx].astype(JAC_DTYPE)
        et = e.astype(JAC_DTYPE)
        coef = {lag: b[:, lag].astype(JAC_DTYPE) for lag in self.b_lags}
        JtJ = np.zeros((k, k, c), dtype=JAC_DTYPE)
        Jte = np.zeros((k, c), dtype=JAC_DTYPE)
        alive = self.alive(idx)
        for t in range(lo, T):
            n = alive[t]
            if not n:
                break
            z = U[t, :, :n]
            for lag in self.b_lags:
                if t - lag < lo:
                    break
                z -= coef[lag][:n] * U[t - lag, :, :n]
            z *= act[t, :n]
            JtJ[:, :, :n] += z[:, None, :] * z[None, :, :]
            Jte[:, :n] += z * et[t, :n]
        return JtJ.transpose(2, 0, 1).astype(float), Jte.T.astype(float)

    def step(self, idx, beta, JtJ, Jte, lam) -> np.ndarray:
        """The damped Gauss-Newton step of cells idx, as a 7-slot delta."""
        f = self.used[idx]
        pair = f[:, :, None] & f[:, None, :]
        diag = np.diagonal(JtJ, axis1=1, axis2=2)
        scale = np.where(f & (diag > 0), diag, 1.0)
        eye = np.eye(self.k)[None]
        A = JtJ * pair + ((lam + 1e-10)[:, None] * scale)[:, None, :] * eye
        A = A + eye * (~f)[:, None, :]
        packed = -solve(A, Jte * f)
        packed = np.where(f & np.isfinite(packed), packed, 0.0)
        delta = np.zeros((len(idx), 8))
        delta[np.arange(len(idx))[:, None], self.slots[idx]] = packed
        delta[:, 7] = 0.0
        return delta[:, :7]


def _long_lags(m: int) -> np.ndarray:
    """Lags of the Hannan-Rissanen long autoregression: 1..4, and around 1, 2, 3 seasons."""
    if m <= 1:
        return np.arange(1, 9)
    seasonal = [k * m + d for k in (1, 2, 3) for d in (-1, 0, 1, 2)]
    return np.array(sorted({1, 2, 3, 4, *[s for s in seasonal if s > 0]}))


def _accumulate(rows: np.ndarray, X: np.ndarray, y: np.ndarray):
    """Sequential X'X and X'y over time of rows (T, N) bool, X (T, N, k), y (T, N)."""
    T, N, k = X.shape
    XtX = np.zeros((N, k, k))
    Xty = np.zeros((N, k))
    for t in range(T):
        if not rows[t].any():
            continue
        x = X[t] * rows[t][:, None]
        XtX += x[:, :, None] * x[:, None, :]
        Xty += x * y[t][:, None]
    return XtX, Xty


def _solve(XtX: np.ndarray, Xty: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Ridge-stabilised least squares on the columns `use` (others zero)."""
    k = XtX.shape[-1]
    eye = np.eye(k)
    pair = use[..., :, None] & use[..., None, :]
    diag = np.diagonal(XtX, axis1=-2, axis2=-1)
    scale = np.where(use, diag, 0).sum(axis=-1) / np.maximum(use.sum(axis=-1), 1)
    A = XtX * pair + eye * (RIDGE * scale + 1e-300)[..., None, None] * use[..., None, :]
    A = A + eye * (~use)[..., None, :]
    out = solve(A, Xty * use)
    return np.where(use & np.isfinite(out), out, 0.0)


def hannan_rissanen(Wt, valid, first, m, order_list, constant, mean) -> np.ndarray:
    """Start values (N, G, 7): long-AR residuals, then per order a regression of w_t on
    w_{t-1}, w_{t-2}, w_{t-m}, e_{t-1}, e_{t-2}, e_{t-m} (the free ones), shrunk into the
    admissible region. Cross terms of the multiplicative model are left to the CSS fit."""
    T, N = Wt.shape
    G = len(order_list)
    Wd = (Wt - np.where(constant, mean, 0.0)[None, :]) * valid
    count = colsum(valid.astype(float)).astype(int)
    lags = _long_lags(m)
    use = lags[None, :] <= (count // 3)[:, None]  # (N, L): enough points for each lag
    top = np.where(use, lags[None, :], 0).max(axis=1) if len(lags) else np.zeros(N, int)
    X = np.zeros((T, N, len(lags)))
    for i, lag in enumerate(lags):
        if lag < T:
            X[lag:, :, i] = Wd[:-lag]
    t = np.arange(T)[:, None]
    rows = valid & (t >= (first + top)[None, :])
    phi = _solve(*_accumulate(rows, X, Wd), use)
    fitted = np.zeros_like(Wd)
    for i in range(len(lags)):
        fitted += X[:, :, i] * (phi[:, i] * use[:, i])[None, :]
    ehat = (Wd - fitted) * rows
    # the shared regressors of step 2: [w1, w2, w_m, e1, e2, e_m] (slots 1..6)
    R = np.zeros((T, N, 6))
    for col, (src, lag) in enumerate(((Wd, 1), (Wd, 2), (Wd, m), (ehat, 1), (ehat, 2),
                                      (ehat, m))):  # fmt: skip
        if (m > 1 or col not in (2, 5)) and lag < T:
            R[lag:, :, col] = src[:-lag]
    reach = (m + 2) if m > 1 else 2
    rows2 = valid & (t >= (first + top + reach)[None, :])
    XtX, Xty = _accumulate(rows2, R, Wd)
    free = table(order_list)[:, 1:]  # (G, 6)
    enough = colsum(rows2.astype(float)) >= free.sum(axis=1).max() + 3
    coef = _solve(np.repeat(XtX[:, None], G, axis=1), np.repeat(Xty[:, None], G, axis=1),
                  np.broadcast_to(free[None], (N, G, 6)) & enough[:, None, None])  # fmt: skip
    beta = np.zeros((N, G, 7))
    beta[..., 0] = np.where(constant, mean, 0.0)[:, None]
    beta[..., 1:] = coef
    # shrink towards zero until admissible (the region is star-shaped around zero)
    out = beta.copy()
    done = admissible(beta)
    for s in (0.9, 0.75, 0.5, 0.25, 0.0):
        trial = beta.copy()
        trial[..., 1:] *= s
        take = ~done & admissible(trial)
        out[take] = trial[take]
        done |= take
    return out


def groups(order_list: list[tuple[int, int, int, int]], m: int) -> list[list[int]]:
    """Orders by the lags of their MA filter: none or short (1, 2) / with a seasonal MA."""
    short = [g for g, (_, _, _, Q) in enumerate(order_list) if not (Q and m > 1)]
    seasonal = [g for g, (_, _, _, Q) in enumerate(order_list) if Q and m > 1]
    return [part for part in (short, seasonal) if part]


def aicc(sse_w: np.ndarray, cnt_w: np.ndarray, k: np.ndarray) -> np.ndarray:
    """AICc of the conditional fit on the common window (inf where undefined)."""
    with np.errstate(all="ignore"):
        value = cnt_w * np.log(sse_w / cnt_w) + 2 * k + 2 * k * (k + 1) / (cnt_w - k - 1)
    return np.where((cnt_w - k - 1 > 0) & np.isfinite(value), value, np.inf)


def css(W2: np.ndarray, v2: np.ndarray, m: int, order_list: list[tuple[int, int, int, int]],
        constant: np.ndarray, max_iter: int = MAX_ITER,
        prune: tuple[tuple[int, float], ...] = PRUNE) -> dict[str, np.ndarray]:  # fmt: skip
    """CSS fits of every order to every (differenced) series: beta (N, G, 7), sse, counts.

    Every order is scored on the window after the longest span of the list (so that orders
    with more lags are not scored on fewer points). `prune` (steps taken, gap): a cell whose
    AICc is more than the gap above the best of its series stops; later steps only lower the
    best, so it could not be chosen unless its own sum of squares still fell a long way.
    """
    N, T = W2.shape
    G = len(order_list)
    valid = v2.T.copy()  # (T, N)
    first = np.where(valid.any(axis=0), valid.argmax(axis=0), T)
    Wt = np.where(valid, W2.T, 0.0)
    mean = colsum(Wt) / np.maximum(colsum(valid.astype(float)), 1)
    window = (np.arange(T)[:, None] >= (first + spans(order_list, m).max())[None, :]) & valid
    start = hannan_rissanen(Wt, valid, first, m, order_list, constant, mean)
    parts = [_Group(Wt, valid, first, m, order_list, members, constant)
             for members in groups(order_list, m)]  # fmt: skip
    state = [_start(grp, start, mean, constant, window) for grp in parts]
    k_all = np.zeros((N, G))
    cnt_w = np.zeros((N, G))
    for grp in parts:
        k_all[grp.series, grp.column] = grp.free.sum(axis=1) + 1
        cnt_w[grp.series, grp.column] = colsum(window[:, grp.series].astype(float))
    for it in range(max_iter + 1):
        gaps = [g for after, g in prune if after <= it]
        if gaps:
            sse_w = np.full((N, G), np.inf)
            for grp, st in zip(parts, state, strict=True):
                sse_w[grp.series, grp.column] = st["sse_w"]
            score = aicc(sse_w, cnt_w, k_all)
            with np.errstate(invalid="ignore"):
                gap = score - score.min(axis=1, keepdims=True)
            for grp, st in zip(parts, state, strict=True):
                st["done"] |= gap[grp.series, grp.column] > gaps[-1]
        if it == max_iter or not any((~st["done"]).any() for st in state):
            break
        for grp, st in zip(parts, state, strict=True):
            _iterate(grp, st, window)
    out = {"beta": np.zeros((N, G, 7)), "sse": np.zeros((N, G)), "cnt": np.zeros((N, G), int),
           "sse_w": np.zeros((N, G)), "e": np.zeros((N, G, T)), "steps": np.zeros((N, G), int)}  # fmt: skip
    for grp, st in zip(parts, state, strict=True):
        at = (grp.series, grp.column)
        out["beta"][at] = st["beta"]
        out["sse"][at] = st["sse"]
        out["sse_w"][at] = st["sse_w"]
        out["cnt"][at] = colsum(grp.act.astype(float)).astype(int)
        out["e"][at] = st["e"].T
        out["steps"][at] = st["steps"]
    out["cnt_w"] = cnt_w.astype(int)
    out["k"] = k_all.astype(int)
    return out


def _start(grp: _Group, start: np.ndarray, mean, constant, window) -> dict[str, np.ndarray]:
    """The better of the Hannan-Rissanen and the plain start of every cell, and LM state."""
    C = len(grp.series)
    plain = np.zeros((C, 7))
    plain[:, 0] = np.where(constant, mean, 0.0)[grp.series]
    plain[:, 6] = np.where(grp.free[:, 6], SMA_START, 0.0)
    hr = np.where(grp.free, start[grp.series, grp.column], 0.0)
    hr[:, 0] = plain[:, 0]
    everyone = np.arange(C)
    e_hr, sse_hr = grp.residuals(everyone, hr)
    e_pl, sse_pl = grp.residuals(everyone, plain)
    use_hr = np.isfinite(sse_hr) & ~(sse_pl < sse_hr)
    e = np.where(use_hr[None, :], e_hr, e_pl)
    sse = np.where(use_hr, sse_hr, sse_pl)
    return {
        "beta": np.where(use_hr[:, None], hr, plain), "e": e, "sse": sse,
        "sse_w": colsum(e * e * window[:, grp.series]),
        "lam": np.full(C, 1e-3), "JtJ": np.zeros((C, grp.k, grp.k)), "Jte": np.zeros((C, grp.k)),
        "fresh": np.zeros(C, bool), "steps": np.zeros(C, int),
        "done": ~np.isfinite(sse) | ~grp.used.any(axis=1),
    }  # fmt: skip


def _iterate(grp: _Group, st: dict[str, np.ndarray], window: np.ndarray) -> None:
    """One Levenberg-Marquardt step of the cells still moving (in place)."""
    idx = np.flatnonzero(~st["done"])
    if not len(idx):
        return
    beta, e, sse, lam = st["beta"], st["e"], st["sse"], st["lam"]
    need = idx[~st["fresh"][idx]]
    if len(need):
        st["JtJ"][need], st["Jte"][need] = grp.normal(need, beta[need], e[:, need])
        st["fresh"][need] = True
    delta = grp.step(idx, beta[idx], st["JtJ"][idx], st["Jte"][idx], lam[idx])
    trial = beta[idx] + delta
    ok = admissible(trial) & np.isfinite(trial).all(axis=1) & (np.abs(delta).max(axis=1) > 0)
    better = np.zeros(len(idx), bool)
    gain = np.zeros(len(idx))
    if ok.any():
        sub = idx[ok]
        e_t, s_t = grp.residuals(sub, trial[ok])
        won = np.isfinite(s_t) & (s_t < sse[sub])
        better[ok] = won
        gain[ok] = np.where(won, sse[sub] - s_t, 0.0)
        moved = sub[won]
        e[:, moved] = e_t[:, won]
        sse[moved] = s_t[won]
        st["sse_w"][moved] = colsum(e_t[:, won] ** 2 * window[:, grp.series[moved]])
    moved = idx[better]
    beta[moved] = trial[better]
    st["fresh"][moved] = False
    small = better & (gain <= FTOL * np.maximum(sse[idx] + gain, 1e-300))
    lam[idx] = np.where(better, lam[idx] / LAM_DOWN, lam[idx] * 4)
    st["steps"][idx] += 1
    st["done"][idx] = small | (~better & (lam[idx] > LAM_MAX)) | ~np.isfinite(sse[idx])
