"""README "Model store": `models list` shows every model with its aliases and versions (and
says which one is damaged without hiding the others), `models rm` refuses a bare name and a
tagged version unless told, `models untag` removes one alias, numbers are never reused, and an
evaluation recorded in a manifest keeps the version sealed even when the rewrite is cut short.

Exact listings, messages and files on disk, on real stores in tmp_path (these kill the mutants
of Store.list, remove, untag, tag, prune and _update_manifest).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mktai.errors import IntegrityError, ModelNotFound, StoreError, UsageError
from mktai.store import Store, seal
from mktai.store import store as store_module

KEY = "k" * 32


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MKTAI_STORE_KEY", raising=False)
    monkeypatch.delenv("MKTAI_STORE_KEY_FILE", raising=False)


def _write(directory: Path) -> None:
    (directory / "a.bin").write_bytes(b"x" * 10)
    (directory / "sub").mkdir()
    (directory / "sub" / "b.json").write_text("[1]")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store")
    store.save("m", "propensity", _write, {"algorithm": "gbm", "metrics": {"auc": 0.8}})
    store.save("m", "propensity", _write, {"algorithm": "linear"})
    store.save("z", "segment", _write, {})
    store.tag("m@v1", "production")
    return store


def _created(store: Store, ref: str) -> str:
    return store.get(ref).manifest["created_at"]


def _aliases_on_disk(store: Store, name: str) -> dict:
    return json.loads((store.root / name / "aliases.json").read_text())


def _version(store: Store, ref: str, algorithm, metrics: dict, aliases: list) -> dict:  # noqa: ANN001
    return {
        "version": int(ref.rsplit("@v", 1)[1]),
        "ref": ref,
        "aliases": aliases,
        "seal": "indexed",
        "kind": store.get(ref).manifest["kind"],
        "algorithm": algorithm,
        "created_at": _created(store, ref),
        "metrics": metrics,
        "files": 2,
        "bytes": 13,
    }


def test_list_shows_every_model_its_aliases_and_versions(store: Store) -> None:
    m = {
        "name": "m",
        "kind": "propensity",
        "latest": 2,
        "aliases": {"latest": 2, "production": 1},
        "versions": [
            _version(store, "m@v1", "gbm", {"auc": 0.8}, ["production"]),
            _version(store, "m@v2", "linear", {}, ["latest"]),
        ],
    }
    z = {
        "name": "z",
        "kind": "segment",
        "latest": 1,
        "aliases": {"latest": 1},
        "versions": [_version(store, "z@v1", None, {}, ["latest"])],
    }
    assert store.list() == [m, z]
    assert store.list("m") == [m] and store.list("z") == [z]
    store.tag("m@v2", "staging")
    assert store.list("m")[0]["versions"][1]["aliases"] == ["latest", "staging"]
    with pytest.raises(ModelNotFound):
        store.list("nope")
    assert Store(store.root.parent / "empty").list() == []


def test_list_names_what_is_damaged_and_keeps_the_rest(store: Store) -> None:
    (store.root / "z" / "aliases.json").write_text("[1]")
    (store.root / "m" / "v2" / "manifest.json").write_text("{bad")
    m, z = store.list()
    assert m["kind"] is None and m["latest"] == 2 and "error" not in m
    assert m["versions"][0] == _version(store, "m@v1", "gbm", {"auc": 0.8}, ["production"])
    path = store.root / "m" / "v2" / "manifest.json"
    assert m["versions"][1] == {
        "version": 2,
        "ref": "m@v2",
        "aliases": ["latest"],
        "error": f"{path} is unreadable (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)); the version m@v2 is damaged: restore it from an export or "
        "remove it with `mktai models rm m@v2 --force`",
    }
    assert z["aliases"] == {} and z["versions"][0]["aliases"] == []
    assert (
        z["error"] == f"{store.root / 'z' / 'aliases.json'} is not a JSON object; fix or delete it"
    )
    assert z["versions"][0] == {**_version(store, "z@v1", None, {}, []), "aliases": []}


def test_list_reports_seals_per_version(store: Store) -> None:
    index = store.root / "m" / "index.json"
    index.write_text("[]")
    for entry in store.list("m")[0]["versions"]:
        assert entry["seal"] == "indexed"
        assert entry["error"] == (
            f"{entry['ref']} cannot be checked: {index} is damaged (no 'versions' record)"
        )
    manifest = store.root / "z" / "v1" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"segment"', '"segment" '))
    [entry] = store.list("z")[0]["versions"]
    assert entry["seal"] == "indexed" and entry["error"] == (
        "z@v1 manifest.json was edited after it was published (its sha256 is not the one "
        "recorded in index.json)"
    )


def test_untag_removes_one_alias_and_returns_its_version(store: Store) -> None:
    store.tag("m@v2", "staging")
    assert store.untag("m", "production") == 1
    assert store.aliases("m") == {"latest": 2, "staging": 2}
    assert _aliases_on_disk(store, "m") == {"latest": 2, "staging": 2}
    with pytest.raises(ModelNotFound) as caught:
        store.untag("m", "production")
    assert str(caught.value) == "model 'm' has no alias 'production'"
    with pytest.raises(UsageError) as caught:
        store.untag("m", "latest")
    assert str(caught.value) == "'latest' always means the newest version and cannot be removed"
    with pytest.raises(UsageError):
        store.untag("m", "1bad")
    with pytest.raises(ModelNotFound):
        store.untag("nope", "staging")
    assert store.aliases("m") == {"latest": 2, "staging": 2}
    assert store.untag("m", "staging") == 2
    assert store.remove("m@v2") == ["m@v2"]  # no longer tagged by hand: removable


def test_tag_moves_an_alias_and_refuses_latest(store: Store) -> None:
    version = store.tag("m@v2", "production")
    assert version.ref == "m@v2" and version.manifest["algorithm"] == "linear"
    assert _aliases_on_disk(store, "m") == {"latest": 2, "production": 2}
    with pytest.raises(UsageError) as caught:
        store.tag("m@v1", "latest")
    assert str(caught.value) == (
        "'latest' always means the newest version and cannot be set by hand"
    )


def test_remove_refusals_are_exact(store: Store) -> None:
    with pytest.raises(UsageError) as caught:
        store.remove("m")
    assert str(caught.value) == (
        "'m' names a model with 2 version(s); remove one with m@vN or all of them with --all"
    )
    for ref in ("m@v1", "m@production"):
        with pytest.raises(UsageError) as caught:
            store.remove(ref)
        assert str(caught.value) == (
            "m@v1 is tagged 'production'; untag it first (`mktai models untag m production`) "
            "or pass --force"
        )
    with pytest.raises(UsageError) as caught:
        store.remove("m", all_versions=True)
    assert "m@v1 is tagged 'production'" in str(caught.value)
    for ref in ("m@v1", "m@production"):
        with pytest.raises(UsageError) as caught:
            store.remove(ref, all_versions=True)
        assert str(caught.value) == "--all removes every version of a model: give a bare NAME"
    with pytest.raises(ModelNotFound):
        store.remove("m@v9")
    with pytest.raises(ModelNotFound):
        store.remove("nope", all_versions=True)
    assert store.versions("m") == [1, 2] and store.verify() == []


def test_remove_moves_versions_out_and_keeps_the_other_aliases(store: Store) -> None:
    store.tag("m@v2", "staging")
    store.save("m", "propensity", _write, {})
    assert store.remove("m@production", force=True) == ["m@v1"]
    assert store.versions("m") == [2, 3]
    assert _aliases_on_disk(store, "m") == {"latest": 3, "staging": 2}
    assert store.remove("m@v3") == ["m@v3"]  # 'latest' alone does not protect
    assert _aliases_on_disk(store, "m") == {"latest": 2, "staging": 2}
    assert list((store.root / ".staging").iterdir()) == []  # the trash is emptied
    assert store.remove("m", all_versions=True, force=True) == ["m@v2"]
    assert _aliases_on_disk(store, "m") == {} and store.names() == ["z"]
    assert [p.name for p in (store.root / "m").iterdir() if p.name.startswith("v")] == []
    again = store.save("m", "propensity", _write, {})
    assert again.ref == "m@v4"  # numbers are never reused
    assert store.remove("z", all_versions=True) == ["z@v1"] and store.names() == ["m"]


def test_prune_refusals(store: Store) -> None:
    with pytest.raises(UsageError) as caught:
        store.prune(keep=-1)
    assert str(caught.value) == "--keep must be 0 or more, not -1"
    with pytest.raises(ModelNotFound):
        store.prune("nope")
    assert store.prune("m", keep=0) == []  # v1 is tagged, v2 is latest
    assert store.prune(keep=0, dry_run=True) == []


def _index_entry(store: Store, name: str, number: int) -> dict:
    return json.loads((store.root / name / "index.json").read_text())["versions"][str(number)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_record_evaluation_rewrites_the_manifest_and_its_seal(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = store.record_evaluation("m@v1", {"data": "a.csv", "metrics": {"auc": 0.7}})
    path = store.root / "m" / "v1" / "manifest.json"
    on_disk = json.loads(path.read_text())
    assert on_disk == version.manifest and on_disk["evaluations"][0]["data"] == "a.csv"
    assert _index_entry(store, "m", 1) == {"sha256": _sha(path)}  # no pending entry left
    assert store.load("m@v1").manifest["evaluations"] == on_disk["evaluations"]
    assert list((store.root / ".staging").iterdir()) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.bin", "manifest.json", "sub"]
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY)
    store.sign("m@v1")
    store.record_evaluation("m@v1", {"data": "b.csv"})
    assert _index_entry(store, "m", 1) == seal.make_entry("m", 1, _sha(path), KEY.encode())
    assert store.seals("m@v1") == {"m@v1": "signed"} and store.verify("m@v1") == []


def test_an_edited_manifest_is_never_resealed(store: Store) -> None:
    path = store.root / "m" / "v1" / "manifest.json"
    path.write_text(path.read_text().replace('"gbm"', '"xgb"'))
    edited = path.read_bytes()
    with pytest.raises(IntegrityError) as caught:
        store.record_evaluation("m@v1", {"data": "a.csv"})
    assert str(caught.value) == (
        "model m@v1 is refused: manifest.json was edited after it was published (its sha256 is "
        "not the one recorded in index.json)"
    )
    assert path.read_bytes() == edited


def test_an_unindexed_version_is_rewritten_without_an_entry(store: Store) -> None:
    index = store.root / "z" / "index.json"
    index.unlink()
    store.record_evaluation("z@v1", {"data": "a.csv"})
    assert not index.exists() and store.seals("z") == {"z@v1": "unindexed"}
    assert store.load("z@v1").manifest["evaluations"][0]["data"] == "a.csv"


@pytest.mark.parametrize("fail_at", ["manifest", "final seal"])
def test_a_rewrite_cut_short_leaves_a_sound_version(
    store: Store, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    """The new hash is recorded as 'pending' before the manifest is replaced: a crash before or
    after the replacement leaves a manifest the index accepts."""
    path = store.root / "m" / "v1" / "manifest.json"
    old_sha = _sha(path)
    real = store_module.write_json_atomic
    index_writes = []

    def failing(target: Path, data, **kwargs) -> None:  # noqa: ANN001
        if Path(target).name == "index.json":
            index_writes.append(data)
            if fail_at == "final seal" and len(index_writes) == 2:
                raise OSError(28, "No space left on device")
        elif fail_at == "manifest" and Path(target) == path:
            raise OSError(28, "No space left on device")
        real(target, data, **kwargs)

    monkeypatch.setattr(store_module, "write_json_atomic", failing)
    with pytest.raises(StoreError) as caught:
        store.record_evaluation("m@v1", {"data": "a.csv"})
    assert str(caught.value) == (
        f"the store {store.root} could not be changed: No space left on device; check its "
        "permissions and free space, or choose another --store"
    )
    monkeypatch.undo()
    entry = _index_entry(store, "m", 1)
    assert entry["sha256"] == old_sha and set(entry) == {"sha256", "pending"}
    new = json.loads(path.read_text())
    if fail_at == "manifest":
        assert _sha(path) == old_sha and new["evaluations"] == []
    else:
        assert _sha(path) == entry["pending"]["sha256"] and new["evaluations"][0]["data"] == "a.csv"
    assert store.load("m@v1").ref == "m@v1" and store.verify() == []


def test_sign_refuses_a_damaged_version_naming_its_first_problem(store: Store) -> None:
    (store.root / "m" / "v1" / "a.bin").unlink()
    (store.root / "m" / "v1" / "sub" / "b.json").unlink()
    with pytest.raises(IntegrityError) as caught:
        store.sign("m@v1")
    assert (
        str(caught.value) == "model m@v1 is damaged (m@v1: a.bin: is missing); it cannot be signed"
    )


def test_seals_of_the_store_a_model_or_a_version(store: Store) -> None:
    assert store.seals() == {"m@v1": "indexed", "m@v2": "indexed", "z@v1": "indexed"}
    assert store.seals("m") == {"m@v1": "indexed", "m@v2": "indexed"}
    assert store.seals("m@production") == {"m@v1": "indexed"}
    (store.root / "m" / "index.json").unlink()
    (store.root / "m" / "v1" / "manifest.json").write_text("{bad")  # unreadable: left out
    assert store.seals("m") == {"m@v2": "unindexed"}


def test_find_fingerprint_skips_a_damaged_newer_version(store: Store) -> None:
    data = {"training_data": {"sha256": "f" * 64}}
    store.save("fp", "demand", _write, data)
    store.save("fp", "demand", _write, data)
    store.save("fp", "demand", _write, {"training_data": {"sha256": "e" * 64}})
    assert store.find_fingerprint("fp", "f" * 64).ref == "fp@v2"
    (store.root / "fp" / "v2" / "manifest.json").write_text("{bad")
    assert store.find_fingerprint("fp", "f" * 64).ref == "fp@v1"
    (store.root / "fp" / "v1" / "a.bin").write_bytes(b"changed")
    assert store.find_fingerprint("fp", "f" * 64) is None


def test_missing_says_why_a_path_is_not_a_store(tmp_path: Path) -> None:
    assert Store(tmp_path).missing() == ""
    assert Store(tmp_path / "nope").missing() == f"the store {tmp_path / 'nope'} does not exist"
    (tmp_path / "file").write_text("x")
    assert Store(tmp_path / "file").missing() == (
        f"the store {tmp_path / 'file'} is a file, not a store directory"
    )


def test_manifest_rewrites_keep_their_temp_file_in_staging(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill -9 during the rewrite must not leave an unlisted file in the version folder."""
    real = store_module.write_json_atomic
    temp_dirs: dict[str, list] = {}

    def recording(target: Path, data, **kwargs) -> None:  # noqa: ANN001
        temp_dirs.setdefault(Path(target).name, []).append(kwargs.get("tmp_dir"))
        real(target, data, **kwargs)

    monkeypatch.setattr(store_module, "write_json_atomic", recording)
    store.record_evaluation("m@v1", {"data": "a.csv"})
    (store.root / "z" / "index.json").unlink()
    store.record_evaluation("z@v1", {"data": "a.csv"})  # unindexed: the manifest alone
    assert temp_dirs["manifest.json"] == [store.root / ".staging"] * 2


def test_verify_lists_every_problem_exactly(store: Store) -> None:
    aliases = store.root / "m" / "aliases.json"
    aliases.write_text(json.dumps({"latest": 2, "production": 1, "gone": 9}))
    manifest = store.root / "m" / "v1" / "manifest.json"
    manifest.write_text("{bad")
    (store.root / "m" / "v2" / "a.bin").unlink()
    (store.root / "z" / "aliases.json").write_text("[1]")
    edited = store.root / "z" / "v1" / "manifest.json"
    edited.write_text(edited.read_text().replace('"segment"', '"segment" '))
    unreadable = (
        f"{manifest} is unreadable (Expecting property name enclosed in double quotes: line 1 "
        "column 2 (char 1)); the version m@v1 is damaged: restore it from an export or remove "
        "it with `mktai models rm m@v1 --force`"
    )
    m_problems = [
        ("m@gone", "aliases.json", "points to v9, which is gone"),
        ("m@v1", "manifest.json", unreadable),
        ("m@v2", "a.bin", "is missing"),
    ]
    z_problems = [
        ("z", "aliases.json", f"{store.root / 'z' / 'aliases.json'} is not a JSON object; fix or "
         "delete it"),
        ("z@v1", "manifest.json", "manifest.json was edited after it was published (its sha256 "
         "is not the one recorded in index.json)"),
    ]  # fmt: skip

    def found(ref: str | None = None) -> list[tuple]:
        return [(p.ref, p.file, p.message) for p in store.verify(ref)]

    assert found() == m_problems + z_problems
    assert found("m") == m_problems and found("z") == z_problems
    assert found("m@v2") == [m_problems[0], m_problems[2]]
    assert found("z@v1") == z_problems
    with pytest.raises(ModelNotFound):
        store.verify("nope")


def test_an_evaluation_starts_the_list_when_the_manifest_has_none(store: Store) -> None:
    (store.root / "z" / "index.json").unlink()  # unindexed, so the manifest may be edited
    path = store.root / "z" / "v1" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["evaluations"]
    path.write_text(json.dumps(manifest))
    store.record_evaluation("z@v1", {"data": "a.csv"})
    [record] = json.loads(path.read_text())["evaluations"]
    assert set(record) == {"at", "data"} and record["data"] == "a.csv"


def test_prune_keeps_three_by_default_and_only_touches_the_model_named(store: Store) -> None:
    for _ in range(4):
        store.save("z", "segment", _write, {})
    store.save("m", "propensity", _write, {})
    assert store.prune("z") == ["z@v1", "z@v2"]
    assert store.versions("z") == [3, 4, 5] and store.versions("m") == [1, 2, 3]
    assert store.prune("z", keep=1) == ["z@v3", "z@v4"]
    assert store.versions("m") == [1, 2, 3]  # m@v2 would go with keep=1: m was not named
    assert store.prune(keep=1) == ["m@v2"]


def test_load_names_the_first_damaged_file_and_counts_the_rest(store: Store) -> None:
    (store.root / "m" / "v2" / "a.bin").unlink()
    with pytest.raises(IntegrityError) as caught:
        store.load("m@v2")
    fix = "restore it from an export or retrain, and remove it with `mktai models rm m@v2 --force`"
    assert str(caught.value) == (
        f"model m@v2 is damaged: file 'a.bin' is missing; see `mktai models verify m@v2`, then {fix}"
    )
    (store.root / "m" / "v2" / "sub" / "b.json").write_text("[2]")
    (store.root / "m" / "v2" / "extra").write_text("x")
    with pytest.raises(IntegrityError) as caught:
        store.load("m@v2")
    assert str(caught.value) == (
        "model m@v2 is damaged: file 'a.bin' is missing (and 2 more problem(s)); see "
        f"`mktai models verify m@v2`, then {fix}"
    )


def test_load_refuses_an_edited_or_unsigned_manifest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.root / "z" / "v1" / "manifest.json"
    path.write_text(path.read_text().replace('"segment"', '"segment" '))
    with pytest.raises(IntegrityError) as caught:
        store.load("z")
    assert str(caught.value) == (
        "model z@v1 is refused: its manifest.json was edited after it was published (its sha256 "
        "is not the one recorded in index.json); restore it from an export or retrain, and "
        "remove it with `mktai models rm z@v1 --force`"
    )
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY)
    with pytest.raises(IntegrityError) as caught:
        store.load("m@v2")
    assert str(caught.value) == (
        "model m@v2 is refused: it is not signed with the store key (MKTAI_STORE_KEY); check it "
        "and sign it with `mktai models sign m@v2`; see `mktai models verify m@v2`"
    )
    store.sign("m@v2")
    assert store.load("m@v2").ref == "m@v2"
    monkeypatch.setenv("MKTAI_STORE_KEY", "o" * 32)  # another key: the signature is checked
    with pytest.raises(IntegrityError, match=r"^model m@v2 is refused: it was signed with another"):
        store.load("m@v2")


def test_list_keeps_the_versions_after_a_damaged_one(store: Store) -> None:
    (store.root / "m" / "v1" / "manifest.json").write_text("{bad")
    [first, second] = store.list("m")[0]["versions"]
    assert set(first) == {"version", "ref", "aliases", "error"} and first["ref"] == "m@v1"
    assert second == _version(store, "m@v2", "linear", {}, ["latest"])


def test_a_version_that_is_a_link_or_of_the_wrong_shape_is_refused(
    store: Store, tmp_path: Path
) -> None:
    import shutil

    version_dir = store.root / "m" / "v2"
    outside = tmp_path / "outside-v2"
    shutil.move(version_dir, outside)
    version_dir.symlink_to(outside)
    with pytest.raises(IntegrityError) as caught:
        store.get("m@v2")
    assert str(caught.value) == (
        f"{version_dir} is a symbolic link (to {outside}); a version must live inside the "
        "store: m@v2 is refused — remove the link and import a real export instead"
    )
    path = store.root / "z" / "v1" / "manifest.json"
    path.write_text(path.read_text().replace('"kind": "segment"', '"kind": 5'))
    with pytest.raises(IntegrityError) as caught:
        store.get("z@v1")
    assert str(caught.value) == (
        f"{path} is damaged ('kind' is 5, not a model kind); restore z@v1 from an export or "
        "remove it with `mktai models rm z@v1 --force`"
    )


def test_seal_of_a_version_just_saved_reads_its_manifest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = store.save("n", "demand", _write, {})
    assert saved.manifest_sha256 is None  # not read back: the seal hashes the file
    assert store.seal_of(saved) == seal.Seal("indexed")
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY)
    signed = store.save("n", "demand", _write, {})
    assert store.seal_of(signed) == seal.Seal("signed")
    monkeypatch.setenv("MKTAI_STORE_KEY", "o" * 32)
    assert store.seal_of(signed).problem.startswith("was signed with another key")


def test_references_that_find_nothing_say_what_there_is(store: Store, tmp_path: Path) -> None:
    def refused(target: Store, ref: str) -> str:
        with pytest.raises(ModelNotFound) as caught:
            target.resolve(ref)
        return str(caught.value)

    assert refused(Store(tmp_path / "empty"), "m") == (
        "no model named 'm' in the store (it is empty); train one with `mktai train` or check "
        "--store"
    )
    assert refused(store, "nope") == (
        f"no model named 'nope' in the store (models in {store.root}: m, z); train one with "
        "`mktai train` or check --store"
    )
    assert refused(store, "m@v9") == "model 'm' has no version v9 (it has v1, v2)"
    assert refused(store, "m@beta") == (
        "model 'm' has no alias 'beta' (aliases: latest, production; versions: v1, v2); set it "
        "with `mktai models tag m@vN beta`"
    )
    (store.root / "m" / "aliases.json").write_text(json.dumps({"gone": 9}))
    assert refused(store, "m@gone") == (
        "alias m@gone points to v9, which no longer exists; re-tag it with "
        "`mktai models tag m@vN gone`"
    )


def test_load_counts_one_more_problem(store: Store) -> None:
    (store.root / "m" / "v2" / "a.bin").unlink()
    (store.root / "m" / "v2" / "extra").write_text("x")
    with pytest.raises(
        IntegrityError, match=r"file 'a\.bin' is missing \(and 1 more problem\(s\)\);"
    ):
        store.load("m@v2")
