"""Manifest seals: the sha256 of each published manifest.json, recorded outside it, optionally
signed with HMAC-SHA256 under a store key.

STORE/NAME/index.json maps each version number to {sha256, hmac?, key_id?}; the store writes an
entry under its lock before a version becomes visible (publish, import) and whenever it rewrites
a manifest itself (evaluations, via a `pending` entry so a kill -9 in between is not "edited").

What it catches: a metric or threshold edited inside manifest.json with the file hashes left
alone is exit 3 on load and a problem in `models verify`. Without a key, the hash only catches
edits by anything that does not also rewrite index.json; with MKTAI_STORE_KEY (or the file named
by MKTAI_STORE_KEY_FILE) set, every version must carry a valid signature under that key, so a
shared store refuses versions it did not sign, and deleting the index does not help.
Versions published before seals existed have no entry: "unindexed", still loadable without a
key; `mktai models sign` records (and signs) their current manifest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.errors import UsageError

INDEX = "index.json"
KEY_ENV = "MKTAI_STORE_KEY"
KEY_FILE_ENV = "MKTAI_STORE_KEY_FILE"
MIN_KEY_BYTES = 16

UNINDEXED = "unindexed"  # published before manifest seals: loads, reported by verify
INDEXED = "indexed"  # its manifest hash is recorded (no signature)
SIGNED = "signed"  # recorded and signed; checked when the key is known


def store_key() -> bytes | None:
    """The signing key from $MKTAI_STORE_KEY or the file named by $MKTAI_STORE_KEY_FILE."""
    raw = os.environ.get(KEY_ENV, "")
    source = KEY_ENV
    if not raw and os.environ.get(KEY_FILE_ENV):
        path = Path(os.environ[KEY_FILE_ENV])
        source = f"{KEY_FILE_ENV}={path}"
        try:
            raw = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read the store key file {path}: {exc.strerror}") from None
    if not raw:
        return None
    key = raw.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"the store key ({source}) is {len(key)} bytes; use at least {MIN_KEY_BYTES} "
            "random bytes, e.g. `openssl rand -hex 32`"
        )
    return key


def key_id(key: bytes) -> str:
    """A short public name for a key (to say 'signed with another key')."""
    return hashlib.sha256(b"mktai-key-id\0" + key).hexdigest()[:12]


def manifest_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def signature(key: bytes, name: str, number: int, sha256: str) -> str:
    """HMAC over name, number and manifest hash: a signed manifest cannot move to another slot."""
    message = f"mktai-manifest/1\n{name}\n{number}\n{sha256}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def make_entry(name: str, number: int, sha256: str, key: bytes | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": sha256}
    if key is not None:
        entry["hmac"] = signature(key, name, number, sha256)
        entry["key_id"] = key_id(key)
    return entry


@dataclass(frozen=True)
class Seal:
    """What the index says about one version's manifest."""

    status: str  # UNINDEXED, INDEXED, SIGNED
    problem: str | None = None  # set when the version must not be trusted


def check(name: str, number: int, actual: str, entry: Any, key: bytes | None) -> Seal:
    """Compare a manifest's sha256 as read (`actual`) with its index entry (and signature,
    when the key is known)."""
    if entry is None:
        if key is not None:
            return Seal(
                UNINDEXED,
                f"is not signed with the store key ({KEY_ENV}); "
                f"check it and sign it with `mktai models sign {name}@v{number}`",
            )
        return Seal(UNINDEXED)
    if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
        return Seal(INDEXED, f"has a damaged entry in {INDEX}")
    accepted = [entry]
    pending = entry.get("pending")
    if isinstance(pending, dict) and isinstance(pending.get("sha256"), str):
        accepted.append(pending)  # the store was rewriting it when it was stopped
    match = next((e for e in accepted if hmac.compare_digest(e["sha256"], actual)), None)
    if match is None:
        return Seal(
            SIGNED if "hmac" in entry else INDEXED,
            f"manifest.json was edited after it was published (its sha256 is not the one "
            f"recorded in {INDEX})",
        )
    signed = isinstance(match.get("hmac"), str)
    if key is None:
        return Seal(SIGNED if signed else INDEXED)
    if not signed:
        return Seal(
            INDEXED,
            f"is not signed with the store key ({KEY_ENV}); check it and "
            f"sign it with `mktai models sign {name}@v{number}`",
        )
    expected = signature(key, name, number, actual)
    if not hmac.compare_digest(match["hmac"], expected):
        other = match.get("key_id")
        why = (
            f"was signed with another key (key id {other}, yours is {key_id(key)})"
            if isinstance(other, str) and other != key_id(key)
            else "has a signature that does not match its manifest (forged or edited)"
        )
        return Seal(SIGNED, why)
    return Seal(SIGNED)
