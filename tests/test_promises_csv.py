"""README promise: every CSV mktai writes (outputs, stdout, rejects) is spreadsheet-safe.

"CSV output prefixes text cells starting with `=`, `+`, `-`, `@`, tab or CR with `'`", and the
rejects' `raw` column is "formula-neutralised like any CSV output". Each prefix is checked in each
writer that can carry it (the cleaning layer trims leading whitespace, so tab and CR reach the
output through the commands that give the user's columns back as written: sentiment, predict).
Files are read back with the csv module, not with mktai.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
runner = CliRunner()


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _ok(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _assert_no_formula_cells(rows: list[list[str]]) -> None:
    """No cell of the file, header included, starts like a formula (plain numbers allowed)."""
    import re

    for row in rows:
        for cell in row:
            if cell[:1] in PREFIXES:
                assert re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell), (cell, row)


def test_ingest_output_and_stdout_neutralise_formula_prefixes(tmp_path: Path):
    cells = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "=HYPERLINK(x)"]
    src = _write_csv(
        tmp_path / "in.csv",
        ["id", "note", "n"],
        [[f"{cell}id{i}", cell, i] for i, cell in enumerate(cells)] + [["c9", "-1", 9]],
    )
    out = tmp_path / "out.csv"
    _ok(["ingest", str(src), "-o", str(out), "-q"])
    rows = _rows(out)
    assert [r[1] for r in rows[1:]] == ["'" + c for c in cells] + ["-1"]
    assert [r[0] for r in rows[1:-1]] == [f"'{c}id{i}" for i, c in enumerate(cells)]
    _assert_no_formula_cells(rows)
    stdout = _ok(["ingest", str(src), "-q", "--rejects", str(tmp_path / "r.csv")]).stdout
    assert list(csv.reader(io.StringIO(stdout))) == rows


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t"])
def test_rejects_raw_column_is_neutralised(tmp_path: Path, prefix: str):
    # a duplicated line whose raw text starts with the prefix: it is rejected with its raw line
    line = [f"{prefix}cmd|calc", "x", 1]
    src = _write_csv(tmp_path / "in.csv", ["id", "note", "n"], [line, ["ok", "y", 2], line])
    out = tmp_path / "out.csv"
    _ok(["ingest", str(src), "-o", str(out), "-q"])
    rejects = _rows(tmp_path / "out.rejects.csv")
    assert rejects[0] == ["source", "row", "reason", "raw"]
    assert len(rejects) == 2 and rejects[1][1] == "3"
    raw = rejects[1][3]
    assert raw.startswith("'" + prefix), raw
    # the quote is the only change: without it the raw line parses back to the input row
    assert next(csv.reader(io.StringIO(raw[1:]))) == [str(v) for v in line]
    _assert_no_formula_cells(rejects)


def test_sentiment_output_neutralises_every_prefix_including_tab_and_cr(tmp_path: Path):
    texts = [f"{p}great product, fast delivery" for p in PREFIXES] + ["terrible\rquality"]
    src = _write_csv(
        tmp_path / "reviews.csv",
        ["who", "review"],
        [[f"{t[:1]}u{i}", t] for i, t in enumerate(texts)],
    )
    out = tmp_path / "scored.csv"
    _ok(["sentiment", "--input", str(src), "--column", "review", "-o", str(out), "-q"])
    rows = _rows(out)
    assert rows[0][:2] == ["who", "review"]
    got = [r[1] for r in rows[1:]]
    assert got == ["'" + t for t in texts[:-1]] + ["terrible\rquality"]
    assert [r[0] for r in rows[1:]] == ["'" + t[:1] + f"u{i}" for i, t in enumerate(texts[:-1])] + [
        "tu6"
    ]
    _assert_no_formula_cells(rows)
    stdout = _ok(["sentiment", "--input", str(src), "--column", "review", "-q"]).stdout
    assert list(csv.reader(io.StringIO(stdout))) == rows


def test_segment_output_neutralises_customer_ids(tmp_path: Path):
    rows = []
    for c in range(40):
        customer = f"{PREFIXES[c % 4]}c{c}"  # = + - @ (the cleaning layer trims tab and CR)
        for k in range(1 + c % 3):
            rows.append([customer, f"o{c}-{k}", f"2024-0{1 + k}-{1 + c % 27:02d}", 10 + c + k])
    src = _write_csv(tmp_path / "orders.csv", ["customer_id", "order_id", "date", "amount"], rows)
    out = tmp_path / "customers.csv"
    _ok(["segment", str(src), "--k", "off", "-o", str(out), "-q"])
    table = _rows(out)
    column = table[0].index("customer")
    customers = sorted(r[column] for r in table[1:])
    assert customers == sorted("'" + f"{PREFIXES[c % 4]}c{c}" for c in range(40))
    _assert_no_formula_cells(table)


def test_predict_output_neutralises_every_prefix(tmp_path: Path):
    leads = pd.read_csv(SAMPLE / "bank_sample.csv", sep=";", dtype=str).head(300)
    leads["note"] = [f"{PREFIXES[i % 6]}n{i % 6}" for i in range(len(leads))]
    data = tmp_path / "leads.csv"
    leads.to_csv(data, index=False, lineterminator="\r\n")  # CRLF: the csv module quotes a CR
    store = str(tmp_path / "store")
    _ok(["--store", store, "train", "propensity", str(data), "--target", "y", "--name", "p",
         "--algorithm", "linear", "--cv", "2", "-q"])  # fmt: skip
    out = tmp_path / "scores.csv"
    _ok(["--store", store, "predict", "-m", "p", str(data), "-o", str(out), "-q"])
    rows = _rows(out)
    column = rows[0].index("note")
    assert [r[column] for r in rows[1:]] == ["'" + v for v in leads["note"]]
    _assert_no_formula_cells(rows)


# --------------------------------------------------------------------------- bare CR (bug)


def test_bare_cr_cell_is_quoted_and_reads_back_as_one_row(tmp_path: Path):
    src = tmp_path / "in.csv"
    src.write_bytes(b'customer,note,n\nc1,"line1\rline2",1\nc2,plain,2\n')
    out = tmp_path / "out.csv"
    _ok(["ingest", str(src), "-o", str(out), "-q"])
    assert _rows(out)[1:] == [["c1", "line1\rline2", "1.0"], ["c2", "plain", "2.0"]]
    back = pd.read_csv(out)
    assert back["note"].tolist() == ["line1\rline2", "plain"]
    assert back["customer"].tolist() == ["c1", "c2"]
    stdout = _ok(["ingest", str(src), "-q", "--rejects", str(tmp_path / "r.csv")]).stdout
    assert list(csv.reader(io.StringIO(stdout)))[1:] == _rows(out)[1:]


def test_bare_cr_through_the_table_writer_in_chunks(tmp_path: Path):
    """Streamed chunks: a CR in the second chunk only still gives a file that reads back."""
    from mktai.data import TableWriter

    out = tmp_path / "t.csv"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"a": ["x", "y"], "n": [1, 2]}))
    writer.write(pd.DataFrame({"a": ["p\rq", "\rz"], "n": [3, 4]}))
    writer.close()
    assert _rows(out) == [["a", "n"], ["x", "1"], ["y", "2"], ["p\rq", "3"], ["'\rz", "4"]]
    assert len(pd.read_csv(out)) == 4
