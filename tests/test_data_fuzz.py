"""Hypothesis fuzzing: the parsers never raise and keep their masks aligned; `mktai ingest` on random
bytes never shows a traceback, and every data row it reads ends up in the output or the rejects."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.data import parse

# MKTAI_FUZZ_EXAMPLES=1000 for a long hunt; the default keeps the suite fast.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

FUZZ = settings(
    max_examples=int(os.environ.get("MKTAI_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters that matter to the parsers: digits (ASCII and full-width), separators, currency, CJK.
MESSY = st.text(
    alphabet=st.sampled_from(
        list("0123456789０１２３.,-+()%eE /:年月日号T¥$€£ \u00a0abcNnAa是否yesnotrue")
    ),
    max_size=24,
)
VALUES = st.lists(st.one_of(MESSY, st.text(max_size=12), st.none()), max_size=40)


def _series(values):
    import pandas as pd

    return pd.Series(values, dtype="object", index=pd.RangeIndex(7, 7 + len(values)))


def _aligned(values, *outputs):
    for output in outputs:
        assert len(output) == len(values)
        assert output.index.equals(values.index)


@FUZZ
@given(VALUES, st.sampled_from([None, True, False]))
def test_parse_numbers_never_raises(values, european):
    series = _series(values)
    numbers, failed = parse.parse_numbers(series, european)
    _aligned(series, numbers, failed)
    assert str(numbers.dtype) == "float64"
    assert failed.dtype == bool
    assert not (failed & numbers.notna()).any()  # a failure is never also a number


@FUZZ
@given(VALUES, st.sampled_from([None, True, False]))
def test_parse_dates_never_raises(values, day_first):
    series = _series(values)
    dates, failed, info = parse.parse_dates(series, day_first)
    _aligned(series, dates, failed)
    assert str(dates.dtype) == "datetime64[ns]"
    assert not (failed & dates.notna()).any()
    json.dumps(info)  # the report must stay JSON-able


@FUZZ
@given(VALUES)
def test_parse_booleans_never_raises(values):
    series = _series(values)
    flags, failed = parse.parse_booleans(series)
    _aligned(series, flags, failed)
    assert set(flags.dropna().tolist()) <= {0, 1}
    assert not (failed & flags.notna()).any()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥1,234.50", 1234.5),
        ("(12)", -12.0),
        ("12-", -12.0),
        ("15%", 0.15),
        ("１２３", 123.0),
        ("RMB 88", 88.0),
        ("1 000", 1000.0),
        ("  7  ", 7.0),
    ],
)
def test_parse_numbers_examples(text, expected):
    numbers, failed = parse.parse_numbers(_series([text, "1"]))
    assert numbers.iloc[0] == pytest.approx(expected)
    assert not failed.any()


def test_parse_numbers_reports_failures():
    numbers, failed = parse.parse_numbers(_series(["abc", "", None, "3"]))
    assert failed.tolist() == [True, False, False, False]
    assert numbers.isna().tolist() == [True, True, True, False]


# --- ingest on random CSV bytes -------------------------------------------------------------------

CELL = st.text(
    alphabet=st.sampled_from(list('ab1 2.,;|\t"\n\r-=@¥é客户')),
    max_size=8,
)


@st.composite
def csv_files(draw):
    """Random but mostly CSV-like bytes: a header, rows of random width, random encoding."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 5))
    header = draw(st.lists(CELL, min_size=width, max_size=width))
    rows = draw(
        st.lists(
            st.lists(CELL, min_size=max(1, width - 1), max_size=width + 1),
            max_size=15,
        )
    )
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    records: int | None = _records(text, delimiter)
    if draw(st.booleans()):  # now and then, raw damage: cut, unbalanced quotes, junk
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=10)) + text[cut:]
        records = None  # no independent count: what the damage means is the parser's call
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace"), records, delimiter


def _records(text: str, delimiter: str) -> int:
    """Data records as the standard library's csv reader counts them (a bare CR, which
    csv.writer leaves unquoted with a LF terminator, ends a record; blank lines are none)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return max(0, sum(1 for record in reader if record) - 1)


@FUZZ
@given(
    csv_files(),
    st.sampled_from([None, None, None, "utf-8", "utf-16", "gb18030", "cp1252", "ascii"]),
)
def test_ingest_random_bytes_never_tracebacks(tmp_path_factory, file, encoding):
    import pandas as pd

    data, records, delimiter = file

    tmp = tmp_path_factory.mktemp("fuzz")
    src = tmp / "in.csv"
    src.write_bytes(data)
    out = tmp / "out.parquet"
    override = ["--encoding", encoding] if encoding else []
    result = CliRunner().invoke(
        app, ["ingest", str(src), "-o", str(out), "--report", str(tmp / "r.json"), *override]
    )
    assert result.exit_code in (0, 2), (result.output, result.exception, data)
    assert "Traceback" not in result.output and "Exception ignored" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and not out.exists()
        return
    report = json.loads((tmp / "r.json").read_text(encoding="utf-8"))
    clean = pd.read_parquet(out)
    rejects_file = tmp / "out.rejects.csv"
    rejects = pd.read_csv(rejects_file) if rejects_file.exists() else pd.DataFrame({"row": []})
    assert len(clean) == report["rows_out"]
    assert len(rejects) == report["rows_rejected"]
    assert report["rows_in"] == report["rows_out"] + report["rows_rejected"]
    # every data record is either clean or rejected (no row lost silently), counted from the
    # rows the test wrote, not from the program's report
    if records is not None and encoding is None and _delimiter(report) == delimiter:
        assert len(clean) + len(rejects) == records, (data, report)
    if len(rejects):
        assert rejects["row"].min() >= 1 and rejects["row"].max() <= report["rows_in"]
        assert rejects["row"].is_unique


def _delimiter(report: dict) -> str:
    return report["sources"][0].get("delimiter")


def test_parse_dates_out_of_range_years_fail_cleanly():
    dates, failed, _ = parse.parse_dates(_series(["0001-01-01", "9999-12-31", ".1", "2024-02-30"]))
    assert dates.isna().all()
    assert failed.tolist() == [True, True, True, True]
