"""Generate the segment benchmark input: 1M customers, ~10M transaction lines, fixed seed.

Written to benchmarks/_data/segment_1m.parquet (gitignored) in the raw Online Retail layout
(InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID), so the cleaning layer
derives amount = quantity x price and flags cancellations (InvoiceNo starting with C) itself.

Customers follow a BG/NBD-like story: a first purchase uniform over two years, a personal
purchase rate (gamma), a dropout chance after each order (beta), 1-6 lines per order,
log-normal prices with a customer spend level, ~2% cancelled lines.

    .venv/bin/python benchmarks/segment_data.py [--customers 1000000] [--force]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "_data"
SEED = 20240601
START = "2022-01-03"
DAYS = 730


def path_for(customers: int) -> Path:
    label = f"{customers // 1_000_000}m" if customers % 1_000_000 == 0 else str(customers)
    return DATA_DIR / f"segment_{label}.parquet"


def generate(customers: int = 1_000_000, *, force: bool = False, seed: int = SEED) -> Path:
    """Write the parquet file (skipped when it already exists) and return its path."""
    import numpy as np
    import pandas as pd

    path = path_for(customers)
    if path.exists() and not force:
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = customers
    first = rng.integers(0, DAYS, n)
    rate = rng.gamma(0.9, 1 / 45.0, n)  # orders per day while alive
    dropout = rng.beta(1.2, 6.0, n)
    # Orders: first purchase plus a geometric number of repeats, each at an exponential gap.
    repeats = np.minimum(rng.geometric(np.maximum(dropout, 1e-3)) - 1, 60)
    orders_per = 1 + repeats
    cust_of_order = np.repeat(np.arange(n), orders_per)
    gaps = rng.exponential(1.0, cust_of_order.size) / rate[cust_of_order]
    first_order = np.r_[0, np.cumsum(orders_per)[:-1]]
    gaps[first_order] = 0.0
    offsets = np.cumsum(gaps)
    offsets -= np.repeat(offsets[first_order], orders_per)
    day = first[cust_of_order] + offsets
    keep = day < DAYS
    cust_of_order, day = cust_of_order[keep], day[keep]
    n_orders = cust_of_order.size
    lines_per = rng.integers(1, 5, n_orders)  # 1-4 lines, mean 2.5
    target_lines = 10_000_000 * customers // 1_000_000
    scale = target_lines / lines_per.sum()
    if scale > 1:  # top up so the file has ~10 lines per customer
        lines_per = lines_per + rng.binomial(4, min(scale - 1, 1.0) / 2, n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per)
    line_cust = cust_of_order[line_order]
    seconds = day[line_order] * 86400 + rng.integers(8 * 3600, 18 * 3600, n_orders)[line_order]
    when = pd.Timestamp(START) + pd.to_timedelta(seconds.astype("int64"), unit="s")
    spend_level = rng.lognormal(0.0, 0.6, n)
    price = np.round(rng.lognormal(1.0, 0.8, line_order.size) * spend_level[line_cust], 2)
    quantity = rng.integers(1, 13, line_order.size)
    cancelled = rng.random(line_order.size) < 0.02
    quantity = np.where(cancelled, -quantity, quantity)
    invoice = (500_000 + line_order).astype(str)
    invoice = np.where(cancelled, np.char.add("C", invoice), invoice)
    frame = pd.DataFrame(
        {
            "InvoiceNo": invoice,
            "StockCode": rng.integers(10_000, 99_999, line_order.size).astype(str),
            "Quantity": quantity,
            "InvoiceDate": when.floor("s"),
            "UnitPrice": price,
            "CustomerID": (10_000_000 + line_cust).astype(str),
        }
    )
    frame = frame.sort_values("InvoiceDate", kind="stable")
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False, row_group_size=1_000_000)
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    path = generate(args.customers, force=args.force)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    print(f"{path}: {meta.num_rows:,} rows ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
