"""The shape a manifest.json must have before anything reads a field from it.

A manifest comes from disk or from an imported archive, so it is hostile input: a `"bytes": null`,
a `files` list, a 10,000-deep nesting or a 5 GB file must be reported as a damaged version
(one line, exit 3 when addressed, "damaged" in `models list`), never crash the command that
stumbled on it. Only the fields the store and the CLI read are typed; the rest is free-form.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from mktai.store.layout import MANIFEST, NAME_RE

MAX_DEPTH = 32
MAX_NODES = 1_000_000
MAX_FILES = 10_000
SHA256_RE = re.compile(r"[0-9a-f]{64}")

# field -> allowed types (None allowed where the store itself writes null)
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "algorithm": (str, type(None)),
    "created_at": (str,),
    "mktai_version": (str,),
    "python": (str,),
    "platform": (str,),
    "libraries": (dict,),
    "metrics": (dict, type(None)),
    "params": (dict, type(None)),
    "input_schema": (dict, type(None)),
    "training_data": (dict, type(None)),
    "evaluations": (list,),
    "imported": (dict,),
    "warnings": (list, type(None)),
    "seed": (int, type(None)),
}


class ManifestError(ValueError):
    """The manifest does not have the shape the store writes (message: what is wrong)."""


def validate_manifest(manifest: Any, *, published: bool = True) -> dict[str, Any]:
    """Return the manifest if its shape is sound, else raise ManifestError saying what is not.

    published: a stored version's manifest must also carry its name and version number.
    """
    if not isinstance(manifest, dict):
        raise ManifestError(f"it is a JSON {type(manifest).__name__}, not an object")
    _check_depth(manifest)
    kind = manifest.get("kind")
    if not isinstance(kind, str) or not NAME_RE.fullmatch(kind):
        raise ManifestError(f"'kind' is {_show(kind)}, not a model kind")
    if published:
        name, version = manifest.get("name"), manifest.get("version")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ManifestError(f"'name' is {_show(name)}, not a model name")
        if not _is_int(version) or version < 1:
            raise ManifestError(f"'version' is {_show(version)}, not a version number")
    for key, types in _OPTIONAL.items():
        if key in manifest and not _has_type(manifest[key], types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ManifestError(f"'{key}' is {_show(manifest[key])}, not {wanted}")
    _check_files(manifest.get("files"))
    return manifest


def _check_files(files: Any) -> None:
    if not isinstance(files, dict):
        raise ManifestError(f"'files' is {_show(files)}, not a record of files")
    if len(files) > MAX_FILES:
        raise ManifestError(f"'files' lists {len(files):,} files (at most {MAX_FILES:,})")
    for rel, entry in files.items():
        parts = PurePosixPath(rel).parts
        if (
            not rel
            or rel.startswith("/")
            or "\\" in rel
            or "\x00" in rel
            or ".." in parts
            or rel == MANIFEST
        ):
            raise ManifestError(f"'files' names {rel!r}, which is not a plain relative path")
        if not isinstance(entry, dict):
            raise ManifestError(f"'files' entry {rel!r} is {_show(entry)}, not an object")
        sha, size = entry.get("sha256"), entry.get("bytes")
        if not isinstance(sha, str) or not SHA256_RE.fullmatch(sha):
            raise ManifestError(f"'files' entry {rel!r} has sha256 {_show(sha)}, not a hex digest")
        if not _is_int(size) or size < 0:
            raise ManifestError(f"'files' entry {rel!r} has bytes {_show(size)}, not a size")


def _check_depth(value: Any) -> None:
    """Iteratively (a recursive walk is what a deep manifest attacks)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ManifestError(f"it holds more than {MAX_NODES:,} values")
        if depth > MAX_DEPTH:
            raise ManifestError(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
