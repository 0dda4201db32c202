"""`mktai forecast DATA --horizon 12`: future values per series with prediction intervals.

A thin shell over mktai.api.forecast: parse options, call it, write the forecast table (stdout
or -o), print the backtest table and warnings on stderr, draw --plot.

--model / -m: a method name (auto, ets, theta, ...) means that method; anything else names a
stored forecast model (`mktai train forecast ... --name weekly`). A stored model that happens to
be named like a method is reached as NAME@latest or NAME@vN. --algorithm / -a always names the
method.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli.options import (
    EncodingOpt,
    JsonOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    SeedOpt,
    StoreOpt,
)

if TYPE_CHECKING:
    from mktai.api.forecast import ForecastResult


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def resolve_model(model: str | None, algorithm: str | None) -> tuple[str | None, str | None]:
    """(stored model ref, algorithm) from --model / --algorithm (see the module docstring)."""
    from mktai.errors import UsageError
    from mktai.tasks.forecast import ALGORITHMS

    if model is not None and model.strip().lower() in ALGORITHMS:
        if algorithm is not None:
            raise UsageError(f"--model {model} names a method; do not also give --algorithm")
        return None, model.strip().lower()
    return model, algorithm


def _progress():
    """A rich progress bar on stderr (model fits done / total); None when quiet."""
    from mktai.cli import console

    if console.is_quiet():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                   MofNCompleteColumn(), console=console.err_console(), transient=True)  # fmt: skip
    task = bar.add_task("forecast fits", total=None)

    def update(label: str, done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total, description=f"forecast {label}")

    return bar, update


def print_backtest(result: ForecastResult) -> None:
    from mktai.cli import console

    if console.is_quiet() or not result.backtest:
        return
    from rich.table import Table

    levels = result.levels
    table = Table(title="rolling-origin backtest (MASE/RMSSE scaled by in-sample seasonal naive; "
                  "OWA vs Naive2)", box=None, header_style="bold", pad_edge=False)  # fmt: skip
    cols = ["mase", "smape", "rmsse", "owa", *[f"coverage_{lv}" for lv in levels]]
    table.add_column("model")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("series", justify="right")
    for row in result.backtest:
        cells = [row["model"]]
        for c in cols:
            v = row.get(c)
            cells.append("" if v is None else f"{v:.3f}")
        cells.append(str(row.get("series", "")))
        table.add_row(*cells)
    console.err_console().print(table)
    detail = result.detail
    if detail is not None and len(detail):
        used = "auto" if (detail["model"] == "auto").any() else result.algorithm
        part = detail[detail["model"] == used].sort_values("mase", ascending=False)
        t2 = Table(title=f"per series ({used}, worst first)", box=None, header_style="bold",
                   pad_edge=False)  # fmt: skip
        keys = [c for c in part.columns if c not in ("model", "mase", "smape", "rmsse")
                and not c.startswith("coverage")]  # fmt: skip
        for c in [*keys, "mase", "smape", "rmsse", *[f"coverage_{lv}" for lv in levels]]:
            t2.add_column(c, justify="left" if c in keys else "right")
        for r in part.itertuples(index=False):
            d = r._asdict()
            t2.add_row(*[str(d[k]) for k in keys],
                       *[("" if d.get(c) != d.get(c) else f"{d[c]:.3f}") for c in
                         ["mase", "smape", "rmsse", *[f"coverage_{lv}" for lv in levels]]])  # fmt: skip
        console.err_console().print(t2)


def plot_panels(result: ForecastResult) -> list[dict[str, Any]]:
    """Small-multiple data per series, worst backtest (or selection) MASE first."""
    import numpy as np

    o = result.outcome
    p = o.panel
    names = p.names()
    order = np.arange(len(names))
    if o.score is not None:
        order = np.argsort(-np.nan_to_num(o.score, nan=-1), kind="stable")
    panels = []
    h = result.horizon
    for i in order:
        x = p.dates(int(i), int(p.n[i]), h)
        note = ""
        if o.score is not None and np.isfinite(o.score[i]):
            note = f"(backtest MASE {o.score[i]:.2f}, {o.choice[i]})"
        panels.append({
            "name": names[i],
            "hist_x": p.dates(int(i), 0, int(p.n[i])),
            "hist_y": p.Y[i, : p.n[i]],
            "x": x,
            "forecast": o.mean[i],
            "bands": {lv: (o.bands[lv][0][i], o.bands[lv][1][i]) for lv in result.levels},
            "note": note,
        })  # fmt: skip
    return panels


def forecast(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Argument(help="Sales file: long (date, keys, value) or --wide.")
    ] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="Periods ahead (a stored model: its own).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Series key column(s), e.g. store,product.")
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option("--freq", help="D, W, M or Q (default: inferred; coarser re-aggregates)."),
    ] = None,
    agg: Annotated[
        str, typer.Option("--agg", help="sum (default) or mean: duplicates and re-aggregation.")
    ] = "sum",
    fill: Annotated[
        str, typer.Option("--fill", help="Missing periods: zero (default) or interpolate.")
    ] = "zero",
    wide: Annotated[bool, typer.Option("--wide", help="One column per series.")] = False,
    value: Annotated[
        str | None, typer.Option("--value", help="Column to forecast (default: amount/sales).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="A method (auto, ets, ...) or a stored model name."),
    ] = None,
    algorithm: Annotated[
        str | None,
        typer.Option(
            "--algorithm",
            "-a",
            help="auto (default), naive, snaive, drift, ets, theta, arima, linear, gbm, comb.",
        ),
    ] = None,
    exog: Annotated[
        str | None, typer.Option("--exog", help="Regressor columns, e.g. price,promo.")
    ] = None,
    future: Annotated[
        Path | None,
        typer.Option("--future", help="Future regressor values: date, keys, --exog columns."),
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help="Interval levels in percent, e.g. 80,95.")
    ] = "80,95",
    intervals: Annotated[
        str,
        typer.Option("--intervals", help="conformal (backtest residuals, default) or model."),
    ] = "conformal",
    backtest: Annotated[
        int, typer.Option("--backtest", help="Rolling origins for an accuracy table (0 = none).")
    ] = 0,
    detail: Annotated[
        bool, typer.Option("--detail", help="With --backtest: per-series accuracy too.")
    ] = False,
    origins: Annotated[
        int, typer.Option("--origins", help="Origins auto uses to choose per series.")
    ] = 3,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Draw history, forecast and intervals (.png/.html)."),
    ] = None,
    output: OutputOpt = None,
    seed: SeedOpt = 0,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Forecast every series of DATA with prediction intervals; choose models by backtest.

    Examples:
      mktai forecast sales.csv --horizon 12 --by store,product -o fc.csv
      mktai forecast sales.csv --horizon 8 --exog price,promo --future drivers.csv
      mktai forecast sales.csv --horizon 12 --backtest 3 --detail --plot fc.html
      mktai forecast new_sales.csv --model weekly -o fc.csv   (a stored model)
      mktai forecast --model plan --future drivers.csv        (stored with --exog)
    Output columns: the series keys, date, forecast, lo_80, hi_80, lo_95, hi_95, model.
    """
    from mktai.api.forecast import forecast as run_forecast
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.errors import UsageError

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    as_json = resolve_flag(ctx, "json", json_out)
    if plot is not None:
        from mktai.evaluation.forecast_plots import check_plot_path

        check_plot_path(plot)
    if agg not in ("sum", "mean"):
        raise UsageError(f"--agg {agg!r} must be sum or mean")
    if fill not in ("zero", "interpolate"):
        raise UsageError(f"--fill {fill!r} must be zero or interpolate")
    if intervals not in ("conformal", "model"):
        raise UsageError(f"--intervals {intervals!r} must be conformal or model")
    if detail and not backtest:
        raise UsageError("--detail shows per-series backtest accuracy: add --backtest N")
    ref, algo = resolve_model(model, algorithm)
    store_root = resolve_store(ctx, store) if ref is not None else None
    bar, update = _progress()
    try:
        if bar is not None:
            bar.start()
        result = run_forecast(
            data, horizon=horizon, model=ref, algorithm=algo, by=_split(by), freq=freq, agg=agg,
            fill=fill, wide=wide, value=value, exog=_split(exog), future=future, levels=level,
            backtest=backtest, detail=detail, origins=origins, intervals=intervals,
            store=store_root, seed=seed, mapping=parse_mapping(mapping), encoding=encoding,
            progress=update,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.stop()
    for message in result.warnings:
        console.warn(message)
    print_backtest(result)
    from mktai.data import write_table

    if output is not None:
        write_table(result.frame, output)
        console.info(f"wrote {len(result.frame)} forecast rows ({result.counts.get('series')} "
                     f"series x {result.horizon}) to {output}")  # fmt: skip
    elif not as_json:
        write_table(result.frame, None)
    if plot is not None:
        from mktai.evaluation.forecast_plots import write_plot

        title = f"forecast, {result.horizon} {result.frequency} periods ahead"
        write_plot(plot, plot_panels(result), result.levels, title)
        console.info(f"wrote {plot}")
    if as_json:
        console.print_json(result.to_dict())
