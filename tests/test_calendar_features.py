"""Month columns: names and their abbreviations are months, words that only start like one are
not ('Junk' was read as June, 'Marketing' as March, by their first three letters)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

VALUES = ["Jan", "January", " DEC ", "sept", "Sep.", "may", "Junk", "Marketing", "Mayo", None]
EXPECTED = [1, 1, 12, 9, 9, 5, np.nan, np.nan, np.nan, np.nan]


@pytest.mark.parametrize(
    "column",
    [pa.array(VALUES), pd.Series(VALUES, dtype="string"), pd.Series(VALUES, dtype=object)],
    ids=["arrow", "pandas-string", "object"],
)
def test_month_words_and_non_months(column) -> None:
    from mktai.tasks.common.tabular import _month_values

    np.testing.assert_array_equal(_month_values(column), np.array(EXPECTED, dtype=float))


def test_a_column_of_words_starting_like_months_is_no_month_column() -> None:
    from mktai.tasks.common.tabular import _is_month_column

    assert _is_month_column(pd.Series(["jan", "feb", "March", "apr."] * 10, dtype="string"))
    words = ["Junk", "Marketing", "Decor", "Octopus", "Augment", "Novel"] * 10
    assert not _is_month_column(pd.Series(words, dtype="string"))
