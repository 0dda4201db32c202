"""One JSON encoder and one atomic writer for every layer (data, store, evaluation, cli).

Values that callers put in reports, manifests and summaries (NumPy scalars and arrays, pandas
timestamps, paths, sets, NaN) become plain JSON here and nowhere else; files are replaced
atomically here and nowhere else: a temporary file in the target's directory (or tmp_dir on
the same filesystem), fsync, os.replace, fsync of the directory. A reader sees the old file or
the new one, never half of one, even after kill -9.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def plain(value: Any) -> Any:
    """A JSON-safe deep copy: NumPy/pandas scalars -> Python, NaN/inf -> None, keys -> str."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (str, bytes, bool)) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    converted = json_default(value)
    return plain(converted) if converted is not value else value


def json_default(value: Any) -> Any:
    """json.dumps(default=...): NumPy values, dates, paths and sets as plain JSON."""
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp
        return value.isoformat()
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:  # NumPy scalar
        try:
            return item()
        except (ValueError, TypeError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # NumPy array, pandas Series
        return tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def dumps(payload: Any, *, indent: int | None = 2) -> str:
    """JSON text (UTF-8 kept readable, key order kept)."""
    return json.dumps(payload, indent=indent, ensure_ascii=False, default=json_default)


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


def write_atomic(
    path: Path,
    data: str | bytes,
    *,
    tmp_dir: Path | None = None,
    encoding: str = "utf-8",
    mode: int | None = None,
) -> None:
    """Replace `path` with `data` atomically (text is written in `encoding`).

    tmp_dir (same filesystem) holds the temporary file instead of path's directory: a process
    killed before the rename must not leave a stray file inside a checksummed version. mode:
    the file's permissions (default: mkstemp's owner-only 0600; user outputs pass
    `output_mode()` so they are created like any other file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else data
    # .NAME.PID.xxx.tmp: the writer names itself, so temp files of killed runs can be reclaimed
    prefix = f".{path.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=tmp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def output_mode() -> int:
    """0666 less the process umask: what open() would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(
    path: Path, payload: Any, *, tmp_dir: Path | None = None, mode: int | None = None
) -> None:
    write_atomic(path, dumps(payload) + "\n", tmp_dir=tmp_dir, mode=mode)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def process_alive(pid: int) -> bool:
    """Whether process PID still runs, so its temp files and staging are not reclaimed.

    A process owned by someone else, or one that cannot be checked, counts as alive: reclaiming
    a live writer's files would break it, keeping a dead one's only costs space until it is stale.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
