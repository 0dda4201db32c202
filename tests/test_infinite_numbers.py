"""'inf', '-Infinity' and '1e400' in a number column are unparseable amounts, not infinities.

Before, the Arrow cast read them as float infinities: ingest wrote inf to parquet and a linear
model's predict stopped with exit 70 (scikit-learn refuses infinity). Now every path of the
cleaning layer (the Arrow casts, the pandas parsers, typed parquet input, a server's few-row
requests) makes them missing and counts them unparseable, as it does 'abc'.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "sample_data" / "bank_sample.csv"
INFINITE = ["inf", "1e400", "-inf", "Infinity", "-1E999"]


def mktai(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mktai.cli.app", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def bank_with_infinities(path: Path, rows: int = 300, *, target: bool = True) -> Path:
    """The bank sample's first rows, the first len(INFINITE) balances made infinite."""
    with open(BANK, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle, delimiter=";"))
    header, body = table[0], table[1 : rows + 1]
    balance = header.index("balance")
    for row, text in zip(body, INFINITE, strict=False):
        row[balance] = text
    keep = [i for i, name in enumerate(header) if target or name != "y"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerows([[row[i] for i in keep] for row in [header, *body]])
    return path


def test_the_parsers_make_infinities_missing_and_count_them() -> None:
    from mktai.data.parse import parse_numbers

    values = pd.Series([*INFINITE, "12", "1,234.5", "abc", None], dtype=object)
    numbers, failed = parse_numbers(values)
    assert numbers.iloc[:5].isna().all()
    assert numbers.iloc[5:7].tolist() == [12.0, 1234.5]
    assert failed.tolist() == [True] * 5 + [False, False, True, False]
    assert not np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan)).any()
    # the Arrow fast cast alone (every value castable) takes the same rule
    numbers, failed = parse_numbers(pd.Series(["1.5", "inf", "2"], dtype=object))
    assert numbers.isna().tolist() == [False, True, False] and failed.tolist() == [
        False,
        True,
        False,
    ]


def test_ingest_writes_missing_values_and_names_the_unparseable_cells(tmp_path: Path) -> None:
    source = bank_with_infinities(tmp_path / "bank.csv")
    done = mktai("ingest", str(source), "-o", "clean.parquet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "5 unparseable (e.g. 'inf')" in done.stdout + done.stderr
    balance = pd.read_parquet(tmp_path / "clean.parquet")["balance"]
    assert len(balance) == 300 and balance.iloc[:5].isna().all()
    assert np.isfinite(balance.iloc[5:]).all()


def test_typed_parquet_input_with_infinities_is_read_the_same(tmp_path: Path) -> None:
    from mktai.data import load_table

    frame = pd.DataFrame({"amount": [1.5, np.inf, -np.inf, 2.0], "name": list("abcd")})
    frame.to_parquet(tmp_path / "typed.parquet")
    table = load_table(tmp_path / "typed.parquet", kind="table", dedupe=False)
    assert table.col("amount").isna().tolist() == [False, True, True, False]


@pytest.fixture(scope="module")
def linear_store(tmp_path_factory) -> Path:
    """A linear propensity model (scikit-learn refuses infinity in its input)."""
    from mktai.api import train

    store = tmp_path_factory.mktemp("inf") / "store"
    train("propensity", BANK, name="lin", target="y", store=store, cv=0, seed=0,
          algorithm="linear")  # fmt: skip
    return store


def test_predict_scores_every_row_with_infinities_as_missing(linear_store, tmp_path) -> None:
    leads = bank_with_infinities(tmp_path / "leads.csv", target=False)
    done = mktai("predict", "--model", "lin", str(leads), "-o", "scores.csv",
                 "--store", str(linear_store), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert len(scores) == 300 and scores["score"].between(0, 1).all()
    # an infinite balance scores as a missing one
    blank = bank_with_infinities(tmp_path / "blank.csv", target=False)
    text = blank.read_text(encoding="utf-8")
    for value in INFINITE:
        text = text.replace(f";{value};", ";;", 1)
    blank.write_text(text, encoding="utf-8")
    done = mktai("predict", "--model", "lin", str(blank), "-o", "blank.csv",
                 "--store", str(linear_store), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert np.allclose(pd.read_csv(tmp_path / "blank.csv")["score"], scores["score"], rtol=1e-12)


def test_a_server_request_with_an_infinite_string_scores_as_missing(linear_store) -> None:
    """The few-row path (mktai.data.small, memoised Arrow casts) takes the same rule."""
    from mktai.api.loaded import InMemory, load, predict_rows
    from mktai.serve.bodies import records_csv

    with open(BANK, newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle, delimiter=";"))
    row.pop("y")
    loaded = load("lin", store=linear_store)

    def score(balance: str) -> list[float]:
        body = records_csv([{**row, "balance": balance}], 10)
        return predict_rows(loaded, InMemory(body, "request body")).frame["score"].tolist()

    missing = score("")
    for text in INFINITE:
        assert score(text) == missing, text
    assert np.isfinite(missing).all() and score("1") != missing
