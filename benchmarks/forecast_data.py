"""Seeded inputs of the forecast benchmark: real seasonal series, and 1,000 monthly ones.

real_series(): the real seasonal series the accuracy table uses, each (name, values, m, h):
  - store_sales.csv (../shared/data): the daily series with at most 60% zero days (21 of 59:
    the shop total, the UK, France, Germany, EIRE and the non-intermittent top products; the
    other 38 are intermittent, where ETS/ARIMA do not apply), h = 28 (the README's holdout);
  - statsmodels' datasets: co2 (Mauna Loa, weekly -> monthly means), elnino (monthly sea
    surface temperature 1950-2010) and elec_equip (monthly electrical equipment index), h = 12.
  R's datasets/forecast/fpp series are never used (kept aside for independent checks).

monthly_panel(1000): 1,000 monthly series made by resampling windows (5-15 years) of the three
real monthly series, rescaled to a random level, with multiplicative noise (5-15%) and an
occasional level shift, fixed seed. Written as a long CSV (date, series, sales) for the CLI.

    .venv/bin/python benchmarks/forecast_data.py   # writes benchmarks/_data/forecast_1000.csv
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "_data"
STORE_SALES = Path(__file__).resolve().parents[2] / "shared" / "data" / "store_sales.csv"
SEED = 20261201
MAX_ZERO_SHARE = 0.6


def _store_sales_path() -> Path:
    for candidate in (STORE_SALES, Path("/work/shared/data/store_sales.csv")):
        if candidate.exists():
            return candidate
    raise SystemExit(f"store_sales.csv not found at {STORE_SALES}")


def monthly_real() -> list[tuple[str, np.ndarray]]:
    """co2, elnino, elec_equip as monthly numpy arrays (statsmodels' bundled copies)."""
    warnings.simplefilter("ignore")
    import statsmodels.api as sm
    from statsmodels.datasets import elec_equip

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()
    elnino = sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy(dtype=float).reshape(-1)
    elec = elec_equip.load().data.iloc[:, 0].to_numpy(dtype=float)
    return [("co2", co2), ("elnino", elnino), ("elec_equip", elec)]


def store_sales_wide():
    import pandas as pd

    df = pd.read_csv(_store_sales_path(), parse_dates=["date"])
    return df


def real_series() -> list[tuple[str, np.ndarray, int, int]]:
    df = store_sales_wide()
    wide = df.pivot(index="date", columns="series", values="revenue").sort_index()
    out = []
    for name in wide.columns:
        y = wide[name].to_numpy(dtype=float)
        if np.mean(y == 0) <= MAX_ZERO_SHARE:
            out.append((f"store_sales {name}", y, 7, 28))
    for name, y in monthly_real():
        out.append((name, y, 12, 12))
    return out


def monthly_panel(count: int = 1000, seed: int = SEED):
    """Long frame date, series, sales of `count` resampled monthly series."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    sources = monthly_real()
    rows = []
    for i in range(count):
        name, y = sources[rng.integers(len(sources))]
        length = int(rng.integers(60, 181))
        start = int(rng.integers(0, len(y) - length + 1))
        window = y[start : start + length]
        base = window - window.min() + 0.2 * (window.max() - window.min() + 1e-9)
        level = float(np.exp(rng.uniform(np.log(50), np.log(5000))))
        values = base / base.mean() * level
        values *= np.exp(rng.normal(0, rng.uniform(0.05, 0.15), length))
        if rng.random() < 0.2:
            cut = int(rng.integers(length // 3, length))
            values[cut:] *= rng.uniform(0.7, 1.3)
        end = pd.Period("2024-12", freq="M")
        dates = pd.period_range(end - length + 1, end, freq="M").to_timestamp()
        rows.append(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "series": f"s{i:04d}",
                                  "sales": values.round(2), "source": name}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def write_panel(count: int = 1000) -> Path:
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"forecast_{count}.csv"
    monthly_panel(count).drop(columns="source").to_csv(path, index=False)
    return path


if __name__ == "__main__":
    print(write_panel())
