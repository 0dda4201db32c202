"""Where the CPU of `mktai ingest` goes: each stage run on its own, one after another.

The real command overlaps the stages in threads (reading, the duplicate check, cleaning, the
parquet writer); here they run in turn on the same batches so each one's CPU seconds (process
time, Arrow's own threads included) can be read off. With --before, the same stages of another
copy of the package (git archive main mktai | tar -x -C DIR) run alternately with this tree's,
so a loaded machine slows both alike; the table shows the mean of --repeat runs of each.

    python benchmarks/ingest_stages.py                       # the 2M-row file of ingest.py
    python benchmarks/ingest_stages.py --before /tmp/oldmktai --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stages(path: str) -> dict[str, float]:
    """CPU seconds of each stage on one file, in the order the command runs them."""
    clock = time.process_time
    cpu: dict[str, float] = {}
    start = clock()
    import numpy  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    cpu["import numpy + pyarrow"] = clock() - start
    start = clock()
    import pandas  # noqa: F401

    cpu["import pandas"] = clock() - start
    start = clock()
    import tempfile

    from mktai.data import ingest
    from mktai.data.clean import Cleaner, Deduper, make_plan
    from mktai.data.load import _plan_sample
    from mktai.data.read import _sha256, iter_batches, open_source, plain_batch
    from mktai.data.write import TableWriter

    cpu["import mktai.data"] = clock() - start
    source = open_source(path)
    source.sha256  # noqa: B018 (its own thread: wait for it, count it below)
    start = clock()
    _sha256(Path(path))
    cpu["SHA-256 of the input"] = clock() - start
    start = clock()
    batches = list(iter_batches(source, [], dictionary=True))
    cpu["CSV parse (Arrow, dictionary)"] = clock() - start
    start = clock()
    plan = make_plan(_plan_sample(source, plain_batch(batches[0])), None, {}, ())
    cpu["type plan (sample)"] = clock() - start
    deduper = Deduper()
    index = deduper.add_source(path)
    start = clock()
    duplicates, first = [], 0
    for batch in batches:
        duplicates.append(deduper.check(batch, index, first))
        first += batch.num_rows
    cpu["duplicates (row hash, runs)"] = clock() - start
    # the command hands parquet its text dictionary-coded (data/coded.py; absent in older trees)
    coded = _optional("mktai.data.coded", "CodedParquetWriter")
    options = {"coded": True} if coded else {}
    cleaner = Cleaner(plan, path, source.delimiter, deduper=deduper, source_index=index, **options)
    start = clock()
    clean, rejects, first = [], [], 0
    for batch, found in zip(batches, duplicates, strict=True):
        kept, rejected = cleaner.clean(batch, first, duplicates=found)
        clean.append(kept)
        rejects.append(rejected)
        first += batch.num_rows
    cpu["clean (type, check, frames)"] = clock() - start
    with tempfile.TemporaryDirectory() as tmp:
        writer = (coded or TableWriter)(Path(tmp) / "clean.parquet", metadata={"ingested": True})
        start = clock()
        for frame in clean:
            writer.write(frame)
        writer.close()
        cpu["parquet write"] = clock() - start
        reject_writer = TableWriter(Path(tmp) / "rejects.csv")
        start = clock()
        pending = getattr(ingest, "_Pending", None)  # absent in trees before it
        sink = pending(reject_writer) if pending else None
        for frame in rejects:
            if len(frame):
                (sink.add if sink else reject_writer.write)(frame)
        if sink:
            sink.flush()
        reject_writer.close()
        cpu["rejects CSV write"] = clock() - start
    source.cleanup()
    return cpu


def _optional(module: str, name: str):
    """module.name, or None in a tree that does not have it."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def run_with(package: Path, code: str, path: Path) -> dict:
    """The JSON that `code` prints last, run on `path` in a fresh process importing the
    package from `package` (shared with dedupe_cpu.py)."""
    env = dict(os.environ, PYTHONPATH=str(package))
    out = subprocess.run(
        # -P: not the working directory first on sys.path (a checkout's mktai would win)
        [sys.executable, "-P", "-c", code, str(path)],
        env=env,
        check=True,
        capture_output=True,
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def measure(package: Path, path: Path) -> dict[str, float]:
    """stages() in a fresh process importing the package from `package`."""
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += "from ingest_stages import stages; print(json.dumps(stages(sys.argv[1])))"
    return run_with(package, code, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a CSV (default: ingest.py's 2M-row file)")
    parser.add_argument("--before", type=Path, help="another copy of the package to compare")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    path = args.file
    if path is None:
        sys.path.insert(0, str(Path(__file__).parent))
        from make_transactions import SOURCE, make

        if not SOURCE.exists():
            print(f"skipped: {SOURCE} (the real file the generator resamples) is absent")
            return
        path = make(2_000_000)
    trees = {"this tree": ROOT}
    if args.before is not None:
        trees = {"before": args.before, **trees}
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.repeat):  # alternate, so load changes hit both alike
        for name, package in trees.items():
            runs[name].append(measure(package, path))
    names = list(trees)
    stages_seen = list(runs[names[-1]][0])
    print(
        f"{'stage (CPU s, mean of ' + str(args.repeat) + ')':<34}"
        + "".join(f"{n:>11}" for n in names)
    )
    for stage in [*stages_seen, "total"]:
        cells = []
        for name in names:
            values = [
                sum(r.values()) if stage == "total" else r.get(stage, 0.0) for r in runs[name]
            ]
            cells.append(f"{sum(values) / len(values):>11.2f}")
        print(f"{stage:<34}" + "".join(cells))
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
