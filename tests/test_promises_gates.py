"""README promise: "--fail-under metric=value (worse than the value fails; for log_loss, brier,
mae, rmse, mape that means above)" and "--max-drop metric=value fails when the metric fell by
more" — for every metric, in the direction that means worse for it.

The directions are written out here from the README, not read from mktai's own table, so
removing a metric from that table fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.evaluation import gates

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
LOWER = ["log_loss", "brier", "mae", "rmse", "mape", "mse"]
HIGHER = ["roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "r2", "average_precision"]


@pytest.mark.parametrize("metric", LOWER + HIGHER)
def test_fail_under_fails_only_when_worse(metric: str):
    lower = metric in LOWER
    worse, better = (0.6, 0.4) if lower else (0.4, 0.6)
    limit = 0.5
    for prefix in ("", "holdout."):  # plain and dotted metric names
        name = prefix + metric
        (bad,) = gates.fail_under({name: worse}, {metric: limit})
        (good,) = gates.fail_under({name: better}, {metric: limit})
        (edge,) = gates.fail_under({name: limit}, {metric: limit})
        assert not bad.passed and good.passed and edge.passed, metric
        assert bad.value == worse and bad.kind == "fail-under"
        assert ("at most" if lower else "at least") in bad.message and "fails" in bad.message
        assert metric in gates.failure_message([bad, good])


@pytest.mark.parametrize("metric", LOWER + HIGHER)
def test_max_drop_counts_the_worse_direction(metric: str):
    lower = metric in LOWER
    base = 0.5
    worse = base + 0.05 if lower else base - 0.05
    better = base - 0.05 if lower else base + 0.05
    (fell,) = gates.max_drop({metric: worse}, {metric: base}, {metric: 0.01}, "m@v1")
    (rose,) = gates.max_drop({metric: better}, {metric: base}, {metric: 0.01}, "m@v1")
    (allowed,) = gates.max_drop({metric: worse}, {metric: base}, {metric: 0.05}, "m@v1")
    assert not fell.passed and rose.passed and allowed.passed, metric
    assert "exceeds" in fell.message and "m@v1" in fell.message
    assert fell.baseline == base
    (first,) = gates.max_drop({metric: worse}, None, {metric: 0.01}, None)
    assert first.passed and first.skipped


@pytest.fixture(scope="module")
def demand(tmp_path_factory) -> tuple[Path, Path, dict]:
    """A stored demand model (age from the bank sample, linear) and its evaluation metrics."""
    tmp = tmp_path_factory.mktemp("demand")
    data = tmp / "bank.csv"
    pd.read_csv(SAMPLE / "bank_sample.csv", sep=";", dtype=str).iloc[::6].to_csv(data, index=False)
    store = tmp / "store"
    result = CliRunner().invoke(app, ["--store", str(store), "train", "demand", str(data),
                                      "--target", "age", "--name", "d", "-a", "linear",
                                      "--cv", "2", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = _evaluate(store, data)[1]["metrics"]
    return store, data, metrics


def _evaluate(store: Path, data: Path, *gate_args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["--store", str(store), "evaluate", "--model", "d",
                                      "--data", str(data), "--json", "-q", *gate_args])  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("metric", ["mape", "mae", "rmse", "r2"])
def test_evaluate_gates_regression_metrics_in_the_right_direction(demand, metric: str):
    store, data, metrics = demand
    value = metrics[metric]
    assert value > 0
    tighter, looser = (
        (value * 0.99, value * 1.01) if metric != "r2" else (value * 1.01, value * 0.99)
    )
    code, report = _evaluate(store, data, "--fail-under", f"{metric}={tighter}")
    assert code == 1 and report["passed"] is False
    assert report["gates"][0]["metric"] == metric and not report["gates"][0]["passed"]
    code, report = _evaluate(store, data, "--fail-under", f"{metric}={looser}")
    assert code == 0 and report["passed"] is True
