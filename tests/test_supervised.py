"""The supervised family on DataFrames: targets, schema, preprocessing, fit/save/load, leaks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mktai.data import load_table
from mktai.data.table import CleanTable
from mktai.errors import InputError, IntegrityError, UsageError
from mktai.tasks.base import TrainOptions
from mktai.tasks.common.tabular import infer_schema, prepare
from mktai.tasks.supervised import family as sup

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
FAST = {"max_iter": "60", "learning_rate": "0.1"}


def table_of(frame: pd.DataFrame, target: str = "y") -> CleanTable:
    return CleanTable(frame=frame, roles={"target": target}, kind="labelled",
                      rejects=pd.DataFrame(), sources=["test.csv"])  # fmt: skip


@pytest.fixture(scope="module")
def bank() -> CleanTable:
    return load_table(SAMPLE, kind="labelled", mapping={"target": "y"})


@pytest.fixture(scope="module")
def bank_model(bank):
    return sup.fit(bank, "propensity", TrainOptions(seed=0, cv=3, extra=dict(FAST)))


def test_target_errors_are_input_errors():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1, 1, 1, 1]})
    with pytest.raises(InputError, match=r"constant \(every row is 1\)"):
        sup.fit(table_of(frame), "propensity", TrainOptions())
    with pytest.raises(UsageError, match="--cv 1"):
        sup.fit(table_of(frame.assign(y=[0, 1, 0, 1])), "propensity", TrainOptions(cv=1))
    frame["y"] = [0, 0, 0, 1]
    with pytest.raises(InputError, match="only one row"):
        sup.fit(table_of(frame), "propensity", TrainOptions())
    frame["y"] = ["a", "b", "a", "b"]
    with pytest.raises(InputError, match="not numeric"):
        sup.fit(table_of(frame), "demand", TrainOptions())
    yes_no = sup.fit(table_of(frame.assign(y=[0, 1] * 2)), "demand",
                     TrainOptions(cv=0, extra={"test_size": "0"}))  # fmt: skip
    assert any("use kind propensity" in w for w in yes_no.extras["warnings"])
    with pytest.raises(InputError, match="'nope' not found"):
        sup.fit(table_of(frame, "nope"), "propensity", TrainOptions())
    with pytest.raises(UsageError, match="--wat"):
        sup.fit(table_of(frame), "propensity", TrainOptions(extra={"wat": "1"}))


def test_schema_types_dropped_columns_and_unseen_categories():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "age": rng.normal(40, 10, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "signup": pd.date_range("2024-01-01", periods=n, freq="D"),
            "constant": 1.0,
            "y": rng.integers(0, 2, n),
        }
    )
    frame.loc[:9, "age"] = np.nan
    schema = infer_schema(frame, "y")
    kinds = {c["name"]: c["type"] for c in schema["columns"]}
    assert kinds == {"age": "numeric", "plan": "categorical", "signup": "date"}
    assert "identifier" in schema["dropped"]["customer_id"]
    assert schema["dropped"]["constant"] == "constant"
    new = frame.head(5).copy()
    new["plan"] = ["basic", "gold", "gold", None, "pro"]
    X, stats = prepare(new, schema)
    assert stats["unseen"] == {"plan": 2} and stats["missing"] == {"age": 5, "plan": 1}
    assert X["plan"].isna().sum() == 3  # unseen are treated as missing
    assert X["signup__dayofweek"].tolist() == [float(d.dayofweek) for d in new["signup"]]


def test_bank_model_metrics_threshold_importance_and_leak_warning(bank_model):
    m = bank_model
    assert m.task == "binary" and m.classes == [0, 1] and m.positive == 1
    cv = m.metrics["cv"]
    assert 0.85 < cv["roc_auc"]["mean"] < 1.0
    assert 0.0 < m.threshold < 1.0
    assert m.metrics["holdout"]["rows"] == 600  # 20% of 3,000
    assert m.extras["permutation_importance"][0]["feature"] == "duration"
    assert [leak["column"] for leak in m.extras["leak_warnings"]] == ["duration"]
    assert any("--drop duration" in w for w in m.extras["warnings"])
    fields = m.manifest_fields()
    names = [c["name"] for c in fields["input_schema"]["columns"]]
    assert "y" not in names and "duration" in names
    assert fields["input_schema"]["derived"][0]["name"] == "day_of_year"
    pdays = next(c for c in fields["input_schema"]["columns"] if c["name"] == "pdays")
    assert pdays["sentinel"] == -1.0  # "never contacted" is a code, not a number of days
    balance = next(c for c in fields["input_schema"]["columns"] if c["name"] == "balance")
    assert "sentinel" not in balance  # real negative balances are values


def test_drop_removes_the_leaky_column(bank):
    opts = TrainOptions(seed=0, cv=0, extra={**FAST, "drop": "duration", "test_size": "0"})
    model = sup.fit(bank, "propensity", opts)
    assert "duration" not in [c["name"] for c in model.schema["columns"]]
    assert model.extras["leak_warnings"] == []
    assert model.schema["dropped"]["duration"] == "excluded with --drop"
    # a column the user dropped on purpose is not a warning (cron logs stay quiet)
    assert not any("duration" in w for w in model.extras["warnings"])


def test_save_load_round_trip_and_independent_metrics(bank_model, bank, tmp_path):
    bank_model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.skops"]
    loaded = sup.load_model(tmp_path, {})
    original, _ = bank_model.predict(bank)
    again, _ = loaded.predict(bank)
    np.testing.assert_allclose(original["score"], again["score"])
    result = loaded.evaluate(bank)
    y, score = bank.frame["y"].to_numpy(), again["score"].to_numpy()
    assert result["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-6)
    pred = (score >= loaded.threshold).astype(int)
    assert result["metrics"]["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-6)
    assert (again["prediction"].to_numpy() == pred).all()


class Payload:
    """Stands for any object outside the allow-list (skops would have to construct it)."""


def test_untrusted_skops_types_are_refused(bank_model, tmp_path):
    import skops.io as sio
    from sklearn.svm import SVC

    bank_model.save(tmp_path)
    sio.dump({"model": Payload()}, tmp_path / "model.skops")
    with pytest.raises(IntegrityError, match="does not trust"):
        sup.load_model(tmp_path, {})
    sio.dump(SVC(), tmp_path / "model.skops")  # trusted by skops, but not what gbm stores
    with pytest.raises(IntegrityError, match="SVC"):
        sup.load_model(tmp_path, {})


@pytest.mark.parametrize("algorithm", ["linear", "gbm"])
def test_multiclass(algorithm):
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {"x": x, "noise": rng.normal(size=n), "y": np.where(x < -0.5, "low", np.where(x > 0.5, "high", "mid"))}
    )  # fmt: skip
    model = sup.fit(table_of(frame), "propensity",
                    TrainOptions(seed=0, cv=3, algorithm=algorithm, extra=dict(FAST) if algorithm == "gbm" else {}))  # fmt: skip
    assert model.task == "multiclass" and model.classes == ["high", "low", "mid"]
    out, _ = model.predict(table_of(frame))
    assert {"proba_high", "proba_low", "proba_mid"} <= set(out.columns)
    accuracy = (out["prediction"] == frame["y"]).mean()
    assert accuracy > 0.85
    assert model.evaluate(table_of(frame))["metrics"]["accuracy"] == pytest.approx(accuracy)


@pytest.mark.parametrize("algorithm", ["linear", "gbm"])
def test_demand_regression_with_missing_values(algorithm):
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame(
        {
            "visits": rng.poisson(5, n).astype(float),
            "segment": rng.choice(["a", "b"], n),
        }
    )
    frame["amount"] = 20 * frame["visits"] + np.where(frame["segment"] == "b", 30, 0)
    frame["amount"] += rng.normal(0, 5, n)
    frame.loc[::25, "visits"] = np.nan  # imputed, not dropped
    table = table_of(frame, "amount")
    extra = {"max_iter": "200"} if algorithm == "gbm" else {}
    model = sup.fit(table, "demand", TrainOptions(seed=0, cv=3, algorithm=algorithm, extra=extra))
    assert model.task == "regression" and model.metrics["cv"]["r2"]["mean"] > 0.8
    assert model.extras["preprocessing"]["missing_values"]["visits"] > 0
    result = model.evaluate(table)
    out, _ = model.predict(table)
    assert len(out) == n and out["score"].notna().all()
    assert result["metrics"]["rmse"] == pytest.approx(
        np.sqrt(skm.mean_squared_error(frame["amount"], out["score"])), abs=1e-4
    )


def test_calibration_and_class_weights(bank):
    extra = {**FAST, "calibrate": "isotonic", "class_weight": "balanced", "test_size": "0"}
    model = sup.fit(bank, "propensity", TrainOptions(seed=0, cv=3, extra=extra))
    assert model.calibration["method"] == "isotonic"
    assert model.params["class_weight"] == "balanced"
    scores = model.predict(bank)[0]["score"]
    # isotonic calibration on out-of-fold scores keeps the mean near the base rate even though
    # balanced class weights push raw probabilities up
    assert abs(scores.mean() - bank.frame["y"].mean()) < 0.05


def test_same_seed_same_metrics(bank):
    opts = TrainOptions(seed=4, cv=2, extra={**FAST, "test_size": "0.3"})
    a = sup.fit(bank, "propensity", opts).metrics
    b = sup.fit(bank, "propensity", opts).metrics
    assert a == b


def test_threads_default_to_the_idle_cores_and_openmp_waits_passively(monkeypatch):
    import os

    from mktai.tasks.supervised.estimators import default_threads, passive_openmp

    cores = len(os.sched_getaffinity(0))
    monkeypatch.delenv("MKTAI_THREADS", raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))  # idle: every core
    assert default_threads() == cores
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 3.0, 1.0, 1.0))  # busy: one
    assert default_threads() == 1
    monkeypatch.setenv("MKTAI_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("MKTAI_THREADS", "lots")  # not a number: the default, no crash
    assert default_threads() == 1
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice wins
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_passive_openmp_is_set_before_scikit_learn_loads():
    """OpenMP reads OMP_WAIT_POLICY once, when scikit-learn loads it: the family sets it first."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys; import mktai.tasks.supervised.family; "
        "print('sklearn' in sys.modules, os.environ.get('OMP_WAIT_POLICY'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["False", "PASSIVE"]
