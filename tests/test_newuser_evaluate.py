"""Issue #13 items 3 and 10: what `mktai evaluate` and `mktai train` tell a new user.

Realistic data: the bank marketing sample with its target written Yes/No, as churn exports do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
FAST = ["--algorithm", "linear", "--cv", "2"]
runner = CliRunner()


def mktai(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    """A Yes/No target file, a model trained on it, and the store."""
    root = tmp_path_factory.mktemp("churn")
    frame = pd.read_csv(SAMPLE, sep=";")
    frame["y"] = frame["y"].map({"yes": "Yes", "no": "No"})
    train = root / "train.csv"
    frame.to_csv(train, index=False)
    store = root / "store"
    result = mktai("--store", store, "train", "propensity", train, "--target", "y",
                   "--name", "churn", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return root, frame, store


def test_stray_label_is_named_alone_in_the_models_label_space(churn, tmp_path):
    _root, frame, store = churn
    scored = frame.head(400).copy()
    scored.loc[7, "y"] = "Maybe"
    path = tmp_path / "new.csv"
    scored.to_csv(path, index=False)
    result = mktai("--store", store, "evaluate", "--model", "churn", "--data", path)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "'Maybe' (1 row)" in message
    assert "'Yes'" not in message and "'No'" not in message and "No, Yes" not in message
    assert "Traceback" not in message


def test_header_only_file_says_no_data_rows(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(SAMPLE.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    result = mktai("--store", tmp_path / "s", "train", "propensity", path, "--target", "y",
                   "--name", "m")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no data rows" in result.stderr and "constant" not in result.stderr


def test_rows_without_a_target_say_why_nothing_is_left(tmp_path):
    frame = pd.read_csv(SAMPLE, sep=";").head(200)
    frame["y"] = ""
    path = tmp_path / "unlabelled.csv"
    frame.to_csv(path, index=False)
    result = mktai("--store", tmp_path / "s", "train", "propensity", path, "--target", "y",
                   "--name", "m")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no data rows" in result.stderr and "all 200 row(s) were rejected" in result.stderr
    assert "constant" not in result.stderr
