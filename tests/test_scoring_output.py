"""Scoring commands give the user's own columns back unchanged: names, 'yes', '好评', '-1'."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.data.write import neutralise_formulas

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
runner = CliRunner()


def test_predict_output_keeps_input_columns_as_written(tmp_path):
    leads = pd.read_csv(SAMPLE / "bank_sample.csv", sep=";", dtype=str).head(400)
    leads = leads.rename(columns={"housing": "Has Housing Loan"})
    train_file = tmp_path / "train.csv"
    leads.to_csv(train_file, index=False)
    store = str(tmp_path / "store")
    result = runner.invoke(
        app,
        [
            "--store",
            store,
            "train",
            "propensity",
            str(train_file),
            "--target",
            "y",
            "--name",
            "p",
            "--algorithm",
            "linear",
            "--cv",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    scored_file = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["--store", store, "predict", "-m", "p", str(train_file), "-o", str(scored_file)]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(scored_file, dtype=str)
    assert list(scored.columns[: len(leads.columns)]) == list(leads.columns)
    for column in leads.columns:  # every value exactly as in the input, -1 included
        assert scored[column].tolist() == leads[column].tolist(), column
    assert {"score", "prediction"} <= set(scored.columns)


def test_sentiment_file_output_keeps_user_values(tmp_path):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("Customer ID,评论,评分\nc1,质量很好,好评\nc2,太差了,差评\nc2,太差了,差评\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["sentiment", "--input", str(reviews), "--column", "评论", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out, dtype=str)
    assert list(scored.columns[:3]) == ["Customer ID", "评论", "评分"]
    assert scored["评分"].tolist() == ["好评", "差评", "差评"]
    assert scored["label"].tolist() == ["positive", "negative", "negative"]


def test_numbers_kept_as_text_are_not_treated_as_formulas():
    frame = pd.DataFrame({"a": ["-1", "+3.5", "1e5", "=1+1", "-1+cmd", "@x", "-"]})
    assert neutralise_formulas(frame)["a"].tolist() == [
        "-1",
        "+3.5",
        "1e5",
        "'=1+1",
        "'-1+cmd",
        "'@x",
        "'-",
    ]
