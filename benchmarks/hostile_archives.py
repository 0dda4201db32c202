"""`models import` against hostile archives: time, peak memory and bytes left behind, against a
genuine export of the same store measured in the same run.

    .venv/bin/python benchmarks/hostile_archives.py [--bomb-mb 1024] [--entries 1000000]

Every archive is built for real with tarfile/gzip in a temp dir (a few MB each); each import runs
in its own process (`mktai models import`) so peak RSS is that import's alone.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mktai.store import Store  # noqa: E402


class Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        k = min(len(buffer), self.n)
        buffer[:k] = bytes(k)
        self.n -= k
        return k


def _add(tar: tarfile.TarFile, name: str, data: bytes | int) -> None:
    info = tarfile.TarInfo(name)
    if isinstance(data, int):
        info.size = data
        tar.addfile(info, io.BufferedReader(Zeros(data), 1 << 20))
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


MANIFEST = json.dumps({"format": 1, "name": "x", "version": 1, "kind": "demand", "files": {}})


def genuine(work: Path, mb: int) -> Path:
    store = Store(work / "source")
    block = os.urandom(1 << 20)

    def write(directory: Path) -> None:
        with open(directory / "weights.bin", "wb") as handle:
            for _ in range(mb):
                handle.write(block)

    store.save("model", "demand", write, {"algorithm": "bench"})
    return store.export("model", work / "genuine.tar.gz")


def gzip_bomb(work: Path, mb: int) -> Path:
    path = work / "bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        _add(tar, "x-v1/manifest.json", MANIFEST.encode())
        _add(tar, "x-v1/weights.bin", mb << 20)
    return path


def manifest_bomb(work: Path, mb: int) -> Path:
    path = work / "manifest-bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        _add(tar, "x-v1/manifest.json", mb << 20)
    return path


def sparse(work: Path, gb: int) -> Path:
    real = gb << 30
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, "x-v1/manifest.json", MANIFEST.encode())
    body = raw.getvalue().rstrip(b"\0")
    body += b"\0" * (-len(body) % 512)
    info = tarfile.TarInfo("x-v1/weights.bin")
    info.size = 512
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    header[156:157] = tarfile.GNUTYPE_SPARSE
    header[386:398] = b"%011o\0" % (real - 512)
    header[398:410] = b"%011o\0" % 512
    header[483:495] = b"%011o\0" % real
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    body += bytes(header[:512]) + b"\1" * 512 + b"\0" * 1024
    path = work / "sparse.tar.gz"
    path.write_bytes(gzip.compress(body))
    return path


def folders(work: Path, count: int) -> Path:
    path = work / "folders.tar.gz"
    with gzip.open(path, "wb", compresslevel=6) as handle:
        info = tarfile.TarInfo("x-v1/manifest.json")
        info.size = len(MANIFEST)
        handle.write(info.tobuf() + MANIFEST.encode() + b"\0" * (-len(MANIFEST) % 512))
        for i in range(count):
            entry = tarfile.TarInfo(f"x-v1/d{i}")
            entry.type = tarfile.DIRTYPE
            handle.write(entry.tobuf())
        handle.write(b"\0" * 1024)
    return path


def run_import(archive: Path, store: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS MB, first stderr line) of one `mktai models import`."""
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "models", "import", str(archive), "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024, (err or [""])[0]


def staged_bytes(store: Path) -> int:
    staging = store / ".staging"
    if not staging.exists():
        return 0
    return sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-mb", type=int, default=1024)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--genuine-mb", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mktai-hostile-") as tmp:
        work = Path(tmp)
        cases = [
            (f"genuine export ({args.genuine_mb} MB model)", genuine(work, args.genuine_mb)),
            (f"gzip bomb (one {args.bomb_mb:,} MB member)", gzip_bomb(work, args.bomb_mb)),
            (f"manifest.json of {args.bomb_mb:,} MB", manifest_bomb(work, args.bomb_mb)),
            ("GNU sparse member of 5 GB", sparse(work, 5)),
            (f"{args.entries:,} folder entries", folders(work, args.entries)),
        ]
        rows = []
        baseline = None
        for label, archive in cases:
            store = work / f"store-{len(rows)}"
            code, seconds, rss, line = run_import(archive, store)
            baseline = baseline or seconds
            rows.append(
                (label, archive.stat().st_size, code, seconds, rss, staged_bytes(store), line)
            )
        print(
            "| archive | archive size | exit | seconds | x genuine | peak RSS | left in .staging | message |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for label, size, code, seconds, rss, left, line in rows:
            message = line.replace("|", "/")[:90]
            print(
                f"| {label} | {size / 1024:,.0f} KB | {code} | {seconds:.2f} | "
                f"{seconds / baseline:.2f}x | {rss:,.0f} MB | {left:,} B | {message} |"
            )


if __name__ == "__main__":
    main()
