"""The parquet writers' settings that cut CPU (data/write.py parquet_options, data/coded.py):
the same file, or at least the same table, as pyarrow's defaults write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mktai.data.coded import _from_numpy
from mktai.data.write import PAGE_ROWS, TableWriter, batch_rows


def _orders(rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = np.array([f"{85000 + i}A" for i in range(500)])
    return pd.DataFrame(
        {
            "stock_code": pd.array(rng.choice(codes, rows), dtype="string"),
            "country": pd.array(rng.choice(["France", "EIRE", None], rows), dtype="string"),
            "quantity": rng.integers(-5, 50, rows).astype(float),
            "when": pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), "s"),
        }
    )


def test_narrow_columns_write_the_bytes_of_pyarrows_defaults(tmp_path):
    """Batches of a page's rows: for values of a few bytes the pages end where 1,024-row
    batches end them, so the file is byte for byte pyarrow's default one."""
    frames = [_orders(50_000, seed) for seed in range(3)]
    writer = TableWriter(tmp_path / "ours.parquet")
    for frame in frames:
        writer.write(frame)
    writer.close()
    first = pa.Table.from_pandas(frames[0], preserve_index=False)
    assert batch_rows(first) == PAGE_ROWS
    with pq.ParquetWriter(tmp_path / "default.parquet", first.schema, compression="snappy") as out:
        for frame in frames:
            out.write_table(pa.Table.from_pandas(frame, preserve_index=False))
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "default.parquet").read_bytes()


def test_wide_text_gets_smaller_batches_and_reads_back(tmp_path):
    """Reviews of ~400 bytes: batches of ~2,600 rows (pages near 1 MB), same values back."""
    rng = np.random.default_rng(4)
    words = np.array(["good", "bad", "delivery", "late", "品质", "很好", "refund"])
    texts = [" ".join(rng.choice(words, 80)) for _ in range(30_000)]
    frame = pd.DataFrame(
        {"text": pd.array(texts, dtype="string"), "stars": rng.integers(1, 6, 30_000)}
    )
    rows = batch_rows(pa.Table.from_pandas(frame, preserve_index=False))
    assert 1024 < rows < 4000
    writer = TableWriter(tmp_path / "reviews.parquet")
    writer.write(frame)
    writer.close()
    assert pd.read_parquet(tmp_path / "reviews.parquet").equals(frame)


@pytest.mark.parametrize(
    "values",
    [
        np.array([1.0, 2.5, -0.0]),
        np.array([1.0, np.nan]),
        np.array([np.inf, 3.0], dtype=np.float32),
        np.arange(10.0)[::2],  # not contiguous
        np.array(["2011-01-01T10:00", "2012-03-04"], dtype="datetime64[ns]"),
        np.array(["2011-01-01", "NaT"], dtype="datetime64[ns]"),
        np.array(["2011-01-01"], dtype="datetime64[s]"),
        np.array([], dtype="datetime64[ns]"),
        np.array([True, False]),
    ],
)
def test_numpy_columns_convert_as_from_pandas(values):
    """The coded writer's zero-copy NumPy columns equal pyarrow's from_pandas conversion
    (NaN and NaT missing), type included."""
    ours, theirs = _from_numpy(values), pa.array(values, from_pandas=True)
    assert ours.type == theirs.type and ours.equals(theirs)
