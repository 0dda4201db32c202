"""The forecast family: run a forecast from a panel, and the stored model (`mktai train forecast`).

A stored forecast model keeps its configuration (frequency, keys, regressors, horizon, levels),
the training series, each series' chosen model with the ETS form and parameters, the conformal
quantiles, and the forecast it made (what `mktai evaluate` scores against actuals). Applied to
new data it keeps each known series' model choice and ETS parameters and updates the states on
the new history; series it has never seen go through the full automatic choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mktai.errors import InputError, UsageError
from mktai.tasks.forecast import engine
from mktai.tasks.forecast.series import Panel, attach_future, build_panel

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable
    from mktai.tasks.base import TrainOptions

FORMAT = 1


@dataclass
class Config:
    """What a forecast run is asked for (the family's parameters, typed)."""

    horizon: int = 12
    algorithm: str = "auto"
    by: list[str] | None = None
    freq: str | None = None
    agg: str = "sum"
    fill: str = "zero"
    wide: bool = False
    value: str | None = None
    exog: list[str] | None = None
    levels: tuple[int, ...] = (80, 95)
    origins: int = 3
    intervals: str = "conformal"

    @classmethod
    def from_params(cls, params: dict[str, Any], algorithm: str | None) -> Config:
        params = dict(params)
        if "level" in params:  # the option is --level, as for `mktai forecast`
            params["levels"] = params.pop("level")
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__ and v is not None}
        if "levels" in known:
            known["levels"] = parse_levels(known["levels"])
        if "freq" in known:
            known["freq"] = str(known["freq"]).upper()
        return cls(**known, algorithm=algorithm or "auto")

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def parse_levels(value: Any) -> tuple[int, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = []
    for item in items:
        try:
            level = float(str(item).strip().rstrip("%"))
        except ValueError:
            raise UsageError(f"--level {item!r}: give percentages such as 80,95") from None
        if level < 1:
            level *= 100  # 0.9 -> 90
        if not 1 <= level <= 99.9 or level != int(level):
            raise UsageError(f"--level {item!r}: a whole percentage between 1 and 99, e.g. 80,95")
        out.append(int(level))
    return tuple(sorted(set(out)))


@dataclass
class Outcome:
    """One forecast run: the output frame plus everything the report and the store need."""

    frame: pd.DataFrame
    choice: np.ndarray  # (N,) model per series
    mean: np.ndarray
    bands: dict[int, tuple[np.ndarray, np.ndarray]]
    naive2: np.ndarray
    panel: Panel
    backtest: list[dict[str, Any]] = field(default_factory=list)
    detail: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    quantiles: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    ets_form: np.ndarray | None = None
    ets_params: np.ndarray | None = None
    score: np.ndarray | None = None  # (N,) backtest MASE of the chosen model (plots: worst first)
    weights: np.ndarray | None = None  # (N, members) of auto's weighted combination (wcomb)


def _few(names: list[str], limit: int = 5) -> str:
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def panel_checks(panel: Panel, h: int) -> tuple[list[str], np.ndarray]:
    """Warnings about short series / long horizons; the constant-series mask."""
    names = panel.names()
    warnings = []
    m = panel.m
    short = [names[i] for i in range(len(names)) if panel.n[i] < 2 * m]
    if m > 1 and short:
        warnings.append(
            f"{len(short)} series shorter than two seasons ({2 * m} periods) get non-seasonal "
            f"models: {_few(short)}"
        )
    longer = [names[i] for i in range(len(names)) if h > panel.n[i]]
    if longer:
        warnings.append(
            f"horizon {h} is longer than the history of {len(longer)} series: {_few(longer)}; "
            "forecasts that far out are extrapolation"
        )
    T = panel.Y.shape[1]
    mask = np.arange(T)[None, :] < panel.n[:, None]
    y = np.where(mask, panel.Y, np.nan)
    with np.errstate(all="ignore"):
        constant = (np.nanmax(y, axis=1) - np.nanmin(y, axis=1)) == 0
    return warnings, constant


def run(
    panel: Panel,
    config: Config,
    *,
    backtest: int = 0,
    seed: int = 0,
    progress: Any = None,
    fixed_choice: np.ndarray | None = None,
    fixed_ets: dict[str, np.ndarray] | None = None,
    stored_quantiles: dict[str, dict[int, np.ndarray]] | None = None,
    fixed_weights: np.ndarray | None = None,
) -> Outcome:
    """Fit, choose per series, forecast with intervals; optionally the backtest table."""
    h, levels, K = config.horizon, config.levels, config.origins
    warnings, constant = panel_checks(panel, h)
    algorithm = config.algorithm
    if algorithm not in (*engine.available(), "auto", "comb"):
        raise UsageError(f"--algorithm {algorithm} is not built in this version of mktai")
    if algorithm in ("linear", "gbm") and panel.exog and panel.X is None:
        raise UsageError("--exog needs --future")
    with_x = panel.X is not None
    if algorithm != "auto" and fixed_choice is None:
        models = engine.models_for(algorithm, with_x)
    elif fixed_choice is not None:
        wanted = {part for name in fixed_choice.tolist() for part in name.split("+")}
        if "comb" in wanted:
            wanted = (wanted - {"comb"}) | (set(engine.COMBINED) & set(engine.available()))
        if engine.WEIGHTED in wanted:
            wanted = (wanted - {engine.WEIGHTED}) | (set(engine.members(with_x))
                                                     & set(engine.available()))  # fmt: skip
        models = tuple(dict.fromkeys([*sorted(wanted), "naive2", "naive"]))
    else:
        models = engine.models_for("auto", with_x)
    nonneg = np.array([np.all(panel.Y[i, : panel.n[i]] >= 0) for i in range(len(panel.n))])
    needs_origins = algorithm == "auto" and fixed_choice is None
    conformal = config.intervals == "conformal" and stored_quantiles is None
    depth = max(K if (needs_origins or conformal) else 0, (backtest + K) if backtest else 0)
    fixed = {"ets": fixed_ets} if fixed_ets is not None else None
    org = engine.fit_origins(panel.Y, panel.n, panel.m, h, models, depth, X=panel.X,
                             nonneg=nonneg, seed=seed, fixed=fixed, phase=panel.phase(),
                             progress=progress)  # fmt: skip
    N = len(panel.n)
    if algorithm == "auto" or fixed_choice is not None:
        engine.weighted(org, K, engine.members(with_x), fixed=fixed_weights)
    if fixed_choice is not None:
        choice = fixed_choice.astype("<U40")
    elif algorithm == "auto":
        choice = np.full(N, engine.WEIGHTED, dtype="<U40")
    else:
        choice = np.full(N, algorithm, dtype="<U40")
    if constant.any():
        choice[constant] = "naive"
    mean, sigma = engine.gather(org, 0, choice)
    bad = ~np.isfinite(mean).all(axis=1)
    if bad.any():  # a model that could not fit a series (too short for it): naive
        choice[bad] = "naive"
        mean[bad], sigma[bad] = org.fits[0]["naive"].mean[bad], org.fits[0]["naive"].sigma[bad]
    if stored_quantiles is not None:
        bands = _stored_bands(stored_quantiles, choice, mean, sigma, org.scale[0], levels)
        quantiles = stored_quantiles
    else:
        bands, _used = engine.intervals(org, 0, K, choice, mean, sigma, levels, config.intervals)
        quantiles = {}
        for name in np.unique(choice):
            q = engine.conformal_quantiles(org, 0, K, str(name), levels)
            if q is not None:
                quantiles[str(name)] = q
    raw_mean = _unclipped(org, choice)
    clipped = int(np.sum((raw_mean < 0) & nonneg[:, None]))
    for lv in levels:
        lo, hi = bands[lv]
        bands[lv] = (np.where(nonneg[:, None], np.maximum(lo, 0), lo), hi)
    if clipped:
        warnings.append(f"{clipped} negative forecast value(s) of non-negative series clipped to 0")
    if constant.any():
        names = [panel.names()[i] for i in np.flatnonzero(constant)]
        warnings.append(f"{len(names)} constant series forecast by naive: {_few(names)}")
    ets_fit = org.fits[0].get("ets")
    weights = org.weights[0] if org.weights else None
    members = [m for m in engine.members(with_x) if m in org.fits[0]]
    out = Outcome(
        frame=_frame(panel, choice, mean, bands, levels, getattr(ets_fit, "form", None),
                     (members, weights)),
        choice=choice, mean=mean, bands=bands, naive2=org.fits[0]["naive2"].mean, panel=panel,
        warnings=panel.warnings + warnings, quantiles=quantiles,
        ets_form=getattr(ets_fit, "form", None),
        ets_params=ets_fit.params if ets_fit is not None else None, weights=weights,
    )  # fmt: skip
    out.counts = {
        "series": N,
        "forecast_rows": int(len(out.frame)),
        "clipped_negative": clipped,
        "constant_series": int(constant.sum()),
        "models": {
            str(k): int(v) for k, v in zip(*np.unique(choice, return_counts=True), strict=True)
        },  # fmt: skip
        **{k: v for k, v in panel.notes.items() if k != "series"},
        "rows_rejected": len(panel.rejects),
    }
    if backtest:
        table_models = [m for m in (*engine.available(), "comb") if m in org.fits[1]]
        if algorithm == "auto" and fixed_choice is None:
            table_models.append("auto")
        elif algorithm not in table_models:
            table_models.append(algorithm)
        table_models = [m for m in table_models if m in models or m in ("comb", "auto")]
        rows, detail = engine.backtest_table(org, backtest, K, table_models, levels, nonneg,
                                             config.intervals,
                                             engine.candidates(with_x))  # fmt: skip
        out.backtest = rows
        out.detail = _detail_frame(panel, detail)
        used = "auto" if "auto" in detail else algorithm
        if used in detail:
            out.score = detail[used]["mase"]
    else:
        out.score = _selection_score(org, choice, K)
    return out


def _unclipped(org: engine.Origins, choice: np.ndarray) -> np.ndarray:
    """Origin-0 forecasts of each series' choice before clipping ("a+b": the mean of both)."""
    raw = org.raw
    out = np.zeros((len(choice), org.h))
    for name in np.unique(choice):
        parts = [raw[p] for p in str(name).split("+") if p in raw]
        if parts:
            rows = choice == name
            out[rows] = np.mean(parts, axis=0)[rows]
    return out


def _selection_score(org: engine.Origins, choice: np.ndarray, K: int) -> np.ndarray | None:
    if len(org.fits) < 2:
        return None
    vals = []
    for k in range(1, min(K, len(org.fits) - 1) + 1):
        mean, _ = engine.gather(org, k, choice)
        truth = org.truth[k]
        from mktai.evaluation import forecast_metrics as fm

        vals.append(fm.per_series(truth, mean, org.scale[k], org.scale2[k])["mase"])
    with np.errstate(all="ignore"):
        return fm.nanmean(np.stack(vals), axis=0)


def _stored_bands(quantiles, choice, mean, sigma, scale, levels):
    from scipy.stats import norm

    bands = {lv: (np.full(mean.shape, np.nan), np.full(mean.shape, np.nan)) for lv in levels}
    for name in np.unique(choice):
        rows = choice == name
        q = quantiles.get(str(name))
        for lv in levels:
            if q is not None and lv in q:
                half = q[lv][None, :] * np.where(scale[rows] > 0, scale[rows], 0)[:, None]
            else:
                half = norm.ppf(0.5 + lv / 200) * np.nan_to_num(sigma[rows])
            bands[lv][0][rows] = mean[rows] - half
            bands[lv][1][rows] = mean[rows] + half
    return bands


def _label(name: str, form: str, members: list[str] | None = None,
           weights: np.ndarray | None = None) -> str:  # fmt: skip
    """'ets' -> 'ets(A,Ad,A)'; 'ets+naive' -> 'mean(ets(A,N,A),naive)';
    'wcomb' -> 'wmean(ets(A,N,A) 0.41,arima 0.33,linear 0.26)' (the series' weights)."""
    if name == engine.WEIGHTED and members and weights is not None:
        parts = [f"{f'ets({form})' if p == 'ets' and form else p} {w:.2f}"
                 for p, w in zip(members, weights, strict=False) if w > 0]  # fmt: skip
        return f"wmean({','.join(parts)})"
    parts = [f"ets({form})" if p == "ets" and form else p for p in name.split("+")]
    return parts[0] if len(parts) == 1 else f"mean({','.join(parts)})"


def _frame(panel: Panel, choice, mean, bands, levels, ets_form,
           weighted: tuple[list[str], np.ndarray | None] = ([], None)) -> pd.DataFrame:  # fmt: skip
    import pandas as pd

    N, h = mean.shape
    cols: dict[str, Any] = {}
    for k in panel.key_names:
        cols[k] = np.repeat(panel.keys[k].to_numpy(dtype=object), h)
    dates = []
    for i in range(N):
        dates.extend(panel.dates(i, int(panel.n[i]), h))
    cols["date"] = pd.to_datetime(dates)
    cols["forecast"] = mean.reshape(-1)
    for lv in levels:
        cols[f"lo_{lv}"] = bands[lv][0].reshape(-1)
        cols[f"hi_{lv}"] = bands[lv][1].reshape(-1)
    forms = ets_form if ets_form is not None else np.full(N, "")
    members, weights = weighted
    labels = [_label(str(c), str(f), members, None if weights is None else weights[i])
              for i, (c, f) in enumerate(zip(choice, forms, strict=True))]  # fmt: skip
    cols["model"] = np.repeat(np.array(labels, dtype=object), h)
    frame = pd.DataFrame(cols)
    numbers = [c for c in frame.columns if c == "forecast" or c[:3] in ("lo_", "hi_")]
    frame[numbers] = frame[numbers].round(4)
    for k in panel.key_names:
        frame[k] = frame[k].astype("string")
    return frame


def _detail_frame(panel: Panel, detail: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    import pandas as pd

    parts = []
    for model, values in detail.items():
        part = panel.keys.reset_index(drop=True).copy()
        if not panel.key_names:
            part["series"] = panel.names()
        part["model"] = model
        for k, v in values.items():
            part[k] = v
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# ----------------------------------------------------------------------------- the family API


def panel_from(table: CleanTable, config: Config) -> Panel:
    return build_panel(table, by=config.by, freq=config.freq, agg=config.agg, fill=config.fill,
                       wide=config.wide, value=config.value, exog=config.exog)  # fmt: skip


def fit(table: CleanTable, kind: str, options: TrainOptions) -> ForecastModel:
    """`mktai train forecast`: choose and fit per series, backtest once, keep the state.

    With --exog the regressors' history is stored with the model; the forecast made at training
    uses --future values when given, else each series' last values carried forward (a warning
    says so); `forecast --model NAME --future FILE` applies the model to real driver plans.
    """
    config = Config.from_params(options.params, options.algorithm)
    panel = panel_from(table, config)
    if panel.exog:
        future = options.params.get("future")
        if future:
            from mktai.tasks.stored import load_for

            attach_future(panel, load_for("forecast", future, keep_raw=True), config.horizon)
        else:
            _carry_forward(panel, config.horizon)
    elif options.params.get("future"):
        raise UsageError("--future gives regressor values: name them with --exog")
    outcome = run(panel, config, backtest=1, seed=options.seed, progress=options.progress)
    return ForecastModel(config=config, outcome=outcome, seed=options.seed)


def _carry_forward(panel: Panel, h: int) -> None:
    """Future regressors = each series' last observed values (the stored training forecast)."""
    assert panel.X is not None
    N, T, k = panel.X.shape
    X = np.full((N, T + h, k), np.nan)
    X[:, :T] = panel.X
    rows = np.arange(N)
    last = panel.X[rows, np.maximum(panel.n - 1, 0)]  # (N, k)
    for step in range(h):
        X[rows, panel.n + step] = last
    panel.X = X
    panel.warnings.append(
        f"the forecast stored at training assumes {', '.join(panel.exog)} stay at their last "
        "values (no --future given); `mktai forecast --model NAME --future FILE` uses real plans"
    )


class ForecastModel:
    """A fitted forecast configuration with its per-series state (see the module docstring)."""

    kind = "forecast"

    def __init__(self, config: Config, outcome: Outcome | None = None, seed: int = 0,
                 state: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.config = config
        self.algorithm = config.algorithm
        self.seed = seed
        self.outcome = outcome
        self.state = state or {}

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        from mktai.store.formats import write_json, write_npz, write_parquet

        o = self.outcome
        assert o is not None
        p = o.panel
        arrays: dict[str, np.ndarray] = {
            "Y": p.Y, "n": p.n, "choice": o.choice.astype("U40"), "naive2": o.naive2,
            "scale": _scale(p),
        }  # fmt: skip
        if p.X is not None:
            arrays["X"] = p.X[:, : p.Y.shape[1]]  # the regressors' history
        if o.ets_form is not None and o.ets_params is not None:
            arrays["ets_form"] = o.ets_form.astype("U12")
            arrays["ets_params"] = o.ets_params
        if o.weights is not None:
            arrays["wcomb_weights"] = o.weights
        for name, q in o.quantiles.items():
            for lv, values in q.items():
                arrays[f"q__{name}__{lv}"] = values
        write_npz(directory / "state.npz", arrays)
        keys = p.keys.copy()
        write_parquet(directory / "keys.parquet", keys.astype("string") if len(keys.columns)
                      else keys.assign(_row=np.arange(len(p.n))))  # fmt: skip
        frame = o.frame.copy()
        frame["naive2"] = o.naive2.reshape(-1)
        write_parquet(directory / "forecast.parquet", frame)
        write_json(directory / "config.json", {
            "format": FORMAT, "config": self.config.to_dict(), "seed": self.seed,
            "freq": p.freq, "period": p.period, "label": p.label, "m": p.m, "value": p.value,
            "keys": p.key_names, "start": [str(s) for s in p.start], "exog": p.exog,
        })  # fmt: skip

    def manifest_fields(self) -> dict[str, Any]:
        o = self.outcome
        assert o is not None
        auto = next((r for r in o.backtest if r["model"] in ("auto", self.algorithm)), None)
        holdout = {k: v for k, v in (auto or {}).items() if isinstance(v, (int, float))}
        return {
            "algorithm": self.algorithm,
            "params": self.config.to_dict(),
            "metrics": {"holdout": holdout},
            "input_schema": {
                "keys": o.panel.key_names,
                "value": o.panel.value,
                "frequency": o.panel.freq,
                "exog": o.panel.exog,
            },  # fmt: skip
            "warnings": o.warnings,
            "forecast": {
                "horizon": self.config.horizon,
                "series": int(len(o.choice)),
                "models": o.counts.get("models", {}),
                "first_date": str(o.frame["date"].min().date()),
                "last_date": str(o.frame["date"].max().date()),
            },  # fmt: skip
        }

    # -- application ---------------------------------------------------------------------
    def stored_panel(self) -> Panel:
        import pandas as pd

        s = self.state
        meta = s["meta"]
        keys = s["keys"]
        if "_row" in keys.columns:
            keys = pd.DataFrame(index=range(len(keys)))
        start = [pd.Period(v, freq=meta["period"]) for v in meta["start"]]
        return Panel(keys=keys, Y=s["arrays"]["Y"], n=s["arrays"]["n"].astype(int), start=start,
                     freq=meta["freq"], period=meta["period"], label=meta["label"], m=meta["m"],
                     value=meta["value"], notes={"frequency": meta["freq"]},
                     exog=list(meta.get("exog") or []), X=s["arrays"].get("X"))  # fmt: skip

    def quantiles(self) -> dict[str, dict[int, np.ndarray]]:
        out: dict[str, dict[int, np.ndarray]] = {}
        for key, values in self.state["arrays"].items():
            if key.startswith("q__"):
                _, name, lv = key.split("__")
                out.setdefault(name, {})[int(lv)] = values
        return out

    def forecast(self, table: CleanTable | None, *, horizon: int | None = None,
                 levels: tuple[int, ...] | None = None, backtest: int = 0,
                 progress: Any = None, future: CleanTable | None = None) -> Outcome:  # fmt: skip
        """Forecast from new data (or the training data when table is None).

        A model trained with --exog needs `future`: the regressors for the next periods.
        """
        cfg = Config(**{**self.config.__dict__})
        if horizon is not None:
            cfg.horizon = horizon
        if levels is not None:
            cfg.levels = levels
        stored = self.stored_panel()
        arrays = self.state["arrays"]
        panel = stored if table is None else panel_from(table, _apply_config(cfg, stored))
        if table is not None and panel.freq != stored.freq:
            raise InputError(
                f"{table.describe()}: the data is {panel.freq}, the model was trained on "
                f"{stored.freq} series; give --freq {stored.freq}"
            )
        if self.config.exog:
            attach_future(panel, future, cfg.horizon)  # no future: the error says what to give
        elif future is not None:
            raise UsageError("this model was trained without --exog: --future does not apply")
        known = {name: i for i, name in enumerate(stored.names())}
        idx = np.array([known.get(name, -1) for name in panel.names()])
        seen = idx >= 0
        same_h = cfg.horizon == self.config.horizon and backtest == 0
        q = self.quantiles() if same_h and set(cfg.levels) <= set(self.config.levels) else None
        parts = []
        if seen.any():
            sub = _subset(panel, np.flatnonzero(seen))
            choice = arrays["choice"][idx[seen]]
            fixed = None
            if "ets_form" in arrays:
                fixed = {"form": arrays["ets_form"][idx[seen]],
                         "params": arrays["ets_params"][idx[seen]]}  # fmt: skip
            weights = arrays["wcomb_weights"][idx[seen]] if "wcomb_weights" in arrays else None
            parts.append((np.flatnonzero(seen), run(sub, cfg, backtest=backtest, seed=self.seed,
                          progress=progress, fixed_choice=choice, fixed_ets=fixed,
                          stored_quantiles=q, fixed_weights=weights)))  # fmt: skip
        if (~seen).any():
            sub = _subset(panel, np.flatnonzero(~seen))
            res = run(sub, cfg, backtest=backtest, seed=self.seed, progress=progress)
            res.warnings.append(f"{int((~seen).sum())} series not in the stored model were "
                                "fitted from scratch")  # fmt: skip
            parts.append((np.flatnonzero(~seen), res))
        return _merge(panel, parts)

    def evaluate(self, table: CleanTable) -> dict[str, Any]:
        """Score the stored forecast against actuals of the forecast window."""
        import pandas as pd

        from mktai.evaluation import forecast_metrics as fm

        stored = self.stored_panel()
        cfg = _apply_config(Config(**{**self.config.__dict__}), stored)
        panel = panel_from(table, cfg)
        fc = self.state["forecast"]
        if self.config.exog:
            # conditional on the drivers: re-forecast from the training history with the
            # regressors' realised values in DATA (the stored forecast assumed a plan)
            outcome = self.forecast(None, future=table)
            fc = outcome.frame.assign(naive2=outcome.naive2.reshape(-1))
        keys = stored.key_names
        rows = []
        for i, name in enumerate(panel.names()):
            dates = panel.dates(i, 0, int(panel.n[i]))
            rows.append(pd.DataFrame({"_name": name, "date": pd.to_datetime(dates),
                                      "actual": panel.Y[i, : panel.n[i]]}))  # fmt: skip
        actual = pd.concat(rows, ignore_index=True)
        names = ["/".join(map(str, r)) for r in fc[keys].itertuples(index=False)] if keys else \
            ["series"] * len(fc)  # fmt: skip
        fc = fc.assign(_name=names)
        merged = fc.merge(actual, on=["_name", "date"], how="left")
        if merged["actual"].notna().sum() == 0:
            first, last = fc["date"].min().date(), fc["date"].max().date()
            raise InputError(
                f"{table.describe()}: no actuals in the forecast window {first} .. {last} of "
                "this model; evaluate with data covering those dates"
            )
        h = self.config.horizon
        N = len(stored.n)
        A = merged["actual"].to_numpy(dtype=float).reshape(N, h)
        F = merged["forecast"].to_numpy(dtype=float).reshape(N, h)
        n2 = merged["naive2"].to_numpy(dtype=float).reshape(N, h)
        scale = fm.scales(stored.Y, stored.n, stored.m)
        scale2 = fm.scales(stored.Y, stored.n, stored.m, power=2)
        ivs = {lv: (merged[f"lo_{lv}"].to_numpy(dtype=float).reshape(N, h),
                    merged[f"hi_{lv}"].to_numpy(dtype=float).reshape(N, h))
               for lv in self.config.levels}  # fmt: skip
        metrics = fm.summary(A, F, scale, scale2, naive2=n2, intervals=ivs)
        missing = int(np.isnan(A).sum())
        return {
            "metrics": {k: v for k, v in metrics.items() if v is not None},
            "forecast_window": [str(fc["date"].min().date()), str(fc["date"].max().date())],
            "points_without_actuals": missing,
            **(
                {"drivers": f"realised {', '.join(self.config.exog)} from DATA"}
                if self.config.exog
                else {}
            ),  # fmt: skip
            "coverage_note": "coverage_XX is the share of actuals inside the XX% interval; "
            "gate its distance to nominal with coverage_error_XX (lower is better)",
        }


def _scale(panel: Panel) -> np.ndarray:
    from mktai.evaluation import forecast_metrics as fm

    return fm.scales(panel.Y, panel.n, panel.m)


def _apply_config(cfg: Config, stored: Panel) -> Config:
    """New data is read with the stored keys and frequency."""
    cfg.freq = stored.freq
    if stored.key_names and stored.key_names != ["series"]:
        cfg.by = cfg.by or stored.key_names
    return cfg


def _subset(panel: Panel, rows: np.ndarray) -> Panel:
    from dataclasses import replace

    return replace(panel, keys=panel.keys.iloc[rows].reset_index(drop=True), Y=panel.Y[rows],
                   n=panel.n[rows], start=[panel.start[i] for i in rows],
                   X=None if panel.X is None else panel.X[rows], warnings=list(panel.warnings),
                   notes=dict(panel.notes))  # fmt: skip


def _merge(panel: Panel, parts: list[tuple[np.ndarray, Outcome]]) -> Outcome:
    import pandas as pd

    if len(parts) == 1 and len(parts[0][0]) == len(panel.n):
        return parts[0][1]
    first = parts[0][1]
    N, h = len(panel.n), first.mean.shape[1]
    order = np.concatenate([rows for rows, _ in parts])
    inv = np.argsort(order)
    frames = []
    for rows, o in parts:
        f = o.frame.copy()
        f["_i"] = np.repeat(rows, h)
        frames.append(f)
    frame = pd.concat(frames).sort_values(["_i", "date"], kind="stable").drop(columns="_i")

    def cat(attr):
        return np.concatenate([getattr(o, attr) for _, o in parts])[inv]

    bands = {
        lv: (
            np.concatenate([o.bands[lv][0] for _, o in parts])[inv],
            np.concatenate([o.bands[lv][1] for _, o in parts])[inv],
        )
        for lv in first.bands
    }
    out = Outcome(frame=frame.reset_index(drop=True), choice=cat("choice"), mean=cat("mean"),
                  bands=bands, naive2=cat("naive2"), panel=panel,
                  warnings=[w for _, o in parts for w in o.warnings],
                  quantiles=first.quantiles)  # fmt: skip
    out.counts = dict(first.counts)
    out.counts["series"] = N
    out.counts["forecast_rows"] = int(len(frame))
    out.backtest = first.backtest
    del N
    return out


def load_model(directory: Path, manifest: dict[str, Any]) -> ForecastModel:
    from mktai.store.formats import read_json, read_npz, read_parquet

    meta = read_json(directory / "config.json")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        from mktai.errors import IntegrityError

        raise IntegrityError(f"{directory / 'config.json'}: unknown forecast model format")
    config_dict = dict(meta["config"])
    config_dict["levels"] = tuple(config_dict.get("levels") or (80, 95))
    config = Config(**config_dict)
    state = {
        "meta": meta,
        "arrays": read_npz(directory / "state.npz", ("Y", "n", "choice", "naive2")),
        "keys": read_parquet(directory / "keys.parquet"),
        "forecast": read_parquet(directory / "forecast.parquet"),
    }
    return ForecastModel(config=config, seed=int(meta.get("seed", 0)), state=state)
