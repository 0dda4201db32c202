"""`mktai train KIND DATA --name N`: fit any registered model family and store a new version.

A thin shell over `mktai.api.train`. Family options arrive as extra `--key value` pairs, parsed
here into a dict and checked by the family's declared parameter spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from mktai.cli.options import (
    EncodingOpt,
    EngineOpt,
    JsonOpt,
    MapOpt,
    QuietOpt,
    SeedOpt,
    SparkMasterOpt,
    StoreOpt,
    StrictOpt,
)


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


def selection_line(selection: dict[str, Any]) -> str:
    """auto's choice in one line: `auto kept gbm (cv roc_auc 0.9384; linear 0.9067, ...)`."""
    others = []
    for name, entry in (selection.get("candidates") or {}).items():
        if name == selection.get("chosen"):
            continue
        folds = f", stopped after {entry['folds']} fold(s)" if entry.get("stopped") else ""
        others.append(f"{name} {entry.get('mean', float('nan')):.4f}{folds}")
    kept = (selection.get("candidates") or {}).get(selection.get("chosen"), {})
    return (
        f"auto kept [bold]{selection.get('chosen')}[/bold] ({selection.get('by')} "
        f"{kept.get('mean', float('nan')):.4f}; {'; '.join(others) or 'no other candidate'})"
    )


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


class TrainCommand(TyperCommand):
    """`mktai train KIND --help` ends with KIND's family options, from the family's spec."""

    def parse_args(self, ctx, args):  # noqa: ANN001 - click API
        kind = next((a for a in args if not a.startswith("-")), None)
        self.epilog = family_options_help(kind)
        return super().parse_args(ctx, args)


def family_options_help(kind: str | None) -> str:
    """Help paragraphs listing a kind's options (every family's kinds when KIND is not given)."""
    from rich.markup import escape

    from mktai.errors import UsageError
    from mktai.tasks import FAMILIES, spec_for, spec_of_family

    try:
        spec = spec_for(kind) if kind else None
    except UsageError:
        spec = None
    if spec is None:
        lines = ["Model kinds (`mktai train KIND --help` lists the options of one):"]
        for family_name in FAMILIES:
            declared = spec_of_family(family_name)
            if declared is not None:
                lines.append(f"{', '.join(declared.kinds)}: {declared.summary}")
        return escape("\n\n".join(lines))
    algorithms = ", ".join(spec.algorithms)
    default = f" (default {spec.default_algorithm})" if spec.default_algorithm else ""
    lines = [
        f"Options of {kind} ({spec.summary}), given after the others as --key value; "
        f"--algorithm {algorithms}{default}:",
        *spec.params_help(),
    ]
    return escape("\n\n".join(lines))


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
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv", help="Cross-validation folds (0 = none; default 5, 3 from 20,000 rows)."
        ),
    ] = None,
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
    keep_duplicates: Annotated[
        bool,
        typer.Option(
            "--keep-duplicates",
            help="Keep identical lines of a transactions file (default: drop them).",
        ),
    ] = False,
    store: StoreOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a model on DATA and store it as a new version NAME@vN.

    Family options go after the others as --key value; `mktai train KIND --help` lists them.

    Examples:

      mktai train propensity bank.csv --target y --name response --class-weight balanced

      mktai train segments orders.csv --name rfm --k auto --horizon 90

      mktai train sentiment reviews.csv --name reviews --algorithm nb --if-changed
    """
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.cli.progress import printer as progress_printer

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
        keep_duplicates=keep_duplicates,
        progress=progress_printer(),
        engine=engine,
        spark_master=spark_master,
    )
    if result.status == "unchanged":
        console.info(
            f"unchanged: {result.ref} was trained on identical data "
            f"(sha256 {result.training_data.get('sha256', '')[:12]}), the same configuration "
            "and this mktai version; nothing to do"
        )
    else:
        if result.changes:
            console.info("changed since the last version: " + "; ".join(result.changes))
        if result.rows_rejected:
            console.warn(f"{result.rows_rejected} input row(s) rejected by cleaning")
        for message in result.warnings:
            console.warn(message)
        if result.selection:
            console.info(selection_line(result.selection))
        print_metrics(result.metrics, f"{kind} {result.algorithm}")
        console.info(f"saved [bold]{result.ref}[/bold]")
    if resolve_flag(ctx, "json", json_out):
        console.print_json(result.to_dict())


train.command_class = TrainCommand  # how cli/app.py builds this command
