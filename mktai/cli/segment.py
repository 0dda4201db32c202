"""`mktai segment`: one row per customer with RFM, named segment, cluster and (optionally) CLV.

A thin shell over mktai.tasks.segment: read through the cleaning layer, fit (or apply a stored
segments model), write the per-customer table, print the summary on stderr.
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
    StrictOpt,
)

if TYPE_CHECKING:
    import pandas as pd

    from mktai.cli.demo import Tour


def segment(
    ctx: typer.Context,
    data: Annotated[
        list[Path], typer.Argument(help="Transactions file(s): CSV/parquet, raw or ingested.")
    ],
    output: OutputOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Snapshot day YYYY-MM-DD (default: day after the last date); later lines are left out.",
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
    k_max: Annotated[int, typer.Option("--k-max", help="Largest k tried by --k auto.")] = 8,
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
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """RFM scores, named segments, k-means clusters and CLV per customer.

    Writes one row per customer (stdout CSV, or -o FILE) and a summary on stderr.
    """
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag
    from mktai.errors import InputError, UsageError

    if quiet:
        console.set_quiet(True)
    json_out = resolve_flag(ctx, "json", json_out)
    if json_out and output is None:
        raise UsageError(
            "--json prints the summary on stdout, which already carries the customer CSV; "
            "add -o FILE for the customer table"
        )
    if features and customers is None:
        raise UsageError("--features needs --customers FILE holding those columns")
    if report is not None:
        from mktai.tasks.segment_report import check_report_path

        check_report_path(report)
    as_of_ts = _parse_date(as_of)
    if model is not None:
        given = [
            name
            for name, value in (
                ("--k", k),
                ("--monetary", monetary),
                ("--segment-map", segment_map),
            )
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{', '.join(given)} come(s) from the stored model when --model is given; "
                "drop them or train a new model"
            )

    from mktai.data import load_table, write_table
    from mktai.tasks import segment as seg

    # Every option is checked before the (possibly large) data is read.
    k_value, clusters_on = seg.parse_k(k if k is not None else "auto")
    seg.check_clv_options(horizon, discount)
    options = None
    if model is None:
        from mktai.tasks.rfm_scores import load_segment_map

        options = seg.SegmentOptions(
            as_of=as_of_ts,
            monetary=(monetary or "mean").lower(),
            clusters=clusters_on,
            k=k_value,
            k_max=k_max,
            clv=clv,
            horizon=horizon if horizon is not None else 90,
            discount=discount if discount is not None else 0.0,
            seed=seed,
            segment_map=load_segment_map(segment_map),
        )
        options.validate()
    maps = parse_mapping(mapping)
    table = load_table(data, kind="transactions", mapping=maps, encoding=encoding)
    if strict and len(table.rejects):
        raise InputError(
            f"{table.describe()}: {len(table.rejects)} row(s) rejected by cleaning and --strict "
            "is set; see `mktai ingest` for the rejects file"
        )
    frame, counts = seg.transactions_frame(table)
    reasons = (table.report or {}).get("rejected_by_reason") or {}
    if len(table.rejects):
        detail = ", ".join(f"{reason}: {n:,}" for reason, n in list(reasons.items())[:4])
        console.warn(
            f"{len(table.rejects):,} input row(s) rejected by cleaning"
            + (f" ({detail})" if detail else "")
            + "; `mktai ingest` writes them to a rejects file"
        )
    console.info(
        f"read {counts['rows']:,} transaction rows from {table.describe()} "
        f"({counts['rows_without_customer']:,} without customer id, "
        f"{counts['rows_rejected_by_cleaning']:,} rejected by cleaning)"
    )
    feature_frame = _features(customers, features, encoding) if customers is not None else None

    if options is None:
        assert model is not None
        stored = _load_model(ctx, store, model)
        result = stored.apply(
            frame,
            as_of=as_of_ts,
            clv=True if clv else None,
            horizon=horizon,
            discount=discount,
            features=feature_frame,
        )
        result.summary["model"] = model
        fitted = stored
    else:
        options.features = feature_frame
        result = seg.segment_customers(frame, options)
        fitted = result.model
    result.summary["input"] = counts

    if compare_to is not None:
        assert fitted is not None
        previous = _previous_segments(compare_to, fitted, maps, encoding)
        from mktai.tasks.rfm_scores import segment_order

        order = segment_order(fitted.segment_map)
        matrix = seg.migration_matrix(previous, result.customers, order)
        result.summary["migration"] = seg.migration_summary(matrix, str(compare_to))

    for message in result.warnings:
        console.warn(message)
    write_table(result.customers, output)
    if output is not None:
        console.info(f"wrote {len(result.customers):,} customers to {output}")
    if report is not None:
        from mktai.tasks.segment_report import write_report

        write_report(report, seg.finite(result.summary), result.customers, seed=seed)
        console.info(f"wrote report {report}")
    _print_summary(result.summary)
    if json_out:
        console.print_json(seg.finite(result.summary))


def _parse_date(text: str | None) -> Any:
    if text is None:
        return None
    import pandas as pd

    from mktai.errors import UsageError

    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError):
        raise UsageError(f"--as-of {text!r} is not a date; use YYYY-MM-DD") from None


def _load_model(ctx: typer.Context, store: Path | None, ref: str) -> Any:
    from mktai.cli.options import resolve_store
    from mktai.errors import UsageError
    from mktai.tasks.stored import load_stored

    version, _, model = load_stored(resolve_store(ctx, store), ref)
    if version.kind != "segments":
        raise UsageError(
            f"model {version.ref} is a {version.kind!r} model, not segments; "
            "train one with `mktai train segments DATA --name NAME`"
        )
    return model


def _features(customers: Path, features: str | None, encoding: str | None) -> pd.DataFrame:
    """customer + the requested numeric feature columns of a customers file."""
    import pandas as pd

    from mktai.data import load_table
    from mktai.errors import InputError, UsageError
    from mktai.tasks.rfm import customer_key

    if not features:
        raise UsageError("--customers needs --features col1,col2 naming its numeric columns")
    table = load_table(customers, kind="customers", encoding=encoding)
    table.require("customer")
    names = [f.strip() for f in features.split(",") if f.strip()]
    out = pd.DataFrame({"customer": customer_key(table.col("customer"))})
    from mktai.data.schema import normalise_name

    for name in names:
        column = name if name in table.frame.columns else normalise_name(name)
        if column not in table.frame.columns:
            raise InputError(
                f"{customers}: no column {name!r} for --features "
                f"(columns: {', '.join(map(str, table.frame.columns[:20]))})"
            )
        values = pd.to_numeric(table.frame[column], errors="coerce")
        if values.notna().sum() == 0:
            raise InputError(f"{customers}: feature column {name!r} has no numeric values")
        out[column] = values.to_numpy(dtype="float64")
    duplicated = out["customer"].duplicated()
    if duplicated.any():
        raise InputError(
            f"{customers}: customer id {out.loc[duplicated, 'customer'].iloc[0]!r} appears more "
            "than once; one row per customer is needed for --features"
        )
    return out


def _previous_segments(
    path: Path, fitted: Any, mapping: dict[str, str], encoding: str | None
) -> pd.DataFrame:
    """customer + segment of the previous run.

    A file with `customer` and `segment` columns is a previous `mktai segment` output and is used
    as it is; anything else is read as transactions and scored with the same edges, map and
    centroids as this run (its own as-of: the day after its last date).
    """
    import pandas as pd

    from mktai.data import load_table
    from mktai.tasks import segment as seg

    table = load_table(path, encoding=encoding)
    columns = set(map(str, table.frame.columns))
    if {"customer", "segment"} <= columns:
        return pd.DataFrame(
            {"customer": table.frame["customer"], "segment": table.frame["segment"]}
        )
    tx = load_table(path, kind="transactions", mapping=mapping, encoding=encoding)
    frame, _ = seg.transactions_frame(tx)
    has_clusters = fitted.clusters is not None and all(
        f in ("recency", "frequency", "monetary") for f in fitted.clusters.features
    )
    model = fitted if has_clusters or fitted.clusters is None else _without_clusters(fitted)
    return model.apply(frame, clv=False).customers[["customer", "segment"]]


def _without_clusters(fitted: Any) -> Any:
    import dataclasses

    return dataclasses.replace(fitted, clusters=None)


def _print_summary(summary: dict[str, Any]) -> None:
    """Segments, clusters, CLV and migration tables on stderr (silenced by --quiet)."""
    from rich.table import Table

    from mktai.cli import console
    from mktai.tasks.segment_report import tables

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


def demo_step(tour: Tour) -> None:
    """Segment the sample with CLV; store a segments model; re-score a past snapshot with it
    and print the migration matrix from that snapshot to today (the monthly cron pattern)."""
    sample = str(tour.sample_data / "transactions_sample.csv")
    seed = str(tour.seed)
    customers = tour.output("segment: customers", tour.out / "customers_segments.csv")
    report = tour.output("segment: report", tour.out / "segments_report.html")
    tour.run("segment", sample, "--clv", "--horizon", "90", "--seed", seed,
             "-o", str(customers), "--report", str(report))  # fmt: skip
    tour.run("train", "segments", sample, "--name", "rfm", "--seed", seed)
    october = tour.output("segment: 2011-10 snapshot", tour.out / "customers_2011-10.csv")
    tour.run("segment", sample, "--model", "rfm", "--as-of", "2011-11-01", "-o", str(october))
    scored = tour.output("segment: with model rfm", tour.out / "customers_scored.csv")
    tour.run("segment", sample, "--model", "rfm", "--compare-to", str(october),
             "-o", str(scored))  # fmt: skip
