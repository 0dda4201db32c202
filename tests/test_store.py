"""Unit tests of the artifact store: save/load/resolve, aliases, integrity, prune, verify."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mktai.errors import IntegrityError, LockTimeout, ModelNotFound, StoreError, UsageError
from mktai.store import Store, parse_ref


def writer(payload: bytes = b"weights", extra: dict[str, bytes] | None = None):
    """A write callback producing a model file, a nested file and optional extras."""

    def write(directory: Path) -> None:
        (directory / "model.bin").write_bytes(payload)
        (directory / "meta").mkdir()
        (directory / "meta" / "params.json").write_text(json.dumps({"alpha": 0.5}))
        for name, data in (extra or {}).items():
            (directory / name).write_bytes(data)

    return write


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_save_writes_layout_and_manifest(store: Store) -> None:
    fields = {"algorithm": "gbm", "seed": 7, "training_data": {"sha256": "ab", "rows": 3}}
    version = store.save("churn", "propensity", writer(b"x" * 1000), fields)
    assert version.ref == "churn@v1"
    assert version.path == store.root / "churn" / "v1"
    manifest = json.loads((version.path / "manifest.json").read_text())
    assert manifest["name"] == "churn" and manifest["version"] == 1
    assert manifest["kind"] == "propensity" and manifest["algorithm"] == "gbm"
    assert manifest["seed"] == 7 and manifest["training_data"] == {"sha256": "ab", "rows": 3}
    assert manifest["created_at"].endswith("Z")
    assert "python" in manifest and "numpy" in manifest["libraries"]
    # the recorded hash is the real sha256 of the bytes written
    assert manifest["files"]["model.bin"] == {
        "sha256": hashlib.sha256(b"x" * 1000).hexdigest(),
        "bytes": 1000,
    }
    assert set(manifest["files"]) == {"model.bin", "meta/params.json"}
    assert json.loads((store.root / "churn" / "aliases.json").read_text()) == {"latest": 1}
    assert list((store.root / ".staging").iterdir()) == []


def test_caller_cannot_override_store_keys(store: Store) -> None:
    version = store.save("m", "demand", writer(), {"name": "evil", "version": 99, "files": {}})
    assert version.manifest["name"] == "m" and version.manifest["version"] == 1
    assert "model.bin" in version.manifest["files"]


def test_versions_increase_and_refs_resolve(store: Store) -> None:
    for i in range(3):
        store.save("churn", "propensity", writer(bytes([i])), {})
    assert store.load("churn").version == 3
    assert store.load("churn@v2").version == 2
    assert store.load("churn@2").version == 2
    assert store.load("churn@latest").version == 3
    store.tag("churn@v1", "production")
    assert store.load("churn@production").version == 1
    assert store.load("churn@production").path.joinpath("model.bin").read_bytes() == b"\x00"


def test_missing_model_version_and_alias(store: Store) -> None:
    with pytest.raises(ModelNotFound, match="empty"):
        store.load("nope")
    store.save("churn", "propensity", writer(), {})
    with pytest.raises(ModelNotFound, match="churn"):
        store.load("nope")
    with pytest.raises(ModelNotFound, match="no version v9.*v1"):
        store.load("churn@v9")
    with pytest.raises(ModelNotFound, match="no alias 'prod'"):
        store.load("churn@prod")
    assert ModelNotFound.exit_code == 3


@pytest.mark.parametrize(
    "bad", ["../etc", "a/b", "", ".hidden", "x" * 65, "a b", "..", "/abs", "名字", "a@b@c"]
)
def test_bad_names_are_usage_errors(store: Store, bad: str) -> None:
    with pytest.raises(UsageError):
        store.save(bad, "propensity", writer(), {})
    with pytest.raises(UsageError):
        parse_ref(bad)
    assert not (store.root.parent / "etc").exists()


def test_bad_aliases(store: Store) -> None:
    store.save("m", "demand", writer(), {})
    for alias in ["v2", "3", "../x", "-a", "latest"]:
        with pytest.raises(UsageError):
            store.tag("m@v1", alias)


def test_numbers_never_reused_after_remove(store: Store) -> None:
    store.save("m", "demand", writer(), {})
    store.save("m", "demand", writer(), {})
    assert store.remove("m@v2") == ["m@v2"]
    assert store.save("m", "demand", writer(), {}).version == 3
    assert store.remove("m", all_versions=True) == ["m@v1", "m@v3"]
    assert store.list() == []
    assert store.save("m", "demand", writer(), {}).version == 4


def test_remove_refuses_bare_name_and_tagged_version(store: Store) -> None:
    store.save("m", "demand", writer(), {})
    store.save("m", "demand", writer(), {})
    store.tag("m@v1", "production")
    with pytest.raises(UsageError, match="--all"):
        store.remove("m")
    with pytest.raises(UsageError, match="production"):
        store.remove("m@v1")
    assert store.remove("m@v1", force=True) == ["m@v1"]
    assert "production" not in store.aliases("m")
    assert store.aliases("m") == {"latest": 2}


def test_latest_follows_removal(store: Store) -> None:
    for _ in range(3):
        store.save("m", "demand", writer(), {})
    store.remove("m@v3")
    assert store.load("m").version == 2
    assert json.loads((store.root / "m" / "aliases.json").read_text())["latest"] == 2


def test_prune_keeps_newest_and_aliased(store: Store) -> None:
    for _ in range(6):
        store.save("m", "demand", writer(), {})
    store.save("other", "demand", writer(), {})
    store.tag("m@v2", "production")
    assert store.prune("m", keep=2, dry_run=True) == ["m@v1", "m@v3", "m@v4"]
    assert store.versions("m") == [1, 2, 3, 4, 5, 6]
    assert store.prune("m", keep=2) == ["m@v1", "m@v3", "m@v4"]
    assert store.versions("m") == [2, 5, 6]
    assert store.load("m@production").version == 2
    assert store.prune(keep=0) == ["m@v5"]  # latest (v6) and production (v2) stay
    assert store.versions("m") == [2, 6] and store.versions("other") == [1]


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "extra", "nested"])
def test_load_detects_damage(store: Store, damage: str) -> None:
    version = store.save("m", "demand", writer(b"0123456789" * 100), {})
    model = version.path / "model.bin"
    if damage == "flip":
        data = bytearray(model.read_bytes())
        data[500] ^= 0x01
        model.write_bytes(bytes(data))
        expected = "model.bin.*sha256"
    elif damage == "truncate":
        model.write_bytes(model.read_bytes()[:-1])
        expected = "model.bin.*truncated"
    elif damage == "delete":
        model.unlink()
        expected = "model.bin.*missing"
    elif damage == "extra":
        (version.path / "surprise.py").write_text("print('hi')")
        expected = "surprise.py.*not listed"
    else:
        (version.path / "meta" / "params.json").write_text('{"alpha": 0.6}')
        expected = "meta/params.json"
    with pytest.raises(IntegrityError, match=expected) as info:
        store.load("m")
    assert info.value.exit_code == 3
    assert "mktai models verify" in str(info.value)
    problems = store.verify()
    assert len(problems) == 1 and problems[0].ref == "m@v1"


def test_symlink_in_version_is_a_problem(store: Store, tmp_path: Path) -> None:
    version = store.save("m", "demand", writer(), {})
    (tmp_path / "outside").write_text("x")
    os.symlink(tmp_path / "outside", version.path / "link")
    with pytest.raises(IntegrityError, match="link"):
        store.load("m")


def test_writer_may_not_write_symlinks_or_manifest(store: Store, tmp_path: Path) -> None:
    def bad_manifest(directory: Path) -> None:
        (directory / "manifest.json").write_text("{}")

    def bad_link(directory: Path) -> None:
        os.symlink("/etc/passwd", directory / "weights")

    for write in (bad_manifest, bad_link):
        with pytest.raises(StoreError):
            store.save("m", "demand", write, {})
    assert store.list() == [] and list((store.root / ".staging").iterdir()) == []


def test_failing_writer_leaves_nothing(store: Store) -> None:
    def boom(directory: Path) -> None:
        (directory / "half.bin").write_bytes(b"x")
        raise RuntimeError("fit failed")

    with pytest.raises(RuntimeError):
        store.save("m", "demand", boom, {})
    assert store.list() == [] and list((store.root / ".staging").iterdir()) == []


def test_corrupt_manifest_is_integrity_error(store: Store) -> None:
    version = store.save("m", "demand", writer(), {})
    (version.path / "manifest.json").write_text("{not json")
    with pytest.raises(IntegrityError, match="manifest.json"):
        store.load("m")
    assert [p.file for p in store.verify()] == ["manifest.json"]
    assert "error" in store.list()[0]["versions"][0]


def test_save_succeeds_beside_an_unreadable_aliases_file(store: Store) -> None:
    # The version is renamed into place before aliases.json is rewritten: failing then would
    # report an error for a save that happened (and a retry would add yet another version).
    store.save("m", "demand", writer(), {})
    (store.root / "m" / "aliases.json").write_text("{broken", encoding="utf-8")
    assert store.save("m", "demand", writer(), {}).version == 2
    assert store.load("m").version == 2
    assert [p.file for p in store.verify()] == ["aliases.json"]


def test_record_evaluation_appends_atomically(store: Store) -> None:
    store.save("m", "demand", writer(), {"metrics": {"holdout": {"rmse": 1.5}}})
    store.record_evaluation("m", {"data": "a.csv", "metrics": {"rmse": 1.7}})
    store.record_evaluation("m@v1", {"data": "b.csv", "metrics": {"rmse": 1.9}})
    version = store.load("m")  # manifest edits do not break integrity
    assert [e["data"] for e in version.manifest["evaluations"]] == ["a.csv", "b.csv"]
    assert version.manifest["evaluations"][0]["at"].endswith("Z")
    assert list(version.path.glob(".manifest.json.*")) == []


def test_find_fingerprint(store: Store) -> None:
    store.save("m", "demand", writer(), {"training_data": {"sha256": "aaa", "rows": 1}})
    store.save("m", "demand", writer(), {"training_data": {"sha256": "bbb", "rows": 1}})
    store.save("m", "demand", writer(), {"training_data": {"sha256": "aaa", "rows": 1}})
    assert store.find_fingerprint("m", "aaa").version == 3
    assert store.find_fingerprint("m", "bbb").version == 2
    assert store.find_fingerprint("m", "ccc") is None
    assert store.find_fingerprint("unknown", "aaa") is None
    (store.root / "m" / "v3" / "model.bin").write_bytes(b"tampered")
    assert store.find_fingerprint("m", "aaa").version == 1  # damaged versions never match


def test_list_summarises(store: Store) -> None:
    metrics = {"cv": {"roc_auc": {"mean": 0.8, "std": 0.1}}, "holdout": {"roc_auc": 0.75}}
    store.save("churn", "propensity", writer(b"abc"), {"algorithm": "gbm", "metrics": metrics})
    store.save("churn", "propensity", writer(b"abcd"), {"algorithm": "linear"})
    store.tag("churn@v1", "production")
    store.save("demand", "demand", writer(), {"algorithm": "mlp"})
    listing = store.list()
    assert [m["name"] for m in listing] == ["churn", "demand"]
    churn = listing[0]
    assert churn["aliases"] == {"latest": 2, "production": 1}
    v1, v2 = churn["versions"]
    assert v1["aliases"] == ["production"] and v2["aliases"] == ["latest"]
    assert v1["algorithm"] == "gbm" and v1["metrics"] == {"holdout.roc_auc": 0.75}
    assert v2["bytes"] == 4 + len(json.dumps({"alpha": 0.5}))


def test_staging_is_ignored_and_stale_entries_cleaned(store: Store) -> None:
    store.save("m", "demand", writer(), {})
    stale = store.root / ".staging" / "deadbeef.1"
    fresh = store.root / ".staging" / "cafe.2"
    for path in (stale, fresh):
        path.mkdir()
        (path / "model.bin").write_bytes(b"half")
    old = time.time() - 2 * 86400
    os.utime(stale / "model.bin", (old, old))  # nothing in it changed for two days
    os.utime(stale, (old, old))
    assert [m["name"] for m in store.list()] == ["m"] and store.verify() == []
    store.save("m", "demand", writer(), {})
    assert not stale.exists() and fresh.exists()


def test_lock_timeout_is_exit_3(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    store.save("m", "demand", writer(), {})
    monkeypatch.setenv("MKTAI_LOCK_TIMEOUT", "0.2")
    holder = FileLock(str(store.root / ".lock"))
    with holder, pytest.raises(LockTimeout, match="MKTAI_LOCK_TIMEOUT") as info:
        store.tag("m@v1", "production")
    assert info.value.exit_code == 3
    store.tag("m@v1", "production")  # released: works again


def test_unwritable_store_is_store_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("I am a file")
    with pytest.raises(StoreError, match="cannot write to the store"):
        Store(not_a_dir).save("m", "demand", writer(), {})


def test_os_error_while_writing_is_store_error(store: Store) -> None:
    def disk_full(directory: Path) -> None:
        (directory / "part.bin").write_bytes(b"x")
        raise OSError(28, "No space left on device")

    with pytest.raises(StoreError, match="No space left") as info:
        store.save("m", "demand", disk_full, {})
    assert info.value.exit_code == 3 and store.list() == []


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_any_reference_either_parses_inside_the_store_or_is_a_usage_error(text: str) -> None:
    root = Path("/store-root")
    try:
        ref = parse_ref(text)
    except UsageError:
        return
    path = (root / ref.name).resolve()
    assert path.parent == root and path.name == ref.name
    assert str(ref) in (text, text.replace("@", "@v", 1)) or ref.alias == text.partition("@")[2]
