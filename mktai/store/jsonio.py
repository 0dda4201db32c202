"""Small JSON files written atomically: temp file in the same directory, fsync, os.replace."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in `path` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def dumps(payload: Any) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False, default=_default)


def write_json_atomic(path: Path, payload: Any, *, tmp_dir: Path | None = None) -> None:
    """Readers see either the old or the new file, never half of one, even after kill -9.

    tmp_dir (same filesystem) holds the temporary file instead of path's directory: a process
    killed before the rename must not leave a stray file inside a checksummed version.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir or path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps(payload))
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


# The store's own JSON files (manifests, aliases, counters) are small; a bigger one is hostile.
MAX_JSON_BYTES = 16 << 20


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parsed JSON; ValueError for a file over max_bytes or nested too deep to parse."""
    with open(path, encoding="utf-8") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ValueError(f"{size:,} bytes, over the {max_bytes >> 20} MB a store file may have")
        try:
            return json.load(handle)
        except RecursionError:
            raise ValueError("nested too deeply to read") from None


def read_json_hashed(path: Path, max_bytes: int = MAX_JSON_BYTES) -> tuple[Any, str]:
    """(parsed JSON, sha256 of the bytes parsed): what was checked is what was hashed."""
    import hashlib

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ValueError(f"{size:,} bytes, over the {max_bytes >> 20} MB a store file may have")
        data = handle.read()
    try:
        return json.loads(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


def _default(value: Any) -> Any:
    """numpy scalars/arrays, dates and paths that callers put in manifests become plain JSON."""
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)
