"""The NumPy tree walk (mktai.tasks.supervised.forest) gives exactly scikit-learn's numbers.

Real gbm models trained on the bank sample (seeded): two-class, multi-class, regression, a
model without categorical columns and a two-fold ensemble. Each is compared on hostile rows
(unseen categories, blanks, junk numbers) with HistGradientBoosting's own predict, in batches
the walk takes (1 to SMALL_ROWS rows) and the one it leaves to scikit-learn; then rows sent
one at a time through the server's path give what `mktai predict` writes for the whole file
(scikit-learn's path). Where the walk cannot be proven (a linear pipeline, codes a uint8
cannot hold) scikit-learn answers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mktai.data.read import InMemory

BANK = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
JUNK = ["never-seen", "", "N/A", "abc", "-1", "1e3", "0", " 7 ", "999999", "unknown"]
CASES = {
    "binary": ("propensity", "y", {}, 0),
    "multiclass": ("propensity", "marital", {}, 0),
    "regression": ("demand", "balance", {}, 0),
    "numeric-only": (
        "propensity",
        "y",
        {"drop": ["job", "marital", "education", "contact", "month", "poutcome"]},
        0,
    ),  # fmt: skip
    "ensemble": ("propensity", "y", {}, 2),
}


def bank() -> tuple[list[str], list[list[str]]]:
    with open(BANK, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return rows[0], rows[1:]


def hostile(names: list[str], rows: list[list[str]], n: int, seed: int) -> list[list[str]]:
    """n bank rows, 15% of cells replaced by junk (seeded), month and day included: the
    derived day_of_year is read value by value, so a junk month in one row must not change
    another row's score (the file scored whole against its rows one at a time)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.integers(0, len(rows), n):
        cells = list(rows[i])
        for j in range(len(cells)):
            if rng.random() < 0.15:
                cells[j] = JUNK[rng.integers(0, len(JUNK))]
        out.append(cells)
    return out


def write_csv(path: Path, names: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([names, *rows])
    return path


@pytest.fixture(scope="module", params=list(CASES))
def trained(request, tmp_path_factory):
    from mktai.api import train
    from mktai.api.loaded import load

    kind, target, extra, cv = CASES[request.param]
    tmp = tmp_path_factory.mktemp(f"forest-{request.param}")
    params = {"max_iter": 30, **extra}
    train(kind, BANK, name="m", target=target, store=tmp / "store", cv=cv, seed=0,
          algorithm="gbm", params=params)  # fmt: skip
    return request.param, target, tmp, load("m", store=tmp / "store")


def members(loaded) -> list:
    learner = loaded.fitted.learner
    return getattr(learner, "members", [learner])


def test_walk_equals_scikit_learn_on_hostile_rows(trained) -> None:
    from mktai.tasks.common.tabular import prepare_codes
    from mktai.tasks.stored import load_for
    from mktai.tasks.supervised.forest import SMALL_ROWS, ForestScorer

    case, target, tmp, loaded = trained
    names, rows = bank()
    keep = [i for i, n in enumerate(names) if n != target]
    cut = [[r[i] for i in keep] for r in hostile(names, rows, 300, 1)]
    body = write_csv(tmp / "hostile.csv", [names[i] for i in keep], cut)
    table = load_for(loaded.kind, body, unlabelled=True, dedupe=False)
    X, stats = prepare_codes(table.frame, loaded.fitted.schema)
    assert np.isnan(X).any()  # missing and unseen values really are in the probe
    for member in members(loaded):
        scorer = member.scorer()
        assert isinstance(scorer, ForestScorer)  # the walk is in use for every gbm layout
        assert (scorer.estimator._preprocessor is None) == (case == "numeric-only")
        native = member.estimator  # scikit-learn's own preprocessing and tree calls
        method = "predict" if case == "regression" else "predict_proba"
        for size in (1, 3, SMALL_ROWS, SMALL_ROWS + 1):
            for start in range(0, min(len(X), 4 * size), size):
                part = X[start : start + size]
                got = getattr(scorer, method)(part)
                assert np.array_equal(got, getattr(native, method)(part))
        if case == "multiclass":
            assert getattr(scorer, method)(X[:5]).shape[1] >= 3


def test_rows_one_at_a_time_equal_mktai_predict_on_the_file(trained) -> None:
    """The server's path (cells, scores only, no frame) per row == `mktai predict` (api) on
    the whole file, which scikit-learn scores (more than SMALL_ROWS rows)."""
    from mktai.api import predict
    from mktai.api.loaded import predict_rows
    from mktai.tasks.supervised.forest import SMALL_ROWS

    case, target, tmp, loaded = trained
    names, rows = bank()
    keep = [i for i, n in enumerate(names) if n != target]
    header = [names[i] for i in keep]
    picked = [[r[i] for i in keep] for r in hostile(names, rows, 80, 2)]
    picked += [[r[i] for i in keep] for r in rows[:20]]  # plain rows: the small cleaning path
    path = write_csv(tmp / "leads.csv", header, picked)
    written = predict("m", path, store=tmp / "store")
    assert written.rows == len(picked) > SMALL_ROWS and written.rows_rejected == 0
    body = path.read_bytes()
    predict_rows(loaded, InMemory(body), keep_raw=False)  # a server's first request: the plan
    scores, labels = [], []
    for row in picked:
        one = write_csv(tmp / "one.csv", header, [row]).read_bytes()
        result = predict_rows(loaded, InMemory(one, "request body", cells=(header, [row])),
                              keep_raw=False, scores_only=True, frame=False)  # fmt: skip
        assert result.frame is None and result.rows == 1
        scores.append(result.columns["score"][0])
        labels.append(result.columns["prediction"][0])
    assert scores == written.frame["score"].tolist()
    assert labels == written.frame["prediction"].tolist()


def test_scikit_learn_answers_where_the_walk_is_not_proven(tmp_path) -> None:
    from mktai.api import train
    from mktai.api.loaded import load
    from mktai.tasks.supervised.forest import ForestScorer, forest_scorer

    train("propensity", BANK, name="lin", target="y", store=tmp_path / "store", cv=0, seed=0,
          algorithm="linear")  # fmt: skip
    pipeline = load("lin", store=tmp_path / "store").fitted.learner.estimator
    assert forest_scorer(pipeline) is pipeline  # not a HistGradientBoosting: left alone

    train("propensity", BANK, name="gbm", target="y", store=tmp_path / "store", cv=0, seed=0,
          algorithm="gbm", params={"max_iter": 20})  # fmt: skip
    learner = load("gbm", store=tmp_path / "store").fitted.learner
    scorer = learner.scorer()
    assert isinstance(scorer, ForestScorer)
    from mktai.tasks.common.tabular import prepare_codes
    from mktai.tasks.stored import load_for

    table = load_for("propensity", BANK, unlabelled=True, dedupe=False)
    X, _ = prepare_codes(table.frame.head(8), learner.schema)
    pre = scorer.estimator._preprocess_X(X, reset=False)
    cat = int(np.flatnonzero(scorer.estimator._bin_mapper.is_categorical_)[0])
    pre[:, cat] = 300.0  # a code sklearn reads as uint8: the walk declines it
    assert scorer.forest.raw(pre) is None
    # and a wrong-width array gets scikit-learn's own error, not a silent answer
    with pytest.raises(ValueError):
        scorer.predict_proba(X[:, :-1])


def test_a_large_model_leaves_the_walk_and_the_event_loop(tmp_path, monkeypatch) -> None:
    """The walk's work is rows x nodes: above WALK_CELLS scikit-learn answers (the same
    numbers), and predict_small (a server's event-loop path) declines, so a large model's
    request is scored in the thread pool instead of blocking every other one."""
    from mktai.api import train
    from mktai.api.loaded import load, predict_small
    from mktai.tasks.common.tabular import prepare_codes
    from mktai.tasks.stored import load_for
    from mktai.tasks.supervised import forest

    train("propensity", BANK, name="gbm", target="y", store=tmp_path / "store", cv=0, seed=0,
          algorithm="gbm", params={"max_iter": 20})  # fmt: skip
    loaded = load("gbm", store=tmp_path / "store")
    learner = loaded.fitted.learner
    scorer = learner.scorer()
    nodes = len(scorer.forest.left)
    monkeypatch.setattr(forest, "WALK_CELLS", 3 * nodes)  # a model 'too large' beyond 3 rows
    assert scorer.walks(3) and not scorer.walks(4)
    assert loaded.fitted.scores_cheaply(3) and not loaded.fitted.scores_cheaply(4)
    table = load_for("propensity", BANK, unlabelled=True, dedupe=False)
    X, _ = prepare_codes(table.frame.head(4), learner.schema)
    assert np.array_equal(scorer.predict_proba(X), scorer.estimator.predict_proba(X))

    names, rows = bank()
    keep = [i for i, n in enumerate(names) if n != "y"]
    header = [names[i] for i in keep]
    picked = [[r[i] for i in keep] for r in rows[:4]]
    body = write_csv(tmp_path / "four.csv", header, picked).read_bytes()
    from mktai.api.loaded import predict_rows

    whole = predict_rows(loaded, InMemory(body), keep_raw=False)  # the header's plan
    four = InMemory(body, "request body", cells=(header, picked))
    assert predict_small(loaded, four) is None  # 4 rows: the pool's work
    three = write_csv(tmp_path / "three.csv", header, picked[:3]).read_bytes()
    quick = predict_small(loaded, InMemory(three, "request body", cells=(header, picked[:3])))
    assert quick is not None
    assert quick.columns["score"].tolist() == whole.frame["score"].head(3).tolist()
