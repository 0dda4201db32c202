"""The Keras MLP (real TensorFlow): CLI train + predict round trip, safe .keras loading."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

pytest.importorskip("tensorflow", reason="the mlp algorithm needs TensorFlow (mktai[deep])")
pytestmark = pytest.mark.deep

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
runner = CliRunner()


def mktai(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_mlp_train_predict_evaluate_round_trip(tmp_path):
    data = tmp_path / "small.csv"
    pd.read_csv(SAMPLE, sep=";").sample(900, random_state=0).to_csv(data, index=False, sep=";")
    store = tmp_path / "store"
    result = mktai("--store", store, "train", "propensity", data, "--target", "y", "--name", "nn",
                   "-a", "mlp", "--cv", "2", "--epochs", "10", "--seed", "1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["algorithm"] == "mlp" and summary["metrics"]["cv"]["roc_auc"]["mean"] > 0.65
    version = Store(store).load("nn")
    assert {"model.json", "encoder.skops", "network.keras"} <= set(version.manifest["files"])
    with zipfile.ZipFile(version.path / "network.keras") as archive:
        config = json.loads(archive.read("config.json"))
    layers = [layer["class_name"] for layer in config["config"]["layers"]]
    units = [layer["config"].get("units") for layer in config["config"]["layers"]]
    assert layers[-3:] == ["Dense", "Dense", "Dense"] and units[-3:] == [64, 64, 1]

    out = tmp_path / "scores.csv"
    result = mktai("--store", store, "predict", "--model", "nn", data, "-o", out)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert scores["score"].between(0, 1).all()
    report = tmp_path / "r.json"
    result = mktai("--store", store, "evaluate", "--model", "nn", "--data", data,
                   "--report", report)  # fmt: skip
    assert result.exit_code == 0, result.output
    y = (pd.read_csv(data, sep=";")["y"] == "yes").astype(int)
    auc = json.loads(report.read_text())["metrics"]["roc_auc"]
    assert auc == pytest.approx(skm.roc_auc_score(y, scores["score"]), abs=1e-5)


def test_mlp_regression_unscales_predictions(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(0, 10, 400), "g": rng.choice(["a", "b"], 400)})
    frame["amount"] = 1000 + 50 * frame["x"] + np.where(frame["g"] == "a", 100, 0)
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    store = tmp_path / "s"
    result = mktai("--store", store, "train", "demand", data, "--target", "amount", "--name", "d",
                   "-a", "mlp", "--cv", "0", "--epochs", "30", "--test-size", "0")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "p.csv"
    assert mktai("--store", store, "predict", "--model", "d", data, "-o", out).exit_code == 0
    pred = pd.read_csv(out)["score"]
    # predictions are on the target's scale (standardised internally, then scaled back)
    assert abs(pred.mean() - frame["amount"].mean()) < 0.1 * frame["amount"].std()
    assert skm.r2_score(frame["amount"], pred) > 0.8
