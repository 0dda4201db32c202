"""`forecast(...)`: future values per series with prediction intervals, optionally backtested.

    from mktai.api import forecast
    res = forecast("sales.csv", horizon=12, by=["store"], backtest=3)
    res.frame        # series keys, date, forecast, lo_80, hi_80, lo_95, hi_95, model
    res.backtest     # MASE, sMAPE, RMSSE, OWA, coverage per model (rolling origin)

`model=` names a stored model (`mktai train forecast ... --name weekly`, or a LoadedModel from
mktai.api.loaded, verified once, as a server holds it); `algorithm=` picks the
method (auto, naive, snaive, drift, ets, theta, arima, linear, gbm, comb).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import Result, internal
from mktai.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from mktai.api.loaded import LoadedModel


@dataclass
class ForecastResult(Result):
    """frame: the forecasts; backtest: one row per model; detail: per series (detail=True)."""

    frame: Any = None
    backtest: list[dict[str, Any]] = field(default_factory=list)
    detail: Any = None
    model: str | None = None
    algorithm: str = "auto"
    horizon: int = 0
    frequency: str | None = None
    levels: list[int] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    outcome: Any = internal()


def _table(data: Any, mapping, encoding, what: str = "DATA"):
    from mktai.tasks.stored import load_for

    if data is None:
        return None
    if type(data).__name__ == "DataFrame":
        import tempfile

        from mktai.data import write_table

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "data.csv"
            write_table(data, path)
            return load_for("forecast", path, mapping=mapping, encoding=encoding, keep_raw=True)
    return load_for("forecast", data, mapping=mapping, encoding=encoding, keep_raw=True)


def forecast(
    data: str | Path | pd.DataFrame | None = None,
    *,
    horizon: int | None = None,
    model: str | LoadedModel | None = None,
    algorithm: str | None = None,
    by: list[str] | str | None = None,
    freq: str | None = None,
    agg: str = "sum",
    fill: str = "zero",
    wide: bool = False,
    value: str | None = None,
    exog: list[str] | str | None = None,
    future: str | Path | pd.DataFrame | None = None,
    levels: tuple[int, ...] | list[int] | str = (80, 95),
    backtest: int = 0,
    detail: bool = False,
    origins: int = 3,
    intervals: str = "conformal",
    store: str | Path | None = None,
    seed: int = 0,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    progress: Any = None,
) -> ForecastResult:
    """Forecast DATA (or a stored model's own data) `horizon` periods ahead."""
    from mktai.tasks.forecast import SPEC
    from mktai.tasks.forecast.family import Config, panel_from, parse_levels, run
    from mktai.tasks.forecast.series import attach_future

    level_tuple = parse_levels(levels)
    if backtest < 0:
        raise UsageError("--backtest must be 0 (none) or a number of origins")
    if horizon is not None and horizon < 1:
        raise UsageError("--horizon must be at least 1")
    as_list = lambda v: [s.strip() for s in v.split(",") if s.strip()] if isinstance(v, str) else v  # noqa: E731
    table = _table(data, mapping, encoding)
    if model is not None:
        if algorithm is not None:
            raise UsageError(f"--algorithm {algorithm}: a stored model ({model}) keeps its own")
        if exog:
            raise UsageError(
                f"--exog: the stored model {model} keeps the regressors it was "
                "trained with; give their future values with --future"
            )
        from mktai.api.loaded import stored_model

        ref, kind, fitted = stored_model(model, store)
        if kind != "forecast":
            raise UsageError(f"{ref} is a {kind} model, not a forecast model")
        outcome = fitted.forecast(table, horizon=horizon, levels=level_tuple, backtest=backtest,
                                  progress=progress,
                                  future=_table(future, mapping, encoding, "--future"))  # fmt: skip
        algo, h = fitted.algorithm, horizon or fitted.config.horizon
    else:
        if table is None:
            raise UsageError("give DATA to forecast, or --model NAME of a stored forecast model")
        if horizon is None:
            raise UsageError("--horizon is required (periods ahead, e.g. --horizon 12)")
        algo = SPEC.check_algorithm(algorithm)
        config = Config(horizon=horizon, algorithm=algo, by=as_list(by), freq=freq, agg=agg,
                        fill=fill, wide=wide, value=value, exog=as_list(exog),
                        levels=level_tuple, origins=origins, intervals=intervals)  # fmt: skip
        if config.freq:
            config.freq = config.freq.upper()
        panel = panel_from(table, config)
        if panel.exog:
            attach_future(panel, _table(future, mapping, encoding, "--future"), horizon)
        elif future is not None:
            raise UsageError("--future gives regressor values: name them with --exog")
        outcome = run(panel, config, backtest=backtest, seed=seed, progress=progress)
        ref, h = None, horizon
    rejects = list(outcome.panel.rejects)
    if table is not None and len(table.rejects):
        rejects = table.rejects.to_dict("records") + rejects
    warnings = list(outcome.warnings)
    if rejects:
        warnings.insert(0, f"{len(rejects)} input row(s) rejected (first: row "
                           f"{rejects[0].get('row')}: {rejects[0].get('reason')}); "
                           "`mktai ingest` writes them all to a rejects file")  # fmt: skip
    return ForecastResult(
        frame=outcome.frame,
        backtest=outcome.backtest,
        detail=outcome.detail if detail else None,
        model=ref,
        algorithm=algo or "auto",
        horizon=int(h),
        frequency=outcome.panel.freq,
        levels=list(level_tuple),
        counts=outcome.counts,
        rejects=[{k: (None if v != v else v) for k, v in r.items()} for r in rejects][:100],
        warnings=warnings,
        outcome=outcome,
    )
