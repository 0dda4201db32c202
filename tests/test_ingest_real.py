"""`mktai ingest` on the real, dirty data sets in ../shared/data, checked against counts computed
independently here with plain pandas / the csv module on the raw files.

Counting rule (the same as the cleaning layer's): exact duplicate lines are removed FIRST, then
cancellations, returns, lines without customer and zero/negative prices are counted on what is
left. The published counts (9,288 cancellations, 135,080 without customer, 5,268 duplicates) are
for the raw file and are checked on the raw file.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRANSACTIONS = DATA / "transactions.csv.gz"
BANK = DATA / "bank_marketing.csv"

pytestmark = pytest.mark.skipif(
    not TRANSACTIONS.exists() or not BANK.exists(),
    reason=f"real data sets not found in {DATA} (../shared/data beside the project)",
)


def _run(args: list[str]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _raw_records(path: Path, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader)
        return header, [row for row in reader if row]


@pytest.fixture(scope="module")
def transactions(tmp_path_factory):
    """One ingest of the full file for the whole module (about 5 s)."""
    import pandas as pd

    out = tmp_path_factory.mktemp("tx")
    result = _run(
        [
            "ingest",
            str(TRANSACTIONS),
            "-o",
            str(out / "clean.parquet"),
            "--report",
            str(out / "report.json"),
        ]
    )
    report = json.loads((out / "report.json").read_text())
    clean = pd.read_parquet(out / "clean.parquet")
    rejects = pd.read_csv(out / "clean.rejects.csv", dtype={"raw": str}, keep_default_na=False)
    return {"report": report, "clean": clean, "rejects": rejects, "stderr": result.stderr}


@pytest.fixture(scope="module")
def raw_transactions():
    """The raw file as strings, read independently of mktai."""
    import pandas as pd

    return pd.read_csv(TRANSACTIONS, dtype=str, keep_default_na=False)


def test_raw_file_matches_published_counts(raw_transactions):
    raw = raw_transactions
    assert len(raw) == 541_909
    assert int(raw["InvoiceNo"].str.startswith("C").sum()) == 9_288
    assert int((raw["CustomerID"] == "").sum()) == 135_080
    assert int(raw.duplicated().sum()) == 5_268


def test_transactions_counts(transactions, raw_transactions):
    report = transactions["report"]
    raw = raw_transactions
    deduped = raw.drop_duplicates()
    quantity = deduped["Quantity"].astype(float)
    price = deduped["UnitPrice"].astype(float)
    cancelled = deduped["InvoiceNo"].str.upper().str.startswith("C")
    is_return = cancelled | (quantity < 0)

    assert report["kind"] == "transactions"
    assert report["sources"][0]["encoding"] == "utf-8"
    assert report["sources"][0]["compression"] == "gzip"
    assert report["rows_in"] == len(raw)
    assert report["duplicates_removed"] == int(raw.duplicated().sum())
    assert report["rows_out"] == len(deduped)
    assert report["rows_in"] == report["rows_out"] + report["rows_rejected"]
    tx = report["transactions"]
    assert tx["cancellation_lines"] == int(cancelled.sum())
    assert tx["return_lines"] == int(is_return.sum())
    assert tx["lines_without_customer"] == int((deduped["CustomerID"] == "").sum())
    assert tx["zero_price_lines"] == int((price == 0).sum())
    assert tx["negative_price_lines"] == int((price < 0).sum()) > 0
    assert tx["sales_value"] == pytest.approx(float((quantity * price)[~is_return].sum()), abs=0.1)
    assert tx["returns_value"] == pytest.approx(float((quantity * price)[is_return].sum()), abs=0.1)
    assert report["roles"]["customer"] == "customer_id"
    assert report["roles"]["order"] == "invoice_no"
    assert report["columns"]["customer_id"]["missing_share"] == pytest.approx(
        (deduped["CustomerID"] == "").sum() / len(deduped), abs=1e-5
    )
    assert "rows: 541,909 in" in transactions["stderr"]


def test_transactions_clean_table(transactions, raw_transactions):
    clean = transactions["clean"]
    deduped = raw_transactions.drop_duplicates()
    assert len(clean) == transactions["report"]["rows_out"]
    assert str(clean["quantity"].dtype) == "float64"
    assert str(clean["unit_price"].dtype) == "float64"
    assert str(clean["invoice_date"].dtype).startswith("datetime64")
    assert clean["invoice_date"].min() == __import__("pandas").Timestamp("2010-12-01 08:26")
    assert clean["is_return"].dtype == bool
    assert (clean["amount"] == clean["quantity"] * clean["unit_price"]).all()
    assert clean["quantity"].sum() == deduped["Quantity"].astype(int).sum()
    # identifiers stay text: 17850, not 17850.0; missing customers are missing, not ""
    assert set(clean["customer_id"].dropna().head(1000).str.len()) == {5}
    assert clean["customer_id"].isna().sum() == (deduped["CustomerID"] == "").sum()
    assert clean["invoice_no"].tolist() == deduped["InvoiceNo"].tolist()


def test_transactions_rejects_file(transactions):
    rejects = transactions["rejects"]
    report = transactions["report"]
    assert len(rejects) == report["rows_rejected"]
    assert (rejects["reason"] != "").all()
    header, records = _raw_records(TRANSACTIONS)
    for row, reason, raw in zip(rejects["row"], rejects["reason"], rejects["raw"], strict=True):
        # `row` is the 1-based data row; the raw text is that record, CSV-quoted
        original = records[row - 1]
        assert next(csv.reader([raw])) == original
        assert reason.startswith("exact duplicate of row ")
        first = int(reason.rsplit(" ", 1)[1])
        assert first < row and records[first - 1] == original


def test_bank_marketing(tmp_path):
    import pandas as pd

    out = tmp_path / "bank.csv"
    result = _run(["ingest", str(BANK), "-o", str(out), "--report", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text())
    expected = pd.read_csv(BANK, sep=";")  # independent read with the documented delimiter

    assert report["sources"][0]["delimiter"] == ";"
    assert "semicolon" in result.stderr
    assert report["rows_in"] == len(expected) == 45_211
    assert report["rows_out"] + report["rows_rejected"] == report["rows_in"]
    assert report["rows_out"] == len(expected.drop_duplicates())
    clean = pd.read_csv(out)
    assert list(clean.columns) == list(expected.columns)
    assert clean.shape == (len(expected), 17)
    assert report["columns"]["y"]["type"] == "bool"
    assert int(clean["y"].sum()) == int((expected["y"] == "yes").sum()) == 5_289
    for column in ("age", "balance", "duration", "pdays"):
        assert report["columns"][column]["type"] == "number"
        assert clean[column].sum() == expected[column].sum()
    # quoted strings come out unquoted; 'unknown' is a category, not missing
    assert clean["job"].tolist() == expected["job"].tolist()
    assert report["columns"]["contact"]["missing_share"] == 0.0


def test_bank_marketing_as_labelled_table(tmp_path):
    from mktai.data import load_table

    table = load_table(BANK, mapping={"target": "y"})
    assert table.kind == "labelled"
    assert table.roles["target"] == "y"
    assert table.frame["y"].dtype == "int64"
    assert int(table.frame["y"].sum()) == 5_289
    assert table.fingerprint["rows"] == 45_211
