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

NUMBER_ROLES = frozenset({"quantity", "price", "amount", "rating"})
DATE_ROLES = frozenset({"date", "timestamp"})
TYPED = frozenset({"number", "date", "bool"})
# More than this share of a typed column's values unreadable is a parsing gap, not bad data.
GAP_SHARE = 0.5
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
    """Decide names, roles, kind and column types from the first batch of strings."""
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
    sample = frame.head(SAMPLE_ROWS)
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
    present = parse.normalise_text(values).dropna()  # 'N/A', 'null', '-' … do not count
    if present.empty:
        return "text"
    if _ID_NAME.search(column) or present.str.match(r"^0\d+$").any():
        return "id"  # identifiers and digit codes with leading zeros are labels, not quantities
    if parse.boolean_share(present) >= 0.99:
        return "bool"
    if present.str.contains(r"\d", regex=True).mean() < INFER_SHARE:
        return "text"  # neither numbers nor dates without digits
    european = parse.looks_european(present)
    numbers, failed = parse.parse_numbers(present, european)
    if numbers.notna().mean() >= INFER_SHARE:
        plan.european[column] = _decimal_mark(present, plan, column)
        return "number"
    dates, failed, _ = parse.parse_dates(present)
    if dates.notna().mean() >= INFER_SHARE:
        plan.day_first[column] = parse.decide_day_first(present)
        return "date"
    return "text"


def _decimal_mark(values: pd.Series, plan: Plan, column: str) -> bool:
    """Decimal comma or point for the whole column, from its sample (see parse.looks_european);
    a decision made only on ambiguous values ('1,234') is noted in the report."""
    found = parse.decimal_evidence(values)
    european = parse.looks_european(values)
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
    ) -> None:
        self.plan = plan
        self.keep_raw = keep_raw
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
        raw: pd.DataFrame,
        first_row: int,
        hashes: np.ndarray | None = None,
        duplicates: pd.Series | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Clean one batch of raw strings; returns (clean rows, rejects).

        The duplicate check may be done ahead (e.g. in a reader thread, in file order): pass
        `hashes` (hash_rows of the batch) or the finished `duplicates` (Deduper.check reasons).
        """
        import pandas as pd

        plan = self.plan
        if len(raw.columns) != len(plan.names):
            raise InputError(
                f"{self.source_name}: has {len(raw.columns)} columns but the first file has "
                f"{len(plan.names)}; files read together must share one header"
            )
        raw = raw.set_axis(plan.names, axis=1)
        raw.index = pd.RangeIndex(first_row, first_row + len(raw))
        self.stats.rows_in += len(raw)
        reasons = pd.Series(pd.NA, index=raw.index, dtype="object")

        if duplicates is not None:
            reasons = pd.Series(duplicates.to_numpy(), index=raw.index, dtype="object")
            self.stats.duplicates += int(reasons.notna().sum())
        elif self.dedupe and len(raw):
            reasons = self.deduper.check(raw, self.source_index, hashes)
            self.stats.duplicates += int(reasons.notna().sum())

        out = {}
        role_of = {column: role for role, column in plan.roles.items()}
        for column in plan.names:
            values, failed = self._convert(raw[column], plan.types[column], column)
            out[column] = values
            role = role_of.get(column)
            if plan.types[column] in TYPED:
                self._count_typed(column, values, failed, raw[column])
            if failed.any():
                if role in plan.required:
                    bad = failed & reasons.isna()
                    reasons[bad] = (
                        f"unparseable {role} in column {column}: " + raw[column][bad].astype(str)
                    ).str.slice(0, 200)
                else:
                    self.stats.unparseable[column] += int(failed.sum())
                    self.stats.unparseable_examples.setdefault(
                        column, str(raw[column][failed].iloc[0])[:80]
                    )
            missing = values.isna() & ~failed
            if role in plan.required and missing.any():
                bad = missing & reasons.isna()
                reasons[bad] = f"missing {role} (column {column})"
        frame = pd.DataFrame(out, index=raw.index)
        if plan.kind == "transactions":
            frame = self._transactions(frame, reasons)

        rejected = reasons.notna()
        kept = ~rejected.to_numpy()
        for column in plan.names:
            self.stats.missing[column] += int(frame[column].isna().to_numpy()[kept].sum())
        rejects = self._rejects(raw[rejected], reasons[rejected])
        for reason in rejects["reason"]:
            self.stats.rejected[_reason_key(reason)] += 1
        clean = frame[~rejected.to_numpy()]
        if self.keep_raw:
            as_read = raw[kept].set_axis(plan.original, axis=1)
            self.raw_kept.append(as_read.reset_index(drop=True))
        self.stats.rows_out += len(clean)
        return clean.reset_index(drop=True), rejects

    def _count_typed(
        self, column: str, values: pd.Series, failed: pd.Series, raw: pd.Series
    ) -> None:
        """Counts behind the parsing-gap warning (most of a typed column unreadable)."""
        stats = self.stats
        bad = int(failed.sum())
        stats.present[column] += int(values.notna().sum()) + bad
        if bad:
            stats.failed[column] += bad
            examples = stats.failed_examples.setdefault(column, [])
            if len(examples) < 3:
                for text in raw[failed].head(3 - len(examples)).tolist():
                    examples.append(str(text)[:40])

    def _convert(self, values: pd.Series, kind: str, column: str) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        if values.dtype.kind in "iufb" and kind == "number":  # typed input (parquet)
            return values.astype("float64"), pd.Series(False, index=values.index)
        if values.dtype.kind == "M" and kind == "date":
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert(None)  # like ISO offsets in CSV: UTC
            return parse._ns(values), pd.Series(False, index=values.index)
        if kind == "number":
            return parse.parse_numbers(values, self.plan.european.get(column))
        if kind == "date":
            dates, failed, info = parse.parse_dates(values, self.plan.day_first.get(column))
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

    def _transactions(self, frame: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
        """Cancellations and returns flagged (not mixed into revenue); amount derived if absent."""
        import numpy as np

        roles = self.plan.roles
        counts = self.stats.transactions

        def numbers(role: str) -> np.ndarray | None:
            if role not in roles:
                return None
            return frame[roles[role]].to_numpy(dtype=np.float64, na_value=np.nan)

        quantity, price = numbers("quantity"), numbers("price")
        if roles["amount"] in self.plan.derived:
            frame[roles["amount"]] = quantity * price
        amount = numbers("amount")
        cancelled = np.zeros(len(frame), dtype=bool)
        if "order" in roles:
            matched = frame[roles["order"]].str.match(CANCELLED_ORDER)
            cancelled = matched.to_numpy(dtype=bool, na_value=False)
        with np.errstate(invalid="ignore"):
            is_return = cancelled | ((quantity if quantity is not None else amount) < 0)
        frame[roles["is_return"]] = is_return
        keep = reasons.isna().to_numpy()
        counts["cancellation_lines"] += int((cancelled & keep).sum())
        counts["return_lines"] += int((is_return & keep).sum())
        counts["returns_value"] += float(np.nansum(amount[is_return & keep]))
        counts["sales_value"] += float(np.nansum(amount[~is_return & keep]))
        if price is not None:
            counts["zero_price_lines"] += int(((price == 0) & keep).sum())
            counts["negative_price_lines"] += int(((price < 0) & keep).sum())
        if "customer" in roles:
            missing = frame[roles["customer"]].isna().to_numpy()
            counts["lines_without_customer"] += int((missing & keep).sum())
        return frame

    def _rejects(self, raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
        import pandas as pd

        if raw.empty:
            return empty_rejects()
        joined = join_raw(raw, self.delimiter)
        return pd.DataFrame(
            {
                "source": self.source_name,
                "row": raw.index.to_numpy() + 1,
                "reason": reasons.astype(str).to_numpy(),
                "raw": joined.to_numpy(),
            }
        )


def hash_rows(raw: pd.DataFrame) -> np.ndarray:
    """64-bit hash of each row's values (what 'exact duplicate' compares)."""
    import numpy as np
    import pandas as pd

    return pd.util.hash_pandas_object(raw, index=False).to_numpy(dtype=np.uint64)


class Deduper:
    """Remembers a 64-bit hash of every row kept so far (16 bytes a row) and finds repeats.

    Hashes are of the raw strings, so '1.0' and '1' differ: only exact repeats are dropped.
    Memory is kept as a few sorted runs (merged when there are too many), so each batch costs
    a sort of the batch plus binary searches, never a re-sort of everything seen.
    """

    SOURCE_SHIFT = 40  # row numbers below 2**40; the source index sits above them
    RUN_CAP = 1 << 22  # entries in one sorted run (64 MB): bounds the memory a merge needs

    def __init__(self) -> None:
        self.sources: list[str] = []
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, first-row tags)

    def add_source(self, name: str) -> int:
        self.sources.append(name)
        return len(self.sources) - 1

    def _lookup(self, unique: np.ndarray) -> np.ndarray:
        """Tag of the earlier row with each (sorted, distinct) hash, or -1."""
        import numpy as np

        found = np.full(len(unique), -1, dtype=np.int64)
        for hashes, tags in self._runs:
            pos = np.minimum(np.searchsorted(hashes, unique), len(hashes) - 1)
            hit = hashes[pos] == unique
            found[hit] = tags[pos[hit]]
        return found

    def _remember(self, hashes: np.ndarray, tags: np.ndarray) -> None:
        """Add a sorted run; merge neighbours of similar size (at most RUN_CAP entries each), so
        there are few runs to search and a merge never needs memory beyond 2 x RUN_CAP."""
        if len(hashes):
            self._runs.append((hashes, tags))
        runs = self._runs
        while (
            len(runs) >= 2
            and len(runs[-2][0]) <= 2 * len(runs[-1][0])
            and len(runs[-2][0]) + len(runs[-1][0]) <= self.RUN_CAP
        ):
            newer = runs.pop()
            runs[-1] = _merge(runs[-1], newer)

    def check(
        self, raw: pd.DataFrame, source_index: int, hashes: np.ndarray | None = None
    ) -> pd.Series:
        """Reason text for rows repeating an earlier row (this batch or before), else NA."""
        import numpy as np
        import pandas as pd

        n = len(raw)
        if hashes is None:
            hashes = hash_rows(raw)
        tags = raw.index.to_numpy(dtype=np.int64) | (source_index << self.SOURCE_SHIFT)
        order = np.argsort(hashes, kind="stable")  # equal hashes keep file order
        ordered = hashes[order]
        starts = np.ones(n, dtype=bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        group = np.cumsum(starts) - 1  # group number of each sorted position
        leader = order[starts]  # first row (in file order) of each distinct hash
        earlier = self._lookup(ordered[starts])
        # the original of each row: an earlier batch's row, else its group's first row here
        original = np.where(earlier[group] >= 0, earlier[group], tags[leader][group])
        first = np.full(n, -1, dtype=np.int64)
        duplicate_sorted = (earlier[group] >= 0) | ~starts
        first[order[duplicate_sorted]] = original[duplicate_sorted]
        new = earlier < 0
        self._remember(ordered[starts][new], tags[leader][new])

        reasons = pd.Series(pd.NA, index=raw.index, dtype="object")
        duplicate = first >= 0
        if duplicate.any():
            mask = (1 << self.SOURCE_SHIFT) - 1
            rows = (first[duplicate] & mask) + 1
            srcs = first[duplicate] >> self.SOURCE_SHIFT
            text = "exact duplicate of row " + pd.Series(rows).astype(str)
            other = srcs != source_index
            if other.any():
                names = pd.Series([self.sources[i] for i in srcs[other].tolist()])
                text[other] = text[other] + " of " + names.to_numpy()
            reasons[duplicate] = text.to_numpy()
        return reasons


def _merge(
    older: tuple[np.ndarray, np.ndarray], newer: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted (hashes, tags) runs in linear time (no sort, no index array)."""
    import numpy as np

    (a, a_tags), (b, b_tags) = older, newer
    at = np.searchsorted(a, b, side="right") + np.arange(len(b))  # b after equal a values
    hashes = np.empty(len(a) + len(b), dtype=a.dtype)
    tags = np.empty(len(a) + len(b), dtype=a_tags.dtype)
    from_b = np.zeros(len(hashes), dtype=bool)
    from_b[at] = True
    hashes[at], tags[at] = b, b_tags
    hashes[~from_b], tags[~from_b] = a, a_tags
    return hashes, tags


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
    import pandas as pd

    return pd.DataFrame(
        {
            "source": pd.Series(dtype="string"),
            "row": pd.Series(dtype="int64"),
            "reason": pd.Series(dtype="string"),
            "raw": pd.Series(dtype="string"),
        }
    )


def _reason_key(reason: str) -> str:
    """Group reasons for the summary: 'missing customer (column x)' stays, values are cut off."""
    if reason.startswith("exact duplicate"):
        return "exact duplicate"
    if reason.startswith("unparseable"):
        return reason.split(":", 1)[0]
    if reason.startswith("malformed"):
        return "malformed line"
    return reason
