"""Moving a version between stores as a .tar.gz, refusing archives that could escape the store.

Export writes NAME-vN/manifest.json plus the version's files (after verifying them). Import reads
regular files only, with plain relative paths: absolute paths, '..', symlinks, hard links and
devices are refused before anything is written. Every imported file is checked against the
archived manifest, and the version is published with a NEW number in the target store (numbers
are never reused, and aliases are never imported): the manifest records where it came from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mktai.errors import InputError, IntegrityError, StoreError, UsageError
from mktai.store import layout
from mktai.store.integrity import check_files
from mktai.store.jsonio import read_json
from mktai.store.layout import MANIFEST
from mktai.store.manifest import utc_now
from mktai.store.schema import ManifestError, validate_manifest

if TYPE_CHECKING:
    from mktai.store.store import Store, Version

MAX_MANIFEST_BYTES = 16 << 20


def export_version(store: Store, ref: str, path: Path) -> Path:
    """Write a verified version to path (.tar.gz), atomically."""
    version = store.load(ref)
    path = Path(path)
    if path.is_dir():
        raise InputError(f"-o {path} is a directory; give a file name such as {path}/model.tar.gz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(
            f"cannot write the archive {path} ({exc.strerror or exc}); choose another -o"
        ) from None
    os.close(fd)
    prefix = f"{version.name}-v{version.version}"
    try:
        with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as archive:
            _add_file(archive, version.path / MANIFEST, f"{prefix}/{MANIFEST}")
            for rel in sorted(version.manifest.get("files", {})):
                _add_file(archive, version.path / rel, f"{prefix}/{rel}")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # e.g. the disk filled up: no half archive, one clear line
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"cannot write the archive {path} ({exc.strerror or exc}); choose another -o"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _add_file(archive: tarfile.TarFile, source: Path, arcname: str) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = source.stat().st_size
    info.mode = 0o644
    info.mtime = int(source.stat().st_mtime)
    with open(source, "rb") as handle:
        archive.addfile(info, handle)


def _safe_relpath(member: tarfile.TarInfo, archive_path: Path) -> PurePosixPath:
    """The member's path if it is a plain relative path inside the archive, else InputError."""
    name = member.name
    refuse = None
    if member.issym() or member.islnk():
        refuse = f"is a {'symbolic' if member.issym() else 'hard'} link"
    elif not (member.isfile() or member.isdir()):
        refuse = "is a device, fifo or other special file"
    elif name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        refuse = "has an absolute path"
    elif "\\" in name or "\x00" in name:
        refuse = "has a backslash or NUL in its path"
    else:
        parts = PurePosixPath(name).parts
        if any(part == ".." for part in parts):
            refuse = "has '..' in its path"
    if refuse:
        raise InputError(
            f"{archive_path}: refusing archive member {name!r}: it {refuse}, which could write "
            "outside the store; only mktai exports (`mktai models export`) can be imported"
        )
    return PurePosixPath(*[p for p in PurePosixPath(name).parts if p not in ("", ".")])


def import_version(store: Store, path: Path, name: str | None = None) -> Version:
    """Import an exported version as a new version of `name` (default: its original name)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; give a .tar.gz from export")
    staging = store._new_staging()
    try:
        _extract(path, staging)
        manifest = _read_archived_manifest(staging, path)
        original = f"{manifest.get('name')}@v{manifest.get('version')}"
        problems = check_files(staging, manifest.get("files"), original)
        if problems:
            raise IntegrityError(
                f"{path} is damaged: {problems[0]}; nothing was imported — export it again "
                "from a store where `mktai models verify` passes"
            )
        target_name = layout.check_name(name or str(manifest.get("name", "")))
        kind = manifest.get("kind")
        if not isinstance(kind, str) or not layout.NAME_RE.fullmatch(kind):
            raise InputError(f"{path}: the archived manifest has no valid 'kind'")
        manifest["imported"] = {
            "from": original,
            "archive": path.name,
            "archive_sha256": _sha256(path),
            "at": utc_now(),
        }
        (staging / MANIFEST).unlink()
        return store._publish(target_name, staging, manifest)
    except OSError as exc:  # e.g. the disk filled up while extracting
        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(
            f"could not import {path} into the store {store.root} ({exc.strerror or exc}); "
            "nothing was imported — check free space and permissions"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@dataclass(frozen=True)
class ImportLimits:
    """Caps checked from each member's header before its bytes are written, and again while
    they stream, so a bomb stops at its first breach with nothing left in .staging."""

    total_bytes: int = 4 << 30  # every file together, uncompressed
    file_bytes: int = 4 << 30  # one file
    manifest_bytes: int = MAX_MANIFEST_BYTES
    entries: int = 10_000  # files and folders
    ratio: int = 100  # uncompressed bytes per archive byte, checked past RATIO_FLOOR
    ratio_floor: int = 64 << 20

    @classmethod
    def from_env(cls) -> ImportLimits:
        """$MKTAI_IMPORT_MAX_BYTES (e.g. 8G, 500M) raises the byte caps for very large models."""
        raw = os.environ.get("MKTAI_IMPORT_MAX_BYTES", "").strip()
        if not raw:
            return cls()
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
        number, unit = (raw[:-1], raw[-1].upper()) if raw[-1:].upper() in units else (raw, "")
        try:
            value = int(float(number) * units.get(unit, 1))
        except ValueError:
            raise UsageError(
                f"MKTAI_IMPORT_MAX_BYTES={raw!r} is not a size; set e.g. MKTAI_IMPORT_MAX_BYTES=8G"
            ) from None
        if value <= 0:
            raise UsageError(f"MKTAI_IMPORT_MAX_BYTES={raw!r} must be more than 0")
        return cls(total_bytes=value, file_bytes=value)


MAX_HEADER_BYTES = 1 << 20


class _BoundedTarInfo(tarfile.TarInfo):
    """tarfile reads a long-name or pax header into memory whole: cap it before it does."""

    def _proc_gnulong(self, tarfile_obj):  # type: ignore[no-untyped-def]
        self._check_header_size()
        return super()._proc_gnulong(tarfile_obj)

    def _proc_pax(self, tarfile_obj):  # type: ignore[no-untyped-def]
        self._check_header_size()
        return super()._proc_pax(tarfile_obj)

    def _check_header_size(self) -> None:
        if self.size > MAX_HEADER_BYTES:
            raise tarfile.HeaderError(
                f"an extended header of {self.size:,} bytes (limit {MAX_HEADER_BYTES:,})"
            )


def _too_big(path: Path, what: str) -> InputError:
    return InputError(
        f"{path}: refusing the archive: {what}; nothing was imported (only exports of mktai "
        "models are accepted; for a genuinely larger model raise MKTAI_IMPORT_MAX_BYTES)"
    )


def _mb(num: int) -> str:
    return f"{num / (1 << 20):,.1f} MB"


def _extract(path: Path, staging: Path, limits: ImportLimits | None = None) -> None:
    """Copy the archive's regular files into staging after checking every member's header.

    One pass over the members (never the whole member list in memory): paths, types and caps
    are checked from each header before its data is read.
    """
    import lzma
    import zlib

    limits = limits or ImportLimits.from_env()
    archive_bytes = max(path.stat().st_size, 1)
    ratio_cap = max(limits.ratio_floor, limits.ratio * archive_bytes)
    top: str | None = None
    entries = 0
    declared = 0
    root = staging.resolve()
    try:
        with tarfile.open(path, "r:*", tarinfo=_BoundedTarInfo) as archive:
            for member in archive:
                entries += 1
                if entries > limits.entries:
                    raise _too_big(path, f"it holds more than {limits.entries:,} entries")
                if member.issparse():
                    raise InputError(
                        f"{path}: refusing archive member {member.name!r}: it is a sparse file, "
                        "which mktai exports never contain; nothing was imported"
                    )
                rel = _safe_relpath(member, path)
                if not rel.parts:
                    continue
                if top is None:
                    top = rel.parts[0]
                elif rel.parts[0] != top:
                    raise InputError(
                        f"{path} is not a mktai export: expected one top directory NAME-vN/, "
                        f"found {top!r} and {rel.parts[0]!r}"
                    )
                if len(rel.parts) < 2 or not member.isfile():
                    continue
                inner = "/".join(rel.parts[1:])
                cap = limits.manifest_bytes if inner == MANIFEST else limits.file_bytes
                if member.size > cap:
                    raise _too_big(
                        path, f"member {member.name!r} is {_mb(member.size)} (limit {_mb(cap)})"
                    )
                declared += member.size
                if declared > limits.total_bytes:
                    raise _too_big(path, f"its files add up to more than {_mb(limits.total_bytes)}")
                if declared > ratio_cap:
                    raise _too_big(
                        path,
                        f"it expands to more than {_mb(declared)} from {_mb(archive_bytes)} "
                        f"(over {limits.ratio}x compression: an archive bomb?)",
                    )
                target = staging.joinpath(*rel.parts[1:])
                if not target.resolve().is_relative_to(root):  # belt and braces
                    raise InputError(f"{path}: member {member.name!r} escapes the store")
                _copy_member(archive, member, target, path, cap)
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the file system failed (disk full, permissions): import_version says so
        # A corrupt stream raises without an errno (gzip's CRC check, bz2's "Invalid data
        # stream"); tarfile lists every compression it tried on further lines: keep the first.
        detail = (str(exc).strip().splitlines() or ["unreadable"])[0].rstrip(": ")
        raise InputError(
            f"{path} is not a readable .tar.gz archive ({detail}); give a file written by "
            "`mktai models export`"
        ) from None
    if top is None:
        raise InputError(f"{path} is empty; it is not a mktai export")


def _copy_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, path: Path, cap: int
) -> None:
    """Stream one member to target, counting bytes (never more than its header promised)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = archive.extractfile(member)
    if source is None:  # pragma: no cover - isfile() members always have data
        return
    written = 0
    try:
        with source, open(target, "xb") as out:
            while block := source.read(1 << 20):
                written += len(block)
                if written > min(cap, member.size):
                    raise _too_big(path, f"member {member.name!r} is larger than its header says")
                out.write(block)
            out.flush()
            os.fsync(out.fileno())  # durable before the version becomes visible
    except FileExistsError:
        raise InputError(f"{path}: member {member.name!r} appears twice") from None


def _read_archived_manifest(staging: Path, path: Path) -> dict:
    manifest_path = staging / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{path} has no {MANIFEST}; it is not a mktai export")
    try:
        manifest = read_json(manifest_path, max_bytes=MAX_MANIFEST_BYTES)
    except ValueError as exc:
        raise InputError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise InputError(f"{path}: {MANIFEST} has no 'files' record; not a mktai export")
    try:
        return validate_manifest(manifest, published=False)
    except ManifestError as exc:
        raise InputError(
            f"{path}: {MANIFEST} is damaged ({exc}); nothing was imported — export it again "
            "from a store where `mktai models verify` passes"
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["StoreError", "export_version", "import_version"]
