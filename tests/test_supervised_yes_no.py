"""A yes/no column with blanks in the training data is still read as yes/no when scoring.

The cleaner turns yes/no words into 1/0; with some cells blank the training column is float64,
and scoring used to take the dtype for a plain number column: every 'yes' and 'no' sent to
`mktai predict` or the server became missing (and the score that of a blank). The schema now
records which columns the cleaner read as yes/no.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "sample_data" / "bank_sample.csv"
YES_NO = ("default", "housing", "loan")


def bank_rows() -> tuple[list[str], list[list[str]]]:
    with open(BANK, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return rows[0], rows[1:]


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.fixture(scope="module", params=["gbm", "linear"])
def model_with_blanks(request, tmp_path_factory):
    """A model trained on the bank sample with every 20th yes/no cell blank (seeded)."""
    from mktai.api import train

    tmp = tmp_path_factory.mktemp(f"yesno-{request.param}")
    header, rows = bank_rows()
    rng = np.random.default_rng(0)
    for row in rows:
        for name in YES_NO:
            if rng.random() < 0.05:
                row[header.index(name)] = ""
    data = write(tmp / "train.csv", header, rows)
    result = train("propensity", data, name="m", target="y", store=tmp / "store", cv=0, seed=0,
                   algorithm=request.param)  # fmt: skip
    return tmp, result, header, rows


def test_the_schema_marks_the_yes_no_columns(model_with_blanks) -> None:
    from mktai.api.loaded import load

    tmp, _result, _header, _rows = model_with_blanks
    schema = load("m", store=tmp / "store").fitted.schema
    by_name = {c["name"]: c for c in schema["columns"]}
    for name in YES_NO:
        if name in by_name:
            assert by_name[name].get("yes_no") is True, by_name[name]
    assert not by_name["balance"].get("yes_no")


def test_yes_and_no_are_read_when_scoring_files_and_single_rows(model_with_blanks) -> None:
    from mktai.api import predict
    from mktai.api.loaded import InMemory, load, predict_rows

    tmp, _result, header, rows = model_with_blanks
    keep = [i for i, name in enumerate(header) if name != "y"]
    names = [header[i] for i in keep]
    picked = [
        [row[i] for i in keep] for row in rows[:60] if all(row[header.index(n)] for n in YES_NO)
    ]
    scored = predict("m", write(tmp / "leads.csv", names, picked), store=tmp / "store")
    assert not set(YES_NO) & set(scored.missing_values), scored.missing_values
    assert not set(YES_NO) & set(scored.invalid_numbers), scored.invalid_numbers
    # the same rows with 'housing' flipped score differently: the column is really read
    flipped = [list(r) for r in picked]
    at = names.index("housing")
    for r in flipped:
        r[at] = "no" if r[at].strip().lower() == "yes" else "yes"
    other = predict("m", write(tmp / "flipped.csv", names, flipped), store=tmp / "store")
    assert not np.allclose(other.frame["score"], scored.frame["score"])
    # one row at a time (a server's request) gives the file's scores
    loaded = load("m", store=tmp / "store")
    for row, expected in list(zip(picked, scored.frame["score"], strict=True))[:10]:
        body = write(tmp / "one.csv", names, [row]).read_bytes()
        one = predict_rows(loaded, InMemory(body, "request body", cells=(names, [row])))
        assert one.frame["score"].iloc[0] == pytest.approx(expected, rel=1e-12)
