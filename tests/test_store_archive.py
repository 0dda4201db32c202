"""Export/import of versions: round trip, new version numbers, and refusal of hostile archives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from mktai.errors import InputError, IntegrityError, UsageError
from mktai.store import Store


def _write(directory: Path) -> None:
    (directory / "weights.npz").write_bytes(bytes(range(256)) * 40)
    (directory / "vocab").mkdir()
    (directory / "vocab" / "words.json").write_text(json.dumps(["好", "bad"]), encoding="utf-8")


@pytest.fixture
def source(tmp_path: Path) -> Store:
    store = Store(tmp_path / "source")
    store.save("churn", "propensity", _write, {"algorithm": "gbm", "seed": 3})
    store.tag("churn@v1", "production")
    return store


def test_round_trip_allocates_new_number_and_keeps_bytes(source: Store, tmp_path: Path) -> None:
    archive = source.export("churn@production", tmp_path / "out" / "churn.tar.gz")
    target = Store(tmp_path / "target")
    target.save("churn", "propensity", _write, {"algorithm": "linear"})
    imported = target.import_(archive)
    assert imported.ref == "churn@v2"  # v1 was taken: imports never overwrite or reuse numbers
    loaded = target.load("churn@v2")
    assert loaded.manifest["algorithm"] == "gbm" and loaded.manifest["seed"] == 3
    assert loaded.manifest["imported"]["from"] == "churn@v1"
    assert loaded.manifest["files"] == source.load("churn@v1").manifest["files"]
    for rel in loaded.manifest["files"]:
        assert (loaded.path / rel).read_bytes() == (source.load("churn").path / rel).read_bytes()
    assert "production" not in target.aliases("churn")  # aliases are per store
    renamed = target.import_(archive, name="churn-old")
    assert renamed.ref == "churn-old@v1" and target.verify() == []


def test_export_member_names(source: Store, tmp_path: Path) -> None:
    archive = source.export("churn", tmp_path / "c.tar.gz")
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
    assert names == ["churn-v1/manifest.json", "churn-v1/vocab/words.json", "churn-v1/weights.npz"]


def _hostile(tmp_path: Path, source: Store, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A genuine export with one extra hostile member appended."""
    good = source.export("churn", tmp_path / "good.tar.gz")
    path = tmp_path / "hostile.tar.gz"
    with tarfile.open(good) as src, tarfile.open(path, "w:gz") as dst:
        for item in src.getmembers():
            dst.addfile(item, src.extractfile(item))
        dst.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 4):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_member("churn-v1/../../escaped.txt"), "'..'"),
        (_member("../escaped.txt"), "'..'"),
        (_member("/tmp/mktai-escaped.txt"), "absolute"),
        (_member("churn-v1/link", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
        (_member("churn-v1/hard", tarfile.LNKTYPE, "churn-v1/weights.npz"), "hard link"),
        (_member("churn-v1/dev", tarfile.CHRTYPE), "device"),
        (_member("churn-v1/fifo", tarfile.FIFOTYPE), "device, fifo"),
    ],
)
def test_import_refuses_escaping_members(
    source: Store, tmp_path: Path, member: tarfile.TarInfo, reason: str
) -> None:
    archive = _hostile(tmp_path, source, member, b"evil")
    target = Store(tmp_path / "nested" / "target")
    with pytest.raises(InputError, match=reason) as info:
        target.import_(archive)
    assert info.value.exit_code == 2
    assert target.list() == []
    assert (
        not (tmp_path / "escaped.txt").exists()
        and not (tmp_path / "nested" / "escaped.txt").exists()
    )
    assert not Path("/tmp/mktai-escaped.txt").exists()
    assert list((target.root / ".staging").iterdir()) == []


def test_import_refuses_tampered_or_extra_content(source: Store, tmp_path: Path) -> None:
    good = source.export("churn", tmp_path / "good.tar.gz")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(good) as src, tarfile.open(tampered, "w:gz") as dst:
        for item in src.getmembers():
            data = src.extractfile(item).read()
            if item.name.endswith("weights.npz"):
                data = data[:100] + b"\xff" + data[101:]
            dst.addfile(item, io.BytesIO(data))
    extra = _hostile(tmp_path, source, _member("churn-v1/run_me.py"), b"evil")
    target = Store(tmp_path / "target")
    with pytest.raises(IntegrityError, match="weights.npz"):
        target.import_(tampered)
    with pytest.raises(IntegrityError, match="run_me.py"):
        target.import_(extra)
    assert target.list() == []


def test_import_rejects_non_archives_and_bad_names(source: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    target = Store(tmp_path / "target")
    with pytest.raises(InputError) as raised:
        target.import_(junk)
    assert "\n" not in str(raised.value)  # one clear line, not tarfile's list of tries
    plain = tmp_path / "plain.tar.gz"
    plain.write_bytes(b"hello")
    with pytest.raises(InputError, match="not a readable") as raised:
        target.import_(plain)
    assert "\n" not in str(raised.value)
    with pytest.raises(InputError, match="does not exist"):
        target.import_(tmp_path / "missing.tar.gz")
    archive = source.export("churn", tmp_path / "c.tar.gz")
    with pytest.raises(UsageError):
        target.import_(archive, name="../evil")
    assert target.list() == []


def test_export_refuses_damaged_version(source: Store, tmp_path: Path) -> None:
    (source.load("churn").path / "weights.npz").write_bytes(b"truncated")
    with pytest.raises(IntegrityError):
        source.export("churn", tmp_path / "c.tar.gz")
    assert not (tmp_path / "c.tar.gz").exists()


def test_imported_files_are_fsynced_before_they_become_visible(
    source: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN §3: a version is fsynced before its rename, for imports as for saves."""
    import os
    import stat

    archive = source.export("churn", tmp_path / "c.tar.gz")
    synced: set[int] = set()
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            synced.add(info.st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    version = Store(tmp_path / "target").import_(archive)
    for rel in version.manifest["files"]:
        assert (version.path / rel).stat().st_ino in synced, rel


def test_export_to_a_directory_or_unwritable_place_is_one_clear_error(
    source: Store, tmp_path: Path
) -> None:
    # these were "internal error" (exit 70) with an OSError text
    with pytest.raises(InputError, match="is a directory"):
        source.export("churn", tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(InputError, match="cannot write the archive"):
        source.export("churn", blocker / "sub" / "c.tar.gz")


def test_export_that_fails_midway_leaves_no_archive(
    source: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(InputError, match="No space left"):
        source.export("churn", tmp_path / "out" / "c.tar.gz")
    assert list((tmp_path / "out").iterdir()) == []  # neither the archive nor its temp file
