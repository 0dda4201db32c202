"""`mktai train` and `mktai predict` through the real CLI on the bank sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
FAST = ["--max-iter", "60", "--learning-rate", "0.1", "--cv", "3"]
runner = CliRunner()


def mktai(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    result = mktai("--store", store, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "resp", "--seed", "3", "--json", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return store, json.loads(result.stdout)


def test_train_stores_a_version_with_manifest(trained):
    store, summary = trained
    assert summary["status"] == "trained" and summary["ref"] == "resp@v1"
    assert 0.8 < summary["metrics"]["cv"]["roc_auc"]["mean"] < 1.0
    manifest = Store(store).load("resp").manifest
    assert manifest["kind"] == "propensity" and manifest["algorithm"] == "gbm"
    assert manifest["seed"] == 3 and manifest["training_data"]["rows"] == 3000
    assert manifest["target"] == "y" and manifest["metrics"]["holdout"]["rows"] == 600
    columns = {c["name"]: c for c in manifest["input_schema"]["columns"]}
    assert columns["job"]["type"] == "categorical" and "unknown" in columns["job"]["categories"]
    assert manifest["permutation_importance"][0]["feature"] == "duration"
    assert set(manifest["files"]) == {"model.json", "model.skops"}


def test_train_prints_cv_metrics_and_leak_warning_on_stderr(tmp_path):
    result = mktai("--store", tmp_path, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "r", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "roc_auc" in result.stderr and "cv mean" in result.stderr
    assert "duration" in result.stderr and "leak" in result.stderr


def test_if_changed_skips_identical_data(trained, tmp_path):
    store, _ = trained
    # the same data and the same configuration as the fixture (seed 3): nothing to do
    result = mktai("--store", store, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "resp", "--seed", "3", "--if-changed", "--json", *FAST)  # fmt: skip
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "unchanged"
    assert "unchanged" in result.stderr
    assert Store(store).versions("resp") == [1]


def _bad_store_untouched(store: Path) -> None:
    assert not any(p.name == "v1" for p in store.rglob("v1"))
    assert Store(store).names() == []


@pytest.mark.parametrize(
    ("frame", "args", "message"),
    [
        (pd.DataFrame({"x": range(20), "y": ["yes"] * 20}), ["--target", "y"], "constant"),
        (pd.DataFrame({"x": range(20), "y": ["a"] * 10 + ["b"] * 9 + ["c"]}), ["--target", "y"],
         "only one row"),
        (pd.DataFrame({"x": range(20), "y": ["a", "b"] * 10}), ["--target", "nope"], "nope"),
    ],
)  # fmt: skip
def test_bad_propensity_targets_exit_2_and_write_nothing(tmp_path, frame, args, message):
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    store = tmp_path / "store"
    result = mktai("--store", store, "train", "propensity", data, "--name", "bad", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    if store.exists():
        _bad_store_untouched(store)


def test_non_numeric_demand_target_exits_2(tmp_path):
    result = mktai("--store", tmp_path / "s", "train", "demand", SAMPLE, "--target", "job",
                   "--name", "d")  # fmt: skip
    assert result.exit_code == 2 and "not numeric" in result.stderr


def test_unknown_target_names_the_target_option(tmp_path):
    result = mktai("--store", tmp_path / "s", "train", "propensity", SAMPLE, "--target", "nope",
                   "--name", "d")  # fmt: skip
    assert result.exit_code == 2
    assert "no target column 'nope' (--target)" in result.stderr and "--map" not in result.stderr


def test_unknown_family_option_and_algorithm_exit_2(tmp_path):
    result = mktai("--store", tmp_path, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "r", "--bogus-option", "1")  # fmt: skip
    assert result.exit_code == 2 and "--bogus-option" in result.stderr
    result = mktai("--store", tmp_path, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "r", "-a", "svm")  # fmt: skip
    assert result.exit_code == 2 and "svm" in result.stderr


def test_predict_adds_score_and_prediction(trained, tmp_path):
    store, _ = trained
    out = tmp_path / "scores.csv"
    result = mktai("--store", store, "predict", "--model", "resp", SAMPLE, "-o", out)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    raw = pd.read_csv(SAMPLE, sep=";")
    assert len(scores) == len(raw)
    assert list(scores.columns[:-2]) == list(raw.columns) and list(scores.columns[-2:]) == [
        "score",
        "prediction",
    ]
    assert scores["score"].between(0, 1).all()
    manifest = Store(store).load("resp").manifest
    expected = (scores["score"] >= manifest["threshold"]).astype(int)
    assert (scores["prediction"] == expected).all()


def test_predict_counts_unseen_categories_and_keeps_extra_columns(trained, tmp_path):
    store, _ = trained
    frame = pd.read_csv(SAMPLE, sep=";").drop(columns="y").head(50)
    frame.loc[:4, "job"] = "astronaut"
    frame["lead_id"] = np.arange(50)
    data = tmp_path / "leads.csv"
    frame.to_csv(data, index=False, sep=";")
    out = tmp_path / "s.csv"
    result = mktai("--store", store, "predict", "--model", "resp@v1", data, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["unseen_categories"] == {"job": 5} and summary["rows"] == 50
    assert "astronaut" in result.stderr or "never seen" in result.stderr
    scored = pd.read_csv(out)
    assert scored["lead_id"].tolist() == list(range(50))


def test_predict_scores_every_row_including_repeated_ones(trained, tmp_path):
    store, _ = trained
    frame = pd.read_csv(SAMPLE, sep=";").drop(columns="y").head(5)
    frame = pd.concat([frame, frame.head(2)])  # the same lead twice is still two leads
    data, out = tmp_path / "leads.csv", tmp_path / "s.csv"
    frame.to_csv(data, index=False, sep=";")
    result = mktai("--store", store, "predict", "--model", "resp@v1", data, "-o", out)
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert len(scored) == 7 and "rejected" not in result.stderr
    assert scored["score"].iloc[5:].tolist() == scored["score"].iloc[:2].tolist()


def test_predict_missing_column_exits_2_naming_it(trained, tmp_path):
    store, _ = trained
    data = tmp_path / "leads.csv"
    pd.read_csv(SAMPLE, sep=";").drop(columns=["balance", "poutcome"]).to_csv(data, index=False)
    result = mktai("--store", store, "predict", "--model", "resp", data, "-o", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert "'balance'" in result.stderr and "'poutcome'" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_predict_unknown_model_exits_3(tmp_path):
    result = mktai("--store", tmp_path, "predict", "--model", "nope", SAMPLE)
    assert result.exit_code == 3


def test_demand_train_and_predict_linear(tmp_path):
    store = tmp_path / "s"
    result = mktai("--store", store, "train", "demand", SAMPLE, "--target", "balance",
                   "--name", "bal", "-a", "linear", "--cv", "3", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert "rmse" in summary["metrics"]["cv"] and "r2" in summary["metrics"]["holdout"]
    out = tmp_path / "p.csv"
    assert mktai("--store", store, "predict", "--model", "bal", SAMPLE, "-o", out).exit_code == 0
    assert pd.read_csv(out)["score"].notna().all()


def test_demo_steps_run(tmp_path):
    from mktai.cli.demo import Tour

    tour = Tour(sample_data=SAMPLE.parent, out=tmp_path, store=tmp_path / "store")
    tour.section("train")
    tour.section("evaluate")
    labels = [label for label, _ in tour.outputs]
    assert "evaluation report (HTML)" in labels and (tmp_path / "evaluation.md").exists()
    assert Store(tour.store).load("response").manifest["evaluations"][0]["passed"] is True


def test_mlp_without_tensorflow_exits_4_and_writes_nothing(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if not installed
    store = tmp_path / "s"
    result = mktai("--store", store, "train", "propensity", SAMPLE, "--target", "y",
                   "--name", "nn", "-a", "mlp", "--cv", "0")  # fmt: skip
    assert result.exit_code == 4
    assert "pip install 'mktai[deep]'" in result.stderr
    assert not store.exists() or Store(store).names() == []
    # checked before any data is read: a file without the target column is not even looked at
    unread_file = tmp_path / "no_target.csv"
    unread_file.write_text("a,b\n1,2\n")
    unread = mktai("--store", store, "train", "propensity", unread_file, "--target", "y",
                   "--name", "nn", "-a", "mlp")  # fmt: skip
    assert unread.exit_code == 4 and "mktai[deep]" in unread.stderr
