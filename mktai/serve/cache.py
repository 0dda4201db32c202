"""ModelCache: each served version loaded once, verified, and re-checked cheaply per request.

Per request the reference is re-resolved from a stat of the model's directory and aliases.json
(a moved alias or a new version is seen at once, no restart); the cached version's files are
stat-ed and fully re-hashed when they changed or every `verify_every` seconds. A version that
fails verification is refused with an IntegrityError naming it and dropped from the cache; the
other models keep being served. Loaded models are keyed by (name, version, content hash), so
two references to the same content share one model in memory.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.api.loaded import (
    BUILTIN,
    LoadedModel,
    builtin_sentiment,
    check_ref,
    file_stamp,
    load,
    model_names,
    resolve,
    reverify,
)
from mktai.errors import IntegrityError, MktaiError, ModelNotFound

MAX_LOADED = 16  # versions kept in memory beyond the served defaults (oldest use dropped)


@dataclass
class _Resolved:
    signature: tuple
    name: str
    version: int


@dataclass
class _Failure:
    stamp: tuple
    error: IntegrityError


class ModelCache:
    """Thread-safe: route handlers run in a thread pool."""

    def __init__(
        self, store: Path | str, served: list[str], *, all_models: bool, verify_every: float = 60.0
    ) -> None:
        self.root = Path(store)
        self.served = list(served)  # default refs ("response", "reviews@production")
        self.all_models = all_models
        self.verify_every = verify_every
        self._resolved: dict[str, _Resolved] = {}
        self._loaded: dict[tuple[str, int], tuple[LoadedModel, float]] = {}
        self._failed: dict[tuple[str, int], _Failure] = {}
        self._used: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, int], threading.Lock] = {}
        self._builtin: LoadedModel | None = None

    # ---------------------------------------------------------------- which refs are served
    def served_names(self) -> list[str]:
        """Names of the served models (every name in the store with --all)."""
        if self.all_models:
            return model_names(store=self.root)
        return [ref.split("@", 1)[0] for ref in self.served]

    def default_refs(self) -> list[str]:
        return model_names(store=self.root) if self.all_models else list(self.served)

    def ref_for(self, ref: str) -> str:
        """A URL ref -> the ref to resolve: a bare served name means its configured ref."""
        try:
            name = check_ref(ref)
        except Exception as exc:  # a malformed ref is the client's mistake, named
            raise ModelNotFound(f"{ref!r} is not a model reference ({exc})") from None
        if not self.all_models:
            by_name = {r.split("@", 1)[0]: r for r in self.served}
            if name not in by_name:
                shown = ", ".join(by_name) or "none"
                raise ModelNotFound(f"model {name!r} is not served here (served: {shown})")
            if ref == name:
                return by_name[name]
        return ref

    # ---------------------------------------------------------------- resolving, cheaply
    def _signature(self, name: str) -> tuple:
        directory = self.root / name
        try:
            st = os.stat(directory)
        except OSError:
            return ("missing",)
        try:
            al = os.stat(directory / "aliases.json")
            aliases = (al.st_mtime_ns, al.st_size, al.st_ino)
        except OSError:
            aliases = ()
        return (st.st_mtime_ns, st.st_ino, aliases)

    def resolve(self, ref: str) -> tuple[str, int]:
        """(name, version) for a ref; re-read from the store only when its directory changed."""
        name = ref.split("@", 1)[0]
        signature = self._signature(name)
        known = self._resolved.get(ref)
        if known is not None and known.signature == signature:
            return known.name, known.version
        resolved_name, number = resolve(ref, store=self.root)
        if len(self._resolved) > 1024:
            self._resolved.clear()
        self._resolved[ref] = _Resolved(signature, resolved_name, number)
        return resolved_name, number

    # ---------------------------------------------------------------- loading
    def builtin(self) -> LoadedModel:
        with self._lock:
            if self._builtin is None:
                self._builtin = builtin_sentiment()
            return self._builtin

    def get(self, ref: str) -> LoadedModel:
        """The verified, loaded version `ref` names now (IntegrityError / ModelNotFound)."""
        if ref == BUILTIN:
            return self.builtin()
        key = self.resolve(self.ref_for(ref))
        loaded = self._fresh(key)
        if loaded is not None:
            return loaded
        with self._key_lock(key):
            return self._load(key, time.monotonic())

    def peek(self, ref: str) -> LoadedModel | None:
        """What get(ref) answers when it needs no loading or re-hashing (a few stat calls),
        else None (get gives the model or the error): cheap enough for the event loop."""
        if ref == BUILTIN:
            return None
        try:
            key = self.resolve(self.ref_for(ref))
        except MktaiError:
            return None
        return self._fresh(key)

    def _fresh(self, key: tuple[str, int]) -> LoadedModel | None:
        """The cached version when verified less than verify_every ago and untouched since."""
        entry = self._loaded.get(key)
        if entry is None:
            return None
        loaded, verified_at = entry
        now = time.monotonic()
        if now - verified_at < self.verify_every and not loaded.changed_on_disk():
            self._used[key] = now
            return loaded
        return None

    def _key_lock(self, key: tuple[str, int]) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _load(self, key: tuple[str, int], now: float) -> LoadedModel:
        name, number = key
        entry = self._loaded.get(key)
        if entry is not None:  # another thread may have re-checked it while we waited
            loaded, verified_at = entry
            if now - verified_at < self.verify_every and not loaded.changed_on_disk():
                return loaded
        failure = self._failed.get(key)
        directory = self.root / name / f"v{number}"
        if failure is not None and failure.stamp == file_stamp(directory):
            raise failure.error  # unchanged since it failed: refuse again without re-hashing
        try:
            if entry is not None:
                fresh = reverify(entry[0], store=self.root)
            else:
                fresh = load(f"{name}@v{number}", store=self.root)
        except IntegrityError as exc:
            with self._lock:
                self._loaded.pop(key, None)
                self._failed[key] = _Failure(file_stamp(directory), exc)
            raise
        with self._lock:
            self._failed.pop(key, None)
            self._loaded[key] = (fresh, time.monotonic())
            self._used[key] = now
            self._evict()
        return fresh

    def _evict(self) -> None:
        keep = set()
        for ref in self.default_refs():
            known = self._resolved.get(ref)
            if known is not None:
                keep.add((known.name, known.version))
        extra = [k for k in self._loaded if k not in keep]
        extra.sort(key=lambda k: self._used.get(k, 0.0))
        for key in extra[: max(0, len(extra) - MAX_LOADED)]:
            self._loaded.pop(key, None)

    def status(self) -> dict[str, Any]:
        """{ref: "ok" | error message} for the currently loaded and failed versions."""
        out: dict[str, Any] = {}
        for (name, number), _entry in list(self._loaded.items()):
            out[f"{name}@v{number}"] = "ok"
        for (name, number), failure in list(self._failed.items()):
            out[f"{name}@v{number}"] = str(failure.error)
        return out
