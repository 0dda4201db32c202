"""Vectorised parsers for messy numbers, dates and yes/no values in exported CSVs.

Each parser takes a pandas Series of strings and returns (parsed values, mask of values that were
present but could not be parsed), so the caller decides whether a failure rejects the row.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

CURRENCY = "¥￥$€£₹₩元圆円"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_US_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")

TRUE_WORDS = frozenset(
    {"yes", "y", "true", "t", "是", "对", "pos", "positive", "正面", "好评", "1", "1.0"}
)
FALSE_WORDS = frozenset(
    {"no", "n", "false", "f", "否", "错", "neg", "negative", "负面", "差评", "0", "0.0"}
)
MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a", "无", "空"})


def _normalise(values: pd.Series) -> pd.Series:
    """NFKC (full-width digits and symbols to ASCII) and trimmed; missing words become NA.

    NFKC runs per value in Python, so only the non-ASCII values go through it.
    """
    import pandas as pd

    text = values.astype("string").str.strip()
    wide = ~text.str.isascii().fillna(True).astype(bool)
    if wide.any():
        text = text.mask(wide, text[wide].str.normalize("NFKC").str.strip())
    short = text.str.len() <= 4  # every missing word is short: lower-case only those
    missing = text.isna() | (text == "").fillna(False)
    if short.any():
        missing |= text.where(short).str.lower().isin(MISSING_WORDS).fillna(False)
    return text.mask(missing.astype(bool), pd.NA)


normalise_text = _normalise


def _arrow_strings(values: pd.Series) -> Any:
    """Trimmed pyarrow strings with empty values as null (input of the fast casts)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.astype("string"))
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def clean_text(values: pd.Series) -> pd.Series:
    """Trimmed text with empty cells missing, done in pyarrow (no pandas round trips)."""
    import pandas as pd

    if values.dtype.kind not in "OUSTn" and not isinstance(values.dtype, pd.StringDtype):
        text = values.astype("string").str.strip()  # numbers or dates from parquet
        return text.mask(text == "", pd.NA)
    array = pd.arrays.ArrowStringArray(_arrow_strings(values))
    return pd.Series(array, index=values.index, dtype="string")


def _fast_cast(values: pd.Series, target: Any) -> pd.Series | None:
    """The whole column cast by pyarrow (C++, no Python per value), or None if any value fails."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(_arrow_strings(values), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return None
    return pd.Series(cast.to_numpy(zero_copy_only=False), index=values.index)


# The decimal mark of a column is decided from its sample, on values stripped of currency signs,
# codes (EUR, RMB), spaces and apostrophes (thousands separators), signs and brackets.
# Evidence of a decimal comma: 10,50 | 10,5 | 0,1234 | 1.234,56 | 1.234.567. Of a decimal point:
# 10.50 | 10.5 | 0.1234 | 1,234.56 | 1,234,567. '1,234' and '1.234' (one group of three digits) are
# ambiguous: they only decide when the sample has no other evidence, and then the mark is read as a
# thousands separator (1,234 and 1.234 are both 1234), because three-decimal amounts are rare.
_COMMA_DECIMAL = re.compile(
    r"^\d+,\d{1,2}$|^\d+,\d{4,}$|^\d{1,3}(\.\d{3})+,\d+$|^\d{1,3}(\.\d{3}){2,}$"
)
_POINT_DECIMAL = re.compile(
    r"^\d+\.\d{1,2}$|^\d+\.\d{4,}$|^\d{1,3}(,\d{3})+\.\d+$|^\d{1,3}(,\d{3}){2,}$"
)
_POINT_GROUP = re.compile(r"^\d{1,3}\.\d{3}$")
_COMMA_GROUP = re.compile(r"^\d{1,3},\d{3}$")
# Python's \s on text (Unicode whitespace), spelled out for RE2 (pyarrow), whose \s is ASCII.
_SPACES = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
)
_SPACES += "\\x{202f}\\x{205f}\\x{3000}"
_DECORATION = f"[{_SPACES}{CURRENCY}%()']"
_CODE = r"^(?:[A-Za-z]{3}|RMB)|(?:[A-Za-z]{3}|RMB)$"


def _arrow_replace(text: pd.Series, pattern: str) -> pd.Series:
    """str.replace(pattern, '', regex=True) by pyarrow's RE2 (pandas runs Python's re per value
    for these patterns)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(text.astype("string"), type=pa.string())
    done = pc.replace_substring_regex(array, pattern, "")
    return pd.Series(pd.arrays.ArrowStringArray(done), index=text.index, dtype="string")


def strip_decorations(text: pd.Series) -> pd.Series:
    """'€ 1.234,56', 'EUR 10,50', '(12)', '15%', '1 234', "1'234" -> the bare digits and marks."""
    cleaned = _arrow_replace(_arrow_replace(text, _DECORATION), _CODE)
    return cleaned.str.strip("+-")


def _distinct(values: pd.Series) -> tuple[pd.Series, Any]:
    """The distinct strings of a sample and how often each occurs (NumPy counts).

    The type decisions count values that match a pattern; matching each distinct value once
    and adding up its count gives the same numbers for a fraction of the work (a 40,000-row
    sample of an export column repeats a few thousand values).
    """
    import pandas as pd

    counts = values.astype("string").value_counts(sort=False, dropna=True)
    return pd.Series(counts.index.array, dtype="string"), counts.to_numpy()


def _counted(matches: pd.Series, weight: Any) -> int:
    """How many sample values matched, from matches of the distinct values and their counts."""
    return int(weight[matches.to_numpy(dtype=bool, na_value=False)].sum())


def decimal_evidence(values: pd.Series, weight: Any = None) -> dict[str, int]:
    """How many sample values show each decimal mark (the counts looks_european decides on).

    weight: how often each of `values` occurs in the sample (values already distinct)."""
    if weight is None:
        distinct, weight = _distinct(values)
    else:
        distinct = values.astype("string").reset_index(drop=True)
    text = _normalise(distinct)
    present = text.notna().to_numpy(dtype=bool)
    text, weight = text[present], weight[present]
    if text.empty:
        return {"comma": 0, "point": 0, "point_group": 0, "comma_group": 0}
    bare = strip_decorations(text)
    return {
        "comma": _counted(bare.str.match(_COMMA_DECIMAL.pattern), weight),
        "point": _counted(bare.str.match(_POINT_DECIMAL.pattern), weight),
        "point_group": _counted(bare.str.match(_POINT_GROUP.pattern), weight),
        "comma_group": _counted(bare.str.match(_COMMA_GROUP.pattern), weight),
    }


def looks_european(values: pd.Series, found: dict[str, int] | None = None) -> bool:
    """True when the column writes decimals with a comma ('1.234,56', '€10,50', '12,5').

    Decided on the values given (the column's sample), see the rules above _COMMA_DECIMAL;
    `found` is their decimal_evidence when the caller has it already.
    """
    found = found or decimal_evidence(values)
    if found["comma"] or found["point"]:
        return found["comma"] > found["point"]
    return found["point_group"] > found["comma_group"]


def parse_numbers(values: pd.Series, european: bool | None = None) -> tuple[pd.Series, pd.Series]:
    """'¥1,234.50', '(12)', '15%', '１２３', '1.234,5' -> floats; returns (numbers, failed).

    'inf', '-Infinity' and '1e400' (beyond float64) are no amounts: they fail like 'abc' (NaN,
    counted unparseable), so no model is ever handed an infinity.
    """
    return finite_numbers(*_parse_numbers(values, european))


def finite_numbers(numbers: pd.Series, failed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers, failed) with every infinity made missing and counted as failed."""
    import numpy as np

    infinite = np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    if not infinite.any():
        return numbers, failed
    return numbers.mask(infinite), failed | infinite


def _parse_numbers(values: pd.Series, european: bool | None) -> tuple[pd.Series, pd.Series]:
    import numpy as np
    import pandas as pd

    if len(values) and values.dtype.kind not in "iufbM" and not european:
        import pyarrow as pa

        fast = _fast_cast(values, pa.float64())
        if fast is not None:
            return fast.astype("float64"), pd.Series(False, index=values.index)
    text = _normalise(values)
    present = text.notna()
    fast = pd.to_numeric(text, errors="coerce")
    if european:  # '1.234' is one thousand two hundred and thirty-four here
        fast = fast.mask(text.str.contains(".", regex=False).fillna(False).astype(bool))
    todo = present & fast.isna()
    if not todo.any():
        return fast.astype("float64"), pd.Series(False, index=values.index)
    if european is None:
        european = looks_european(text[todo])
    rest = text[todo]
    negative = rest.str.match(r"^\(.*\)$") | rest.str.endswith("-")
    percent = rest.str.contains("%", regex=False)
    cleaned = _arrow_replace(_arrow_replace(rest, _DECORATION), _CODE)
    cleaned = cleaned.str.rstrip("-")
    if european:
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        grouped = cleaned.str.match(_US_GROUPED.pattern)
        cleaned = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
    parsed = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    parsed = parsed.where(~negative, -parsed.abs())
    parsed = parsed.where(~percent, parsed / 100.0)
    result = fast.astype("float64").copy()
    result[todo] = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    failed = todo & result.isna()
    return result, failed


_CJK_DATE = re.compile(
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(?:\s*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?)?"
)
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})")


def decide_day_first(values: pd.Series) -> bool | None:
    """From 'a/b/yyyy' dates: True if a > 12 occurs, False if b > 12 occurs, None if undecided."""
    sample = values.dropna().astype(str).head(50000)
    distinct, weight = _distinct(sample)  # each distinct value parsed once
    parts = distinct.str.extract(_SLASHED.pattern)
    if parts.empty or parts[0].isna().all():
        return None
    first = parts[0].dropna().astype(int)
    second = parts[1].dropna().astype(int)
    if (first > 12).any():
        return True
    if (second > 12).any():
        return False
    dotted = _counted(distinct.str.match(r"^\d{1,2}\.\d{1,2}\.\d{2,4}"), weight)
    if dotted / len(sample) > 0.5:
        return True  # 05.01.2024 is written day first wherever dots are used
    return None


_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S",
    "%d %b %Y",
    "%b %d %Y",
    "%d-%b-%Y",
    "%B %d, %Y",
    "%d %B %Y",
)


def parse_dates(
    values: pd.Series, day_first: bool | None = None, *, undecided: bool | None = None
) -> tuple[pd.Series, pd.Series, dict[str, object]]:
    """Dates in common formats, 2024年1月5日 and Excel serials; returns (dates, failed, info).

    info['format'] names the format used and info['day_first'] states how 'a/b/yyyy' was read
    (None: the values did not decide it). `undecided`: the order to read them in then (a
    model's training order; info['undecided_as'] says so), else month first.
    """
    import pandas as pd

    info: dict[str, object] = {}
    if len(values):
        import pyarrow as pa

        fast = _fast_cast(values, pa.timestamp("ns"))
        if fast is not None:  # plain ISO dates (YYYY-MM-DD[ HH:MM:SS]) need no more work
            info["format"] = "ISO 8601"
            return fast.astype("datetime64[ns]"), pd.Series(False, index=values.index), info
    text = _normalise(values)
    present = text.notna()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    remaining = present.copy()
    if not remaining.any():
        return result, remaining, info

    # Chinese dates: rewrite to ISO first.
    cjk = text.str.contains("年", regex=False) & remaining
    if cjk.any():
        parts = text[cjk].str.extract(_CJK_DATE.pattern)
        iso = (
            parts[0]
            + "-"
            + parts[1].str.zfill(2)
            + "-"
            + parts[2].str.zfill(2)
            + " "
            + parts[3].fillna("0").str.zfill(2)
            + ":"
            + parts[4].fillna("0").str.zfill(2)
            + ":"
            + parts[5].fillna("0").str.zfill(2)
        )
        parsed = pd.to_datetime(iso, format="%Y-%m-%d %H:%M:%S", errors="coerce")
        result[cjk] = _ns(parsed)
        remaining &= result.isna()
        info["format"] = "YYYY年M月D日"

    # Slashed day/month dates: decide the order from the data.
    slashed = remaining & text.str.match(_SLASHED.pattern)
    if slashed.any():
        if day_first is None:
            day_first = decide_day_first(text[slashed])
        info["day_first"] = day_first
        if day_first is None and undecided is not None:
            day_first = info["undecided_as"] = bool(undecided)
        order = "%d/%m/%Y" if day_first else "%m/%d/%Y"
        normal = text[slashed].str.replace(r"[.\-]", "/", regex=True)
        year = normal.str.extract(r"^\d{1,2}/\d{1,2}/(\d{2,4})")[0]
        short_year = year.str.len() == 2
        fmt_base = order if not short_year.all() else order.replace("%Y", "%y")
        parsed = pd.Series(pd.NaT, index=normal.index, dtype="datetime64[ns]")
        for suffix in (" %H:%M:%S", " %H:%M", ""):
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = _ns(
                pd.to_datetime(normal[todo], format=fmt_base + suffix, errors="coerce")
            )
        result[slashed] = parsed
        remaining &= result.isna()
        info.setdefault("format", fmt_base)

    # Other explicit formats: try each on what is left, most successful first.
    for fmt in _FORMATS:
        if not remaining.any():
            break
        parsed = pd.to_datetime(text[remaining], format=fmt, errors="coerce")
        if parsed.notna().any():
            result[remaining] = _ns(parsed)
            info.setdefault("format", fmt)
            remaining &= result.isna()

    # Excel serial numbers (days since 1899-12-30) in a date column.
    if remaining.any():
        serial = pd.to_numeric(text[remaining], errors="coerce")
        ok = serial.between(1, 80000)
        if ok.any():
            days = serial[ok]
            result[days.index] = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
            info.setdefault("format", "excel-serial")
            remaining &= result.isna()

    # Last resort: pandas' mixed ISO8601 parser (timezones, fractions).
    if remaining.any():
        parsed = pd.to_datetime(text[remaining], format="ISO8601", errors="coerce", utc=True)
        parsed = parsed.dt.tz_convert(None)
        if parsed.notna().any():
            info.setdefault("format", "ISO 8601 with offsets, converted to UTC")
        result[remaining] = _ns(parsed)
        remaining &= result.isna()
    return result, remaining & present, info


_NS_MIN, _NS_MAX = "1677-09-22", "2262-04-11"


def _ns(parsed: pd.Series) -> pd.Series:  # also used by clean for typed (parquet) dates
    """Dates as datetime64[ns]; years outside what nanoseconds can hold (e.g. 0001) become NaT."""
    import pandas as pd

    inside = (parsed >= pd.Timestamp(_NS_MIN)) & (parsed <= pd.Timestamp(_NS_MAX))
    return parsed.where(inside).astype("datetime64[ns]")


def boolean_share(values: pd.Series, weight: Any = None) -> float:
    """Share of present values that are yes/no words (decides whether a column is boolean).

    weight: how often each of `values` occurs in the sample (values already distinct)."""
    import numpy as np

    text = _normalise(values).str.lower()
    if weight is None:
        weight = np.ones(len(text), dtype=np.int64)
    present = text.notna().to_numpy(dtype=bool)
    text, weight = text[present], np.asarray(weight)[present]
    if text.empty:
        return 0.0
    uniques = set(text.unique()[:10])  # more than 2 among the first 10: more than 2 at all
    if not uniques or len(uniques) > 2 or uniques <= {"1", "0", "1.0", "0.0"}:
        return 0.0
    return _counted(text.isin(TRUE_WORDS | FALSE_WORDS), weight) / float(weight.sum())


def parse_booleans(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """yes/no, true/false, 是/否, pos/neg, 1/0 -> Int8 1/0; returns (values, failed)."""
    import pandas as pd

    text = _normalise(values).str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="Int8")
    out[text.isin(TRUE_WORDS)] = 1
    out[text.isin(FALSE_WORDS)] = 0
    failed = text.notna() & out.isna()
    return out, failed
