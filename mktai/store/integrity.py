"""sha256 of every file of a version, and the check that the files on disk still match."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mktai.store.layout import MANIFEST

CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stored version (a file, an alias, a manifest)."""

    ref: str
    file: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.ref}: {self.file}" if self.file else self.ref
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"ref": self.ref, "file": self.file, "problem": self.message}


def sha256_file(path: Path, *, fsync: bool = False) -> tuple[str, int]:
    """(hex sha256, size in bytes); with fsync=True also flushes the file to disk."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            block = os.read(fd, CHUNK)
            if not block:
                break
            digest.update(block)
            size += len(block)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def walk_files(directory: Path) -> tuple[list[str], list[str]]:
    """(regular files as posix relpaths, anything else: symlinks, devices…), manifest excluded."""
    files: list[str] = []
    odd: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
        base = Path(dirpath)
        for entry in list(dirnames):
            if (base / entry).is_symlink():
                odd.append((base / entry).relative_to(directory).as_posix())
                dirnames.remove(entry)
        for entry in filenames:
            full = base / entry
            rel = full.relative_to(directory).as_posix()
            if rel == MANIFEST:
                continue
            mode = os.lstat(full).st_mode
            (files if stat.S_ISREG(mode) else odd).append(rel)
    return sorted(files), sorted(odd)


def hash_tree(directory: Path, *, fsync: bool = False) -> dict[str, dict]:
    """{relpath: {sha256, bytes}} for every regular file under directory (manifest excluded)."""
    from mktai.errors import StoreError

    files, odd = walk_files(directory)
    if odd:
        raise StoreError(
            f"a model may contain only regular files, but {odd[0]!r} is a symlink or special "
            "file; write real files instead"
        )
    result = {}
    for rel in files:
        sha, size = sha256_file(directory / rel, fsync=fsync)
        result[rel] = {"sha256": sha, "bytes": size}
    return result


def check_files(directory: Path, recorded: dict, ref: str) -> list[Problem]:
    """Compare the files on disk with the manifest's record: missing, extra, truncated, changed."""
    problems: list[Problem] = []
    if not isinstance(recorded, dict):
        return [Problem(ref, MANIFEST, "manifest has no valid 'files' record")]
    files, odd = walk_files(directory)
    present = set(files)
    for rel in odd:
        problems.append(Problem(ref, rel, "is a symlink or special file, not a regular file"))
    for rel in sorted(recorded):
        entry = recorded[rel]
        if rel not in present:
            problems.append(Problem(ref, rel, "is missing"))
            continue
        want_sha = entry.get("sha256") if isinstance(entry, dict) else None
        want_bytes = entry.get("bytes") if isinstance(entry, dict) else None
        path = directory / rel
        size = path.stat().st_size
        if want_bytes is not None and size != want_bytes:
            kind = "truncated" if size < want_bytes else "longer than recorded"
            problems.append(
                Problem(ref, rel, f"is {kind} ({size} bytes, manifest says {want_bytes})")
            )
            continue
        sha, _ = sha256_file(path)
        if sha != want_sha:
            problems.append(Problem(ref, rel, "does not match its recorded sha256 (modified)"))
    for rel in sorted(present - set(recorded)):
        problems.append(Problem(ref, rel, "is not listed in the manifest (unexpected file)"))
    return problems
