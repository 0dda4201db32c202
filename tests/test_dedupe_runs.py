"""The duplicate check across many batches (many sorted runs, 4-way merges, the blocked Bloom
filter, its rebuilds) finds exactly the repeats a plain dict of the rows finds, with the right
original row and file; and the in-batch verification compares dictionary columns exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mktai.data import clean
from mktai.data.clean import Deduper
from mktai.data.rowhash import same_values


def _records(n: int, seed: int) -> list[tuple[str, str, str]]:
    """Order lines with repeats near and far (a few values: many rows share cells)."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"{500000 + i // 3}", f"SKU{rng.integers(40)}", str(rng.choice(["1", "2", "-1", ""])))
        for i in range(n)
    ]
    for i, j in zip(rng.integers(0, n, n // 10), rng.integers(0, n, n // 10), strict=True):
        rows[max(i, j)] = rows[min(i, j)]
    return rows


def _batch(rows: list[tuple[str, str, str]]) -> pa.RecordBatch:
    """The rows as the CSV reader hands them over: dictionary-coded text, blanks as nulls."""
    columns = []
    for values in zip(*rows, strict=True):
        plain = pa.array([v or None for v in values], type=pa.string())
        columns.append(plain.dictionary_encode())
    return pa.RecordBatch.from_arrays(columns, names=["InvoiceNo", "StockCode", "Quantity"])


def _expected(files: list[list[tuple[str, str, str]]]) -> list[list[str | None]]:
    seen: dict[tuple[str, str, str], tuple[int, int]] = {}
    out = []
    for source, rows in enumerate(files):
        reasons: list[str | None] = []
        for number, row in enumerate(rows):
            if row in seen:
                src, first = seen[row]
                where = "" if src == source else f" of file{src}.csv"
                reasons.append(f"exact duplicate of row {first + 1}{where}")
            else:
                seen[row] = (source, number)
                reasons.append(None)
        out.append(reasons)
    return out


@pytest.mark.parametrize(("batch_rows", "run_cap"), [(5, Deduper.RUN_CAP), (60, 300)])
def test_many_small_batches_find_exactly_the_repeats(monkeypatch, batch_rows, run_cap):
    """~1300 batches of 5 rows (a thousand tiny runs merged 4 at a time), or runs capped at
    300 entries (merges of fewer runs at the cap, many capped runs searched); two files, so
    repeats of the first file's rows in the second name the first."""
    monkeypatch.setattr(clean.Deduper, "RUN_CAP", run_cap)
    files = [_records(4000, 1), _records(1500, 2) + _records(3000, 1)[:1000]]
    deduper = Deduper()
    got = []
    for source, rows in enumerate(files):
        index = deduper.add_source(f"file{source}.csv")
        reasons: list[str | None] = []
        for start in range(0, len(rows), batch_rows):
            batch = _batch(rows[start : start + batch_rows])
            reasons.extend(deduper.check(batch, index, start).tolist())
        got.append(reasons)
    want = _expected(files)
    assert sum(r is not None for r in want[0]) > 300
    assert sum(r is not None and " of file0.csv" in r for r in want[1]) > 500
    assert got == want
    sizes = [len(run[0]) for run in deduper._runs]
    assert sum(sizes) == sum(r is None for f in want for r in f)  # each distinct row once
    assert max(sizes) <= run_cap
    assert len(sizes) < 20 + sum(sizes) / run_cap * 3  # merged as it went, not a run a batch


def test_same_values_compares_dictionary_columns_by_value():
    """Different indices can still be the same value (a dictionary repeating a value, a null
    index against a null entry); the same index is always the same value."""
    text = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 2, None, 3, 0], type=pa.int32()), pa.array(["a", "a", "b", None])
    )
    other = pa.array(["x", "x", "x", "x", "x", "y"]).dictionary_encode()
    batch = pa.RecordBatch.from_arrays([text, other], names=["t", "o"])
    left = np.array([0, 0, 3, 2, 0], dtype=np.intp)
    right = np.array([1, 2, 4, 2, 5], dtype=np.intp)
    assert same_values(batch, left, right).tolist() == [True, False, True, True, False]
