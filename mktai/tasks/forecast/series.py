"""From a cleaned sales table to a panel of regular series (what every forecast model reads).

Long input: date, series key column(s), value, exogenous columns. Wide input (--wide): date and
one numeric column per series. Dates are bucketed into periods of the inferred (or --freq)
frequency; duplicate dates and finer data are aggregated (sum, or mean), missing periods inside a
series are filled explicitly (zero for sales, or linear interpolation) and counted; an incomplete
last period after re-aggregation is dropped with a note. Non-numeric values are rejected rows.

Series are stored left-aligned: Y[i, :n[i]] is series i from its own first period, so every model
can treat "time t" as a position in the series' own history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mktai.errors import InputError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable

FREQS = {"D": ("D", 7), "W": ("W", 52), "M": ("M", 12), "Q": ("Q", 4)}
_ORDER = {"D": 0, "W": 1, "M": 2, "Q": 3}
SERIES_COLUMN = "series"


@dataclass
class Panel:
    """Regular series, left-aligned, with their keys, calendar and regressors."""

    keys: pd.DataFrame  # one row per series: the key columns (as text)
    Y: np.ndarray  # (N, T) float, NaN after n[i]
    n: np.ndarray  # (N,) int
    start: list[Any]  # pandas Period of each series' first value
    freq: str  # D, W, M, Q
    period: str  # pandas period alias (D, W-SUN, M, Q-DEC)
    label: str  # "start" or "end": how output dates are written
    m: int  # season length
    value: str  # name of the forecast column
    exog: list[str] = field(default_factory=list)
    X: np.ndarray | None = None  # (N, T + h, k) left-aligned, future part filled by `attach_future`
    notes: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key_names(self) -> list[str]:
        return list(self.keys.columns)

    def names(self) -> list[str]:
        """One display name per series: key values joined by '/'."""
        if not len(self.keys.columns):
            return ["series"] * len(self.n)
        return ["/".join(map(str, row)) for row in self.keys.itertuples(index=False)]

    def phase(self) -> np.ndarray:
        """Calendar position of each series' first period in the season (Mondays align)."""
        return np.array([int(p.ordinal) % max(self.m, 1) for p in self.start], dtype=int)

    def dates(self, i: int, offset: int, count: int) -> list[Any]:
        """Timestamps of periods offset..offset+count-1 of series i."""
        import pandas as pd

        periods = pd.period_range(self.start[i] + offset, periods=count, freq=self.period)
        return list(periods.start_time if self.label == "start" else periods.end_time.normalize())


def infer_freq(dates: pd.Series, source: str, given: str | None = None) -> str:
    """D, W, M or Q from the typical spacing of the distinct dates.

    With --freq given, irregular spacing (daily sales with gaps of 2-3 days, say) is not an
    error: the data counts as the finest frequency the spacing allows, and the periods it lacks
    are filled like any other missing period.
    """
    import pandas as pd

    unique = pd.Series(pd.to_datetime(dates.dropna().unique())).sort_values()
    if len(unique) < 2:
        raise InputError(f"{source}: fewer than two distinct dates; nothing to forecast from")
    days = unique.diff().dt.days.dropna()
    step = float(days.median())
    if step <= 1.5:
        return "D"
    if 5 <= step <= 9:
        return "W"
    if 27 <= step <= 32:
        return "M"
    if 85 <= step <= 95:
        return "Q"
    if given is not None:
        return "D" if step < 5 else "W" if step < 27 else "M" if step < 85 else "Q"
    raise InputError(
        f"{source}: cannot tell the frequency of the dates (typical gap {step:g} days); "
        "give --freq D, W, M or Q"
    )


def _period_alias(freq: str, dates: pd.Series, native: str) -> tuple[str, str]:
    """Pandas period alias and the label convention of the output dates."""
    import pandas as pd

    d = pd.to_datetime(dates.dropna())
    if freq == "D":
        return "D", "start"
    if freq == "W":
        if native == "W":
            # weeks start on the weekday of the data's dates
            first = int(d.dt.dayofweek.mode().iloc[0])
            end_day = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"][first]
            return f"W-{end_day}", "start"
        return "W-SUN", "start"
    label = "end" if native == freq and bool(d.dt.is_month_end.mean() > 0.9) else "start"
    return ("M", label) if freq == "M" else ("Q-DEC", label)


def _check_numeric(table: CleanTable, columns: list[str], rejects: list[dict[str, Any]]) -> Any:
    """Rows whose value or regressor cell is text that is not a number -> rejects."""
    import pandas as pd

    frame = table.frame
    bad = pd.Series(False, index=frame.index)
    raw = table.raw
    if raw is None or len(raw) != len(frame):
        return bad
    original = {n: o for o, n in zip(raw.columns, frame.columns, strict=False)}
    for column in columns:
        values = frame[column]
        if values.dtype.kind in "iufb":
            text = raw[original.get(column, column)].astype("string").str.strip()
            flagged = values.isna() & text.notna() & (text != "")
        else:
            text = values.astype("string").str.strip()
            num = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
            flagged = num.isna() & text.notna() & (text != "")
        for idx in np.flatnonzero(flagged.to_numpy() & ~bad.to_numpy()):
            rejects.append({"source": table.describe(), "row": _row_number(table, int(idx)),
                            "reason": f"non-numeric value {str(text.iloc[idx])[:40]!r} in "
                                      f"column {column!r}",
                            "raw": ",".join(map(str, raw.iloc[idx].tolist()))})  # fmt: skip
        bad |= flagged.fillna(False)
    return bad


def _row_number(table: CleanTable, index: int) -> int | None:
    """1-based data row of kept row `index` (single source: skipping the cleaning rejects)."""
    if len(table.sources) != 1:
        return None
    rejected = sorted(int(r) for r in table.rejects["row"].dropna()) if len(table.rejects) else []
    row = index + 1
    for r in rejected:
        if r <= row:
            row += 1
    return row


def _numeric(values: pd.Series) -> pd.Series:
    import pandas as pd

    if values.dtype.kind in "iufb":
        return values.astype(float)
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def resolve_column(table: CleanTable, name: str, option: str) -> str:
    from mktai.data.schema import normalise_name

    frame = table.frame
    if name in frame.columns:
        return name
    norm = normalise_name(name)
    if norm in frame.columns:
        return norm
    shown = ", ".join(map(str, frame.columns[:25]))
    raise UsageError(
        f"{option} {name}: no column {name!r} in {table.describe()} (columns: {shown})"
    )


def long_frame(
    table: CleanTable,
    *,
    by: list[str] | None,
    value: str | None,
    exog: list[str] | None,
    wide: bool,
) -> tuple[pd.DataFrame, list[str], str, list[str], list[dict[str, Any]]]:
    """(frame with keys, date, value, exog; key names; value name; exog names; rejects)."""
    import pandas as pd

    table.require("date")
    frame = table.frame
    date = table.roles["date"]
    exog_cols = [resolve_column(table, c, "--exog") for c in (exog or [])]
    rejects: list[dict[str, Any]] = []
    if wide:
        if by:
            raise UsageError("--wide takes one column per series; --by is for long input")
        skip = {date, *exog_cols}
        series_cols = [c for c in frame.columns if c not in skip]
        if value:
            raise UsageError("--wide forecasts every column; --value is for long input")
        bad = _check_numeric(table, series_cols + exog_cols, rejects)
        keep = frame[~bad.to_numpy()]
        melted = keep.melt(id_vars=[date, *exog_cols], value_vars=series_cols,
                           var_name=SERIES_COLUMN, value_name="value")  # fmt: skip
        melted[SERIES_COLUMN] = melted[SERIES_COLUMN].astype(str)
        melted["value"] = _numeric(melted["value"])
        out = melted.rename(columns={date: "date"})
        return out, [SERIES_COLUMN], "value", exog_cols, rejects
    if value:
        target = resolve_column(table, value, "--value")
    elif table.has("amount"):
        target = table.roles["amount"]
    elif table.has("quantity"):
        target = table.roles["quantity"]
    else:
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "fi" and c not in exog_cols]
        if len(numeric) != 1:
            shown = ", ".join(map(str, frame.columns[:25]))
            raise InputError(
                f"{table.describe()}: which column holds the values to forecast? "
                f"(columns: {shown}); name it with --value COLUMN"
            )
        target = numeric[0]
    if by:
        keys = [resolve_column(table, c, "--by") for c in by]
    elif table.has("series"):
        keys = [table.roles["series"]]
    else:
        keys = []
    bad = _check_numeric(table, [target, *exog_cols], rejects)
    keep = frame[~bad.to_numpy()]
    out = pd.DataFrame({"date": keep[date].to_numpy()})
    for k in keys:
        out[k] = keep[k].astype("string").fillna("").to_numpy()
    out["value"] = _numeric(keep[target]).to_numpy()
    for c in exog_cols:
        out[c] = _numeric(keep[c]).to_numpy()
    return out, keys, target, exog_cols, rejects


def build_panel(
    table: CleanTable,
    *,
    by: list[str] | None = None,
    freq: str | None = None,
    agg: str = "sum",
    fill: str = "zero",
    wide: bool = False,
    value: str | None = None,
    exog: list[str] | None = None,
) -> Panel:
    """The regular, filled, left-aligned series of a cleaned sales table."""
    import pandas as pd

    frame, keys, target, exog_cols, rejects = long_frame(
        table, by=by, value=value, exog=exog, wide=wide
    )
    source = table.describe()
    frame = frame[frame["date"].notna()]
    if not len(frame):
        raise InputError(f"{source}: no rows with a date and a value to forecast")
    given = None if freq is None else str(freq).upper()
    if given is not None and given not in FREQS:
        raise UsageError(f"--freq {freq!r} must be one of D, W, M, Q")
    native = infer_freq(frame["date"], source, given)
    chosen = native if given is None else given
    if _ORDER[chosen] < _ORDER[native]:
        raise UsageError(
            f"--freq {chosen}: the data is {native}; it can be re-aggregated to a coarser "
            "frequency, not split into a finer one"
        )
    alias, label = _period_alias(chosen, frame["date"], native)
    frame["period"] = frame["date"].dt.to_period(alias)
    notes: dict[str, Any] = {"frequency": chosen, "inferred_frequency": native}
    warnings: list[str] = []
    group = [*keys, "period"]
    sizes = frame.groupby(group, sort=False).size()
    notes["duplicate_dates_aggregated"] = int(
        (sizes > 1).sum() if chosen == native else 0
    )  # fmt: skip
    grouped = frame.groupby(group, sort=True, dropna=False)
    agg_frame = grouped["value"].sum(min_count=1) if agg == "sum" else grouped["value"].mean()
    out = agg_frame.to_frame("value")
    for c in exog_cols:
        out[c] = grouped[c].mean()
    out = out.reset_index()
    if chosen != native and native == "D":
        out, dropped = _drop_partial(frame, out, keys, chosen)
        if dropped:
            warnings.append(
                f"re-aggregating daily data to {chosen}: {dropped} incomplete period(s) at the "
                "edges were left out"
            )
    parts = list(out.groupby(keys, sort=True, dropna=False)) if keys else [((), out)]
    N = len(parts)
    lengths, starts, key_rows, blocks = [], [], [], []
    filled_total, filled_series = 0, 0
    exog_blocks = []
    for key, part in parts:
        part = part.sort_values("period")
        first, last_p = part["period"].iloc[0], part["period"].iloc[-1]
        full = pd.period_range(first, last_p, freq=alias)
        s = part.set_index("period")["value"].reindex(full)
        missing = int(s.isna().sum())
        if missing:
            filled_total += missing
            filled_series += 1
            s = s.interpolate(limit_direction="both") if fill == "interpolate" else s.fillna(0.0)
        lengths.append(len(s))
        starts.append(first)
        key_rows.append(key if isinstance(key, tuple) else (key,))
        blocks.append(s.to_numpy(dtype=float))
        if exog_cols:
            ex = part.set_index("period")[exog_cols].reindex(full).ffill().bfill()
            exog_blocks.append(ex.to_numpy(dtype=float))
    notes["missing_periods_filled"] = filled_total
    notes["series_with_gaps"] = filled_series
    notes["fill"] = fill
    if filled_total:
        how_fill = "with 0" if fill == "zero" else "by interpolation"
        warnings.append(
            f"{filled_total} missing period(s) in {filled_series} series filled {how_fill} "
            "(--fill zero|interpolate)"
        )
    T = max(lengths)
    Y = np.full((N, T), np.nan)
    for i, block in enumerate(blocks):
        Y[i, : len(block)] = block
    X = None
    if exog_cols:
        X = np.full((N, T, len(exog_cols)), np.nan)
        for i, block in enumerate(exog_blocks):
            X[i, : len(block)] = block
        empty = np.isnan(X).all(axis=1)  # (N, k): a regressor never observed in a series
        if empty.any():
            names = ["/".join(map(str, k)) if k else "series" for k in key_rows]
            for k, column in enumerate(exog_cols):
                rows = np.flatnonzero(empty[:, k])
                if not len(rows):
                    continue
                fill_value = float(np.nanmedian(X[..., k])) if np.isfinite(X[..., k]).any() else 0.0
                X[rows, :, k] = fill_value
                shown = ", ".join(names[i] for i in rows[:5]) + (" ..." if len(rows) > 5 else "")
                warnings.append(f"regressor {column!r} has no values in {len(rows)} series "
                                f"({shown}); used its median {fill_value:g}")  # fmt: skip
        for i, block in enumerate(blocks):
            X[i, len(block) :] = np.nan
    keys_frame = pd.DataFrame(key_rows, columns=keys) if keys else pd.DataFrame(index=range(N))
    m = FREQS[chosen][1]
    notes["series"] = N
    return Panel(keys=keys_frame.astype("string") if keys else keys_frame, Y=Y,
                 n=np.array(lengths, dtype=int), start=starts, freq=chosen, period=alias,
                 label=label, m=m, value=target, exog=exog_cols, X=X, notes=notes,
                 warnings=warnings, rejects=rejects)  # fmt: skip


def _drop_partial(raw: pd.DataFrame, out: pd.DataFrame, keys: list[str], chosen: str):
    """Leave out the first/last period when the daily data does not cover it fully."""
    first_day, last_day = raw["date"].min(), raw["date"].max()
    periods = out["period"]
    lo, hi = periods.min(), periods.max()
    drop = []
    if lo.start_time.normalize() < first_day.normalize():
        drop.append(lo)
    if hi.end_time.normalize() > last_day.normalize():
        drop.append(hi)
    if not drop:
        return out, 0
    return out[~out["period"].isin(drop)].reset_index(drop=True), len(drop)


def attach_future(panel: Panel, future: CleanTable | None, h: int) -> None:
    """Put the regressors' future values into panel.X; missing periods/series -> InputError."""
    import pandas as pd

    if not panel.exog:
        return
    if future is None:
        raise UsageError(
            f"--exog {','.join(panel.exog)} needs their future values: give --future FILE with "
            f"date, the series key(s) and {', '.join(panel.exog)} for the next {h} period(s)"
        )
    fut = future.frame
    future.require("date")
    cols = [resolve_column(future, c, "--exog (in --future)") for c in panel.exog]
    keys = [resolve_column(future, k, "--by (in --future)") for k in panel.key_names]
    f = pd.DataFrame({"period": fut[future.roles["date"]].dt.to_period(panel.period)})
    for k, col in zip(panel.key_names, keys, strict=True):
        f[k] = fut[col].astype("string").fillna("").to_numpy()
    for name, col in zip(panel.exog, cols, strict=True):
        f[name] = _numeric(fut[col]).to_numpy()
    f = f.dropna(subset=["period"])
    lookup = f.groupby([*panel.key_names, "period"], sort=False)[panel.exog].mean()
    N, T = panel.Y.shape
    X = np.full((N, T + h, len(panel.exog)), np.nan)
    X[:, :T] = panel.X
    missing: list[str] = []
    names = panel.names()
    for i in range(N):
        want = pd.period_range(panel.start[i] + int(panel.n[i]), periods=h, freq=panel.period)
        key = tuple(panel.keys.iloc[i]) if panel.key_names else ()
        index = pd.MultiIndex.from_tuples([(*key, p) for p in want]) if key else want
        try:
            vals = lookup.reindex(index).to_numpy(dtype=float)
        except (KeyError, TypeError, ValueError):
            vals = np.full((h, len(panel.exog)), np.nan)
        gap = np.isnan(vals).any(axis=1)
        if gap.any():
            shown = [str(d.date()) for d, g in zip(panel.dates(i, int(panel.n[i]), h), gap,
                                                   strict=True) if g]  # fmt: skip
            missing.append(f"{names[i]}: {', '.join(shown[:6])}{' ...' if len(shown) > 6 else ''}")
        X[i, panel.n[i] : panel.n[i] + h] = vals
    if missing:
        more = f" (+{len(missing) - 5} more series)" if len(missing) > 5 else ""
        raise InputError(
            f"{future.describe()}: future values of {', '.join(panel.exog)} missing for "
            f"{'; '.join(missing[:5])}{more}"
        )
    panel.X = X
