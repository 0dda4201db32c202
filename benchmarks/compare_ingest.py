"""Check that `mktai ingest` gives identical outputs, rejects and reports to another version.

The other version is a copy of the package from git (e.g. `git archive main mktai | tar -x -C
/tmp/oldmktai`); each file is ingested by both in separate processes and the clean parquet
(values and dtypes), the rejects CSV (bytes) and the JSON report (minus file paths) compared.

    python benchmarks/compare_ingest.py /tmp/oldmktai FILE [FILE ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(package_root: Path, source: Path, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "clean": out_dir / "clean.parquet",
        "rejects": out_dir / "rejects.csv",
        "report": out_dir / "report.json",
    }
    env = dict(os.environ, PYTHONPATH=str(package_root))
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    subprocess.run(
        [sys.executable, "-c", code, "ingest", str(source), "-o", str(paths["clean"]),
         "--rejects", str(paths["rejects"]), "--report", str(paths["report"]), "--quiet"],
        env=env, check=True, cwd=out_dir,
    )  # fmt: skip
    return paths


def _report(path: Path) -> dict:
    report = json.loads(path.read_text())
    for key in ("output", "rejects_file"):
        report.pop(key, None)
    return report


def compare(old_root: Path, source: Path) -> list[str]:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        old = run(old_root, source, Path(tmp) / "old")
        new = run(ROOT, source, Path(tmp) / "new")
        problems = []
        a, b = pd.read_parquet(old["clean"]), pd.read_parquet(new["clean"])
        if list(a.dtypes.astype(str)) != list(b.dtypes.astype(str)):
            problems.append(f"dtypes {list(a.dtypes.astype(str))} != {list(b.dtypes.astype(str))}")
        elif not a.equals(b):
            problems.append("clean values differ")
        ra = old["rejects"].read_bytes() if old["rejects"].exists() else b""
        rb = new["rejects"].read_bytes() if new["rejects"].exists() else b""
        if ra != rb:
            problems.append(f"rejects differ ({len(ra)} vs {len(rb)} bytes)")
        pa_, pb = _report(old["report"]), _report(new["report"])
        if pa_ != pb:
            keys = sorted(k for k in set(pa_) | set(pb) if pa_.get(k) != pb.get(k))
            problems.append(f"report differs in {keys}")
        return problems


def main() -> None:
    old_root = Path(sys.argv[1])
    failed = False
    for name in sys.argv[2:]:
        problems = compare(old_root, Path(name))
        failed |= bool(problems)
        print(f"{name}: {'identical' if not problems else '; '.join(problems)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
