"""Amounts with currency signs, decimal commas and thousands separators (issue 13), and the
parsing-gap warning: most of a typed column unreadable is a format gap, said loudly.

The data is a realistic German-style export generated with a fixed seed; every expected value is
computed here from the cents the test drew, not from mktai.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def _euro(cents: int, style: int) -> str:
    """One amount written the way European shops export it (sign before/after, code, groups)."""
    units, rest = divmod(cents, 100)
    grouped = f"{units:,}".replace(",", ".")  # 1.234
    spaced = f"{units:,}".replace(",", "\u00a0")  # 1 234 (no-break space)
    return [
        f"€{units},{rest:02d}",
        f"{units},{rest:02d} €",
        f"EUR {units},{rest:02d}",
        f"{grouped},{rest:02d} €",
        f"{spaced},{rest:02d} €",
        f"€ {grouped},{rest:02d}",
    ][style]


def _export(path: Path, rows: int = 300, seed: int = 7) -> dict[str, float]:
    """customer;date;amount file with every amount in one of the euro styles; returns the truth
    (order id -> amount in euros)."""
    rng = random.Random(seed)
    lines = ["customer_id;order_id;date;amount"]
    truth = {}
    for i in range(rows):
        cents = rng.choice([rng.randint(1, 9_999), rng.randint(100_000, 250_000_000)])
        order = f"B{i:05d}"
        truth[order] = cents / 100
        day = 1 + i % 28
        lines.append(f"K{rng.randint(1, 40):03d};{order};2023-03-{day:02d};{_euro(cents, i % 6)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def test_euro_amounts_with_signs_and_decimal_commas(tmp_path):
    data = tmp_path / "umsatz.csv"
    truth = _export(data)
    out, report = tmp_path / "clean.parquet", tmp_path / "report.json"
    result = run("ingest", str(data), "-o", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())
    assert summary["rows_rejected"] == 0, summary["rejected_by_reason"]
    assert "parsing_gaps" not in summary
    frame = pd.read_parquet(out)
    got = dict(zip(frame["order_id"], frame["amount"], strict=True))
    assert got == pytest.approx(truth)
    # and segment, reading the same file, finds every amount
    customers = tmp_path / "customers.csv"
    seg = run("segment", str(data), "--k", "off", "-o", str(customers), "-q")
    assert seg.exit_code == 0, seg.output
    table = pd.read_csv(customers)
    assert table["monetary"].notna().all() and len(table) == frame["customer_id"].nunique()


def test_the_issue_example(tmp_path):
    data = tmp_path / "u.csv"
    data.write_text("customer_id;date;amount\n1;2023-01-05;€10,50\n2;2023-01-06;€3,25\n")
    out = tmp_path / "u.parquet"
    result = run("ingest", str(data), "-o", str(out), "--strict")
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["amount"].tolist() == [10.5, 3.25]


@pytest.mark.parametrize(
    ("values", "expected", "note"),
    [
        (["1,234.56", "$2,000", "12.5", "1,000,000"], [1234.56, 2000.0, 12.5, 1e6], False),
        (["1.234,56 €", "2.000 €", "12,5 €", "1.000.000 €"], [1234.56, 2000.0, 12.5, 1e6], False),
        (["1 234,56", "2 000,00", "12,50", "999,99"], [1234.56, 2000.0, 12.5, 999.99], False),
        # only ambiguous values: the mark is a thousands separator, and the report says so
        (["1,234", "2,500", "12", "7,000"], [1234.0, 2500.0, 12.0, 7000.0], True),
        (["1.234", "2.500", "12", "7.000"], [1234.0, 2500.0, 12.0, 7000.0], True),
        # the same '1,234' in a column that elsewhere writes decimal commas is 1.234
        (["1,234", "12,5", "3,75", "8,10"], [1.234, 12.5, 3.75, 8.1], False),
        # and in a column that writes decimal points, 1234
        (["1,234", "12.5", "3.75", "8.10"], [1234.0, 12.5, 3.75, 8.1], False),
    ],
)
def test_decimal_mark_decided_per_column(tmp_path, values, expected, note):
    data = tmp_path / "p.csv"
    data.write_text(
        "sku;price\n" + "".join(f"s{i};{v}\n" for i, v in enumerate(values)), encoding="utf-8"
    )
    out, report = tmp_path / "p.parquet", tmp_path / "r.json"
    result = run("ingest", str(data), "-o", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["price"].tolist() == pytest.approx(expected)
    notes = json.loads(report.read_text()).get("notes", [])
    assert any("thousands separator" in n and "price" in n for n in notes) is note


def test_parsing_gap_in_a_required_column_is_loud_and_fails_strict(tmp_path):
    data = tmp_path / "gap.csv"
    rows = [f"{i};2023-01-{1 + i % 28:02d};{i},50 €/Stk." for i in range(1, 41)]
    rows += [f"{i};2023-02-01;{i},50" for i in range(41, 45)]
    data.write_text("customer_id;date;amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out, report = tmp_path / "gap.parquet", tmp_path / "r.json"
    result = run("ingest", str(data), "-o", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())
    (gap,) = summary["parsing_gaps"]
    assert gap["column"] == "amount" and gap["unreadable"] == 40 and gap["present"] == 44
    assert gap["examples"][0] == "1,50 €/Stk."
    assert any("column amount: 40 of 44 values" in n for n in summary["notes"])
    assert "could not be read as number" in result.stderr and "1,50 €/Stk." in result.stderr
    strict = run("ingest", str(data), "-o", str(tmp_path / "s.parquet"), "--strict")
    assert strict.exit_code == 2
    assert not (tmp_path / "s.parquet").exists()


def test_parsing_gap_in_an_optional_column_fails_strict_without_rejects(tmp_path):
    data = tmp_path / "opt.csv"
    rows = [f"{i};2023-01-05;{i},00;{i} Stück à 2,5 kg" for i in range(1, 31)]
    data.write_text("customer_id;date;amount;quantity\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    result = run("ingest", str(data), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "column quantity: 30 of 30 values" in result.stderr
    assert pd.read_parquet(out)["amount"].tolist() == [float(i) for i in range(1, 31)]
    strict_out = tmp_path / "s.parquet"
    strict = run("ingest", str(data), "-o", str(strict_out), "--strict")
    assert strict.exit_code == 2, strict.output
    assert "column quantity" in strict.stderr and not strict_out.exists()


def _drifting(path: Path, rows: int = 260_000, turn: int = 182_000) -> Path:
    """A plain CSV over 8 MB whose `batch` column is numeric until row `turn`, then codes."""
    rng = random.Random(11)
    lines = ["customer_id,date,amount,batch,note"]
    for i in range(rows):
        batch = str(rng.randint(100, 999)) if i < turn else f"B-{rng.randint(100, 999)}"
        lines.append(f"c{i % 5000},2024-01-{1 + i % 28:02d},{i % 97}.5,{batch},delivered to store")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_types_are_decided_on_rows_from_across_the_file(tmp_path):
    import gzip

    data = _drifting(tmp_path / "drift.csv")
    assert data.stat().st_size > 8 * 1024 * 1024
    out, report = tmp_path / "d.parquet", tmp_path / "r.json"
    result = run("ingest", str(data), "-o", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())
    assert summary["columns"]["batch"]["type"] == "text"  # the codes at the end were seen
    frame = pd.read_parquet(out, columns=["batch"])
    assert frame["batch"].notna().all() and frame["batch"].iloc[-1].startswith("B-")
    # gzip cannot be read at an offset: typed from the first rows, the change is reported
    packed = tmp_path / "drift.csv.gz"
    packed.write_bytes(gzip.compress(data.read_bytes(), compresslevel=1))
    result = run("ingest", str(packed), "-o", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())
    assert summary["columns"]["batch"]["type"] == "number"
    (gap,) = summary["parsing_gaps"]
    assert gap["column"] == "batch" and gap["from_row"] == 182_001
    assert "from row 182,001 on most values do not read as number" in result.stderr
    strict = run("ingest", str(packed), "-o", str(tmp_path / "s.parquet"), "--strict")
    assert strict.exit_code == 2 and "batch" in strict.stderr
