"""Per-customer RFM summary from transaction lines, vectorised for millions of rows.

Input is a plain DataFrame with the standard columns below (mktai.tasks.segment.family builds it from a
CleanTable). Everything is computed with factorised integer codes and pandas' cython group
reductions — no Python per customer — so 10M lines summarise in seconds.

    customer   customer id (rows without one are counted by the caller and left out)
    date       datetime64
    amount     float; line value (quantity x price); returns may be negative or positive
    order      optional order / invoice id (without it each purchase day is an order)
    is_return  optional bool; cancellations and negative quantities

Netting: a return line always counts as -|amount|; a line with a negative amount is a return too.
Purchase lines are the non-return lines with a positive amount. frequency = distinct orders with
a purchase line; total = net value of every line of the customer (purchases minus returns);
monetary = total / frequency ("mean", the default) or total ("total").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MONETARY_MODES = ("mean", "total")
# A net total this small relative to the customer's summed |amounts| is rounding noise.
NET_ZERO_TOLERANCE = 1e-9

# Reasons a customer gets RFM but no cluster and no CLV (the `excluded_reason` column).
REASON_ONLY_RETURNS = "only returns or zero-value lines"
REASON_NON_POSITIVE = "net total <= 0 after returns"


@dataclass
class LineStats:
    """What the summary did with the input lines (for the user-facing report)."""

    lines: int
    purchase_lines: int
    return_lines: int
    zero_amount_lines: int
    customers: int
    as_of: str
    lines_after_as_of: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def default_as_of(dates: pd.Series) -> pd.Timestamp:
    """The last day in the data: the snapshot day, whose lines are in (lifetimes'
    observation_period_end: T and recency count to it)."""
    import pandas as pd

    last = dates.max()
    if pd.isna(last):
        from mktai.errors import InputError

        raise InputError("no dated transactions to summarise; check the date column")
    return pd.Timestamp(last).normalize()


def summarise(
    frame: pd.DataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    monetary: str = "mean",
) -> tuple[pd.DataFrame, LineStats]:
    """One row per customer: recency, frequency, monetary plus the inputs BG/NBD needs.

    as_of (default: the last date in the data) is the last day included; lines dated after it
    are left out and counted (stats.lines_after_as_of), so past snapshots can be taken.

    Columns: customer, recency (days from the last purchase day to as_of; customers without a
    purchase use their last line), frequency (distinct purchase orders), monetary, total (net),
    gross, returns, first_purchase, last_purchase, n_days (distinct purchase days), and the
    BG/NBD triple x = n_days - 1 repeat purchase days, t_x = days from first to last purchase
    day, T = days from first purchase day to as_of; excluded_reason ("" when usable).
    The BG/NBD triple follows lifetimes (summary_data_from_transaction_data): a purchase event
    is any line that is not a return, zero-value lines included (event_days = distinct event
    days; customers with only returns have none), and repeat_spend is the mean net value of the
    repeat days (every day after the first event day), the Gamma-Gamma input.
    Rows come out sorted by customer id so results are stable across runs and inputs.
    """
    import numpy as np
    import pandas as pd

    from mktai.errors import InputError, UsageError

    if monetary not in MONETARY_MODES:
        raise UsageError(f"--monetary must be one of {', '.join(MONETARY_MODES)}, not {monetary!r}")
    if frame.empty:
        raise InputError("no transactions with a customer id to summarise")
    after = 0
    if as_of is not None:  # a snapshot in the past: lines from as_of on are not known yet
        as_of = pd.Timestamp(as_of).normalize()
        late = (frame["date"] >= as_of + pd.Timedelta(days=1)).to_numpy(dtype=bool, na_value=False)
        after = int(late.sum())
        if after:
            frame = frame.loc[~late]
            if frame.empty:
                raise UsageError(
                    f"no transaction is dated before --as-of {as_of.date()} or on it; choose "
                    "a later date"
                )

    amount = frame["amount"].to_numpy(dtype="float64", na_value=np.nan)
    if "is_return" in frame.columns:
        is_return = frame["is_return"].fillna(False).to_numpy(dtype=bool)
    else:
        is_return = np.zeros(len(frame), dtype=bool)
    is_return = is_return | (amount < 0)
    amount = np.where(is_return, -np.abs(amount), amount)
    purchase = (~is_return) & (amount > 0)

    cust_codes, customers = _factorize_sorted(frame["customer"])
    n_cust = len(customers)
    nanos = frame["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    day = nanos // 86_400_000_000_000  # days since 1970-01-01, floor for earlier dates too
    if as_of is None:
        as_of = default_as_of(frame["date"])
    as_of = pd.Timestamp(as_of).normalize()
    as_of_day = int(np.datetime64(as_of.date(), "D").astype(np.int64))

    net = np.bincount(cust_codes, weights=amount, minlength=n_cust)
    gross = np.bincount(cust_codes[purchase], weights=amount[purchase], minlength=n_cust)
    # Purchases fully returned net to float noise (0.1 + 0.2 - 0.3 = 5.6e-17), which would
    # decide by rounding luck whether a customer counts as positive: such nets are exactly 0.
    magnitude = np.bincount(cust_codes, weights=np.abs(amount), minlength=n_cust)
    net[np.abs(net) <= NET_ZERO_TOLERANCE * magnitude] = 0.0

    pc = cust_codes[purchase]
    pdays = day[purchase]
    frequency, day_cust, day_day = _orders(frame, purchase, pc, pdays, n_cust)

    # Distinct (customer, day) pairs among purchases -> purchase days, first and last.
    n_days, first_day, last_day = _distinct_days(day_cust, day_day, n_cust, missing=-1)
    del pc, pdays, day_cust, day_day
    if frequency is None:  # no order ids: one order per purchase day
        frequency = n_days

    # Customers with no purchase line: recency from their last line of any kind.
    has_purchase = n_days > 0
    fallback_last = np.zeros(n_cust, dtype=np.int64)
    if not has_purchase.all():
        lines = ~has_purchase[cust_codes]
        any_last = pd.Series(day[lines]).groupby(cust_codes[lines], sort=False).max()
        fallback_last[any_last.index.to_numpy()] = any_last.to_numpy()
    last_for_recency = np.where(has_purchase, last_day, fallback_last)

    recency = (as_of_day - last_for_recency).astype(np.int64)
    events = _events(cust_codes, day, amount, is_return, net, n_cust)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_value = np.where(frequency > 0, net / np.maximum(frequency, 1), 0.0)
    reason = np.full(n_cust, "", dtype=object)
    reason[net <= 0] = REASON_NON_POSITIVE
    reason[~has_purchase] = REASON_ONLY_RETURNS

    def as_dates(days: np.ndarray) -> np.ndarray:
        out = days.astype("datetime64[D]").astype("datetime64[ns]")
        out[days < 0] = np.datetime64("NaT")
        return out

    out = pd.DataFrame(
        {
            "customer": _customer_labels(customers),
            "recency": recency,
            "frequency": frequency.astype(np.int64),
            "monetary": mean_value if monetary == "mean" else net,
            "total": net,
            "gross": gross,
            "returns": gross - net,
            "first_purchase": as_dates(first_day),
            "last_purchase": as_dates(last_day),
            "n_days": n_days.astype(np.int64),
            "event_days": events["days"],
            "x": np.maximum(events["days"] - 1, 0).astype(np.int64),
            "t_x": events["last"] - events["first"],
            "T": np.where(events["days"] > 0, as_of_day - events["first"], 0).astype(np.int64),
            "repeat_spend": events["repeat_spend"],
            "excluded_reason": reason.astype(str),
        }
    )
    stats = LineStats(
        lines=len(frame),
        purchase_lines=int(purchase.sum()),
        return_lines=int(is_return.sum()),
        zero_amount_lines=int(((~is_return) & (amount == 0)).sum()),
        customers=n_cust,
        as_of=str(as_of.date()),
        lines_after_as_of=after,
    )
    return out, stats


def _events(
    cust_codes: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    is_return: np.ndarray,
    net: np.ndarray,
    n_cust: int,
) -> dict[str, np.ndarray]:
    """Purchase events as lifetimes counts them: every non-return line, zero-value ones too.

    days: distinct event days per customer; first / last: first and last event day (0 when
    none); repeat_spend: (net value - net value of the first event day) / repeat days, the
    mean spend of the repeat days that Gamma-Gamma models (0 without a repeat day).
    """
    import numpy as np

    event = ~is_return & ~np.isnan(amount)
    days, first, last = _distinct_days(cust_codes[event], day[event], n_cust, missing=0)
    del event
    # A customer without events has no first day: a value no line's day can equal.
    first_or_none = np.where(days > 0, first, np.iinfo(np.int64).min)
    on_first = day == first_or_none[cust_codes]
    first_value = np.bincount(
        cust_codes[on_first], weights=np.nan_to_num(amount[on_first]), minlength=n_cust
    )
    repeats = np.maximum(days - 1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        repeat_spend = np.where(repeats > 0, (net - first_value) / np.maximum(repeats, 1), 0.0)
    return {"days": days, "first": first, "last": last, "repeat_spend": repeat_spend}


def _distinct_days(
    cust: np.ndarray, day: np.ndarray, n_cust: int, *, missing: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct days, first day, last day) per customer code from (customer, day) per line.

    Each pair is one int64 key (customer * span + day offset); sorted, the keys run customer by
    customer, day by day, so the distinct ones are where a key changes and a customer's first
    and last day are the ends of its run. This replaces a two-column DataFrame drop_duplicates
    + groupby min/max, which held the pairs several times over (about 2 GB at 10M lines), and a
    hash of the keys, several times slower than NumPy's sort. missing: the first/last day of a
    customer without any pair.
    """
    import numpy as np

    first = np.full(n_cust, missing, dtype=np.int64)
    last = np.full(n_cust, missing, dtype=np.int64)
    if not len(cust):
        return np.zeros(n_cust, dtype=np.int64), first, last
    offset = int(day.min())
    span = int(day.max()) - offset + 1
    keys = cust * np.int64(span)  # a new array: the additions below work in place
    keys += day
    keys -= offset
    keys.sort()
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    keys = keys[change]
    del change
    d_cust = keys // span
    d_day = keys - d_cust * span + offset
    del keys
    count = np.bincount(d_cust, minlength=n_cust).astype(np.int64)
    has = count > 0
    ends = np.cumsum(count)
    first[has] = d_day[(ends - count)[has]]
    last[has] = d_day[ends[has] - 1]
    return count, first, last


def _orders(
    frame: pd.DataFrame, purchase: np.ndarray, pc: np.ndarray, pdays: np.ndarray, n_cust: int
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Distinct purchase orders per customer, and (customer, day) arrays to deduplicate.

    Fast path (the normal case): every order id belongs to one customer and one day, so orders
    are counted with scatter operations and days are deduplicated per order, not per line.
    Otherwise (shared or missing ids) distinct (customer, order) pairs are hashed.
    """
    import numpy as np
    import pandas as pd

    if "order" not in frame.columns or not frame["order"].notna().any():
        return None, pc, pdays
    numbers = _integer_ids(frame["order"], purchase)  # only purchase lines' orders count
    if numbers is not None:
        codes = _numeric_codes(numbers)[0]
    else:
        codes, _ = pd.factorize(frame["order"])
        codes = codes[purchase].astype(np.int64, copy=False)
    missing = codes < 0
    if missing.any():  # lines without an order id: one order per customer and purchase day
        base = int(codes.max(initial=-1)) + 1
        synthetic = pd.factorize(pc[missing] * (int(pdays.max()) + 1) + pdays[missing])[0]
        codes = codes.copy()
        codes[missing] = base + synthetic
    n_orders = int(codes.max(initial=-1)) + 1
    owner = np.full(n_orders, -1, dtype=np.int64)
    owner[codes] = pc
    order_day = np.full(n_orders, -1, dtype=np.int64)
    order_day[codes] = pdays
    if np.array_equal(owner[codes], pc):
        used = owner >= 0
        frequency = np.bincount(owner[used], minlength=n_cust)
        if np.array_equal(order_day[codes], pdays):
            return frequency, owner[used], order_day[used]
        return frequency, pc, pdays
    pairs = pd.unique(pc * n_orders + codes)
    return np.bincount(pairs // n_orders, minlength=n_cust), pc, pdays


def _integer_ids(values: pd.Series, rows: np.ndarray | None = None) -> np.ndarray | None:
    """Arrow-backed string ids (of ROWS) as int64 when every one is the canonical decimal form
    of its number ('17850'; not '017850' or '-0'), so that two ids are equal exactly when their
    numbers are; else None. Ten million short strings hash in seconds, their numbers in a
    fraction of that."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    to_arrow = getattr(values.array, "__arrow_array__", None)
    if to_arrow is None or values.dtype.kind not in "OTU":
        return None
    array = to_arrow()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    if rows is not None:
        array = array.filter(pa.array(rows))
    if array.null_count or not len(array):
        return None
    try:
        numbers = pc.cast(array, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.equal(array, pc.cast(numbers, array.type))).as_py():
        return None
    return np.asarray(numbers, dtype=np.int64)


def _numeric_codes(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes, distinct numbers ascending): codes rank each number among the distinct.

    Ids numbered within a range not much wider than the number of lines (customer and
    invoice numbers) are ranked through a table indexed by the number itself, with no hashing
    and no sort of the lines; other numbers are hashed, and the distinct ones sorted."""
    import numpy as np
    import pandas as pd

    low, high = int(numbers.min()), int(numbers.max())
    if high - low < max(len(numbers), 1 << 16):
        present = np.zeros(high - low + 1, dtype=bool)
        offsets = numbers - low
        present[offsets] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        return rank[offsets], np.flatnonzero(present).astype(np.int64) + low
    codes, distinct = pd.factorize(numbers)
    order = np.argsort(distinct, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[codes], distinct[order]


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, Any]:
    """pd.factorize(values, sort=True) as (int64 codes, distinct values): through the numbers
    when the ids are canonical integers (ranked as strings, the order the strings themselves
    sort in), else on the values."""
    import numpy as np
    import pandas as pd

    numbers = _integer_ids(values)
    if numbers is None:
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.int64, copy=False), uniques
    codes, distinct = _numeric_codes(numbers)
    text = distinct.astype(str)  # ASCII digits and '-': code-point order is byte order
    if distinct[0] < 0 or len(text[0]) != len(text[-1]):  # else numeric order is string order
        order = np.argsort(text, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order), dtype=np.int64)
        codes, text = rank[codes], text[order]
    return codes, text


def _customer_labels(values: Any) -> Any:
    """Customer ids as strings; floats that hold integers (17850.0) print as integers."""
    import numpy as np
    import pandas as pd

    index = pd.Index(values)
    if index.dtype.kind == "f":
        arr = index.to_numpy(dtype="float64")
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return pd.array(arr.astype(np.int64).astype(str), dtype="str")
    return pd.array(index.astype(str), dtype="str")


def customer_key(series: pd.Series) -> pd.Series:
    """Normalise ids read back from a file (17850, '17850', 17850.0 all -> '17850')."""
    import pandas as pd

    return pd.Series(_customer_labels(series.to_numpy()), index=series.index)
