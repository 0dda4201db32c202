"""A series' forecast does not depend on the batch it is fitted in.

The issue's promise: 1,000 series forecast at once give the same MASE as series-by-series fits.
A batch mixes long and short series (short ones padded to the longest), is split into blocks
and spread over worker processes; none of that may change a single number of a series' fits.
"""

from __future__ import annotations

import numpy as np
import pytest

from mktai.tasks.forecast import engine

sm = pytest.importorskip("statsmodels.api", reason="statsmodels ships the real monthly series")


def _panel(count: int = 24, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Windows of real monthly series (co2, electrical equipment) of 30 to 170 months, rescaled
    with multiplicative noise (as benchmarks/forecast_data.monthly_panel), left-aligned."""
    from statsmodels.datasets import elec_equip

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()
    sources = [co2, elec_equip.load().data.iloc[:, 0].to_numpy(dtype=float)]
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        y = sources[i % 2]
        length = int(rng.integers(30, 171))
        start = int(rng.integers(0, len(y) - length + 1))
        w = y[start : start + length]
        base = w - w.min() + 0.2 * (w.max() - w.min() + 1e-9)
        rows.append(base / base.mean() * rng.uniform(50, 5000)
                    * np.exp(rng.normal(0, 0.1, length)))  # fmt: skip
    n = np.array([len(r) for r in rows])
    Y = np.full((count, n.max()), np.nan)
    for i, r in enumerate(rows):
        Y[i, : len(r)] = r
    return Y, n


def test_batched_fits_equal_series_by_series_at_every_origin(monkeypatch):
    Y, n = _panel()
    models = engine.models_for("auto")
    # the parallel path of a big panel: several blocks of rows over two worker processes
    monkeypatch.setenv("MKTAI_JOBS", "2")
    monkeypatch.setattr(engine, "BLOCK_ROWS", 30)
    batch = engine.fit_origins(Y, n, 12, 12, models, 3, phase=np.zeros(len(n), int))
    monkeypatch.setenv("MKTAI_JOBS", "1")
    choice = engine.choose(batch, 0, 3, engine.AUTO_CANDIDATES)
    engine.weighted(batch, 3, engine.members(False))  # auto: the backtest-weighted combination
    assert "arima" in models and "ets" in models and "linear" in models
    for i in range(len(n)):
        one = engine.fit_origins(Y[i : i + 1, : n[i]], n[i : i + 1], 12, 12, models, 3,
                                 phase=np.zeros(1, int))  # fmt: skip
        engine.weighted(one, 3, engine.members(False))
        assert np.array_equal(batch.weights[0][i], one.weights[0][0])
        for j in range(4):
            for name in (*models, engine.WEIGHTED):
                got, alone = batch.fits[j][name].mean[i], one.fits[j][name].mean[0]
                assert np.array_equal(got, alone, equal_nan=True), (i, j, name, got - alone)
        assert engine.choose(one, 0, 3, engine.AUTO_CANDIDATES)[0] == choice[i]


def test_api_forecast_of_a_panel_equals_each_series_alone():
    import pandas as pd

    from mktai.api import forecast

    Y, n = _panel(count=12, seed=3)
    parts = []
    for i in range(len(n)):
        dates = pd.period_range(end="2024-12", periods=int(n[i]), freq="M").to_timestamp()
        parts.append(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "series": f"s{i:02d}",
                                   "sales": np.round(Y[i, : n[i]], 2)}))  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    together = forecast(frame, horizon=12, by=["series"]).frame
    for key in ("s00", "s05"):
        alone = forecast(frame[frame["series"] == key], horizon=12, by=["series"]).frame
        mine = together[together["series"] == key].reset_index(drop=True)
        # point forecasts and the model chosen; the conformal intervals pool the backtest
        # errors of every series with the same model, so those depend on the panel by design
        cols = ["series", "date", "forecast", "model"]
        pd.testing.assert_frame_equal(mine[cols], alone.reset_index(drop=True)[cols])
