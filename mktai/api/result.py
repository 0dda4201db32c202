"""The base of every api result: a dataclass whose to_dict() is the `--json` summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class Result:
    """Subclasses add their fields; fields holding frames are left out of to_dict()."""

    warnings: list[str] = dataclasses.field(default_factory=list, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("internal") or _is_frame(value):
                continue
            out[f.name] = _plain(value)
        return out


def internal(default: Any = None) -> Any:
    """A field that to_dict() leaves out (a fitted model, a frame, a callback)."""
    return dataclasses.field(default=default, metadata={"internal": True})


def _is_frame(value: Any) -> bool:
    return type(value).__name__ in ("DataFrame", "Series") and hasattr(value, "to_dict")


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def store_root(store: str | Path | None) -> Path:
    """--store / store=: the given path, else $MKTAI_STORE, else ./mktai-store."""
    import os

    if store:
        return Path(store)
    return Path(os.environ.get("MKTAI_STORE") or "mktai-store")
