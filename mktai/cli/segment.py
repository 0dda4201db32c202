"""`mktai segment`: one row per customer with RFM, named segment, cluster and (optionally) CLV.

A thin shell over mktai.tasks.segment.family: read through the cleaning layer, fit (or apply a stored
segments model), write the per-customer table, print the summary on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mktai.cli.options import (
    EncodingOpt,
    EngineOpt,
    JsonOpt,
    MapOpt,
    OutputOpt,
    QuietOpt,
    SeedOpt,
    SparkMasterOpt,
    StoreOpt,
    StrictOpt,
    json_needs_output,
)
from mktai.tasks.segment import SPEC

_K_MAX = SPEC.param("k_max").default


def segment(
    ctx: typer.Context,
    data: Annotated[
        list[str],
        typer.Argument(help="Transactions file(s) or directories: CSV/parquet, raw or ingested."),
    ],
    output: OutputOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Last day included, YYYY-MM-DD (default: the last date): its lines are in, later ones out.",
        ),
    ] = None,
    monetary: Annotated[
        str | None,
        typer.Option("--monetary", help="mean (net value per order, default) or total."),
    ] = None,
    k: Annotated[
        str | None,
        typer.Option("--k", help="Clusters: auto (silhouette, default), a number, or off."),
    ] = None,
    k_max: Annotated[
        int | None,
        typer.Option("--k-max", help=f"Largest k tried by --k auto (default {_K_MAX})."),
    ] = None,
    clv: Annotated[
        bool, typer.Option("--clv", help="Add CLV: BG/NBD + Gamma-Gamma (P(alive), value).")
    ] = False,
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="CLV horizon in days (default 90).")
    ] = None,
    discount: Annotated[
        float | None,
        typer.Option("--discount", help="Annual discount rate for CLV, e.g. 0.1 (default 0)."),
    ] = None,
    segment_map: Annotated[
        Path | None,
        typer.Option("--segment-map", help="JSON segment map replacing the standard RFM map."),
    ] = None,
    customers: Annotated[
        Path | None,
        typer.Option(
            "--customers", help="Customers file with extra numeric features (--features)."
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features", help="Comma-separated numeric columns of --customers to cluster on."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Apply a stored segments model (name, name@v3, name@alias)."),
    ] = None,
    compare_to: Annotated[
        Path | None,
        typer.Option(
            "--compare-to",
            help="Previous segment output (or transactions, scored the same way): "
            "print the segment migration matrix.",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a report: .html, .md or .json."),
    ] = None,
    seed: SeedOpt = 0,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    strict: StrictOpt = False,
    keep_duplicates: Annotated[
        bool,
        typer.Option(
            "--keep-duplicates",
            help="Keep identical lines (a log without order ids has genuine ones; default: drop).",
        ),
    ] = False,
    store: StoreOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """RFM scores, named segments, k-means clusters and CLV per customer.

    Writes one row per customer (stdout CSV, or -o FILE) and a summary on stderr.

    Examples:

      mktai segment orders.csv --clv --horizon 90 -o customers.csv --report segments.html

      mktai segment orders.csv --model rfm --compare-to last_month.csv -o customers.csv

      mktai segment cdnow.csv --keep-duplicates --as-of 1997-09-30 --clv -o customers.csv

      mktai segment customer_summary.csv --clv -o clv.csv   # frequency, recency, T, monetary_value
    """
    from mktai.api.segment import segment as run_segment
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.data import write_table

    if quiet:
        console.set_quiet(True)
    json_out = resolve_flag(ctx, "json", json_out)
    json_needs_output(json_out, output, "the customer table")
    if report is not None:
        from mktai.tasks.segment.report import check_report_path

        check_report_path(report)
    result = run_segment(
        data,
        model=model,
        store=resolve_store(ctx, store) if model is not None else None,
        as_of=as_of,
        monetary=monetary,
        k=k,
        k_max=k_max,
        clv=clv,
        horizon=horizon,
        discount=discount,
        segment_map=segment_map,
        customers=customers,
        features=features,
        compare_to=compare_to,
        seed=seed,
        mapping=parse_mapping(mapping),
        encoding=encoding,
        strict=strict,
        keep_duplicates=keep_duplicates,
        engine=engine,
        spark_master=spark_master,
    )
    summary = result.summary
    if summary.get("input_kind") == "customer summary":
        _customer_summary_output(result, output, json_out)
        return
    counts = summary["input"]
    console.info(
        f"read {counts['rows']:,} transaction rows from {summary['source']} "
        f"({counts['rows_without_customer']:,} without customer id, "
        f"{counts['rows_rejected_by_cleaning']:,} rejected by cleaning)"
    )
    for message in result.warnings:
        console.warn(message)
    write_table(result.customers, output)
    if output is not None:
        console.info(f"wrote {len(result.customers):,} customers to {output}")
    if report is not None:
        from mktai.tasks.segment.report import write_report

        write_report(report, result.to_dict(), result.customers, seed=seed)
        console.info(f"wrote report {report}")
    _print_summary(summary)
    if json_out:
        console.print_json(result.to_dict())


def _customer_summary_output(result: Any, output: Path | None, json_out: bool) -> None:
    """segment --clv on a customer summary table: CLV per row, the parameters on stderr."""
    from mktai.cli import console
    from mktai.data import write_table

    summary = result.summary
    clv = summary["clv"]
    console.info(
        f"read a customer summary of {summary['customers']:,} customers from "
        f"{summary['source']} (frequency, recency, T): BG/NBD and Gamma-Gamma fitted on it"
    )
    for message in result.warnings:
        console.warn(message)
    params = ", ".join(f"{k} {clv[k]:.4g}" for k in ("r", "alpha", "a", "b", "p", "q", "v")
                       if isinstance(clv.get(k), (int, float)))  # fmt: skip
    console.info(f"CLV parameters: {params}")
    write_table(result.customers, output)
    if output is not None:
        console.info(f"wrote {len(result.customers):,} customers to {output}")
    if json_out:
        console.print_json(result.to_dict())


def _print_summary(summary: dict[str, Any]) -> None:
    """Segments, clusters, CLV and migration tables on stderr (silenced by --quiet)."""
    from rich.table import Table

    from mktai.cli import console
    from mktai.tasks.segment.report import tables

    if console.is_quiet():
        return
    out = console.err_console()
    if not out.is_terminal:  # logs and pipes: do not squeeze the tables into 80 columns
        from rich.console import Console

        out = Console(stderr=True, highlight=False, width=max(out.width, 130))
    out.print(
        f"[bold]{summary['customers']:,} customers[/bold] as of {summary['as_of']}; "
        f"monetary = {summary['monetary_definition']}"
    )
    for title, header, rows in tables(summary):
        table = Table(title=title, title_justify="left")
        for i, name in enumerate(header):
            left = i == 0 or name in ("name", "segment")
            table.add_column(name, justify="left" if left else "right")
        for row in rows:
            table.add_row(*row)
        out.print(table)
