"""Segment benchmark: 1M customers / ~10M lines, full run time and peak RSS, RFM speed-up.

Why: monthly re-segmentation runs from cron on the whole customer base; it has to fit in a
minute and a few GB on a small machine (targets: full run <= 60 s, peak RSS <= 3 GB on 2 cores),
and the RFM aggregation must stay vectorised (>= 5x a naive pandas groupby/apply, the way most
tutorials and lifetimes-era code compute it), measured in the same run.

    .venv/bin/python benchmarks/segment.py [--customers 1000000] [--subset 10000]

1. `mktai segment DATA.parquet --clv --k auto -o out.parquet` in a subprocess: wall time and
   peak RSS (getrusage of the child), reading through the cleaning layer included.
2. In-process breakdown on the same data read straight from parquet: RFM summary, scoring +
   auto-k clustering, CLV fit + prediction.
3. RFM aggregation on the first --subset customers: mktai's summarise vs a naive
   groupby(customer).apply(per-customer function) and a lifetimes-style groupby/agg on
   period-deduplicated transactions; identical results are asserted before timing counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0
TARGET_RSS_GB = 3.0
TARGET_SPEEDUP = 5.0


MKTAI = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
READ = (
    "import sys, time; from mktai.data import load_table; t = time.perf_counter(); "
    "table = load_table(sys.argv[1], kind='transactions'); "
    "print(time.perf_counter() - t, len(table.frame))"
)


def full_cli_run(
    data: Path, package: Path = ROOT, digests: list[str] | None = None
) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (GB), customers and CPU seconds of the real CLI on the file,
    with `package` (this tree, or a copy of an older version) on PYTHONPATH; the SHA-256 of
    the output file is appended to `digests`.

    CPU seconds (user + system of the child) tell the work apart from waiting for cores that
    other jobs on a shared machine are using. GNU time measures each run on its own (the
    children's ru_maxrss would be the largest of every run so far)."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "customers.parquet"
        stats = Path(tmp) / "time.txt"
        subprocess.run(
            ["/usr/bin/time", "-o", str(stats), "-f", "%e %U %S %M", "env",
             f"PYTHONPATH={package}", sys.executable, "-P", "-c", MKTAI, "segment", str(data),
             "--clv", "--k", "auto", "--seed", "0", "-o", str(out), "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wall, user, system, kilobytes = stats.read_text().split()[-4:]
        rows = pq.ParquetFile(out).metadata.num_rows
        if digests is not None:
            import hashlib

            digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    return float(wall), float(kilobytes) / 1024 / 1024, rows, float(user) + float(system)


def read_time(data: Path, package: Path = ROOT) -> float:
    """Seconds of load_table (the cleaning layer every command reads through) on the file."""
    done = subprocess.run(
        [sys.executable, "-P", "-c", READ, str(data)],
        env=dict(os.environ, PYTHONPATH=str(package)),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.split()[0])


def before_after(data: Path, before: Path) -> None:
    """The full CLI run and the read alone, this tree against an older copy, in one run."""
    rows = []
    digests: list[str] = []
    for label, package in (("before (git)", before), ("this tree", ROOT)):
        seconds, rss_gb, _, cpu = full_cli_run(data, package, digests)
        rows.append((label, seconds, cpu, rss_gb, read_time(data, package)))
    print(f"\noutput files byte for byte identical: {'yes' if len(set(digests)) == 1 else 'NO'}")
    print(f"\n| version | full run s | CPU s | peak RSS GB | read (load_table) s |")  # noqa: F541
    print("|---|---|---|---|---|")
    for label, seconds, cpu, rss_gb, read in rows:
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {rss_gb:.2f} | {read:.1f} |")
    (_, s0, c0, r0, d0), (_, s1, c1, r1, d1) = rows
    print(f"| this tree / before | {s1 / s0:.2f}x | {c1 / c0:.2f}x | {r1 / r0:.2f}x "
          f"| {d1 / d0:.2f}x |")  # fmt: skip
    print(f"targets: full run <= {TARGET_SECONDS:.0f} s, peak RSS <= {TARGET_RSS_GB:.0f} GB")


def uptime() -> str:
    """`uptime`, printed beside the table: the machine is shared, so no run is quiet."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def standard_frame(data: Path):
    """The standard columns the segment core works on, read straight from parquet."""
    import pandas as pd

    raw = pd.read_parquet(data)
    amount = raw["Quantity"].to_numpy(dtype="float64") * raw["UnitPrice"].to_numpy()
    frame = pd.DataFrame(
        {
            "customer": raw["CustomerID"],
            "order": raw["InvoiceNo"],
            "date": raw["InvoiceDate"].astype("datetime64[ns]"),
            "amount": amount,
            "is_return": raw["InvoiceNo"].str.startswith("C").to_numpy() | (amount < 0),
        }
    )
    return frame


def breakdown(frame) -> dict[str, float]:
    """Seconds of each stage of the library on an in-memory frame."""
    from mktai.tasks.segment import rfm as rfm
    from mktai.tasks.segment.family import SegmentOptions, segment_customers

    timings: dict[str, float] = {}
    started = time.perf_counter()
    rfm.summarise(frame)
    timings["RFM summary (all lines)"] = time.perf_counter() - started
    started = time.perf_counter()
    segment_customers(frame, SegmentOptions(seed=0, clv=False))
    timings["RFM + scores + segments + auto-k"] = time.perf_counter() - started
    started = time.perf_counter()
    result = segment_customers(frame, SegmentOptions(seed=0, clv=True, k=None))
    timings["... + CLV (BG/NBD + Gamma-Gamma)"] = time.perf_counter() - started
    timings["_k"] = result.summary["clusters"].get("k", 0)
    return timings


def naive_apply(frame, as_of):
    """Per-customer Python function under groupby.apply: the common tutorial implementation."""
    import pandas as pd

    def per_customer(g):
        value = g["amount"].where(~g["is_return"], -g["amount"].abs())
        purchases = g[~g["is_return"] & (g["amount"] > 0)]
        frequency = purchases["order"].nunique()
        total = value.sum()
        last = purchases["date"].max()
        return pd.Series(
            {
                "recency": (as_of - last.normalize()).days if frequency else None,
                "frequency": frequency,
                "total": total,
                "monetary": total / frequency if frequency else 0.0,
                "n_days": purchases["date"].dt.normalize().nunique(),
            }
        )

    return frame.groupby("customer").apply(per_customer)


def lifetimes_style(frame, as_of):
    """lifetimes.utils.summary_data_from_transaction_data's approach: dedupe by period, agg."""
    import pandas as pd

    purchases = frame[~frame["is_return"] & (frame["amount"] > 0)].copy()
    purchases["period"] = purchases["date"].dt.to_period("D")
    per_day = purchases.groupby(["customer", "period"], sort=False)["amount"].sum().reset_index()
    summary = per_day.groupby("customer", sort=False)["period"].agg(["min", "max", "count"])
    summary["frequency"] = summary["count"] - 1
    summary["T"] = (pd.Period(as_of, "D") - summary["min"]).apply(lambda d: d.n)
    summary["recency"] = (summary["max"] - summary["min"]).apply(lambda d: d.n)
    summary["monetary"] = per_day.groupby("customer")["amount"].mean()
    return summary


def best_of(func, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def aggregation_comparison(frame, subset: int) -> list[tuple[str, float]]:
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment import rfm as rfm

    ids = np.sort(frame["customer"].unique())[:subset]
    part = frame[frame["customer"].isin(ids)].reset_index(drop=True)
    as_of = rfm.default_as_of(part["date"])
    ours, _ = rfm.summarise(part, as_of=as_of)
    naive = naive_apply(part, as_of)
    ours_i = ours.set_index("customer")
    check = ours_i.loc[ours_i["frequency"] > 0]
    naive = naive.loc[check.index]
    assert (check["frequency"].to_numpy() == naive["frequency"].to_numpy()).all()
    assert np.allclose(check["total"].to_numpy(), naive["total"].to_numpy())
    assert (check["recency"].to_numpy() == naive["recency"].to_numpy()).all()
    assert (check["n_days"].to_numpy() == naive["n_days"].to_numpy()).all()
    t_ours = best_of(lambda: rfm.summarise(part, as_of=as_of), 3)
    t_naive = best_of(lambda: naive_apply(part, as_of), 1)
    t_lifetimes = best_of(lambda: lifetimes_style(part, as_of), 2)
    _ = pd
    return [
        (f"lines in subset ({subset:,} customers)", float(len(part))),
        ("mktai rfm.summarise (s)", t_ours),
        ("naive groupby.apply (s)", t_naive),
        ("lifetimes-style groupby/agg (s)", t_lifetimes),
        ("speed-up vs naive apply", t_naive / t_ours),
        ("speed-up vs lifetimes-style", t_lifetimes / t_ours),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument(
        "--before", type=Path, help="a copy of the package from git: before/after table only"
    )
    args = parser.parse_args()

    from segment_data import generate

    data = generate(args.customers)
    load_before = os.getloadavg()[0]
    print(f"data: {data} ({data.stat().st_size / 1e6:.0f} MB), cores: {os.cpu_count()}")
    if args.before is not None:
        print(f"uptime at start: {uptime()}")
        before_after(data, args.before)
        print(f"uptime at end: {uptime()}")
        return
    seconds, rss_gb, customers, cpu = full_cli_run(data)
    frame = standard_frame(data)
    lines = len(frame)
    stages = breakdown(frame)
    k = stages.pop("_k")
    comparison = aggregation_comparison(frame, args.subset)
    speedup = comparison[4][1]

    print()
    print(f"| measure | value | target | ok |")  # noqa: F541
    print("|---|---|---|---|")
    print(f"| customers / lines | {customers:,} / {lines:,} | 1M / 10M | |")
    print(f"| load average (1 min) before / after | {load_before:.1f} / {os.getloadavg()[0]:.1f} "
          f"| (other jobs on the {os.cpu_count()} cores) | |")  # fmt: skip
    print(f"| full CLI run (read + RFM + auto-k (k={k}) + CLV + write) | {seconds:.1f} s "
          f"| <= {TARGET_SECONDS:.0f} s | {'yes' if seconds <= TARGET_SECONDS else 'NO'} |")  # fmt: skip
    print(f"| CPU time of that run (user + sys) | {cpu:.1f} s | | |")
    print(f"| peak RSS of that run | {rss_gb:.2f} GB | <= {TARGET_RSS_GB:.0f} GB "
          f"| {'yes' if rss_gb <= TARGET_RSS_GB else 'NO'} |")  # fmt: skip
    for name, value in stages.items():
        print(f"| in-process: {name} | {value:.1f} s | | |")
    for name, value in comparison:
        if name.startswith("speed-up"):
            ok = "yes" if value >= TARGET_SPEEDUP else "NO"
            target = f">= {TARGET_SPEEDUP:.0f}x" if "naive" in name else ""
            print(f"| {name} | {value:.1f}x | {target} | {ok if target else ''} |")
        elif name.startswith("lines"):
            print(f"| {name} | {value:,.0f} | | |")
        else:
            print(f"| {name} | {value:.2f} | | |")
    if seconds > TARGET_SECONDS or rss_gb > TARGET_RSS_GB or speedup < TARGET_SPEEDUP:
        print("\nsome targets were missed (see NO above)")


if __name__ == "__main__":
    main()
