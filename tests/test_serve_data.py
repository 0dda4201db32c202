"""The cleaning layer's in-memory source and plan reuse (what `mktai serve` reads bodies with)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mktai.data import load_table
from mktai.data.read import InMemory
from mktai.errors import InputError

BANK = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"


def test_in_memory_bytes_clean_like_the_file() -> None:
    lines = BANK.read_bytes().splitlines(keepends=True)[:41]
    body = b"".join(lines)
    from_file = load_table(BANK, kind="table", dedupe=False, keep_raw=True)
    from_memory = load_table(InMemory(body, "request body"), kind="table", dedupe=False,
                             keep_raw=True)  # fmt: skip
    assert from_memory.sources == ["request body"]
    assert len(from_memory.frame) == 40
    assert from_memory.frame.equals(from_file.frame.head(40))
    assert from_memory.raw.equals(from_file.raw.head(40))


def test_in_memory_errors_name_the_source() -> None:
    with pytest.raises(InputError, match="^request body: the file is empty"):
        load_table(InMemory(b"", "request body"))


def test_plans_reuse_the_types_decided_for_a_header() -> None:
    plans: dict = {}
    first = load_table(InMemory(b"age,balance\n41,1200\n"), plans=plans)
    assert list(plans) == [("age", "balance")]
    assert first.frame["age"].dtype.kind == "f"
    # alone, "abc" makes the column text; with the plan it is a number, unparseable, reported
    alone = load_table(InMemory(b"age,balance\nabc,1200\n"))
    again = load_table(InMemory(b"age,balance\nabc,1200\n"), plans=plans)
    assert alone.report["columns"]["age"]["type"] == "text"
    assert again.report["columns"]["age"]["type"] == "number"
    assert again.report["columns"]["age"]["unparseable_example"] == "abc"
    assert again.frame["age"].isna().all() and again.frame["balance"].tolist() == [1200.0]
    other = load_table(InMemory(b"x,y\n1,2\n"), plans=plans)
    assert len(plans) == 2 and list(other.frame.columns) == ["x", "y"]
