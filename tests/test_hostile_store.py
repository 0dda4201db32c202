"""Hostile store contents: damaged manifests, aliases and counters, mistyped model files,
tampered and symlinked versions, missing stores. Everything is written for real on disk and
run through the real CLI (typer's runner, in process): exit codes come from the error types.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than any JSON parser's recursion limit


def _write(directory: Path) -> None:
    (directory / "model.json").write_text(json.dumps({"coef": [0.1, 0.2]}))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    repo = Store(tmp_path / "store")
    repo.save("churn", "propensity", _write, {"algorithm": "gbm", "metrics": {"auc": 0.8}})
    repo.save("churn", "propensity", _write, {"algorithm": "linear"})
    repo.save("reviews", "sentiment", _write, {"algorithm": "ngram"})
    return repo


def run(store: Store, *args: str):
    return runner.invoke(app, ["--store", str(store.root), *args])


def _edit_manifest(store: Store, ref: str, change) -> None:  # noqa: ANN001
    path = store.get(ref).path / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _one_line(result) -> str:  # noqa: ANN001
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" not in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m["files"]["model.json"].update(bytes=None),
        lambda m: m.update(files=["model.json"]),
        lambda m: m.update(kind=["propensity"]),
        lambda m: m.update(created_at=12),
        lambda m: m.update(metrics={"deep": json.loads("[" * 50 + "]" * 50)}),
    ],
    ids=["bytes-null", "files-list", "kind-list", "created-int", "nested-50"],
)
def test_mistyped_manifest_is_a_damaged_version_not_a_crash(store: Store, damage) -> None:  # noqa: ANN001
    _edit_manifest(store, "churn@v1", damage)
    listed = run(store, "models", "list", "--json")
    assert listed.exit_code == 0, listed.output
    models = {m["name"]: m for m in json.loads(listed.stdout)}
    assert (
        "error" in models["churn"]["versions"][0]
        and "damaged" in models["churn"]["versions"][0]["error"]
    )
    assert "error" not in models["churn"]["versions"][1] and "reviews" in models
    table = run(store, "models", "list")
    assert table.exit_code == 0 and "damaged" in table.stdout
    verified = run(store, "models", "verify")
    assert verified.exit_code == 3 and "churn@v1" in verified.stdout
    loaded = run(store, "models", "export", "churn@v1", "-o", str(store.root.parent / "x.tar.gz"))
    assert loaded.exit_code == 3 and "damaged" in _one_line(loaded)
    assert (
        run(
            store, "models", "export", "reviews", "-o", str(store.root.parent / "r.tar.gz")
        ).exit_code
        == 0
    )


def test_deeply_nested_manifest_aliases_and_counter(store: Store) -> None:
    (store.get("churn@v1").path / "manifest.json").write_text('{"files": {}, "x": ' + DEEP + "}")
    (store.root / "churn" / "aliases.json").write_text(DEEP)
    (store.root / "reviews" / "counter.json").write_text(DEEP)
    listed = run(store, "models", "list", "--json")
    assert listed.exit_code == 0, listed.output
    churn = next(m for m in json.loads(listed.stdout) if m["name"] == "churn")
    assert "nested too deeply" in churn["versions"][0]["error"] and "aliases.json" in churn["error"]
    verified = run(store, "models", "verify")
    assert verified.exit_code == 3, verified.output
    shown = run(store, "models", "show", "churn@v1")
    assert shown.exit_code == 3 and "nested too deeply" in _one_line(shown)
    # a save still finds the next number (counter.json is only a hint)
    assert store.save("reviews", "sentiment", _write, {}).version == 2


def test_import_refuses_a_manifest_with_null_bytes(store: Store, tmp_path: Path) -> None:
    archive = store.export("reviews", tmp_path / "r.tar.gz")
    hostile = tmp_path / "null.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(hostile, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.endswith("manifest.json"):
                manifest = json.loads(data)
                manifest["files"]["model.json"]["bytes"] = None
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = Store(tmp_path / "target")
    result = run(target, "models", "import", str(hostile))
    assert result.exit_code == 2 and "bytes null" in _one_line(result)
    assert target.names() == [] and run(target, "models", "list").exit_code == 0


def test_model_file_without_its_schema_is_a_damaged_version(tmp_path: Path) -> None:
    from mktai.tasks.supervised.family import MODEL_FORMAT

    store = Store(tmp_path / "store")
    info = {"format": MODEL_FORMAT, "kind": "propensity", "algorithm": "gbm", "task": "binary"}
    store.save("p", "propensity", lambda d: (d / "model.json").write_text(json.dumps(info)), {})
    data = tmp_path / "rows.csv"
    data.write_text("age,balance\n30,100\n40,200\n")
    result = run(store, "predict", str(data), "-m", "p", "-o", str(tmp_path / "scores.csv"))
    assert result.exit_code == 3, result.output
    assert "input_schema" in _one_line(result) and "p@v1" in result.stderr


# ---------------------------------------------------------------- item 6: exit 2/3, never 70
def _sentiment_version(store: Store, route_files: dict[str, bytes], algorithm: str) -> None:
    """A stored sentiment version whose files are consistent with its manifest (as after an
    import of a hostile but well-hashed archive)."""
    meta = {
        "format": "mktai-sentiment/1",
        "algorithm": algorithm,
        "classes": ["0", "1"],
        "names": {"0": "negative", "1": "positive"},
        "routes": {"*": "all"},
    }

    def write(directory: Path) -> None:
        (directory / "model.json").write_text(json.dumps(meta))
        (directory / "all").mkdir()
        (directory / "all" / "classifier.json").write_text(
            '{"classes": ["0", "1"], "link": "softmax"}'
        )
        for name, data in route_files.items():
            (directory / "all" / name).write_bytes(data)

    store.save("r", "sentiment", write, {"algorithm": algorithm})


def test_sentiment_npz_with_an_object_array_is_exit_3(tmp_path: Path) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, coef=np.array([{"pickled": "object"}], dtype=object), intercept=np.zeros(2))
    store = Store(tmp_path / "store")
    _sentiment_version(store, {"classifier.npz": buffer.getvalue()}, "linear")
    result = run(store, "sentiment", "--model", "r", "a great product")
    assert result.exit_code == 3, result.output
    assert "classifier.npz" in _one_line(result)


def _keras_file(layer: dict) -> bytes:
    import zipfile

    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [layer]},
        "registered_name": None,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
    return buffer.getvalue()


LAMBDA = {  # marshalled `lambda x: x * 2`, as Keras writes a Lambda layer
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {
        "name": "l",
        "function": {
            "class_name": "__lambda__",
            "config": {
                "code": "4wAAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARQAUwA=",
                "defaults": None,
            },
        },
        "arguments": {},
    },
    "registered_name": None,
}


@pytest.mark.deep
def test_keras_lambda_layer_or_module_reference_is_exit_3(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="the keras sentiment model needs TensorFlow")
    marker = tmp_path / "PWNED"
    module_ref = {
        "module": "os",
        "class_name": "system",
        "config": {"command": f"touch {marker}"},
        "registered_name": None,
    }
    for layer in (LAMBDA, module_ref):
        store = Store(tmp_path / f"store-{layer['class_name']}")
        _sentiment_version(store, {"model.keras": _keras_file(layer)}, "keras")
        result = run(store, "sentiment", "--model", "r", "a great product")
        assert result.exit_code == 3, result.output
        assert "model.keras" in _one_line(result) and "safe mode" in result.stderr
    assert not marker.exists()  # and nothing ran


def test_staging_linked_out_of_the_store_is_refused_not_70(tmp_path: Path) -> None:
    """A .staging that is a symlink to a read-only place (/sys refuses even root): train and
    import would write, and clean up, outside the store."""
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs /sys (a read-only filesystem even for root)")
    source = Store(tmp_path / "source")
    source.save("churn", "propensity", _write, {})
    archive = source.export("churn", tmp_path / "c.tar.gz")
    store = Store(tmp_path / "store")
    store.root.mkdir()
    (store.root / ".staging").symlink_to("/sys/kernel")
    imported = run(store, "models", "import", str(archive))
    assert imported.exit_code == 3 and "symbolic link" in _one_line(imported)
    reviews = ROOT / "sample_data" / "reviews.csv"
    trained = run(store, "train", "sentiment", str(reviews), "--name", "r", "--cv", "0")
    assert trained.exit_code == 3 and "symbolic link" in _one_line(trained)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_store_is_exit_3(tmp_path: Path) -> None:
    source = Store(tmp_path / "source")
    source.save("churn", "propensity", _write, {})
    archive = source.export("churn", tmp_path / "c.tar.gz")
    store = Store(tmp_path / "store")
    store.save("other", "demand", _write, {})
    (store.root / ".staging").chmod(0o555)
    try:
        imported = run(store, "models", "import", str(archive))
        assert imported.exit_code == 3 and "permission" in _one_line(imported).lower()
    finally:
        (store.root / ".staging").chmod(0o755)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_output_is_one_line_exit_2(tmp_path: Path) -> None:
    data = ROOT / "sample_data" / "transactions_sample.csv"
    ingested = runner.invoke(app, ["ingest", str(data), "-o", "/dev/full"])
    assert ingested.exit_code == 2 and "No space left" in _one_line(ingested)
    scored = runner.invoke(app, ["sentiment", "a great product", "-o", "/dev/full"])
    # (sentiment prints its summary line before writing the results)
    last = scored.stderr.strip().splitlines()[-1]
    assert scored.exit_code == 2 and "No space left" in last and "internal" not in scored.stderr
    assert list(Path("/dev").glob(".full.*")) == []


# ---------------------------------------------------------------- item 7: manifest seals
KEY_A = "a" * 32
KEY_B = "b" * 32


def _bump_threshold(manifest: dict) -> None:
    manifest["threshold"] = 0.01
    manifest.setdefault("metrics", {})["auc"] = 0.99


def test_edited_manifest_is_refused_and_reported(store: Store, tmp_path: Path) -> None:
    _edit_manifest(store, "churn@v1", _bump_threshold)  # file hashes left alone
    verified = run(store, "models", "verify")
    assert verified.exit_code == 3 and "churn@v1: manifest.json" in verified.stdout
    assert "edited" in verified.stdout and "churn@v2" not in verified.stdout
    loaded = run(store, "models", "export", "churn@v1", "-o", str(tmp_path / "x.tar.gz"))
    assert loaded.exit_code == 3 and "edited" in _one_line(loaded)
    listed = run(store, "models", "list")
    assert listed.exit_code == 0 and "damaged" in listed.stdout and "edited" in listed.stderr
    assert run(store, "models", "verify", "churn@v2").exit_code == 0


@pytest.mark.parametrize("what", ["manifest", "version"])
def test_symlink_to_a_copy_outside_the_store_is_refused(store: Store, tmp_path: Path, what) -> None:  # noqa: ANN001
    import shutil

    version = store.get("churn@v2").path
    outside = tmp_path / "outside"
    shutil.copytree(version, outside)
    if what == "manifest":
        (version / "manifest.json").unlink()
        (version / "manifest.json").symlink_to(outside / "manifest.json")
    else:
        shutil.rmtree(version)
        version.symlink_to(outside, target_is_directory=True)
    verified = run(store, "models", "verify")
    assert verified.exit_code == 3 and "symbolic link" in verified.stdout
    loaded = run(store, "models", "export", "churn@v2", "-o", str(tmp_path / "x.tar.gz"))
    assert loaded.exit_code == 3 and "symbolic link" in _one_line(loaded)
    assert (
        run(store, "models", "export", "churn@v1", "-o", str(tmp_path / "y.tar.gz")).exit_code == 0
    )


def test_signed_store_refuses_versions_it_did_not_sign(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    store = Store(tmp_path / "store")
    store.save("plain", "demand", _write, {})  # no key: indexed only
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY_A)
    store.save("churn", "propensity", _write, {"threshold": 0.5})
    ok = run(store, "models", "verify", "churn")
    assert ok.exit_code == 0 and "1 signed" in ok.stderr
    unsigned = run(store, "models", "verify", "plain")
    assert unsigned.exit_code == 3 and "not signed" in unsigned.stdout
    # an edit that also rewrites the recorded hash still lacks a valid signature
    _edit_manifest(store, "churn@v1", _bump_threshold)
    index = store.root / "churn" / "index.json"
    data = json.loads(index.read_text())
    manifest = store.get("churn@v1").path / "manifest.json"
    data["versions"]["1"]["sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    index.write_text(json.dumps(data))
    forged = run(store, "models", "export", "churn", "-o", str(tmp_path / "x.tar.gz"))
    assert forged.exit_code == 3 and "does not match its manifest" in _one_line(forged)
    # another machine with another key refuses what this one signed
    store.save("fresh", "demand", _write, {})
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY_B)
    other = run(store, "models", "verify", "fresh")
    assert other.exit_code == 3 and "another key" in other.stdout
    # adopting a version: sign it under the current key after checking its files
    assert run(store, "models", "sign", "plain").exit_code == 0
    assert run(store, "models", "verify", "plain").exit_code == 0
    monkeypatch.setenv("MKTAI_STORE_KEY", "short")
    short = run(store, "models", "verify")
    assert short.exit_code == 2 and "at least 16" in _one_line(short)


def test_old_store_without_index_still_loads_as_unindexed(store: Store, tmp_path: Path) -> None:
    for index in store.root.glob("*/index.json"):
        index.unlink()  # a store written before manifest seals
    verified = run(store, "models", "verify")
    assert verified.exit_code == 0 and "3 unindexed" in verified.stderr
    listed = json.loads(run(store, "models", "list", "--json").stdout)
    assert {v["seal"] for m in listed for v in m["versions"]} == {"unindexed"}
    assert run(store, "models", "export", "churn", "-o", str(tmp_path / "x.tar.gz")).exit_code == 0
    store.record_evaluation("churn@v1", {"metrics": {"auc": 0.7}})  # still writable
    assert store.load("churn@v1").manifest["evaluations"][-1]["metrics"] == {"auc": 0.7}


def test_store_rewrites_and_imports_keep_seals_valid(
    store: Store, tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    store.record_evaluation("churn@v2", {"metrics": {"auc": 0.75}})
    assert store.verify() == [] and store.seals()["churn@v2"] == "indexed"
    archive = store.export("reviews", tmp_path / "r.tar.gz")
    monkeypatch.setenv("MKTAI_STORE_KEY", KEY_A)  # the target machine signs what it imports
    target = Store(tmp_path / "target")
    imported = target.import_(archive)
    assert target.seals() == {imported.ref: "signed"} and target.verify() == []
    monkeypatch.delenv("MKTAI_STORE_KEY")
    _edit_manifest(store, "churn@v1", _bump_threshold)
    from mktai.errors import IntegrityError

    with pytest.raises(IntegrityError, match="edited"):
        store.record_evaluation("churn@v1", {"metrics": {}})  # never re-seals an edit


# ---------------------------------------------------------------- item 8: missing store
def test_verify_of_a_missing_or_plain_file_store_is_exit_3(tmp_path: Path) -> None:
    plain = tmp_path / "store.txt"
    plain.write_text("not a store")
    for path, what in ((tmp_path / "typo-store", "does not exist"), (plain, "is a file")):
        verified = runner.invoke(app, ["--store", str(path), "models", "verify"])
        assert verified.exit_code == 3 and what in _one_line(verified)
        listed = runner.invoke(app, ["--store", str(path), "models", "list"])
        assert listed.exit_code == 0 and what in listed.stderr and listed.stdout == ""
        as_json = runner.invoke(app, ["--store", str(path), "models", "list", "--json"])
        assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
    assert not (tmp_path / "typo-store").exists()  # looking did not create it


# ---------------------------------------------------------------- item 10: escape injection
ESC = "\x1b[2J\x1b]0;owned\x07"  # clear the screen, retitle the terminal


def test_control_characters_are_shown_never_sent_to_the_terminal(tmp_path: Path) -> None:
    data = tmp_path / "esc.csv"
    data.write_text(f"id,na{ESC}me,amount\n1,x,3\n2,y,4\n")
    ingested = runner.invoke(app, ["ingest", str(data), "-o", str(tmp_path / "out.csv")])
    assert ingested.exit_code == 0 and "\x1b" not in ingested.stderr + ingested.stdout
    assert "na\\x1b[2J" in ingested.stderr  # the column is still recognisable
    mapped = runner.invoke(
        app, ["ingest", str(data), "-o", str(tmp_path / "o.csv"), "--map", "amount=nope"]
    )
    assert mapped.exit_code == 2 and "\x1b" not in mapped.stderr and "\\x07" in _one_line(mapped)
    store = Store(tmp_path / "store")
    version = store.save("m", "demand", _write, {"algorithm": f"gbm{ESC}"})
    (version.path / f"extra{ESC}.bin").write_bytes(b"x")
    listed = run(store, "models", "list")
    assert listed.exit_code == 0 and "\x1b" not in listed.stdout and "gbm\\x1b" in listed.stdout
    verified = run(store, "models", "verify")
    assert verified.exit_code == 3 and "\x1b" not in verified.stdout + verified.stderr
    assert "extra\\x1b[2J" in verified.stdout
