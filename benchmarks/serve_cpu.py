"""CPU per in-process predict call: what one `mktai serve` request costs before HTTP.

    .venv/bin/python benchmarks/serve_cpu.py [--calls 40] [--repeats 5] [--profile]

Trains the benchmark's propensity model (gbm on the bank sample, seed 0) into a temporary
store, then times on 1, 10 and 100 rows the call a predict request makes,
`predict_rows(loaded, InMemory(csv, cells=...), keep_raw=False, scores_only=True)` (JSON rows
keep their cells: mktai.data.small cleans them), beside the same rows as CSV bytes only (the
reader and the stream: the path before, and the one a CSV body takes), a JSON row holding
hostile cells (the full path again), and one-text `sentiment_texts`. Thread
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


def one_row() -> list[dict]:
    with open(BANK, newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle, delimiter=";"))
    row.pop("y")
    return [{k: int(v) if v.lstrip("-").isdigit() else v for k, v in row.items()}]


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
    row = one_row()

    def predict(n: int, cells: bool = True, rows: list[dict] = row):
        def call():
            data = records_csv(rows * n, 100_000)
            body = InMemory(data, "request body", cells=data.cells if cells else None)
            return predict_rows(model, body, keep_raw=False, scores_only=True)

        return call

    print(f"code: {Path(mktai.__file__).parent} (load average {os.getloadavg()[0]:.1f})\n")
    print("| call | JSON rows (small path) ms | CSV bytes (full path) ms | ratio |")
    print("|---|---:|---:|---:|")
    hostile = [{**row[0], "balance": "1.234,56", "job": " ADMIN. "}]  # a decimal comma
    with limit_threads(1):
        predict(1)()  # the first request of a header decides its plan (full path)
        for label, n, rows in ((1, 1, row), (10, 10, row), (100, 100, row),
                               ("1, hostile", 1, hostile)):  # fmt: skip
            small = cpu_ms(predict(n, rows=rows), args.calls, args.repeats)
            full = cpu_ms(predict(n, cells=False, rows=rows), args.calls, args.repeats)
            print(f"| predict, {label} row{'s' if n > 1 else ''} | {small:.2f} | {full:.2f} | "
                  f"{full / small:.1f}x |")  # fmt: skip
        one_text = lambda: sentiment_texts(texts, ["Great product, fast delivery"])  # noqa: E731
        print(f"| sentiment, 1 text | {cpu_ms(one_text, args.calls, args.repeats):.2f} | | |")
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
