"""The store's small JSON files: the shared atomic writer and encoder of mktai.files, and a
bounded reader (a manifest, alias or counter file over a few MB, or nested too deep, is hostile).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mktai.files import dumps, fsync_dir, write_json_atomic

__all__ = [
    "MAX_JSON_BYTES",
    "dumps",
    "fsync_dir",
    "read_json",
    "read_json_hashed",
    "write_json_atomic",
]

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
