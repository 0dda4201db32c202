"""Benchmark `mktai ingest` against a bare pyarrow read+write and a naive pandas read+write.

All three turn the same resampled transactions CSV (benchmarks/make_transactions.py, fixed seed)
into parquet, each in its own process timed by /usr/bin/time (wall seconds, peak RSS), at 1x
(2M rows) and 4x (8M rows). Targets: mktai >= 0.5x the rows/s of bare pyarrow, faster than
naive pandas, and peak RSS roughly flat from 1x to 4x (streaming, bounded memory). The "text
floor" row is the least work of any cleaner that reads cells as text (TEXT_FLOOR below): it
shows how much of the gap to pandas is the reading itself.

    python benchmarks/ingest.py            # 2M and 8M rows
    python benchmarks/ingest.py --sizes 1  # 2M rows only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_transactions import SOURCE, make  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BASE_ROWS = 2_000_000

PYARROW = (
    "import sys, pyarrow.csv as c, pyarrow.parquet as pq;"
    "pq.write_table(c.read_csv(sys.argv[1]), sys.argv[2])"
)
PANDAS = "import sys, pandas as pd; pd.read_csv(sys.argv[1]).to_parquet(sys.argv[2])"
# The least a cleaner that reads every cell as text does (mktai's reader: each column as
# dictionary-coded strings, so '1.0' and '1' stay apart for the duplicate check and every
# distinct value is trimmed and typed once): parse that way, write the batches as they are.
# No pandas import, no typing, no duplicate check, no SHA-256, no rejects.
TEXT_FLOOR = (
    "import sys, pyarrow as pa, pyarrow.csv as c, pyarrow.parquet as pq;"
    "names = c.open_csv(sys.argv[1]).schema.names;"
    "text = pa.dictionary(pa.int32(), pa.string());"
    "options = c.ConvertOptions(column_types=dict.fromkeys(names, text),"
    " strings_can_be_null=False, null_values=[]);"
    "reader = c.open_csv(sys.argv[1], read_options=c.ReadOptions(block_size=8 << 20),"
    " convert_options=options);"
    "writer = pq.ParquetWriter(sys.argv[2], reader.schema, compression='snappy');"
    "[writer.write_batch(batch) for batch in reader];"
    "writer.close()"
)


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one process, from GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        subprocess.run(
            ["/usr/bin/time", "-o", stats.name, "-f", "%e %U %S %M", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall, user, system, kilobytes = stats.read().split()[-4:]
    return float(wall), float(user) + float(system), float(kilobytes) / 1024


MKTAI = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"


def commands(csv: Path, out: Path, before: Path | None) -> dict[str, list[str]]:
    python = str(BIN / "python")
    found = {
        # -P: `python -c` would put the working directory first on sys.path, so run from a
        # checkout, "mktai before" would import this tree instead of the copy given
        "mktai ingest": ["env", f"PYTHONPATH={ROOT}", python, "-P", "-c", MKTAI, "ingest", str(csv),
                         "-o", str(out), "--quiet"],
        "bare pyarrow": [python, "-c", PYARROW, str(csv), str(out)],
        "naive pandas": [python, "-c", PANDAS, str(csv), str(out)],
        "text floor": [python, "-c", TEXT_FLOOR, str(csv), str(out)],
    }  # fmt: skip
    if before is not None:  # the same command on a copy of the package from git
        found["mktai before"] = ["env", f"PYTHONPATH={before}", *found["mktai ingest"][2:]]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4], help="multiples of 2M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per tool")
    parser.add_argument(
        "--before",
        type=Path,
        help="a copy of the package from git (git archive main mktai | tar -x -C DIR) to time "
        "in the same run, for before/after ratios",
    )
    args = parser.parse_args()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not SOURCE.exists():
        print(f"skipped: {SOURCE} (the real Online Retail file the generator resamples) is absent")
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="mktai-bench-") as tmp:
        for size in args.sizes:
            rows = BASE_ROWS * size
            csv = make(rows, args.seed)
            measured = {}
            for _ in range(args.repeat):  # best of N: the machine may be shared
                for name, command in commands(csv, Path(tmp) / "out.parquet", args.before).items():
                    run = measure(command)
                    if name not in measured or run[0] < measured[name][0]:
                        measured[name] = run
                    os.remove(Path(tmp) / "out.parquet")
                    rejects = Path(tmp) / "out.rejects.csv"
                    if rejects.exists():
                        rejects.unlink()
            base_wall, base_cpu = measured["bare pyarrow"][:2]
            for name, (wall, cpu, rss) in measured.items():
                results.append(
                    (
                        f"{size}x",
                        rows,
                        name,
                        wall,
                        rows / wall,
                        base_wall / wall,
                        cpu,
                        base_cpu / cpu,
                        rss,
                    )
                )

    print(
        f"{'size':<5} {'rows':>10} {'tool':<13} {'wall s':>7} {'rows/s':>10} {'vs pyarrow':>10} "
        f"{'CPU s':>7} {'CPU vs pa':>9} {'peak RSS MB':>12}"
    )
    for size, rows, name, wall, rate, ratio, cpu, cpu_ratio, rss in results:
        print(
            f"{size:<5} {rows:>10,} {name:<13} {wall:>7.1f} {rate:>10,.0f} {ratio:>9.2f}x "
            f"{cpu:>7.1f} {cpu_ratio:>8.2f}x {rss:>12,.0f}"
        )
    mktai = {r[0]: r for r in results if r[2] == "mktai ingest"}
    pandas = {r[0]: r for r in results if r[2] == "naive pandas"}
    floor = {r[0]: r for r in results if r[2] == "text floor"}
    for size, row in mktai.items():
        print(
            f"{size}: mktai {row[5]:.2f}x bare pyarrow rows/s (target >= 0.5), "
            f"{pandas[size][3] / row[3]:.2f}x naive pandas rows/s (target > 1); "
            f"the text floor alone is {pandas[size][3] / floor[size][3]:.2f}x naive pandas"
        )
    before = {r[0]: r for r in results if r[2] == "mktai before"}
    for size, row in before.items():
        print(
            f"{size}: before {row[5]:.2f}x bare pyarrow; this tree {before[size][3] / mktai[size][3]:.2f}x "
            f"the rows/s of before, CPU {mktai[size][6]:.1f} s vs {row[6]:.1f} s"
        )
    if "1x" in mktai and "4x" in mktai:
        print(f"peak RSS 4x / 1x: mktai {mktai['4x'][8] / mktai['1x'][8]:.2f} (target ~1)")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
