"""Scoring reads 'a/b/yyyy' dates in the day order training read them.

A model trained on day-first dates (13/04/2024 shows the order) used to get each scored batch's
own decision: a single row such as 03/09/2024 says nothing, was read month first (9 March), and
its month and day-of-year features were those of another date. The schema now records the
order training read, and scoring uses it wherever the rows themselves leave it undecided
(rows that decide it, such as 09/13/2024, are still read their own way).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def day_first_model(tmp_path_factory):
    """Bought (yes/no) depends on the month only: yes from July on. Dates written dd/mm/yyyy."""
    from mktai.api import train

    tmp = tmp_path_factory.mktemp("day-order")
    rng = np.random.default_rng(0)
    start = date(2024, 1, 1)
    rows = []
    for _ in range(600):
        day = start + timedelta(days=int(rng.integers(0, 366)))
        visits = str(int(rng.integers(1, 20)))
        rows.append([day.strftime("%d/%m/%Y"), visits, "yes" if day.month >= 7 else "no"])
    data = write(tmp / "train.csv", ["visit_date", "visits", "bought"], rows)
    train("propensity", data, name="m", target="bought", store=tmp / "store", cv=0, seed=0)
    return tmp


def test_the_schema_records_the_day_order(day_first_model) -> None:
    from mktai.api.loaded import load

    schema = load("m", store=day_first_model / "store").fitted.schema
    by_name = {c["name"]: c for c in schema["columns"]}
    assert by_name["visit_date"]["type"] == "date"
    assert by_name["visit_date"]["day_first"] is True


def test_ambiguous_dates_score_in_the_training_order(day_first_model) -> None:
    """03/09 is 3 September (bought), 09/03 is 9 March (not): one row at a time, as a server
    gets them, and in a file whose dates are all ambiguous."""
    from mktai.api import predict
    from mktai.api.loaded import InMemory, load, predict_rows

    store = day_first_model / "store"
    model = load("m", store=store)
    header = ["visit_date", "visits"]
    september, march = ["03/09/2024", "5"], ["09/03/2024", "5"]
    # rows that decide the order themselves keep it: 09/13 can only be 13 September
    decided = ((["09/13/2024", "5"], True), (["03/13/2024", "5"], False))
    for row, bought in ((september, True), (march, False), *decided):
        text = ("visit_date,visits\n" + ",".join(row) + "\n").encode()
        for body in (InMemory(text, "request"), InMemory(text, "request", cells=(header, [row]))):
            score = float(predict_rows(model, body).frame["score"].iloc[0])
            assert (score > 0.5) is bought, (row, score)
    path = write(day_first_model / "ambiguous.csv", header, [september, march] * 5)
    frame = predict("m", path, store=store).frame
    assert list(frame["score"] > 0.5) == [True, False] * 5
