"""Issue #13 item 2: the default propensity learner races linear against gbm and keeps the better.

Realistic data: the bank marketing sample (3,000 real rows). The quality check compares the
default with scikit-learn's HistGradientBoosting defaults and a logistic regression on the same
stratified folds (no timing assertions: benchmarks/supervised.py measures time).
"""

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
runner = CliRunner()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    result = runner.invoke(app, ["--store", str(store), "train", "propensity", str(SAMPLE),
                                 "--target", "y", "--name", "resp", "--seed", "7",
                                 "--test-size", "0", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return store, json.loads(result.stdout), result


def _baselines(seed: int) -> tuple[float, float]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(SAMPLE, sep=";")
    y = (frame.pop("y") == "yes").to_numpy(dtype=int)
    text = [c for c in frame.columns if frame[c].dtype.kind not in "fiub"]
    codes = frame.copy()
    for c in text:
        codes[c] = codes[c].astype("category").cat.codes
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    hgb = cross_val_score(HistGradientBoostingClassifier(random_state=seed), codes, y,
                          cv=folds, scoring="roc_auc").mean()  # fmt: skip
    numeric = [c for c in frame.columns if c not in text]
    logistic = make_pipeline(
        ColumnTransformer([("n", StandardScaler(), numeric), ("c", OneHotEncoder(), text)]),
        LogisticRegression(max_iter=1000),
    )
    lr = cross_val_score(logistic, frame, y, cv=folds, scoring="roc_auc").mean()
    return float(hgb), float(lr)


def test_default_compares_linear_and_gbm_and_records_the_choice(default_run):
    store, summary, _result = default_run
    manifest = Store(store).load("resp").manifest
    selection = manifest["selection"]
    assert selection["requested"] == "auto" and selection["by"] == "cv roc_auc"
    assert set(selection["candidates"]) == {"linear", "gbm"}
    scores = {a: c["mean"] for a, c in selection["candidates"].items()}
    assert manifest["algorithm"] == selection["chosen"] == max(scores, key=scores.get)
    assert summary["algorithm"] == selection["chosen"]
    assert manifest["params"]["algorithm_requested"] == "auto"


def test_default_is_at_least_as_good_as_sklearn_defaults_on_the_same_folds(default_run):
    _store, summary, _result = default_run
    auc = summary["metrics"]["cv"]["roc_auc"]["mean"]
    hgb, lr = _baselines(seed=7)
    assert auc >= max(hgb, lr) - 0.002, (auc, hgb, lr)


def test_gbm_stops_early_instead_of_running_800_rounds(tmp_path):
    result = runner.invoke(app, ["--store", str(tmp_path), "train", "propensity", str(SAMPLE),
                                 "--target", "y", "--name", "g", "--algorithm", "gbm",
                                 "--cv", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = Store(tmp_path).load("g").manifest
    assert manifest["params"]["early_stopping"] is True
    assert len(manifest["rounds"]) == 3 and max(manifest["rounds"]) < 400
    # the fold models are the final model: the stored version scores like them
    scores = tmp_path / "scores.csv"
    scored = runner.invoke(app, ["--store", str(tmp_path), "predict", "--model", "g",
                                 str(SAMPLE), "-o", str(scores)])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert np.isfinite(pd.read_csv(scores)["score"]).all()
