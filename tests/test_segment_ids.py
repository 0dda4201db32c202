"""Customer and order ids factorised through their numbers give exactly what factorising the
strings gives: the same codes, the same distinct ids in string order, and ids such as '7' and
'007' (or '0' and '-0') stay distinct customers and orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mktai.tasks.segment import rfm

RNG = np.random.default_rng(7)
CASES = {
    "leading zeros": ["10", "9", "10", "007", "7", "-3"],
    "mixed widths": ["10", "9", "10", "7", "-3", "100"],
    "negative zero": ["0", "-0", "5"],
    "not numbers": ["a", "b", "a"],
    "too big for int64": ["9223372036854775808", "1"],
    "same width": [str(x) for x in RNG.integers(1000, 9999, 3000)],
    "wide range (hashed)": [str(x) for x in RNG.integers(0, 10**12, 1000)],
    "negative and positive": [str(x) for x in RNG.integers(-50, 5000, 3000)],
}
DTYPES = {"str": "str", "string[pyarrow]": pd.StringDtype("pyarrow"), "object": object}


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_sorted_codes_equal_pandas_factorize(values, dtype):
    series = pd.Series(values, dtype=dtype)
    codes, distinct = rfm._factorize_sorted(series)
    expected_codes, expected = pd.factorize(series, sort=True)
    assert codes.dtype == np.int64
    assert np.array_equal(codes, expected_codes)
    assert list(distinct) == list(expected)


def test_numbers_only_for_canonical_integer_strings():
    assert rfm._integer_ids(pd.Series(["12", "-4"], dtype="str")).tolist() == [12, -4]
    for values in (["07", "7"], ["-0"], ["1.0"], [" 1"], ["1", None]):
        assert rfm._integer_ids(pd.Series(values, dtype="str")) is None


def test_zero_padded_and_plain_ids_stay_distinct_customers_and_orders():
    frame = pd.DataFrame(
        {
            "customer": pd.Series(["7", "007", "7", "7"], dtype="str"),
            "order": pd.Series(["100", "100", "0100", "101"], dtype="str"),
            "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    out, _ = rfm.summarise(frame)
    assert out["customer"].tolist() == ["007", "7"]
    # '100' and '0100' are two orders of customer 7 ('100' is shared with 007: hashed pairs)
    assert out["frequency"].tolist() == [1, 3]
