"""mktai.evaluation: metrics checked against scikit-learn / direct computation, gates, reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sklearn import metrics as skm

from mktai.errors import UsageError
from mktai.evaluation import gates as eg
from mktai.evaluation import metrics as em
from mktai.evaluation.report import (
    build_report,
    comparison_table,
    render_html,
    render_junit,
    render_markdown,
    write_reports,
)


@pytest.fixture(scope="module")
def binary_case():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000) * (rng.random(1000) < 0.4)
    p = np.clip(0.25 + 0.5 * y + rng.normal(0, 0.2, 1000), 0.001, 0.999)
    return y, p


def test_binary_metrics_match_sklearn(binary_case):
    y, p = binary_case
    result = em.binary_metrics(y, p, threshold=0.4)
    m = result["metrics"]
    pred = (p >= 0.4).astype(int)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-6)
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-6)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-6)
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-6)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-6)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-6)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p), abs=1e-6)
    assert result["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, pred).tolist()
    json.dumps(result)  # JSON-able as is


def test_lift_table_against_direct_computation(binary_case):
    y, p = binary_case
    table = em.lift_table(y, p)
    order = np.argsort(-p, kind="mergesort")
    deciles = np.array_split(y[order], 10)
    base = y.mean()
    assert [row["rows"] for row in table] == [len(d) for d in deciles]
    for row, d in zip(table, deciles, strict=True):
        assert row["lift"] == pytest.approx(d.mean() / base, abs=1e-5)
    cum = np.cumsum([d.sum() for d in deciles]) / y.sum()
    assert [row["cum_gain"] for row in table] == pytest.approx(cum, abs=1e-5)
    assert table[-1]["cum_gain"] == pytest.approx(1.0)
    assert table[0]["lift"] > 1.5  # an informative score concentrates positives at the top


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.gamma(2.0, 50.0, 500)
    y[:5] = 0.0  # MAPE skips zero actuals
    pred = y + rng.normal(0, 10, 500)
    m = em.regression_metrics(y, pred)["metrics"]
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), abs=1e-5)
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), abs=1e-5)
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred), abs=1e-6)
    nz = y != 0
    assert m["mape"] == pytest.approx(100 * np.mean(np.abs((y[nz] - pred[nz]) / y[nz])), abs=1e-4)


def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(2)
    classes = ["a", "b", "c"]
    y = np.array(classes, dtype=object)[rng.integers(0, 3, 300)]
    raw = rng.random((300, 3)) + 1.5 * (y[:, None] == np.array(classes)[None, :])
    proba = raw / raw.sum(axis=1, keepdims=True)
    m = em.multiclass_metrics(y, proba, classes)["metrics"]
    pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-6)
    expected_auc = skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    assert m["roc_auc"] == pytest.approx(expected_auc, abs=1e-6)


def test_threshold_choice_maximises_the_metric(binary_case):
    y, p = binary_case
    t = em.threshold_for(y, p, "f1")
    grid = np.linspace(0.01, 0.99, 99)
    best_grid = max(skm.f1_score(y, (p >= g).astype(int)) for g in grid)
    assert skm.f1_score(y, (p >= t).astype(int)) >= best_grid - 1e-9
    j = em.threshold_for(y, p, "youden")
    fpr, tpr, thr = skm.roc_curve(y, p)
    assert j == pytest.approx(thr[np.argmax(tpr - fpr)])


def test_permutation_importance_finds_the_informative_column():
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    y = (frame["signal"] > 0).astype(int).to_numpy()

    def score(f):
        return skm.roc_auc_score(y, f["signal"].to_numpy())

    rows = em.permutation_importance(score, frame, repeats=2, seed=0)
    assert rows[0]["feature"] == "signal" and rows[0]["importance"] > 0.3
    assert abs(next(r for r in rows if r["feature"] == "noise")["importance"]) < 1e-9


def test_fail_under_gates_both_ways_and_lower_is_better():
    metrics = {"roc_auc": 0.91, "recall": 0.40, "log_loss": 0.30}
    gates = eg.fail_under(metrics, eg.parse_specs(["roc_auc=0.9", "recall=0.5"], "--fail-under"))
    assert [g.passed for g in gates] == [True, False]
    assert "recall" in eg.failure_message(gates) and "roc_auc" not in eg.failure_message(gates)
    lower = eg.fail_under(metrics, {"log_loss": 0.25})
    assert not lower[0].passed  # 0.30 is worse than an upper limit of 0.25
    assert eg.fail_under(metrics, {"log_loss": 0.35})[0].passed


def test_max_drop_gates_and_missing_baseline():
    now, before = {"roc_auc": 0.90, "rmse": 11.0}, {"roc_auc": 0.92, "rmse": 10.0}
    assert not eg.max_drop(now, before, {"roc_auc": 0.01}, "m@v1")[0].passed
    assert eg.max_drop(now, before, {"roc_auc": 0.03}, "m@v1")[0].passed
    assert not eg.max_drop(now, before, {"rmse": 0.5}, "m@v1")[0].passed  # rmse rose by 1
    skipped = eg.max_drop(now, None, {"roc_auc": 0.01}, None)[0]
    assert skipped.passed and skipped.skipped


def test_gate_spec_errors_are_usage_errors():
    with pytest.raises(UsageError):
        eg.parse_specs(["roc_auc"], "--fail-under")
    with pytest.raises(UsageError, match="ndcg"):
        eg.fail_under({"roc_auc": 0.9}, {"ndcg": 0.1})


def test_flat_metrics_for_other_families():
    result = {"silhouette": 0.4, "clusters": 4, "ranking": {"ndcg@10": 0.31}, "ok": True}
    flat = em.flat_metrics(result)
    assert flat == {"silhouette": 0.4, "clusters": 4.0, "ranking.ndcg@10": 0.31}
    assert eg.fail_under(flat, {"ndcg@10": 0.3})[0].passed  # suffix lookup


def _report(binary_case, gates):
    y, p = binary_case
    evaluation = em.binary_metrics(y, p, 0.5)
    metrics = em.flat_metrics(evaluation)
    return build_report(
        model={"ref": "resp@v2", "kind": "propensity", "algorithm": "gbm"},
        data={"sources": ["holdout.csv"], "rows": len(y), "sha256": "ab" * 32},
        evaluation=evaluation,
        metrics=metrics,
        gates=[g.to_dict() for g in gates],
        comparison=comparison_table(metrics, {**metrics, "roc_auc": 0.5}, "resp@v1"),
        warnings=["column 'duration' alone predicts the target"],
    )


def test_reports_render_from_the_json(binary_case, tmp_path):
    y, p = binary_case
    gates = eg.fail_under({"roc_auc": skm.roc_auc_score(y, p)}, {"roc_auc": 0.99})
    report = _report(binary_case, gates)
    assert report["passed"] is False
    paths = write_reports(report, [tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.html"])
    assert json.loads(paths[0].read_text())["metrics"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, p), abs=1e-6
    )
    md = paths[1].read_text()
    assert "| roc_auc |" in md and "**FAIL**" in md and "resp@v1" in md and "duration" in md
    html = paths[2].read_text()
    assert html.count("data:image/png;base64,") == 4  # ROC, PR, gains, calibration
    assert "<script" not in html and "http://" not in html and "https://" not in html
    with pytest.raises(UsageError):
        write_reports(report, [tmp_path / "r.pdf"])


def test_junit_has_one_case_per_gate(binary_case):
    gates = eg.fail_under({"roc_auc": 0.8, "recall": 0.6}, {"roc_auc": 0.7, "recall": 0.9})
    gates += eg.max_drop({"roc_auc": 0.8}, None, {"roc_auc": 0.01}, None)
    root = ET.fromstring(render_junit(_report(binary_case, gates)))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 3 and suite.get("failures") == "1" and suite.get("skipped") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["fail-under recall=0.9"]


def test_regression_report_has_residual_plot():
    rng = np.random.default_rng(0)
    y = rng.normal(100, 10, 200)
    evaluation = em.regression_metrics(y, y + rng.normal(0, 2, 200))
    report = build_report(
        model={"ref": "d@v1", "kind": "demand", "algorithm": "linear"},
        data={"sources": ["x.csv"], "rows": 200},
        evaluation=evaluation,
        metrics=em.flat_metrics(evaluation),
        gates=[],
    )
    html = render_html(report)
    assert html.count("data:image/png;base64,") == 1 and "alt='Residuals'" in html
    assert ">Residuals<" not in html  # the plot carries its title; no caption repeating it
    assert "| rmse |" in render_markdown(report)
