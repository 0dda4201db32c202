"""`mktai ingest` hands parquet its text dictionary-coded (data/coded.py): the file must read
back exactly as the pandas frames written by TableWriter do (values, dtypes, schema and
metadata), over many batches whose dictionaries hold repeats after trimming and empty cells."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mktai.data import read
from mktai.data.clean import Cleaner, Deduper, make_plan
from mktai.data.coded import CodedChunk, CodedParquetWriter
from mktai.data.ingest import ingest
from mktai.data.load import _plan_sample
from mktai.data.read import iter_batches, open_source, plain_batch
from mktai.data.write import TableWriter


def _orders(path: Path, rows: int = 6000, seed: int = 5) -> Path:
    """Transactions whose text cells repeat with stray spaces ('x', ' x ') and go empty."""
    rng = random.Random(seed)
    words = ["RED MUG", " RED MUG", "RED MUG  ", "", "  ", "BLUE BOWL", "茶杯", " 茶杯"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                      "UnitPrice", "CustomerID", "Country"])  # fmt: skip
        for i in range(rows):
            out.writerow(
                [
                    rng.choice([f"{536000 + i // 3}", f"C{536000 + i // 3}", f" {536000 + i}"]),
                    rng.choice(["85123A", " 71053", "", "POST"]),
                    rng.choice(words),
                    rng.choice(["6", "-2", "x", ""]),
                    rng.choice(["2010-12-01 08:26:00", f"2011-01-0{i % 9 + 1} 10:00:00", ""]),
                    rng.choice(["2.55", "0", " 3.39 "]),
                    rng.choice(["17850", "", "13047.0"]),
                    rng.choice(["United Kingdom", "France ", ""]),
                ]
            )
    return path


def _written(path: Path, coded: bool, target: Path) -> None:
    """The command's stages on `path`, written by the coded writer or by TableWriter."""
    source = open_source(path)
    batches = list(iter_batches(source, [], dictionary=True))
    plan = make_plan(_plan_sample(source, plain_batch(batches[0])), None, {}, ())
    deduper = Deduper()
    index = deduper.add_source(str(path))
    cleaner = Cleaner(plan, str(path), ",", deduper=deduper, source_index=index, coded=coded)
    writer = (CodedParquetWriter if coded else TableWriter)(target, metadata={"ingested": True})
    first = 0
    for batch in batches:
        clean, _ = cleaner.clean(batch, first)
        first += batch.num_rows
        assert isinstance(clean, CodedChunk) == coded
        if len(clean):
            writer.write(clean)
    writer.close()
    source.cleanup()
    assert len(batches) > 3  # several chunks: later ones take the coded path


def test_coded_parquet_reads_back_as_the_frames(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "BLOCK_SIZE", 64 * 1024)
    path = _orders(tmp_path / "orders.csv")
    _written(path, False, tmp_path / "frames.parquet")
    _written(path, True, tmp_path / "coded.parquet")
    before, after = (pd.read_parquet(tmp_path / n) for n in ("frames.parquet", "coded.parquet"))
    assert list(after.dtypes) == list(before.dtypes)
    assert after.equals(before)
    assert after["description"].isna().any()  # empty cells stayed missing
    old, new = (pq.read_schema(tmp_path / n) for n in ("frames.parquet", "coded.parquet"))
    assert new.equals(old, check_metadata=True)
    assert pq.ParquetFile(tmp_path / "coded.parquet").metadata.num_row_groups > 3


@pytest.mark.parametrize("source", ["csv", "typed parquet"])
def test_ingest_parquet_unchanged_by_coding(tmp_path, monkeypatch, source):
    """End to end: the command's parquet, rejects and report equal those of a run whose clean
    rows go through pandas frames and TableWriter (the coded writer swapped out). A parquet
    input (typed columns, plain Arrow text, 200,000-row batches) takes the same writer."""
    import mktai.data.ingest as ingest_module

    monkeypatch.setattr(read, "BLOCK_SIZE", 64 * 1024)
    path = _orders(tmp_path / "orders.csv", rows=3000 if source == "csv" else 201_000)
    if source == "typed parquet":
        typed = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
        path = tmp_path / "orders.parquet"
        typed.to_parquet(path)
    runs = {}
    for name in ("coded", "frames"):
        if name == "frames":
            monkeypatch.setattr(ingest_module, "CodedParquetWriter", TableWriter)
        out = tmp_path / name / "clean.parquet"
        result = ingest([path], out)
        report = {k: v for k, v in result.report.items() if k not in ("output", "rejects_file")}
        runs[name] = (pd.read_parquet(out), result.rejects_path.read_bytes(), report)
    (coded, coded_rejects, coded_report), (frames, frame_rejects, frame_report) = runs.values()
    assert list(coded.dtypes) == list(frames.dtypes)
    assert coded.equals(frames)
    assert coded_rejects == frame_rejects and len(coded_rejects) > 100
    assert coded_report == frame_report
