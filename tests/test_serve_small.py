"""The small-request path (mktai.data.small) gives exactly what the full cleaning path gives.

Hostile rows (bad numbers, decimal commas, dates in both orders, yes/no words in two
languages, whitespace and control characters, formula prefixes, huge values, NaN/inf words,
empty cells, unicode, missing and extra columns) go through predict_rows twice with the same
loaded model: once with their cells (the server's JSON path: mktai.data.small when it can)
and once as CSV bytes only (the reader and the stream). Results, frames, rejects and error
messages must be identical; the test also checks that both paths were really taken.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mktai.data.read import InMemory
from mktai.errors import InputError

BANK = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"

NUMBERS = ["41", " 41 ", "41.0", "+41", "-0", "1e3", "1,5", "1.234,56", "1,234.5", "N/A", "nan",
           "NaN", "inf", "-inf", "Infinity", "", "   ", "1e400", "99999999999999999999999",
           "=1+2", "@41", "４１", "٤١", "\u00a041", "41\t", "0x1A", "1_000", "abc", "(12)",
           "12%", "€ 12", "41\x00"]  # fmt: skip
YES_NO = ["yes", "no", "YES", " yes ", "1", "0", "true", "False", "y", "n", "1.0", "是", "否",
          "maybe", "", "N/A", "２", "yes\x1f"]  # fmt: skip
WORDS = ["admin.", " admin. ", "ADMIN.", "never-seen", "", "=cmd|' /C calc'!A0", "@SUM(1)",
         "-2+3", "+1", "管理", "emoji 😀", "a\u200bb", "\x1f", "null", "N/A", "x" * 5000,
         'say "hi"', "line\nbreak", "tab\there", "\ufeffbom"]  # fmt: skip
MONTHS = ["may", "MAY", " May ", "mayo", "5", "", "13", "jun", "Dec"]
DATES = ["2024-01-05", "2024-01-05 10:30:00", " 2024-02-29 ", "05/01/2024", "13/01/2024",
         "01/13/2024", "5.1.2024", "2024年1月5日", "45000", "", "not a date", "2024-13-45",
         "20240105", "2024-01-05T10:30:00Z"]  # fmt: skip


def bank_rows() -> tuple[list[str], list[list[str]]]:
    with open(BANK, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    names = rows[0][:-1]  # without the target y
    return names, [row[:-1] for row in rows[1:]]


def training_file(tmp_path: Path) -> Path:
    """The bank sample plus an ISO date column (seeded), so the schema has a date column."""
    names, rows = bank_rows()
    target = [row[-1] for row in csv.reader(BANK.open(encoding="utf-8"), delimiter=";")][1:]
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, len(rows)), "D")
    out = tmp_path / "bank_dated.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "signup", "y"])
        for row, day, y in zip(rows, days, target, strict=True):
            writer.writerow([*row, day.strftime("%Y-%m-%d"), y])
    return out


@pytest.fixture(scope="module", params=["gbm", "linear"])
def loaded(request, tmp_path_factory):
    from mktai.api import train
    from mktai.api.loaded import load

    tmp = tmp_path_factory.mktemp(f"small-{request.param}")
    params = {"max_iter": 15} if request.param == "gbm" else {}
    train("propensity", training_file(tmp), name="response", target="y", store=tmp / "store",
          cv=0, seed=0, algorithm=request.param, params=params)  # fmt: skip
    model = load("response", store=tmp / "store")
    kinds = {c["name"]: c["type"] for c in model.fitted.schema["columns"]}
    assert kinds["signup"] == "date" and kinds["job"] == "categorical"
    return model


def pools(names: list[str]) -> dict[str, list[str]]:
    """The hostile values each column draws from (by what the column holds)."""
    kinds = {"default": YES_NO, "housing": YES_NO, "loan": YES_NO, "month": MONTHS,
             "signup": DATES, "job": WORDS, "marital": WORDS, "education": WORDS,
             "contact": WORDS, "poutcome": WORDS}  # fmt: skip
    return {name: kinds.get(name, NUMBERS) for name in names}


def hostile_requests(seed: int, count: int) -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) requests of 1-5 bank rows, cells replaced by hostile values; some
    requests clean (plain values only), some with a column missing, renamed or added."""
    names, rows = bank_rows()
    names = [*names, "signup"]
    rows = [[*row, "2024-03-0" + str(1 + i % 9)] for i, row in enumerate(rows)]
    pool = pools(names)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        picked = [list(rows[i]) for i in rng.integers(0, len(rows), rng.integers(1, 6))]
        share = 0.0 if k % 4 == 0 else 0.3  # every fourth request holds only plain values
        for row in picked:
            for j, name in enumerate(names):
                if rng.random() < share:
                    row[j] = pool[name][rng.integers(0, len(pool[name]))]
        header = list(names)
        if k % 11 == 5:  # a column the model needs is missing
            drop = int(rng.integers(0, len(header)))
            header.pop(drop)
            picked = [row[:drop] + row[drop + 1 :] for row in picked]
        elif k % 11 == 7:  # an extra column the model does not use
            header.append("note")
            picked = [[*row, WORDS[k % len(WORDS)]] for row in picked]
        out.append((header, picked))
    return out


def to_csv(names: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([names, *rows])
    return buffer.getvalue().encode("utf-8")


def outcome(call):
    """(result dict, score frame, rejects) or the error's (type, message)."""
    try:
        result = call()
    except Exception as exc:  # both paths must fail alike (and never with a bug)
        return ("error", type(exc).__name__, str(exc))
    return (result.to_dict(), result.frame, result.rejects)


def same(a, b) -> None:
    assert a[0] == b[0]
    if a[0] == "error":
        assert a == b
        return
    pd.testing.assert_frame_equal(a[1], b[1], check_exact=True)
    pd.testing.assert_frame_equal(a[2], b[2], check_exact=True)


def test_hostile_rows_score_alike_on_both_paths(loaded) -> None:
    from mktai.api.loaded import predict_rows
    from mktai.data.small import clean_rows

    def run(names, rows, cells: bool):
        body = to_csv(names, rows)
        data = InMemory(body, "request body", cells=(names, rows) if cells else None)
        return outcome(lambda: predict_rows(loaded, data, keep_raw=False, scores_only=True))

    small_taken = full_taken = errors = 0
    for names, rows in hostile_requests(seed=3, count=60):
        if loaded.plans.get(tuple(names)) is None:
            run(names, rows, cells=False)  # the first request of a header decides its plan
        plan = loaded.plans.get(tuple(names))
        took = plan is not None and clean_rows(plan, names, rows) is not None
        small_taken += took
        full_taken += not took
        with_cells, without = run(names, rows, cells=True), run(names, rows, cells=False)
        errors += with_cells[0] == "error"
        same(with_cells, without)
    # both paths and the error path were exercised (not one silently taking everything)
    assert small_taken >= 12 and full_taken >= 12 and errors >= 3


def test_small_columns_equal_the_full_cleaning(loaded) -> None:
    """clean_rows' columns are load_table's frame (after _tidy_labels), column for column."""
    from mktai.data import load_table
    from mktai.data.small import clean_rows

    checked = 0
    for names, rows in hostile_requests(seed=5, count=40):
        try:
            table = load_table(InMemory(to_csv(names, rows), "request body"), kind="table",
                               dedupe=False, plans=loaded.plans)  # fmt: skip
        except InputError:  # e.g. a NUL byte: the first test compares the errors
            continue
        columns = clean_rows(loaded.plans.get(tuple(names)), names, rows)
        if columns is None:
            continue
        checked += 1
        pd.testing.assert_frame_equal(columns.frame(), table.frame, check_exact=True)
        assert table.rejects.empty
    assert checked >= 8


def test_json_cells_take_the_small_path_and_answer_like_csv(loaded) -> None:
    """Records as a server receives them (JSON numbers, booleans, null): the cells
    bodies.records_csv writes give the scores of the same rows sent as a CSV body."""
    pytest.importorskip("fastapi", reason="mktai serve needs the serve extra")
    from mktai.api.loaded import predict_rows
    from mktai.data.small import clean_rows
    from mktai.serve.bodies import records_csv

    names, rows = bank_rows()
    records = []
    for i, row in enumerate(rows[:30]):
        record: dict = {n: (int(v) if v.lstrip("-").isdigit() else v)
                        for n, v in zip(names, row, strict=True)}  # fmt: skip
        record["signup"] = "2024-02-0" + str(1 + i % 9)
        if i % 5 == 1:
            record["balance"] = 1e300 if i % 2 else None
        if i % 5 == 2:
            record["default"] = bool(i % 2)
        records.append(record)
    for batch in (records[:1], records[1:2], records[2:3], records[:30]):
        data = records_csv(batch, 1000)
        predict_rows(loaded, InMemory(bytes(data)), keep_raw=False)  # decides the plan
        names_, cells = data.cells
        assert clean_rows(loaded.plans.get(tuple(names_)), names_, cells) is not None
        fast = predict_rows(loaded, InMemory(data, cells=data.cells), keep_raw=False,
                            scores_only=True)  # fmt: skip
        full = predict_rows(loaded, InMemory(bytes(data)), keep_raw=False, scores_only=True)
        same(outcome(lambda r=fast: r), outcome(lambda r=full: r))
        assert fast.rows == len(batch)


def test_sentiment_columns_answer_like_the_frame() -> None:
    """The server's one-text path (sentiment_texts(frame=False): no DataFrame) answers what
    the frame gives, for hostile texts, both languages, explanations on and off."""
    pytest.importorskip("fastapi", reason="mktai serve needs the serve extra")
    from mktai.api.loaded import builtin_sentiment, sentiment_texts
    from mktai.serve.app import _sentiment_payload

    texts = ["Great product, fast delivery", "质量很差", "", "   ", "\x00\x1f", "😀", "N/A",
             "=cmd|' /C calc'!A0", "bad " * 2000, "好评 but broken", "1234", "caf\ufffd"]  # fmt: skip
    model = builtin_sentiment()
    for lang in ("auto", "en", "zh"):
        for explain in (False, True):
            framed = sentiment_texts(model, texts, lang=lang, explain=explain)
            columns = sentiment_texts(model, texts, lang=lang, explain=explain, frame=False)
            assert columns.frame is None and framed.summary == columns.summary
            for mlflow in (False, True):
                expected = _sentiment_payload(framed, model, mlflow)
                assert _sentiment_payload(columns, model, mlflow) == expected
    assert any(p["probability"] is None for p in expected["predictions"])  # unknown texts


def test_remembered_cells_are_bounded_and_the_rules_own_answers() -> None:
    """A client sending ever new values cannot grow the per-value memory past its bound, and
    what is remembered is what the cleaner's rule gives for the cell (seen again: same array)."""
    import pyarrow as pa

    from mktai.data import small
    from mktai.data.clean import _fast_arrow, fast_yes_no

    # an infinity is no amount: the full path makes it missing and counts it unparseable
    assert small._converted("number", None, ["1", "inf"]) is None
    cells = [f" {i}.5 " for i in range(3 * small.MEMO_CELLS)]
    for start in range(0, len(cells), 500):
        assert small._converted("number", None, cells[start : start + 500]) is not None
    assert len(small._MEMO[("number", None)]) <= small.MEMO_CELLS
    for kind, batch in (("number", ["1", " 2 ", "", "1e3", "-0.5"]),
                        ("text", [" a ", "", "b", "管理 "]),
                        ("id", ["17850.0", " 42 ", ""]),
                        ("bool", ["yes", " NO ", "", "maybe", "1"])):  # fmt: skip
        first = small._converted(kind, None, batch)
        again = small._converted(kind, None, batch)  # every cell remembered now
        if kind == "bool":  # the Int8 array as float64 1/0 with NaN for missing
            found = fast_yes_no(pa.array(batch, pa.string()))[0]
            expected = found.to_numpy(dtype=np.float64, na_value=np.nan)
            assert np.isnan(expected).any()
            assert np.array_equal(first, expected, equal_nan=True)
            assert np.array_equal(again, expected, equal_nan=True)
        elif kind == "number":
            expected = _fast_arrow(pa.array(batch, pa.string()), kind, None)
            assert np.array_equal(again, expected, equal_nan=True)
            assert np.array_equal(first, expected, equal_nan=True)
        else:
            expected = _fast_arrow(pa.array(batch, pa.string()), kind, None)
            assert again.equals(expected) and first.equals(expected)
    assert small._converted("number", None, ["1,5"]) is None  # not the fast rule's: full path
