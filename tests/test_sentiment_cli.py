"""`mktai sentiment` through the real CLI: free text, files, stdin, --explain, stored models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.data import load_table
from mktai.store import Store
from mktai.tasks import family
from mktai.tasks.base import TrainOptions

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "reviews.csv"


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_free_text_in_english_and_chinese_as_json():
    result = run(
        "sentiment", "Great product, fast delivery, love it", "质量很差，不会再买了", "   ",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rows = summary["results"]
    assert [r["label"] for r in rows] == ["positive", "negative", "unknown"]
    assert [r["lang"] for r in rows[:2]] == ["en", "zh"]
    assert rows[0]["probability"] > 0.5 and rows[2]["probability"] is None
    assert summary["unknown"] == 1 and summary["model"] == "built-in"
    assert summary["languages"] == {"en": 1, "zh": 1}


def test_free_text_table_and_unknown_count_on_stderr():
    result = run("sentiment", "Terrible service, never again", "12345")
    assert result.exit_code == 0, result.output
    assert "negative" in result.stdout and "unknown" in result.stdout
    assert "1 text(s) had nothing to read" in result.stderr


def test_file_in_file_out_keeps_input_columns(tmp_path):
    reviews = pd.read_csv(SAMPLE)
    source = tmp_path / "reviews.csv"
    reviews[["review", "source"]].to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    result = run("sentiment", "--input", str(source), "--column", "review", "-o", str(out))
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert list(scored.columns) == ["review", "source", "label", "probability"]
    # every row comes back: the empty review and the other two unreadable ones are unknown
    assert len(scored) == len(reviews)
    assert "rejected by cleaning" not in result.stderr
    unknown = scored["label"] == "unknown"
    assert unknown.sum() == 3 and scored.loc[unknown, "probability"].isna().all()
    known = scored[~unknown]
    assert known["probability"].between(0.5, 1.0).all()
    truth = reviews.set_index("review").loc[known["review"], "label"].to_numpy()
    assert (known["label"].to_numpy() == truth).mean() > 0.8  # trained on these sources


def test_repeated_reviews_are_all_scored(tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("review\nGreat phone!.\nGreat phone!.\nbroke after a week\n")
    out = tmp_path / "scored.csv"
    result = run("sentiment", "--input", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert scored["review"].tolist() == ["Great phone!.", "Great phone!.", "broke after a week"]
    assert scored["label"].tolist() == ["positive", "positive", "negative"]
    assert "rejected" not in result.stderr


def test_labelled_file_with_explain_keeps_the_true_label(tmp_path):
    out = tmp_path / "scored.jsonl"
    result = run("sentiment", "--input", str(SAMPLE), "--explain", "-o", str(out))
    assert result.exit_code == 0, result.output
    scored = pd.read_json(out, lines=True)
    assert {"label", "predicted_label", "predicted_probability", "predicted_explanation"} <= set(
        scored.columns
    )
    known = scored[scored["predicted_label"] != "unknown"]
    assert (known["predicted_explanation"].str.len() > 0).all()
    first = known.iloc[0]
    words = [w.strip() for w in first["predicted_explanation"].split(",")]
    assert all(w.replace(" ", "") in first["review"].lower().replace(" ", "") for w in words)


def test_stdin_one_text_per_line():
    text = "I love this phone\n\n这家店的服务太差了\nworst purchase ever\n".encode()
    result = run("sentiment", "-", input=text)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "text,lang,label,probability"
    labels = [line.split(",")[2] for line in lines[1:]]
    assert labels == ["positive", "unknown", "negative", "negative"]


def test_broken_encoding_on_stdin_is_reported():
    result = run("sentiment", "-", input=b"great value\n\x81\x8d\x8f\n")
    assert result.exit_code == 0, result.output
    assert "undecodable" in result.stderr and "unknown" in result.stdout


def test_gb18030_on_stdin_is_detected_or_given():
    text = "很好吃，送餐很快\n质量很差，不会再买了\n"
    for extra in ([], ["--encoding", "gb18030"]):
        result = run("sentiment", "-", *extra, input=text.encode("gb18030"))
        assert result.exit_code == 0, result.output
        rows = [line.split(",") for line in result.stdout.strip().splitlines()[1:]]
        assert [r[0] for r in rows] == text.split()
        assert [r[2] for r in rows] == ["positive", "negative"]
        assert "undecodable" not in result.stderr
    bad = run("sentiment", "-", "--encoding", "klingon", input=b"ok\n")
    assert bad.exit_code == 2 and "klingon" in bad.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("sentiment").exit_code == 2
    assert run("sentiment", "ok", "--input", str(SAMPLE)).exit_code == 2
    assert run("sentiment", "ok", "--lang", "fr").exit_code == 2
    unreadable = tmp_path / "missing.csv"  # checked before any file is read
    json_no_output = run("sentiment", "--input", str(unreadable), "--json")
    assert json_no_output.exit_code == 2 and "-o FILE" in json_no_output.stderr
    missing = run("sentiment", "--input", str(SAMPLE), "--column", "nope")
    assert missing.exit_code == 2 and "--column nope" in missing.stderr
    assert "--map" not in missing.stderr


def test_forced_language_routes_to_that_model():
    result = run("sentiment", "iPhone 很好用", "--lang", "en", "--json")
    assert json.loads(result.stdout)["results"][0]["lang"] == "en"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A sentiment model trained through the family protocol on the sample reviews."""
    root = tmp_path_factory.mktemp("store")
    table = load_table(SAMPLE, kind="reviews")
    model = family("sentiment").fit(table, "sentiment", TrainOptions(seed=0, algorithm="nb"))
    Store(root).save("reviews", "sentiment", write=model.save, manifest=model.manifest_fields())
    return root


def test_stored_model_is_used_with_model_option(store_dir):
    result = run(
        "--store", str(store_dir), "sentiment", "--model", "reviews", "great, love it",
        "--explain", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == "reviews@v1"
    assert summary["results"][0]["label"] in {"positive", "negative"}
    assert summary["results"][0]["explanation"]


def test_missing_model_exits_3(store_dir):
    result = run("--store", str(store_dir), "sentiment", "--model", "nope", "fine")
    assert result.exit_code == 3


def test_train_with_bad_label_values_exits_2_naming_them(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\ngood,1\nbad,0\ngreat,1\nawful,0\nnice,maybe\nfine,1\n")
    result = run("--store", str(tmp_path / "s"), "train", "sentiment", str(bad), "--name", "x")
    assert result.exit_code == 2
    assert "'maybe'" in result.stderr


def test_a_few_maybe_labels_among_numbers_stop_training_and_evaluation(tmp_path):
    store_dir = tmp_path / "store"
    rows = [f"review number {i} was {'great' if i % 2 else 'awful'},{i % 2}" for i in range(60)]
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\n" + "\n".join([*rows, "not sure about it,maybe"]) + "\n")
    trained = run("train", "sentiment", str(data), "--name", "m", "--store", str(store_dir))
    assert trained.exit_code == 2, trained.output
    assert "'maybe'" in trained.stderr and "label" in trained.stderr
    clean = tmp_path / "clean.csv"
    clean.write_text("text,label\n" + "\n".join(rows) + "\n")
    assert (
        run("train", "sentiment", str(clean), "--name", "m", "--store", str(store_dir)).exit_code
        == 0
    )
    evaluated = run("evaluate", "--model", "m", "--data", str(data), "--store", str(store_dir))
    assert evaluated.exit_code == 2 and "'maybe'" in evaluated.stderr


def test_family_options_are_matched_whatever_the_case_and_range_checked(tmp_path):
    store = str(tmp_path / "s")
    base = ("--store", store, "train", "sentiment", str(SAMPLE), "--name", "o", "--cv", "0")
    documented = run(*base, "--C", "2")  # README: `--C`
    assert documented.exit_code == 0, documented.output
    manifest = Store(Path(store)).load("o").manifest
    assert manifest["params"]["C"] == 2.0
    for option in (["--nb-power", "nan"], ["--word-ngram", "3"], ["--C", "0"]):
        bad = run(*base, *option)
        assert bad.exit_code == 2 and option[0] in bad.stderr, (option, bad.output)
    nb = run(*base, "--algorithm", "nb", "--alpha", "-1")
    assert nb.exit_code == 2 and "--alpha" in nb.stderr


def test_keras_without_tensorflow_is_exit_4(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if mktai[deep] were not installed
    result = run(
        "--store", str(tmp_path / "s"), "train", "sentiment", str(SAMPLE), "--name", "k",
        "--algorithm", "keras",
    )  # fmt: skip
    assert result.exit_code == 4
    assert "pip install" in result.stderr
