"""`mktai models` through the real CLI: output streams, --json, exit codes 0/2/3."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.store import Store

runner = CliRunner()


def _write(directory: Path) -> None:
    (directory / "model.json").write_text(json.dumps({"coef": [0.1, 0.2]}))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    repo = Store(tmp_path / "store")
    metrics = {"cv": {"roc_auc": {"mean": 0.81, "std": 0.01}}, "holdout": {"roc_auc": 0.7912}}
    for algorithm in ("linear", "gbm", "mlp"):
        repo.save("churn", "propensity", _write, {"algorithm": algorithm, "metrics": metrics})
    repo.save("reviews", "sentiment", _write, {"algorithm": "ngram"})
    return repo


def run(store: Store, *args: str):
    return runner.invoke(app, ["--store", str(store.root), "models", *args])


def test_list_table_and_json(store: Store) -> None:
    result = run(store, "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "VERSION", "ALIASES"]
    assert any(line.split()[:3] == ["churn", "v3", "latest"] for line in lines)
    assert any("holdout.roc_auc=0.7912" in line for line in lines)
    as_json = json.loads(run(store, "list", "--json").stdout)
    assert [m["name"] for m in as_json] == ["churn", "reviews"]
    assert [v["algorithm"] for v in as_json[0]["versions"]] == ["linear", "gbm", "mlp"]
    # global options work before the command, command options after it
    after = runner.invoke(app, ["models", "list", "reviews", "--json", "--store", str(store.root)])
    assert [m["name"] for m in json.loads(after.stdout)] == ["reviews"]


def test_list_survives_one_unreadable_aliases_file(store: Store) -> None:
    (store.root / "churn" / "aliases.json").write_text("{broken", encoding="utf-8")
    result = run(store, "list")
    assert result.exit_code == 0, result.stderr
    assert any(line.split()[:2] == ["reviews", "v1"] for line in result.stdout.splitlines())
    assert "aliases.json is unreadable" in result.stderr
    as_json = json.loads(run(store, "list", "--json").stdout)
    assert [m["name"] for m in as_json] == ["churn", "reviews"]
    assert "unreadable" in as_json[0]["error"]
    assert run(store, "verify").exit_code == 3  # still a problem for verify


def test_list_empty_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "list", "--store", str(tmp_path / "none")])
    assert result.exit_code == 0 and result.stdout == "" and "no models" in result.stderr
    result = runner.invoke(app, ["--json", "models", "list", "--store", str(tmp_path / "none")])
    assert json.loads(result.stdout) == []


def test_show(store: Store) -> None:
    result = run(store, "show", "churn@v2", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == store.load("churn@v2").manifest
    text = run(store, "show", "churn")
    assert text.exit_code == 0 and "churn@v3" in text.stdout and "integrity   ok" in text.stdout
    assert "model.json" in text.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "nope"], 3, "no model named 'nope'"),
        (["show", "churn@v9"], 3, "no version v9"),
        (["show", "churn@prod"], 3, "no alias 'prod'"),
        (["verify", "nope"], 3, "no model named"),
        (["show", "../etc"], 2, "invalid model name"),
        (["export", "bad/name", "-o", "x.tar.gz"], 2, "invalid model name"),
        (["tag", "churn@v1", "v2"], 2, "invalid alias"),
        (["tag", "churn@v1", "latest"], 2, "latest"),
        (["rm", "churn"], 2, "--all"),
        (["rm", "churn@v1", "--all"], 2, "bare NAME"),
    ],
)
def test_exit_codes(store: Store, args: list[str], code: int, message: str) -> None:
    result = run(store, *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2


def test_prune_requires_keep(store: Store) -> None:
    result = run(store, "prune")
    assert result.exit_code == 2 and "--keep" in result.stderr
    assert store.versions("churn") == [1, 2, 3]


def test_tag_untag_rm_prune(store: Store) -> None:
    assert run(store, "tag", "churn@v1", "production").exit_code == 0
    moved = run(store, "tag", "churn@2", "production", "--json")
    assert json.loads(moved.stdout) == {
        "alias": "churn@production",
        "ref": "churn@v2",
        "previous": 1,
    }
    refused = run(store, "rm", "churn@production")
    assert refused.exit_code == 2 and "untag" in refused.stderr
    dry = run(store, "prune", "--keep", "1", "--dry-run", "--json")
    assert json.loads(dry.stdout) == {"removed": ["churn@v1"], "dry_run": True}
    assert store.versions("churn") == [1, 2, 3]
    pruned = run(store, "prune", "--keep", "1")
    assert pruned.exit_code == 0 and "churn@v1" in pruned.stderr
    assert store.versions("churn") == [2, 3] and store.versions("reviews") == [1]
    assert run(store, "untag", "churn", "production").exit_code == 0
    assert run(store, "rm", "churn@v2", "--quiet").stderr == ""
    assert store.versions("churn") == [3]
    removed = run(store, "rm", "churn", "--all", "--json")
    assert json.loads(removed.stdout) == {"removed": ["churn@v3"]}
    assert [m["name"] for m in store.list()] == ["reviews"]


def test_verify_lists_each_problem_and_exits_3(store: Store) -> None:
    ok = run(store, "verify")
    assert ok.exit_code == 0 and ok.stdout == "" and "verified" in ok.stderr
    (store.root / "churn" / "v1" / "model.json").write_text("{}")
    (store.root / "reviews" / "v1" / "model.json").unlink()
    result = run(store, "verify")
    assert result.exit_code == 3
    size = len(json.dumps({"coef": [0.1, 0.2]}).encode())
    assert result.stdout.splitlines() == [
        f"churn@v1: model.json: is truncated (2 bytes, manifest says {size})",
        "reviews@v1: model.json: is missing",
    ]
    assert "2 problem(s)" in result.stderr
    assert run(store, "verify", "churn@v2").exit_code == 0
    as_json = json.loads(run(store, "verify", "reviews", "--json").stdout)
    assert as_json == {
        "ok": False,
        "problems": [{"ref": "reviews@v1", "file": "model.json", "problem": "is missing"}],
    }


def test_export_import_cli(store: Store, tmp_path: Path) -> None:
    archive = tmp_path / "churn.tar.gz"
    result = run(store, "export", "churn@v2", "-o", str(archive))
    assert result.exit_code == 0 and archive.is_file(), result.stderr
    other = Store(tmp_path / "other")
    imported = runner.invoke(
        app, ["models", "import", str(archive), "--store", str(other.root), "--json"]
    )
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["ref"] == "churn@v1"
    assert json.loads(imported.stdout)["from"] == "churn@v2"
    assert other.load("churn").manifest["algorithm"] == "gbm"
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        info = tarfile.TarInfo("churn-v1/../../../../tmp/pwned")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    refused = runner.invoke(app, ["models", "import", str(hostile), "--store", str(other.root)])
    assert refused.exit_code == 2 and "refusing archive member" in refused.stderr
    assert other.versions("churn") == [1]


def test_lock_timeout_exit_3(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    monkeypatch.setenv("MKTAI_LOCK_TIMEOUT", "0.1")
    with FileLock(str(store.root / ".lock")):
        result = run(store, "tag", "churn@v1", "production")
    assert result.exit_code == 3 and "lock" in result.stderr
    assert run(store, "list").exit_code == 0  # reading never needs the lock


def test_demo_step(store: Store, tmp_path: Path) -> None:
    from mktai.cli.demo import Tour

    tour = Tour(sample_data=tmp_path, out=tmp_path / "out", store=store.root)
    tour.out.mkdir()
    tour.section("models")
    [(label, archive)] = tour.outputs
    assert "churn" in label and archive.is_file()
    assert Store(tmp_path / "x").import_(archive).manifest["algorithm"] == "mlp"


def test_a_store_that_cannot_be_changed_is_exit_3_not_an_internal_error(store: Store) -> None:
    # aliases.json replaced by a directory: the rename that moves an alias fails with an
    # OSError, which used to surface as "internal error" (exit 70)
    path = store.root / "churn" / "aliases.json"
    path.unlink()
    path.mkdir()
    result = run(store, "tag", "churn@v1", "production")
    assert result.exit_code == 3, result.stderr
    assert "could not be changed" in result.stderr and "aliases.json" in result.stderr
    assert "internal error" not in result.stderr
