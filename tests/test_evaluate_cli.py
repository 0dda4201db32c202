"""`mktai evaluate`: report numbers vs scikit-learn, gates both ways, JUnit, baselines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
runner = CliRunner()


def mktai(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Two versions of `resp` (v1 gbm, v2 linear) trained on 2/3 of the sample; a holdout file."""
    root = tmp_path_factory.mktemp("eval")
    raw = pd.read_csv(SAMPLE, sep=";")
    rng = np.random.default_rng(11)
    mask = rng.random(len(raw)) < 2 / 3
    train, holdout = root / "train.csv", root / "holdout.csv"
    raw[mask].to_csv(train, index=False, sep=";")
    raw[~mask].to_csv(holdout, index=False, sep=";")
    store = root / "store"
    for algo, extra in (("gbm", ["--max-iter", "80", "--learning-rate", "0.1"]), ("linear", [])):
        result = mktai("--store", store, "train", "propensity", train, "--target", "y",
                       "--name", "resp", "-a", algo, "--cv", "3", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
    scores = {}
    for version in ("v1", "v2"):
        out = root / f"scores_{version}.csv"
        assert mktai("--store", store, "predict", "--model", f"resp@{version}", holdout,
                     "-o", out).exit_code == 0  # fmt: skip
        scores[version] = pd.read_csv(out)
    truth = (raw.loc[~mask, "y"] == "yes").astype(int).to_numpy()
    return {"root": root, "store": store, "holdout": holdout, "truth": truth, "scores": scores}


def test_report_numbers_match_sklearn(setup):
    root, store = setup["root"], setup["store"]
    paths = [root / "r.json", root / "r.md", root / "r.html"]
    args = ["--store", store, "evaluate", "--model", "resp@v1", "--data", setup["holdout"]]
    for path in paths:
        args += ["--report", path]
    result = mktai(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(paths[0].read_text())
    y, score = setup["truth"], setup["scores"]["v1"]["score"].to_numpy()
    threshold = Store(store).get("resp@v1").manifest["threshold"]
    pred = (score >= threshold).astype(int)
    m = report["metrics"]
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-6)
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, score), abs=1e-6)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, score), abs=1e-6)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, score), abs=1e-6)
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-6)
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-6)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-6)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    matrix = report["evaluation"]["confusion_matrix"]["matrix"]
    assert matrix == skm.confusion_matrix(y, pred).tolist()
    top = np.argsort(-score, kind="mergesort")[: report["evaluation"]["lift"][0]["rows"]]
    assert report["evaluation"]["lift"][0]["positives"] == int(y[top].sum())
    assert f"{m['roc_auc']:.4f}" in paths[1].read_text()
    assert paths[2].read_text().count("data:image/png;base64,") == 4


def test_gates_pass_exit_0_and_fail_exit_1_with_junit(setup):
    root, store = setup["root"], setup["store"]
    y, score = setup["truth"], setup["scores"]["v1"]["score"].to_numpy()
    auc = skm.roc_auc_score(y, score)
    base = ["--store", store, "evaluate", "--model", "resp@v1", "--data", setup["holdout"]]
    junit = root / "pass.xml"
    ok = mktai(*base, "--fail-under", f"roc_auc={auc - 0.01:.4f}", "--junit", junit)
    assert ok.exit_code == 0, ok.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "1" and suite.get("failures") == "0"

    junit = root / "fail.xml"
    bad = mktai(*base, "--fail-under", f"roc_auc={auc + 0.01:.4f}", "--fail-under", "recall=0.0",
                "--junit", junit, "--json")  # fmt: skip
    assert bad.exit_code == 1
    assert "roc_auc" in bad.stderr.splitlines()[-1] and "recall" not in bad.stderr.splitlines()[-1]
    assert json.loads(bad.stdout)["passed"] is False
    cases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [True, False]
    history = Store(store).get("resp@v1").manifest["evaluations"]
    assert [e["passed"] for e in history][-2:] == [True, False]
    assert history[-1]["data"]["rows"] == len(y)


def test_compare_to_and_max_drop(setup):
    store, y = setup["store"], setup["truth"]
    aucs = {v: skm.roc_auc_score(y, setup["scores"][v]["score"]) for v in ("v1", "v2")}
    weaker, stronger = sorted(aucs, key=aucs.get)
    base = ["--store", store, "evaluate", "--data", setup["holdout"], "--max-drop", "roc_auc=0"]
    worse = mktai(*base, "--model", f"resp@{weaker}", "--compare-to", f"resp@{stronger}", "--json")
    assert worse.exit_code == 1
    report = json.loads(worse.stdout)
    row = report["comparison"]["metrics"]["roc_auc"]
    assert row["baseline"] == pytest.approx(aucs[stronger], abs=1e-6)
    assert row["delta"] == pytest.approx(aucs[weaker] - aucs[stronger], abs=1e-5)
    better = mktai(*base, "--model", f"resp@{stronger}", "--compare-to", f"resp@{weaker}")
    assert better.exit_code == 0, better.output
    previous = mktai(*base[:-2], "--model", "resp@v2", "--compare-to", "previous",
                     "--max-drop", "roc_auc=1", "--json")  # fmt: skip
    assert previous.exit_code == 0
    assert json.loads(previous.stdout)["comparison"]["baseline"] == "resp@v1"
    first = mktai(*base, "--model", "resp@v1", "--compare-to", "previous", "--json")
    assert first.exit_code == 0  # nothing older: the max-drop gate is skipped, not failed
    assert json.loads(first.stdout)["gates"][0]["skipped"] is True


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--max-drop", "roc_auc=0.01"], "--compare-to"),
        (["--fail-under", "ndcg=0.3"], "ndcg"),
        (["--fail-under", "roc_auc"], "metric=number"),
        (["--report", "r.pdf"], ".pdf"),
        (["--report", "/proc/r.md"], "cannot write there"),
        (["--junit", "/proc/gates.xml"], "cannot write there"),
        (["--report", str(SAMPLE) + "/r.md"], "cannot write there"),
    ],
)
def test_usage_errors_exit_2(setup, extra, needle):
    store = setup["store"]
    result = mktai("--store", store, "evaluate", "--model", "resp", "--data", setup["holdout"],
                   *extra)  # fmt: skip
    assert result.exit_code == 2 and needle in result.stderr


def test_evaluation_data_without_target_exits_2(setup, tmp_path):
    data = tmp_path / "no_target.csv"
    pd.read_csv(setup["holdout"], sep=";").drop(columns="y").to_csv(data, index=False)
    result = mktai("--store", setup["store"], "evaluate", "--model", "resp", "--data", data)
    assert result.exit_code == 2
    # names the missing outcome column, not a --map option the user never gave
    assert "no target column 'y'" in result.stderr and "--map target=y" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_regression_report_matches_sklearn(tmp_path):
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame({"visits": rng.poisson(6, n), "channel": rng.choice(["web", "shop"], n),
                          "tenure": rng.uniform(0, 10, n).round(3)})  # fmt: skip
    frame["spend"] = 12.5 * frame["visits"] + np.where(frame["channel"] == "web", 20, 0)
    frame["spend"] = (frame["spend"] + rng.normal(0, 4, n)).round(2)
    data = tmp_path / "spend.csv"
    frame.to_csv(data, index=False)
    store = tmp_path / "s"
    result = mktai("--store", store, "train", "demand", data, "--target", "spend", "--name", "sp",
                   "-a", "linear", "--cv", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    out, rep = tmp_path / "p.csv", tmp_path / "r.json"
    assert mktai("--store", store, "predict", "--model", "sp", data, "-o", out).exit_code == 0
    pred = pd.read_csv(out)["score"].to_numpy()
    result = mktai("--store", store, "evaluate", "--model", "sp", "--data", data, "--report", rep,
                   "--fail-under", "rmse=1000", "--fail-under", "r2=0.9")  # fmt: skip
    assert result.exit_code == 0, result.output
    m = json.loads(rep.read_text())["metrics"]
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(frame["spend"], pred), abs=1e-4)
    assert m["rmse"] == pytest.approx(skm.root_mean_squared_error(frame["spend"], pred), abs=1e-4)
    assert m["r2"] == pytest.approx(skm.r2_score(frame["spend"], pred), abs=1e-6)
    tight = mktai("--store", store, "evaluate", "--model", "sp", "--data", data,
                  "--fail-under", "rmse=0.5")  # fmt: skip
    assert tight.exit_code == 1 and "rmse" in tight.stderr


def test_gate_on_a_metric_undefined_for_the_data_fails_as_na(setup, tmp_path):
    """A holdout with one class has no ROC AUC: its gates fail (exit 1) saying so, not exit 2."""
    data = tmp_path / "negatives.csv"
    frame = pd.read_csv(setup["holdout"], sep=";")
    frame[frame["y"] == "no"].to_csv(data, index=False)
    junit = tmp_path / "gates.xml"
    result = mktai("--store", setup["store"], "evaluate", "--model", "resp", "--data", data,
                   "--fail-under", "roc_auc=0.5", "--compare-to", "previous",
                   "--max-drop", "roc_auc=0.01", "--junit", junit)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "undefined on this data" in result.stderr
    failures = ET.parse(junit).getroot().iter("failure")
    assert len(list(failures)) == 2


def test_repeated_rows_count_in_the_metrics(tmp_path):
    """Evaluation data is not de-duplicated: two identical customers are two observations."""
    import pandas as pd

    from mktai.tasks.stored import load_for

    rows = pd.DataFrame({"age": [30, 30, 40], "job": ["a", "a", "b"], "y": ["yes", "yes", "no"]})
    path = tmp_path / "dup.csv"
    rows.to_csv(path, index=False)
    table = load_for("propensity", path, target="y")
    assert len(table.frame) == 3 and len(table.rejects) == 0
    orders = tmp_path / "orders.csv"
    orders.write_text("customer_id,invoice_no,date,amount\nc1,1,2024-01-02,5\nc1,1,2024-01-02,5\n")
    assert len(load_for("segments", orders).frame) == 1  # a double-recorded line
