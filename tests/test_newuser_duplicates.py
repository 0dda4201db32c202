"""Issue #13 item 7: identical lines are the user's call, and ingest's decision is not undone.

Realistic data: the Online Retail sample (17,015 real lines, 262 of them exact duplicates of an
earlier line, as in the full file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
runner = CliRunner()


def mktai(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_segment_keeps_the_duplicates_ingest_was_told_to_keep(tmp_path):
    kept = tmp_path / "kept.parquet"
    report = json.loads(mktai("ingest", SAMPLE, "-o", kept, "--keep-duplicates", "--json").stdout)
    assert report["rows_out"] == 17_015 and report["duplicates_removed"] == 0
    summary = json.loads(mktai("segment", kept, "--k", "off", "-o", tmp_path / "a.csv",
                               "--json").stdout)  # fmt: skip
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": "string"})
    with_customer = raw[raw["CustomerID"].notna()]
    assert summary["lines"]["lines"] == len(with_customer)  # 16,865: no line lost
    revenue = float((with_customer["Quantity"] * with_customer["UnitPrice"]).sum())
    assert summary["revenue_total"] == pytest.approx(revenue, abs=0.01)
    # a de-duplicated ingest is not de-duplicated again either (nothing left to find)
    clean = tmp_path / "clean.parquet"
    mktai("ingest", SAMPLE, "-o", clean)
    deduped = json.loads(mktai("segment", clean, "--k", "off", "-o", tmp_path / "b.csv",
                               "--json").stdout)  # fmt: skip
    assert deduped["lines"]["lines"] == len(with_customer) - 262
