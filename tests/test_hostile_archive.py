"""Hostile archives for `models import`: bombs, sparse members, huge manifests, entry floods,
and what a SIGKILLed import leaves in .staging. Every archive is built for real with tarfile.

The importing CLI runs in a subprocess under RLIMIT_FSIZE (16 MiB per file), so a bomb that is
not stopped from its headers kills it with SIGXFSZ instead of filling the disk: the caps must
refuse before writing, with exit 2 and nothing left in .staging.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from mktai.store import Store

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
FSIZE_LIMIT = 16 << 20


class _Zeros(io.RawIOBase):
    """n zero bytes, streamed (the test never holds a bomb in memory)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - io API
        k = min(len(buffer), self.n)
        buffer[:k] = bytes(k)
        self.n -= k
        return k


def _zeros_sha(n: int) -> str:
    digest = hashlib.sha256()
    block = bytes(1 << 20)
    while n:
        k = min(n, len(block))
        digest.update(block[:k])
        n -= k
    return digest.hexdigest()


def _manifest(files: dict[str, int]) -> bytes:
    record = {rel: {"sha256": _zeros_sha(n), "bytes": n} for rel, n in files.items()}
    manifest = {"format": 1, "name": "bomb", "version": 1, "kind": "propensity", "files": record}
    return json.dumps(manifest).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes | int) -> None:
    info = tarfile.TarInfo(name)
    if isinstance(data, int):
        info.size = data
        tar.addfile(info, io.BufferedReader(_Zeros(data), 1 << 20))
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MKTAI_IMPORT_MAX_BYTES", None)
    return env


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


def _import(store: Path, archive: Path) -> subprocess.CompletedProcess:
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    return subprocess.run(
        [PYTHON, "-c", code, "models", "import", str(archive), "--store", str(store)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=180,  # generous: the suite shares 2 cores with other work
        preexec_fn=_limit_file_size,
    )


def _assert_refused(result: subprocess.CompletedProcess, store: Path, words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    staging = store / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert Store(store).names() == []


def test_gzip_bomb_member_is_refused_from_its_header(tmp_path: Path) -> None:
    size = 128 << 20  # 128 MiB of zeros in a ~130 KB archive: ~1000x compression
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
        _add(tar, "bomb-v1/manifest.json", _manifest({"weights.bin": size}))
        _add(tar, "bomb-v1/weights.bin", size)
    assert archive.stat().st_size < 1 << 20
    result = _import(tmp_path / "store", archive)
    _assert_refused(result, tmp_path / "store", "archive bomb")


def test_huge_manifest_is_refused_before_it_is_written(tmp_path: Path) -> None:
    archive = tmp_path / "manifest-bomb.tar.gz"
    padding = 40 << 20
    body = _manifest({})
    with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
        info = tarfile.TarInfo("bomb-v1/manifest.json")
        info.size = len(body) + padding
        stream = io.BufferedReader(io.BytesIO(body + b" " * padding))
        tar.addfile(info, stream)
    result = _import(tmp_path / "store", archive)
    _assert_refused(result, tmp_path / "store", "manifest.json")


def _sparse_header(name: str, real_size: int) -> bytes:
    """A GNU sparse member header ('S'): one 512-byte data block at the end of real_size."""
    info = tarfile.TarInfo(name)
    info.size = 512
    buf = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    buf[156:157] = tarfile.GNUTYPE_SPARSE
    buf[386:398] = b"%011o\0" % (real_size - 512)  # sparse map: offset of the data
    buf[398:410] = b"%011o\0" % 512  # and its length
    buf[483:495] = b"%011o\0" % real_size  # the size the file claims to have
    buf[148:156] = b" " * 8
    buf[148:156] = b"%06o\0 " % sum(buf[:512])
    return bytes(buf[:512])


def test_sparse_member_is_refused(tmp_path: Path) -> None:
    real_size = 1 << 30  # a 1 GiB file from 512 bytes of data
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, "bomb-v1/manifest.json", b'{"files": {}}')
    body = raw.getvalue().rstrip(b"\0")
    body += b"\0" * (-len(body) % 512)
    body += _sparse_header("bomb-v1/weights.bin", real_size) + b"\x01" * 512 + b"\0" * 1024
    archive = tmp_path / "sparse.tar.gz"
    import gzip

    archive.write_bytes(gzip.compress(body))
    assert archive.stat().st_size < 20_000
    with tarfile.open(archive) as check:  # a genuine sparse member, as tarfile sees it
        member = check.getmember("bomb-v1/weights.bin")
        assert member.issparse() and member.size == real_size
    result = _import(tmp_path / "store", archive)
    _assert_refused(result, tmp_path / "store", "sparse")


def test_flood_of_folder_entries_stops_at_the_entry_cap(tmp_path: Path) -> None:
    archive = tmp_path / "flood.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, "bomb-v1/manifest.json", _manifest({}))
        for i in range(12_000):
            info = tarfile.TarInfo(f"bomb-v1/d{i}")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    result = _import(tmp_path / "store", archive)
    _assert_refused(result, tmp_path / "store", "10,000 entries")


def test_oversized_extended_header_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "longname.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        _add(tar, "bomb-v1/" + "n" * (2 << 20), b"x")  # a 2 MiB GNU long name
    result = _import(tmp_path / "store", archive)
    _assert_refused(result, tmp_path / "store", "extended header")


STAGED_SAVER = r"""
import sys, time
from pathlib import Path
from mktai.store import Store

store, marker = Path(sys.argv[1]), Path(sys.argv[2])

def write(directory):
    (directory / "weights.bin").write_bytes(b"\xab" * (4 << 20))
    marker.write_text(str(directory))
    time.sleep(120)

Store(store).save("slow", "demand", write, {})
"""


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.01)


def _writer(root: Path, marker: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-c", STAGED_SAVER, str(root), str(marker)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_staging_left_by_a_killed_writer_is_reclaimed_by_the_next_import(tmp_path: Path) -> None:
    root = tmp_path / "store"
    source = Store(tmp_path / "source")
    source.save("churn", "propensity", lambda d: (d / "m.json").write_text("{}"), {})
    archive = source.export("churn", tmp_path / "churn.tar.gz")
    killed, alive = _writer(root, tmp_path / "killed"), _writer(root, tmp_path / "alive")
    try:
        _wait_for(tmp_path / "killed", killed)
        _wait_for(tmp_path / "alive", alive)
        left = Path((tmp_path / "killed").read_text())
        live = Path((tmp_path / "alive").read_text())
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        assert left.is_dir() and (left / "weights.bin").stat().st_size == 4 << 20
        result = _import(root, archive)
        assert result.returncode == 0, result.stderr
        assert not left.exists()  # its owner is dead: reclaimed at once
        assert live.is_dir()  # its owner is still writing: kept
        assert sorted(p.name for p in (root / ".staging").iterdir()) == [live.name]
        assert Store(root).load("churn").ref == "churn@v1"
    finally:
        for proc in (killed, alive):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.mark.parametrize("value", ["lots", "-1"])
def test_import_size_setting_is_checked(tmp_path: Path, value: str, monkeypatch) -> None:
    from mktai.errors import UsageError
    from mktai.store.archive import ImportLimits

    monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", value)
    with pytest.raises(UsageError, match="MKTAI_IMPORT_MAX_BYTES"):
        ImportLimits.from_env()
