"""Where things live in a store and how names and references are spelled.

STORE/NAME/vN/ holds one version, STORE/NAME/aliases.json its aliases, STORE/NAME/counter.json
the next version number (so numbers are never reused), STORE/.staging/ half-written versions and
STORE/.lock the lock file. Names are validated here so no name can escape the store directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mktai.errors import UsageError

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
VERSION_DIR_RE = re.compile(r"v([1-9][0-9]*)")
VERSION_REF_RE = re.compile(r"v?([1-9][0-9]*)")

MANIFEST = "manifest.json"
ALIASES = "aliases.json"
COUNTER = "counter.json"
STAGING = ".staging"
LOCK = ".lock"
LATEST = "latest"


def check_name(name: str) -> str:
    """Return the name if it is a valid model name, else raise UsageError."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name in (".", ".."):
        raise UsageError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. churn or churn-2024.q1)"
        )
    if name.endswith(".") and set(name) == {"."}:  # pragma: no cover - covered by the regex
        raise UsageError(f"invalid model name {name!r}")
    return name


def check_alias(alias: str) -> str:
    """Aliases start with a letter and never look like a version number (v3)."""
    if (
        not isinstance(alias, str)
        or not ALIAS_RE.fullmatch(alias)
        or VERSION_REF_RE.fullmatch(alias)
    ):
        raise UsageError(
            f"invalid alias {alias!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter and not of the form v<number> (e.g. production, staging, candidate)"
        )
    return alias


@dataclass(frozen=True)
class Ref:
    """A parsed reference: name plus either a version number, an alias, or neither (latest)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@v{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def parse_ref(ref: str) -> Ref:
    """'churn' (latest), 'churn@v3' or 'churn@3' (version 3), 'churn@production' (alias)."""
    if not isinstance(ref, str) or not ref:
        raise UsageError("a model reference looks like NAME, NAME@v3 or NAME@alias")
    name, sep, rest = ref.partition("@")
    check_name(name)
    if not sep:
        return Ref(name)
    if not rest:
        raise UsageError(f"model reference {ref!r} ends with '@': write NAME@v3 or NAME@alias")
    match = VERSION_REF_RE.fullmatch(rest)
    if match:
        return Ref(name, version=int(match.group(1)))
    return Ref(name, alias=check_alias(rest))


def version_dirname(version: int) -> str:
    return f"v{version}"


def version_of_dir(path: Path) -> int | None:
    """The version number of a directory named vN, or None for anything else."""
    match = VERSION_DIR_RE.fullmatch(path.name)
    return int(match.group(1)) if match else None


def version_numbers(name_dir: Path) -> list[int]:
    """Complete versions of one model, ascending (a version dir always holds its manifest)."""
    if not name_dir.is_dir():
        return []
    numbers = []
    for child in name_dir.iterdir():
        number = version_of_dir(child)
        if number is not None and child.is_dir() and (child / MANIFEST).is_file():
            numbers.append(number)
    return sorted(numbers)


def model_names(root: Path) -> list[str]:
    """Every model name in the store (hidden entries like .staging are never models)."""
    if not root.is_dir():
        return []
    return sorted(
        child.name
        for child in root.iterdir()
        if child.is_dir() and NAME_RE.fullmatch(child.name) and not child.name.startswith(".")
    )
