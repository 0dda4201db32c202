"""`mktai forecast`, `mktai train forecast` and `mktai evaluate` through the real CLI.

Data: seeded synthetic daily sales (weekly pattern, a price effect, a trend) written as real CSV
files; the store and the model files are real.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

OUT_COLUMNS = ["date", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "model"]


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def make_sales(days: int = 140, seed: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    """3 stores x 2 products, daily: level x weekly pattern, price elasticity, noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    week = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.5, 0.6])[dates.dayofweek]
    rows = []
    for store in ("north", "south", "east"):
        for product in ("tea", "cake"):
            base = rng.uniform(40, 120)
            price = np.round(rng.uniform(2, 4) * (1 + 0.15 * (rng.random(days) < 0.2)), 2)
            sales = base * week * (1 + 0.002 * np.arange(days)) - 8 * (price - 3)
            sales = np.maximum(sales + rng.normal(0, base * 0.05, days), 0).round(1)
            rows.append(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "store": store,
                                      "product": product, "sales": sales, "price": price}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("fc")
    full = make_sales(168)
    cut = pd.Timestamp("2024-01-01") + pd.Timedelta(days=139)
    history = full[pd.to_datetime(full["date"]) <= cut]
    future = full[pd.to_datetime(full["date"]) > cut]
    paths = {"sales": tmp / "sales.csv", "future": tmp / "future.csv",
             "actuals": tmp / "actuals.csv", "dir": tmp}  # fmt: skip
    history.sample(frac=1.0, random_state=1).to_csv(paths["sales"], index=False)  # unsorted
    future.drop(columns="sales").to_csv(paths["future"], index=False)
    future.to_csv(paths["actuals"], index=False)
    return paths


def test_long_by_keys_output_columns(files):
    out = files["dir"] / "fc.csv"
    res = run("forecast", str(files["sales"]), "--horizon", "14", "--by", "store,product",
              "-o", str(out), "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["store", "product", *OUT_COLUMNS]
    assert len(fc) == 6 * 14
    assert fc["date"].min() == "2024-05-20" and fc["date"].max() == "2024-06-02"
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    summary = json.loads(res.stdout)
    assert summary["counts"]["series"] == 6 and summary["frequency"] == "D"


def test_wide_input(files):
    frame = make_sales(84).pivot_table(index="date", columns=["store", "product"], values="sales")
    frame.columns = [f"{s}_{p}" for s, p in frame.columns]
    wide = files["dir"] / "wide.csv"
    frame.reset_index().to_csv(wide, index=False)
    out = files["dir"] / "wide_fc.csv"
    res = run("forecast", str(wide), "--wide", "--horizon", "7", "-a", "ets", "-o", str(out))
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["series", *OUT_COLUMNS]
    assert sorted(fc["series"].unique()) == sorted(frame.columns)
    assert fc["model"].str.startswith("ets(").all()


def test_exog_with_future_and_missing_future_period(files):
    out = files["dir"] / "exog.csv"
    res = run("forecast", str(files["sales"]), "--horizon", "14", "--by", "store,product",
              "--exog", "price", "--future", str(files["future"]), "-a", "linear",
              "-o", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    actual = pd.read_csv(files["actuals"])
    merged = fc.merge(actual, on=["store", "product", "date"]).head(6 * 14)
    mae_linear = np.mean(np.abs(merged["forecast"] - merged["sales"]))
    assert mae_linear < 0.1 * merged["sales"].mean()
    broken = pd.read_csv(files["future"])
    drop = (broken["store"] == "south") & (broken["date"] == "2024-05-25")
    bad_future = files["dir"] / "future_gap.csv"
    broken[~drop].to_csv(bad_future, index=False)
    res = run("forecast", str(files["sales"]), "--horizon", "14", "--by", "store,product",
              "--exog", "price", "--future", str(bad_future))  # fmt: skip
    assert res.exit_code == 2
    assert "south/tea: 2024-05-25" in res.output and "south/cake: 2024-05-25" in res.output
    res = run("forecast", str(files["sales"]), "--horizon", "14", "--exog", "price")
    assert res.exit_code == 2 and "--future" in res.output


def test_backtest_table_detail_and_plot(files):
    png, page = files["dir"] / "fc.png", files["dir"] / "fc.html"
    res = run("forecast", str(files["sales"]), "--horizon", "14", "--by", "store,product",
              "--backtest", "2", "--detail", "--plot", str(png), "-o", str(files["dir"] / "b.csv"),
              "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    models = {row["model"]: row for row in summary["backtest"]}
    assert {"naive", "snaive", "ets", "theta", "arima", "comb", "auto"} <= set(models)
    for row in models.values():
        assert {"mase", "smape", "rmsse", "owa", "coverage_80", "coverage_95"} <= set(row)
    # naive2 equals naive when the seasonality test fails; here the weekly pattern is strong
    assert models["auto"]["mase"] < models["naive"]["mase"]
    assert "per series" in res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run("forecast", str(files["sales"]), "--horizon", "7", "--by", "store,product",
              "-a", "snaive", "--plot", str(page), "-o", str(files["dir"] / "c.csv"))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "data:image/png;base64," in page.read_text()


def test_train_forecast_model_and_evaluate_with_gate(files, tmp_path):
    store = str(tmp_path / "store")
    res = run("--store", store, "train", "forecast", str(files["sales"]), "--name", "weekly",
              "--horizon", "14", "--by", "store,product")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = tmp_path / "again.csv"
    res = run("--store", store, "forecast", "--model", "weekly", "-o", str(out))
    assert res.exit_code == 0, res.output
    again = pd.read_csv(out)
    assert len(again) == 6 * 14 and again["date"].min() == "2024-05-20"
    new_data = tmp_path / "new.csv"
    week = pd.read_csv(files["actuals"]).query("date < '2024-05-27'")
    pd.concat([pd.read_csv(files["sales"]), week]).to_csv(new_data, index=False)
    res = run("--store", store, "forecast", str(new_data), "--model", "weekly", "-o", str(out))
    assert res.exit_code == 0, res.output
    moved = pd.read_csv(out)
    assert moved["date"].min() == "2024-05-27"  # the series moved on with the new week
    res = run("--store", store, "evaluate", "--model", "weekly", "--data", str(files["actuals"]),
              "--fail-under", "mase=3", "--fail-under", "coverage_error_95=0.5", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert {"mase", "smape", "rmsse", "owa", "coverage_80", "coverage_95"} <= set(report["metrics"])
    assert report["metrics"]["mase"] < 3
    res = run("--store", store, "evaluate", "--model", "weekly", "--data", str(files["actuals"]),
              "--fail-under", "mase=0.01")  # fmt: skip
    assert res.exit_code == 1 and "mase" in res.output


def test_bad_input_handling(tmp_path):
    dates = pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    rng = np.random.default_rng(4)
    parts = [
        pd.DataFrame({"date": dates, "shop": "flat", "sales": 5.0}),
        pd.DataFrame({"date": dates, "shop": "zero", "sales": 0.0}),
        pd.DataFrame({"date": dates[-10:], "shop": "young", "sales": rng.uniform(5, 9, 10)}),
        pd.DataFrame({"date": dates, "shop": "falling",
                      "sales": np.maximum(100 - 1.5 * np.arange(60) + rng.normal(0, 1, 60), 0)}),
    ]  # fmt: skip
    frame = pd.concat(parts, ignore_index=True).astype({"sales": object})
    frame.loc[140, "sales"] = "n/a?"  # a day of the "falling" shop
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "fc.csv"
    res = run("forecast", str(path), "--horizon", "30", "--by", "shop", "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    text = res.stderr
    assert "1 input row(s) rejected" in text and "non-numeric value 'n/a?'" in text
    assert summary["rejects"][0]["row"] == 141  # 1-based data row
    assert "shorter than two seasons" in text and "young" in text
    assert "horizon 30 is longer than the history" in text
    assert "constant series forecast by naive" in text
    fc = pd.read_csv(out)
    flat = fc[fc["shop"] == "flat"]
    assert (flat["forecast"] == 5.0).all() and (fc[fc["shop"] == "zero"]["forecast"] == 0).all()
    assert (fc["forecast"] >= 0).all() and (fc["lo_95"] >= 0).all()
    assert summary["counts"]["clipped_negative"] > 0 and "clipped to 0" in text
    assert summary["counts"]["missing_periods_filled"] == 1  # the rejected row's day


def test_seed_reproducible_and_usage_errors(files):
    a = run("forecast", str(files["sales"]), "--horizon", "7", "--by", "store,product",
            "-a", "gbm", "--seed", "3")  # fmt: skip
    b = run("forecast", str(files["sales"]), "--horizon", "7", "--by", "store,product",
            "-a", "gbm", "--seed", "3")  # fmt: skip
    assert a.exit_code == 0, a.output
    assert a.stdout == b.stdout
    res = run("forecast", str(files["sales"]), "--horizon", "7", "--model", "nosuchmodel",
              "--store", str(files["dir"] / "empty-store"))  # fmt: skip
    assert res.exit_code == 3 and "nosuchmodel" in res.output
    res = run("forecast", str(files["sales"]), "--horizon", "7", "--freq", "X")
    assert res.exit_code == 2
    res = run("forecast", str(files["sales"]), "--horizon", "7", "--plot", "x.pdf")
    assert res.exit_code == 2 and ".png or .html" in res.output


def test_irregular_dates_with_freq_and_a_series_shorter_than_its_season(tmp_path):
    """Daily sales with gaps of two days cannot be told apart from other frequencies, so
    without --freq it is a clear exit 2 asking for it; with --freq D the missing days are filled
    and reported, and a series shorter than one season (5 days of m=7) is forecast, not a
    crash in the seasonal models."""
    path = tmp_path / "gappy.csv"
    path.write_text("date,sales\n2024-01-01,5\n2024-01-03,7\n2024-01-05,3\n2024-01-07,6\n")
    out = tmp_path / "fc.csv"
    res = run("forecast", str(path), "--horizon", "3", "-o", str(out))
    assert res.exit_code == 2 and "give --freq D, W, M or Q" in res.stderr
    assert not out.exists()
    res = run("forecast", str(path), "--horizon", "3", "--freq", "D", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "3 missing period(s) in 1 series filled with 0" in res.stderr
    fc = pd.read_csv(out)
    assert fc["date"].tolist() == ["2024-01-08", "2024-01-09", "2024-01-10"]
    assert fc["forecast"].notna().all() and (fc["lo_95"] <= fc["hi_95"]).all()
