"""README promises about failure: --strict on every command that has it, atomic outputs that keep
the previous good file on any failure, exit 70 for a real internal error, a closed stdout.

The internal error is a real fault injected without a product hook: a small `-c` wrapper (what a
user's own script could do) replaces one library function with one that raises RuntimeError, then
runs the console-script entry point `mktai.cli.app.main` in a fresh process.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

# argv: MODULE ATTR then mktai's own arguments
FAULT = r"""
import importlib, sys
module, attr = sys.argv[1], sys.argv[2]
def injected_fault(*args, **kwargs):
    raise RuntimeError("injected fault")
setattr(importlib.import_module(module), attr, injected_fault)
sys.argv = ["mktai", *sys.argv[3:]]
from mktai.cli.app import main
main()
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MKTAI_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


class Run:
    """What a finished mktai run left: exit code and stderr (in-process, through click)."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr = returncode, stderr


def mktai(*args: str) -> Run:
    """Run mktai in-process (the --strict tests need no fresh process; faults below do)."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stderr)


def mktai_with_fault(target: str, *args: str, debug: bool = False) -> subprocess.CompletedProcess:
    module, attr = target.rsplit(".", 1)
    env = _env(MKTAI_DEBUG="1") if debug else _env()
    return subprocess.run(
        [sys.executable, "-c", FAULT, module, attr, *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def _one_error_line(stderr: str, start: str = "error: ") -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and lines[0].startswith(start), stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture()
def orders_with_reject(tmp_path: Path) -> Path:
    """500 distinct sample transaction lines plus one line without a date: exactly one reject."""
    lines = (SAMPLE / "transactions_sample.csv").read_text(encoding="utf-8").splitlines()[:601]
    lines = list(dict.fromkeys(lines))[:501]  # header + 500 distinct lines
    lines.append("599999,22180,NO DATE LAMP,8,,9.95,13747,United Kingdom")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


OLD = "previous,good\noutput,kept\n"


def _old_output(path: Path) -> Path:
    path.write_text(OLD, encoding="utf-8")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


def _assert_untouched(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == OLD, f"{path} was replaced or damaged"
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], leftovers


# --------------------------------------------------------------------------- --strict


def test_ingest_strict_exits_2_and_keeps_the_previous_output(tmp_path, orders_with_reject):
    out = _old_output(tmp_path / "clean.csv")
    report = tmp_path / "r.json"
    strict = mktai("ingest", str(orders_with_reject), "-o", str(out), "--report", str(report),
                   "--strict")  # fmt: skip
    assert strict.returncode == 2, strict.stderr
    line = _one_error_line(strict.stderr)
    assert "1 rows rejected" in line and "--strict" in line and "was not written" in line
    _assert_untouched(out)
    # the rejects and the report are still written, to show why
    assert "missing date" in (tmp_path / "clean.rejects.csv").read_text(encoding="utf-8")
    assert report.is_file()
    # control: the same run without --strict replaces the old output
    relaxed = mktai("ingest", str(orders_with_reject), "-o", str(out), "-q")
    assert relaxed.returncode == 0, relaxed.stderr
    assert len(pd.read_csv(out)) == 500


def test_segment_strict_exits_2_and_writes_nothing(tmp_path, orders_with_reject):
    out = _old_output(tmp_path / "customers.csv")
    strict = mktai("segment", str(orders_with_reject), "--k", "off", "-o", str(out), "--strict")
    assert strict.returncode == 2, strict.stderr
    assert "--strict" in _one_error_line(strict.stderr)
    _assert_untouched(out)
    relaxed = mktai("segment", str(orders_with_reject), "--k", "off", "-o", str(out), "-q")
    assert relaxed.returncode == 0, relaxed.stderr
    assert "customer" in pd.read_csv(out).columns


def test_sentiment_strict_exits_2_and_writes_nothing(tmp_path):
    reviews = _write_csv(
        tmp_path / "reviews.csv",
        ["id", "review"],
        [["r1", "Great product, fast delivery"], ["r3", "质量很差，不会再买了"]],
    )
    # a ragged line is rejected by the cleaning layer (an empty text is scored 'unknown')
    with open(reviews, "a", encoding="utf-8") as handle:
        handle.write("r2,too,many,fields\n")
    out = _old_output(tmp_path / "scored.csv")
    args = ["sentiment", "--input", str(reviews), "--column", "review", "-o", str(out)]
    strict = mktai(*args, "--strict")
    assert strict.returncode == 2, strict.stderr
    assert "strict" in _one_error_line(strict.stderr)
    _assert_untouched(out)
    relaxed = mktai(*args, "-q")
    assert relaxed.returncode == 0, relaxed.stderr
    assert pd.read_csv(out)["id"].tolist() == ["r1", "r3"]


def test_train_strict_exits_2_and_saves_no_version(tmp_path):
    bank = pd.read_csv(SAMPLE / "bank_sample.csv", sep=";", dtype=str).head(300)
    bank.loc[5, "y"] = None  # a row without a target: rejected by the cleaning layer
    data = tmp_path / "bank.csv"
    bank.to_csv(data, index=False)
    store = tmp_path / "store"
    args = ["--store", str(store), "train", "propensity", str(data), "--target", "y",
            "--name", "p", "--algorithm", "linear", "--cv", "2"]  # fmt: skip
    strict = mktai(*args, "--strict")
    assert strict.returncode == 2, strict.stderr
    assert "strict" in _one_error_line(strict.stderr)
    assert not (store / "p").exists()
    relaxed = mktai(*args, "-q")
    assert relaxed.returncode == 0, relaxed.stderr
    assert (store / "p" / "v1" / "manifest.json").is_file()


# --------------------------------------------------------------------------- exit 70


def test_injected_fault_is_exit_70_one_line_and_keeps_the_previous_output(tmp_path):
    src = SAMPLE / "transactions_sample.csv"
    out = _old_output(tmp_path / "clean.csv")
    # the fault hits after every row is in the temp file, just before it is renamed into place
    failed = mktai_with_fault("mktai.data.write._umask", "ingest", str(src), "-o", str(out))
    assert failed.returncode == 70, failed.stderr
    line = _one_error_line(failed.stderr, "error: internal error: RuntimeError: injected fault")
    assert "MKTAI_DEBUG=1" in line
    _assert_untouched(out)
    # MKTAI_DEBUG=1 shows the traceback instead
    debug = mktai_with_fault("mktai.data.write._umask", "ingest", str(src), "-o", str(out),
                             debug=True)  # fmt: skip
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "injected_fault" in debug.stderr
    _assert_untouched(out)


def test_fault_while_parsing_is_exit_70(tmp_path):
    src = SAMPLE / "bank_sample.csv"
    out = _old_output(tmp_path / "clean.parquet")
    failed = mktai_with_fault("mktai.data.parse.parse_numbers", "ingest", str(src), "-o", str(out))
    assert failed.returncode == 70, failed.stderr
    _one_error_line(failed.stderr, "error: internal error: RuntimeError: injected fault")
    assert out.read_text(encoding="utf-8") == OLD


@pytest.mark.parametrize("command", ["sentiment", "segment"])
def test_fault_while_writing_keeps_the_previous_output_of_other_commands(tmp_path, command):
    out = _old_output(tmp_path / "out.csv")
    if command == "sentiment":
        args = ["sentiment", "--input", str(SAMPLE / "reviews.csv"), "--column", "review"]
    else:
        args = ["segment", str(SAMPLE / "transactions_sample.csv"), "--k", "off"]
    failed = mktai_with_fault("mktai.data.write._umask", *args, "-o", str(out))
    assert failed.returncode == 70, failed.stderr
    _one_error_line(failed.stderr, "error: internal error: RuntimeError")
    _assert_untouched(out)


# --------------------------------------------------------------------------- closed stdout (bug)


def _closed_stdout(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`mktai ARGS >&-`: file descriptor 1 closed before Python starts."""
    return subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", *args],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd,
        timeout=120, preexec_fn=lambda: os.close(1),
    )  # fmt: skip


def test_closed_stdout_is_a_usage_error_not_an_internal_one(tmp_path):
    src = SAMPLE / "transactions_sample.csv"
    result = _closed_stdout("ingest", str(src), "-q", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr, "error: stdout is closed")
    assert "-o FILE" in line
    help_text = _closed_stdout("ingest", "--help", cwd=tmp_path)
    assert help_text.returncode == 2 and "stdout is closed" in help_text.stderr
    assert "Traceback" not in help_text.stderr
    # writing to a file does not need stdout
    out = tmp_path / "clean.csv"
    to_file = _closed_stdout("ingest", str(src), "-o", str(out), "-q", cwd=tmp_path)
    assert to_file.returncode == 0, to_file.stderr
    assert len(pd.read_csv(out)) == 16_753
