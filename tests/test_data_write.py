"""data/write.py, the one writer of every table and report: what a user (or the next program)
reads back. Written from the survivors of `make mutate`: each test pins a behaviour a mutant of
write.py changed without any test noticing.

Files are read back with the csv module, pyarrow and /proc, not with mktai.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mktai.data import TableWriter, write_json, write_table
from mktai.data.write import MKTAI_METADATA_KEY, neutralise_formulas
from mktai.errors import InputError, UsageError

ROOT = Path(__file__).resolve().parents[1]


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --------------------------------------------------------------------------- formula cells


def test_the_callers_frame_is_left_as_it_was():
    """Neutralising works on a copy: an API user's DataFrame still holds their own values."""
    frame = pd.DataFrame({"note": ["=1+1", "ok"], "n": [1, 2]})
    before = frame.copy()
    safe = neutralise_formulas(frame)
    assert safe["note"].tolist() == ["'=1+1", "ok"]
    pd.testing.assert_frame_equal(frame, before)


def test_a_formula_next_to_a_missing_cell_is_neutralised_and_the_gap_stays_empty(tmp_path):
    out = tmp_path / "t.csv"
    write_table(pd.DataFrame({"note": ["=cmd|x", None, "-2+3", "-4"], "n": [1, 2, 3, 4]}), out)
    assert _csv_rows(out) == [["note", "n"], ["'=cmd|x", "1"], ["", "2"], ["'-2+3", "3"],
                              ["-4", "4"]]  # fmt: skip


def test_numbers_and_durations_are_written_as_numbers_not_as_quoted_text(tmp_path):
    """Numeric columns are not text: -inf and a negative duration keep their form."""
    out = tmp_path / "t.csv"
    frame = pd.DataFrame(
        {
            "x": [-np.inf, -1.5],
            "k": [-3, 4],
            "d": pd.to_timedelta([-1, 2], unit="D"),
            "when": pd.to_datetime(["2024-01-05", "2024-02-01"]),
        }
    )
    write_table(frame, out)
    assert _csv_rows(out) == [
        ["x", "k", "d", "when"],
        ["-inf", "-3", "-1 days", "2024-01-05"],
        ["-1.5", "4", "2 days", "2024-02-01"],
    ]


def test_categorical_cells_and_column_names_are_neutralised_too(tmp_path):
    """A pandas categorical (how an API user often holds labels) and a header are text a
    spreadsheet runs like any other cell."""
    out = tmp_path / "t.csv"
    frame = pd.DataFrame({"tag": pd.Categorical(["=1+1", "@x", "ok"]), "=h": [1, 2, 3]})
    write_table(frame, out)
    assert _csv_rows(out) == [["tag", "'=h"], ["'=1+1", "1"], ["'@x", "2"], ["ok", "3"]]
    assert list(frame.columns) == ["tag", "=h"]  # the caller's frame is unchanged


def test_missing_text_alone_does_not_switch_to_quoting_every_cell(tmp_path):
    """Only a CR makes the writer quote all text; a missing value is written bare."""
    out = tmp_path / "t.csv"
    write_table(pd.DataFrame({"n": [1, 2], "a": ["x", None]}), out)
    assert out.read_bytes() == b"n,a\n1,x\n2,\n"


def test_text_files_are_utf8_whatever_the_locale(tmp_path):
    """A server with LANG=C (ASCII locale, no UTF-8 mode): the output is still UTF-8."""
    out = tmp_path / "reviews.csv"
    code = (  # the program text stays ASCII: the C locale could not pass it otherwise
        "import pandas as pd, sys; from mktai.data import write_table; "
        "write_table(pd.DataFrame({'text': ['\\u8d28\\u91cf', 'caf\\xe9\\r']}), sys.argv[1])"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0", "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(out)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == '"text"\n"质量"\n"café\r"\n'.encode()


# --------------------------------------------------------------------------- parquet


def test_parquet_keeps_only_the_frames_columns_and_the_mktai_metadata(tmp_path):
    """A filtered frame writes no index column; the ingest marker and pandas'
    own metadata are both in the schema; snappy compressed."""
    out = tmp_path / "t.parquet"
    frame = pd.DataFrame({"a": ["x", "y", "z", "w"], "n": [1, 2, 3, 4]})
    frame = frame[frame["n"] % 2 == 0]  # index 1, 3 (a RangeIndex of step 2 in pandas 3)
    facts = {"ingested": True, "deduplicated": False, "mktai": "0.1"}
    writer = TableWriter(out, metadata=facts)
    writer.write(frame)
    writer.close()
    handle = pq.ParquetFile(out)
    assert handle.schema_arrow.names == ["a", "n"]
    meta = handle.schema_arrow.metadata
    assert json.loads(meta[MKTAI_METADATA_KEY]) == facts and b"pandas" in meta
    assert handle.metadata.row_group(0).column(0).compression == "SNAPPY"
    back = pd.read_parquet(out)
    assert back.to_dict("list") == {"a": ["y", "w"], "n": [2, 4]}
    assert back.index.equals(pd.RangeIndex(2))  # the frame's index is not kept, even as metadata


def test_parquet_chunks_of_another_type_name_the_file_and_the_first_row(tmp_path):
    out = tmp_path / "t.parquet"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"n": [1, 2]}))
    with pytest.raises(InputError) as caught:
        writer.write(pd.DataFrame({"n": ["x"]}))
    writer.abort()
    message = str(caught.value)
    head = f"{out}: rows 3 on have column types that differ from the first rows ("
    assert message.startswith(head) and message.endswith("); write CSV or fix the input")
    reason = message[len(head) : -len("); write CSV or fix the input")]
    assert reason and reason != "None" and "\n" not in reason
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- abort


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_abort_keeps_the_old_output_closes_the_file_and_can_run_twice(tmp_path, suffix):
    out = tmp_path / f"t{suffix}"
    write_table(pd.DataFrame({"a": ["old"]}), out)
    before = out.read_bytes()
    fds = _open_fds()
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"a": ["new", "rows"]}))
    writer.abort()
    assert _open_fds() == fds  # no descriptor left open (a server aborts many writes)
    writer.abort()  # a second abort (an outer handler) is harmless
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_write_json_names_the_file_it_cannot_create(tmp_path):
    """The folder exists but the file cannot be made (a name too long for the file system)."""
    target = tmp_path / ("r" * 250 + ".json")
    with pytest.raises(UsageError) as caught:
        write_json({"a": 1}, target)
    assert str(caught.value) == f"cannot write {target}: File name too long"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- JSON and JSON lines


def _chunks() -> list[pd.DataFrame]:
    """Streamed output: a chunk, an empty one (every row of it rejected), another chunk."""
    when = pd.to_datetime(["2024-01-05 08:26:00", "2024-02-29 23:59:59", "2024-03-01 12:00:00"])
    frame = pd.DataFrame({"when": when, "text": ["质量很好", "café", "ok"], "n": [1.5, None, 3]})
    return [frame.iloc[:2], frame.iloc[:0], frame.iloc[2:]]


RECORDS = [
    '{"when":"2024-01-05T08:26:00.000","text":"质量很好","n":1.5}',
    '{"when":"2024-02-29T23:59:59.000","text":"café","n":null}',
    '{"when":"2024-03-01T12:00:00.000","text":"ok","n":3.0}',
]


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (".json", "[" + ",".join(RECORDS) + "]\n"),
        (".jsonl", "\n".join(RECORDS) + "\n"),
        (
            ".csv",
            "when,text,n\n2024-01-05 08:26:00,质量很好,1.5\n2024-02-29 23:59:59,café,\n"
            "2024-03-01 12:00:00,ok,3.0\n",
        ),
    ],
)
def test_json_outputs_stream_chunks_into_one_document_with_iso_dates_and_readable_text(
    tmp_path, suffix, expected
):
    out = tmp_path / f"t{suffix}"
    writer = TableWriter(out)
    first, empty, last = _chunks()
    for chunk in (empty, first, empty, empty, last, empty):
        writer.write(chunk)
    writer.close()
    assert writer.rows == 3  # what the command reports as "rows out"
    assert out.read_text(encoding="utf-8") == expected
    if suffix == ".json":
        assert [r["text"] for r in json.loads(out.read_text(encoding="utf-8"))] == [
            "质量很好", "café", "ok"
        ]  # fmt: skip


@pytest.mark.parametrize(("suffix", "expected"), [(".csv", ""), (".json", "[]\n"), (".jsonl", "")])
def test_an_output_without_rows_is_still_a_valid_file(tmp_path, suffix, expected):
    """Nothing written, or only empty chunks: an empty CSV (or its header once), an empty JSON
    array (once: two empty chunks used to give '[[]')."""
    out = tmp_path / f"none{suffix}"
    writer = TableWriter(out)
    writer.close()
    assert out.read_text() == expected
    out = tmp_path / f"empty{suffix}"
    writer = TableWriter(out)
    writer.write(_chunks()[1])
    writer.write(_chunks()[1])
    writer.close()
    assert out.read_text() == {".csv": "when,text,n\n"}.get(suffix, expected)


def test_an_empty_result_writes_the_header_of_the_frame_it_would_have_had(tmp_path):
    out = tmp_path / "t.csv"
    writer = TableWriter(out)
    writer.close(empty_frame=_chunks()[1])
    assert out.read_text() == "when,text,n\n"
    out = tmp_path / "t.parquet"
    writer = TableWriter(out)
    writer.close(empty_frame=_chunks()[1])
    assert pq.ParquetFile(out).schema_arrow.names == ["when", "text", "n"]


# --------------------------------------------------------------------------- special outputs


def _through_pipe(pipe: Path, frame: pd.DataFrame) -> bytes:
    """What write_table sends into the named pipe PIPE, read by a daemon thread (should the
    writer never open the pipe, the test fails instead of hanging)."""
    import threading

    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    write_table(frame, pipe)
    reader.join(timeout=30)
    assert received, f"nothing was written into {pipe}"
    return received[0]


def test_a_named_pipe_is_written_in_place_as_csv_and_stays_a_pipe(tmp_path):
    """`-o pipe` (no suffix) or /dev/stdout: no temp file, no rename over the pipe, CSV."""
    import stat

    pipe = tmp_path / "pipe"
    received = _through_pipe(pipe, pd.DataFrame({"a": ["=x", "y"], "n": [1, 2]}))
    assert received == b"a,n\n'=x,1\ny,2\n"
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
    write_table(pd.DataFrame({"a": [1]}), Path("/dev/null"))  # a device: written, no error


def test_a_named_pipe_with_a_known_suffix_gets_that_format(tmp_path):
    """`-o x.jsonl` where x.jsonl is a named pipe: JSON lines, written in place (only a pipe
    without a known suffix falls back to CSV)."""
    import json

    pipe = tmp_path / "x.jsonl"
    lines = _through_pipe(pipe, pd.DataFrame({"a": ["=x", "y"], "n": [1, 2]})).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"a": "=x", "n": 1}, {"a": "y", "n": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]


def test_an_output_name_too_long_is_a_usage_error_naming_it(tmp_path):
    """Was an internal error (exit 70) from `mktai ingest in.csv -o <300 characters>.csv`."""
    from typer.testing import CliRunner

    from mktai.cli.app import app

    target = tmp_path / ("x" * 300 + ".csv")
    with pytest.raises(UsageError) as caught:
        TableWriter(target)
    assert str(caught.value) == f"cannot write {target}: File name too long; choose another path"
    TableWriter(None).abort()  # nothing to drop for stdout: harmless
    fits = tmp_path / ("y" * 240 + ".csv")  # a valid name, but its temp file's is too long
    with pytest.raises(UsageError) as caught:
        TableWriter(fits)
    assert str(caught.value) == f"cannot write {fits}: File name too long"
    result = CliRunner().invoke(app, ["ingest", str(ROOT / "sample_data" / "reviews.csv"),
                                      "-o", str(target)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "File name too long; choose another path" in result.stderr
    assert list(tmp_path.iterdir()) == []


SIGNAL_RECORDER = """
import signal, sys
got = []
for number in set(range(1, signal.NSIG)) - {signal.SIGKILL, signal.SIGSTOP}:
    try:
        signal.signal(number, lambda n, frame: got.append(n))
    except (OSError, ValueError):
        pass
print("ready", flush=True)
sys.stdin.read()
print(got, flush=True)
"""


def test_temp_files_of_dead_or_long_gone_writers_are_reclaimed_and_nothing_else(tmp_path):
    """A kill -9 leaves .NAME.PID.xxx.tmp behind: the next writer of NAME removes it when PID is
    gone, or when untouched for over an hour; a live writer's temp and other files stay."""
    import time

    from mktai.data.write import reclaim_temps

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(done.stdout)
    # a live writer of our own (never a pid we did not start: a broken liveness check could
    # signal it). It notes every signal it gets until its stdin closes: a signal sent by the
    # check is handled before the end of input is seen, so the note is complete, no sleeps.
    sleeper = subprocess.Popen([sys.executable, "-c", SIGNAL_RECORDER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert sleeper.stdout.readline() == "ready\n"
    live = sleeper.pid
    out = tmp_path / "out.csv"
    names = {
        "dead": f".out.csv.{dead}.ab12.tmp",
        "live": f".out.csv.{live}.cd34.tmp",
        "live_old": f".out.csv.{live}.ef56.tmp",
        "mine": f".out.csv.{os.getpid()}.gh78.tmp",
        "no_pid_old": ".out.csv.zz.tmp",
        "no_pid": ".out.csv.yy.tmp",
        "other": f".other.csv.{dead}.ab12.tmp",
        "not_tmp": f".out.csv.{dead}.ab12.part",
        # not a name mktai makes (.NAME.PID.RANDOM.tmp): a number alone is no writer's pid
        "bare_number": f".out.csv.{dead}.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_text("partial")
    hour_ago = time.time() - 3601
    for key in ("live_old", "no_pid_old"):
        os.utime(tmp_path / names[key], (hour_ago, hour_ago))
    os.symlink(tmp_path / names["other"], tmp_path / f".out.csv.{dead}.link.tmp")
    try:
        removed = reclaim_temps(out)
        received, _ = sleeper.communicate(timeout=60)
        assert (sleeper.returncode, received) == (
            0,
            "[]\n",
        )  # asked whether it lives, not signalled
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(p.name for p in removed) == sorted(
        names[k] for k in ("dead", "live_old", "no_pid_old")
    )
    left = {p.name for p in tmp_path.iterdir()}
    kept = ("live", "mine", "no_pid", "other", "not_tmp", "bare_number")
    assert left == {names[k] for k in kept} | {f".out.csv.{dead}.link.tmp"}


def test_missing_folders_are_created_and_a_folder_is_not_a_file_name(tmp_path):
    out = tmp_path / "2024" / "q1" / "scores.csv"
    write_table(pd.DataFrame({"a": [1]}), out)
    assert out.read_text() == "a\n1\n"
    folder = tmp_path / "2024" / "q1" / "old.csv"
    folder.mkdir()
    with pytest.raises(UsageError) as caught:
        write_table(pd.DataFrame({"a": [1]}), folder)
    assert str(caught.value) == f"cannot write {folder}: it is a directory; give a file name"
