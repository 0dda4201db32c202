"""README promise: `make demo` runs `mktai demo`, the whole tour on sample_data/ through the real
CLI into a throw-away store, and lists every output file at the end.

One end-to-end run in a fresh process, from an empty working directory, with the default output
directory (a new temporary directory under $TMPDIR). The outputs are checked with pandas, the
csv module, json and xml, not with mktai. Marked slow (about 20 s on an idle machine); it runs
in `make test`.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


@pytest.mark.slow
def test_demo_runs_the_whole_tour_in_a_fresh_directory(tmp_path: Path):
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MKTAI_DEBUG", "MKTAI_STORE")}
    env.update(TMPDIR=str(tmp), PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    result = subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", "demo"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "error:" not in result.stderr
    assert list(cwd.iterdir()) == []  # nothing written where it was started (no ./mktai-store)
    (out,) = tmp.iterdir()  # the throw-away directory
    listing = result.stderr[result.stderr.index("demo finished. Outputs:") :]
    listed = dict(
        (label.strip(), Path(path))
        for label, path in re.findall(r"^  (.+?)\s{2,}(\S+)$", listing, re.M)
    )
    assert len(listed) >= 14, listing
    for label, path in listed.items():
        assert path.exists() and path.parent == out, (label, path)
        assert path.is_dir() or path.stat().st_size > 0, (label, path)

    # 1. ingest: the README's counts for the transactions sample
    report = json.loads((out / "ingest.json").read_text(encoding="utf-8"))
    assert (report["rows_in"], report["rows_out"], report["rows_rejected"]) == (17015, 16753, 262)
    clean = pd.read_parquet(out / "transactions.clean.parquet")
    assert len(clean) == 16753
    with open(out / "transactions.clean.rejects.csv", newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + 262

    # 2. segment: one row per customer with a segment; the report embeds its plots
    customers = pd.read_csv(out / "customers_segments.csv", dtype={"customer": str})
    raw = pd.read_csv(SAMPLE / "transactions_sample.csv", dtype={"CustomerID": str})
    expected = raw["CustomerID"].dropna().str.replace(r"\.0$", "", regex=True).nunique()
    assert customers["customer"].is_unique and len(customers) == expected
    assert customers["segment"].notna().all()
    assert "data:image/png;base64," in (out / "segments_report.html").read_text(encoding="utf-8")

    # 3. sentiment: every review comes back, in order, with a label; an empty text, like one
    # of only digits or punctuation, is 'unknown' (issue 13: no input row is dropped)
    reviews = pd.read_csv(SAMPLE / "reviews.csv", keep_default_na=False)
    scored = pd.read_csv(out / "reviews_scored.csv", keep_default_na=False)
    assert scored["review"].tolist() == reviews["review"].tolist()
    assert set(scored["predicted_label"]) == {"positive", "negative", "unknown"}
    unknown = scored.loc[scored["predicted_label"] == "unknown", "review"].tolist()
    assert unknown == ["", "12345", "!!!"]

    # 4. propensity: the splits partition the bank sample; one score per holdout row
    train = pd.read_csv(out / "bank_train.csv")
    holdout = pd.read_csv(out / "bank_holdout.csv")
    assert len(train) + len(holdout) == 3000 and len(holdout) == 750
    scores = pd.read_csv(out / "bank_scores.csv")
    assert len(scores) == len(holdout) and scores["score"].between(0, 1).all()
    junit = ET.parse(out / "evaluation-junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert cases and not junit.findall(".//failure")
    assert "roc_auc" in (out / "evaluation.md").read_text(encoding="utf-8")

    # 5. the store: every version verifies in a separate run of the CLI
    store = listed["artifact store"]
    verify = subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", "models", "verify", "--store", str(store)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    models = {p.name for p in store.iterdir() if not p.name.startswith(".")}
    assert {"basket", "response", "reviews", "rfm"} <= models
    first = sorted(models)[0]  # the tour exports the first model `models list` shows
    assert (out / f"{first}.tar.gz").stat().st_size > 1000
