"""The store's integrity record and manifest, checked exactly (README "Model store": every file's
sha256 and size is recorded, `models verify` names each damaged file and what is wrong with it,
the store's own manifest keys cannot be overridden by the caller).

Each problem is compared whole (ref, file, message), on real files written by the test and
hashed independently with hashlib, so that a changed word, a swapped field or a skipped check
fails here (these tests kill the mutants of store/integrity.py and store/manifest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import re
import sys
from pathlib import Path

import pytest

from mktai.errors import StoreError
from mktai.store import integrity, manifest
from mktai.store.integrity import Problem


def _tree(root: Path) -> Path:
    """A version-like folder: a top-level file, a nested one, an empty one, and a manifest."""
    (root / "sub").mkdir(parents=True)
    (root / "model.bin").write_bytes(b"w" * 1000)
    (root / "sub" / "params.json").write_text('{"alpha": 0.5}')
    (root / "sub" / "empty").write_bytes(b"")
    (root / "manifest.json").write_text("{}")
    return root


def _record(root: Path) -> dict[str, dict]:
    """What the store should record, computed with hashlib and os.stat only."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != "manifest.json":
            data = path.read_bytes()
            out[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return out


def test_problem_text_and_dict() -> None:
    with_file = Problem("churn@v2", "model.bin", "is missing")
    assert str(with_file) == "churn@v2: model.bin: is missing"
    assert with_file.as_dict() == {"ref": "churn@v2", "file": "model.bin", "problem": "is missing"}
    without = Problem("alias 'prod'", None, "points at a removed version")
    assert str(without) == "alias 'prod': points at a removed version"
    assert without.as_dict() == {
        "ref": "alias 'prod'", "file": None, "problem": "points at a removed version",
    }  # fmt: skip


def test_sha256_file_reads_every_chunk(tmp_path: Path) -> None:
    data = os.urandom(integrity.CHUNK * 2 + 12345)  # three reads, the last one short
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    want = (hashlib.sha256(data).hexdigest(), len(data))
    assert integrity.sha256_file(path) == want
    assert integrity.sha256_file(path, fsync=True) == want
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert integrity.sha256_file(empty) == (hashlib.sha256(b"").hexdigest(), 0)


def test_hash_tree_records_each_file_but_the_top_manifest(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    (root / "sub" / "manifest.json").write_text("nested: a file like any other")
    want = _record(root)
    assert "sub/manifest.json" in want and "manifest.json" not in want
    assert integrity.hash_tree(root) == want
    assert integrity.hash_tree(root, fsync=True) == want
    assert integrity.walk_files(root) == (sorted(want), [])


def test_odd_entries_are_listed_and_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not part of the model")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "sub" / "link").symlink_to(root / "model.bin")
    os.mkfifo(root / "pipe")
    files, odd = integrity.walk_files(root)
    assert files == ["model.bin", "sub/empty", "sub/params.json"]
    assert odd == ["linked_dir", "pipe", "sub/link"]  # the linked folder is not entered
    with pytest.raises(StoreError) as caught:
        integrity.hash_tree(root)
    assert str(caught.value) == (
        "a model may contain only regular files, but 'linked_dir' is a symlink or special "
        "file; write real files instead"
    )
    problems = integrity.check_files(root, _record(_tree(tmp_path / "clean")), "m@v1")
    assert problems == [
        Problem("m@v1", rel, "is a symlink or special file, not a regular file") for rel in odd
    ]


def test_check_files_clean_tree_has_no_problem(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    assert integrity.check_files(root, _record(root), "m@v1") == []


def test_check_files_names_each_damage(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    recorded = _record(root)
    (root / "model.bin").write_bytes(b"w" * 999)  # truncated
    (root / "sub" / "params.json").write_text('{"alpha": 0.55}')  # longer
    (root / "sub" / "empty").unlink()  # missing
    (root / "extra.txt").write_text("x")  # unexpected
    (root / "sub" / "new").write_text("y")  # unexpected, nested
    assert integrity.check_files(root, recorded, "churn@v3") == [
        Problem("churn@v3", "model.bin", "is truncated (999 bytes, manifest says 1000)"),
        Problem("churn@v3", "sub/empty", "is missing"),
        Problem("churn@v3", "sub/params.json", "is longer than recorded (15 bytes, manifest says 14)"),
        Problem("churn@v3", "extra.txt", "is not listed in the manifest (unexpected file)"),
        Problem("churn@v3", "sub/new", "is not listed in the manifest (unexpected file)"),
    ]  # fmt: skip


def test_check_files_same_size_changed_bytes_is_modified(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    recorded = _record(root)
    data = bytearray((root / "model.bin").read_bytes())
    data[500] ^= 0x01
    (root / "model.bin").write_bytes(bytes(data))
    modified = Problem("m@v1", "model.bin", "does not match its recorded sha256 (modified)")
    assert integrity.check_files(root, recorded, "m@v1") == [modified]
    # a record without a size still has its hash checked; one without a hash never matches
    no_size = {**recorded, "model.bin": {"sha256": recorded["model.bin"]["sha256"]}}
    assert integrity.check_files(root, no_size, "m@v1") == [modified]
    no_hash = {**recorded, "sub/empty": {"bytes": 0}}
    assert integrity.check_files(root, no_hash, "m@v1") == [
        modified,
        Problem("m@v1", "sub/empty", "does not match its recorded sha256 (modified)"),
    ]


def test_check_files_hostile_records(tmp_path: Path) -> None:
    root = _tree(tmp_path / "v1")
    recorded = _record(root)
    for bad in (None, [], "files", 3):
        assert integrity.check_files(root, bad, "m@v1") == [
            Problem("m@v1", "manifest.json", "manifest has no valid 'files' record")
        ]
    # an entry that is not a mapping is checked as having neither size nor hash
    odd_entry = {**recorded, "sub/params.json": "deadbeef"}
    assert integrity.check_files(root, odd_entry, "m@v1") == [
        Problem("m@v1", "sub/params.json", "does not match its recorded sha256 (modified)")
    ]
    # a wrong size is reported alone (the hash is not read for it)
    wrong = {**recorded, "model.bin": {"sha256": "0" * 64, "bytes": 1001}}
    assert integrity.check_files(root, wrong, "m@v1") == [
        Problem("m@v1", "model.bin", "is truncated (1000 bytes, manifest says 1001)")
    ]


def test_utc_now_is_second_precision_with_z() -> None:
    from datetime import UTC, datetime, timedelta

    before = datetime.now(UTC).replace(microsecond=0)
    text = manifest.utc_now()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert before <= stamp <= after + timedelta(seconds=1)


def test_library_versions_are_the_installed_distributions() -> None:
    from importlib.metadata import PackageNotFoundError, version

    want = {}
    for dist in manifest.LIBRARIES:
        with contextlib.suppress(PackageNotFoundError):
            want[dist] = version(dist)
    assert {"numpy", "pandas", "scikit-learn"} <= set(want)
    assert manifest.library_versions() == want


def test_build_manifest_keeps_caller_fields_under_store_keys() -> None:
    import mktai

    files = {"model.bin": {"sha256": "ab", "bytes": 2}}
    fields = {
        "algorithm": "gbm", "seed": 3, "metrics": {"auc": 0.7},
        "name": "spoofed", "version": 99, "kind": "other", "created_at": "never",
        "mktai_version": "0", "python": "2.7", "platform": "dos", "libraries": {},
        "format": 7, "files": {"evil": {}}, "threshold": 0.4,
    }  # fmt: skip
    out = manifest.build_manifest("churn", "propensity", fields, files)
    assert list(out)[:9] == [
        "format", "name", "version", "kind", "created_at", "mktai_version", "python",
        "platform", "libraries",
    ]  # fmt: skip
    assert out["format"] == manifest.FORMAT == 1
    assert (out["name"], out["version"], out["kind"]) == ("churn", None, "propensity")
    assert out["mktai_version"] == mktai.__version__
    assert out["python"] == platform.python_version()
    assert out["platform"] == f"{sys.platform}-{platform.machine()}"
    assert out["libraries"] == manifest.library_versions()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out["created_at"])
    assert (out["algorithm"], out["seed"], out["metrics"]) == ("gbm", 3, {"auc": 0.7})
    assert out["threshold"] == 0.4  # a caller's field after the refused ones is still kept
    assert out["files"] is files and out["evaluations"] == []
    assert list(out)[-1] == "files"
    kept = manifest.build_manifest("m", "k", {"evaluations": [{"on": "x"}]}, {})
    assert kept["evaluations"] == [{"on": "x"}] and kept["files"] == {}
    assert manifest.build_manifest("m", "k", None, {})["evaluations"] == []


def test_headline_metrics_order_limit_and_types() -> None:
    head = manifest.headline_metrics
    metrics = {
        "holdout": {"auc": 0.81, "log_loss": 0.4, "note": "text", "flag": True},
        "cv": {"auc": {"mean": 0.8, "std": 0.01}, "brier": {"mean": 0.1}, "bad": {"mean": "x"}},
        "rows": 1000,
        "rmse": 2,
    }
    assert head({"metrics": metrics}) == {
        "holdout.auc": 0.81, "holdout.log_loss": 0.4, "cv.brier": 0.1,
    }  # fmt: skip
    assert head({"metrics": metrics}, limit=2) == {"holdout.auc": 0.81, "holdout.log_loss": 0.4}
    assert head({"metrics": metrics}, limit=10) == {
        "holdout.auc": 0.81, "holdout.log_loss": 0.4, "cv.brier": 0.1, "rows": 1000.0,
        "rmse": 2.0,
    }  # fmt: skip
    assert all(type(v) is float for v in head({"metrics": metrics}, limit=10).values())
    flat = {"mae": 1.5, "auc": 0.7, "holdout": "n/a", "cv": None}
    assert head({"metrics": flat}) == {"mae": 1.5, "auc": 0.7}
    assert head({"metrics": {"cv": {"auc": {"mean": 0.6}}, "auc": 0.9}}) == {"cv.auc": 0.6}
    assert head({"metrics": "broken"}) == {} and head({}) == {}
    assert head({"metrics": {"holdout": {"a": 1, "b": 2}}}, limit=0) == {}


# --------------------------------------------------------------------------- manifest shape

SHA = "ab" * 32


def _good(**changes) -> dict:
    out = {"kind": "propensity", "name": "churn", "version": 2, "files": {"m.bin": {
        "sha256": SHA, "bytes": 0}}}  # fmt: skip
    out.update(changes)
    return out


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([], "it is a JSON list, not an object"),
        ("x", "it is a JSON str, not an object"),
        (_good(kind=None), "'kind' is null, not a model kind"),
        (_good(kind="bad kind"), "'kind' is 'bad kind', not a model kind"),
        (_good(kind=3), "'kind' is 3, not a model kind"),
        (_good(name=None), "'name' is null, not a model name"),
        (_good(name="-x"), "'name' is '-x', not a model name"),
        (_good(version=0), "'version' is 0, not a version number"),
        (_good(version=True), "'version' is True, not a version number"),
        (_good(version="2"), "'version' is '2', not a version number"),
        (_good(seed=True), "'seed' is True, not int or null"),
        (_good(seed=1.5), "'seed' is 1.5, not int or null"),
        (_good(format=None), "'format' is null, not int"),
        (_good(evaluations={}), "'evaluations' is {}, not list"),
        (_good(metrics=[1]), "'metrics' is [1], not dict or null"),
        (_good(files=None), "'files' is null, not a record of files"),
        (_good(files=[]), "'files' is [], not a record of files"),
        (_good(files={"": {}}), "'files' names '', which is not a plain relative path"),
        (_good(files={"/etc/x": {}}), "'files' names '/etc/x', which is not a plain relative path"),
        (_good(files={"a\\b": {}}), "'files' names 'a\\\\b', which is not a plain relative path"),
        (_good(files={"a\x00": {}}), "'files' names 'a\\x00', which is not a plain relative path"),
        (_good(files={"a/../b": {}}), "'files' names 'a/../b', which is not a plain relative path"),
        (_good(files={"manifest.json": {}}),
         "'files' names 'manifest.json', which is not a plain relative path"),
        (_good(files={"m": "x"}), "'files' entry 'm' is 'x', not an object"),
        (_good(files={"m": {"bytes": 1}}), "'files' entry 'm' has sha256 null, not a hex digest"),
        (_good(files={"m": {"sha256": SHA.upper(), "bytes": 1}}),
         f"'files' entry 'm' has sha256 '{SHA.upper()[:36]}..., not a hex digest"),
        (_good(files={"m": {"sha256": SHA + "0", "bytes": 1}}),
         f"'files' entry 'm' has sha256 '{SHA[:36]}..., not a hex digest"),
        (_good(files={"m": {"sha256": SHA, "bytes": -1}}),
         "'files' entry 'm' has bytes -1, not a size"),
        (_good(files={"m": {"sha256": SHA, "bytes": None}}),
         "'files' entry 'm' has bytes null, not a size"),
        (_good(files={"m": {"sha256": SHA, "bytes": False}}),
         "'files' entry 'm' has bytes False, not a size"),
        (_good(files={"m": {"sha256": SHA, "bytes": 1.0}}),
         "'files' entry 'm' has bytes 1.0, not a size"),
    ],
)  # fmt: skip
def test_a_manifest_of_the_wrong_shape_is_named_exactly(manifest, message) -> None:
    from mktai.store.schema import ManifestError, validate_manifest

    with pytest.raises(ManifestError) as caught:
        validate_manifest(manifest)
    assert str(caught.value) == message


def test_sound_manifests_pass_and_limits_are_inclusive() -> None:
    from mktai.store import schema
    from mktai.store.schema import ManifestError, validate_manifest

    good = _good(seed=None, algorithm=None, warnings=None, version=1, format=1, note=[{}])
    assert validate_manifest(good) is good
    unpublished = {"kind": "k", "files": {}}
    assert validate_manifest(unpublished, published=False) is unpublished
    with pytest.raises(ManifestError, match="'name' is null"):
        validate_manifest(unpublished)
    # nesting: the manifest is level 1, so MAX_DEPTH - 1 more levels are allowed
    deep: list = []
    inner = deep
    for _ in range(schema.MAX_DEPTH - 2):
        inner.append([])
        inner = inner[0]
    assert validate_manifest(_good(deep=deep))
    inner.append([])
    with pytest.raises(ManifestError) as caught:
        validate_manifest(_good(deep=deep))
    assert str(caught.value) == "it is nested more than 32 levels deep"
    # values: the manifest, its 5 fields' values (the list among them), m.bin's record, its 2
    used = 1 + 5 + 1 + 2
    assert validate_manifest(_good(big=[0] * (schema.MAX_NODES - used)))
    with pytest.raises(ManifestError) as caught:
        validate_manifest(_good(big=[0] * (schema.MAX_NODES - used + 1)))
    assert str(caught.value) == "it holds more than 1,000,000 values"
    files = {f"f{i}": {"sha256": SHA, "bytes": i} for i in range(schema.MAX_FILES)}
    assert validate_manifest(_good(files=files))
    files["one_more"] = {"sha256": SHA, "bytes": 0}
    with pytest.raises(ManifestError) as caught:
        validate_manifest(_good(files=files))
    assert str(caught.value) == "'files' lists 10,001 files (at most 10,000)"


def test_long_values_are_cut_to_forty_characters() -> None:
    from mktai.store.schema import ManifestError, validate_manifest

    exact = "k" * 38  # repr adds two quotes: 40 characters, shown whole
    with pytest.raises(ManifestError) as caught:
        validate_manifest(_good(kind=exact + " "))
    assert str(caught.value) == f"'kind' is '{exact[:36]}..., not a model kind"
    with pytest.raises(ManifestError) as caught:
        validate_manifest(_good(kind=exact[:37] + " "))
    assert str(caught.value) == f"'kind' is '{exact[:37]} ', not a model kind"


# --------------------------------------------------------------------------- store JSON files


def test_read_json_bounds_and_hash(tmp_path: Path) -> None:
    from mktai.store.jsonio import read_json, read_json_hashed

    path = tmp_path / "a.json"
    data = b'{"a": [1, 2, "\xc3\xa9"]}'
    path.write_bytes(data)
    assert read_json(path) == {"a": [1, 2, "é"]}
    assert read_json(path, max_bytes=len(data)) == {"a": [1, 2, "é"]}
    assert read_json_hashed(path, max_bytes=len(data)) == (
        {"a": [1, 2, "é"]}, hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    big = tmp_path / "big.json"
    big.write_bytes(b" " * ((3 << 20) + 1) + b"1")
    for read in (read_json, read_json_hashed):
        with pytest.raises(ValueError) as caught:
            read(big, max_bytes=3 << 20)
        assert str(caught.value) == "3,145,730 bytes, over the 3 MB a store file may have"
        with pytest.raises(ValueError, match="over the 0 MB"):
            read(path, max_bytes=len(data) - 1)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    for read in (read_json, read_json_hashed):
        with pytest.raises(ValueError) as caught:
            read(deep)
        assert str(caught.value) == "nested too deeply to read"


# --------------------------------------------------------------------------- the store lock


def test_lock_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from mktai.errors import UsageError
    from mktai.store.lock import DEFAULT_TIMEOUT, lock_timeout

    for raw, want in [(None, DEFAULT_TIMEOUT), ("", 60.0), ("  ", 60.0), ("2.5", 2.5),
                      ("-3", 0.0), ("0", 0.0)]:  # fmt: skip
        if raw is None:
            monkeypatch.delenv("MKTAI_LOCK_TIMEOUT", raising=False)
        else:
            monkeypatch.setenv("MKTAI_LOCK_TIMEOUT", raw)
        assert lock_timeout() == want, raw
    assert DEFAULT_TIMEOUT == 60.0
    monkeypatch.setenv("MKTAI_LOCK_TIMEOUT", "soon")
    with pytest.raises(UsageError) as caught:
        lock_timeout()
    assert str(caught.value) == (
        "MKTAI_LOCK_TIMEOUT='soon' is not a number of seconds; set e.g. MKTAI_LOCK_TIMEOUT=60"
    )


def test_lock_is_exclusive_across_processes_and_released(tmp_path: Path) -> None:
    """A second process waits for the lock and gives up with exit 3's message; after release
    it gets it at once. An OSError inside the lock names the store (exit 3, not 70)."""
    import subprocess

    from mktai.errors import LockTimeout, StoreError
    from mktai.store.lock import store_lock

    root = tmp_path / "store"
    probe = (
        "import sys; from pathlib import Path; from mktai.store.lock import store_lock\n"
        "from mktai.errors import LockTimeout\n"
        "try:\n"
        "    with store_lock(Path(sys.argv[1]), timeout=0.2): print('got')\n"
        "except LockTimeout as e: print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def other() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True,
                              text=True, env=env, check=True).stdout.strip()  # fmt: skip

    with store_lock(root, timeout=1):
        assert (root / ".lock").exists()
        assert other() == (
            f"another mktai process held the store lock {root / '.lock'} for more than 0.2 s; "
            "wait for it to finish or raise MKTAI_LOCK_TIMEOUT"
        )
    assert other() == "got"
    with pytest.raises(StoreError) as caught, store_lock(root, timeout=1):
        os.replace(tmp_path / "absent", root / "x")
    assert not isinstance(caught.value, LockTimeout)
    assert str(caught.value) == (
        f"the store {root} could not be changed: No such file or directory ({root / 'x'}); "
        "check its permissions and free space, or choose another --store"
    )
    assert other() == "got"  # released after the error too
    with pytest.raises(StoreError) as caught, store_lock(root, timeout=1):
        raise OSError(28, "No space left on device")  # no file named: none shown
    assert str(caught.value) == (
        f"the store {root} could not be changed: No space left on device; check its "
        "permissions and free space, or choose another --store"
    )


# --------------------------------------------------------------------------- names and refs


def test_names_aliases_and_refs_parse_exactly() -> None:
    from mktai.errors import UsageError
    from mktai.store.layout import Ref, check_alias, check_name, parse_ref

    assert check_name("churn-2024.q1") == "churn-2024.q1" and check_name("a" * 64) == "a" * 64
    assert check_name("churn.") == "churn." and check_name("v1..") == "v1.."  # dots may end it
    for bad in ("", ".", "..", ".hidden", "-x", "a" * 65, "a/b", "a b", None, 3):
        with pytest.raises(UsageError) as caught:
            check_name(bad)
        assert str(caught.value) == (
            f"invalid model name {bad!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. churn or churn-2024.q1)"
        )
    assert check_alias("production") == "production" and check_alias("v") == "v"
    assert check_alias("v2a") == "v2a" and check_alias("p" + "x" * 63) == "p" + "x" * 63
    for bad in ("v3", "3", "v12", "1abc", "_x", "p" + "x" * 64, "", None):
        with pytest.raises(UsageError) as caught:
            check_alias(bad)
        assert str(caught.value) == (
            f"invalid alias {bad!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter and not of the form v<number> (e.g. production, staging, candidate)"
        )
    assert parse_ref("churn") == Ref("churn") and str(parse_ref("churn")) == "churn"
    assert parse_ref("churn@v3") == Ref("churn", version=3) == parse_ref("churn@3")
    assert str(parse_ref("churn@3")) == "churn@v3" and parse_ref("c@v12").version == 12
    assert parse_ref("churn@prod") == Ref("churn", alias="prod")
    assert str(parse_ref("churn@prod")) == "churn@prod"
    for bad, message in [
        ("", "a model reference looks like NAME, NAME@v3 or NAME@alias"),
        (None, "a model reference looks like NAME, NAME@v3 or NAME@alias"),
        ("churn@", "model reference 'churn@' ends with '@': write NAME@v3 or NAME@alias"),
    ]:
        with pytest.raises(UsageError) as caught:
            parse_ref(bad)
        assert str(caught.value) == message
    for bad in ("churn@0", "churn@1x", "churn@a@b"):
        with pytest.raises(UsageError, match="invalid alias"):
            parse_ref(bad)
    assert parse_ref("churn@v0") == Ref("churn", alias="v0")  # no version 0: a name like any
    with pytest.raises(UsageError, match="invalid model name"):
        parse_ref("@v1")


def test_versions_and_models_on_disk(tmp_path: Path) -> None:
    from mktai.store.layout import model_names, version_dirname, version_numbers, version_of_dir

    assert version_dirname(7) == "v7"
    assert [version_of_dir(Path(n)) for n in ("v1", "v10", "v0", "v01", "x1", "v1x", "V2")] == [
        1, 10, None, None, None, None, None,
    ]  # fmt: skip
    root = tmp_path / "store"
    assert model_names(root) == [] and version_numbers(root / "churn") == []
    churn = root / "churn"
    for name in ("v1", "v2", "v10", "v3", "v0", "vx"):
        (churn / name).mkdir(parents=True)
        (churn / name / "manifest.json").write_text("{}")
    (churn / "v3" / "manifest.json").unlink()  # half-written: not a version yet
    (churn / "v4").write_text("a file, not a folder")
    (churn / "v5").mkdir()
    (churn / "v5" / "manifest.json").mkdir()  # a folder named like the manifest
    assert version_numbers(churn) == [1, 2, 10]
    (churn / "aliases.json").write_text("{}")
    assert version_numbers(churn / "aliases.json") == []
    for name in (".staging", "b-model", "a.model", "_x", "-y"):
        (root / name).mkdir()
    (root / ".lock").write_text("")
    (root / "file").write_text("")
    assert model_names(root) == ["a.model", "b-model", "churn"]
    assert model_names(root / "file") == []


# --------------------------------------------------------------------------- manifest seals


def test_store_key_sources_and_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mktai.errors import UsageError
    from mktai.store import seal

    monkeypatch.delenv(seal.KEY_ENV, raising=False)
    monkeypatch.delenv(seal.KEY_FILE_ENV, raising=False)
    assert seal.store_key() is None
    monkeypatch.setenv(seal.KEY_ENV, "k" * 16)
    assert seal.store_key() == b"k" * 16
    monkeypatch.setenv(seal.KEY_ENV, "é" * 7)  # 14 bytes in UTF-8
    with pytest.raises(UsageError) as caught:
        seal.store_key()
    assert str(caught.value) == (
        "the store key (MKTAI_STORE_KEY) is 14 bytes; use at least 16 random bytes, "
        "e.g. `openssl rand -hex 32`"
    )
    key_file = tmp_path / "key"
    key_file.write_text("  " + "f" * 20 + "\n")
    monkeypatch.setenv(seal.KEY_FILE_ENV, str(key_file))
    monkeypatch.setenv(seal.KEY_ENV, "e" * 16)
    assert seal.store_key() == b"e" * 16  # the variable wins over the file
    monkeypatch.setenv(seal.KEY_ENV, "")
    assert seal.store_key() == b"f" * 20
    key_file.write_text("short\n")
    with pytest.raises(UsageError) as caught:
        seal.store_key()
    assert str(caught.value).startswith(f"the store key (MKTAI_STORE_KEY_FILE={key_file}) is 5 ")
    monkeypatch.setenv(seal.KEY_FILE_ENV, str(tmp_path / "absent"))
    with pytest.raises(UsageError) as caught:
        seal.store_key()
    assert str(caught.value) == (
        f"cannot read the store key file {tmp_path / 'absent'}: No such file or directory"
    )
    key_file.write_text("\n")
    monkeypatch.setenv(seal.KEY_FILE_ENV, str(key_file))
    assert seal.store_key() is None


def test_seal_entries_and_checks() -> None:
    import hmac as hmac_module

    from mktai.store import seal
    from mktai.store.seal import INDEXED, SIGNED, UNINDEXED, Seal

    key, other = b"k" * 32, b"o" * 32
    sha, edited = "a" * 64, "b" * 64
    kid = hashlib.sha256(b"mktai-key-id\0" + key).hexdigest()[:12]
    assert seal.key_id(key) == kid and len(kid) == 12
    message = f"mktai-manifest/1\nchurn\n3\n{sha}".encode()
    mac = hmac_module.new(key, message, hashlib.sha256).hexdigest()
    assert seal.signature(key, "churn", 3, sha) == mac
    assert seal.make_entry("churn", 3, sha, None) == {"sha256": sha}
    signed = seal.make_entry("churn", 3, sha, key)
    assert signed == {"sha256": sha, "hmac": mac, "key_id": kid}
    plain = {"sha256": sha}
    sign_it = "check it and sign it with `mktai models sign churn@v3`"
    not_signed = f"is not signed with the store key (MKTAI_STORE_KEY); {sign_it}"
    was_edited = (
        "manifest.json was edited after it was published (its sha256 is not the one recorded "
        "in index.json)"
    )
    cases = [
        ((sha, None, None), Seal(UNINDEXED)),
        ((sha, None, key), Seal(UNINDEXED, not_signed)),
        ((sha, "x", None), Seal(INDEXED, "has a damaged entry in index.json")),
        ((sha, {"sha256": 3}, None), Seal(INDEXED, "has a damaged entry in index.json")),
        ((sha, plain, None), Seal(INDEXED)),
        ((edited, plain, None), Seal(INDEXED, was_edited)),
        ((edited, signed, None), Seal(SIGNED, was_edited)),
        ((sha, signed, None), Seal(SIGNED)),
        ((sha, signed, key), Seal(SIGNED)),
        ((sha, plain, key), Seal(INDEXED, not_signed)),
        ((sha, {**signed, "hmac": 5}, key), Seal(INDEXED, not_signed)),
        ((sha, signed, other), Seal(SIGNED, (
            f"was signed with another key (key id {kid}, yours is {seal.key_id(other)})"))),
        ((sha, {**signed, "hmac": "0" * 64}, key), Seal(SIGNED, (
            "has a signature that does not match its manifest (forged or edited)"))),
        ((sha, {**signed, "key_id": None, "hmac": "0" * 64}, key), Seal(SIGNED, (
            "has a signature that does not match its manifest (forged or edited)"))),
        # a rewrite stopped half-way: the pending hash is accepted too, with its own signature
        ((edited, {**plain, "pending": {"sha256": edited}}, None), Seal(INDEXED)),
        ((edited, {**signed, "pending": seal.make_entry("churn", 3, edited, key)}, key),
         Seal(SIGNED)),
        ((edited, {**signed, "pending": {"sha256": edited}}, key), Seal(INDEXED, not_signed)),
        ((edited, {**plain, "pending": {"sha256": 1}}, None), Seal(INDEXED, was_edited)),
        ((edited, {**plain, "pending": edited}, None), Seal(INDEXED, was_edited)),
    ]  # fmt: skip
    for (actual, entry, use_key), want in cases:
        assert seal.check("churn", 3, actual, entry, use_key) == want, (actual, entry, use_key)
    # a signature names its slot: the same manifest signed for v3 is forged as v4
    assert seal.check("churn", 4, sha, signed, key).problem == (
        "has a signature that does not match its manifest (forged or edited)"
    )


def test_manifest_sha256_hashes_the_bytes(tmp_path: Path) -> None:
    from mktai.store.seal import manifest_sha256

    data = os.urandom(5000)
    (tmp_path / "m.json").write_bytes(data)
    assert manifest_sha256(tmp_path / "m.json") == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- staging


def test_staging_names_and_base(tmp_path: Path) -> None:
    import socket

    from mktai.store import staging

    want = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40] or "host"
    assert staging.host_tag() == want
    base = staging.checked_base(tmp_path / "store" / ".staging")
    assert base.is_dir()
    fresh = staging.new_staging(base)
    assert fresh.is_dir() and list(fresh.iterdir()) == []
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{os.getpid()}\.{re.escape(want)}", fresh.name)
    assert staging.new_staging(base) != fresh
    link = tmp_path / "other" / ".staging"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError) as caught:
        staging.checked_base(link)
    assert str(caught.value) == (
        f"{link} is a symbolic link (to {tmp_path / 'elsewhere'}); the store writes only inside "
        "itself: remove the link and retry"
    )
    assert not (tmp_path / "elsewhere").exists()
    assert staging.reclaim(link) == [] and staging.reclaim(tmp_path / "absent") == []


def test_stale_staging_entries_are_reclaimed_and_live_ones_kept(tmp_path: Path) -> None:
    """Owners are real processes: one that has exited, one still running (started here)."""
    import subprocess
    import time

    from mktai.store import staging

    base = staging.checked_base(tmp_path / ".staging")
    host = staging.host_tag()
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(done.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)  # fmt: skip
    uid = "0123456789abcdef" * 2
    names = {
        "dead": f"{uid}.{dead}.{host}",
        "dead_old_style": f"{uid}.{dead}",
        "live": f"{uid}.{live.pid}.{host}",
        "live_day_old": f"{uid[::-1]}.{live.pid}.{host}",
        "mine": f"{uid}.{os.getpid()}.{host}",
        "other_host": f"{uid}.{dead}.elsewhere",
        "other_host_old": f"{uid[::-1]}.{dead}.elsewhere",
        "odd_name": "not-a-staging-name",
        "odd_name_old": "old-not-a-staging-name",
        "trash": "trash-churn-v3",
    }
    for name in names.values():
        (base / name).mkdir()
        (base / name / "part.bin").write_bytes(b"x" * 10)
    now = time.time()
    for key, age in (("live_day_old", 24 * 3600 + 60), ("other_host_old", 3601),
                     ("odd_name_old", 3601)):  # fmt: skip
        for path in (base / names[key], base / names[key] / "part.bin"):
            os.utime(path, (now - age, now - age))
    # a fresh file deep inside keeps an old entry alive
    os.utime(base / names["other_host"], (now - 7200, now - 7200))
    (base / "file.tmp").write_text("x")  # a stray file: by age only, fresh here
    try:
        assert staging.is_stale(base / names["live"]) is False
        assert staging.is_stale(base / names["live"], now + 24 * 3600 + 10) is True
        assert staging.is_stale(base / "vanished") is False
        removed = staging.reclaim(base)
        assert live.poll() is None
    finally:
        live.kill()
        live.wait()
    gone = {"dead", "dead_old_style", "live_day_old", "other_host_old", "odd_name_old", "trash"}
    assert sorted(removed) == sorted(names[k] for k in gone)
    assert sorted(p.name for p in base.iterdir()) == sorted(
        [names[k] for k in names if k not in gone] + ["file.tmp"]
    )
    assert staging.is_stale(base / "file.tmp", time.time() + 3601) is True


def _host_tag_under(hostname: str) -> str:
    """host_tag() in a process of its own UTS namespace whose host name is `hostname`."""
    import shutil
    import subprocess

    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare(1) is not installed: cannot give a process another host name")
    code = (
        "import socket, sys; socket.sethostname(sys.argv[1])\n"
        "from mktai.store.staging import host_tag; print(host_tag())"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([unshare, "-u", sys.executable, "-c", code, hostname],
                          capture_output=True, text=True, env=env)  # fmt: skip
    if done.returncode and "Operation not permitted" in done.stderr:
        pytest.skip("no permission for a UTS namespace (unshare -u)")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_host_tag_is_a_safe_file_name_part() -> None:
    """Another machine's staging entries are told apart by this tag, so it must be the same
    safe text for the same host: unsafe characters become '-', at most 40 kept, never empty."""
    from mktai.store.staging import host_tag

    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", host_tag())
    assert _host_tag_under("Lab.Box+1_a-b" + "x" * 40) == "Lab-Box-1_a-b" + "x" * 27
    assert _host_tag_under("") == "host"


def test_staging_ages_at_their_exact_edges(tmp_path: Path) -> None:
    """Stale means older than the limit, not equal to it; a link is aged by itself, never by
    what it points at; a stray file is deleted, not rmtree'd and left."""
    import time

    from mktai.store import staging

    base = staging.checked_base(tmp_path / ".staging")
    then = int(time.time()) - 10 * 24 * 3600
    odd = base / "odd-entry"
    odd.mkdir()
    os.utime(odd, (then, then))
    assert staging.is_stale(odd, then + staging.STALE_SECONDS) is False
    assert staging.is_stale(odd, then + staging.STALE_SECONDS + 1) is True
    import subprocess

    owner = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        live = base / f"{'cd' * 16}.{owner.pid}.{staging.host_tag()}"
        live.mkdir()
        os.utime(live, (then, then))  # a live owner: kept for a day, its pid may be reused
        assert staging.is_stale(live, then + staging.LIVE_OWNER_SECONDS) is False
        assert staging.is_stale(live, then + staging.LIVE_OWNER_SECONDS + 1) is True
    finally:
        owner.kill()
        owner.wait()
    live.rmdir()
    mine_host = base / f"{'ab' * 16}.{os.getpid() + 10**7}.{staging.host_tag()}"
    mine_host.mkdir()  # a pid beyond pid_max: its owner is certainly gone
    assert staging.is_stale(mine_host, time.time()) is True
    target = tmp_path / "busy"
    target.mkdir()
    (target / "fresh.bin").write_bytes(b"x")
    link = base / "linked-entry"
    link.symlink_to(target, target_is_directory=True)
    os.utime(link, (then, then), follow_symlinks=False)
    stray = base / "stray.tmp"
    stray.write_text("x")
    os.utime(stray, (then, then))
    removed = staging.reclaim(base)
    assert sorted(removed) == sorted(["odd-entry", mine_host.name, "linked-entry", "stray.tmp"])
    assert list(base.iterdir()) == []
    assert (target / "fresh.bin").exists()  # the link went, not what it pointed at


def test_store_files_are_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """Under an ASCII locale (LC_ALL=C without UTF-8 mode) a manifest and a key file holding
    non-ASCII text read the same as anywhere else."""
    import subprocess

    from mktai.store.jsonio import read_json

    manifest = tmp_path / "m.json"
    manifest.write_bytes('{"note": "café 北京"}'.encode())
    key_file = tmp_path / "key"
    key_file.write_bytes("ключ-магазина-2024".encode())
    assert read_json(manifest) == {"note": "café 北京"}
    code = (
        "import os, sys, locale; from pathlib import Path\n"
        "from mktai.store.jsonio import read_json; from mktai.store.seal import store_key\n"
        "print(locale.getpreferredencoding(False))\n"
        "print(read_json(Path(sys.argv[1]))['note'].encode('unicode_escape').decode())\n"
        "print(store_key().hex())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "LC_ALL": "C",
           "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0", "MKTAI_STORE_KEY": "",
           "MKTAI_STORE_KEY_FILE": str(key_file)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(manifest)], capture_output=True,
                          text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    encoding, note, key = done.stdout.splitlines()
    if "utf" in encoding.lower().replace("-", ""):
        pytest.skip(f"this Python reads files as {encoding} even under LC_ALL=C")
    assert note == "café 北京".encode("unicode_escape").decode()
    assert bytes.fromhex(key) == "ключ-магазина-2024".encode()
