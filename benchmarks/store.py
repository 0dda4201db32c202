"""Store overhead: save / load / list against plain file operations measured in the same run.

    .venv/bin/python benchmarks/store.py [--mb 128] [--models 50] [--versions 10]

Inputs (random bytes, fixed seed) are generated into benchmarks/_data/store/ on first use.
- save: Store.save (copy + sha256 + fsync + rename under the lock) vs shutil.copytree of the
  same files (no hashing, no fsync).
- load: Store.load (sha256 of every file) vs reading every byte without hashing, and vs bare
  hashlib over the same files (the floor for any verified load).
- list: Store.list over MODELS x VERSIONS versions vs json.load of every manifest via glob.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mktai.store import Store  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data" / "store"
SEED = 20261123


def make_inputs(total_mb: int, files: int = 8) -> Path:
    """files x (total_mb / files) MB of seeded random bytes (regenerated only if missing)."""
    folder = DATA / f"{total_mb}mb"
    size = total_mb * (1 << 20) // files
    if folder.is_dir() and all(
        (folder / f"part{i}.bin").is_file() and (folder / f"part{i}.bin").stat().st_size == size
        for i in range(files)
    ):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    for i in range(files):
        (folder / f"part{i}.bin").write_bytes(rng.randbytes(size))
    return folder


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=128)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--versions", type=int, default=10)
    args = parser.parse_args()
    source = make_inputs(args.mb)
    rows = []
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        work = Path(tmp)
        store = Store(work / "store")

        def copy_into(directory: Path) -> None:
            for path in sorted(source.iterdir()):
                shutil.copyfile(path, directory / path.name)

        counter = iter(range(10**6))

        def plain_copy() -> None:
            shutil.copytree(source, work / f"plain{next(counter)}")

        save_t = best(lambda: store.save("big", "demand", copy_into, {}))
        copy_t = best(plain_copy)
        rows.append((f"save {args.mb} MB", save_t, "copytree", copy_t))

        version = store.load("big")
        files = sorted(p for p in version.path.iterdir() if p.name != "manifest.json")

        def read_all() -> None:
            for path in files:
                with open(path, "rb") as handle:
                    while handle.read(1 << 20):
                        pass

        def hash_all() -> None:
            for path in files:
                digest = hashlib.sha256()
                with open(path, "rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):
                        digest.update(block)

        load_t = best(lambda: store.load("big"))
        rows.append((f"load {args.mb} MB (verified)", load_t, "read bytes", best(read_all)))
        rows.append((f"load {args.mb} MB (verified)", load_t, "bare sha256", best(hash_all)))

        small = Store(work / "many")
        for m in range(args.models):
            for _ in range(args.versions):
                small.save(
                    f"model{m:03d}",
                    "propensity",
                    lambda d: (d / "model.json").write_text("{}"),
                    {"algorithm": "gbm", "metrics": {"holdout": {"roc_auc": 0.8}}},
                )

        def glob_manifests() -> None:
            for path in sorted(small.root.glob("*/v*/manifest.json")):
                json.loads(path.read_text())

        n = args.models * args.versions
        rows.append((f"list {n} versions", best(small.list), "glob+json", best(glob_manifests)))

    print(f"{'operation':<28} {'mktai s':>9} {'baseline':<12} {'base s':>9} {'ratio':>7}")
    for label, ours, base_label, base in rows:
        print(f"{label:<28} {ours:>9.4f} {base_label:<12} {base:>9.4f} {ours / base:>6.2f}x")


if __name__ == "__main__":
    main()
