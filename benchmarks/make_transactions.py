"""Generate large transactions CSVs for benchmarks/ingest.py by resampling the real UCI Online
Retail lines (../shared/data/transactions.csv.gz) with a fixed seed.

Each drawn line keeps its values except the invoice number, which gets the line's copy count
added (n * 1,000,000, the 'C' prefix of cancellations kept), so the big file has about the same
share of exact duplicates as the original instead of being mostly repeats.

    python benchmarks/make_transactions.py            # 2M rows -> benchmarks/_data/transactions_2m.csv
    python benchmarks/make_transactions.py --rows 8000000
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MKTAI_SHARED_DATA", ROOT.parent / "shared" / "data"))
SOURCE = SHARED / "transactions.csv.gz"
OUT_DIR = ROOT / "benchmarks" / "_data"
CHUNK = 1_000_000


def target_path(rows: int) -> Path:
    label = f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else str(rows)
    return OUT_DIR / f"transactions_{label}.csv"


def make(rows: int, seed: int = 0, source: Path = SOURCE) -> Path:
    """Write `rows` resampled lines to benchmarks/_data/ (reused when already there)."""
    import numpy as np
    import pandas as pd

    path = target_path(rows)
    if path.exists():
        return path
    if not source.exists():
        raise SystemExit(f"{source} not found: the generator resamples the real UCI file")
    base = pd.read_csv(source, dtype=str, keep_default_na=False)
    cancelled = base["InvoiceNo"].str.startswith("C").to_numpy()
    number = pd.to_numeric(base["InvoiceNo"].str.lstrip("CA"), errors="coerce").fillna(0)
    number = number.astype(np.int64).to_numpy()
    rng = np.random.default_rng(seed)
    copies = np.zeros(len(base), dtype=np.int64)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, rows, CHUNK):
            size = min(CHUNK, rows - start)
            picks = np.sort(rng.integers(0, len(base), size))  # keeps the file in time order
            # copy number of each pick: earlier draws of the same line plus its rank in this chunk
            first = np.searchsorted(picks, picks, side="left")
            copy = copies[picks] + (np.arange(size) - first)
            np.add.at(copies, picks, 1)
            chunk = base.iloc[picks].copy()
            invoice = (number[picks] + copy * 1_000_000).astype(str)
            prefix = np.where(cancelled[picks], "C", "")
            keep = copy == 0  # first draws keep the original id (including 'A' adjustments)
            chunk["InvoiceNo"] = np.where(keep, chunk["InvoiceNo"], np.char.add(prefix, invoice))
            chunk.to_csv(handle, index=False, header=start == 0, lineterminator="\n")
    os.replace(tmp, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path = make(args.rows, args.seed)
    print(f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
