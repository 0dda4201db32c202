"""README "Cleaning": each column's type is decided once from the sample (ids and codes with
leading zeros stay text, yes/no columns are booleans, decimal commas are recognised, dates
decide their day/month order), every batch is then read the same way, whitespace is trimmed,
empty cells are missing, and a value that cannot be read is counted with an example.

Plans, typed values and counts compared whole, on small frames written here, through both the
Arrow fast paths (plain and dictionary-encoded strings) and the pandas parsers (a batch with
unreadable values): these kill the mutants of clean.py's planning and typing functions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mktai.data import clean, parse
from mktai.errors import ColumnNotFound, RoleNotFound, UsageError


def _plan(columns: dict[str, list], kind: str | None = "table", mapping=None, required=()):  # noqa: ANN001, ANN201
    return clean.make_plan(pd.DataFrame(columns, dtype=str), kind, mapping or {}, required)


# --- names, roles, kinds --------------------------------------------------------------------


def test_map_names_the_original_or_the_normalised_column() -> None:
    original, names = ["Customer ID", "Amount"], ["customer_id", "amount"]
    for column in ["customer_id", "Customer ID", " customer id "]:
        assert clean.resolve_mapping({"customer": column}, original, names) == {
            "customer": "customer_id"
        }
    assert clean.resolve_mapping({}, original, names) == {}
    with pytest.raises(ColumnNotFound) as caught:
        clean.resolve_mapping({"customer": "amount", "date": "when"}, original, names)
    assert str(caught.value) == "--map date=when: no column 'when' (columns: Customer ID, Amount)"


def test_free_name_appends_underscores_until_free() -> None:
    assert clean.free_name("amount", []) == "amount"
    assert clean.free_name("amount", ["amount", "amount_"]) == "amount__"
    assert clean.free_name("x", ["amount"]) == "x"


def test_transactions_plan_derives_amount_and_is_return() -> None:
    plan = _plan(
        {
            "InvoiceNo": ["1", "2"],
            "Quantity": ["1", "2"],
            "UnitPrice": ["1.5", "2"],
            "InvoiceDate": ["2024-01-02", "2024-01-03"],
            "CustomerID": ["17850", "12"],
            "is_return": ["a", "b"],
        },
        kind=None,
        required=("customer",),
    )
    assert plan.kind == "transactions"
    assert plan.names == ["invoice_no", "quantity", "unit_price", "invoice_date", "customer_id",
                          "is_return"]  # fmt: skip
    assert plan.roles == {
        "customer": "customer_id",
        "order": "invoice_no",
        "date": "invoice_date",
        "quantity": "quantity",
        "price": "unit_price",
        "amount": "amount",
        "is_return": "is_return_",
    }
    assert plan.required == ("date", "customer", "quantity", "price")
    assert plan.derived == ["amount", "is_return_"]
    assert plan.types == {"invoice_no": "id", "quantity": "number", "unit_price": "number",
                          "invoice_date": "date", "customer_id": "id", "is_return": "text"}  # fmt: skip
    assert plan.european == {"quantity": False, "unit_price": False}
    assert plan.day_first == {"invoice_date": None} and plan.notes == []


def test_transactions_with_an_amount_column_need_it_and_derive_only_is_return() -> None:
    plan = _plan({"Date": ["2024-01-02"], "Amount": ["3.5"], "Customer": ["a"]}, "transactions")
    assert plan.required == ("date", "amount") and plan.derived == ["is_return"]
    assert plan.roles["amount"] == "amount" and plan.roles["is_return"] == "is_return"
    with pytest.raises(RoleNotFound) as caught:
        _plan({"Date": ["2024-01-02"], "Quantity": ["1"]}, "transactions")
    assert str(caught.value) == (
        "no column found for price in a transactions file (columns: Date, Quantity); name it "
        "with --map price=COLUMN"
    )


def test_unknown_kind_and_explicit_roles() -> None:
    with pytest.raises(UsageError) as caught:
        _plan({"a": ["1"]}, "bogus")
    assert str(caught.value) == (
        "--kind 'bogus' is not one of: transactions, customers, ratings, reviews, sales, "
        "labelled, table"
    )
    plan = _plan({"who": ["7", "8"], "v": ["1", "2"]}, "customers", {"customer": "who"})
    assert plan.roles["customer"] == "who" and plan.types == {"who": "id", "v": "number"}
    assert plan.required == ("customer",)


# --- type inference -------------------------------------------------------------------------


def test_column_types_from_the_sample() -> None:
    plan = _plan(
        {
            "zip": ["123", "456"],
            "phone": ["555", "556"],
            "编号": ["1", "2"],
            "code2": ["0123", "0456"],
            "flag": ["yes", "no"],
            "word": ["a", "b"],
            "n": ["1.5", "2"],
            "eu": ["1,5", "2,25"],
            "d": ["2024-01-02", "2024-02-03"],
            "na": ["N/A", "-"],
            "zero": ["0", "5"],
            "Date": ["02/01/2024", "13/01/2024"],
            "Amount": ["1,234", "2,500"],
            "Review": ["good", "bad"],
        },
        kind="sales",
        mapping={"text": "Review"},
    )
    assert plan.types == {
        "zip": "id", "phone": "id", "编号": "id", "code2": "id", "flag": "bool", "word": "text",
        "n": "number", "eu": "number", "d": "date", "na": "text", "zero": "number",
        "date": "date", "amount": "number", "review": "text",
    }  # fmt: skip
    assert plan.european == {"n": False, "eu": True, "zero": False, "amount": False}
    assert plan.day_first == {"d": None, "date": True}
    assert plan.notes == [
        "column amount: no value in the sample shows its decimal mark, so '1,234' was read as a "
        "thousands separator (one thousand two hundred and thirty-four)"
    ]


def test_typed_sample_columns_keep_their_type() -> None:
    frame = pd.DataFrame(
        {
            "i": [1, 2],
            "f": [0.5, 1.0],
            "b": [True, False],
            "t": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "customer": ["1", "2"],
        }
    )
    plan = clean.make_plan(frame, "customers", {}, ())
    assert plan.types == {
        "i": "number",
        "f": "number",
        "b": "number",
        "t": "date",
        "customer": "id",
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1.5"] * 19 + ["x"], "number"),  # 95% readable: a number column with one bad value
        (["1.5"] * 18 + ["x", "y"], "text"),
        (["2024-01-02"] * 19 + ["soon"], "date"),
        (["2024-01-02"] * 18 + ["soon", "later"], "text"),
        (["yes"] * 99 + ["maybe"], "bool"),  # 99% yes/no words
        (["yes"] * 98 + ["maybe", "perhaps"], "text"),
        (["1.5"] * 19 + ["1"], "number"),
        (["", " ", "N/A"], "text"),
    ],
)
def test_inference_thresholds_count_every_sample_row(values: list[str], expected: str) -> None:
    # repeated values count as often as they occur (the sample's distinct values are weighted)
    assert _plan({"c": values}).types == {"c": expected}


def test_decimal_mark_note_names_the_reading_chosen() -> None:
    eu = _plan({"price": ["1.234", "2.500"], "Date": ["2024-01-02", "2024-01-03"]}, "sales")
    assert eu.european["price"] == parse.looks_european(pd.Series(["1.234", "2.500"]))
    example = "1.234" if eu.european["price"] else "1,234"
    assert eu.notes == [
        f"column price: no value in the sample shows its decimal mark, so '{example}' was read "
        "as a thousands separator (one thousand two hundred and thirty-four)"
    ]
    shown = _plan({"price": ["1,234", "2,5"], "Date": ["2024-01-02", "2024-01-03"]}, "sales")
    assert shown.european == {"price": True} and shown.notes == []
    plain = _plan({"price": ["12", "3"], "Date": ["2024-01-02", "2024-01-03"]}, "sales")
    assert plain.european == {"price": False} and plain.notes == []


def test_share_of_an_empty_sample_is_zero() -> None:
    assert clean._share(pd.Series([], dtype=bool), np.array([], dtype=np.int64)) == 0.0
    assert clean._share(pd.Series([True, False]), np.array([3, 1])) == 0.75


# --- typing every batch ---------------------------------------------------------------------

SAMPLE = {
    "id": ["17850.0", "12"],
    "n": ["1.5", "2"],
    "eu": ["1.234,5", "2,5"],
    "d": ["2024-01-02", "2024-02-03 10:00:00"],
    "dm": ["02/01/2024", "13/01/2024"],
    "flag": ["Yes", "no"],
    "t": ["a", "b"],
    "是": ["是", "否"],
}
TYPES = {"id": "id", "n": "number", "eu": "number", "d": "date", "dm": "date", "flag": "bool",
         "t": "text", "是": "bool"}  # fmt: skip
DTYPES = {"id": "string", "n": "float64", "eu": "float64", "d": "datetime64[ns]",
          "dm": "datetime64[ns]", "flag": "Int8", "t": "string", "是": "Int8"}  # fmt: skip
T = pd.Timestamp


def _batch(columns: dict[str, list], encoding: str) -> pa.RecordBatch:
    arrays = [pa.array(v, pa.string()) for v in columns.values()]
    if encoding == "dictionary":
        arrays = [a.dictionary_encode() for a in arrays]
    return pa.RecordBatch.from_arrays(arrays, names=list(columns))


def _cleaned(columns: dict[str, list], encoding: str) -> tuple[dict, clean.CleanStats]:
    plan = _plan(SAMPLE)
    assert plan.types == TYPES and plan.european == {"n": False, "eu": True}
    cleaner = clean.Cleaner(plan, "x.csv", ",")
    out, rejects = cleaner.clean(_batch(columns, encoding), 0)
    assert {c: str(t) for c, t in out.dtypes.items()} == DTYPES and rejects.empty
    return out.astype(object).where(out.notna(), None).to_dict("list"), cleaner.stats


@pytest.mark.parametrize("encoding", ["plain", "dictionary"])
def test_a_readable_batch_is_typed_by_the_fast_casts(encoding: str) -> None:
    batch = {
        "id": ["17850.0", " 12 ", "", "007"],
        "n": ["1.5", " 2 ", "", "1e3"],
        "eu": ["1.234,5", "2,5", "", "3"],
        "d": ["2024-01-02", "2024-02-03 10:00:00", "", "2024-03-04T05:06:07"],
        "dm": ["02/01/2024", "13/01/2024", "", "1/2/2024"],
        "flag": ["Yes", " no ", "", "N/A"],
        "t": [" a ", "", "b", "\u3000c"],
        "是": ["是", "否", "", "无"],
    }
    out, stats = _cleaned(batch, encoding)
    assert out == {
        "id": ["17850", "12", None, "007"],
        "n": [1.5, 2.0, None, 1000.0],
        "eu": [1234.5, 2.5, None, 3.0],
        "d": [T("2024-01-02"), T("2024-02-03 10:00"), None, T("2024-03-04 05:06:07")],
        "dm": [T("2024-01-02"), T("2024-01-13"), None, T("2024-02-01")],
        "flag": [1, 0, None, None],
        "t": ["a", None, "b", "c"],
        "是": [1, 0, None, None],
    }
    assert stats.failed == {} and stats.unparseable == {}
    assert stats.present == {"n": 3, "eu": 3, "d": 3, "dm": 3, "flag": 2, "是": 2}
    assert stats.date_info["d"] == {"format": "ISO 8601"}
    assert stats.date_info["dm"] == {"day_first": True, "format": "%d/%m/%Y"}


@pytest.mark.parametrize("encoding", ["plain", "dictionary", "dictionary with nulls"])
def test_unreadable_values_are_missing_and_counted(encoding: str) -> None:
    batch = {
        "id": ["17850.0", " 12 ", "", "007"],
        "n": ["1.5", " 2 ", "x", "1e3"],
        "eu": ["1.234,5", "2,5", "", "x"],
        "d": ["2024-01-02", "2024-02-03 10:00:00", "", "soon"],
        "dm": ["02/01/2024", "13/01/2024", "x", "1/2/2024"],
        "flag": ["Yes", " no ", "maybe", "N/A"],
        "t": [" a ", "", "b", "\u3000c"],
        "是": ["是", "否", "x", ""],
    }
    nulls = encoding == "dictionary with nulls"
    if nulls:  # not what the CSV reader makes: the plain strings are read instead
        batch = {c: v + [None] for c, v in batch.items()}
    out, stats = _cleaned(batch, "plain" if encoding == "plain" else "dictionary")
    tail = [None] if nulls else []
    assert out == {
        "id": ["17850", "12", None, "007", *tail],
        "n": [1.5, 2.0, None, 1000.0, *tail],
        "eu": [1234.5, 2.5, None, None, *tail],
        "d": [T("2024-01-02"), T("2024-02-03 10:00"), None, None, *tail],
        "dm": [T("2024-01-02"), T("2024-01-13"), None, T("2024-02-01"), *tail],
        "flag": [1, 0, None, None, *tail],
        "t": ["a", None, "b", "c", *tail],
        "是": [1, 0, None, None, *tail],
    }
    one = {"n": 1, "eu": 1, "d": 1, "dm": 1, "flag": 1, "是": 1}
    assert stats.failed == one and stats.unparseable == one
    assert stats.unparseable_examples == {"n": "x", "eu": "x", "d": "soon", "dm": "x",
                                          "flag": "maybe", "是": "x"}  # fmt: skip
    assert stats.present == {"n": 4, "eu": 3, "d": 3, "dm": 4, "flag": 3, "是": 3}
    assert stats.date_info["d"] == {"format": "%Y-%m-%d %H:%M:%S"}


def test_day_order_undecided_in_the_sample_is_decided_by_the_first_batch_that_shows_it() -> None:
    plan = _plan({"when": ["01/02/2024", "03/04/2024"]})
    assert plan.types == {"when": "date"} and plan.day_first == {"when": None}
    cleaner = clean.Cleaner(plan, "x.csv", ",")
    cleaner.clean(_batch({"when": ["05/06/2024", "x"]}, "plain"), 0)
    assert plan.day_first == {"when": None} and "decided_at_row" not in str(cleaner.stats.date_info)
    second, _ = cleaner.clean(_batch({"when": ["25/12/2024", "01/02/2024"]}, "plain"), 10)
    assert plan.day_first == {"when": True}
    assert cleaner.stats.date_info["when"]["decided_at_row"] == 11
    assert second["when"].tolist() == [T("2024-12-25"), T("2024-02-01")]
    third, _ = cleaner.clean(_batch({"when": ["03/04/2024", "x"]}, "plain"), 20)
    assert third["when"].tolist()[0] == T("2024-04-03")  # the same order for later batches


def test_typed_batches_from_parquet() -> None:
    frame = pd.DataFrame({"q": [1, 2], "at": pd.to_datetime(["2024-01-02 10:00"] * 2)})
    plan = clean.make_plan(frame, "table", {}, ())
    assert plan.types == {"q": "number", "at": "date"}
    local = pd.Series(pd.to_datetime(["2024-01-02 10:00", "2024-01-02 23:00"]))
    typed = pd.DataFrame({"q": [3, 4], "at": local.dt.tz_localize("Etc/GMT-2")})  # UTC+2
    out, _ = clean.Cleaner(plan, "x.parquet", ",").clean(typed, 0)
    assert out["q"].dtype == "float64" and out["q"].tolist() == [3.0, 4.0]
    assert out["at"].tolist() == [T("2024-01-02 08:00"), T("2024-01-02 21:00")]  # as UTC


# --- Arrow helpers --------------------------------------------------------------------------


def test_plain_ascii_edges() -> None:
    for text, expected in [
        (["abc", "\x7f"], True),
        (["\x1b", " "], True),
        (["a\x1c"], False),
        (["a\x1f"], False),
        (["é"], False),
        ([], True),
        ([None], True),
        ([""], True),
    ]:
        assert clean.plain_ascii(pa.array(text, pa.string())) is expected, text


def test_trimmed_strips_as_str_strip_and_empties_become_missing() -> None:
    values = [" a ", "", "  ", None, "b", "\u3000c\u3000", "\x1cd\x1f"]
    assert clean._trimmed(pa.array(values, pa.string())).to_pylist() == [
        "a", None, None, None, "b", "c", "d",
    ]  # fmt: skip
    assert clean._trimmed(pa.array(["x ", "y"])).to_pylist() == ["x", "y"]


def test_cancelled_orders_are_c_then_a_digit() -> None:
    orders = pa.array(["C536379", "c1", "Cx1", "CN-5", "5C1", None, "C", "536379"], pa.string())
    assert clean._cancelled(orders).tolist() == [True, True, False, False, False, False, False,
                                                 False]  # fmt: skip
    assert clean._cancelled(pa.array(["1", "2"])).tolist() == [False, False]


def test_word_sets_are_parse_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clean, "_WORD_SETS", {})  # built here, not taken from an earlier test
    assert clean._word_set("true").to_pylist() == sorted(parse.TRUE_WORDS)
    assert clean._word_set("false").to_pylist() == sorted(parse.FALSE_WORDS)
    assert clean._word_set("missing").to_pylist() == sorted(parse.MISSING_WORDS)
    assert clean._word_set("true") is clean._word_set("true")  # built once


def test_fast_booleans_match_the_pandas_parser() -> None:
    words = ["Yes", " NO ", "true", "0", "", None, "n/a", "maybe", "是"]
    expected_values, expected_failed = parse.parse_booleans(pd.Series(words, dtype=object))
    assert expected_values.tolist() == [1, 0, 1, 0, pd.NA, pd.NA, pd.NA, pd.NA, 1]
    ascii_words = words[:-1]
    values, failed = clean._fast_booleans(pa.array(ascii_words, pa.string()))
    assert values.dtype == "Int8" and values.tolist() == expected_values.tolist()[:-1]
    assert failed.tolist() == expected_failed.tolist()[:-1] == [False] * 7 + [True]
    assert clean._fast_booleans(pa.array(words, pa.string())) is None  # 是 needs NFKC
    dictionary = pa.array(["yes", "no", "yes", "maybe"]).dictionary_encode()
    values, failed = clean._fast_booleans(dictionary)
    assert values.tolist() == [1, 0, 1, pd.NA] and failed.tolist() == [False, False, False, True]
    with_null = pa.array(["yes", None, "no"]).dictionary_encode()
    values, failed = clean._fast_booleans(with_null)
    assert values.tolist() == [1, pd.NA, 0] and failed.tolist() == [False, False, False]
    assert clean._fast_booleans(pa.array(["是", "否"]).dictionary_encode()) is None


def test_fast_arrow_reads_or_declines() -> None:
    text = pa.array([" 1.5", "2 ", ""], pa.string())
    assert clean._fast_arrow(text, "bool", None) is None
    assert clean._fast_arrow(pa.array(["2024-01-02"]), "bool", None) is None  # castable, still
    with_null = pa.array(["a ", None]).dictionary_encode()  # read as plain strings
    assert clean._fast_arrow(with_null, "text", None).to_pylist() == ["a", None]
    assert clean._fast_arrow(text, "number", True) is None  # decimal commas: the parsers
    numbers = clean._fast_arrow(text, "number", False)
    assert numbers.dtype == np.float64 and numbers[:2].tolist() == [1.5, 2.0]
    assert math.isnan(numbers[2])
    assert clean._fast_arrow(pa.array(["x"]), "number", False) is None
    assert clean._fast_arrow(pa.array(["1/2/2024"]), "date", None) is None
    dates = clean._fast_arrow(pa.array(["2024-01-02", None]), "date", None)
    assert dates.dtype == "datetime64[ns]" and dates.tolist()[0] == T("2024-01-02").value
    assert clean._fast_arrow(pa.array(["12.0", "3.00", "4.5", "x.0"]), "id", None).to_pylist() == [
        "12", "3", "4.5", "x.0",
    ]  # fmt: skip
    assert clean._fast_arrow(pa.array(["12.0"]), "text", None).to_pylist() == ["12.0"]
    coded = pa.array(["2", "1", "2"]).dictionary_encode()
    assert clean._fast_arrow(coded, "number", False).tolist() == [2.0, 1.0, 2.0]
    assert clean._fast_arrow(coded, "text", None).to_pylist() == ["2", "1", "2"]
    assert clean._fast_arrow(pa.array(["x", "1"]).dictionary_encode(), "number", False) is None


def test_column_forms() -> None:
    floats = np.array([1.0, np.nan])
    dates = np.array(["2024-01-02", "NaT"], dtype="datetime64[ns]")
    strings = pa.array(["a", None])
    series = pd.Series([1, None], dtype="Int8", index=[5, 6])
    assert clean._isna(floats).tolist() == [False, True]
    assert clean._isna(dates).tolist() == [False, True]
    assert clean._isna(np.array([1, 2])).tolist() == [False, False]
    assert clean._isna(strings).tolist() == [False, True]
    assert clean._isna(series).tolist() == [False, True]
    assert clean._floats(np.array([1, 2])).dtype == np.float64
    as_floats = clean._floats(series)
    assert as_floats.dtype == np.float64 and as_floats[0] == 1.0 and math.isnan(as_floats[1])
    keep = np.array([False, True])
    assert clean._take(strings, keep).to_pylist() == [None]
    assert clean._take(floats, keep).tolist()[0] != clean._take(floats, keep).tolist()[0]
    assert clean._take(series.reset_index(drop=True), keep).tolist() == [pd.NA]
    assert clean._to_series(strings).dtype == "string"
    assert clean._to_series(strings).tolist() == ["a", pd.NA]
    reindexed = clean._to_series(series)
    assert isinstance(reindexed, pd.Series) and reindexed.index.tolist() == [0, 1]
    assert reindexed.tolist() == [1, pd.NA]
    assert clean._to_series(floats).index.tolist() == [0, 1]
    assert isinstance(clean._to_column(strings), pd.arrays.ArrowStringArray)
    assert clean._to_column(floats) is floats
    assert clean._to_column(series).tolist() == [1, pd.NA]
    assert isinstance(clean._from_series(pd.Series([1.5])), np.ndarray)
    assert isinstance(clean._from_series(pd.Series(dates)), np.ndarray)
    assert isinstance(clean._from_series(series), pd.Series)
