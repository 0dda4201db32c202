"""Issue #13 item 10: an aggregated customer summary (frequency, recency, T, monetary_value).

Realistic data: the lifetimes-style summary of the Online Retail sample's customers (what a
user who followed a lifetimes tutorial has on disk), computed here from the real lines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def summary_file(tmp_path_factory) -> Path:
    lines = pd.read_csv(SAMPLE, dtype={"CustomerID": "string", "InvoiceNo": "string"})
    lines = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    lines = lines.drop_duplicates()
    lines["day"] = pd.to_datetime(lines["InvoiceDate"]).dt.normalize()
    lines["amount"] = lines["Quantity"] * lines["UnitPrice"]
    days = lines.groupby(["CustomerID", "day"], as_index=False)["amount"].sum()
    end = days["day"].max()
    per = days.groupby("CustomerID")
    first = days.groupby("CustomerID")["day"].transform("min")
    table = pd.DataFrame(
        {
            "frequency": per.size() - 1,
            "recency": (per["day"].max() - per["day"].min()).dt.days,
            "T": (end - per["day"].min()).dt.days,
        }
    )
    repeat = days[days["day"] > first].groupby("CustomerID")["amount"].mean()
    table["monetary_value"] = repeat.reindex(table.index).fillna(0.0).round(2)
    path = tmp_path_factory.mktemp("summary") / "customer_summary.csv"
    table.rename_axis("customer_id").reset_index().to_csv(path, index=False)
    return path


def test_small_integers_mapped_as_dates_are_an_error_not_1900(summary_file, tmp_path):
    result = runner.invoke(app, ["segment", str(summary_file), "--clv", "--map", "date=T",
                                 "--map", "amount=monetary_value", "-o",
                                 str(tmp_path / "out.csv")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "small whole numbers" in result.stderr and "'t'" in result.stderr
    assert not (tmp_path / "out.csv").exists()
