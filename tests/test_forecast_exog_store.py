"""A stored forecast model with regressors, end to end through the CLI on real data.

`mktai train forecast --exog shop_open,avg_unit_price` on three store_sales series (Online
Retail, ../shared/data), then `forecast --model NAME --future drivers.csv` and `evaluate`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

STORE_SALES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "store_sales.csv"
SERIES = ["all", "country:Germany", "stock:85123A"]
EXOG = "shop_open,avg_unit_price"


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    path = STORE_SALES if STORE_SALES.exists() else Path("/work/shared/data/store_sales.csv")
    if not path.exists():
        pytest.skip(f"real data not found: {STORE_SALES} (../shared/data)")
    df = pd.read_csv(path).query("series in @SERIES")
    # a planner's price plan: the last price carried on (the file leaves it empty on days
    # without sales)
    df["avg_unit_price"] = df.groupby("series")["avg_unit_price"].transform(
        lambda s: s.ffill().bfill()
    )
    days = sorted(df["date"].unique())
    cut = days[-28]
    tmp = tmp_path_factory.mktemp("exog")
    keep = ["date", "series", "revenue", "shop_open", "avg_unit_price"]
    out = {"cut": cut, "dir": tmp}
    for name, part in (("hist", df[df["date"] < cut]), ("actuals", df[df["date"] >= cut])):
        out[name] = tmp / f"{name}.csv"
        part[keep].to_csv(out[name], index=False)
    drivers = df[df["date"] >= cut][["date", "series", "shop_open", "avg_unit_price"]]
    out["drivers"] = tmp / "drivers.csv"
    drivers.to_csv(out["drivers"], index=False)
    out["closed"] = tmp / "closed.csv"
    drivers.assign(shop_open=0).to_csv(out["closed"], index=False)
    out["gap"] = tmp / "gap.csv"
    drivers[drivers["date"] != days[-3]].to_csv(out["gap"], index=False)
    return out


def test_train_with_exog_then_forecast_with_future_and_evaluate(files):
    store = str(files["dir"] / "store")
    res = run("--store", store, "train", "forecast", str(files["hist"]), "--name", "drivers",
              "--horizon", "28", "--by", "series", "--algorithm", "linear", "--exog", EXOG,
              "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    trained = json.loads(res.stdout)
    assert "last values" in " ".join(trained.get("warnings", []))

    res = run("--store", store, "forecast", "--model", "drivers", "-o", str(files["dir"] / "x"))
    assert res.exit_code == 2 and "--future" in res.output

    fc_path, closed_path = files["dir"] / "fc.csv", files["dir"] / "fc_closed.csv"
    res = run("--store", store, "forecast", "--model", "drivers", "--future",
              str(files["drivers"]), "-o", str(fc_path))  # fmt: skip
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(fc_path)
    assert len(fc) == 3 * 28 and fc["date"].min() == files["cut"]
    assert set(fc["series"]) == set(SERIES)

    # the regressors are applied: a plan with the shop closed every day forecasts less
    res = run("--store", store, "forecast", "--model", "drivers", "--future",
              str(files["closed"]), "-o", str(closed_path))  # fmt: skip
    assert res.exit_code == 0, res.output
    closed = pd.read_csv(closed_path)
    total = fc[fc["series"] == "all"]["forecast"].sum()
    assert closed[closed["series"] == "all"]["forecast"].sum() < 0.8 * total

    res = run("--store", store, "forecast", "--model", "drivers", "--future", str(files["gap"]),
              "-o", str(files["dir"] / "gap_fc.csv"))  # fmt: skip
    assert res.exit_code == 2 and "missing" in res.output

    res = run("--store", store, "evaluate", "--model", "drivers", "--data",
              str(files["actuals"]), "--fail-under", "mase=5", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["metrics"]["mase"] < 5 and "coverage_95" in report["metrics"]
