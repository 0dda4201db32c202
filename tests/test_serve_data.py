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


def test_warm_up_does_not_decide_how_requests_are_read(tmp_path) -> None:
    """The warm-up example holds the training medians (0.0 for a yes/no column): requests
    after it still read 'yes'/'no' as yes/no, not as unreadable numbers (missing)."""
    pytest.importorskip("fastapi", reason="mktai serve needs the serve extra")
    from mktai.api import train
    from mktai.api.loaded import load, predict_rows
    from mktai.serve.app import warm_up

    store = tmp_path / "store"
    train("propensity", BANK, name="response", target="y", store=store, cv=0, seed=0,
          params={"max_iter": 10})  # fmt: skip
    loaded = load("response", store=store)
    warm_up(loaded)
    lines = BANK.read_bytes().splitlines(keepends=True)
    header = lines[0].replace(b';"y"', b"")
    rows = [line.rsplit(b";", 1)[0] + b"\n" for line in lines[1:4]]
    result = predict_rows(loaded, InMemory(header + b"".join(rows), "request body"))
    assert {"default", "housing", "loan"}.isdisjoint(result.missing_values)
    cold = predict_rows(load("response", store=store), InMemory(header + b"".join(rows)),
                        reuse_plans=False)  # fmt: skip
    assert result.frame["score"].tolist() == cold.frame["score"].tolist()


def test_first_batch_dictionaries_hold_only_data_values() -> None:
    """The header line is parsed as a row and sliced off; its words must not stay in the first
    batch's column dictionaries (a number column holding 'age' fails the distinct-value cast,
    and a one-row request then took the pandas parsers for every number column)."""
    from mktai.data.read import iter_batches, open_source

    body = b"age,job,flag\n41,admin.,yes\n41,job,no\n"  # 'job' also a value: its entry stays
    batch = next(iter_batches(open_source(InMemory(body)), [], dictionary=True))
    assert batch.column("age").dictionary.to_pylist() == ["41"]
    assert batch.column("flag").dictionary.to_pylist() == ["yes", "no"]
    assert batch.column("job").dictionary.to_pylist() == ["job", "admin."]
    assert batch.column("job").dictionary.take(batch.column("job").indices).to_pylist() == [
        "admin.", "job"]  # fmt: skip
    table = load_table(InMemory(body), kind="table")
    assert table.frame["age"].tolist() == [41.0, 41.0]
    assert table.frame["job"].tolist() == ["admin.", "job"]


def test_column_types_come_from_the_schema_not_the_first_request(tmp_path) -> None:
    """A yes/no column whose first request says 1/0 (JSON numbers) is still read as yes/no:
    a later 'yes' scores like 1, not as a missing number; a number column whose first request
    holds a word stays a number column."""
    from mktai.api import train
    from mktai.api.loaded import load, predict_rows

    store = tmp_path / "store"
    train("propensity", BANK, name="response", target="y", store=store, cv=0, seed=0,
          params={"max_iter": 10})  # fmt: skip
    loaded = load("response", store=store)
    lines = BANK.read_bytes().splitlines(keepends=True)
    header = lines[0].rsplit(b";", 1)[0].replace(b'"', b"") + b"\n"
    row = lines[1].rsplit(b";", 1)[0].replace(b'"', b"").split(b";")
    names = header.strip().split(b";")
    default, age = names.index(b"default"), names.index(b"age")

    def body(**cells: bytes) -> bytes:
        values = list(row)
        for name, value in cells.items():
            values[names.index(name.encode())] = value
        return header + b";".join(values) + b"\n"

    first = predict_rows(loaded, InMemory(body(default=b"1", age=b"forty")))
    # 'forty' is an unreadable number (missing), not the start of a text column
    assert first.missing_values == {"age": 1}
    as_word = predict_rows(loaded, InMemory(body(default=b"yes")))
    as_number = predict_rows(loaded, InMemory(body(default=b"1")))
    assert "default" not in as_word.missing_values
    assert as_word.frame["score"].tolist() == as_number.frame["score"].tolist()
    assert predict_rows(loaded, InMemory(body(age=b"41"))).missing_values == {}
    assert (row[default], row[age]) != (b"", b"")
    # the CLI's path (nothing remembered) reads the same way
    alone = predict_rows(load("response", store=store), InMemory(body(default=b"yes")),
                         reuse_plans=False)  # fmt: skip
    assert alone.frame["score"].tolist() == as_word.frame["score"].tolist()
