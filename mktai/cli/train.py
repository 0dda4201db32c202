"""`mktai train KIND DATA --name N`: fit any registered model family and store a new version.

A thin shell over `train_to_store`, which a user can call from Python: read the data through the
cleaning layer, skip if --if-changed and the data was already trained on, fit the family, save
the version atomically. Family options arrive as extra `--key value` pairs (TrainOptions.extra).
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
    from mktai.data.table import CleanTable


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


def cleaning_summary(table: CleanTable) -> dict[str, Any]:
    report = table.report or {}
    keys = ("rows_in", "rows_out", "rows_rejected", "rejected_by_reason", "duplicates_removed")
    return {k: report[k] for k in keys if k in report}


def train_to_store(
    kind: str,
    data: Path | str,
    *,
    name: str,
    store_root: Path,
    target: str | None = None,
    algorithm: str | None = None,
    cv: int = 5,
    seed: int = 0,
    mapping: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
    encoding: str | None = None,
    if_changed: bool = False,
    strict: bool = False,
) -> dict[str, Any]:
    """Train KIND on DATA and save NAME@vN; returns a JSON-able summary (status, ref, metrics).

    Nothing is written to the store unless fitting succeeded. With if_changed, a version trained
    on data with the same fingerprint means status "unchanged" and no training.
    """
    from mktai.store import Store, check_name
    from mktai.tasks import family, spec_for
    from mktai.tasks.base import TrainOptions
    from mktai.tasks.stored import load_for

    check_name(name)
    module = family(kind)
    table = load_for(kind, data, module=module, mapping=mapping, target=target,
                     encoding=encoding, strict=strict)  # fmt: skip
    store = Store(store_root)
    sha = table.fingerprint.get("sha256")
    if if_changed and sha:
        existing = store.find_fingerprint(name, sha)
        if existing is not None:
            return {
                "status": "unchanged",
                "ref": existing.ref,
                "name": name,
                "version": existing.version,
                "kind": existing.kind,
                "training_data": table.fingerprint,
            }
    spec = spec_for(kind)
    params: dict[str, Any] = {}
    if spec is not None:
        algorithm = spec.check_algorithm(algorithm)
        params = spec.parse_options(extra, algorithm)
    options = TrainOptions(seed=seed, algorithm=algorithm, target=target, cv=cv,
                           extra=dict(extra or {}), params=params)  # fmt: skip
    model = module.fit(table, kind, options)
    fields = dict(model.manifest_fields())
    fields.setdefault("algorithm", getattr(model, "algorithm", algorithm))
    fields.update(
        seed=seed,
        training_data=dict(table.fingerprint),
        cleaning=cleaning_summary(table),
        options={"cv": cv, **dict(extra or {})},
    )
    version = store.save(name, kind, model.save, fields)
    return {
        "status": "trained",
        "ref": version.ref,
        "name": name,
        "version": version.version,
        "kind": kind,
        "algorithm": fields.get("algorithm"),
        "metrics": fields.get("metrics", {}),
        "warnings": fields.get("warnings", []),
        "training_data": table.fingerprint,
        "rows_rejected": int(len(table.rejects)),
        "path": str(version.path),
    }


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
    summary = train_to_store(
        kind,
        data,
        name=name,
        store_root=resolve_store(ctx, store),
        target=target,
        algorithm=algorithm,
        cv=cv,
        seed=seed,
        mapping=parse_mapping(mapping),
        extra=extra,
        encoding=encoding,
        if_changed=if_changed,
        strict=strict,
    )
    if summary["status"] == "unchanged":
        console.info(
            f"unchanged: {summary['ref']} was trained on identical data "
            f"(sha256 {summary['training_data'].get('sha256', '')[:12]}); nothing to do"
        )
    else:
        if summary["rows_rejected"]:
            console.warn(f"{summary['rows_rejected']} input row(s) rejected by cleaning")
        for message in summary["warnings"]:
            console.warn(message)
        print_metrics(summary["metrics"], f"{kind} {summary['algorithm']}")
        console.info(f"saved [bold]{summary['ref']}[/bold]")
    if resolve_flag(ctx, "json", json_out):
        console.print_json(summary)


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
