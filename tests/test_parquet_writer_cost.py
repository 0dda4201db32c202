"""The parquet writers' settings that cut CPU (data/write.py parquet_options, data/coded.py):
the same file, or at least the same table, as pyarrow's defaults write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mktai.data.clean import _frame
from mktai.data.coded import CodedChunk, CodedParquetWriter, _first_schema, _from_numpy
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
    batches end them, so the file is byte for byte the one pyarrow's default batches write."""
    frames = [_orders(50_000, seed) for seed in range(3)]
    writer = TableWriter(tmp_path / "ours.parquet")
    for frame in frames:
        writer.write(frame)
    writer.close()
    first = pa.Table.from_pandas(frames[0], preserve_index=False)
    assert batch_rows(first) == PAGE_ROWS
    numbers = ["quantity", "when"]  # statistics for these only (parquet_options)
    with pq.ParquetWriter(
        tmp_path / "default.parquet", first.schema, compression="snappy", write_statistics=numbers
    ) as out:
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


def _chunk(rows: int, seed: int, labels: str) -> CodedChunk:
    """A cleaner's chunk: coded text (a dictionary with a repeat and a null), NumPy numbers
    with NaN, dates, a pandas Int8 column and a label column of `labels` dtype."""
    rng = np.random.default_rng(seed)
    words = pa.array(["RED MUG", "BLUE BOWL", None, "RED MUG", "茶杯"])
    indices = pa.array(rng.integers(0, len(words), rows).astype(np.int32))
    quantity = rng.integers(-3, 30, rows).astype(float)
    quantity[rng.random(rows) < 0.05] = np.nan
    pool = np.array(["a", "b", None], dtype=object)
    columns = {
        "description": pa.DictionaryArray.from_arrays(indices, words),
        "quantity": quantity,
        "when": np.datetime64("2011-01-01", "ns") + rng.integers(0, 10**15, rows),
        "returned": pd.Series(pd.array(rng.integers(0, 2, rows), dtype="Int8")),
        "label": pd.Series(pool[rng.integers(0, 3, rows)], dtype=labels),
    }
    return CodedChunk(columns, _frame)


@pytest.mark.parametrize("labels", ["string", "object", "category"])
def test_first_chunk_schema_as_from_pandas_of_its_frame(tmp_path, labels):
    """The coded writer's schema (from no rows when the dtypes decide the types, else from the
    whole frame) and values equal TableWriter's, which converts each chunk's frame."""
    chunks = [_chunk(30_000, seed, labels) for seed in range(3)]
    assert (_first_schema(chunks[0])[1] is None) == (labels == "string")  # no rows decoded
    for name, writer in {
        "coded": CodedParquetWriter(tmp_path / "coded.parquet", metadata={"ingested": True}),
        "frames": TableWriter(tmp_path / "frames.parquet", metadata={"ingested": True}),
    }.items():
        for chunk in chunks:
            writer.write(chunk if name == "coded" else chunk.frame())
        writer.close()
    coded, frames = (pq.read_table(tmp_path / f"{n}.parquet") for n in ("coded", "frames"))
    assert coded.schema.equals(frames.schema, check_metadata=True)
    assert coded.equals(frames)
    assert coded["description"].null_count > 0
    assert pd.read_parquet(tmp_path / "coded.parquet").equals(
        pd.read_parquet(tmp_path / "frames.parquet")
    )


def test_statistics_for_numbers_and_dates_not_text(tmp_path):
    """Row-group min/max for the columns readers prune by (numbers, dates), none for text."""
    chunks = [_chunk(30_000, seed, "string") for seed in range(2)]
    writer = CodedParquetWriter(tmp_path / "coded.parquet")
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    meta = pq.ParquetFile(tmp_path / "coded.parquet").metadata
    for group in range(meta.num_row_groups):
        columns = {meta.schema.column(i).name: meta.row_group(group).column(i) for i in range(5)}
        assert columns["quantity"].statistics.has_min_max
        assert columns["when"].statistics.min.year >= 2011
        assert columns["description"].statistics is None
        assert columns["label"].statistics is None
