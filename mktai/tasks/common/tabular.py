"""Input schema and feature preparation for tabular models, driven by the cleaned column types.

The schema (a JSON-able dict stored in the manifest and in model.json) records, per column, how
it is used: numeric (missing values imputed by the model pipeline and counted; a "not
applicable" code such as pdays = -1 becomes missing), categorical (the
training categories; unseen values at predict time are counted and treated as missing), date
(expanded into calendar parts) or dropped (constant, identifier, free text, --drop). The same
`prepare` runs at train and predict time, so both see identical features.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

MAX_CATEGORIES = 200  # histogram GBM handles at most 255 categories per feature
RARE_KEEP = 2000  # rare training values remembered so they are not reported as unseen
OTHER = "__other__"
LEAK_SCAN_ROWS = 20_000  # rows the leak scan looks at (a seeded sample of larger tables)
MISSING = "__missing__"
DATE_PARTS = ("year", "month", "day", "dayofweek", "dayofyear")
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}  # fmt: skip


def _is_text(series: pd.Series) -> bool:
    import pandas as pd

    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _is_month_column(series: Any) -> bool:
    """Training's decision: month names (jan, January) or 1-12 in at least 95% of the present
    values, and no number outside 1-12 (a day-of-year feature is derived from it)."""
    import numpy as np

    numbers, present = _month_parse(series)
    valid = numbers[~np.isnan(numbers)]
    if len(valid) == 0 or len(valid) < 0.95 * present:
        return False
    return bool(((valid >= 1) & (valid <= 12)).all())


_MONTH_MEMO: dict[tuple, Any] = {}


def _month_values(series: Any) -> Any:
    """Each value's month number as float64 (NaN where a value is no month): how a model that
    derived day-of-year reads the column. Value by value, so a row's feature never depends on
    the rows sent with it (a server's one-row request scores as the same row in a file).

    series: a Series, or a cleaned column as the cleaner's array (mktai.data.small)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(series, pa.Array) and len(series) <= MEMO_ROWS:
        return _remembered_months(series)
    numbers, _ = _month_parse(series)
    numbers[(numbers < 1) | (numbers > 12)] = np.nan
    return numbers


def _remembered_months(array: Any) -> Any:
    """_month_values of a short Arrow column, remembered per tuple of values (up to
    MEMO_VALUES of them): the answer depends on the values alone."""
    import numpy as np

    key = tuple(array.to_pylist())
    numbers = _MONTH_MEMO.get(key)
    if numbers is None:
        numbers, _ = _month_parse(array)
        numbers[(numbers < 1) | (numbers > 12)] = np.nan
        _MONTH_MEMO[key] = numbers
        if len(_MONTH_MEMO) > MEMO_VALUES:
            _MONTH_MEMO.clear()
    return numbers.copy()


def _month_parse(series: Any) -> tuple[Any, int]:
    """(month number of each value as float64: names by their first three letters, numbers as
    written, NaN for anything else; the count of present values)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    fast = _month_numbers_ascii(series)
    if fast is not None:
        array = series if isinstance(series, pa.Array) else None
        present = len(array) - array.null_count if array is not None else int(series.notna().sum())
        return fast, present
    series = _series(series)
    if _is_text(series):
        text = series.astype("string").str.strip().str.lower().str[:3]
        numbers = text.map(MONTHS).astype("Float64")
    else:
        numbers = pd.to_numeric(series, errors="coerce").astype("Float64")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), int(series.notna().sum())


def _month_numbers_ascii(series: Any) -> Any:
    """_month_parse's numbers for a plain-ASCII string column, in Arrow (None: use the pandas
    path).

    Plain ASCII (no control characters but tab and line ends, which Arrow's trim removes as
    str.strip does) makes Arrow's trim, lower-case and 3-character slice the same as Python's.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(series, pa.Array):  # a cleaned text column (mktai.data.small)
        array = series
    elif isinstance(series, pd.Series) and isinstance(series.dtype, pd.StringDtype):
        array = pa.array(series.array)
    else:
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    string = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    if not string or not plain_ascii(array):
        return None
    text = pc.utf8_slice_codeunits(pc.ascii_lower(pc.ascii_trim_whitespace(array)), 0, 3)
    found = pc.index_in(text, value_set=_month_names())
    numbers = np.asarray(pc.fill_null(pc.cast(found, pa.float64()), np.nan), dtype=np.float64)
    return numbers + 1  # MONTHS is in calendar order: position 0 is January


@functools.lru_cache(maxsize=1)
def _month_names() -> Any:
    """MONTHS' names as an Arrow value set (built once)."""
    import pyarrow as pa

    return pa.array(list(MONTHS), pa.string())


def plain_ascii(array: Any) -> bool:
    """True when an Arrow string array holds only ASCII without the control characters Python's
    str.strip treats as white space but Arrow's ASCII trim does not (0x1c-0x1f)."""
    import numpy as np

    data = array.buffers()[2]
    if data is None or data.size == 0:
        return True
    raw = np.frombuffer(data, np.uint8)
    return bool(raw.max() < 128 and not ((raw >= 0x1C) & (raw <= 0x1F)).any())


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    drop: list[str] | None = None,
    yes_no: frozenset[str] = frozenset(),
    day_first: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """How each column of the training frame becomes model input (see module docstring).

    yes_no: the columns the cleaner read as yes/no words. They are numbers 1/0 to the model,
    float64 when some are missing, so the dtype alone cannot tell scoring to read 'yes'.
    day_first: how the cleaner read the 'a/b/yyyy' dates of each date column that had them,
    so rows scored later read 03/04/2024 in the training order (see read_types)."""
    import pandas as pd

    drop = list(drop or [])
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        raise InputError(f"--drop names column(s) not in the data: {', '.join(unknown)}")
    columns: list[dict[str, Any]] = []
    dropped: dict[str, str] = {}
    for name in frame.columns:
        if name == target:
            continue
        series = frame[name]
        present = series.dropna()
        if name in drop:
            dropped[name] = "excluded with --drop"
            continue
        if present.empty:
            dropped[name] = "no values"
            continue
        entry: dict[str, Any] = {"name": str(name), "dtype": str(series.dtype)}
        identifier = identifier_reason(str(name), series)
        if identifier:
            dropped[name] = identifier
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            entry.update(type="date", parts=list(DATE_PARTS))
            if day_first and day_first.get(name) is not None:
                entry["day_first"] = bool(day_first[name])
        elif not _is_text(series):
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            if numbers.nunique() <= 1:
                dropped[name] = "constant"
                continue
            entry.update(type="numeric", median=float(numbers.median()))
            if name in yes_no:
                entry["yes_no"] = True
            sentinel = _sentinel(numbers)
            if sentinel is not None:
                entry["sentinel"] = sentinel
        else:
            values = present.astype("string")
            counts = values.value_counts()
            if len(counts) <= 1:
                dropped[name] = "constant"
                continue
            distinct = len(counts) / len(values)
            if len(counts) > 50 and distinct > 0.5:
                avg_len = float(values.str.len().mean())
                why = "free text" if avg_len > 30 else "identifier: text"
                dropped[name] = f"{why} ({distinct:.0%} distinct values)"
                continue
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            keep = [str(k) for k, _ in ordered[:MAX_CATEGORIES]]
            rare = [str(k) for k, _ in ordered[MAX_CATEGORIES:]]
            entry.update(type="categorical", categories=sorted(keep))
            if rare:
                entry["categories"].append(OTHER)
                entry["rare"] = rare[:RARE_KEEP]
        entry["missing"] = int(series.isna().sum())
        columns.append(entry)
    if not columns:
        raise InputError(
            f"no usable feature columns besides the target {target!r} "
            f"(dropped: {', '.join(f'{k} ({v})' for k, v in dropped.items()) or 'none'})"
        )
    schema: dict[str, Any] = {"columns": columns, "dropped": dropped, "derived": []}
    schema["derived"] = _calendar_features(frame, columns)
    return schema


_ID_WORDS = frozenset({"id", "idx", "uuid", "guid", "key", "identifier"})


def _name_says_identifier(name: str) -> bool:
    """customer_id, CustomerID, customerIdx, user-key, id: the last word of the name is an id."""
    import re

    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip())
    parts = [w for w in re.split(r"[^0-9A-Za-z\u4e00-\u9fff]+", words.lower()) if w]
    return bool(parts) and (parts[-1] in _ID_WORDS or parts[-1].endswith(("编号", "号码")))


def identifier_reason(name: str, series: pd.Series) -> str | None:
    """Why a column is an identifier (left out of the features), or None.

    Whatever the dtype: a name whose last word is id/idx/uuid/key with mostly distinct values, or
    integer values that are all distinct and either increase with the row order or fill a
    consecutive range (a row number such as customer_idx 1..n). Such a column cannot generalise
    to new customers; as a number a tree splits on it and learns the file's order.
    """
    import numpy as np
    import pandas as pd

    present = series.dropna()
    if len(present) < 20 or pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_datetime64_any_dtype(series):
        return None
    distinct = present.nunique() / len(present)
    if _name_says_identifier(name) and distinct > 0.5:
        return f"identifier: named like an id, {distinct:.0%} distinct values"
    if distinct < 1.0:
        return None
    numbers = pd.to_numeric(present, errors="coerce") if _is_text(series) else present
    if _is_text(series) and numbers.notna().mean() < 1.0:
        return None  # distinct text is judged by the free-text / identifier-like rule
    values = numbers.to_numpy(dtype="float64")
    if not np.all(np.mod(values, 1) == 0):
        return None
    increasing = bool(np.all(np.diff(values) > 0))
    consecutive = float(values.max() - values.min() + 1) == float(len(values))
    if increasing or consecutive:
        how = "increasing with the row order" if increasing else "a consecutive range"
        return f"identifier: whole numbers, 100% distinct, {how}"
    return None


def _sentinel(numbers: pd.Series) -> float | None:
    """A negative code meaning "not applicable" (bank marketing's pdays = -1: never contacted).

    Recognised when one negative integer is frequent (>= 5% of rows) and every other value is
    >= 0; it is then treated as missing, which trees route on their own and linear models see
    through a missing-indicator column, instead of as a number below every real value.
    """
    present = numbers.dropna()
    if present.empty:
        return None
    low = float(present.min())
    if low >= 0 or not low.is_integer():
        return None
    is_low = present == low
    if is_low.mean() < 0.05 or (present[~is_low] < 0).any():
        return None
    return low


def _calendar_features(frame: pd.DataFrame, columns: list[dict[str, Any]]) -> list[dict]:
    """A month column (names or 1-12) beside a day-of-month column gives a day-of-year feature."""
    import pandas as pd

    used = {c["name"]: c for c in columns}
    month = next((n for n in used if n.lower() in ("month", "mon", "月", "月份")), None)
    day = next((n for n in used if n.lower() in ("day", "day_of_month", "日")), None)
    if not month or not day or used[day]["type"] != "numeric":
        return []
    if not _is_month_column(frame[month]):
        return []
    days = pd.to_numeric(frame[day], errors="coerce").dropna()
    if days.empty or not days.between(1, 31).all():
        return []
    return [{"name": "day_of_year", "type": "day_of_year", "from": [month, day]}]


def feature_names(schema: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for column in schema["columns"]:
        if column["type"] == "date":
            names += [f"{column['name']}__{part}" for part in column["parts"]]
        else:
            names.append(column["name"])
    names += [d["name"] for d in schema.get("derived", [])]
    return names


def categorical_names(schema: dict[str, Any]) -> list[str]:
    return [c["name"] for c in schema["columns"] if c["type"] == "categorical"]


def check_columns(frame: pd.DataFrame, schema: dict[str, Any], source: str) -> None:
    """Every column the model was trained with must be present (extra columns are fine)."""
    missing = [c["name"] for c in schema["columns"] if c["name"] not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(repr(m) for m in missing)} that the model "
            f"was trained with; add them (values may be empty) or retrain without them (--drop)"
        )


def prepare(frame: pd.DataFrame, schema: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Model input in the schema's column order, plus counts of missing and unseen values.

    Numeric columns stay float64 with NaN (imputed inside the model pipeline); categorical
    columns become pandas Categoricals over the training categories (unseen -> NaN, counted).
    Columns are handled as NumPy / Arrow arrays, not pandas Series: a one-row request to a
    server otherwise pays ~2 ms of pandas overhead per column, whatever the row count.
    """
    import pandas as pd

    out, stats = _prepared_columns(frame, schema)
    for column in schema["columns"]:
        if column["type"] == "categorical":
            dtype = _category_dtype(tuple(column["categories"]))[0]
            out[column["name"]] = pd.Categorical.from_codes(out[column["name"]], dtype=dtype)
    return pd.DataFrame(out, index=frame.index), stats


def prepare_codes(frame: pd.DataFrame, schema: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """as_codes(prepare(frame, schema)) without the frame and Categoricals in between: one
    float array, categoricals as their codes (NaN if none), and prepare's counts. What a
    server scoring a few rows feeds gbm (the two pandas constructions cost more than the
    model itself on one row)."""
    import numpy as np

    out, stats = _prepared_columns(frame, schema)
    categorical = set(categorical_names(schema))
    columns = []
    for name, values in out.items():
        if name in categorical:
            codes = values.astype("float64")
            codes[values < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(np.asarray(values, dtype="float64"))
    if not columns:
        return np.zeros((len(frame), 0)), stats
    return np.column_stack(columns), stats


def _prepared_columns(
    frame: pd.DataFrame, schema: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """prepare's columns as NumPy arrays (categoricals as int64 codes, -1 = missing) and its
    counts: the one definition behind prepare and prepare_codes."""
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {}
    missing: dict[str, int] = {}
    unseen: dict[str, int] = {}
    invalid: dict[str, int] = {}
    for column in schema["columns"]:
        name, kind = column["name"], column["type"]
        series = frame[name]  # a Series, or a cleaned NumPy / Arrow array (mktai.data.small)
        if kind == "numeric":
            numbers, bad = _numbers(series)
            if bad > 0:
                invalid[name] = bad
            n_missing = int(np.isnan(numbers).sum())
            if "sentinel" in column:
                numbers = np.where(numbers == column["sentinel"], np.nan, numbers)
            out[name] = numbers
        elif kind == "categorical":
            out[name], n_missing, n_new = _category_codes(series, column)
            if n_new:
                unseen[name] = n_new
        else:  # date
            dates = pd.to_datetime(_series(series), errors="coerce")
            n_missing = int(dates.isna().sum())
            for part in column["parts"]:
                out[f"{name}__{part}"] = getattr(dates.dt, part).astype("float64").to_numpy()
        if n_missing:
            missing[name] = n_missing
    for derived in schema.get("derived", []):
        month, day = derived["from"]
        months = _month_values(frame[month])
        days, _ = _numbers(frame[day])
        out[derived["name"]] = (months - 1) * 31 + days
    stats = {"missing": missing, "unseen": unseen, "invalid": invalid, "rows": len(frame)}
    return out, stats


def _numbers(series: pd.Series) -> tuple[Any, int]:
    """(float64 array with NaN, count of present values that are not numbers): a NumPy
    numeric column as it is, anything else through pd.to_numeric(errors='coerce')."""
    import numpy as np
    import pandas as pd

    dtype = getattr(series, "dtype", None)  # None: Arrow strings
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return np.asarray(series).astype("float64"), 0
    series = _series(series)
    numbers = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    return numbers, int(np.isnan(numbers).sum() - series.isna().sum())


def _category_codes(series: pd.Series, column: dict[str, Any]) -> tuple[Any, int, int]:
    """(codes over the training categories, -1 = missing; missing count; unseen count).

    A value's code is its position in the categories (Arrow's index_in); a value not among
    them is missing, or the rare bucket when the schema has one (rare training values and
    unseen ones share it); unseen = present, not a category and not a rare training value.
    """
    import pandas as pd
    import pyarrow as pa

    if isinstance(series, pa.Array) and pa.types.is_string(series.type):
        # a cleaned text column as it is (mktai.data.small): a few values are looked up
        if len(series) <= MEMO_ROWS:
            return _remembered_codes(series, column)
        return _arrow_codes(series, column)
    series = _series(series)
    text = series if isinstance(series.dtype, pd.StringDtype) else series.astype("string")
    return _arrow_codes(pa.array(text.array), column)


MEMO_ROWS = 32  # columns up to this length look their values up in _CODE_MEMO
MEMO_VALUES = 4096  # values remembered per categorical column
_CODE_MEMO: dict[int, tuple[dict[str, Any], dict[Any, tuple[int, bool, bool]]]] = {}


def _remembered_codes(array: Any, column: dict[str, Any]) -> tuple[Any, int, int]:
    """_arrow_codes of a short Arrow column from per-value results _arrow_codes gave before.

    _arrow_codes is element-wise (a value's code, missing and unseen flags depend on that value
    and the column's categories alone), so remembering it per value and column gives its own
    answer; values not seen yet are computed by it, in one call, and remembered (up to
    MEMO_VALUES per column)."""
    import numpy as np

    entry = _CODE_MEMO.get(id(column))
    if entry is None or entry[0] is not column:  # keyed by the schema's column dict itself
        if len(_CODE_MEMO) > 1024:
            _CODE_MEMO.clear()
        entry = _CODE_MEMO[id(column)] = (column, {})
    memo = entry[1]
    values = array.to_pylist()
    found = [memo.get(value) for value in values]
    if any(f is None for f in found):
        codes, absent, new = _arrow_codes(array, column, flags=True)
        found = list(zip(codes.tolist(), absent.tolist(), new.tolist(), strict=True))
        if len(memo) + len(values) <= MEMO_VALUES:
            memo.update(zip(values, found, strict=True))
    codes = np.array([f[0] for f in found], dtype=np.int64)
    return codes, sum(f[1] for f in found), sum(f[2] for f in found)


def _arrow_codes(
    array: Any, column: dict[str, Any], *, flags: bool = False
) -> tuple[Any, Any, Any]:
    """_category_codes of an Arrow string array; flags=True: the missing and unseen masks
    instead of their counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    _dtype, value_set, other = _category_dtype(tuple(column["categories"]))
    absent = np.asarray(array.is_null(), dtype=bool)
    codes = np.asarray(pc.fill_null(pc.index_in(array, value_set=value_set), -1), np.int64)
    stray = (codes < 0) & ~absent
    if other is not None:
        codes[stray] = other
    new = stray
    if stray.any() and column.get("rare"):
        rare = pa.array(column["rare"], pa.string())
        new = stray & ~np.asarray(pc.fill_null(pc.is_in(array, value_set=rare), False), bool)
    if flags:
        return codes, absent, new
    return codes, int(absent.sum()), int(new.sum())


def _series(values: Any) -> pd.Series:
    """A column as a pandas Series: a Series as it is; a cleaned NumPy or Arrow array as the
    Series load_table's frame would hold (text as the Arrow-backed 'string' dtype)."""
    import pandas as pd

    if isinstance(values, pd.Series):
        return values
    from mktai.data.small import column_series

    return column_series(values)


@functools.lru_cache(maxsize=512)
def _category_dtype(categories: tuple[str, ...]) -> tuple[Any, Any, int | None]:
    """(CategoricalDtype, Arrow value set, code of the rare bucket) of a categories list,
    built once per list (pandas validates categories on every construction)."""
    import pandas as pd
    import pyarrow as pa

    other = categories.index(OTHER) if OTHER in categories else None
    return pd.CategoricalDtype(list(categories)), pa.array(categories, pa.string()), other


def as_codes(prepared: pd.DataFrame, schema: dict[str, Any]):
    """The prepared frame as one float array, categoricals as their category codes (NaN if none).

    What gbm is fed: HistGradientBoosting given pandas categoricals runs an encoder on every
    predict call (~70 ms on 2,000 rows, 48 such calls in permutation importance); given codes of
    the schema's fixed categories it predicts at once.
    """
    import numpy as np
    import pandas as pd

    categories = {
        c["name"]: c["categories"] for c in schema["columns"] if c["type"] == "categorical"
    }
    columns = []
    for name in prepared.columns:
        column = prepared[name]
        if name in categories or isinstance(column.dtype, pd.CategoricalDtype):
            if not isinstance(column.dtype, pd.CategoricalDtype):  # e.g. a shuffled copy
                column = pd.Series(pd.Categorical(column, categories=categories[name]))
            codes = column.cat.codes.to_numpy().astype("float64")
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(column.to_numpy(dtype="float64", na_value=np.nan))
    if not columns:
        return np.zeros((len(prepared), 0))
    return np.column_stack(columns)


def for_encoders(prepared: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """Categoricals as plain strings with an explicit missing marker (for one-hot pipelines)."""
    frame = prepared.copy()
    for name in categorical_names(schema):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), MISSING).astype(str)
    return frame


def leak_scan(
    prepared: pd.DataFrame, y: Any, task: str, *, auc_limit: float = 0.8, seed: int = 0
) -> list[dict[str, Any]]:
    """Columns that alone predict the target suspiciously well (possible target leaks).

    Binary targets: single-column ROC AUC (categoricals via out-of-fold target encoding) at or
    above auc_limit. Regression: |Spearman correlation| >= 0.95. Such a column is often known
    only after the outcome (bank marketing's call `duration`), so the model looks better in
    training than it can be when scoring new leads.
    """
    import numpy as np
    import pandas as pd

    from mktai.evaluation.metrics import fast_roc_auc

    found = []
    y = np.asarray(y)
    if len(y) > LEAK_SCAN_ROWS:  # a single-column AUC of 0.8 is as clear on 20,000 rows
        pick = np.sort(np.random.default_rng(seed).choice(len(y), LEAK_SCAN_ROWS, replace=False))
        prepared, y = prepared.iloc[pick], y[pick]
    if task == "binary":
        rng = np.random.default_rng(seed)
        folds = rng.integers(0, 5, len(y))
        for name in prepared.columns:
            column = prepared[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes = column.cat.codes.to_numpy()
                score = np.full(len(y), y.mean(), dtype=float)
                for k in range(5):
                    train, test = folds != k, folds == k
                    rates = pd.Series(y[train]).groupby(codes[train]).mean()
                    score[test] = pd.Series(codes[test]).map(rates).fillna(y[train].mean())
            else:
                values = column.to_numpy(dtype=float)
                score = np.where(np.isnan(values), np.nanmedian(values), values)
            if np.unique(score).size < 2:
                continue
            auc = fast_roc_auc(y, score)
            if auc is None:
                continue
            auc = max(auc, 1 - auc)
            if auc >= auc_limit:
                found.append({"column": str(name), "auc": round(auc, 4)})
    elif task == "regression":
        target = pd.Series(y.astype(float))
        for name in prepared.columns:
            column = prepared[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                continue
            corr = pd.Series(column.to_numpy(dtype=float)).corr(target, method="spearman")
            if pd.notna(corr) and abs(corr) >= 0.95:
                found.append({"column": str(name), "spearman": round(float(corr), 4)})
    return found


BOOL_DTYPES = frozenset({"int64", "int32", "int8", "Int8", "Int64", "bool", "boolean"})
_DIGITS = None


def read_types(plan: Any, schema: dict[str, Any], *, keep_marks: bool) -> Any:
    """The cleaning plan of rows to score, its column types taken from the model's schema.

    How a column is read must not depend on the rows that happen to arrive first (a yes/no
    column whose first request says 1/0 would otherwise be read as numbers, and every later
    'yes' become missing). numeric -> bool when training read it as yes/no (the cleaner makes
    those integer 1/0; real numbers are float64), else number; categorical -> id when named
    like one or its training categories are digit codes (17850.0 is then 17850), else text;
    date -> date; columns the model does not use -> text (kept as written). keep_marks keeps
    the decimal mark and day order the plan decided from this input's sample (a file, as
    `mktai predict` reads it); without it (a server remembering the plan for later requests)
    every batch decides them from its own values, as the parsers do when they are not told.
    Where those values leave the day order of 'a/b/yyyy' dates undecided (every a and b at most
    12, as in most single rows), they are read in the order training read (the schema's
    day_first): 03/04/2024 is 3 April for a model trained on 13/04/2024; 04/13/2024 still
    decides for itself.
    """
    import re

    from mktai.data.schema import ID_ROLES

    global _DIGITS
    _DIGITS = _DIGITS or re.compile(r"^\d+$")
    by_name = {c["name"]: c for c in schema.get("columns") or []}
    role_of = {column: role for role, column in plan.roles.items()}
    types: dict[str, str] = {}
    for name in plan.names:
        column = by_name.get(name)
        if column is None:
            types[name] = "text"
        elif column["type"] == "numeric":
            yes_no = column.get("yes_no") or column.get("dtype") in BOOL_DTYPES
            types[name] = "bool" if yes_no else "number"
        elif column["type"] == "date":
            types[name] = "date"
        else:
            digits = any(_DIGITS.match(str(c)) for c in column.get("categories") or [])
            named = role_of.get(name) in ID_ROLES or plan.types.get(name) == "id" and keep_marks
            types[name] = "id" if named or digits else "text"
    plan.european = {n: e for n, e in plan.european.items()
                     if keep_marks and plan.types.get(n) == types[n] == "number"}  # fmt: skip
    plan.day_first = {n: d for n, d in plan.day_first.items()
                      if keep_marks and plan.types.get(n) == types[n] == "date"}  # fmt: skip
    plan.day_first_undecided = {
        name: bool(column["day_first"])
        for name, column in by_name.items()
        if types.get(name) == "date" and column.get("day_first") is not None
    }
    plan.types = types
    return plan
