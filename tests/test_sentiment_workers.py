"""Sentiment scoring's worker count follows the free cores, and the result does not depend on
how a batch is split: one batch, slices in this process, or forked workers give identical
labels, probabilities, languages and explanations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mktai.errors import UsageError
from mktai.tasks.sentiment import cores

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "reviews.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
linux_only = pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="needs /proc/stat")


def test_rule_takes_the_free_cores_rounded():
    assert cores.workers_for(2, 1.93) == 2  # quiet machine
    assert cores.workers_for(2, 0.97) == 1  # another CPU-bound process holds a core
    assert cores.workers_for(2, 0.2) == 1  # never fewer than one
    assert cores.workers_for(4, 2.6) == 3
    assert cores.workers_for(4, 2.4) == 2
    assert cores.workers_for(64, 64.0) == cores.MAX_WORKERS


def test_busy_ticks_are_all_but_idle_and_iowait_of_our_cpus():
    # cpu0: user 100, nice 300 (niced work in another group still takes its share), system 50,
    # idle 500, iowait 50 -> busy 450 of 1000 ticks; the "cpu" total line is not a CPU
    stat = "cpu  1 2 3 4 5 6 7 8\ncpu0 100 300 50 500 50 0 0 0 0 0\ncpu1 9 9 9 9 9 9 9 9\n"
    assert cores.cpu_ticks({0}, stat) == (450, 1000)
    assert cores.cpu_ticks({0, 1}, stat) == (450 + 54, 1000 + 72)
    assert cores.cpu_ticks({1}, stat) == (54, 72)


@linux_only
def test_a_core_held_by_a_spinning_process_is_not_free():
    cpu = min(os.sched_getaffinity(0))
    spinner = subprocess.Popen(
        [sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{cpu}}})\nwhile 1: pass"]
    )
    try:
        time.sleep(0.3)  # started and pinned
        busy0, total0 = cores.cpu_ticks({cpu})
        time.sleep(0.5)
        busy1, total1 = cores.cpu_ticks({cpu})
    finally:
        spinner.kill()
        spinner.wait()
    # a runnable process on the CPU leaves it no idle tick (whoever else runs there)
    assert (busy1 - busy0) / (total1 - total0) >= 0.9
    free = cores.free_cores(cores.usable_cores())
    assert 0.0 <= free <= cores.usable_cores()


def test_mktai_jobs_overrides_the_rule_within_the_usable_cores():
    if not sys.platform.startswith("linux"):
        pytest.skip("forked workers need Linux")
    assert cores.worker_count("1") == 1
    assert cores.worker_count("64") == min(cores.usable_cores(), cores.MAX_WORKERS)
    with pytest.raises(UsageError, match="MKTAI_JOBS must be a whole number"):
        cores.worker_count("two")


SPLIT_CHECK = """
import json, os, sys
import numpy as np, pandas as pd
from mktai.tasks.sentiment import model as m
from mktai.tasks.sentiment.family import default_model
frame = pd.read_csv(sys.argv[1])
texts = frame[sys.argv[2]].fillna("").astype(str).tolist()
texts = (texts * (1 + 1200 // len(texts)))[:1200] + ["", "!!!", "12 34"]
model = default_model()
def same(a, b):
    return (a.label == b.label and a.lang == b.lang and a.explanation == b.explanation
            and a.unknown == b.unknown and a.by_lang == b.by_lang
            and bool(np.array_equal(a.probability, b.probability, equal_nan=True)))
def splits(texts, explain):
    m.SERIAL_CHUNK, m.PARALLEL_MIN, m.CHUNK = 10**9, 10**9, 4000
    whole = model.score(texts, explain=explain)
    m.SERIAL_CHUNK = 257  # many uneven slices
    os.environ["MKTAI_JOBS"] = "1"
    sliced = model.score(texts, explain=explain)
    m.PARALLEL_MIN, m.CHUNK = 10, 301
    os.environ["MKTAI_JOBS"] = "2"
    forked = model.score(texts, explain=explain)
    return same(whole, sliced), same(whole, forked), [sliced.workers, forked.workers]
plain = splits(texts, False)
explained = splits(texts[-300:], True)  # explanations are slow: fewer texts
print(json.dumps({"sliced": plain[0] and explained[0], "forked": plain[1] and explained[1],
                  "workers": plain[2]}))
"""


def _split_check(path: Path, column: str) -> dict:
    """In a fresh interpreter: the test session may have TensorFlow loaded, and then scoring
    rightly refuses to fork."""
    run = subprocess.run(
        [sys.executable, "-c", SPLIT_CHECK, str(path), column],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


def test_results_identical_for_one_batch_slices_and_workers():
    result = _split_check(SAMPLE, "review")
    assert result["sliced"] and result["forked"]
    if len(os.sched_getaffinity(0)) >= 2:
        assert result["workers"] == [1, 2]


@pytest.mark.skipif(not (SHARED / "sentiment_zh.csv").is_file(), reason="shared data absent")
def test_results_identical_across_splits_on_real_chinese_reviews():
    result = _split_check(SHARED / "sentiment_zh.csv", "text")
    assert result["sliced"] and result["forked"]
