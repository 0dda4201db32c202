"""From a cleaned table to interaction events and the user-item matrix.

Explicit feedback: one event per (user, item) rating. Ratings outside the scale become rejects
(with the file row and the reason); duplicate user-item pairs keep the latest rating by
timestamp (file order without one) and are counted.

Implicit feedback (a transactions export): one event per (customer, item, order). Lines are
kept when they have a customer and an item, a positive quantity and are neither returns nor
cancellations (the cleaning layer's is_return flag: invoice 'C...' or a negative quantity);
several lines of one product in one invoice are one event. The matrix cell of (customer, item)
is then 1 (binary, default), the number of orders (count) or 1 + log(orders) (log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from mktai.data.table import CleanTable

# common rating scales, narrowest first: the detected scale is the first containing the data
KNOWN_SCALES = ((1.0, 5.0), (0.5, 5.0), (0.0, 5.0), (1.0, 7.0), (1.0, 10.0), (0.0, 10.0),
                (0.5, 10.0), (1.0, 100.0), (0.0, 100.0))  # fmt: skip
CANCELLED_ORDER = r"^[Cc]\d"


class IdMaps:
    """n_users / n_items of anything holding the `users` and `items` id maps (code -> raw id):
    events read locally or on Spark, and fitted models."""

    users: np.ndarray
    items: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)


@dataclass
class Interactions(IdMaps):
    """Events with integer codes into `users` / `items` (-1: an id the maps do not know)."""

    users: np.ndarray  # code -> raw id (str)
    items: np.ndarray
    u: np.ndarray  # int64 codes per event
    i: np.ndarray
    value: np.ndarray  # rating (explicit) or 1.0 per purchase event (implicit)
    time: np.ndarray | None  # int64 ns per event, or None
    feedback: str  # "explicit" | "implicit"
    scale: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.u)

    def subset(self, mask: np.ndarray) -> Interactions:
        return Interactions(
            self.users, self.items, self.u[mask], self.i[mask], self.value[mask],
            None if self.time is None else self.time[mask], self.feedback, self.scale,
        )  # fmt: skip

    def known(self) -> Interactions:
        """The events whose user and item are both in the maps."""
        return self.subset((self.u >= 0) & (self.i >= 0))

    def matrix(self, weighting: str = "binary") -> sp.csr_matrix:
        """The user x item matrix: ratings (explicit) or purchase weights (implicit)."""
        import numpy as np
        import scipy.sparse as sp

        known = (self.u >= 0) & (self.i >= 0)
        shape = (self.n_users, self.n_items)
        ones = np.ones(int(known.sum()))
        data = self.value[known] if self.feedback == "explicit" else ones
        m = sp.csr_matrix((data, (self.u[known], self.i[known])), shape=shape, dtype=np.float64)
        m.sum_duplicates()
        if self.feedback == "implicit":
            if weighting == "binary":
                m.data[:] = 1.0
            elif weighting == "log":
                m.data = 1.0 + np.log(m.data)
        m.sort_indices()
        return m

    def frame(self) -> pd.DataFrame:
        """Raw ids and values (for Surprise and for writing)."""
        import pandas as pd

        return pd.DataFrame(
            {"user": self.users[self.u], "item": self.items[self.i], "rating": self.value}
        )


def parse_scale(text: str | None) -> tuple[float, float] | None:
    """'1,5', '1..5', '1-5' or '1 5' -> (1.0, 5.0)."""
    if text is None:
        return None
    parts = [p for p in re.split(r"\s*(?:,|\.\.|\s|(?<=\d)-)\s*", str(text).strip()) if p]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--scale {text!r} must be LOW,HIGH, e.g. --scale 1,5") from None
    if not low < high:
        raise UsageError(f"--scale {text!r}: LOW must be below HIGH")
    return low, high


def detect_scale(ratings: np.ndarray) -> tuple[float, float]:
    low, high = float(ratings.min()), float(ratings.max())
    for lo, hi in KNOWN_SCALES:
        if lo <= low and high <= hi:
            return lo, hi
    return low, high


def buyer_role(table: CleanTable) -> str | None:
    for role in ("customer", "user"):
        if table.has(role):
            return role
    return None


def feedback_of(table: CleanTable, requested: str | None) -> str:
    """explicit when the table has ratings (unless --feedback implicit), else implicit."""
    has_rating = table.kind == "ratings" and table.has("rating")
    if requested == "explicit" and not has_rating:
        raise InputError(
            f"{table.describe()}: --feedback explicit needs a rating column; this looks like a "
            "purchases file (name the column with --map rating=COLUMN)"
        )
    if requested:
        return requested
    return "explicit" if has_rating else "implicit"


def read_events(
    table: CleanTable,
    feedback: str,
    *,
    scale: tuple[float, float] | None = None,
    users: np.ndarray | None = None,
    items: np.ndarray | None = None,
) -> Interactions:
    """Events of a cleaned table; with `users` / `items` maps (scoring a test file) unknown ids
    get code -1, otherwise the maps are built (sorted ids)."""
    if feedback == "explicit":
        ids_u, ids_i, value, time, notes, counts, scale = _explicit(table, scale)
    else:
        ids_u, ids_i, value, time, notes, counts = _implicit(table)
    import numpy as np

    if users is None or items is None:
        users, u = index_ids(ids_u)
        items, i = index_ids(ids_i)
    else:
        u, i = _encode(ids_u, users), _encode(ids_i, items)
    found = Interactions(users, items, u.astype(np.int64), i.astype(np.int64), value, time,
                         feedback, scale, notes, counts)  # fmt: skip
    return found


def _encode(ids: np.ndarray, known: np.ndarray) -> np.ndarray:
    import numpy as np

    pos = np.searchsorted(known, ids)
    pos = np.clip(pos, 0, max(len(known) - 1, 0))
    hit = (known[pos] == ids) if len(known) else np.zeros(len(ids), dtype=bool)
    return np.where(hit, pos, -1)


def index_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct ids, code of each id): the id map (pandas' hash factorize, then sort)."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(ids, sort=True)
    return np.asarray(uniques, dtype=np.str_), codes.astype(np.int64)


def _ids(series: pd.Series) -> np.ndarray:
    import numpy as np

    return series.astype(str).str.strip().to_numpy(dtype=np.str_)


def _explicit(table: CleanTable, scale: tuple[float, float] | None) -> tuple[Any, ...]:
    import numpy as np

    table.require("user", "item", "rating")
    rating = table.col("rating").to_numpy(dtype=np.float64, na_value=np.nan)
    user, item = table.col("user"), table.col("item")
    usable = np.isfinite(rating) & user.notna().to_numpy() & item.notna().to_numpy()
    if not usable.any():
        raise InputError(f"{table.describe()}: no usable ratings (user, item and rating)")
    chosen = scale or detect_scale(rating[usable])
    outside = usable & ((rating < chosen[0]) | (rating > chosen[1]))
    bad = ~usable | outside
    notes: list[str] = []
    if bad.any():
        reasons = np.where(
            outside[bad],
            [f"rating {r:g} outside the scale {chosen[0]:g}..{chosen[1]:g}" for r in rating[bad]],
            "missing user, item or rating",
        )
        add_rejects(table, np.flatnonzero(bad), list(reasons))
        notes.append(f"{int(bad.sum())} rating(s) rejected (outside the scale or incomplete)")
    keep = ~bad
    ids_u, ids_i = _ids(user[keep]), _ids(item[keep])
    value = rating[keep]
    time = _times(table, keep)
    # duplicate user-item pairs: the latest by timestamp (file order when there is none)
    order = np.arange(len(value))
    if time is not None:
        order = np.lexsort((order, time))
    ids_u, ids_i, value = ids_u[order], ids_i[order], value[order]
    time = None if time is None else time[order]
    pair = np.char.add(np.char.add(ids_u, "\x1f"), ids_i)
    _, last_rev = np.unique(pair[::-1], return_index=True)
    last = np.sort(len(pair) - 1 - last_rev)
    duplicates = len(pair) - len(last)
    if duplicates:
        notes.append(
            f"{duplicates} duplicate user-item rating(s): the latest "
            f"{'by timestamp' if time is not None else 'in file order'} kept"
        )
    counts = {"ratings": int(len(last)), "duplicates_replaced": int(duplicates),
              "out_of_scale_rejected": int(outside.sum())}  # fmt: skip
    time = None if time is None else time[last]
    return ids_u[last], ids_i[last], value[last], time, notes, counts, chosen


def _times(table: CleanTable, keep: np.ndarray) -> np.ndarray | None:
    import numpy as np
    import pandas as pd

    if not table.has("date"):
        return None
    stamps = pd.to_datetime(table.col("date"), errors="coerce")
    if stamps.isna().all():
        return None
    values = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    values = np.where(stamps.isna().to_numpy(), np.iinfo(np.int64).min, values)
    return values[keep]


def _implicit(table: CleanTable) -> tuple[Any, ...]:
    import numpy as np
    import pandas as pd

    role = buyer_role(table)
    if role is None or not table.has("item"):
        columns = ", ".join(map(str, table.frame.columns[:20]))
        raise InputError(
            f"{table.describe()}: a recommender needs a customer (or user) and an item column "
            f"(columns: {columns}); name them with --map customer=COLUMN --map item=COLUMN"
        )
    frame = table.frame
    n = len(frame)
    buyer = table.col(role)
    item = table.col("item")
    quantity = (
        table.col("quantity").to_numpy(dtype=np.float64, na_value=np.nan)
        if table.has("quantity")
        else np.ones(n)
    )
    if table.has("is_return"):
        returned = table.col("is_return").to_numpy(dtype=bool, na_value=False)
    else:
        returned = quantity < 0
        if table.has("order"):
            returned |= table.col("order").astype(str).str.match(CANCELLED_ORDER).to_numpy()
    no_buyer = buyer.isna().to_numpy() | item.isna().to_numpy()
    excluded_returns = returned & ~no_buyer
    not_positive = ~returned & ~no_buyer & ~(quantity > 0)
    keep = ~(no_buyer | returned | not_positive)
    notes = []
    if no_buyer.any():
        notes.append(f"{int(no_buyer.sum())} line(s) without a customer or item left out")
    if excluded_returns.any():
        notes.append(f"{int(excluded_returns.sum())} return/cancellation line(s) excluded")
    if not_positive.any():
        notes.append(f"{int(not_positive.sum())} line(s) with no positive quantity left out")
    time = _times(table, keep)
    kept = pd.DataFrame({"u": _ids(buyer[keep]), "i": _ids(item[keep])})
    kept["o"] = _ids(table.col("order")[keep]) if table.has("order") else np.arange(len(kept))
    kept["t"] = time if time is not None else 0
    # one event per (customer, item, order): the first line's time
    events = kept.groupby(["u", "i", "o"], sort=False, as_index=False)["t"].min()
    counts = {
        "lines_used": int(keep.sum()),
        "lines_without_customer": int(no_buyer.sum()),
        "return_lines_excluded": int(excluded_returns.sum()),
        "non_positive_lines": int(not_positive.sum()),
        "purchase_events": int(len(events)),
    }
    value = np.ones(len(events))
    t = events["t"].to_numpy(dtype=np.int64) if time is not None else None
    return (events["u"].to_numpy(dtype=np.str_), events["i"].to_numpy(dtype=np.str_), value, t,
            notes, counts)  # fmt: skip


def add_rejects(table: CleanTable, positions: np.ndarray, reasons: list[str]) -> None:
    """Record rows of table.frame (by position) as rejects with their file row numbers."""
    import numpy as np
    import pandas as pd

    rows = source_rows(table)
    frame = table.frame.iloc[positions]
    raw = frame.astype(str).agg(",".join, axis=1).to_numpy() if len(frame) else []
    new = pd.DataFrame(
        {
            "source": table.describe(),
            "row": rows[positions] if rows is not None else np.full(len(positions), -1),
            "reason": reasons,
            "raw": raw,
        }
    )
    table.rejects = (
        pd.concat([table.rejects, new], ignore_index=True) if len(table.rejects) else new
    )
    report = table.report
    if isinstance(report, dict) and "rows_out" in report:
        report["rows_out"] = int(report["rows_out"]) - len(positions)
        report["rows_rejected"] = int(report.get("rows_rejected", 0)) + len(positions)
        by_reason = dict(report.get("rejected_by_reason") or {})
        for reason in reasons:
            key = _reason_key(reason)
            by_reason[key] = by_reason.get(key, 0) + 1
        report["rejected_by_reason"] = by_reason


def _reason_key(reason: str) -> str:
    return "rating outside the scale" if "outside the scale" in reason else reason


def source_rows(table: CleanTable) -> np.ndarray | None:
    """1-based file row of each row of table.frame (one source, rows kept in file order)."""
    import numpy as np

    if len(table.sources) != 1:
        return None
    total = int((table.report or {}).get("rows_in", 0))
    rejected = table.rejects["row"].to_numpy(dtype=np.int64) if len(table.rejects) else []
    kept = np.setdiff1d(np.arange(1, total + 1), np.asarray(rejected, dtype=np.int64))
    return kept if len(kept) == len(table.frame) else None


def split(
    events: Interactions, test_size: float, how: str, seed: int
) -> tuple[Interactions, Interactions]:
    """Holdout: a random share of events, or the latest share in time (--split time)."""
    import numpy as np

    n = len(events)
    if how == "time":
        if events.time is None:
            raise UsageError("--split time needs a date/timestamp column in the data")
        cut = np.quantile(events.time, 1.0 - test_size, method="lower")
        test = events.time > cut
    else:
        rng = np.random.default_rng(seed)
        test = np.zeros(n, dtype=bool)
        test[rng.permutation(n)[: int(round(n * test_size))]] = True
    return events.subset(~test), events.subset(test)


def check_enough(events: Interactions, source: str) -> None:
    """A recommender needs at least two users and two items."""
    import numpy as np

    users = len(np.unique(events.u))
    items = len(np.unique(events.i))
    if users < 2 or items < 2:
        what = "user" if users < 2 else "item"
        raise InputError(
            f"{source}: only {min(users, items)} {what} with usable feedback; a recommender "
            "needs at least 2 users and 2 items"
        )
