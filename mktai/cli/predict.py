"""`mktai predict --model NAME[@v] DATA -o scores.csv`: apply a stored model to new rows.

A thin shell over `predict_table`: load and verify the version, read DATA through the cleaning
layer, check it against the manifest's input schema (a missing column exits 2 naming it), and
write the input columns plus `score` and `prediction`. Families other than the supervised one
are applied through their own module-level `predict(model, table)` when they define it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli.options import EncodingOpt, JsonOpt, MapOpt, OutputOpt, QuietOpt, StoreOpt

if TYPE_CHECKING:
    import pandas as pd


# Where models of the families without a predict hook are applied.
COMMANDS = {
    "segments": "`mktai segment`",
    "sentiment": "`mktai sentiment`",
    "recommender": "`mktai recommend`",
    "forecast": "`mktai forecast`",
}


def predict_table(
    store_root: Path,
    ref: str,
    data: Path | str,
    *,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Scored rows and a summary (ref, rows, unseen categories, missing values, rejects)."""
    from mktai.errors import UsageError
    from mktai.tasks.stored import load_for, load_stored

    version, module, model = load_stored(store_root, ref)
    apply = getattr(module, "predict", None)
    if apply is None:
        command = COMMANDS.get(str(version.kind), "the command of its family")
        raise UsageError(
            f"{version.ref} is a {version.kind} model, which `mktai predict` cannot apply; "
            f"use {command} with --model {version.ref}"
        )
    # two identical leads are two leads: every input row gets a score, in input order
    table = load_for(version.kind, data, module=module, mapping=mapping, encoding=encoding,
                     unlabelled=True, dedupe=False, keep_raw=True)  # fmt: skip
    scored = apply(model, table)
    stats = getattr(model, "last_stats", {}) or {}
    summary = {
        "ref": version.ref,
        "kind": version.kind,
        "rows": int(len(scored)),
        "rows_rejected": int(len(table.rejects)),
        "unseen_categories": stats.get("unseen", {}),
        "missing_values": stats.get("missing", {}),
        "invalid_numbers": stats.get("invalid", {}),
    }
    return scored, summary


def predict(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="Rows to score: CSV/parquet.")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="Stored model: name, name@v3 or name@alias.")
    ],
    output: OutputOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score DATA with a stored model: input columns + score + prediction (CSV on stdout or -o)."""
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.data import write_table
    from mktai.errors import UsageError

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    as_json = resolve_flag(ctx, "json", json_out)
    if as_json and output is None:
        raise UsageError("--json prints a summary on stdout, so write the scores with -o FILE")
    scored, summary = predict_table(resolve_store(ctx, store), model, data,
                                    mapping=parse_mapping(mapping), encoding=encoding)  # fmt: skip
    write_table(scored, output)
    if summary["rows_rejected"]:
        console.warn(f"{summary['rows_rejected']} input row(s) rejected by cleaning (not scored)")
    for column, count in summary["unseen_categories"].items():
        console.warn(f"column {column!r}: {count} value(s) never seen in training (as missing)")
    if summary["missing_values"]:
        console.info(f"missing values imputed: {summary['missing_values']}")
    if summary["invalid_numbers"]:
        console.warn(f"non-numeric values in numeric columns: {summary['invalid_numbers']}")
    where = str(output) if output else "stdout"
    console.info(f"scored {summary['rows']:,} row(s) with {summary['ref']} -> {where}")
    if as_json:
        console.print_json({**summary, "output": str(output)})
