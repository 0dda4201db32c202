"""Forecast models and metrics against independent computations (statsmodels, hand values)."""

from __future__ import annotations

import numpy as np
import pytest

from mktai.evaluation import forecast_metrics as fm
from mktai.tasks.forecast import arima, engine, ets, linear, simple

sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference implementation")


def _co2() -> np.ndarray:
    return sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()


def _nile() -> np.ndarray:
    return sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=float)


def test_naive_snaive_drift_exact():
    Y = np.array([[1.0, 2, 3, 4, 5, 6, 7, np.nan], [5, 1, 5, 1, 5, 1, 5, 1]])
    n = np.array([7, 8])
    assert simple.naive(Y, n, 2, 3).mean.tolist() == [[7, 7, 7], [1, 1, 1]]
    assert simple.snaive(Y, n, 2, 3).mean.tolist() == [[6, 7, 6], [5, 1, 5]]
    drift = simple.drift(Y, n, 2, 2).mean
    assert np.allclose(drift[0], [8, 9])  # (7 - 1) / 6 per step
    assert np.allclose(drift[1], [1 - 4 / 7, 1 - 8 / 7])


def test_ses_recursion_matches_statsmodels_on_nile():
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    y = _nile()
    Y, n = y[None, :], np.array([len(y)])
    alpha = np.array([[0.25]])
    zero = np.zeros((1, 1))
    init = (y[:1], np.zeros(1), np.zeros((1, 1)))
    res = ets.run(Y, n, 1, "N", "N", (alpha, zero, zero, zero + 0.9), init, keep_states=True)
    ref = SimpleExpSmoothing(y, initialization_method="known", initial_level=y[0])
    fitted = ref.fit(smoothing_level=0.25, optimized=False)
    assert res["sse"][0, 0] == pytest.approx(fitted.sse, rel=1e-9)
    assert res["level"][0, 0] == pytest.approx(fitted.level[-1], rel=1e-9)


def test_holt_winters_additive_recursion_matches_statsmodels_on_co2():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _co2()[-240:]
    Y, n = y[None, :], np.array([len(y)])
    l0, b0, s0 = ets.initial_states(Y, n, 12, "A", "A")
    a, b, g = 0.5, 0.05, 0.2  # b is beta = alpha * beta* (Hyndman's error-correction form)
    pars = tuple(np.array([[v]]) for v in (a, b, g, 0.9))
    res = ets.run(Y, n, 12, "A", "A", pars, (l0, b0, s0))
    ref = ExponentialSmoothing(y, trend="add", seasonal="add", seasonal_periods=12,
                               initialization_method="known", initial_level=l0[0],
                               initial_trend=b0[0], initial_seasonal=s0[0])  # fmt: skip
    fitted = ref.fit(smoothing_level=a, smoothing_trend=b / a, smoothing_seasonal=g,
                     optimized=False)  # fmt: skip
    assert res["sse"][0, 0] == pytest.approx(fitted.sse, rel=1e-8)


def test_ets_aicc_choice_close_to_statsmodels_on_co2():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y, h = _co2()[-300:], 12
    fit = ets.fit(y[None, :-h], np.array([len(y) - h]), 12, h)
    assert fit.form[0].endswith(",A") or fit.form[0].endswith(",M")  # a seasonal form
    scale = fm.scales(y[None, :-h], np.array([len(y) - h]), 12)[0]
    ours = np.mean(np.abs(fit.mean[0] - y[-h:])) / scale
    ref = ETSModel(y[:-h], error="add", trend="add", seasonal="add", seasonal_periods=12)
    theirs = np.mean(np.abs(ref.fit(disp=False).forecast(h) - y[-h:])) / scale
    assert ours < 0.5  # far better than seasonal naive on a trending seasonal series
    assert ours < 1.6 * theirs


def test_arima_recovers_ar1_coefficient():
    rng = np.random.default_rng(3)
    N, T = 200, 300
    Y = np.zeros((N, T))
    e = rng.standard_normal((N, T))
    for t in range(1, T):
        Y[:, t] = 0.6 * Y[:, t - 1] + e[:, t]
    Y += 50
    fit = arima.fit(Y, np.full(N, T), 1, 6)
    ar1 = fit.params[:, 1]
    assert abs(np.median(ar1) - 0.6) < 0.08
    # forecasts revert to the mean 50
    assert abs(np.mean(fit.mean[:, -1]) - 50) < 0.5


def test_arima_css_recovers_airline_ma_coefficients():
    """The batched CSS estimate of (0,1)(0,1)12 matches the simulated MA coefficients and
    statsmodels' conditional least squares on the same series."""
    rng = np.random.default_rng(11)
    N, T, m = 60, 240, 12
    e = rng.standard_normal((N, T + 13))
    w = e[:, 13:] - 0.4 * e[:, 12:-1] - 0.6 * e[:, 1:-12] + 0.24 * e[:, :-13]
    res = arima.css(w, np.ones((N, T), bool), m, [(0, 1, 0, 1)], np.zeros(N, bool))
    beta = res["beta"][:, 0]
    assert abs(np.median(beta[:, 4]) + 0.4) < 0.05
    assert abs(np.median(beta[:, 6]) + 0.6) < 0.06
    assert np.all(np.abs(beta[:, 6]) < 1)  # invertible
    from statsmodels.tsa.arima.model import ARIMA

    ref = ARIMA(w[0], order=(0, 0, 1), seasonal_order=(0, 0, 1, m), trend="n")
    theirs = ref.fit().params  # exact ML: close to CSS for T = 240
    assert abs(beta[0, 4] - theirs[0]) < 0.05
    assert abs(beta[0, 6] - theirs[1]) < 0.08


def test_linear_uses_exogenous_regressor():
    rng = np.random.default_rng(5)
    N, T, h = 4, 140, 14
    price = rng.uniform(1, 3, size=(N, T + h, 1))
    t = np.arange(T + h)
    truth = 100 - 20 * price[..., 0] + 10 * np.sin(2 * np.pi * t / 7)[None, :]
    Y = truth[:, :T] + rng.normal(0, 1, size=(N, T))
    fit = linear.fit(Y, np.full(N, T), 7, h, X=price)
    assert np.max(np.abs(fit.mean - truth[:, T:])) < 3


def test_metrics_hand_computed():
    actual = np.array([[10.0, 12.0, 0.0]])
    forecast = np.array([[11.0, 10.0, 0.0]])
    scale, scale2 = np.array([2.0]), np.array([4.0])
    ps = fm.per_series(actual, forecast, scale, scale2)
    assert ps["mase"][0] == pytest.approx((1 + 2 + 0) / 3 / 2)
    assert ps["smape"][0] == pytest.approx((200 * 1 / 21 + 200 * 2 / 22 + 0) / 3)
    assert ps["rmsse"][0] == pytest.approx(np.sqrt((1 + 4 + 0) / 3 / 4))
    naive2 = np.array([[12.0, 12.0, 12.0]])
    s = fm.summary(actual, forecast, scale, scale2, naive2=naive2,
                   intervals={80: (forecast - 1.5, forecast + 1.5)})  # fmt: skip
    ref = fm.per_series(actual, naive2, scale, scale2)
    assert s["owa"] == pytest.approx(0.5 * (ps["smape"][0] / ref["smape"][0]
                                            + ps["mase"][0] / ref["mase"][0]))  # fmt: skip
    assert s["coverage_80"] == pytest.approx(2 / 3)
    assert s["coverage_error_80"] == pytest.approx(abs(2 / 3 - 0.8))
    Y = np.array([[1.0, 3, 2, 6, np.nan]])
    assert fm.scales(Y, np.array([4]), 2)[0] == pytest.approx((1 + 3) / 2)
    assert fm.scales(Y, np.array([4]), 2, power=2)[0] == pytest.approx((1 + 9) / 2)


def test_conformal_intervals_cover_on_simulated_series():
    rng = np.random.default_rng(11)
    N, T, h = 300, 160, 8
    t = np.arange(T)
    level = 100 + np.cumsum(rng.normal(0, 1, size=(N, T)), axis=1)
    Y = level + 5 * np.sin(2 * np.pi * t / 4)[None, :] + rng.normal(0, 2, size=(N, T))
    org = engine.fit_origins(Y, np.full(N, T), 4, h, ("naive", "snaive", "naive2", "theta"), 5)
    rows, _ = engine.backtest_table(org, 2, 3, ["snaive", "theta"], (80, 95))
    for row in rows:
        assert 0.90 <= row["coverage_95"] <= 0.99, row
        assert 0.72 <= row["coverage_80"] <= 0.88, row


def test_auto_averages_the_two_best_by_backtest():
    rng = np.random.default_rng(2)
    N, T, h = 30, 120, 6
    Y = 50 + np.cumsum(rng.normal(0, 1, size=(N, T)), axis=1)
    models = engine.models_for("auto")
    org = engine.fit_origins(Y, np.full(N, T), 1, h, models, 3)
    names = engine.choose(org, 0, 3, engine.AUTO_CANDIDATES)
    assert all("+" in str(name) for name in names)
    first = str(names[0]).split("+")
    mean, _ = engine.gather(org, 0, names[:1].repeat(N))
    expect = np.mean([org.fits[0][p].mean[0] for p in first], axis=0)
    assert np.allclose(mean[0], expect)


def test_auto_weights_members_by_their_backtest_errors():
    # strongly seasonal series: seasonal naive backtests far better than naive, so it must get
    # most of the weight, and the combination is the weighted mean of the two forecasts
    rng = np.random.default_rng(5)
    N, T, h, m = 40, 96, 6, 12
    t = np.arange(T)
    Y = 100 + 30 * np.sin(2 * np.pi * t / m)[None, :] + rng.normal(0, 2, size=(N, T))
    org = engine.fit_origins(Y, np.full(N, T), m, h, ("naive", "snaive", "naive2"), 3)
    engine.weighted(org, 3, ("naive", "snaive"))
    w = org.weights[0]
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.all(w[:, 1] > 0.8), w[:, 1].min()
    expect = w[:, :1] * org.fits[0]["naive"].mean + w[:, 1:] * org.fits[0]["snaive"].mean
    assert np.allclose(org.fits[0][engine.WEIGHTED].mean, expect)
    # the last origin has no earlier backtest: equal weights
    assert np.allclose(org.weights[3], 0.5)
