"""CPU per in-process predict call: what one `mktai serve` request costs before HTTP.

    .venv/bin/python benchmarks/serve_cpu.py [--calls 40] [--repeats 5] [--profile]

Trains the benchmark's propensity model (gbm on the bank sample, seed 0) into a temporary
store, then times the call a predict request makes,
`predict_rows(loaded, InMemory(csv, cells=...), keep_raw=False, scores_only=True)` (JSON rows
keep their cells: mktai.data.small cleans them), beside the same rows as CSV bytes only (the
reader and the stream: the path before, and the one a CSV body takes): one row repeated (every
cell remembered), a new row each call (new numbers, known words), 10 and 100 new rows, and a
row holding a decimal comma (the full path on both sides); and one-text `sentiment_texts` with
frame=False (the server's) and with its DataFrame. Thread
CPU time (time.thread_time), scikit-learn limited to one thread as the server runs it; the best
of --repeats runs of --calls calls, since a shared machine only ever adds time. --profile
prints cProfile's top functions for the one-row call. Run it on two checkouts for a
before/after table (PYTHONPATH picks the code).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

BANK = Path(
    os.environ.get("MKTAI_BENCH_BANK")
    or Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
)


def sample_rows() -> list[dict]:
    """Every bank row without the outcome, as a JSON client sends it (numbers as numbers)."""
    with open(BANK, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for row in rows:
        row.pop("y")
    return [{k: int(v) if v.lstrip("-").isdigit() else v for k, v in r.items()} for r in rows]


def one_row() -> list[dict]:
    return sample_rows()[:1]


def cpu_ms(call, calls: int, repeats: int) -> float:
    for _ in range(3):
        call()
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(calls):
            call()
        best = min(best, (time.thread_time() - start) / calls * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import mktai
    from mktai.api import train
    from mktai.api.loaded import builtin_sentiment, load, predict_rows, sentiment_texts
    from mktai.data.read import InMemory
    from mktai.serve.bodies import records_csv
    from mktai.tasks.supervised.estimators import limit_threads

    store = Path(tempfile.mkdtemp(prefix="mktai-bench-cpu-")) / "store"
    train("propensity", BANK, name="response", target="y", store=store, cv=0, seed=0)
    model = load("response", store=store)
    texts = builtin_sentiment()
    every = sample_rows()
    row = every[:1]

    def predict(n: int, cells: bool = True, rows: list[dict] = row, vary: bool = False):
        """One request of n rows: `rows` repeated, or (vary) the next n rows of the sample on
        each call, so the values cleaned per call are mostly new (no remembered cells)."""
        start = [0]

        def call():
            picked = rows * n
            if vary:
                first = start[0] % (len(every) - n)
                picked, start[0] = every[first : first + n], first + n
            data = records_csv(picked, 100_000)
            body = InMemory(data, "request body", cells=data.cells if cells else None)
            return predict_rows(model, body, keep_raw=False, scores_only=True)

        return call

    print(f"code: {Path(mktai.__file__).parent} (load average {os.getloadavg()[0]:.1f})\n")
    print("| call | JSON rows: small path, ms | CSV bytes: full path (before), ms | ratio |")
    print("|---|---:|---:|---:|")
    hostile = [{**row[0], "balance": "1.234,56", "job": " ADMIN. "}]  # a decimal comma
    with limit_threads(1):
        predict(1)()  # the first request of a header decides its plan (full path)
        cases = (("1 row, the same each call", 1, row, False),
                 ("1 row, a new one each call", 1, row, True),
                 ("10 rows, new each call", 10, row, True),
                 ("100 rows, new each call", 100, row, True),
                 ("1 hostile row (decimal comma: full path)", 1, hostile, False))  # fmt: skip
        for label, n, rows, vary in cases:
            small = cpu_ms(predict(n, rows=rows, vary=vary), args.calls, args.repeats)
            full = cpu_ms(predict(n, cells=False, rows=rows, vary=vary), args.calls, args.repeats)
            print(f"| predict, {label} | {small:.2f} | {full:.2f} | {full / small:.1f}x |")
        text = ["Great product, fast delivery"]
        columns = cpu_ms(lambda: sentiment_texts(texts, text, frame=False), args.calls,
                         args.repeats)  # fmt: skip
        framed = cpu_ms(lambda: sentiment_texts(texts, text), args.calls, args.repeats)
        print(f"| sentiment, 1 text (columns / DataFrame) | {columns:.2f} | {framed:.2f} | "
              f"{framed / columns:.1f}x |")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile()
            call = predict(1)
            profile.enable()
            for _ in range(args.calls):
                call()
            profile.disable()
            pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(40)
    print(f"\n(load average after {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
