"""README "Model store": `models export` writes a verified version as a .tar.gz, atomically;
`models import` refuses any archive that could write outside the store, bombs and archives that
are not mktai exports, each with one exact line, and publishes a NEW version that records where
it came from. The CLI tests of this run in subprocesses, which mutation testing cannot credit:
these call store/archive.py in-process, on real archives built here with tarfile, and compare
every message whole and every limit at its exact edge.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import tarfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from mktai.errors import InputError, IntegrityError, StoreError, UsageError
from mktai.store import Store
from mktai.store import archive as arc
from mktai.store.archive import ImportLimits

REFUSE_TAIL = (
    ", which could write outside the store; only mktai exports (`mktai models export`) can be "
    "imported"
)
BIG_TAIL = (
    "; nothing was imported (only exports of mktai models are accepted; for a genuinely larger "
    "model raise MKTAI_IMPORT_MAX_BYTES)"
)
UNREADABLE_TAIL = "; give a file written by `mktai models export`"
DAMAGED_TAIL = (
    "; nothing was imported — export it again from a store where `mktai models verify` passes"
)


def _write(directory: Path) -> None:
    (directory / "weights.npz").write_bytes(bytes(range(256)) * 40)
    (directory / "vocab" / "deep").mkdir(parents=True)
    (directory / "vocab" / "words.json").write_text('["a", "b"]')
    (directory / "vocab" / "deep" / "ids.json").write_text("[1, 2]")


@pytest.fixture
def source(tmp_path: Path) -> Store:
    store = Store(tmp_path / "source")
    store.save("churn", "propensity", _write, {"algorithm": "gbm", "seed": 3})
    return store


def _tar(path: Path, members: list[tuple], fmt: int = tarfile.PAX_FORMAT) -> Path:
    """Members as (name, bytes) for files, (name, None) for folders, or ready TarInfo/data."""
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def _extract(path: Path, tmp_path: Path, limits: ImportLimits | None = None) -> dict[str, bytes]:
    """What _extract leaves in a fresh staging folder, as {relative path: bytes}."""
    staging = tmp_path / f"staging-{len(list(tmp_path.glob('staging-*')))}"
    staging.mkdir()
    arc._extract(path, staging, limits)
    return {
        p.relative_to(staging).as_posix(): p.read_bytes()
        for p in sorted(staging.rglob("*"))
        if p.is_file()
    }


def _refused(path: Path, tmp_path: Path, limits: ImportLimits | None = None) -> str:
    with pytest.raises(InputError) as caught:
        _extract(path, tmp_path, limits)
    assert caught.value.exit_code == 2
    return str(caught.value)


# --- export ---------------------------------------------------------------------------------


def test_export_writes_the_manifest_then_each_file_sorted_through_a_hidden_temp(
    source: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = source.load("churn")
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    target = tmp_path / "a" / "b" / "c.tar.gz"  # two missing folders
    assert arc.export_version(source, "churn", target) == target
    monkeypatch.undo()
    [(tmp, final)] = replaced
    assert final == str(target) and Path(tmp).parent == target.parent
    assert re.fullmatch(r"\.c\.tar\.gz\..+\.tmp", Path(tmp).name), tmp
    assert sorted(p.name for p in target.parent.iterdir()) == ["c.tar.gz"]
    with tarfile.open(target, "r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [
            "churn-v1/manifest.json",
            "churn-v1/vocab/deep/ids.json",
            "churn-v1/vocab/words.json",
            "churn-v1/weights.npz",
        ]
        for member in members:
            original = version.path / member.name.split("/", 1)[1]
            assert member.isfile() and member.mode == 0o644, member.name
            assert member.mtime == int(original.stat().st_mtime), member.name
            assert tar.extractfile(member).read() == original.read_bytes(), member.name


def test_export_refusals_are_one_exact_line(
    source: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError) as caught:
        arc.export_version(source, "churn", tmp_path)
    assert str(caught.value) == (
        f"-o {tmp_path} is a directory; give a file name such as {tmp_path}/model.tar.gz"
    )
    (tmp_path / "file").write_text("not a folder")
    blocked = tmp_path / "file" / "sub" / "c.tar.gz"
    with pytest.raises(InputError) as caught:
        arc.export_version(source, "churn", blocked)
    assert str(caught.value) == (
        f"cannot write the archive {blocked} (Not a directory); choose another -o"
    )

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "out" / "c.tar.gz"
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(InputError) as caught:
        arc.export_version(source, "churn", out)
    assert str(caught.value) == (
        f"cannot write the archive {out} (No space left on device); choose another -o"
    )
    assert list(out.parent.iterdir()) == []

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        arc.export_version(source, "churn", out)
    assert list(out.parent.iterdir()) == []  # Ctrl-C leaves no temp file either


# --- member names ---------------------------------------------------------------------------


def _info(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("m-v1/link", tarfile.SYMTYPE, "is a symbolic link"),
        ("m-v1/hard", tarfile.LNKTYPE, "is a hard link"),
        ("m-v1/dev", tarfile.CHRTYPE, "is a device, fifo or other special file"),
        ("m-v1/blk", tarfile.BLKTYPE, "is a device, fifo or other special file"),
        ("m-v1/fifo", tarfile.FIFOTYPE, "is a device, fifo or other special file"),
        ("/etc/passwd", tarfile.REGTYPE, "has an absolute path"),
        ("\\evil", tarfile.REGTYPE, "has an absolute path"),
        ("C:", tarfile.DIRTYPE, "has an absolute path"),
        ("C:x", tarfile.REGTYPE, "has an absolute path"),
        ("m-v1\\x", tarfile.REGTYPE, "has a backslash or NUL in its path"),
        ("m-v1/a\x00b", tarfile.REGTYPE, "has a backslash or NUL in its path"),
        ("m-v1/../x", tarfile.REGTYPE, "has '..' in its path"),
        ("..", tarfile.DIRTYPE, "has '..' in its path"),
    ],
)
def test_unsafe_member_names_are_refused_exactly(name: str, kind: bytes, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        arc._safe_relpath(_info(name, kind), Path("x.tar.gz"))
    assert str(caught.value) == (
        f"x.tar.gz: refusing archive member {name!r}: it {reason}{REFUSE_TAIL}"
    )


@pytest.mark.parametrize(
    ("name", "kind", "parts"),
    [
        ("a", tarfile.REGTYPE, ("a",)),
        ("ab", tarfile.REGTYPE, ("ab",)),
        ("m-v1/", tarfile.DIRTYPE, ("m-v1",)),
        ("./m-v1/./sub//w.json", tarfile.REGTYPE, ("m-v1", "sub", "w.json")),
        (".", tarfile.DIRTYPE, ()),
        ("m-v1/a:b..c", tarfile.REGTYPE, ("m-v1", "a:b..c")),
    ],
)
def test_plain_relative_names_are_kept(name: str, kind: bytes, parts: tuple) -> None:
    assert arc._safe_relpath(_info(name, kind), Path("x")) == PurePosixPath(*parts)


# --- extraction -----------------------------------------------------------------------------


def test_extract_copies_regular_files_below_the_one_top_folder(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "a.tar.gz",
        [
            ("./", None),  # skipped, not the end of the archive
            ("m-v1", b"a top-level file is not written"),
            ("m-v1/", None),
            ("m-v1/sub/", None),
            ("m-v1/manifest.json", b"{}"),
            ("m-v1/x/y/z.bin", b"deep"),
            ("m-v1/x/w.bin", b"beside"),
            ("m-v1/x/v.bin", b"and another"),
        ],
    )
    assert _extract(archive, tmp_path) == {
        "manifest.json": b"{}",
        "x/v.bin": b"and another",
        "x/w.bin": b"beside",
        "x/y/z.bin": b"deep",
    }


def test_extract_refuses_what_is_not_one_export(tmp_path: Path) -> None:
    two = _tar(tmp_path / "two.tar.gz", [("a-v1/manifest.json", b"{}"), ("b-v1/x", b"1")])
    assert _refused(two, tmp_path) == (
        f"{two} is not a mktai export: expected one top directory NAME-vN/, found 'a-v1' and 'b-v1'"
    )
    twice = _tar(tmp_path / "twice.tar.gz", [("m-v1/a", b"1"), ("m-v1/a", b"2")])
    assert _refused(twice, tmp_path) == f"{twice}: member 'm-v1/a' appears twice"
    for name, members in [("empty", []), ("dot", [("./", None)])]:
        empty = _tar(tmp_path / f"{name}.tar.gz", members)
        assert _refused(empty, tmp_path) == f"{empty} is empty; it is not a mktai export"
    link = tmp_path / "link.tar.gz"
    with tarfile.open(link, "w:gz") as tar:
        tar.addfile(_info("m-v1/manifest.json", tarfile.SYMTYPE))
    assert _refused(link, tmp_path).startswith(
        f"{link}: refusing archive member 'm-v1/manifest.json': it is a symbolic link"
    )


def test_entry_cap_at_its_edge(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [("m-v1/", None), ("m-v1/manifest.json", b"{}"),
                                           ("m-v1/a", b"1")])  # fmt: skip
    assert _extract(archive, tmp_path, ImportLimits(entries=3)) == {
        "manifest.json": b"{}",
        "a": b"1",
    }
    assert _refused(archive, tmp_path, ImportLimits(entries=2)) == (
        f"{archive}: refusing the archive: it holds more than 2 entries{BIG_TAIL}"
    )


def test_file_and_manifest_caps_at_their_edges(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [("m-v1/manifest.json", b"{}"), ("m-v1/a", b"x" * 10)])
    exact = ImportLimits(file_bytes=10, manifest_bytes=2)
    assert _extract(archive, tmp_path, exact) == {"manifest.json": b"{}", "a": b"x" * 10}
    assert _refused(archive, tmp_path, ImportLimits(file_bytes=10, manifest_bytes=1)) == (
        f"{archive}: refusing the archive: member 'm-v1/manifest.json' is 0.0 MB "
        f"(limit 0.0 MB){BIG_TAIL}"
    )
    assert "member 'm-v1/a' is 0.0 MB" in _refused(
        archive, tmp_path, ImportLimits(file_bytes=9, manifest_bytes=2)
    )
    big = _tar(tmp_path / "big.tar.gz", [("m-v1/manifest.json", b"{}"), ("m-v1/w", bytes(3 << 20))])
    assert _refused(big, tmp_path, ImportLimits(file_bytes=2 << 20)) == (
        f"{big}: refusing the archive: member 'm-v1/w' is 3.0 MB (limit 2.0 MB){BIG_TAIL}"
    )


def test_total_cap_adds_every_file(tmp_path: Path) -> None:
    members = [
        ("m-v1/manifest.json", b"{}"),
        ("m-v1/a", bytes(1 << 20)),
        ("m-v1/b", bytes(1 << 20)),
    ]
    archive = _tar(tmp_path / "a.tar.gz", members)
    total = (2 << 20) + 2
    assert len(_extract(archive, tmp_path, ImportLimits(total_bytes=total))) == 3
    assert _refused(archive, tmp_path, ImportLimits(total_bytes=total - 1)) == (
        f"{archive}: refusing the archive: its files add up to more than 2.0 MB{BIG_TAIL}"
    )


def test_compression_ratio_cap_at_its_edges(tmp_path: Path) -> None:
    members = [("m-v1/manifest.json", b"{}"), ("m-v1/a", bytes(3 << 20))]
    archive = _tar(tmp_path / "a.tar.gz", members)
    declared, size = (3 << 20) + 2, archive.stat().st_size
    assert declared % size  # so that the floor below is strictly under the declared bytes
    floor, ceil = declared // size, declared // size + 1
    assert len(_extract(archive, tmp_path, ImportLimits(ratio=0, ratio_floor=declared))) == 2
    assert len(_extract(archive, tmp_path, ImportLimits(ratio=ceil, ratio_floor=0))) == 2
    assert _refused(archive, tmp_path, ImportLimits(ratio=floor, ratio_floor=0)) == (
        f"{archive}: refusing the archive: it expands to more than 3.0 MB from "
        f"{size / (1 << 20):,.1f} MB (over {floor}x compression: an archive bomb?){BIG_TAIL}"
    )
    assert "over 1x compression" in _refused(
        archive, tmp_path, ImportLimits(ratio=1, ratio_floor=declared - 1)
    )


def test_sizes_are_shown_in_megabytes() -> None:
    assert arc._mb(0) == "0.0 MB" and arc._mb(3 << 20) == "3.0 MB"
    assert arc._mb(1536 << 10) == "1.5 MB" and arc._mb(2 << 30) == "2,048.0 MB"


def test_import_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    default = ImportLimits()
    for raw, value in [
        ("8G", 8 << 30),
        ("500m", 500 << 20),
        (" 2k ", 2 << 10),
        ("1T", 1 << 40),
        ("1.5K", 1536),
        ("100", 100),
        ("1", 1),
    ]:
        monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", raw)
        assert ImportLimits.from_env() == ImportLimits(total_bytes=value, file_bytes=value), raw
    for raw in ["", "   "]:
        monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", raw)
        assert ImportLimits.from_env() == default
    monkeypatch.delenv("MKTAI_IMPORT_MAX_BYTES")
    assert ImportLimits.from_env() == default
    for raw in ["0", "-1", "0.5", "0K"]:
        monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", raw)
        with pytest.raises(UsageError) as caught:
            ImportLimits.from_env()
        assert str(caught.value) == f"MKTAI_IMPORT_MAX_BYTES={raw!r} must be more than 0"
    for raw in ["lots", "K", "8GB", "1e"]:
        monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", raw)
        with pytest.raises(UsageError) as caught:
            ImportLimits.from_env()
        assert str(caught.value) == (
            f"MKTAI_IMPORT_MAX_BYTES={raw!r} is not a size; set e.g. MKTAI_IMPORT_MAX_BYTES=8G"
        )


def test_default_limits_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [("m-v1/manifest.json", b"{}"), ("m-v1/a", b"x" * 10)])
    monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", "9")
    assert "member 'm-v1/a' is 0.0 MB" in _refused(archive, tmp_path)
    monkeypatch.setenv("MKTAI_IMPORT_MAX_BYTES", "12")
    assert _extract(archive, tmp_path) == {"manifest.json": b"{}", "a": b"x" * 10}


def _sparse(tmp_path: Path) -> Path:
    """A GNU sparse member ('S') claiming 1 MiB from one 512-byte block."""
    info = tarfile.TarInfo("m-v1/w.bin")
    info.size = 512
    buf = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    buf[156:157] = tarfile.GNUTYPE_SPARSE
    buf[386:398] = b"%011o\0" % ((1 << 20) - 512)
    buf[398:410] = b"%011o\0" % 512
    buf[483:495] = b"%011o\0" % (1 << 20)
    buf[148:156] = b" " * 8
    buf[148:156] = b"%06o\0 " % sum(buf[:512])
    path = tmp_path / "sparse.tar.gz"
    path.write_bytes(gzip.compress(bytes(buf[:512]) + b"\x01" * 512 + b"\0" * 1024))
    return path


def test_sparse_member_is_refused(tmp_path: Path) -> None:
    archive = _sparse(tmp_path)
    assert _refused(archive, tmp_path) == (
        f"{archive}: refusing archive member 'm-v1/w.bin': it is a sparse file, which mktai "
        "exports never contain; nothing was imported"
    )


@pytest.mark.parametrize(("fmt", "over"), [(tarfile.GNU_FORMAT, 2), (tarfile.PAX_FORMAT, 15)])
def test_extended_headers_are_capped_at_one_mebibyte(tmp_path: Path, fmt: int, over: int) -> None:
    limit = 1 << 20
    for size in (limit, limit + 1):
        name = "n" * (size - over)  # a top folder whose long name takes `size` header bytes
        path = _tar(tmp_path / f"h{fmt}-{size}.tar.gz", [(name, None)], fmt=fmt)
        first = tarfile.TarInfo.frombuf(gzip.decompress(path.read_bytes())[:512], "utf-8", "strict")
        assert first.type in (tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE) and first.size == size
        if size == limit:
            assert _extract(path, tmp_path) == {}
        else:
            assert _refused(path, tmp_path) == (
                f"{path} is not a readable .tar.gz archive (an extended header of 1,048,577 "
                f"bytes (limit 1,048,576)){UNREADABLE_TAIL}"
            )


def _fixed_tar(text: bytes = b"abc" * 100_000) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in [("m-v1/manifest.json", b"{}"), ("m-v1/t.txt", text)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _flipped(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


def test_unreadable_archives_are_one_line_input_errors(tmp_path: Path) -> None:
    """Truncated or corrupt streams of every compression tarfile opens are exit 2, not exit 3
    ("check free space") or 70: gzip's CRC error is an OSError without errno, xz's LZMAError is
    no OSError at all (both were wrong before)."""
    raw = _fixed_tar()
    compressed = gzip.compress(raw, mtime=0)
    # without the end-of-archive blocks tarfile reads to the end of the gzip stream, so the
    # gzip trailer (CRC32, then length) is checked
    unended = raw.rstrip(b"\0") + b"\0" * (-len(raw.rstrip(b"\0")) % 512)
    whole = gzip.compress(unended, mtime=0)
    noise = bz2.compress(
        _fixed_tar(hashlib.shake_256(b"seed 3").digest(1_000_000))
    )  # two bz2 blocks
    stored = int.from_bytes(_flipped(whole, len(whole) - 8)[-8:-4], "little")
    crc = f"CRC check failed {hex(stored)} != {hex(zlib.crc32(unended))}"
    opened = "file could not be opened successfully"  # the first of tarfile's lines, no colon
    cases = {
        "plain": (b"hello", opened),
        "empty": (b"", opened),
        "truncated": (
            compressed[: len(compressed) // 2],
            "Compressed file ended before the end-of-stream marker was reached",
        ),
        "crc": (_flipped(whole, len(whole) - 8), crc),
        "length": (_flipped(whole, len(whole) - 2), "Incorrect length of data produced"),
        "xz": (_flipped(lzma.compress(raw), 200), "Corrupt input data"),
        "bz2": (_flipped(bz2.compress(raw), 100), opened),
        "bz2-block": (_flipped(noise, len(noise) - 50_000), "Invalid data stream"),
    }
    for label, (data, detail) in cases.items():
        path = tmp_path / f"{label}.tar.gz"
        path.write_bytes(data)
        assert _refused(path, tmp_path) == (
            f"{path} is not a readable .tar.gz archive ({detail}){UNREADABLE_TAIL}"
        ), label


# --- import ---------------------------------------------------------------------------------


def test_import_records_where_the_version_came_from(source: Store, tmp_path: Path) -> None:
    archive = source.export("churn", tmp_path / "c.tar.gz")
    target = Store(tmp_path / "target")
    before = datetime.now(UTC).replace(microsecond=0)
    version = arc.import_version(target, archive)
    after = datetime.now(UTC)
    assert version.ref == "churn@v1" and version.kind == "propensity"
    imported = version.manifest["imported"]
    assert set(imported) == {"from", "archive", "archive_sha256", "at"}
    assert imported["from"] == "churn@v1" and imported["archive"] == "c.tar.gz"
    assert imported["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    at = datetime.strptime(imported["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= at <= after
    on_disk = json.loads((version.path / "manifest.json").read_text())
    assert on_disk["imported"] == imported and on_disk["name"] == "churn"
    assert on_disk["files"] == source.load("churn").manifest["files"]
    assert target.verify() == []
    renamed = arc.import_version(target, archive, name="other")
    assert renamed.ref == "other@v1" and renamed.manifest["imported"]["from"] == "churn@v1"
    assert target.load("churn@v1").manifest["imported"] == imported


def test_import_of_a_big_archive_hashes_all_of_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    noise = hashlib.shake_256(b"seed 7").digest(3 << 20)  # incompressible: a > 1 MiB archive
    store.save("big", "demand", lambda d: (d / "w.bin").write_bytes(noise), {})
    archive = store.export("big", tmp_path / "big.tar.gz")
    assert archive.stat().st_size > 3 << 20
    version = Store(tmp_path / "t").import_(archive)
    assert version.manifest["imported"]["archive_sha256"] == (
        hashlib.sha256(archive.read_bytes()).hexdigest()
    )


def _repacked(source: Store, tmp_path: Path, change) -> Path:  # noqa: ANN001 - a callback
    """The real export with its manifest (a dict) or file bytes changed by change(name, data)."""
    good = source.export("churn", tmp_path / "good.tar.gz")
    members = []
    with tarfile.open(good) as tar:
        for info in tar.getmembers():
            data = change(info.name, tar.extractfile(info).read())
            if data is not None:
                members.append((info.name, data))
    return _tar(tmp_path / "changed.tar.gz", members)


def _manifest_change(edit):  # noqa: ANN001, ANN202 - a callback
    def change(name: str, data: bytes) -> bytes:
        if name.endswith("/manifest.json"):
            manifest = json.loads(data)
            edit(manifest)
            return json.dumps(manifest).encode()
        return data

    return change


def _import_refused(target: Store, archive: Path, kind: type = InputError) -> str:
    with pytest.raises(kind) as caught:
        arc.import_version(target, archive)
    assert target.names() == [] and list((target.root / ".staging").iterdir()) == []
    return str(caught.value)


def test_import_refusals_name_the_archive_and_what_is_wrong(source: Store, tmp_path: Path) -> None:
    target = Store(tmp_path / "target")
    with pytest.raises(InputError) as caught:
        arc.import_version(target, tmp_path)
    assert str(caught.value) == (
        f"{tmp_path} does not exist or is not a file; give a .tar.gz from export"
    )

    def flip(name: str, data: bytes) -> bytes:
        return data[:10] + b"\xff" + data[11:] if name.endswith("weights.npz") else data

    tampered = _repacked(source, tmp_path, flip)
    assert _import_refused(target, tampered, IntegrityError) == (
        f"{tampered} is damaged: churn@v1: weights.npz: does not match its recorded sha256 "
        f"(modified){DAMAGED_TAIL}"
    )
    no_manifest = _repacked(source, tmp_path, lambda n, d: None if "manifest" in n else d)
    assert _import_refused(target, no_manifest) == (
        f"{no_manifest} has no manifest.json; it is not a mktai export"
    )
    not_json = _repacked(source, tmp_path, lambda n, d: b"{not json" if "manifest" in n else d)
    assert _import_refused(target, not_json) == (
        f"{not_json}: manifest.json is not valid JSON (Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1))"
    )
    for text in [b"[]", b'{"kind": "propensity", "files": []}']:
        shape = _repacked(source, tmp_path, lambda n, d, t=text: t if "manifest" in n else d)
        assert _import_refused(target, shape) == (
            f"{shape}: manifest.json has no 'files' record; not a mktai export"
        )
    bad_kind = _repacked(source, tmp_path, _manifest_change(lambda m: m.update(kind="no kind")))
    assert _import_refused(target, bad_kind) == (
        f"{bad_kind}: manifest.json is damaged ('kind' is 'no kind', not a model kind)"
        f"{DAMAGED_TAIL}"
    )
    nameless = _repacked(source, tmp_path, _manifest_change(lambda m: m.pop("name")))
    assert _import_refused(target, nameless, UsageError) == (
        "invalid model name '': use 1-64 letters, digits, '.', '_' or '-', starting with a "
        "letter or digit (e.g. churn or churn-2024.q1)"
    )
    assert arc.import_version(target, nameless, name="named").ref == "named@v1"
    assert target.load("named").manifest["imported"]["from"] == "None@v1"


def test_import_failures_leave_nothing_staged(
    source: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = source.export("churn", tmp_path / "c.tar.gz")
    target = Store(tmp_path / "target")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert _import_refused(target, archive, StoreError) == (
        f"could not import {archive} into the store {target.root} (No space left on device); "
        "nothing was imported — check free space and permissions"
    )

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    _import_refused(target, archive, KeyboardInterrupt)
    monkeypatch.undo()
    assert arc.import_version(target, archive).ref == "churn@v1"
