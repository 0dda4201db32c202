"""A few plain rows cleaned without the CSV reader, the stream and a DataFrame (a server's path).

A one-row request through load_table costs ~13 ms whatever its size: spooling the body, the
CSV reader, ~100 Arrow kernel calls (a handful per column) and pandas frames. Most of that is
per call, not per row. `clean_rows` cleans the same cells with the same rule functions of
mktai.data.clean, only fewer times: the columns that share a type are stacked into one Arrow
array and converted by one call of the cleaner's own fast path (`_fast_arrow`,
`fast_yes_no`), then cut back into columns. Those conversions are element-wise (trim, the
float and ISO-date casts, the yes/no words), so each cell gets what its own column would give.

Anything that is not that simple returns None and the caller reads the rows the full way: a
header without a plan yet (the first request decides it), cells the CSV round trip could change
(quotes, commas, line breaks, control characters), a value the fast casts do not read (decimal
commas, 'N/A' in a number column, slashed dates, non-ASCII yes/no words), roles that reject
rows, transactions, or more rows than SMALL_ROWS. So every message, reject and batch-level
decision (decimal mark, day order) still comes from the one cleaning layer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mktai.data.clean import _fast_arrow, fast_yes_no
from mktai.data.read import DELIMITERS, MAX_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.clean import Plan

SMALL_ROWS = 1000  # rows up to which a request is cleaned here
SMALL_CHARS = 1 << 20  # characters of all cells together
# What Python's csv writer would quote or the reader treat specially (a cell holding one of
# them goes the CSV way): delimiter, quote, line breaks and the other C0 control characters.
_UNSAFE_CELL = re.compile(r'[,"\x00-\x08\x0a-\x1f]')
# Header names are also what the delimiter sniffer reads: none of the candidate delimiters.
_UNSAFE_NAME = re.compile("[" + re.escape("".join(DELIMITERS)) + '"\x00-\x1f\ufeff]')
_LABEL_ROLES = ("label", "target", "rating")  # load._tidy_labels retypes these: full path


class Columns:
    """The cleaned columns of a few rows, read as load_table's DataFrame is read by the model
    side (`frame[name]`, `name in frame.columns`, `len(frame)`, `frame.index`), but `frame[name]`
    is the cleaner's array (NumPy, or Arrow strings for text): the model's preparation takes
    those as they are (tabular._series makes the Series where one is needed)."""

    def __init__(self, arrays: dict[str, Any], rows: int) -> None:
        self.arrays = arrays
        self.rows = rows
        self.columns = list(arrays)

    def __len__(self) -> int:
        return self.rows

    @property
    def index(self) -> pd.RangeIndex:
        import pandas as pd

        return pd.RangeIndex(self.rows)

    def __getitem__(self, name: str) -> Any:
        return self.arrays[name]

    def frame(self) -> pd.DataFrame:
        """The DataFrame load_table would have made (for comparisons and other consumers)."""
        import pandas as pd

        from mktai.data.clean import _to_column

        return pd.DataFrame({name: _to_column(v) for name, v in self.arrays.items()})


def column_series(values: Any) -> pd.Series:
    """A cleaned column (NumPy, or Arrow strings) as the Series load_table's frame holds."""
    from mktai.data.clean import _to_series

    return _to_series(values)


def plain_cells(names: list[str], rows: list[list[str]]) -> bool:
    """True when CSV-writing these cells and reading them back gives them unchanged, with the
    header read as written and a comma sniffed as the delimiter; and they are few enough."""
    if not 2 <= len(names) <= MAX_COLUMNS or len(set(names)) != len(names):
        return False
    if not 1 <= len(rows) <= SMALL_ROWS:
        return False
    if any(not name.strip() or _UNSAFE_NAME.search(name) for name in names):
        return False
    size = 0
    for row in rows:
        if len(row) != len(names):
            return False
        for cell in row:
            size += len(cell)
            if _UNSAFE_CELL.search(cell):
                return False
    return size <= SMALL_CHARS


def clean_rows(plan: Plan, names: list[str], rows: list[list[str]]) -> Columns | None:
    """The cleaned columns load_table gives for these rows with this plan (yes/no columns as
    load._tidy_labels leaves them), or None when they need the full path (module docstring)."""

    if plan.kind != "table" or plan.required or plan.derived or list(names) != plan.original:
        return None
    if any(plan.roles.get(role) for role in _LABEL_ROLES) or not plain_cells(names, rows):
        return None
    n = len(rows)
    by_column = list(zip(*rows, strict=True))
    groups: dict[tuple[str, Any], list[int]] = {}
    for i, column in enumerate(plan.names):
        groups.setdefault((plan.types[column], plan.european.get(column)), []).append(i)
    out: dict[str, Any] = {}
    for (kind, european), members in groups.items():
        values = _converted(kind, european, [cell for i in members for cell in by_column[i]])
        if values is None:
            return None
        for j, i in enumerate(members):
            part = values[j * n : (j + 1) * n]
            out[plan.names[i]] = _yes_no_column(part) if kind == "bool" else part
    return Columns({name: out[name] for name in plan.names}, n)


def _yes_no_column(part: Any) -> Any:
    """load.yes_no_numbers of a column _converted gave as float64 with NaN: int64 1/0, or
    float64 with NaN for missing."""
    import numpy as np

    return part.copy() if np.isnan(part).any() else part.astype(np.int64)


MEMO_CELLS = 4096  # cells remembered per column type (hostile clients cannot grow it)
_MEMO: dict[tuple[str, Any], dict[str, Any]] = {}
_MISS = object()


def _converted(kind: str, european: Any, cells: list[str]) -> Any:
    """The cells of one type converted by the cleaner's fast rule, as one array, or None when
    some cell needs the pandas parsers.

    The rules are element-wise, so a cell converts the same in any array: each converted
    cell is remembered (up to MEMO_CELLS per type) and a request whose cells were all seen
    before is assembled from them without an Arrow call. Only what the rule itself gave is
    remembered, so a remembered cell is the rule's answer. Dates are always converted.
    yes/no cells come back as float64 1/0 with NaN for missing (the Int8 array as
    yes_no_numbers reads it), so the columns cut from them need no pandas array.
    """
    import numpy as np
    import pyarrow as pa

    memo = _MEMO.setdefault((kind, european), {})
    known = [memo.get(cell, _MISS) for cell in cells] if kind != "date" else [_MISS]
    if not any(value is _MISS for value in known):
        if kind == "number":
            return np.array(known, dtype=np.float64)
        if kind == "bool":
            return np.array([np.nan if missing else data for data, missing in known], np.float64)
        return pa.array(known, pa.string())
    stacked = pa.array(cells, pa.string())
    if kind == "bool":
        found = fast_yes_no(stacked)
        values = None if found is None else found[0]
    else:
        values = _fast_arrow(stacked, kind, european)
    if values is None or kind == "date" or len(memo) + len(cells) > MEMO_CELLS:
        return _as_floats(values) if kind == "bool" and values is not None else values
    if kind == "number":
        memo.update(zip(cells, values.tolist(), strict=True))
        return values
    if kind == "bool":
        data = values.to_numpy(dtype=np.int8, na_value=0).tolist()
        pairs = zip(data, values.isna().tolist(), strict=True)
        memo.update(zip(cells, pairs, strict=True))
        return _as_floats(values)
    memo.update(zip(cells, values.to_pylist(), strict=True))
    return values


def _as_floats(values: Any) -> Any:
    """The cleaner's Int8 yes/no array as float64 1/0 with NaN for missing."""
    import numpy as np

    return values.to_numpy(dtype=np.float64, na_value=np.nan)
