"""Issue #13 item 5: identifier columns are left out of the features and listed, whatever the dtype.

Realistic data: the bank marketing sample with the id columns a CRM export carries: an integer
row number `customer_idx` (1..n), a shuffled integer `CustomerID` and a text `account_ref`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
runner = CliRunner()


def test_integer_and_text_identifiers_are_not_features(tmp_path):
    frame = pd.read_csv(SAMPLE, sep=";")
    rng = np.random.default_rng(5)
    frame.insert(0, "customer_idx", np.arange(1, len(frame) + 1))
    frame.insert(1, "CustomerID", rng.permutation(len(frame)) * 7 + 10_000)
    frame.insert(2, "account_ref", [f"AC-{i:06d}" for i in rng.permutation(len(frame))])
    path = tmp_path / "crm.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["--store", str(tmp_path / "s"), "train", "propensity",
                                 str(path), "--target", "y", "--name", "m", "--algorithm",
                                 "linear", "--cv", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = Store(tmp_path / "s").load("m").manifest
    used = {c["name"] for c in manifest["input_schema"]["columns"]}
    # the cleaning layer writes names in snake_case: CustomerID -> customer_id
    assert not {"customer_idx", "customer_id", "account_ref"} & used
    assert {"age", "balance", "job"} <= used
    dropped = manifest["input_schema"]["dropped"]
    assert all(dropped[c].startswith("identifier") for c in ("customer_idx", "customer_id"))
    assert manifest["preprocessing"]["identifiers"] == [
        "account_ref",
        "customer_id",
        "customer_idx",
    ]
    summary = json.loads(result.stdout)
    listed = [w for w in summary["warnings"] if w.startswith("identifier column(s)")]
    assert len(listed) == 1 and all(c in listed[0] for c in ("customer_idx", "customer_id"))
    assert "identifier column(s) left out" in result.stderr
    # scoring a new file with the same columns still works (the ids stay in the output)
    out = tmp_path / "scores.csv"
    scored = runner.invoke(app, ["--store", str(tmp_path / "s"), "predict", "--model", "m",
                                 str(path), "-o", str(out)])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert pd.read_csv(out)["customer_idx"].tolist()[:3] == [1, 2, 3]
