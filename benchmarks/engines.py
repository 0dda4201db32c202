"""Local engine vs Spark local[2]: ingest + segment of the 1x / 4x / 16x resampled transactions.

Each (engine, size) runs in its own process (`--run`), which reports its wall time per step and
the peak RSS (VmHWM) of the mktai process, of the JVM (Spark's driver + local executors) and the
largest sum of its Python workers' RSS seen while it ran. The big files come from the committed
seeded generator benchmarks/make_transactions.py (resampling ../shared/data/transactions.csv.gz).
The local engine wins on 2 cores; what must hold is that Spark's memory stays flat as the data
grows and that both give identical results (checked here on the outputs: rows, rejects, RFM).

    python benchmarks/engines.py                 # 1x, 4x, 16x
    python benchmarks/engines.py --sizes 1 4     # a shared 2-core box: leave out 16x
    python benchmarks/engines.py --driver-memory 1g --spark-only --sizes 16
    python benchmarks/engines.py --cap 1200      # a run over 20 minutes is stopped; its row
                                                 # shows the steps done and the peaks so far

Spark runs with the engine's local defaults (2 shuffle partitions per core, 100,000-row Arrow
batches) and --driver-memory (the JVM heap: driver and local executors share it; beyond it
Spark spills to its local dir, so the JVM's RSS is bounded by it whatever the data size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASE_ROWS = 541_909
SAME = {True: "yes", False: "NO", None: "-"}


def _status(pid: int | str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            out.extend(int(t) for t in text)
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen[1:]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class Watch:
    """Polls a process's descendants (this one's by default): peak RSS of the JVM and of the
    Python workers' sum, and the process's own peak (VmHWM)."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self.rss = 0
        self.jvm = 0
        self.workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.rss = max(self.rss, _status(self.pid, "VmHWM"))
            workers = 0
            for pid in _tree(self.pid):
                if _name(pid) == "java":
                    self.jvm = max(self.jvm, _status(pid, "VmHWM"))
                elif _name(pid).startswith("python"):
                    workers += _status(pid, "VmRSS")
            self.workers = max(self.workers, workers)
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_one(engine: str, csv: str, out: str) -> dict:
    """Inside the child process: ingest then segment (from the ingested output)."""
    from mktai.api import ingest, segment

    watch = Watch()
    times: dict[str, float] = {}

    def done_step(step: str, start: float) -> None:  # a line per step: a capped run keeps them
        times[step] = time.perf_counter() - start
        print(json.dumps({"step": step, "seconds": times[step]}), flush=True)

    if engine == "spark":
        from mktai.engines.spark_session import get_session

        start = time.perf_counter()
        get_session("local[2]")
        done_step("start", start)
    clean = Path(out) / ("clean" if engine == "spark" else "clean.parquet")
    start = time.perf_counter()
    done = ingest(csv, clean, engine=engine)
    done_step("ingest", start)
    start = time.perf_counter()
    seg = segment(str(clean), engine=engine, k="4", seed=0)
    done_step("segment", start)
    seg.customers.to_parquet(Path(out) / "customers.parquet")
    watch.stop()
    return {
        "times": times,
        "rss": _status("self", "VmHWM"),
        "jvm": watch.jvm,
        "workers": watch.workers,
        "rows_out": done.report["rows_out"],
        "rejected": done.report["rejected_by_reason"],
        "customers": len(seg.customers),
    }


def measure(engine: str, csv: Path, out: Path, memory: str, cap: float | None) -> dict:
    """One (engine, size) in a child process; past `cap` seconds it is stopped and the result
    holds the steps it finished and the peaks watched from here (`capped`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MKTAI_THREADS": "1",
           "MKTAI_SPARK_DRIVER_MEMORY": memory}  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, __file__, "--run", engine, str(csv), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    watch = Watch(child.pid)
    try:
        stdout, stderr = child.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)  # the child and its JVM and workers: its own process group
        stdout, stderr = child.communicate()
        watch.stop()
        steps = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"step"')]
        return {"times": {s["step"]: s["seconds"] for s in steps}, "rss": watch.rss,
                "jvm": watch.jvm, "workers": watch.workers, "capped": cap}  # fmt: skip
    watch.stop()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        raise SystemExit(f"{engine} on {csv.name} failed:\n{stderr[-3000:]}")
    return json.loads(lines[-1])


def _step(times: dict, step: str) -> str:
    return f"{times[step]:.1f}" if step in times else "stopped"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--run", nargs=3, metavar=("ENGINE", "CSV", "OUT"))
    parser.add_argument("--driver-memory", default="1g", help="Spark's JVM heap (local mode)")
    parser.add_argument("--spark-only", action="store_true",
                        help="skip the local engine (no parity check, no ratio)")  # fmt: skip
    parser.add_argument("--cap", type=float, default=None,
                        help="stop a run after this many seconds and report what it finished")  # fmt: skip
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(*args.run)))
        return
    import pandas as pd

    from benchmarks.make_transactions import make

    print(f"{'size':>5} {'rows':>10} {'engine':>7} {'start s':>8} {'ingest s':>9} "
          f"{'segment s':>10} {'vs local':>9} {'mktai RSS MB':>13} {'JVM RSS MB':>11} "
          f"{'workers MB':>11}  same result")  # fmt: skip
    for size in args.sizes:
        csv = make(BASE_ROWS * size, seed=0)
        with tempfile.TemporaryDirectory(prefix="mktai-engines-") as tmp:
            runs = {}
            for engine in ("spark",) if args.spark_only else ("local", "spark"):
                out = Path(tmp) / engine
                out.mkdir()
                runs[engine] = measure(engine, csv, out, args.driver_memory, args.cap)
            same = None
            if not args.spark_only and not any("capped" in r for r in runs.values()):
                a = pd.read_parquet(Path(tmp) / "local" / "customers.parquet")
                b = pd.read_parquet(Path(tmp) / "spark" / "customers.parquet")
                same = a.equals(b) and all(
                    runs["local"][k] == runs["spark"][k] for k in ("rows_out", "rejected")
                )
        base = runs.get("local", runs["spark"])
        ratio = (lambda x: f"{x:.2f}x") if "local" in runs else (lambda x: "-")  # noqa: E731
        local_total = sum(base["times"].values())
        for engine, r in runs.items():
            t = r["times"]
            total = sum(t.values())
            vs = "-" if "capped" in r or "capped" in base else ratio(total / local_total)
            note = f"stopped at the {r['capped']:.0f} s cap" if "capped" in r else SAME[same]
            print(
                f"{size:>4}x {BASE_ROWS * size:>10,} {engine:>7} {_step(t, 'start') if engine == 'spark' else '0.0':>8} "
                f"{_step(t, 'ingest'):>9} {_step(t, 'segment'):>10} {vs:>9} "
                f"{r['rss'] / 2**20:>13,.0f} {r['jvm'] / 2**20:>11,.0f} "
                f"{r['workers'] / 2**20:>11,.0f}  {note}",
                flush=True,
            )


if __name__ == "__main__":
    main()
