"""Hostile CSV input for the streaming reader: huge fields, unclosed quotes, wide headers.

Each input is built for real in a temp dir (gzip keeps the big ones to a few hundred KB on disk)
and run through the real CLI in a subprocess, where a crash shows as a signal exit code.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mktai.data.read import MAX_FIELD_BYTES

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = MAX_FIELD_BYTES >> 20


def _mktai(*args: str, stdin: Path | None = None, cwd: Path | None = None):
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as handle:
        return subprocess.run(
            [PYTHON, "-c", code, *args],
            stdin=handle,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=cwd,
        )


@pytest.fixture(scope="module")
def huge_field(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40 MB quoted field, then 56 MB of ordinary rows (150 KB gzipped): pyarrow's read-ahead
    is still reading when the field is refused."""
    path = tmp_path_factory.mktemp("huge") / "huge.csv.gz"
    with gzip.open(path, "wb", compresslevel=6) as handle:
        handle.write(b'id,text\n1,hello\n2,"' + b"x" * (40 << 20) + b'"\n3,bye\n')
        handle.write(b"4,hello world\n" * (4 << 20))
    return path


def _one_line_limit_error(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-800:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-800:]
    assert name in lines[0] and f"{LIMIT_MB} MB limit" in lines[0]


def test_huge_field_in_a_file_is_one_line_not_an_abort(huge_field: Path, tmp_path: Path) -> None:
    result = _mktai("ingest", str(huge_field), "-o", str(tmp_path / "out.csv"))
    _one_line_limit_error(result, "huge.csv.gz")
    assert list(tmp_path.iterdir()) == []


def test_huge_field_on_stdin_is_one_line_not_an_abort(huge_field: Path, tmp_path: Path) -> None:
    result = _mktai("ingest", "-", "-o", str(tmp_path / "out.csv"), stdin=huge_field)
    _one_line_limit_error(result, "<stdin>")


def test_huge_field_in_sentiment_input_is_one_line(huge_field: Path, tmp_path: Path) -> None:
    result = _mktai("sentiment", "--input", str(huge_field), "-o", str(tmp_path / "s.csv"))
    _one_line_limit_error(result, "huge.csv.gz")


def test_field_limit_is_one_number(tmp_path: Path) -> None:
    """A field between one and two blocks used to pass; the limit the README states holds."""
    path = tmp_path / "mid.csv"
    path.write_text("id,text\n1,hello\n2," + "x" * (MAX_FIELD_BYTES + (2 << 20)) + "\n3,bye\n")
    result = _mktai("ingest", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2, result.stderr
    assert f"(limit {LIMIT_MB} MB)" in result.stderr and "row 2" in result.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = set(re.findall(r"field (?:or row )?over (\d+) MB", readme))
    assert stated == {str(LIMIT_MB)}
