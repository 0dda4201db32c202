"""The per-call-cheap scoring paths a server takes give exactly the numbers of the plain ones.

fast_predict's NumPy lookup in place of HistGradientBoosting's ColumnTransformer, and
prepare_codes in place of prepare + as_codes, on generated rows with unseen categories, missing
cells and non-numeric numbers (seeded), through a real trained gbm model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mktai.data.read import InMemory

BANK = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from mktai.api import train
    from mktai.api.loaded import load

    store = tmp_path_factory.mktemp("fast") / "store"
    train("propensity", BANK, name="response", target="y", store=store, cv=2, seed=0,
          algorithm="gbm", params={"max_iter": 30})  # fmt: skip
    return load("response", store=store)


def hostile_rows(n: int, seed: int) -> bytes:
    """Bank rows with cells replaced by unseen words, blanks, 'N/A', junk and odd numbers."""
    rng = np.random.default_rng(seed)
    lines = BANK.read_text().splitlines()
    header = lines[0].rsplit(";", 1)[0]
    rows = [line.rsplit(";", 1)[0].split(";") for line in lines[1:]]
    junk = ['"never-seen"', "", "N/A", "abc", "-1", "1e3", '"1,5"', "yes", "0", "  7 "]
    out = [header]
    for i in rng.integers(0, len(rows), n):
        cells = list(rows[i])
        for j in range(len(cells)):
            if rng.random() < 0.15:
                cells[j] = junk[rng.integers(0, len(junk))]
        out.append(";".join(cells))
    return ("\n".join(out) + "\n").encode()


def test_fast_estimator_equals_scikit_learn(loaded) -> None:
    from mktai.tasks.common.tabular import as_codes, prepare
    from mktai.tasks.stored import load_for

    members = loaded.fitted.learner.members
    table = load_for("propensity", InMemory(hostile_rows(600, 1)), unlabelled=True, dedupe=False)
    X, _ = prepare(table.frame, loaded.fitted.schema)
    codes = as_codes(X, loaded.fitted.schema)
    assert np.isnan(codes).any()  # the probe really holds missing and unseen values
    for member in members:
        fast = member.scorer().estimator  # behind the NumPy tree walk (test_serve_forest.py)
        assert fast is not member.estimator  # the lookup is in use for this layout
        assert type(fast._preprocessor).__name__ == "OrdinalLookup"
        expected = member.estimator.predict_proba(codes)
        assert np.array_equal(fast.predict_proba(codes), expected)


def test_prepare_codes_equals_prepare_then_as_codes(loaded) -> None:
    from mktai.tasks.common.tabular import as_codes, prepare, prepare_codes
    from mktai.tasks.stored import load_for

    schema = loaded.fitted.schema
    for seed in range(3):
        table = load_for("propensity", InMemory(hostile_rows(300, seed)), unlabelled=True,
                         dedupe=False)  # fmt: skip
        X, stats = prepare(table.frame, schema)
        codes, fast_stats = prepare_codes(table.frame, schema)
        assert stats == fast_stats and stats["unseen"] and stats["missing"]
        assert np.array_equal(codes, as_codes(X, schema), equal_nan=True)


def test_one_row_scores_equal_the_batch(loaded) -> None:
    """Each row scored alone (the server's path) equals its score in one batch call."""
    from mktai.api.loaded import predict_rows

    body = hostile_rows(40, 7)
    header, *rows = body.decode().splitlines()
    batch = predict_rows(loaded, InMemory(body), keep_raw=False)
    alone = [predict_rows(loaded, InMemory(f"{header}\n{row}\n".encode()), keep_raw=False)
             for row in rows]  # fmt: skip
    assert batch.rows == 40
    scores = [a.frame["score"].iloc[0] if a.rows else None for a in alone]
    assert scores == batch.frame["score"].tolist()
