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
# the forecast metrics: "All but coverage are lower-is-better in gates"
LOWER += ["smape", "mase", "rmsse", "owa", "coverage_error_80", "coverage_error_95"]
HIGHER = ["roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "r2", "average_precision"]
HIGHER += ["coverage_80", "coverage_95", "ndcg_at_10"]


@pytest.mark.parametrize("metric", LOWER + HIGHER)
def test_fail_under_fails_only_when_worse(metric: str):
    lower = metric in LOWER
    worse, better = (0.6, 0.4) if lower else (0.4, 0.6)
    limit = 0.5
    for prefix in ("", "holdout.", "backtest.store_7."):  # plain and dotted metric names
        name = prefix + metric
        (bad,) = gates.fail_under({name: worse}, {metric: limit})
        (good,) = gates.fail_under({name: better}, {metric: limit})
        (edge,) = gates.fail_under({name: limit}, {metric: limit})
        assert not bad.passed and good.passed and edge.passed, metric
        assert bad.value == worse and bad.kind == "fail-under"
        assert ("at most" if lower else "at least") in bad.message and "fails" in bad.message
        assert metric in gates.failure_message([bad, good])
    # the spec may name the metric with its section, as the report lists it
    (dotted,) = gates.fail_under(
        {f"backtest.store_7.{metric}": worse}, {f"backtest.store_7.{metric}": limit}
    )
    assert not dotted.passed, metric


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


# --------------------------------------------------------------------------- what a gate says
# (the JUnit cases, the JSON report and the exit-1 line are built from these records)


def test_parse_specs_reads_metric_value_pairs_and_refuses_anything_else():
    from mktai.errors import UsageError

    assert gates.parse_specs(["roc_auc=0.9", " recall = 0.5"], "--fail-under") == {
        "roc_auc": 0.9,
        "recall": 0.5,
    }
    assert gates.parse_specs(None, "--max-drop") == {}
    for bad in ["roc_auc", "=0.9", " =0.9", "roc_auc=", "roc_auc=abc", "auc=0.9=1"]:
        with pytest.raises(UsageError) as caught:
            gates.parse_specs(["recall=0.5", bad], "--max-drop")
        assert str(caught.value) == (
            f"--max-drop {bad!r} must look like metric=number (e.g. roc_auc=0.9)"
        )


def test_a_metric_the_model_does_not_report_is_a_usage_error_naming_the_option():
    from mktai.errors import UsageError

    metrics = {"holdout.roc_auc": 0.8, "cv.roc_auc": 0.7, "holdout.f1": 0.4}
    assert gates.fail_under(metrics, {"f1": 0.3})[0].value == 0.4  # unique suffix
    assert gates.fail_under(metrics, {"cv.roc_auc": 0.5})[0].value == 0.7  # exact name
    names = "cv.roc_auc, holdout.f1, holdout.roc_auc"
    for call, option in [
        (lambda: gates.fail_under(metrics, {"recall": 0.5}), "--fail-under"),
        (lambda: gates.max_drop(metrics, metrics, {"recall": 0.1}, "m@v1"), "--max-drop"),
        (
            lambda: gates.check_names(metrics, ({}, "--x"), ({"recall": 1}, "--max-drop")),
            "--max-drop",
        ),
        (lambda: gates.fail_under(metrics, {"roc_auc": 0.5}), "--fail-under"),  # ambiguous
    ]:
        with pytest.raises(UsageError) as caught:
            call()
        assert str(caught.value).startswith(f"{option} names metric ")
        assert str(caught.value).endswith(f", which this model does not report: {names}")
    gates.check_names(metrics, ({"f1": 1}, "--fail-under"), ({"cv.roc_auc": 1}, "--max-drop"))
    with pytest.raises(UsageError, match="does not report: none$"):
        gates.check_names({}, ({"f1": 1}, "--fail-under"))


def test_an_undefined_metric_fails_its_gate_and_the_next_specs_still_get_theirs():
    na = "n/a: undefined on this data (e.g. ROC AUC needs both classes)"
    metrics = {"roc_auc": None, "recall": 0.9}
    under = gates.fail_under(metrics, {"roc_auc": 0.5, "recall": 0.5})
    assert [(g.metric, g.passed, g.value) for g in under] == [
        ("roc_auc", False, None),
        ("recall", True, 0.9),
    ]
    assert under[0].message == f"roc_auc is {na}" and under[0].kind == "fail-under"
    baseline = {"roc_auc": 0.7, "recall": None, "f1": 0.5}
    metrics = {"roc_auc": None, "recall": 0.9, "f1": 0.4}
    drops = gates.max_drop(metrics, baseline, {"roc_auc": 0.1, "recall": 0.1, "f1": 0.2}, "m@v1")
    assert [g.to_dict() for g in drops] == [
        {"name": "max-drop roc_auc=0.1", "metric": "roc_auc", "kind": "max-drop", "limit": 0.1,
         "value": None, "passed": False, "message": f"roc_auc is {na}", "baseline": None,
         "skipped": False},
        {"name": "max-drop recall=0.1", "metric": "recall", "kind": "max-drop", "limit": 0.1,
         "value": 0.9, "passed": False, "message": f"recall is {na}", "baseline": None,
         "skipped": False},
        {"name": "max-drop f1=0.2", "metric": "f1", "kind": "max-drop", "limit": 0.2,
         "value": 0.4, "passed": True,
         "message": "f1 0.4000 vs 0.5000 in m@v1: drop 0.1000 within the allowed 0.2",
         "baseline": 0.5, "skipped": False},
    ]  # fmt: skip


def test_gate_records_and_the_exit_1_line_say_exactly_what_happened():
    (under,) = gates.fail_under({"holdout.roc_auc": 0.8}, {"roc_auc": 0.9})
    assert under.to_dict() == {
        "name": "fail-under roc_auc=0.9", "metric": "roc_auc", "kind": "fail-under",
        "limit": 0.9, "value": 0.8, "passed": False,
        "message": "roc_auc 0.8000 fails at least 0.9", "baseline": None, "skipped": False,
    }  # fmt: skip
    (ok,) = gates.fail_under({"mae": 2.0}, {"mae": 2.5})
    assert ok.message == "mae 2.0000 meets at most 2.5"
    dropped, improved = gates.max_drop(
        {"roc_auc": 0.80, "brier": 0.10}, {"roc_auc": 0.85, "brier": 0.12},
        {"roc_auc": 0.01, "brier": 0.01}, "churn@v3",
    )  # fmt: skip
    assert (
        dropped.message
        == "roc_auc 0.8000 vs 0.8500 in churn@v3: drop 0.0500 exceeds the allowed 0.01"
    )
    assert (
        improved.message
        == "brier 0.1000 vs 0.1200 in churn@v3: change 0.0200 within the allowed 0.01"
    )
    assert improved.passed and improved.baseline == 0.12
    skipped = gates.max_drop({"roc_auc": 0.8, "f1": 0.5}, None, {"roc_auc": 0.01, "f1": 0.1}, None)
    assert [g.to_dict() for g in skipped] == [
        {"name": f"max-drop {m}={limit:g}", "metric": m, "kind": "max-drop", "limit": limit,
         "value": value, "passed": True,
         "message": f"skipped: no baseline version to compare {m} with", "baseline": None,
         "skipped": True}
        for m, limit, value in [("roc_auc", 0.01, 0.8), ("f1", 0.1, 0.5)]
    ]  # fmt: skip
    assert gates.failures([dropped, improved, under]) == [dropped, under]
    assert gates.failure_message([dropped, improved, under]) == (
        f"2 evaluation gate(s) failed: {dropped.message}; {under.message}"
    )
    assert gates.lower_is_better("holdout.MAE") and not gates.lower_is_better("mae.roc_auc")


def test_an_undefined_metric_gate_still_names_its_spec_and_limit():
    """The JUnit case and the JSON report of an n/a gate carry the spec it came from."""
    (gate,) = gates.fail_under({"holdout.roc_auc": None}, {"roc_auc": 0.75})
    assert (gate.name, gate.limit, gate.value, gate.passed) == (
        "fail-under roc_auc=0.75",
        0.75,
        None,
        False,
    )


def test_a_baseline_without_the_metric_is_a_usage_error_of_max_drop():
    """The baseline version (an older model) may not report a metric the new one does."""
    from mktai.errors import UsageError

    with pytest.raises(UsageError) as caught:
        gates.max_drop({"f1": 0.5, "recall": 0.4}, {"f1": 0.6}, {"recall": 0.1}, "m@v1")
    assert str(caught.value) == (
        "--max-drop names metric 'recall', which this model does not report: f1"
    )


def test_a_drop_equal_to_the_allowed_one_passes_and_no_change_is_not_a_drop():
    # exactly at the limit (the 1e-12 slack absorbs float noise such as 0.55 - 0.5)
    (edge,) = gates.max_drop({"recall": 0.0}, {"recall": 1e-12}, {"recall": 0.0}, "m@v1")
    assert edge.passed
    (noisy,) = gates.max_drop({"mae": 0.55}, {"mae": 0.5}, {"mae": 0.05}, "m@v1")
    assert noisy.passed
    (same,) = gates.max_drop({"mae": 0.5}, {"mae": 0.5}, {"mae": 0.0}, "m@v1")
    assert same.passed
    assert same.message == "mae 0.5000 vs 0.5000 in m@v1: change 0.0000 within the allowed 0"
