"""The CLI contract shared by every command: one-line errors, exit codes, MKTAI_DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from mktai.cli.app import app

runner = CliRunner()


def _mktai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "MKTAI_DEBUG"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_version_prints_and_exits_zero():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("mktai ")


def test_a_missing_model_is_one_line_exit_3():
    # recommend and forecast are built now: a model that is not in the store is a store error
    for command in (["recommend", "--model", "nosuch", "--user", "1"],
                    ["forecast", "--model", "nosuch", "--horizon", "3"]):  # fmt: skip
        result = _mktai("--store", "/nonexistent-mktai-store", *command)
        assert result.returncode == 3, (command, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "nosuch" in lines[0], lines
        assert "Traceback" not in result.stderr


def test_missing_input_file_is_one_line_exit_2():
    result = _mktai("ingest", "does-not-exist.csv")
    assert result.returncode == 2
    assert "does-not-exist.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_env_shows_traceback():
    result = _mktai("ingest", "does-not-exist.csv", env={"MKTAI_DEBUG": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "InputError" in result.stderr


def test_unknown_option_is_usage_error():
    result = runner.invoke(app, ["ingest", "--no-such-option", "x.csv"])
    assert result.exit_code == 2


def test_store_env_var_is_used(monkeypatch, tmp_path):
    from mktai.cli.options import resolve_store

    monkeypatch.setenv("MKTAI_STORE", str(tmp_path / "s"))
    assert str(resolve_store(None, None)) == str(tmp_path / "s")
    monkeypatch.delenv("MKTAI_STORE")
    assert str(resolve_store(None, None)) == "mktai-store"


def test_output_to_dev_null_and_rejects_stay_in_the_working_dir(tmp_path, monkeypatch):
    """-o /dev/null is a common way to only see the summary; it must not fail or touch /dev."""
    import os

    if not os.path.exists("/dev/null"):
        return
    data = tmp_path / "orders.csv"
    data.write_text("customer_id,date,amount\nc1,2024-01-05,10\nc1,2024-01-05,10\nc2,,5\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", str(data), "-o", "/dev/null"])
    assert result.exit_code == 0, result.output
    rejects = (tmp_path / "orders.rejects.csv").read_text()
    assert "exact duplicate" in rejects and "missing date" in rejects
