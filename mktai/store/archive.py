"""Moving a version between stores as a .tar.gz, refusing archives that could escape the store.

Export writes NAME-vN/manifest.json plus the version's files (after verifying them). Import reads
regular files only, with plain relative paths: absolute paths, '..', symlinks, hard links and
devices are refused before anything is written. Every imported file is checked against the
archived manifest, and the version is published with a NEW number in the target store (numbers
are never reused, and aliases are never imported): the manifest records where it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mktai.errors import InputError, IntegrityError, StoreError
from mktai.store import layout
from mktai.store.integrity import check_files
from mktai.store.layout import MANIFEST
from mktai.store.manifest import utc_now

if TYPE_CHECKING:
    from mktai.store.store import Store, Version

MAX_MANIFEST_BYTES = 64 << 20


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


def _extract(path: Path, staging: Path) -> None:
    """Copy the archive's regular files into staging after checking every member's path."""
    import zlib

    try:
        with tarfile.open(path, "r:*") as archive:
            members = archive.getmembers()
            relpaths = [(m, _safe_relpath(m, path)) for m in members]
            tops = {rel.parts[0] for _m, rel in relpaths if rel.parts}
            if len(tops) != 1:
                raise InputError(
                    f"{path} is not a mktai export: expected one top directory NAME-vN/, "
                    f"found {len(tops)}"
                )
            root = staging.resolve()
            for member, rel in relpaths:
                if len(rel.parts) < 2 or not member.isfile():
                    continue
                target = staging.joinpath(*rel.parts[1:])
                if not target.resolve().is_relative_to(root):  # belt and braces
                    raise InputError(f"{path}: member {member.name!r} escapes the store")
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:  # pragma: no cover - isfile() members always have data
                    continue
                try:
                    with source, open(target, "xb") as out:
                        shutil.copyfileobj(source, out, 1 << 20)
                        out.flush()
                        os.fsync(out.fileno())  # durable before the version becomes visible
                except FileExistsError:
                    raise InputError(f"{path}: member {member.name!r} appears twice") from None
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        # tarfile lists every compression it tried on further lines: keep the first one only.
        detail = (str(exc).strip().splitlines() or ["unreadable"])[0].rstrip(": ")
        raise InputError(
            f"{path} is not a readable .tar.gz archive ({detail}); give a file written by "
            "`mktai models export`"
        ) from None


def _read_archived_manifest(staging: Path, path: Path) -> dict:
    manifest_path = staging / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{path} has no {MANIFEST}; it is not a mktai export")
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise InputError(f"{path}: {MANIFEST} is implausibly large")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise InputError(f"{path}: {MANIFEST} has no 'files' record; not a mktai export")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["StoreError", "export_version", "import_version"]
