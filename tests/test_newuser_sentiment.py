"""Issue #13 item 8: `mktai sentiment` gives every input row back, in order.

Realistic data: sample_data/reviews.csv (120 real English and Chinese reviews plus 3 unreadable
rows, one of them with an empty text).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from mktai.cli.app import app

REVIEWS = Path(__file__).resolve().parents[1] / "sample_data" / "reviews.csv"
runner = CliRunner()


def test_input_file_keeps_empty_texts_as_unknown_in_order(tmp_path):
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["sentiment", "--input", str(REVIEWS), "--column", "review",
                                 "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    given = pd.read_csv(REVIEWS, dtype=str, keep_default_na=False)
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(scored) == len(given) == 123
    assert scored["review"].tolist() == given["review"].tolist()  # same rows, same order
    empty = scored[given["review"].str.strip() == ""]
    # the file has its own label column, so the results are predicted_label / _probability
    assert len(empty) == 1 and (empty["predicted_label"] == "unknown").all()  # 1 in the file
    assert "rejected by cleaning" not in result.stderr


def test_a_csv_on_stdin_is_scored_as_a_table_not_as_lines():
    text = REVIEWS.read_text(encoding="utf-8")
    result = runner.invoke(app, ["sentiment", "-"], input=text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert "stdin is a CSV" in result.stderr and "'review'" in result.stderr
    scored = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    given = pd.read_csv(REVIEWS, dtype=str, keep_default_na=False)
    assert scored["review"].tolist() == given["review"].tolist()  # the header is not a text
    assert "review,label,source" not in set(scored["review"])


def test_plain_lines_on_stdin_stay_texts_and_builtin_names_the_default_model():
    lines = "Great phone, works fine\nterrible, battery died after a week\n"
    result = runner.invoke(app, ["sentiment", "-", "--model", "builtin"], input=lines)
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(io.StringIO(result.stdout))
    assert scored["label"].tolist() == ["positive", "negative"]
    assert "stdin is a CSV" not in result.stderr
