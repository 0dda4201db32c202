"""Type coercion, role checks, de-duplication and rejects for one stream of string batches.

The plan (column names, roles, types, date order) is decided once on the first batch and then
applied to every batch, so a multi-GB file is cleaned chunk by chunk with consistent types.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mktai.data import parse
from mktai.data.read import plain_batch, plain_strings, row_indices
from mktai.data.schema import (
    ID_ROLES,
    TEXT_ROLES,
    detect_kind,
    detect_roles,
    normalise_names,
    roles_for_kind,
)
from mktai.errors import ColumnNotFound, InputError, RoleNotFound, UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

NUMBER_ROLES = frozenset({"quantity", "price", "amount", "rating"})
DATE_ROLES = frozenset({"date", "timestamp"})
TYPED = frozenset({"number", "date", "bool"})
# More than this share of a typed column's values unreadable is a parsing gap, not bad data.
GAP_SHARE = 0.5
DRIFT_MIN = 100  # unreadable values in one batch before its share counts as a change of format
INFER_SHARE = 0.95
SAMPLE_ROWS = 20_000
# Invoice numbers of cancellations: 'C' then a digit (C536379), as in most retail exports.
CANCELLED_ORDER = r"^[Cc]\d"
# Columns named like identifiers keep their text even when every value is digits.
_ID_NAME = re.compile(
    r"(^|_)(id|ids|code|key|uuid|sku|ean|upc|isbn|zip|zipcode|postcode|phone|tel|mobile)$"
    r"|编号$|号$|号码$|电话$|手机$"
)

# Roles every row of a kind needs; a row without them is rejected with the reason.
REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "transactions": ("date",),
    "reviews": ("text",),
    "ratings": ("user", "item", "rating"),
    "sales": ("date",),
    "labelled": ("target",),
    "customers": ("customer",),
    "table": (),
}


@dataclass
class Plan:
    """What the cleaner decided from the first batch; reported so users see why."""

    original: list[str]
    names: list[str]
    roles: dict[str, str]
    kind: str
    types: dict[str, str]  # column -> id | text | number | date | bool
    required: tuple[str, ...]
    day_first: dict[str, bool | None] = field(default_factory=dict)
    # the order of 'a/b/yyyy' dates a batch that does not decide it is read in (a model's
    # training order, tabular.read_types); absent: month first
    day_first_undecided: dict[str, bool] = field(default_factory=dict)
    european: dict[str, bool] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)  # columns the cleaner adds (amount …)
    notes: list[str] = field(default_factory=list)  # decisions the report should explain


def resolve_mapping(
    mapping: dict[str, str], original: list[str], names: list[str]
) -> dict[str, str]:
    """--map values may name the original header or the normalised one."""
    by_original = dict(zip(original, names, strict=True))
    by_lower = {o.strip().lower(): n for o, n in by_original.items()}
    resolved = {}
    for role, column in mapping.items():
        if column in names:
            resolved[role] = column
        elif column in by_original:
            resolved[role] = by_original[column]
        elif column.strip().lower() in by_lower:
            resolved[role] = by_lower[column.strip().lower()]
        else:
            raise ColumnNotFound(role, column, original)
    return resolved


def make_plan(
    frame: pd.DataFrame,
    kind: str | None,
    mapping: dict[str, str],
    required: tuple[str, ...],
) -> Plan:
    """Decide names, roles, kind and column types from a sample of the raw strings."""
    from mktai.data.schema import KINDS

    original = [str(c) for c in frame.columns]
    names = normalise_names(original)
    explicit = resolve_mapping(mapping, original, names)
    roles = detect_roles(names, explicit)
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind!r} is not one of: {', '.join(KINDS)}")
    kind = kind or detect_kind(roles)
    roles = roles_for_kind(kind, roles)
    roles.update(explicit)
    need = tuple(dict.fromkeys(REQUIRED_BY_KIND.get(kind, ()) + tuple(required)))
    if kind == "transactions" and "amount" not in roles:
        need = need + tuple(r for r in ("quantity", "price") if r not in need)
    elif kind == "transactions":
        need = need + ("amount",)
    missing = [r for r in need if r not in roles]
    if missing:
        raise RoleNotFound(missing, original, kind=kind)
    frame = frame.set_axis(names, axis=1)
    role_of = {column: role for role, column in roles.items()}
    plan = Plan(original, names, roles, kind, {}, need)
    sample = frame  # the caller's sample (load.py: first rows plus rows from across the file)
    for column in names:
        plan.types[column] = _infer_type(sample[column], role_of.get(column), plan, column)
    if kind == "transactions":
        if "amount" not in roles:
            roles["amount"] = free_name("amount", names)
            plan.derived.append(roles["amount"])
        roles["is_return"] = free_name("is_return", names)
        plan.derived.append(roles["is_return"])
    return plan


def free_name(name: str, taken: list[str]) -> str:
    while name in taken:
        name = f"{name}_"
    return name


def _infer_type(values: pd.Series, role: str | None, plan: Plan, column: str) -> str:
    if values.dtype.kind in "iufb":
        return "number"
    if values.dtype.kind == "M":
        return "date"
    if role in ID_ROLES:
        return "id"
    if role in TEXT_ROLES:
        return "text"
    if role in NUMBER_ROLES:
        plan.european[column] = _decimal_mark(values, plan, column)
        return "number"
    if role in DATE_ROLES:
        plan.day_first[column] = parse.decide_day_first(values)
        return "date"
    # Each distinct value of the sample is looked at once and counts as often as it occurs:
    # the same shares as value by value (a 40,000-row sample repeats a few thousand values).
    distinct, weight = parse._distinct(values)
    text = parse.normalise_text(distinct)  # 'N/A', 'null', '-' … do not count
    kept = text.notna().to_numpy(dtype=bool)
    present, weight = text[kept], weight[kept]
    if present.empty:
        return "text"
    if _ID_NAME.search(column) or present.str.match(r"^0\d+$").any():
        return "id"  # identifiers and digit codes with leading zeros are labels, not quantities
    if parse.boolean_share(present, weight) >= 0.99:
        return "bool"
    if _share(present.str.contains(r"\d", regex=True), weight) < INFER_SHARE:
        return "text"  # neither numbers nor dates without digits
    found = parse.decimal_evidence(present, weight)
    numbers, failed = parse.parse_numbers(present, parse.looks_european(present, found))
    if _share(numbers.notna(), weight) >= INFER_SHARE:
        plan.european[column] = _decimal_mark(present, plan, column, found)
        return "number"
    rows = parse.normalise_text(values).dropna()  # dates decide their order on every row
    dates, failed, _ = parse.parse_dates(rows)
    if dates.notna().mean() >= INFER_SHARE:
        plan.day_first[column] = parse.decide_day_first(rows)
        return "date"
    return "text"


def _share(matches: pd.Series, weight: np.ndarray) -> float:
    """The share of sample values matching, from matches of distinct values and their counts."""
    total = int(weight.sum())
    return parse._counted(matches, weight) / total if total else 0.0


def _decimal_mark(
    values: pd.Series, plan: Plan, column: str, found: dict[str, int] | None = None
) -> bool:
    """Decimal comma or point for the whole column, from its sample (see parse.looks_european);
    a decision made only on ambiguous values ('1,234') is noted in the report."""
    found = found or parse.decimal_evidence(values)
    european = parse.looks_european(values, found)
    if not (found["comma"] or found["point"]) and (found["comma_group"] or found["point_group"]):
        example = "1.234" if european else "1,234"
        plan.notes.append(
            f"column {column}: no value in the sample shows its decimal mark, so "
            f"'{example}' was read as a thousands separator (one thousand two hundred "
            "and thirty-four)"
        )
    return european


@dataclass
class CleanStats:
    """Counters accumulated over every batch, turned into the cleaning report."""

    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)
    missing: Counter = field(default_factory=Counter)
    unparseable: Counter = field(default_factory=Counter)
    unparseable_examples: dict[str, str] = field(default_factory=dict)
    date_info: dict[str, Any] = field(default_factory=dict)
    transactions: Counter = field(default_factory=Counter)
    # typed (number/date/bool) columns: values present, values that could not be read, examples
    present: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    failed_examples: dict[str, list[str]] = field(default_factory=dict)
    drift_row: dict[str, int] = field(default_factory=dict)  # where most values stopped parsing
    failing_since: dict[str, int] = field(default_factory=dict)


class Cleaner:
    """Applies a Plan batch by batch, remembering row hashes to drop duplicates across batches."""

    def __init__(
        self,
        plan: Plan,
        source_name: str,
        delimiter: str,
        dedupe: bool = True,
        *,
        deduper: Deduper | None = None,
        source_index: int | None = None,
        keep_raw: bool = False,
        coded: bool = False,
    ) -> None:
        self.plan = plan
        self.keep_raw = keep_raw
        # clean rows as data.coded.CodedChunk (text not decoded) for a parquet writer
        self.coded = coded
        self.raw_kept: list[pd.DataFrame] = []  # kept rows as read, when keep_raw
        self.source_name = source_name
        self.delimiter = delimiter
        self.dedupe = dedupe
        self.stats = CleanStats()
        # Shared between the sources of one run, so overlapping exports are de-duplicated too.
        self.deduper = deduper or Deduper()
        if source_index is None:
            source_index = self.deduper.add_source(source_name)
        self.source_index = source_index

    def clean(
        self,
        raw: pa.RecordBatch | pd.DataFrame,
        first_row: int,
        duplicates: np.ndarray | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Clean one batch of raw strings; returns (clean rows, rejects), the clean rows as a
        data.coded.CodedChunk when the cleaner was made with coded=True.

        The batch stays in Arrow: string columns are trimmed, cast and checked by
        pyarrow.compute (the pandas parsers only see columns the fast casts cannot read), and
        the raw lines are rebuilt only for rejected rows. The duplicate check may be done ahead
        (e.g. in a reader thread, in file order): pass its reasons as `duplicates`.
        """
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        plan = self.plan
        if isinstance(raw, pd.DataFrame):
            raw = pa.RecordBatch.from_pandas(raw, preserve_index=False)
        if raw.num_columns != len(plan.names):
            raise InputError(
                f"{self.source_name}: has {raw.num_columns} columns but the first file has "
                f"{len(plan.names)}; files read together must share one header"
            )
        raw = pa.RecordBatch.from_arrays(list(raw.columns), names=plan.names)
        n = raw.num_rows
        self.stats.rows_in += n
        if duplicates is not None:
            reasons = np.asarray(duplicates, dtype=object).copy()
        elif self.dedupe and n:
            reasons = self.deduper.check(raw, self.source_index, first_row)
        else:
            reasons = np.full(n, None, dtype=object)
        rejected = ~pd.isna(reasons)  # None or a reason (astype(bool) is 4x slower)
        self.stats.duplicates += int(rejected.sum())
        cells = _Cells(raw, first_row)

        out: dict[str, Any] = {}
        role_of = {column: role for role, column in plan.roles.items()}
        for column in plan.names:
            values, failed = self._convert_cells(cells, plan.types[column], column)
            out[column] = values
            role = role_of.get(column)
            if plan.types[column] in TYPED:
                self._count_typed(column, values, failed, cells)
            if failed.any():
                if role in plan.required:
                    bad = np.flatnonzero(failed & ~rejected)
                    prefix = f"unparseable {role} in column {column}: "
                    texts = cells.text(column, bad)
                    reasons[bad] = [(prefix + text)[:200] for text in texts]
                    rejected[bad] = True
                else:
                    self.stats.unparseable[column] += int(failed.sum())
                    first = np.flatnonzero(failed)[:1]
                    self.stats.unparseable_examples.setdefault(
                        column, cells.text(column, first)[0][:80]
                    )
            if role in plan.required:
                missing = _isna(values) & ~failed & ~rejected
                if missing.any():
                    reasons[missing] = f"missing {role} (column {column})"
                    rejected |= missing
        if plan.kind == "transactions":
            self._transactions(out, ~rejected)

        kept = ~rejected
        for column in plan.names:
            self.stats.missing[column] += int(_isna(out[column])[kept].sum())
        rows = np.flatnonzero(rejected)
        texts = [str(r) for r in reasons[rows].tolist()]
        rejects = self._rejects(cells, rows, texts)
        counts = self.stats.rejected
        for reason in texts:  # a plain list: iterating the frame's column costs 3 µs a row
            counts[_reason_key(reason)] += 1
        everything = bool(kept.all())
        columns = {
            name: values if everything else _take(values, kept) for name, values in out.items()
        }
        if self.coded:
            from mktai.data.coded import CodedChunk

            clean = CodedChunk(columns, _frame)
        else:
            clean = _frame(columns)
        if self.keep_raw:
            as_read = plain_batch(raw if everything else raw.filter(pa.array(kept))).to_pandas()
            self.raw_kept.append(as_read.set_axis(plan.original, axis=1))
        self.stats.rows_out += len(clean)
        return clean, rejects

    def _count_typed(self, column: str, values: Any, failed: np.ndarray, cells: _Cells) -> None:
        """Counts behind the parsing-gap warning (most of a typed column unreadable)."""
        import numpy as np

        stats = self.stats
        bad = int(failed.sum())
        present = int((~_isna(values)).sum()) + bad
        stats.present[column] += present
        if not bad:
            stats.failing_since.pop(column, None)
        if bad:
            stats.failed[column] += bad
            # the first failure of this run of batches with failures: where the format changed
            since = stats.failing_since.setdefault(
                column, cells.first_row + int(np.flatnonzero(failed)[0]) + 1
            )
            if bad >= DRIFT_MIN and bad > GAP_SHARE * present:
                stats.drift_row.setdefault(column, since)
            elif bad >= DRIFT_MIN:
                late = _late_turn(values, failed)
                if late is not None:
                    stats.drift_row.setdefault(column, cells.first_row + late + 1)
            examples = stats.failed_examples.setdefault(column, [])
            if len(examples) < 3:
                rows = np.flatnonzero(failed)[: 3 - len(examples)]
                examples.extend(text[:40] for text in cells.text(column, rows))

    def _convert_cells(self, cells: _Cells, kind: str, column: str) -> tuple[Any, np.ndarray]:
        """One column typed: Arrow casts when they read every value, else the pandas parsers."""
        import numpy as np

        array = cells.arrow(column)
        if array is not None and kind == "bool":
            booleans = _fast_booleans(array)
            if booleans is not None:
                return booleans
        if array is not None:
            fast = _fast_arrow(array, kind, self.plan.european.get(column))
            if fast is not None:
                if kind == "date" and column not in self.stats.date_info:
                    self.stats.date_info[column] = {"format": "ISO 8601"}
                return fast, np.zeros(len(array), dtype=bool)
        values, failed = self._convert(cells.series(column), kind, column)
        return _from_series(values), failed.to_numpy(dtype=bool, na_value=False)

    def _convert(self, values: pd.Series, kind: str, column: str) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        if values.dtype.kind in "iufb" and kind == "number":  # typed input (parquet)
            return parse.finite_numbers(
                values.astype("float64"), pd.Series(False, index=values.index)
            )
        if values.dtype.kind == "M" and kind == "date":
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert(None)  # like ISO offsets in CSV: UTC
            return parse._ns(values), pd.Series(False, index=values.index)
        if kind == "number":
            return parse.parse_numbers(values, self.plan.european.get(column))
        if kind == "date":
            dates, failed, info = parse.parse_dates(
                values,
                self.plan.day_first.get(column),
                undecided=self.plan.day_first_undecided.get(column),
            )
            if self.plan.day_first.get(column) is None and info.get("day_first") is not None:
                # decided by this batch: later batches read the same way, and the report says so
                self.plan.day_first[column] = bool(info["day_first"])
                info["decided_at_row"] = int(values.index[0]) + 1
                self.stats.date_info[column] = info
            if info and column not in self.stats.date_info:
                self.stats.date_info[column] = info
            return dates, failed
        if kind == "bool":
            return parse.parse_booleans(values)
        text = parse.clean_text(values)
        if kind == "id" and text.str.endswith(".0").any():  # 17850.0 (a spreadsheet's float)
            text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        return text, pd.Series(False, index=values.index)

    def _transactions(self, out: dict[str, Any], keep: np.ndarray) -> None:
        """Cancellations and returns flagged (not mixed into revenue); amount derived if absent."""
        import numpy as np

        roles = self.plan.roles
        counts = self.stats.transactions

        def numbers(role: str) -> np.ndarray | None:
            if role not in roles:
                return None
            return _floats(out[roles[role]])

        quantity, price = numbers("quantity"), numbers("price")
        if roles["amount"] in self.plan.derived:
            out[roles["amount"]] = quantity * price
        amount = numbers("amount")
        cancelled = np.zeros(len(keep), dtype=bool)
        if "order" in roles:
            orders = out[roles["order"]]
            if _is_arrow(orders):
                cancelled = _cancelled(orders)
            else:
                matched = orders.str.match(CANCELLED_ORDER)
                cancelled = matched.to_numpy(dtype=bool, na_value=False)
        with np.errstate(invalid="ignore"):
            is_return = cancelled | ((quantity if quantity is not None else amount) < 0)
        out[roles["is_return"]] = is_return
        counts["cancellation_lines"] += int((cancelled & keep).sum())
        counts["return_lines"] += int((is_return & keep).sum())
        counts["returns_value"] += float(np.nansum(amount[is_return & keep]))
        counts["sales_value"] += float(np.nansum(amount[~is_return & keep]))
        if price is not None:
            counts["zero_price_lines"] += int(((price == 0) & keep).sum())
            counts["negative_price_lines"] += int(((price < 0) & keep).sum())
        if "customer" in roles:
            missing = _isna(out[roles["customer"]])
            counts["lines_without_customer"] += int((missing & keep).sum())

    def _rejects(self, cells: _Cells, rows: np.ndarray, reasons: list[str]) -> pd.DataFrame:
        """The rejects frame of the rejected `rows` (reasons: their reason texts, in order)."""
        import pandas as pd

        if not len(rows):
            return empty_rejects()
        return pd.DataFrame(
            {
                "source": self.source_name,
                "row": rows + cells.first_row + 1,
                "reason": reasons,
                "raw": cells.lines(rows, self.delimiter),
            }
        )


def _late_turn(values: Any, failed: np.ndarray) -> int | None:
    """The first row of the batch from which most present values fail (at least DRIFT_MIN of
    them), or None: a format that changes late in a batch (near the end of a file, after the
    last rows the type sample read) is a parsing gap from there, even when most of the batch
    reads well. Scattered bad values never make such a run."""
    import numpy as np

    rows = np.flatnonzero(failed)
    present = np.cumsum(~_isna(values) | failed)
    after = present[-1] - present[rows] + 1  # present values from each failure on
    bad_after = len(rows) - np.arange(len(rows))
    turned = np.flatnonzero((bad_after >= DRIFT_MIN) & (bad_after > GAP_SHARE * after))
    return int(rows[turned[0]]) if len(turned) else None


class _Cells:
    """The raw batch, column by column as Arrow strings, or as the pandas Series the slow
    parsers and the typed (parquet) path take; converted to pandas only when asked."""

    def __init__(self, raw: pa.RecordBatch, first_row: int) -> None:
        self.raw = raw  # CSV columns may be dictionary-encoded strings (iter_batches)
        self.first_row = first_row
        self.strings = all(_is_text(t) for t in raw.schema.types)
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        """The whole batch as pandas, as the cleaner had it before (typed input keeps its
        pandas metadata, e.g. nullable integers)."""
        import pandas as pd

        if self._frame is None:
            frame = plain_batch(self.raw).to_pandas()
            frame.index = pd.RangeIndex(self.first_row, self.first_row + len(frame))
            self._frame = frame
        return self._frame

    def arrow(self, column: str) -> pa.Array | None:
        """The column as Arrow strings, plain or dictionary-encoded (CSV input; parquet's text
        columns), else None."""
        import pyarrow as pa

        array = self.raw.column(column)
        if pa.types.is_large_string(array.type):  # parquet written by pandas
            array = array.cast(pa.string())
        return array if _is_text(array.type) else None

    def series(self, column: str) -> pd.Series:
        import pandas as pd

        if self._frame is None and self.strings:
            values = plain_strings(self.raw.column(column)).to_pandas()
            values.index = pd.RangeIndex(self.first_row, self.first_row + len(values))
            return values
        return self.frame()[column]

    def text(self, column: str, rows: np.ndarray) -> list[str]:
        """The raw cell text of some rows (what reasons and examples quote)."""
        import pyarrow as pa

        if self.strings:
            picked = plain_strings(self.raw.column(column).take(pa.array(rows)))
            return [str(v) for v in picked.to_pylist()]
        return self.frame()[column].iloc[rows].astype(str).tolist()

    def lines(self, rows: np.ndarray, delimiter: str) -> list[str]:
        """The rows rebuilt as CSV lines (only the rejected ones are ever rebuilt)."""
        import pyarrow as pa

        if self.strings:
            return _join_arrow(plain_batch(self.raw.take(pa.array(rows))), delimiter)
        return join_raw(self.frame().iloc[rows], delimiter).tolist()


def _is_text(kind: pa.DataType) -> bool:
    """Arrow strings, plain or dictionary-encoded (how the CSV reader hands them over)."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind))


def _join_arrow(raw: pa.RecordBatch, delimiter: str) -> list[str]:
    """join_raw on Arrow strings: quote a field holding the delimiter, a quote or a newline."""
    import pyarrow.compute as pc

    if raw.num_columns == 0:
        return [""] * raw.num_rows
    special = f'[{re.escape(delimiter)}"\\r\\n]'
    parts = []
    for array in raw.columns:
        text = pc.fill_null(array, "")
        quote = pc.match_substring_regex(text, special)
        if pc.any(quote).as_py():
            quoted = pc.binary_join_element_wise(
                '"', pc.replace_substring(text, '"', '""'), '"', ""
            )
            text = pc.if_else(quote, quoted, text)
        parts.append(text)
    return pc.binary_join_element_wise(*parts, delimiter).to_pylist()


def _fast_arrow(array: pa.Array, kind: str, european: bool | None) -> Any:
    """The column read by Arrow alone, or None when some value needs the pandas parsers.

    text/id: trimmed, empty cells missing (ASCII data takes the cheaper ASCII trim); number:
    a plain float cast (not for decimal-comma columns, where '1.234' means 1234); date: ISO
    8601 by Arrow's timestamp cast. These are the fast paths the pandas parsers take first, so
    the results are the same.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "bool" or (kind == "number" and european):
        return None
    if pa.types.is_dictionary(array.type):
        return _fast_dictionary(array, kind, european)
    text = _trimmed(array)
    if kind in ("text", "id"):
        if kind == "id" and pc.any(pc.ends_with(text, ".0")).as_py():
            text = pc.replace_substring_regex(text, r"^(\d+)\.0+$", r"\1")
        return text
    target = pa.float64() if kind == "number" else pa.timestamp("ns")
    try:
        cast = pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return None
    if kind == "number":
        numbers = cast.to_numpy(zero_copy_only=False)
        # 'inf' / '1e400' cast to infinity: parse.parse_numbers counts them unparseable
        return None if np.isinf(numbers).any() else numbers
    return np.asarray(cast.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")


def _fast_dictionary(array: pa.DictionaryArray, kind: str, european: bool | None) -> Any:
    """_fast_arrow on a dictionary-encoded column: each distinct value is trimmed and cast
    once, then spread to the rows (the same values as on the plain strings)."""
    import numpy as np
    import pyarrow as pa

    if array.null_count:  # not from the CSV reader: read the plain strings
        return _fast_arrow(plain_strings(array), kind, european)
    distinct = _fast_arrow(array.dictionary, kind, european)
    if distinct is None:
        return None
    if isinstance(distinct, np.ndarray):
        return distinct[row_indices(array.indices)]
    # text stays coded: rows are filtered on the indices and decoded once, at the end (a
    # decode then a filter copied every string twice); _isna reads the dictionary's nulls
    return pa.DictionaryArray.from_arrays(array.indices, distinct, safe=False)


def _fast_booleans(array: pa.Array) -> tuple[pd.Series, np.ndarray] | None:
    """parse.parse_booleans in Arrow for ASCII columns: (Int8 1/0/NA, failed), or None.

    The pandas parser costs ~30 pandas operations whatever the length (a one-row request paid
    ~10 ms per yes/no column); this is a handful of Arrow kernels. Non-ASCII values (是/否,
    full-width letters) need NFKC, so they keep the pandas path.
    """
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_dictionary(array.type):  # each distinct word read once, spread to the rows
        if array.null_count:
            return _fast_booleans(plain_strings(array))
        distinct = _fast_booleans(array.dictionary)
        if distinct is None:
            return None
        rows = row_indices(array.indices)
        return pd.Series(distinct[0].array[rows], dtype="Int8"), distinct[1][rows]
    found = fast_yes_no(array)
    return None if found is None else (pd.Series(found[0], dtype="Int8"), found[1])


def fast_yes_no(array: pa.Array) -> tuple[Any, np.ndarray] | None:
    """_fast_booleans of a plain (not dictionary-encoded) string array, as (Int8 IntegerArray,
    failed) without the Series around it, or None when a value is not plain ASCII."""
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    if not plain_ascii(array):
        return None
    text = pc.ascii_lower(pc.ascii_trim_whitespace(array))
    missing = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=_word_set("missing")))
    true = pc.fill_null(pc.is_in(text, value_set=_word_set("true")), False)
    false = pc.fill_null(pc.is_in(text, value_set=_word_set("false")), False)
    missing, true, false = (np.asarray(m, dtype=bool) for m in (missing, true, false))
    known = true | false
    return pd.arrays.IntegerArray(true.astype(np.int8), ~known), ~known & ~missing


def _word_set(which: str) -> pa.Array:
    """parse's TRUE / FALSE / MISSING words as an Arrow value set (built once)."""
    import pyarrow as pa

    cached = _WORD_SETS.get(which)
    if cached is None:
        words = {"true": parse.TRUE_WORDS, "false": parse.FALSE_WORDS}
        cached = pa.array(sorted(words.get(which, parse.MISSING_WORDS)), pa.string())
        _WORD_SETS[which] = cached
    return cached


_WORD_SETS: dict[str, Any] = {}


def plain_ascii(array: pa.Array) -> bool:
    """True when a string array is ASCII without 0x1c-0x1f: there Arrow's cheaper ASCII trim
    strips what str.strip and utf8_trim_whitespace strip (they also strip 0x1c-0x1f, the
    ASCII trim does not)."""
    import numpy as np

    data = array.buffers()[2]
    if data is None or data.size == 0:
        return True
    raw = np.frombuffer(data, np.uint8)
    if raw.max() >= 128:
        return False
    return not bool(((raw - np.uint8(0x1C)) < 4).any())  # 0x1c-0x1f become 0-3


def _trimmed(array: pa.Array) -> pa.Array:
    """parse._arrow_strings on an Arrow array: whitespace trimmed (as str.strip trims), empty
    cells null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fast = plain_ascii(array)
    text = pc.ascii_trim_whitespace(array) if fast else pc.utf8_trim_whitespace(array)
    empty = pc.equal(pc.binary_length(text), 0)
    if pc.any(empty).as_py():
        text = pc.if_else(empty, pa.scalar(None, pa.string()), text)
    return text


def _cancelled(orders: pa.Array) -> np.ndarray:
    """CANCELLED_ORDER matched on Arrow strings; the regex only runs on ids starting with C."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if _is_coded(orders):  # each distinct id matched once, spread to the rows
        distinct = _cancelled(orders.dictionary)
        return distinct[row_indices(orders.indices.fill_null(0))] & ~_isna(orders)
    starts = pc.fill_null(pc.or_(pc.starts_with(orders, "C"), pc.starts_with(orders, "c")), False)
    cancelled = np.asarray(starts, dtype=bool).copy()
    rows = np.flatnonzero(cancelled)
    if len(rows):
        matched = pc.match_substring_regex(orders.take(pa.array(rows)), CANCELLED_ORDER)
        cancelled[rows] = np.asarray(pc.fill_null(matched, False), dtype=bool)
    return cancelled


def _is_arrow(values: Any) -> bool:
    import pyarrow as pa

    return isinstance(values, (pa.Array, pa.ChunkedArray))


def _isna(values: Any) -> np.ndarray:
    import numpy as np

    if isinstance(values, np.ndarray):
        if values.dtype.kind == "f":
            return np.isnan(values)
        if values.dtype.kind == "M":
            return np.isnat(values)
        return np.zeros(len(values), dtype=bool)
    if _is_coded(values):  # an entry of the dictionary may be null (an empty cell)
        missing = np.asarray(values.dictionary.is_null(), dtype=bool)
        found = missing[row_indices(values.indices.fill_null(0))]
        return found | np.asarray(values.is_null(), dtype=bool) if values.null_count else found
    if _is_arrow(values):
        return np.asarray(values.is_null(), dtype=bool)
    return values.isna().to_numpy(dtype=bool)


def _is_coded(values: Any) -> bool:
    """A dictionary-encoded Arrow column (text as _fast_dictionary leaves it)."""
    import pyarrow as pa

    return isinstance(values, pa.DictionaryArray)


def _decoded(values: Any) -> Any:
    """The plain Arrow strings a coded column stands for; anything else unchanged."""
    return values.dictionary_decode() if _is_coded(values) else values


def _floats(values: Any) -> np.ndarray:
    import numpy as np

    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _take(values: Any, keep: np.ndarray) -> Any:
    import numpy as np
    import pyarrow as pa

    if isinstance(values, np.ndarray):
        return values[keep]
    if _is_arrow(values):
        return values.filter(pa.array(keep))
    return values[keep]


def _to_series(values: Any) -> pd.Series:
    """A clean column as the pandas Series the frame holds (text as Arrow-backed 'string')."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray):
        return pd.Series(values)
    if _is_arrow(values):
        return pd.Series(pd.arrays.ArrowStringArray(_decoded(values)), dtype="string")
    return values.reset_index(drop=True)


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """The clean frame of a batch from its columns (what Cleaner.clean returns)."""
    import pandas as pd

    return pd.DataFrame({name: _to_column(values) for name, values in columns.items()})


def _to_column(values: Any) -> Any:
    """_to_series as an array (NumPy or pandas extension array): the same frame, without a
    Series and an index per column to build and align (~0.3 ms a column, whatever the rows)."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray):
        return values
    if _is_arrow(values):
        return pd.arrays.ArrowStringArray(_decoded(values))
    return values.array


def _from_series(values: pd.Series) -> Any:
    """A parser's result in the cleaner's column form: float64 / datetime64[ns] as NumPy (NaN
    and NaT for missing), anything else kept as the pandas Series."""
    if values.dtype == "float64" or str(values.dtype) == "datetime64[ns]":
        return values.to_numpy()
    return values


class Deduper:
    """Remembers two 64-bit hashes of every distinct row kept so far (24 bytes a row with its
    first-row tag) and finds repeats.

    Hashes are of the raw strings, so '1.0' and '1' differ: only exact repeats are dropped. A
    hash match is verified (mktai.data.rowhash): value by value inside a batch, by the second,
    independent hash against earlier batches. Memory is kept as a few sorted runs (merged four
    at a time, _remember), so each batch costs a sort of the batch plus binary searches, never
    a re-sort of everything seen. One filter of every hash remembered (16-32 bits a hash, 2-4
    bytes a row, _run_filter) rules out ~98% of a batch's new rows before any binary search.
    It is one for all runs: a bitmap per run was checked once per run for every batch and
    rebuilt at every merge, so 8M rows cost ~6x the CPU of 2M in the duplicate check.
    """

    SOURCE_SHIFT = 40  # row numbers below 2**40; the source index sits above them
    RUN_CAP = 1 << 21  # entries in one sorted run (48 MB): bounds the memory a merge needs
    MERGE_FANOUT = 4  # sorted runs merged at once (2: twice the merges, 8: more runs to search)
    BITS_PER_HASH = 16  # the filter has 16-32 bits per remembered hash: ~0.5-1.5% of others pass

    def __init__(self) -> None:
        import numpy as np

        self.sources: list[str] = []
        self._runs: list[list[np.ndarray]] = []  # [h1 sorted, h2, tag]: lists, see _merge
        self._count = 0  # hashes in the runs
        self._bits, self._shift = _run_filter(np.empty(0, dtype=np.uint64))  # see _add_bits

    def add_source(self, name: str) -> int:
        self.sources.append(name)
        return len(self.sources) - 1

    def _lookup(self, unique: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Tag of the earlier row with each (sorted, distinct) hash pair, or -1."""
        import numpy as np

        found = np.full(len(unique), -1, dtype=np.int64)
        if not self._runs:
            return found
        rows = np.flatnonzero(_maybe_in(self._bits, self._shift, unique))  # the rest: in no run
        wanted = unique[rows]
        for hashes, seconds, tags in self._runs:
            if not len(rows):
                break
            pos = np.searchsorted(hashes, wanted)
            np.minimum(pos, len(hashes) - 1, out=pos)
            # the second hash and the tag are read for the few rows whose h1 is there only
            equal = np.flatnonzero(hashes[pos] == wanted)
            equal = equal[found[rows[equal]] < 0]
            at = pos[equal]
            hit = seconds[at] == second[rows[equal]]
            found[rows[equal[hit]]] = tags[at[hit]]
            # an h1 shared by distinct rows (a collision): check every entry with that h1
            for i in equal[~hit].tolist():
                start = int(pos[i])
                stop = int(np.searchsorted(hashes, wanted[i], side="right"))
                match = np.flatnonzero(seconds[start:stop] == second[rows[i]])
                if len(match):
                    found[rows[i]] = tags[start + match[0]]
            if len(equal):  # rows found here are searched no further
                left = found[rows] < 0
                rows, wanted = rows[left], wanted[left]
        return found

    def _remember(self, hashes: np.ndarray, seconds: np.ndarray, tags: np.ndarray) -> None:
        """Add a sorted run; merge the MERGE_FANOUT newest when they are of similar size (at most
        RUN_CAP entries together), so there are few runs to search, each entry is moved about
        log4(batches) times (a 4-way merge costs little more than a 2-way one of the same
        entries) and a merge never needs memory beyond ~2 x RUN_CAP."""
        runs = self._runs
        if len(hashes):
            runs.append([hashes, seconds, tags])
            self._count += len(hashes)
            if self._count * self.BITS_PER_HASH <= 8 * self._bits.nbytes:
                _add_bits(self._bits, self._shift, hashes)
            else:  # outgrown: a filter twice the size (or more), from every run
                self._bits, self._shift = _run_filter(runs[0][0], self._count, self.BITS_PER_HASH)
                for run in runs[1:]:
                    _add_bits(self._bits, self._shift, run[0])
        fanout = self.MERGE_FANOUT
        while len(runs) >= fanout and len(runs[-fanout][0]) <= 2 * len(runs[-1][0]):
            ways = fanout  # the newest runs are of similar size: merge as many as the cap allows
            while ways >= 2 and sum(len(run[0]) for run in runs[-ways:]) > self.RUN_CAP:
                ways -= 1
            if ways < 2:
                break
            group = runs[-ways:]
            del runs[-ways:]  # handed over: _merge lets each array go once it is read
            runs.append(list(_merge(*group)))  # the same hashes: the filter stays

    def check(self, raw: pa.RecordBatch, source_index: int, first_row: int) -> np.ndarray:
        """Reason text for rows repeating an earlier row (this batch or before), else None."""
        import numpy as np

        from mktai.data.rowhash import row_hashes, same_values

        n = raw.num_rows
        reasons = np.full(n, None, dtype=object)
        if not n:
            return reasons
        h1, h2 = row_hashes(raw)
        while True:
            order, ordered = _sorted_order(h1)  # groups of equal hashes, each in file order
            second = h2[order]
            tie = np.flatnonzero(ordered[1:] == ordered[:-1])  # sorted position p: p + 1 repeats
            if len(tie) and (second[tie] != second[tie + 1]).any():
                order = np.lexsort((h2, h1))  # h1 shared by distinct rows: sort by both
                ordered, second = h1[order], h2[order]
                tie = np.flatnonzero((ordered[1:] == ordered[:-1]) & (second[1:] == second[:-1]))
            # repeats within the batch are few: everything about them is sparse
            later = tie + 1  # sorted positions of rows whose hashes repeat the group's first
            if not len(later):
                lead = later
                break
            head = np.ones(len(tie), dtype=bool)
            head[1:] = tie[1:] != tie[:-1] + 1
            lead = tie[np.maximum.accumulate(np.where(head, np.arange(len(tie)), 0))]
            # candidates: verify each against its group's first row, value by value
            same = same_values(raw, order[later], order[lead])
            if same.all():
                break
            starts = np.ones(n, dtype=bool)
            starts[later] = False
            group = np.cumsum(starts) - 1  # group number of each sorted position
            h2 = _separate(raw, h1, h2, group, order, later[~same])
        if len(later):
            keep = np.ones(n, dtype=bool)
            keep[later] = False
            unique, second, rows = ordered[keep], second[keep], order[keep]
        else:
            unique, rows = ordered, order
        earlier = self._lookup(unique, second)  # the earlier batches' row of each group, or -1
        found = np.flatnonzero(earlier >= 0)
        base = first_row | (source_index << self.SOURCE_SHIFT)  # row r's tag: base + r
        new = earlier < 0 if len(found) else slice(None)
        self._remember(unique[new], second[new], rows[new] + base)
        # the original of each repeat: an earlier batch's row, else its group's first row here
        at = lead - np.searchsorted(later, lead)  # each later row's group among the unique
        refs = np.where(earlier[at] >= 0, earlier[at], order[lead] + base)
        first = np.concatenate((earlier[found], refs))
        duplicate = np.concatenate((rows[found], order[later]))
        if len(duplicate):
            mask = (1 << self.SOURCE_SHIFT) - 1
            numbers = ((first & mask) + 1).tolist()
            srcs = (first >> self.SOURCE_SHIFT).tolist()
            reasons[duplicate] = [
                f"exact duplicate of row {row}"
                + ("" if src == source_index else f" of {self.sources[src]}")
                for row, src in zip(numbers, srcs, strict=True)
            ]
        return reasons


def _run_filter(
    hashes: np.ndarray, count: int | None = None, bits_per_hash: int = 8
) -> tuple[np.ndarray, Any]:
    """A filter of a sorted run's hashes (2^k bits, between bits_per_hash and twice that for
    `count` hashes, by default the run's) and the shift that gives a hash's word. It is a
    Bloom filter blocked in 64-bit words: the top bits of a hash pick its word (so sorted
    hashes touch the words in order), two 6-bit fields of its low bits the two bits it sets
    there. With 16 bits a hash ~1.5% of other hashes pass, against ~6% for one bit a hash."""
    import numpy as np

    count = len(hashes) if count is None else count
    k = max(int(bits_per_hash * count - 1).bit_length(), 7)
    shift = np.uint64(64 - (k - 6))
    bits = np.zeros(1 << (k - 6), dtype=np.uint64)
    _add_bits(bits, shift, hashes)
    return bits, shift


def _filter_words(shift: Any, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The word of each hash in the filter and the mask of its two bits there."""
    import numpy as np

    word = (hashes >> shift).view(np.intp)  # below 2^63: the same bits
    low = hashes & np.uint64(63)
    mask = np.left_shift(np.uint64(1), low)
    np.right_shift(hashes, np.uint64(6), out=low)
    low &= np.uint64(63)
    np.left_shift(np.uint64(1), low, out=low)
    mask |= low
    return word, mask


def _add_bits(bits: np.ndarray, shift: Any, hashes: np.ndarray) -> None:
    """Set the bits of sorted `hashes` with no scattered read-modify-write: the masks of each
    word are OR-ed together by reduceat, then each word written once, in order."""
    import numpy as np

    if not len(hashes):
        return
    word, mask = _filter_words(shift, hashes)
    starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
    bits[word[starts]] |= np.bitwise_or.reduceat(mask, starts)


def _maybe_in(bits: np.ndarray, shift: Any, hashes: np.ndarray) -> np.ndarray:
    """False where a hash is certainly not in the run of _run_filter (bits, shift)."""
    word, mask = _filter_words(shift, hashes)
    have = bits[word]
    have &= mask
    return have == mask


def _hash_order(hashes: np.ndarray) -> np.ndarray:
    """np.argsort(hashes, kind="stable"), by a plain sort (_sorted_order)."""
    return _sorted_order(hashes)[0]


def _sorted_order(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.argsort(hashes, kind="stable") and hashes in that order, by a plain sort, ~3x cheaper
    than an argsort: each hash with its low bits replaced by its row number is sorted, and the
    row numbers read back. Rows whose hashes share all the other bits (a few in 10^5 batches)
    come out in row order rather than hash order; that is seen and the argsort done instead."""
    import numpy as np

    n = len(hashes)
    bits = max(n - 1, 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    keys = hashes & ~low
    keys |= np.arange(n, dtype=np.uint64)
    keys.sort()
    keys &= low
    order = keys.view(np.intp)  # row numbers, below 2^63: the same bits as intp
    ordered = hashes[order]
    if n > 1 and (ordered[1:] < ordered[:-1]).any():
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
    return order, ordered


def _separate(
    raw: pa.RecordBatch,
    h1: np.ndarray,
    h2: np.ndarray,
    group: np.ndarray,
    order: np.ndarray,
    collided: np.ndarray,
) -> np.ndarray:
    """A hash collision (never expected): distinct rows sharing both hashes get distinct second
    hashes (exact values decide), so they are kept apart; a later repeat of such a row may then
    be kept rather than dropped, never the reverse."""
    import numpy as np

    from mktai.data.rowhash import _mix

    groups = np.unique(group[collided])
    rows = np.sort(order[np.isin(group, groups)])
    h2 = h2.copy()
    subs: dict[tuple[int, int], dict[tuple, int]] = {}
    for row, values in zip(rows.tolist(), raw.take(rows).to_pylist(), strict=True):
        known = subs.setdefault((int(h1[row]), int(h2[row])), {})
        sub = known.setdefault(tuple(map(repr, values.values())), len(known))
        if sub:
            h2[row] = _mix(np.asarray([h2[row] + np.uint64(sub)], dtype=np.uint64))[0]
    return h2


def _merge(
    *runs: list[np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge sorted (h1, h2, tags) runs, given oldest first, into one; equal hashes keep the
    older runs' (earlier) rows first. A stable argsort of the runs joined is timsort finding the
    runs and merging them, 2-3x faster than placing them by binary search. Runs given as lists
    are emptied column by column as they are read, so the merge needs ~1.7x the memory of its
    entries at its peak rather than ~2.7x (the caller hands over its only references)."""
    import numpy as np

    order = None
    merged = []
    for column in range(3):
        joined = np.concatenate([run[column] for run in runs])
        for run in runs:
            if isinstance(run, list):
                run[column] = None
        if order is None:
            order = np.argsort(joined, kind="stable")
        merged.append(joined[order])
        del joined
    return merged[0], merged[1], merged[2]


def join_raw(raw: pd.DataFrame, delimiter: str) -> pd.Series:
    """Rebuild each row as a CSV line (quoted where needed) so the rejects file shows the input."""
    import pandas as pd

    if raw.shape[1] == 0:
        return pd.Series("", index=raw.index, dtype="string")
    special = f'[{re.escape(delimiter)}"\r\n]'
    parts = []
    for column in raw.columns:
        text = raw[column].astype("string").fillna("")
        quote = text.str.contains(special, regex=True).fillna(False).astype(bool)
        if quote.any():
            text = text.mask(quote, '"' + text.str.replace('"', '""', regex=False) + '"')
        parts.append(text)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + delimiter + part
    return joined


def empty_rejects() -> pd.DataFrame:
    """The rejects frame with no rows (a copy: built once, every batch without rejects asks)."""
    import pandas as pd

    if not _EMPTY_REJECTS:
        _EMPTY_REJECTS.append(
            pd.DataFrame(
                {
                    "source": pd.Series(dtype="string"),
                    "row": pd.Series(dtype="int64"),
                    "reason": pd.Series(dtype="string"),
                    "raw": pd.Series(dtype="string"),
                }
            )
        )
    return _EMPTY_REJECTS[0].copy()


_EMPTY_REJECTS: list[Any] = []


def _reason_key(reason: str) -> str:
    """Group reasons for the summary: 'missing customer (column x)' stays, values are cut off."""
    if reason.startswith("exact duplicate"):
        return "exact duplicate"
    if reason.startswith("unparseable"):
        return reason.split(":", 1)[0]
    if reason.startswith("malformed"):
        return "malformed line"
    return reason
