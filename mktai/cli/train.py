"""`mktai train KIND DATA --name N`: fit any registered model family and store a new version.

A thin shell over `mktai.api.train`. Family options arrive as extra `--key value` pairs, parsed
here into a dict and checked by the family's declared parameter spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli.options import (
    EncodingOpt,
    JsonOpt,
    MapOpt,
    QuietOpt,
    SeedOpt,
    StoreOpt,
    StrictOpt,
)

if TYPE_CHECKING:
    from mktai.cli.demo import Tour


def parse_extra(args: list[str]) -> dict[str, str]:
    """['--class-weight', 'balanced', '--calibrate=isotonic', '--flag'] -> {key: value}."""
    from mktai.errors import UsageError

    extra: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or len(token) < 3:
            raise UsageError(
                f"unexpected argument {token!r}; family options look like --key value "
                "(DATA is a single file)"
            )
        key, sep, value = token[2:].partition("=")
        if not sep:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
                i += 1
            else:
                value = "true"
        extra[key.replace("-", "_").lower()] = value
        i += 1
    return extra


def print_metrics(metrics: dict[str, Any], title: str) -> None:
    """CV (mean ± std) and holdout metrics as one table on stderr."""
    from mktai.cli import console
    from mktai.evaluation.report import format_metric

    if console.is_quiet() or not isinstance(metrics, dict) or not metrics:
        return
    from rich.table import Table

    cv = metrics.get("cv") if isinstance(metrics.get("cv"), dict) else {}
    holdout = metrics.get("holdout") if isinstance(metrics.get("holdout"), dict) else {}
    flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    table.add_column("metric")
    if cv:
        table.add_column("cv mean ± std", justify="right")
    if holdout:
        table.add_column("holdout", justify="right")
    if flat:
        table.add_column("value", justify="right")
    names = list(dict.fromkeys([*cv, *holdout, *flat]))
    for key in names:
        if key in ("rows", "positive_rate", "mean_actual", "mean_predicted"):
            continue
        row = [key]
        if cv:
            entry = cv.get(key)
            row.append(
                f"{entry['mean']:.4f} ± {entry['std']:.4f}"
                if isinstance(entry, dict) and entry.get("mean") is not None
                else ""
            )
        if holdout:
            value = holdout.get(key)
            row.append(format_metric(value) if isinstance(value, (int, float)) else "")
        if flat:
            value = flat.get(key)
            row.append(format_metric(value) if isinstance(value, (int, float)) else "")
        if any(cell for cell in row[1:]):
            table.add_row(*row)
    console.err_console().print(table)


def train(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="Model kind: propensity, demand, segments, sentiment, ...")
    ],
    data: Annotated[Path, typer.Argument(help="Training data: CSV/parquet, raw or ingested.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Model name in the store.")],
    target: Annotated[
        str | None, typer.Option("--target", help="Target column (propensity / demand).")
    ] = None,
    algorithm: Annotated[
        str | None,
        typer.Option("--algorithm", "-a", help="Algorithm, e.g. gbm (default), linear, mlp."),
    ] = None,
    cv: Annotated[int, typer.Option("--cv", help="Cross-validation folds (0 = none).")] = 5,
    seed: SeedOpt = 0,
    mapping: MapOpt = None,
    if_changed: Annotated[
        bool,
        typer.Option(
            "--if-changed",
            help="Skip training when a version of NAME was trained on identical data (cron).",
        ),
    ] = False,
    test_size: Annotated[
        float | None,
        typer.Option("--test-size", help="Share of rows held out for holdout metrics (0.2)."),
    ] = None,
    encoding: EncodingOpt = None,
    strict: StrictOpt = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a model on DATA and store it as a new version NAME@vN.

    Family options go after the others as --key value, e.g. for propensity/demand:
    --class-weight balanced, --calibrate isotonic, --threshold-metric youden, --drop duration,
    --positive yes, --learning-rate 0.05, --max-iter 300, --epochs 50 (mlp).
    """
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    extra = parse_extra(list(ctx.args))
    if test_size is not None:
        extra["test_size"] = str(test_size)
    from mktai.api.train import train as run_train

    result = run_train(
        kind,
        data,
        name=name,
        store=resolve_store(ctx, store),
        target=target,
        algorithm=algorithm,
        cv=cv,
        seed=seed,
        mapping=parse_mapping(mapping),
        params=extra,
        encoding=encoding,
        if_changed=if_changed,
        strict=strict,
    )
    if result.status == "unchanged":
        console.info(
            f"unchanged: {result.ref} was trained on identical data "
            f"(sha256 {result.training_data.get('sha256', '')[:12]}); nothing to do"
        )
    else:
        if result.rows_rejected:
            console.warn(f"{result.rows_rejected} input row(s) rejected by cleaning")
        for message in result.warnings:
            console.warn(message)
        print_metrics(result.metrics, f"{kind} {result.algorithm}")
        console.info(f"saved [bold]{result.ref}[/bold]")
    if resolve_flag(ctx, "json", json_out):
        console.print_json(result.to_dict())


def demo_step(tour: Tour) -> None:
    """Split the bank sample into training and holdout files, train a propensity model, score."""
    from mktai.data import load_table, write_table

    table = load_table(tour.sample_data / "bank_sample.csv", kind="labelled",
                       mapping={"target": "y"})  # fmt: skip
    frame = table.frame.sample(frac=1.0, random_state=tour.seed)
    cut = int(len(frame) * 0.75)
    train_path, holdout_path = tour.out / "bank_train.csv", tour.out / "bank_holdout.csv"
    write_table(frame.iloc[:cut].sort_index(), train_path)
    write_table(frame.iloc[cut:].sort_index(), holdout_path)
    tour.output("bank training split", train_path)
    tour.output("bank holdout split", holdout_path)
    tour.run("train", "propensity", str(train_path), "--target", "y", "--name", "response",
             "--seed", str(tour.seed), "--max-iter", "200")  # fmt: skip
    leads = tour.out / "bank_scores.csv"
    tour.run("predict", "--model", "response", str(holdout_path), "-o", str(leads))
    tour.output("propensity scores", leads)
