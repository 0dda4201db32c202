"""`mktai ingest`: clean raw CSV exports into a typed table, a rejects file and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mktai.cli.options import (
    EncodingOpt,
    EngineOpt,
    JsonOpt,
    KindOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    SparkMasterOpt,
    StrictOpt,
    json_needs_output,
    parse_mapping,
    resolve_flag,
)


def ingest(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(help="CSV (.gz/.zip/.bz2), parquet, or - for stdin; several are stacked."),
    ],
    output: OutputOpt = None,
    kind: KindOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects", help="Rejects CSV (default: beside the output, NAME.rejects.csv)."
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the cleaning report as JSON.")
    ] = None,
    strict: StrictOpt = False,
    keep_duplicates: Annotated[
        bool,
        typer.Option(
            "--keep-duplicates",
            help="Keep exact duplicate rows (default: drop them; remembering rows costs 16 B each).",
        ),
    ] = False,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    partition_by: Annotated[
        list[str] | None,
        typer.Option(
            "--partition-by", help="With --engine spark: partition the output directory by COLUMN."
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Clean raw exports: detect encoding, delimiter, column roles and types; reject bad rows.

    Examples:

      mktai ingest orders.csv -o clean.parquet --report ingest.json

      mktai ingest export_gbk.csv --encoding gb18030 --map amount=金额 -o clean.csv

      cat orders.csv | mktai ingest - --kind transactions > clean.csv
    """
    from mktai.api.ingest import ingest as run_ingest
    from mktai.cli import console
    from mktai.cli.summaries import print_cleaning_summary
    from mktai.errors import InputError

    if quiet:
        console.set_quiet(True)
    as_json = resolve_flag(ctx, "json", json_out)
    json_needs_output(as_json, output, "the clean table")
    result = run_ingest(
        files,
        output,
        kind=kind,
        mapping=parse_mapping(mapping),
        encoding=encoding,
        rejects=rejects,
        report=report,
        strict=strict,
        keep_duplicates=keep_duplicates,
        engine=engine,
        spark_master=spark_master,
        partition_by=partition_by,
    )
    print_cleaning_summary(result.report)
    if result.rejects_path:
        console.info(f"rejects: {result.rejects_path}")
    if result.output:
        console.info(f"clean table: {result.output}")
    if report:
        console.info(f"report: {report}")
    if as_json:
        console.print_json(result.report)
    rejected = result.rows_rejected
    if strict and rejected:
        kept = f"; {output} was not written" if result.held_back else ""
        raise InputError(
            f"{rejected:,} rows rejected (see {result.rejects_path}) and --strict is set{kept}"
        )
