"""README "Cleaning": transaction counts, rejects and duplicates, checked against pandas and the
csv module reading the same generated file (fixed seed), in one batch and in many small ones.

What the report promises: cancellations (an order id of C and a digit, either case) and
negative quantities are returns, counted and valued apart from sales; zero and negative prices
and lines without a customer are counted; every rejected line is in the rejects with its row,
its reason and the raw line as it was in the file (quoted as CSV); exact duplicates name the row
they repeat. These tests kill the mutants of clean.py's counting, rejects and duplicate code.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mktai.data import clean, load_table, read

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID"]  # fmt: skip
WORDS = ["LAMP", "MUG, RED", 'SIGN "HOME"', "CARD\nSET", "BAG", "Ω TIN"]


def _rows(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prefix = rng.choices(["", "C", "c", "CN-", "Cx"], [80, 8, 2, 5, 5])[0]
        rows.append([
            f"{prefix}{500000 + i // 3}",
            f"SKU{rng.randrange(40)}",
            rng.choice(WORDS),
            str(rng.choice([1, 2, 3, 12, -1, -4])),
            f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)} 10:{rng.randrange(60):02d}:00",
            rng.choice([f"{rng.randrange(1, 900) / 100:.2f}", "0", "-2.50"]),
            rng.choice(["", "17850", "12345", "13047"]),
        ])  # fmt: skip
    return rows


def _write(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    rows = _rows(2400, seed=5)
    rows += [rows[i] for i in (3, 1200, 2399, 3)]  # duplicates, one repeated twice
    return _write(tmp_path_factory.mktemp("tx") / "orders.csv", rows), rows


def _independent_counts(path: Path) -> dict[str, float]:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False).drop_duplicates()
    quantity = raw["Quantity"].astype(float)
    price = raw["UnitPrice"].astype(float)
    cancelled = raw["InvoiceNo"].str.match(r"^[Cc]\d")
    is_return = cancelled | (quantity < 0)
    value = quantity * price
    return {
        "cancellation_lines": int(cancelled.sum()),
        "return_lines": int(is_return.sum()),
        "returns_value": float(value[is_return].sum()),
        "sales_value": float(value[~is_return].sum()),
        "zero_price_lines": int((price == 0).sum()),
        "negative_price_lines": int((price < 0).sum()),
        "lines_without_customer": int((raw["CustomerID"] == "").sum()),
    }


def _batches_of(block: int | None, monkeypatch) -> None:
    """block None: one batch; else many small batches and many sorted duplicate runs."""
    if block:
        monkeypatch.setattr(read, "BLOCK_SIZE", block)
        monkeypatch.setattr(clean.Deduper, "RUN_CAP", 200)


@pytest.mark.parametrize("block", [None, 4096])
def test_transaction_counts_match_pandas(source, monkeypatch, block):
    path, rows = source
    _batches_of(block, monkeypatch)
    table = load_table(path)
    want = _independent_counts(path)
    got = table.report["transactions"]
    assert want["cancellation_lines"] > 100 and want["lines_without_customer"] > 100
    assert want["zero_price_lines"] > 50 and want["negative_price_lines"] > 50
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
    raw = pd.read_csv(path, dtype=str, keep_default_na=False).drop_duplicates()
    cancelled = raw["InvoiceNo"].str.match(r"^[Cc]\d").to_numpy()
    negative = raw["Quantity"].astype(float).to_numpy() < 0
    assert table.frame["is_return"].tolist() == (cancelled | negative).tolist()
    assert table.frame["amount"].to_numpy() == pytest.approx(
        raw["Quantity"].astype(float).to_numpy() * raw["UnitPrice"].astype(float).to_numpy()
    )


def test_parquet_transactions_count_like_their_csv(source, tmp_path):
    """The same lines as a parquet file with typed columns (numbers as numbers): the same
    cancellations, returns and values as its CSV, a missing order id being no cancellation."""
    path, rows = source
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[frame.index[::97], "InvoiceNo"] = None
    frame["Quantity"] = frame["Quantity"].astype("int64")
    frame["UnitPrice"] = frame["UnitPrice"].astype("float64")
    pq_path = tmp_path / "orders.parquet"
    frame.to_parquet(pq_path, index=False)
    frame.to_csv(tmp_path / "same.csv", index=False)
    from_parquet = load_table(pq_path).report["transactions"]
    want = load_table(tmp_path / "same.csv").report["transactions"]
    assert from_parquet == pytest.approx(want)
    deduped = frame.drop_duplicates()
    cancelled = deduped["InvoiceNo"].str.match(r"^[Cc]\d").fillna(False)
    assert from_parquet["cancellation_lines"] == int(cancelled.sum()) > 100


@pytest.mark.parametrize("block", [None, 4096])
def test_duplicates_name_the_row_they_repeat_and_keep_the_raw_line(source, monkeypatch, block):
    path, rows = source
    _batches_of(block, monkeypatch)
    table = load_table(path)
    first_seen: dict[tuple[str, ...], int] = {}
    want = []
    for number, row in enumerate(rows, start=1):
        key = tuple(row)
        if key in first_seen:
            line = io.StringIO()
            csv.writer(line, lineterminator="").writerow(row)
            want.append((number, f"exact duplicate of row {first_seen[key]}", line.getvalue()))
        else:
            first_seen[key] = number
    rejects = table.rejects.sort_values("row")
    assert list(zip(rejects["row"], rejects["reason"], rejects["raw"], strict=True)) == want
    assert set(rejects["source"]) == {str(path)}
    assert len(table.frame) == len(first_seen)
    report = table.report
    assert report["duplicates_removed"] == 4 == report["rows_rejected"]
    assert report["rows_in"] == len(rows) == report["rows_out"] + report["rows_rejected"]


def test_raw_lines_of_rejects_are_valid_csv_with_any_delimiter(tmp_path):
    """A rejected row's raw line reads back as the same fields, with ; as the delimiter too."""
    fields = [["1", "a;b", 'say "hi"'], ["2", "line\nbreak", ""], ["3", "cr\rhere", "x,y"]]
    for delimiter in (",", ";"):
        buffer = io.StringIO()
        # every field quoted: the csv module leaves a bare CR unquoted, which ends a line
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "text", "note"])
        writer.writerows(fields + fields)  # the second copy is rejected as duplicates
        path = tmp_path / f"d{ord(delimiter)}.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        table = load_table(path)
        raws = table.rejects.sort_values("row")["raw"].tolist()
        back = [next(csv.reader(io.StringIO(r), delimiter=delimiter)) for r in raws]
        assert back == fields, delimiter
        assert table.rejects["reason"].tolist() == [
            f"exact duplicate of row {i}" for i in (1, 2, 3)
        ]


def test_join_raw_quotes_only_what_needs_it() -> None:
    frame = pd.DataFrame({"a": ["plain", "x,y", 'q"q', None], "b": ["1", "n\nl", "r\rr", "z"]})
    assert clean.join_raw(frame, ",").tolist() == [
        "plain,1", '"x,y","n\nl"', '"q""q","r\rr"', ",z",
    ]  # fmt: skip
    assert clean.join_raw(frame, ";").tolist() == [
        "plain;1", 'x,y;"n\nl"', '"q""q";"r\rr"', ";z",
    ]  # fmt: skip


def test_join_raw_of_one_column_and_of_none() -> None:
    one = pd.DataFrame({"a": ["x", "y,z"]}, index=[4, 9])
    assert clean.join_raw(one, ",").tolist() == ["x", '"y,z"']
    none = clean.join_raw(pd.DataFrame(index=[3, 5]), ",")
    assert none.tolist() == ["", ""] and none.index.tolist() == [3, 5]
    assert str(none.dtype) == "string"


def test_join_arrow_of_one_column_and_of_none(tmp_path) -> None:
    import pyarrow as pa

    one = pa.RecordBatch.from_pydict({"a": ["x", None, 'q"q']})
    assert clean._join_arrow(one, ",") == ["x", "", '"q""q"']
    assert clean._join_arrow(pa.RecordBatch.from_pydict({}), ",") == []
    none = pa.RecordBatch.from_pydict({"a": ["x", "y"]}).select([])
    assert none.num_rows == 2 and clean._join_arrow(none, ",") == ["", ""]
    # a one-column file: the duplicate's raw line is its one field, quoted as in the file
    path = tmp_path / "one.csv"
    path.write_text('email\na@x.com\n"b,c@x.com"\na@x.com\n"b,c@x.com"\n', encoding="utf-8")
    rejects = load_table(path).rejects.sort_values("row")
    assert rejects["raw"].tolist() == ["a@x.com", '"b,c@x.com"']
    assert rejects["reason"].tolist() == ["exact duplicate of row 1", "exact duplicate of row 2"]


def test_cancelled_needs_c_then_a_digit() -> None:
    import pyarrow as pa

    orders = pa.array(["C1", "c23", "CN-1", "Cx9", "1C2", None, "", "C", " C1", "c0x"])
    assert clean._cancelled(orders).tolist() == [
        True, True, False, False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert clean._cancelled(pa.array(["1", "2"])).tolist() == [False, False]


def test_empty_rejects_has_the_rejects_columns_and_types() -> None:
    empty = clean.empty_rejects()
    assert list(empty.columns) == ["source", "row", "reason", "raw"] and len(empty) == 0
    assert empty["row"].dtype == np.int64


def test_rejects_are_grouped_by_reason_without_their_values(tmp_path):
    """The summary's rejected_by_reason: one group per kind of problem, values cut off."""
    path = tmp_path / "e.csv"
    path.write_text(
        "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        "1,2,2024-01-01,3,5\n1,2,2024-01-01,3,5\n2,x,2024-01-01,3,5\n2,y:z,2024-01-01,3,5\n"
        "bad\n3,1,2024-13-45,2,\n4,1,2024-01-02,2,7\n4,1,2024-01-02,2,7\n4,1\n",
        encoding="utf-8",
    )
    table = load_table(path)
    assert table.report["rejected_by_reason"] == {
        "exact duplicate": 2,
        "unparseable quantity in column quantity": 2,
        "unparseable date in column invoice_date": 1,
        "malformed line": 2,
    }
    by_row = dict(zip(table.rejects["row"], table.rejects["reason"], strict=True))
    assert by_row == {
        2: "exact duplicate of row 1",
        3: "unparseable quantity in column quantity: x",
        4: "unparseable quantity in column quantity: y:z",
        5: "malformed line 6: expected 5 fields, found 1",
        6: "unparseable date in column invoice_date: 2024-13-45",
        8: "exact duplicate of row 7",
        9: "malformed line 10: expected 5 fields, found 2",
    }
    assert table.report["rows_rejected"] == 7 == len(table.rejects)


def test_empty_rejects_is_a_fresh_copy_each_time() -> None:
    first = clean.empty_rejects()
    first.loc[0] = ["f.csv", 1, "r", "x"]
    again = clean.empty_rejects()
    assert len(again) == 0 and list(again.columns) == ["source", "row", "reason", "raw"]
    assert [str(again[c].dtype) for c in again.columns] == ["string", "int64", "string", "string"]
