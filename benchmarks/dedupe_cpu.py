"""CPU of the duplicate check alone (data.clean.Deduper.check), this tree against another copy.

`mktai ingest` runs the check in its reader thread, batch after batch in file order; it is
the stage whose cost grew faster than the rows (8M rows cost ~6x the CPU of 2M with one
bitmap per sorted run). Each tree streams the file's batches in its own process and times the
check's thread CPU only (the CSV parse runs in pyarrow's threads and is not counted), so a
busy machine disturbs the figures less than wall times. Trees run alternately, --repeat times.

    git archive main mktai | tar -x -C /tmp/base
    python benchmarks/dedupe_cpu.py --before /tmp/base --sizes 1 4 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_stages import run_with  # noqa: E402
from make_transactions import SOURCE, make  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys, time
from mktai.data.clean import Deduper
from mktai.data.read import iter_batches, open_source
source = open_source(sys.argv[1])
deduper = Deduper()
index = deduper.add_source(sys.argv[1])
first = duplicates = 0
cpu = 0.0
batches = iter_batches(source, [], dictionary=True)
for batch in batches:
    start = time.thread_time()
    reasons = deduper.check(batch, index, first)
    cpu += time.thread_time() - start
    duplicates += int((reasons != None).sum())  # noqa: E711
    first += batch.num_rows
batches.close()
source.cleanup()
print(json.dumps({"cpu": cpu, "rows": first, "duplicates": duplicates}))
"""


def measure(package: Path, path: Path) -> dict[str, float]:
    return run_with(package, CHECK, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="another copy of mktai")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4], help="multiples of 2M")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not SOURCE.exists():
        print(f"skipped: {SOURCE} (the real file the generator resamples) is absent")
        return
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'rows':>10} {'before s':>9} {'this s':>9} {'this/before':>12} {'duplicates':>11}")
    for size in args.sizes:
        path = make(2_000_000 * size)
        runs: dict[str, list[dict[str, float]]] = {"before": [], "this": []}
        for _ in range(args.repeat):
            runs["before"].append(measure(args.before, path))
            runs["this"].append(measure(ROOT, path))
        before = min(r["cpu"] for r in runs["before"])
        this = min(r["cpu"] for r in runs["this"])
        found = {r["duplicates"] for rs in runs.values() for r in rs}
        same = "same" if len(found) == 1 else f"DIFFER {sorted(found)}"
        rows = int(runs["this"][0]["rows"])
        print(f"{rows:>10,} {before:>9.2f} {this:>9.2f} {this / before:>11.2f}x {same:>11}")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.1f}  (figures: best of --repeat)")


if __name__ == "__main__":
    main()
