"""A linear model's encoder computed in NumPy for a few rows (linear_fast) gives exactly its
pipeline's numbers.

Real linear models trained on the bank sample (two-class, regression, a two-fold ensemble):
the same hostile rows (junk numbers, blanks, unseen categories) scored through the pipeline
(for_encoders + ColumnTransformer) and through prepare_codes + EncodedScorer, batch by batch;
then rows one at a time through the server's path against `mktai predict` on the whole file.
A model of another layout gets no EncodedScorer (the pipeline answers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_serve_forest import BANK, bank, hostile, write_csv

CASES = {"binary": ("propensity", "y", 0), "regression": ("demand", "balance", 0),
         "ensemble": ("propensity", "y", 2)}  # fmt: skip


@pytest.fixture(scope="module", params=list(CASES))
def trained(request, tmp_path_factory):
    from mktai.api import train
    from mktai.api.loaded import load

    kind, target, cv = CASES[request.param]
    tmp = tmp_path_factory.mktemp(f"linear-{request.param}")
    train(kind, BANK, name="m", target=target, store=tmp / "store", cv=cv, seed=0,
          algorithm="linear")  # fmt: skip
    return request.param, target, tmp, load("m", store=tmp / "store")


def rows_for(target: str, n: int, seed: int) -> tuple[list[str], list[list[str]]]:
    names, rows = bank()
    keep = [i for i, name in enumerate(names) if name != target]
    picked = [[r[i] for i in keep] for r in hostile(names, rows, n, seed)]
    return [names[i] for i in keep], picked


def test_encoder_in_numpy_equals_the_pipeline(trained, tmp_path: Path) -> None:
    from mktai.tasks.common.tabular import prepare, prepare_codes
    from mktai.tasks.stored import load_for
    from mktai.tasks.supervised.family import FEW_ROWS

    case, target, _tmp, loaded = trained
    learner = loaded.fitted.learner
    assert learner.takes_few_codes  # the NumPy encoder is in use for this layout
    header, picked = rows_for(target, 200, 3)
    table = load_for(loaded.kind, write_csv(tmp_path / "h.csv", header, picked),
                     unlabelled=True, dedupe=False)  # fmt: skip
    schema = loaded.fitted.schema
    for size in (1, 5, FEW_ROWS):
        for start in range(0, 3 * size, size):
            part = table.frame.iloc[start : start + size]
            X, stats = prepare_codes(part, schema)
            frame, frame_stats = prepare(part, schema)
            assert stats == frame_stats
            assert np.array_equal(learner.predict_few_codes(X), learner.predict_raw(frame))
    X, _ = prepare_codes(table.frame, schema)
    assert np.isnan(X).any()  # missing and unseen values really are in the rows


def test_rows_one_at_a_time_answer_like_mktai_predict(trained) -> None:
    from mktai.api import predict
    from mktai.api.loaded import predict_rows
    from mktai.data.read import InMemory

    case, target, tmp, loaded = trained
    header, picked = rows_for(target, 90, 4)
    path = write_csv(tmp / "leads.csv", header, picked)
    written = predict("m", path, store=tmp / "store")
    assert written.rows == len(picked)
    predict_rows(loaded, InMemory(path.read_bytes()), keep_raw=False)  # the header's plan
    scores, labels = [], []
    for row in picked:
        one = write_csv(tmp / "one.csv", header, [row]).read_bytes()
        result = predict_rows(loaded, InMemory(one, "request body", cells=(header, [row])),
                              keep_raw=False, scores_only=True, frame=False)  # fmt: skip
        scores.append(float(result.columns["score"][0]))
        labels.append(result.columns["prediction"][0])
    # one row against a 90-row matrix product: equal up to BLAS summation order
    assert scores == pytest.approx(written.frame["score"].tolist(), rel=1e-12, abs=1e-12)
    if case != "regression":
        assert labels == written.frame["prediction"].tolist()


def test_other_layouts_keep_their_pipeline(trained) -> None:
    from mktai.tasks.supervised.linear_fast import encoded_scorer

    _case, _target, _tmp, loaded = trained
    learner = getattr(loaded.fitted.learner, "members", [loaded.fitted.learner])[0]
    pipeline = learner.estimator
    assert encoded_scorer(pipeline.named_steps["model"], learner.schema, learner.task) is None
    assert encoded_scorer(pipeline, {"columns": []}, learner.task) is None  # wrong schema
