"""The store-wide lock, held only while allocating versions or rewriting small JSON files.

Writing model files happens outside the lock (in .staging/), so the lock is held for
milliseconds; a timeout therefore means a stuck process, and is reported as exit 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mktai.errors import LockTimeout, StoreError, UsageError
from mktai.store.layout import LOCK

DEFAULT_TIMEOUT = 60.0


def lock_timeout() -> float:
    """Seconds to wait for the lock: $MKTAI_LOCK_TIMEOUT, else 60."""
    raw = os.environ.get("MKTAI_LOCK_TIMEOUT")
    if raw is None or raw.strip() == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(
            f"MKTAI_LOCK_TIMEOUT={raw!r} is not a number of seconds; set e.g. MKTAI_LOCK_TIMEOUT=60"
        ) from None
    return max(value, 0.0)


@contextmanager
def store_lock(root: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold STORE/.lock (filelock works across processes and is released if the holder dies)."""
    from filelock import FileLock, Timeout

    wait = lock_timeout() if timeout is None else timeout
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(root / LOCK), timeout=wait)
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"another mktai process held the store lock {root / LOCK} for more than {wait:g} s; "
            "wait for it to finish or raise MKTAI_LOCK_TIMEOUT"
        ) from None
    except OSError as exc:
        raise _unchangeable(root, exc) from None
    try:
        yield
    except OSError as exc:  # every change to the store happens under this lock
        raise _unchangeable(root, exc) from exc
    finally:
        lock.release()


def _unchangeable(root: Path, exc: OSError) -> StoreError:
    """Exit 3 naming the store, instead of an internal error, for a read-only or broken store."""
    name = getattr(exc, "filename2", None) or exc.filename  # os.replace: the target
    where = f" ({name})" if name else ""
    return StoreError(
        f"the store {root} could not be changed: {exc.strerror or exc}{where}; check its "
        "permissions and free space, or choose another --store"
    )
