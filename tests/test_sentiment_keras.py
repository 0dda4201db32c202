"""The seeds' Keras model: trains on real sentences, survives the .keras save/load round trip."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorflow", reason="TensorFlow (mktai[deep]) is not installed")

from mktai.data.table import CleanTable  # noqa: E402
from mktai.tasks.base import TrainOptions  # noqa: E402
from mktai.tasks.sentiment.family import fit, load_model  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.deep
@pytest.mark.skipif(
    not (SHARED / "sentiment_en.csv").is_file(),
    reason="real data ../shared/data/sentiment_en.csv is absent",
)
def test_keras_round_trip_on_sentences_with_unicode_separators(tmp_path):
    frame = pd.read_csv(SHARED / "sentiment_en.csv")[["text", "label"]]
    # the raw imdb lines hold U+0085 / U+0096; add U+2028 too: the reload trap of Keras 3
    assert frame["text"].str.contains("[\x85\x96]").any()
    frame.loc[frame.index[:20], "text"] = frame["text"].iloc[:20] + "\u2028next line"
    table = CleanTable(frame, {"text": "text", "label": "label"}, "reviews", pd.DataFrame())
    options = TrainOptions(seed=0, algorithm="keras", extra={"epochs": "12", "patience": "2"})
    model = fit(table, "sentiment", options)
    holdout = model.metrics["holdout"]
    assert holdout["rows"] == 600 and holdout["accuracy"] > 0.65
    model.save(tmp_path)
    assert (tmp_path / "all" / "model.keras").is_file()
    assert not [p for p in tmp_path.rglob("*") if re.search(r"\.(pkl|pickle|joblib)$", p.name)]
    loaded = load_model(tmp_path, {})
    texts = frame["text"].tolist()[:200] + ["", "42"]
    before, after = model.score(texts), loaded.score(texts)
    assert before.label == after.label
    np.testing.assert_allclose(before.probability, after.probability, rtol=1e-5, equal_nan=True)
    report = loaded.evaluate(table)
    assert report["metrics"]["roc_auc"] > 0.7


def test_no_fork_once_tensorflow_is_loaded(monkeypatch):
    import tensorflow  # noqa: F401  (its runtime threads make fork() unsafe)

    from mktai.tasks.sentiment import model as model_module

    monkeypatch.setenv("MKTAI_JOBS", "2")
    assert model_module._jobs(10**6) == 1


def test_loading_tensorflow_keeps_stderr_clean():
    import subprocess
    import sys

    code = (
        "from mktai.tasks.sentiment.keras_model import _keras; "
        "_keras(); import tensorflow as tf; tf.constant(['ok']); print('done')"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr
    assert run.stderr == ""  # no absl/oneDNN start-up lines in cron logs


def test_pooling_averages_real_tokens_not_padding():
    # unmasked, a 1-word text is averaged with 99 padding vectors and a 3-word one with 97:
    # the repeated word would score differently, and short sentences drown in padding
    import tensorflow as tf

    from mktai.tasks.sentiment.keras_model import _keras, _network
    from mktai.tasks.sentiment.training import parse_params

    keras = _keras()
    x = tf.constant(["good food", "bad service", "good good good"])
    network = _network(keras, x, parse_params("keras", {})[0], 2, seed=0)
    p = network.predict(tf.constant(["good", "good good good"]), verbose=0)[:, 0]
    assert p[0] == pytest.approx(p[1], abs=1e-6)
