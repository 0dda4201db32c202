"""The cleaning layer's fast paths agree with its plain ones (issue 15, ingest speed).

Arrow's ASCII trim is used on ASCII text because it is cheaper than the UTF-8 one; Python's
str.strip (the pandas parsers) and utf8_trim_whitespace also strip the separators 0x1c-0x1f,
so text holding them must take the UTF-8 trim, or the two paths give different cells.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mktai.data import parse
from mktai.data.clean import _trimmed, make_plan, plain_ascii
from mktai.data.ingest import _Pending
from mktai.data.load import load_table
from mktai.data.write import TableWriter

SEPARATORS = ["\x1c", "\x1d", "\x1e", "\x1f"]
SPACES = [" ", "\t", "\x0b", "\x0c", *SEPARATORS]


def _padded(rng: random.Random, word: str) -> str:
    return (
        "".join(rng.choices(SPACES, k=rng.randrange(3)))
        + word
        + "".join(rng.choices(SPACES, k=rng.randrange(3)))
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arrow_trim_strips_what_str_strip_strips(seed):
    rng = random.Random(seed)
    words = ["abc", "a\x1cb", "", "12", "x y"]
    values = [_padded(rng, rng.choice(words)) for _ in range(2000)]
    array = pa.array(values, pa.string())
    assert not plain_ascii(array)  # the separators force the UTF-8 trim
    expected = [v.strip() or None for v in values]
    assert _trimmed(array).to_pylist() == expected
    # the pandas path (parse.clean_text) gives the same cells
    assert parse.clean_text(pd.Series(values, dtype="object")).tolist() == [
        pd.NA if e is None else e for e in expected
    ]
    plain = pa.array([v for v in values if not any(s in v for s in SEPARATORS)], pa.string())
    assert plain_ascii(plain)
    assert _trimmed(plain).to_pylist() == [v.strip() or None for v in plain.to_pylist()]


def test_separator_padding_is_trimmed_in_an_ingested_file(tmp_path: Path):
    rng = random.Random(7)
    lines = ["order,description,country,quantity"]
    for i in range(3000):
        description = _padded(rng, rng.choice(["Mug", "Plate", "Bowl"]))
        lines.append(f"{i},{description},\x1cUK\x1f,{rng.randrange(1, 9)}\x1d")
    path = tmp_path / "separators.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = load_table(path, kind="table")
    assert set(table.frame["description"]) == {"Mug", "Plate", "Bowl"}
    assert set(table.frame["country"]) == {"UK"}
    assert table.frame["quantity"].between(1, 8).all()
    assert len(table.frame) == 3000 and not len(table.rejects)


def _role_less_type(values: list[str]) -> str:
    """The type make_plan gives a column no role claims (name 'notes'), from this sample."""
    sample = pd.DataFrame({"notes": values, "customer_id": [str(i) for i in range(len(values))]})
    return make_plan(sample, "customers", {}, ()).types["notes"]


def test_role_less_types_count_each_sample_row_not_each_distinct_value():
    # 96 of 100 rows are one number: a number column (96% >= 95%), though 4 of the 5 distinct
    # values are words
    assert _role_less_type(["5"] * 96 + ["a", "b", "c", "d"]) == "number"
    assert _role_less_type(["5"] * 94 + list("abcdef")) == "text"
    assert _role_less_type(["yes", " no", "NO"] * 40 + ["n/a"] * 5) == "bool"
    assert _role_less_type(["yes"] * 995 + ["no"] * 4 + ["maybe"]) == "text"  # 3 words
    # digits in 95% of the rows; dates then decide on every row
    dates = ["2024-01-05"] * 50 + [f"{d:02d}/01/2024" for d in range(13, 29)] * 3
    assert _role_less_type(dates + ["-"] * 10) == "date"
    assert _role_less_type(["0123"] * 50 + ["5"] * 50) == "id"  # a leading zero: a code


def test_rejects_written_in_fewer_chunks_give_the_same_bytes(tmp_path: Path):
    frames = []
    for k in range(7):
        rows = np.arange(k * 10, k * 10 + 10)
        tail = ["line\rbreak" if k == 5 and r % 2 else "ok" for r in rows]
        raw = [f"{r},=cmd|x,{t}" for r, t in zip(rows, tail, strict=True)]
        frames.append(
            pd.DataFrame({"source": "in.csv", "row": rows + 1, "reason": "why", "raw": raw})
        )
    one_by_one = TableWriter(tmp_path / "a.csv")
    for frame in frames:
        one_by_one.write(frame)
    one_by_one.close()
    for size in (1, 25, 1000):
        pending = _Pending(TableWriter(tmp_path / f"b{size}.csv"))
        pending.ROWS = size
        for frame in frames[:5]:  # no CR: written as one chunk
            pending.add(frame)
        pending.flush()
        for frame in frames[5:]:  # a CR in frame 5: chunk by chunk, as before
            pending.add(frame)
        pending.flush()
        pending.writer.close()
        assert (tmp_path / f"b{size}.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def _turning(path: Path, turn: int, rows: int = 260_000, noise: float = 0.0) -> Path:
    """A plain CSV over 8 MB whose optional `batch` column is numeric until row `turn`, then
    codes; `noise`: share of unreadable values scattered through the numeric rows."""
    rng = random.Random(3)
    lines = ["customer_id,date,amount,batch"]
    for i in range(rows):
        batch = str(rng.randint(100, 999)) if i < turn else f"B-{rng.randint(100, 999)}"
        if i < turn and rng.random() < noise:
            batch = "??"
        lines.append(f"c{i % 5000},2024-01-{1 + i % 28:02d},{i % 97}.5,{batch}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_column_turning_after_the_last_sampled_rows_is_a_parsing_gap(tmp_path: Path):
    from mktai.data.ingest import ingest

    # the codes start after the last block the type sample reads (97% into the file) and are
    # only 12% of the last batch: typed number, and the change must still be reported loudly
    data = _turning(tmp_path / "late.csv", turn=256_500)
    result = ingest([data], tmp_path / "late.parquet", kind="customers")
    report = result.report
    assert report["columns"]["batch"]["type"] == "number"
    (gap,) = report["parsing_gaps"]
    assert gap["column"] == "batch" and gap["from_row"] == 256_501
    assert gap["unreadable"] == 3_500
    assert any(
        "from row 256,501 on most values do not read as number" in n for n in report["notes"]
    )
    # the same count of bad values scattered through the file is bad data, not a gap
    noisy = _turning(tmp_path / "noisy.csv", turn=260_000, noise=0.0135)
    report = ingest([noisy], tmp_path / "noisy.parquet", kind="customers").report
    assert report["columns"]["batch"]["unparseable"] > 3_000
    assert "parsing_gaps" not in report


@pytest.mark.parametrize(("older", "newer"), [(5000, 4000), (5000, 300), (1, 1), (300, 0)])
def test_merged_hash_runs_keep_sorted_order_and_earlier_rows_first(older, newer):
    from mktai.data.clean import _merge

    rng = np.random.default_rng(older + newer)
    pool = rng.integers(0, 2**64 - 1, 2000, dtype=np.uint64)  # few values: many equal hashes

    def run(n: int, first_tag: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hashes = np.sort(rng.choice(pool, n))
        return hashes, rng.integers(0, 2**64 - 1, n, dtype=np.uint64), np.arange(n) + first_tag

    a, b = run(older, 0), run(newer, older)
    merged = _merge(a, b)
    joined = [np.concatenate((x, y)) for x, y in zip(a, b, strict=True)]
    order = np.lexsort((joined[2], joined[0]))  # by hash, then tag: a's rows before b's
    for got, want in zip(merged, joined, strict=True):
        assert np.array_equal(got, want[order])
