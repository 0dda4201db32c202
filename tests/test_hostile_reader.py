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


def test_unclosed_quote_is_refused_at_the_line_it_opened(tmp_path: Path) -> None:
    """The issue's input: `1,"never closed` then 99,998 ordinary lines used to be one row."""
    path = tmp_path / "unclosed.csv"
    body = "".join(f"{i},line {i}\n" for i in range(2, 100_000))
    path.write_text('id,text\n1,"never closed\n' + body)
    assert path.stat().st_size > 1_400_000
    result = _mktai("ingest", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unclosed.csv: line 2:" in lines[0]
    assert "never closed" in lines[0] and "'text'" in lines[0]
    assert not (tmp_path / "out.csv").exists()


def test_unclosed_quote_line_counts_earlier_multiline_fields(tmp_path: Path) -> None:
    # a genuine review over 12 lines (commas in prose) is data, not a runaway quote
    review = '"' + "\n".join(f"paragraph {i}, with a comma, or two" for i in range(12)) + '"'
    rows = [f"{i},plain {i}" for i in range(1, 4)] + [f"4,{review}", "5,after"]
    runaway = ['6,"opened here'] + [f"{i},swallowed {i}" for i in range(7, 40)]
    path = tmp_path / "late.csv"
    path.write_text("id,text\n" + "\n".join(rows + runaway) + "\n")
    result = _mktai("sentiment", "--input", str(path), "-o", str(tmp_path / "s.csv"))
    assert result.returncode == 2, result.stderr
    # header 1, rows 1-3 on lines 2-4, the review on lines 5-16, row 5 on 17, row 6 on 18
    assert "late.csv: line 18:" in result.stderr, result.stderr
    path.write_text("id,text\n" + "\n".join(rows) + "\n")
    kept = _mktai("ingest", str(path), "-o", str(tmp_path / "ok.csv"))
    assert kept.returncode == 0 and "5 in, 5 out" in kept.stderr, kept.stderr


def test_header_wider_than_the_sample_is_read_whole(tmp_path: Path) -> None:
    from mktai.data.read import SNIFF_BYTES, iter_batches, open_source

    names = [
        f"a_long_and_descriptive_column_name_of_this_very_wide_marketing_export_{i:05d}"
        for i in range(4_000)
    ]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join(str(i) for i in range(4_000)) + "\n")
    assert len(",".join(names)) > SNIFF_BYTES  # the header alone is longer than the sample
    source = open_source(path)
    bad: list = []
    batches = list(iter_batches(source, bad))
    source.cleanup()
    assert bad == [] and batches[0].schema.names == names
    assert sum(b.num_rows for b in batches) == 1 and batches[0].column(3999)[0].as_py() == "3999"


@pytest.mark.parametrize("columns", [300_000, 1_000_000])
def test_absurdly_wide_header_is_refused_with_the_reason(tmp_path: Path, columns: int) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + "1," * columns + "\n")
    result = _mktai("ingest", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{columns:,} columns" in lines[0], result.stderr


def test_temp_file_of_a_killed_ingest_is_removed_by_the_next_run(tmp_path: Path) -> None:
    import signal
    import time

    data = tmp_path / "orders.csv.gz"
    rows = "".join(
        f"{i},{i % 97},2024-01-{1 + i % 28:02d},{i * 7 % 1000 / 10}\n" for i in range(600_000)
    )
    with gzip.open(data, "wt", compresslevel=1) as handle:
        handle.write("order_id,customer_id,date,amount\n" + rows)
    out = tmp_path / "out.parquet"
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [PYTHON, "-c", code, "ingest", str(data), "-o", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    temps: list[Path] = []
    while not temps:  # the writer has opened its temp file
        assert proc.poll() is None, "ingest finished before it could be killed"
        assert time.monotonic() < deadline, "no temp file appeared"
        time.sleep(0.01)
        temps = list(tmp_path.glob(".out.parquet.*.tmp"))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert temps[0].exists() and not out.exists()
    small = tmp_path / "small.csv"
    small.write_text("order_id,customer_id,date,amount\n1,2,2024-01-01,3.5\n")
    again = _mktai("ingest", str(small), "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert list(tmp_path.glob(".out.parquet.*.tmp")) == [] and out.exists()
