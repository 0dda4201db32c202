"""The local artifact store: versioned, checksummed model directories with aliases.

Every write goes to STORE/.staging/ first and becomes visible with one atomic rename under the
store lock, so a crash never leaves a half version and concurrent savers get distinct numbers.
Reading only parses JSON and hashes files; nothing from an artifact is ever executed here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.errors import IntegrityError, ModelNotFound, StoreError, UsageError
from mktai.store import layout, seal
from mktai.store import staging as staging_dirs
from mktai.store.integrity import Problem, check_files, hash_tree
from mktai.store.jsonio import (
    dumps,
    fsync_dir,
    read_json,
    read_json_hashed,
    write_json_atomic,
)
from mktai.store.layout import ALIASES, COUNTER, LATEST, MANIFEST, STAGING, Ref, parse_ref
from mktai.store.lock import store_lock
from mktai.store.manifest import build_manifest, headline_metrics, utc_now
from mktai.store.schema import ManifestError, validate_manifest


@dataclass
class Version:
    """One stored version: its directory and its manifest (already verified if from load)."""

    name: str
    version: int
    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str | None = None  # of manifest.json as read (for its seal)

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def kind(self) -> str | None:
        return self.manifest.get("kind")

    def __str__(self) -> str:
        return self.ref


class Store:
    """A directory of models: STORE/NAME/vN/{manifest.json, files…} plus aliases per name."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # ------------------------------------------------------------------ paths and small files
    def _name_dir(self, name: str) -> Path:
        return self.root / layout.check_name(name)

    def _staging(self) -> Path:
        return self.root / STAGING

    def aliases(self, name: str) -> dict[str, int]:
        """{alias: version} of one model; 'latest' is always the newest complete version."""
        name_dir = self._name_dir(name)
        path = name_dir / ALIASES
        stored: dict[str, int] = {}
        if path.is_file():
            try:
                data = read_json(path)
            except (OSError, ValueError) as exc:
                raise IntegrityError(
                    f"{path} is unreadable ({exc}); fix or delete it and re-tag the versions"
                ) from None
            if not isinstance(data, dict):
                raise IntegrityError(f"{path} is not a JSON object; fix or delete it")
            stored = {
                str(k): v
                for k, v in data.items()
                if isinstance(v, int) and not isinstance(v, bool) and v > 0
            }
        numbers = layout.version_numbers(name_dir)
        stored.pop(LATEST, None)
        if numbers:
            return {LATEST: numbers[-1], **dict(sorted(stored.items()))}
        return dict(sorted(stored.items()))

    def _write_aliases(self, name: str, aliases: dict[str, int]) -> None:
        numbers = layout.version_numbers(self._name_dir(name))
        clean = {k: v for k, v in aliases.items() if k != LATEST}
        payload = ({LATEST: numbers[-1]} if numbers else {}) | dict(sorted(clean.items()))
        write_json_atomic(self._name_dir(name) / ALIASES, payload)

    def _next_number(self, name: str) -> int:
        """max(counter, newest + 1): numbers are never reused, even after rm."""
        name_dir = self._name_dir(name)
        counter = 1
        path = name_dir / COUNTER
        if path.is_file():
            try:
                value = read_json(path).get("next", 1)
                counter = value if isinstance(value, int) and value > 0 else 1
            except (OSError, ValueError, AttributeError):
                counter = 1
        numbers = layout.version_numbers(name_dir)
        # a crash between rename and counter update leaves a vN dir newer than the counter
        existing = [layout.version_of_dir(p) for p in name_dir.glob("v*")]
        highest = max([n for n in existing if n is not None] + numbers + [0])
        return max(counter, highest + 1)

    # ------------------------------------------------------------------ resolving
    def names(self) -> list[str]:
        """Models that have at least one complete version."""
        return [n for n in layout.model_names(self.root) if layout.version_numbers(self.root / n)]

    def versions(self, name: str) -> list[int]:
        return layout.version_numbers(self._name_dir(name))

    def resolve(self, ref: str | Ref) -> tuple[str, int]:
        """(name, version number) for NAME, NAME@vN, NAME@N or NAME@alias; ModelNotFound if none."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        numbers = self.versions(parsed.name)
        if not numbers:
            known = self.names()
            hint = f"models in {self.root}: {', '.join(known)}" if known else "it is empty"
            raise ModelNotFound(
                f"no model named {parsed.name!r} in the store ({hint}); "
                "train one with `mktai train` or check --store"
            )
        listed = ", ".join(f"v{n}" for n in numbers)
        if parsed.version is not None:
            if parsed.version not in numbers:
                raise ModelNotFound(
                    f"model {parsed.name!r} has no version v{parsed.version} (it has {listed})"
                )
            return parsed.name, parsed.version
        if parsed.alias is None or parsed.alias == LATEST:
            return parsed.name, numbers[-1]
        aliases = self.aliases(parsed.name)
        if parsed.alias not in aliases:
            names = ", ".join(aliases) or "none"
            raise ModelNotFound(
                f"model {parsed.name!r} has no alias {parsed.alias!r} (aliases: {names}; "
                f"versions: {listed}); set it with "
                f"`mktai models tag {parsed.name}@vN {parsed.alias}`"
            )
        number = aliases[parsed.alias]
        if number not in numbers:
            raise ModelNotFound(
                f"alias {parsed.name}@{parsed.alias} points to v{number}, which no longer exists; "
                f"re-tag it with `mktai models tag {parsed.name}@vN {parsed.alias}`"
            )
        return parsed.name, number

    def _read_version(self, name: str, number: int) -> Version:
        name_dir = self._name_dir(name)
        path = name_dir / layout.version_dirname(number)
        for link in (name_dir, path, path / MANIFEST):
            if link.is_symlink():
                raise IntegrityError(
                    f"{link} is a symbolic link (to {os.readlink(link)}); a version must live "
                    f"inside the store: {name}@v{number} is refused — remove the link and "
                    "import a real export instead"
                )
        try:
            manifest, sha = read_json_hashed(path / MANIFEST)
        except FileNotFoundError:
            raise ModelNotFound(f"{name}@v{number} was removed while it was being read") from None
        except (OSError, ValueError) as exc:
            raise IntegrityError(
                f"{path / MANIFEST} is unreadable ({exc}); the version {name}@v{number} is "
                f"damaged: restore it from an export or remove it with `mktai models rm "
                f"{name}@v{number} --force`"
            ) from None
        try:
            validate_manifest(manifest)
        except ManifestError as exc:
            raise IntegrityError(
                f"{path / MANIFEST} is damaged ({exc}); restore {name}@v{number} from an "
                f"export or remove it with `mktai models rm {name}@v{number} --force`"
            ) from None
        return Version(name, number, path, manifest, sha)

    def get(self, ref: str) -> Version:
        """The version and its manifest, without checking file hashes (for show / list)."""
        name, number = self.resolve(ref)
        return self._read_version(name, number)

    def load(self, ref: str) -> Version:
        """The version after verifying every file's sha256; IntegrityError (exit 3) if damaged."""
        version = self.get(ref)
        problems = check_files(version.path, version.manifest.get("files"), version.ref)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise IntegrityError(
                f"model {version.ref} is damaged: file {first.file!r} {first.message}{more}; "
                f"see `mktai models verify {version.ref}`, then restore it from an export or "
                f"retrain, and remove it with `mktai models rm {version.ref} --force`"
            )
        found = self.seal_of(version)
        if found.problem:
            raise IntegrityError(
                f"model {version.ref} is refused: it {found.problem}; see `mktai models verify "
                f"{version.ref}`"
                if not found.problem.startswith("manifest.json")
                else f"model {version.ref} is refused: its {found.problem}; restore it from an "
                f"export or retrain, and remove it with `mktai models rm {version.ref} --force`"
            )
        return version

    # ------------------------------------------------------------------ manifest seals
    def _index(self, name: str) -> dict[str, Any]:
        """{version number as str: seal entry} from NAME/index.json ({} when there is none)."""
        path = self._name_dir(name) / seal.INDEX
        if not path.is_file():
            return {}
        try:
            data = read_json(path)
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{path} is unreadable ({exc})") from None
        versions = data.get("versions") if isinstance(data, dict) else None
        if not isinstance(versions, dict):
            raise IntegrityError(f"{path} is damaged (no 'versions' record)")
        return versions

    def _write_seal(self, name: str, number: int, entry: dict[str, Any]) -> None:
        """Record one version's seal (the caller holds the store lock)."""
        try:
            versions = self._index(name)
        except IntegrityError:
            versions = {}  # rebuilt from here on; versions it no longer lists are unindexed
        versions[str(number)] = entry
        write_json_atomic(self._name_dir(name) / seal.INDEX, {"format": 1, "versions": versions})

    def seal_of(self, version: Version, index: dict[str, Any] | None = None) -> seal.Seal:
        """Whether the version's manifest is the one the store published (and signed).

        index: NAME's index already read (listing many versions reads it once)."""
        key = seal.store_key()
        try:
            entries = self._index(version.name) if index is None else index
            entry = entries.get(str(version.version))
        except IntegrityError as exc:
            return seal.Seal(seal.INDEXED, f"cannot be checked: {exc}")
        sha = version.manifest_sha256 or seal.manifest_sha256(version.path / MANIFEST)
        return seal.check(version.name, version.version, sha, entry, key)

    def sign(self, ref: str) -> tuple[Version, seal.Seal]:
        """Record (and, with a store key, sign) the current manifest of a version whose files
        all match: adopts versions from before seals, or re-signs under a new key."""
        self._reclaim_staging()
        key = seal.store_key()
        with store_lock(self.root):
            version = self.get(ref)
            problems = self._problems(version)
            if problems:
                raise IntegrityError(
                    f"model {version.ref} is damaged ({problems[0]}); it cannot be signed"
                )
            sha = seal.manifest_sha256(version.path / MANIFEST)
            self._write_seal(version.name, version.version, seal.make_entry(
                version.name, version.version, sha, key
            ))  # fmt: skip
        return version, self.seal_of(version)

    @staticmethod
    def _problems(version: Version) -> list[Problem]:
        return check_files(version.path, version.manifest.get("files"), version.ref)

    # ------------------------------------------------------------------ writing
    def save(
        self,
        name: str,
        kind: str,
        write: Callable[[Path], None],
        manifest: dict[str, Any] | None = None,
    ) -> Version:
        """Stage files with write(dir), hash and fsync them, then publish NAME@vN atomically."""
        layout.check_name(name)
        if not isinstance(kind, str) or not layout.NAME_RE.fullmatch(kind):
            raise UsageError(f"invalid model kind {kind!r}")
        staging = self._new_staging()
        try:
            write(staging)
            if (staging / MANIFEST).exists():
                raise StoreError(
                    f"the model writer created {MANIFEST}, a name the store reserves; "
                    "rename that file"
                )
            files = hash_tree(staging, fsync=True)
            built = build_manifest(name, kind, manifest or {}, files)
            return self._publish(name, staging, built)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(
                f"could not save {name!r} in the store {self.root} ({exc}); check free space "
                "and permissions, or choose another --store"
            ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _new_staging(self) -> Path:
        base = self._staging()
        try:
            staging_dirs.checked_base(base)
        except OSError as exc:
            raise StoreError(
                f"cannot write to the store {self.root} ({exc}); check --store or $MKTAI_STORE"
            ) from None
        staging_dirs.reclaim(base)
        try:
            return staging_dirs.new_staging(base)
        except OSError as exc:
            raise StoreError(
                f"cannot write to the store {self.root} ({exc.strerror or exc}); check its "
                "permissions and free space, or choose another --store"
            ) from None

    def _reclaim_staging(self) -> None:
        """Every store write first removes what killed writers left in .staging."""
        staging_dirs.reclaim(self._staging())

    def _publish(self, name: str, staging: Path, manifest: dict[str, Any]) -> Version:
        """Under the lock: allocate vN, write the manifest, fsync, rename into place."""
        for dirpath, _dirs, _files in os.walk(staging):
            fsync_dir(Path(dirpath))
        key = seal.store_key()
        with store_lock(self.root):
            name_dir = self._name_dir(name)
            if name_dir.is_symlink():
                raise StoreError(
                    f"{name_dir} is a symbolic link; the store writes only inside itself: "
                    "remove the link and retry"
                )
            name_dir.mkdir(parents=True, exist_ok=True)
            number = self._next_number(name)
            manifest["name"] = name
            manifest["version"] = number
            write_json_atomic(staging / MANIFEST, manifest)
            # sealed before it is visible: no moment when a published version has no entry
            sha = seal.manifest_sha256(staging / MANIFEST)
            self._write_seal(name, number, seal.make_entry(name, number, sha, key))
            target = name_dir / layout.version_dirname(number)
            os.rename(staging, target)
            fsync_dir(name_dir)
            write_json_atomic(name_dir / COUNTER, {"next": number + 1})
            try:
                aliases = self.aliases(name)
            except IntegrityError:
                pass  # the version is published; 'latest' is derived from the directories
            else:
                self._write_aliases(name, aliases)
        return Version(name, number, target, manifest)

    def _update_manifest(self, ref: str, change: Callable[[dict[str, Any]], None]) -> Version:
        """Rewrite a published manifest; its temp file lives in .staging, never in the version
        directory, where a kill -9 would leave an unlisted file that fails every load."""
        self._reclaim_staging()
        key = seal.store_key()
        with store_lock(self.root):
            version = self.get(ref)
            found = self.seal_of(version)
            if found.problem:  # never re-seal a manifest someone else edited
                raise IntegrityError(f"model {version.ref} is refused: {found.problem}")
            change(version.manifest)
            staging = staging_dirs.checked_base(self._staging())
            if found.status == seal.UNINDEXED:
                write_json_atomic(version.path / MANIFEST, version.manifest, tmp_dir=staging)
                return version
            # old and new hash both valid while the manifest is replaced (a kill -9 between the
            # writes must not make a sound version look edited)
            new_sha = hashlib.sha256((dumps(version.manifest) + "\n").encode("utf-8")).hexdigest()
            entry = self._index(version.name)[str(version.version)]
            new = seal.make_entry(version.name, version.version, new_sha, key)
            self._write_seal(version.name, version.version, {**entry, "pending": new})
            write_json_atomic(version.path / MANIFEST, version.manifest, tmp_dir=staging)
            self._write_seal(version.name, version.version, new)
        return version

    def record_evaluation(self, ref: str, entry: dict[str, Any]) -> Version:
        """Append an evaluation result to manifest['evaluations'] (atomic, under the lock)."""
        record = {"at": utc_now(), **dict(entry)}

        def append(manifest: dict[str, Any]) -> None:
            evaluations = manifest.get("evaluations")
            if not isinstance(evaluations, list):
                evaluations = []
            evaluations.append(record)
            manifest["evaluations"] = evaluations

        return self._update_manifest(ref, append)

    def find_fingerprint(self, name: str, sha256: str) -> Version | None:
        """Newest intact version trained on data with this fingerprint (for train --if-changed)."""
        layout.check_name(name)
        for number in reversed(self.versions(name)):
            try:
                version = self._read_version(name, number)
            except (IntegrityError, ModelNotFound):
                continue
            data = version.manifest.get("training_data")
            matches = isinstance(data, dict) and data.get("sha256") == sha256
            if matches and not self._problems(version):
                return version
        return None

    # ------------------------------------------------------------------ aliases
    def tag(self, ref: str, alias: str) -> Version:
        """Point NAME@alias at the version ref resolves to (moving the alias if it existed)."""
        layout.check_alias(alias)
        if alias == LATEST:
            raise UsageError("'latest' always means the newest version and cannot be set by hand")
        self._reclaim_staging()
        with store_lock(self.root):
            name, number = self.resolve(ref)
            aliases = self.aliases(name)
            aliases[alias] = number
            self._write_aliases(name, aliases)
            return self._read_version(name, number)

    def untag(self, name: str, alias: str) -> int:
        """Remove an alias; returns the version it pointed to."""
        layout.check_alias(alias)
        if alias == LATEST:
            raise UsageError("'latest' always means the newest version and cannot be removed")
        self._reclaim_staging()
        with store_lock(self.root):
            self.resolve(name)
            aliases = self.aliases(name)
            if alias not in aliases:
                raise ModelNotFound(f"model {name!r} has no alias {alias!r}")
            number = aliases.pop(alias)
            self._write_aliases(name, aliases)
        return number

    # ------------------------------------------------------------------ removing
    def remove(self, ref: str, *, all_versions: bool = False, force: bool = False) -> list[str]:
        """Remove one version (NAME@vN / NAME@alias) or, with all_versions, every version of NAME.

        A version that carries an alias other than 'latest' is kept unless force=True, so a
        production model is never removed by accident. Version numbers are not reused afterwards.
        """
        parsed = parse_ref(ref)
        if parsed.version is None and parsed.alias is None and not all_versions:
            count = len(self.versions(parsed.name))
            raise UsageError(
                f"{parsed.name!r} names a model with {count} version(s); remove one with "
                f"{parsed.name}@vN or all of them with --all"
            )
        if all_versions and (parsed.version is not None or parsed.alias is not None):
            raise UsageError("--all removes every version of a model: give a bare NAME")
        trash: list[Path] = []
        removed: list[str] = []
        self._reclaim_staging()
        with store_lock(self.root):
            if all_versions:
                self.resolve(parsed.name)
                numbers = self.versions(parsed.name)
            else:
                numbers = [self.resolve(parsed)[1]]
            aliases = self.aliases(parsed.name)
            guarded = {a: v for a, v in aliases.items() if a != LATEST and v in numbers}
            if guarded and not force:
                alias, number = next(iter(guarded.items()))
                raise UsageError(
                    f"{parsed.name}@v{number} is tagged {alias!r}; untag it first "
                    f"(`mktai models untag {parsed.name} {alias}`) or pass --force"
                )
            for number in numbers:
                source = self._name_dir(parsed.name) / layout.version_dirname(number)
                base = staging_dirs.checked_base(self._staging())
                target = base / f"{staging_dirs.TRASH_PREFIX}{uuid.uuid4().hex}"
                os.rename(source, target)
                trash.append(target)
                removed.append(f"{parsed.name}@v{number}")
            fsync_dir(self._name_dir(parsed.name))
            remaining = {a: v for a, v in aliases.items() if v not in numbers}
            self._write_aliases(parsed.name, remaining)
        for path in trash:
            shutil.rmtree(path, ignore_errors=True)
        return removed

    def prune(self, name: str | None = None, keep: int = 3, *, dry_run: bool = False) -> list[str]:
        """Remove all but the newest `keep` versions, always keeping every aliased version."""
        if keep < 0:
            raise UsageError(f"--keep must be 0 or more, not {keep}")
        names = [name] if name is not None else self.names()
        if name is not None:
            self.resolve(name)
        removed: list[str] = []
        for model in names:
            numbers = self.versions(model)
            protected = set(self.aliases(model).values())
            keep_set = set(numbers[-keep:] if keep else []) | protected
            for number in numbers:
                if number in keep_set:
                    continue
                ref = f"{model}@v{number}"
                if dry_run:
                    removed.append(ref)
                    continue
                try:
                    removed += self.remove(ref)
                except (ModelNotFound, UsageError):
                    continue  # removed or tagged by another process meanwhile
        return removed

    # ------------------------------------------------------------------ inspecting
    def verify(self, ref: str | None = None) -> list[Problem]:
        """Every problem found: damaged files, unreadable manifests, dangling aliases.

        A store that does not exist has no problems: callers that must not pass on a typo
        (`mktai models verify`) check `missing()` first."""
        if ref is None:
            targets = [(n, self.versions(n)) for n in self.names()]
        else:
            parsed = parse_ref(ref)
            if parsed.version is None and parsed.alias is None:
                self.resolve(parsed.name)
                targets = [(parsed.name, self.versions(parsed.name))]
            else:
                targets = [(parsed.name, [self.resolve(parsed)[1]])]
        problems: list[Problem] = []
        for name, numbers in targets:
            try:
                aliases = self.aliases(name)
            except IntegrityError as exc:
                problems.append(Problem(name, ALIASES, str(exc)))
                aliases = {}
            existing = set(self.versions(name))
            for alias, number in aliases.items():
                if number not in existing:
                    problems.append(
                        Problem(f"{name}@{alias}", ALIASES, f"points to v{number}, which is gone")
                    )
            for number in numbers:
                try:
                    version = self._read_version(name, number)
                except (IntegrityError, ModelNotFound) as exc:
                    problems.append(Problem(f"{name}@v{number}", MANIFEST, str(exc)))
                    continue
                problems += check_files(version.path, version.manifest.get("files"), version.ref)
                found = self.seal_of(version)
                if found.problem:
                    problems.append(Problem(version.ref, MANIFEST, found.problem))
        return problems

    def missing(self) -> str:
        """Why self.root is not a store ("" when it is a directory)."""
        if self.root.is_dir():
            return ""
        what = "is a file, not a store directory" if self.root.exists() else "does not exist"
        return f"the store {self.root} {what}"

    def seals(self, ref: str | None = None) -> dict[str, str]:
        """{NAME@vN: signed | indexed | unindexed} for every readable version in scope."""
        targets = [ref] if ref is not None else self.names()
        found: dict[str, str] = {}
        for target in targets:
            parsed = parse_ref(target)
            if parsed.version is None and parsed.alias is None:
                numbers = self.versions(parsed.name)
            else:
                numbers = [self.resolve(parsed)[1]]
            for number in numbers:
                try:
                    version = self._read_version(parsed.name, number)
                except (IntegrityError, ModelNotFound):
                    continue
                found[version.ref] = self.seal_of(version).status
        return found

    def list(self, name: str | None = None) -> list[dict[str, Any]]:
        """One entry per model with its aliases and versions (kind, algorithm, metrics…)."""
        if name is not None:
            self.resolve(name)
        models = []
        for model in [name] if name is not None else self.names():
            alias_error = None
            try:
                aliases = self.aliases(model)
            except IntegrityError as exc:  # one bad aliases.json must not hide every model
                aliases, alias_error = {}, str(exc)
            by_version: dict[int, list[str]] = {}
            for alias, number in aliases.items():
                by_version.setdefault(number, []).append(alias)
            versions = []
            try:
                index: dict[str, Any] | None = self._index(model)
            except IntegrityError:
                index = None  # each version then reports why it cannot be checked
            for number in self.versions(model):
                entry: dict[str, Any] = {
                    "version": number,
                    "ref": f"{model}@v{number}",
                    "aliases": by_version.get(number, []),
                }
                try:
                    version = self._read_version(model, number)
                except (IntegrityError, ModelNotFound) as exc:
                    entry["error"] = str(exc)
                    versions.append(entry)
                    continue
                manifest = version.manifest
                found = self.seal_of(version, index)
                entry["seal"] = found.status
                if found.problem:
                    entry["error"] = f"{version.ref} {found.problem}"
                files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
                entry.update(
                    kind=manifest.get("kind"),
                    algorithm=manifest.get("algorithm"),
                    created_at=manifest.get("created_at"),
                    metrics=headline_metrics(manifest),
                    files=len(files),
                    bytes=sum(f.get("bytes", 0) for f in files.values() if isinstance(f, dict)),
                )
                versions.append(entry)
            if not versions:
                continue
            latest = versions[-1]
            entry = {
                "name": model,
                "kind": latest.get("kind"),
                "latest": latest["version"],
                "aliases": aliases,
                "versions": versions,
            }
            if alias_error:
                entry["error"] = alias_error
            models.append(entry)
        return models

    # ------------------------------------------------------------------ moving between stores
    def export(self, ref: str, path: Path | str) -> Path:
        """Write a verified version to a .tar.gz that `import_` (on any machine) accepts."""
        from mktai.store.archive import export_version

        return export_version(self, ref, Path(path))

    def import_(self, path: Path | str, name: str | None = None) -> Version:
        """Import an export as a NEW version number of `name` (default: the archived name)."""
        from mktai.store.archive import import_version

        return import_version(self, Path(path), name)
