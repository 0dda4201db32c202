"""`mktai predict --model NAME[@v] DATA -o scores.csv`: apply a stored model to new rows.

A thin shell over `mktai.api.predict`: writes the input columns plus `score` and `prediction`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mktai.cli.options import (
    EncodingOpt,
    JsonOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    StoreOpt,
    json_needs_output,
)


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
    """Score DATA with a stored model: input columns + score + prediction (CSV on stdout or -o).

    Examples:

      mktai predict --model response leads.csv -o scores.csv

      mktai predict --model response@production leads.parquet --json -o scores.parquet
    """
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.data import write_table

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    as_json = resolve_flag(ctx, "json", json_out)
    json_needs_output(as_json, output, "the scores")
    from mktai.api.predict import predict as run_predict

    result = run_predict(model, data, store=resolve_store(ctx, store),
                         mapping=parse_mapping(mapping), encoding=encoding)  # fmt: skip
    write_table(result.frame, output)
    if result.rows_rejected:
        console.warn(f"{result.rows_rejected} input row(s) rejected by cleaning (not scored)")
    for column, count in result.unseen_categories.items():
        console.warn(f"column {column!r}: {count} value(s) never seen in training (as missing)")
    if result.missing_values:
        console.info(f"missing values imputed: {result.missing_values}")
    if result.invalid_numbers:
        console.warn(f"non-numeric values in numeric columns: {result.invalid_numbers}")
    where = str(output) if output else "stdout"
    console.info(f"scored {result.rows:,} row(s) with {result.ref} -> {where}")
    if as_json:
        console.print_json({**result.to_dict(), "output": str(output)})
