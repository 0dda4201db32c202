"""STORE/.staging/: half-written versions, each named after the process that owns it.

A staging directory is `<uuid>.<pid>.<host>`. A process killed mid-save or mid-import (kill -9,
OOM, power loss) leaves its directory behind, possibly hundreds of MB; every store write reclaims
such leftovers first: at once when the owner ran on this machine and is gone, otherwise when
nothing in it changed for STALE_SECONDS (an owner on another machine sharing the store).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from pathlib import Path

from mktai.files import process_alive

# A live writer touches its files continuously; an hour without a change means it is gone.
STALE_SECONDS = 3600.0
# A live owner on this machine keeps its directory, unless its pid was reused for this long.
LIVE_OWNER_SECONDS = 24 * 3600.0
TRASH_PREFIX = "trash-"
_NAME_RE = re.compile(r"[0-9a-f]{32}\.([0-9]+)(?:\.(.+))?")


def host_tag() -> str:
    """This machine's name as a safe file-name part (so another host's pids are not checked)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname() or "host")
    return name[:40] or "host"


def checked_base(base: Path) -> Path:
    """STORE/.staging, created if needed; refused when it is a symlink (writes and clean-ups
    would then happen outside the store). Raises OSError/StoreError."""
    from mktai.errors import StoreError

    if base.is_symlink():
        raise StoreError(
            f"{base} is a symbolic link (to {os.readlink(base)}); the store writes only inside "
            "itself: remove the link and retry"
        )
    base.mkdir(parents=True, exist_ok=True)
    return base


def new_staging(base: Path) -> Path:
    """A fresh, empty staging directory owned by this process."""
    path = base / f"{uuid.uuid4().hex}.{os.getpid()}.{host_tag()}"
    path.mkdir()
    return path


def _newest_mtime(path: Path) -> float:
    """Latest change anywhere in a staging entry (a big file being written keeps it fresh)."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for dirpath, _dirs, files in os.walk(path):
            for entry in files:
                try:
                    newest = max(newest, os.lstat(os.path.join(dirpath, entry)).st_mtime)
                except OSError:
                    continue
    return newest


def is_stale(entry: Path, now: float | None = None) -> bool:
    """True when no live process can still be writing this staging entry."""
    now = time.time() if now is None else now
    if entry.name.startswith(TRASH_PREFIX):
        return True  # a removed version waiting to be deleted
    try:
        age = now - _newest_mtime(entry)
    except OSError:
        return False  # vanished meanwhile
    match = _NAME_RE.fullmatch(entry.name)
    if match and entry.is_dir():
        pid, host = int(match.group(1)), match.group(2)
        if host is None or host == host_tag():  # older stores named it <uuid>.<pid>
            if pid == os.getpid():
                return False
            return not process_alive(pid) or age > LIVE_OWNER_SECONDS
    return age > STALE_SECONDS


def reclaim(base: Path) -> list[str]:
    """Delete stale staging entries; returns their names. Never raises for a busy entry."""
    removed: list[str] = []
    if base.is_symlink():
        return removed  # never delete through a link out of the store (see checked_base)
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not is_stale(entry, now):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        except OSError:
            continue
        removed.append(entry.name)
    return removed
