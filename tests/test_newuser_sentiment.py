"""Issue #13 item 8: `mktai sentiment` gives every input row back, in order.

Realistic data: sample_data/reviews.csv (120 real English and Chinese reviews plus 3 unreadable
rows, one of them with an empty text).
"""

from __future__ import annotations

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
    assert len(empty) >= 1 and (empty["predicted_label"] == "unknown").all()
    assert "rejected by cleaning" not in result.stderr
