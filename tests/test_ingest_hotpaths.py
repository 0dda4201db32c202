"""The cleaning layer's fast paths agree with its plain ones (issue 15, ingest speed).

Arrow's ASCII trim is used on ASCII text because it is cheaper than the UTF-8 one; Python's
str.strip (the pandas parsers) and utf8_trim_whitespace also strip the separators 0x1c-0x1f,
so text holding them must take the UTF-8 trim, or the two paths give different cells.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mktai.data import parse
from mktai.data.clean import _trimmed, plain_ascii
from mktai.data.load import load_table

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
