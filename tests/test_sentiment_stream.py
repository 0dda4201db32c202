"""`sentiment --input FILE -o OUT.csv` streams: each slice's CSV is formatted where it was scored
(forked workers for a large file) and written in order. The file must hold the same bytes as
writing the whole result frame, whatever the split, with formula cells, a CR inside a cell, an
input that already has a label column and --explain; a failed or interrupted run leaves no file
and no temp debris."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "reviews.csv"
SHARED = ROOT.parent / "shared" / "data"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks workers")


def _reviews(path: Path, rows: int, *, cr: bool, seed: int = 0) -> Path:
    """ROWS real reviews (the shared files when present, else the sample) resampled with SEED,
    an id and a label column, plus the cells a writer must take care of."""
    import numpy as np

    if (SHARED / "sentiment_en.csv").is_file():
        parts = [pd.read_csv(SHARED / f"sentiment_{lang}.csv") for lang in ("en", "zh")]
        pool = pd.concat([p[["text", "label"]] for p in parts], ignore_index=True)
    else:
        pool = pd.read_csv(SAMPLE).rename(columns={"review": "text"})[["text", "label"]]
    picks = np.random.default_rng(seed).integers(0, len(pool), rows)
    frame = pool.iloc[picks].reset_index(drop=True)
    frame.insert(0, "id", range(rows))
    frame.loc[3, "text"] = '=HYPERLINK("http://x")'
    frame.loc[4, "text"] = "-3.5"
    frame.loc[5, "text"] = ""
    frame.loc[rows - 2, "text"] = "@SUM(1)"
    if cr:
        frame.loc[rows - 1, "text"] = "first line\r\nsecond line, great"
    frame.to_csv(path, index=False)
    return path


CHECK = """
import json, os, sys
from pathlib import Path
from mktai.data import write_table
from mktai.tasks.sentiment import apply, model as m
from mktai.tasks.sentiment.family import default_model
source, out, explain = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
scorer = default_model()
m.SERIAL_CHUNK, m.PARALLEL_MIN = 10**9, 10**9
frame, summary = apply.score_file(scorer, source, explain=explain)
reference = out.with_name("frame.csv")
write_table(frame, reference)
splits = {"whole": (10**9, 10**9, 4000, "1"), "sliced": (257, 10**9, 4000, "1"),
          "forked": (10**9, 10, 301, "2")}
result = {}
for name, (serial, parallel, chunk, jobs) in splits.items():
    m.SERIAL_CHUNK, m.PARALLEL_MIN, m.CHUNK = serial, parallel, chunk
    os.environ["MKTAI_JOBS"] = jobs
    streamed = apply.score_file_to(scorer, source, out, explain=explain)
    result[name] = {"same_bytes": out.read_bytes() == reference.read_bytes(),
                    "same_summary": streamed == summary}
result["first_quoted"] = reference.read_text(encoding="utf-8").splitlines()[1].startswith('"')
result["debris"] = sorted(p.name for p in out.parent.iterdir() if p.name.endswith(".tmp"))
print(json.dumps(result))
"""


def _check(source: Path, tmp_path: Path, explain: bool) -> dict:
    """In a fresh interpreter (the session may hold TensorFlow, and then scoring never forks)."""
    run = subprocess.run(
        [sys.executable, "-c", CHECK, str(source), str(tmp_path / "out.csv"), str(int(explain))],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return json.loads(run.stdout)


@linux_only
@pytest.mark.parametrize("cr", [False, True], ids=["plain", "cr-in-a-cell"])
def test_streamed_csv_is_the_frame_written_whole_for_every_split(tmp_path, cr):
    source = _reviews(tmp_path / "reviews.csv", 3_000, cr=cr)
    result = _check(source, tmp_path, explain=False)
    for split in ("whole", "sliced", "forked"):
        assert result[split] == {"same_bytes": True, "same_summary": True}, split
    assert result["debris"] == []
    # a CR in one cell quotes every text cell of the file (the ids as read too), as the
    # whole frame does; without one, the first row's id is bare
    assert result["first_quoted"] is cr


@linux_only
def test_streamed_explanations_and_predicted_columns(tmp_path):
    source = _reviews(tmp_path / "reviews.csv", 700, cr=False, seed=1)
    result = _check(source, tmp_path, explain=True)
    for split in ("whole", "sliced", "forked"):
        assert result[split] == {"same_bytes": True, "same_summary": True}, split
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == "id,text,label,predicted_label,predicted_probability,predicted_explanation"


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_file_output_equals_stdout_output_and_api_returns_no_frame(tmp_path):
    from mktai.api import sentiment

    source = _reviews(tmp_path / "reviews.csv", 400, cr=False, seed=2)
    out = tmp_path / "scored.csv"
    to_file = _cli("sentiment", "--input", str(source), "-o", str(out))
    assert to_file.exit_code == 0, to_file.output
    assert "wrote 400 rows to" in to_file.stderr
    to_stdout = _cli("sentiment", "--input", str(source))
    assert to_stdout.exit_code == 0
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    streamed = sentiment(input=source, output=tmp_path / "api.csv")
    kept = sentiment(input=source)
    assert streamed.frame is None and kept.frame is not None and len(kept.frame) == 400
    assert streamed.summary == kept.summary
    assert (tmp_path / "api.csv").read_bytes() == out.read_bytes()


def test_strict_with_a_rejected_row_writes_nothing(tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("id,text\n1,great\n2,too,many,fields\n3,bad\n", encoding="utf-8")
    out = tmp_path / "scored.csv"
    out.write_text("previous\n")
    result = CliRunner().invoke(
        app, ["sentiment", "--input", str(source), "-o", str(out), "--strict"]
    )
    assert result.exit_code == 2
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv", "scored.csv"]


INTERRUPTED = """
import sys
from mktai.tasks.sentiment import model as m
m.PARALLEL_MIN, m.CHUNK = 10, 50  # many slices: the run is still writing when interrupted
from mktai.cli.app import main
sys.argv = ["mktai", "sentiment", "--input", sys.argv[1], "-o", sys.argv[2], "--explain"]
main()
"""


@linux_only
def test_interrupted_run_leaves_the_old_output_and_no_temp_file(tmp_path):
    source = _reviews(tmp_path / "reviews.csv", 4_000, cr=False, seed=3)
    out = tmp_path / "scored.csv"
    out.write_text("previous\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MKTAI_JOBS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, str(source), str(out)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if temps and temps[0].stat().st_size > 0:  # the first slices are written
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be interrupted (machine too fast)")
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv", "scored.csv"]
