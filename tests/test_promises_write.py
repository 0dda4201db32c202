"""README promise: "written atomically" — reports and tables are written to a temp file beside
the target and renamed into place (so a reader never sees half a file and a failure keeps the old
one), with the user's umask, as UTF-8 JSON that keeps Chinese text readable.

The rename is observed by wrapping os.replace (it still runs), not replaced.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mktai.data import TableWriter, write_json, write_table


@pytest.fixture()
def renames(monkeypatch) -> list[tuple[Path, Path]]:
    seen: list[tuple[Path, Path]] = []
    real = os.replace

    def spy(src, dst, *args, **kwargs):
        seen.append((Path(src), Path(dst)))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    return seen


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _assert_atomic(renames, target: Path) -> None:
    ((src, dst),) = renames
    assert dst == target and src.parent == target.parent  # same directory: a real rename
    assert src.name.startswith(f".{target.name}.") and src.name.endswith(".tmp")
    assert not src.exists()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_write_json_is_atomic_utf8_indented_and_umask_respecting(tmp_path, renames, umask_022):
    target = tmp_path / "reports" / "报告.json"  # the folder is created
    payload = {
        "text": "质量很好",
        "count": np.int64(3),
        "share": np.float64(0.25),
        "when": dt.datetime(2024, 1, 5, 8, 26),
        "values": np.array([1, 2]),
    }
    write_json(payload, target)
    expected = (
        '{\n  "text": "质量很好",\n  "count": 3,\n  "share": 0.25,\n'
        '  "when": "2024-01-05T08:26:00",\n  "values": [\n    1,\n    2\n  ]\n}\n'
    )
    assert target.read_bytes() == expected.encode("utf-8")
    assert target.stat().st_mode & 0o777 == 0o644
    _assert_atomic(renames, target)


def test_write_json_names_the_path_it_cannot_write(tmp_path):
    from mktai.errors import UsageError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match=r"^cannot write .*file/r\.json: "):
        write_json({}, blocker / "r.json")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".jsonl"])
def test_tables_are_renamed_into_place_with_the_umask(tmp_path, renames, umask_022, suffix):
    target = tmp_path / f"out{suffix}"
    write_table(pd.DataFrame({"a": ["x", "y"], "n": [1, 2]}), target)
    assert target.stat().st_mode & 0o777 == 0o644
    _assert_atomic(renames, target)


def test_a_cr_after_a_numeric_or_missing_cell_still_quotes_the_chunk(tmp_path):
    """The CR check looks at every text column, past numbers and missing values."""
    out = tmp_path / "t.csv"
    writer = TableWriter(out)
    frame = pd.DataFrame({"n": [1, 2], "a": ["x", None], "b": [None, "p\rq"]})
    writer.write(frame)
    writer.close()
    assert out.read_bytes() == b'"n","a","b"\n1,"x",""\n2,"","p\rq"\n'
    assert len(pd.read_csv(out)) == 2
