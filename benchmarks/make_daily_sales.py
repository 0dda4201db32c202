"""Write sample_data/daily_sales.csv: six daily series of ../shared/data/store_sales.csv.

The forecast demo and README examples need a small daily sales file with a price regressor and a
known-in-advance calendar regressor. store_sales.csv (CC BY 4.0, derived from UCI Online Retail)
has both; this keeps six non-intermittent series (the UK and five top products), renames
avg_unit_price to price and revenue to sales, and drops the other columns. Deterministic.

    .venv/bin/python benchmarks/make_daily_sales.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "store_sales.csv"
SERIES = ["country:United Kingdom", "stock:85123A", "stock:22423", "stock:84879",
          "stock:85099B", "stock:47566"]  # fmt: skip


def main() -> None:
    source = SOURCE if SOURCE.exists() else Path("/work/shared/data/store_sales.csv")
    df = pd.read_csv(source, dtype={"date": str, "series": str})
    df = df[df["series"].isin(SERIES)]
    out = df.rename(columns={"revenue": "sales", "avg_unit_price": "price"})
    out = out[["date", "series", "sales", "price", "shop_open"]]
    out.to_csv(ROOT / "sample_data" / "daily_sales.csv", index=False)
    print(f"wrote {len(out)} rows")


if __name__ == "__main__":
    main()
