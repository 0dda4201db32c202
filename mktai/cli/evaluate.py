"""`mktai evaluate --model NAME --data holdout.csv`: metrics, reports and CI gates.

A thin shell over `mktai.api.evaluate` (gates, baseline, recorded result), writing JSON /
Markdown / HTML reports and JUnit XML. A failing gate exits 1 naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mktai.cli.options import EncodingOpt, JsonOpt, MapOpt, QuietOpt, StoreOpt


def print_summary(report: dict[str, Any]) -> None:
    from mktai.cli import console
    from mktai.evaluation.report import format_metric, ordered_metrics

    if console.is_quiet():
        return
    from rich.table import Table

    comparison = (report.get("comparison") or {}).get("metrics") or {}
    table = Table(title=f"evaluation of {report['model']['ref']}", box=None,
                  header_style="bold", pad_edge=False)  # fmt: skip
    table.add_column("metric")
    table.add_column("value", justify="right")
    if comparison:
        table.add_column(report["comparison"]["baseline"], justify="right")
        table.add_column("change", justify="right")
    for key in ordered_metrics(report["metrics"]):
        if key == "rows":
            continue
        row = [key, format_metric(report["metrics"][key])]
        if comparison:
            other = comparison.get(key)
            row += (
                [format_metric(other["baseline"]), f"{other['delta']:+.4f}"] if other else ["", ""]
            )
        table.add_row(*row)
    console.err_console().print(table)
    for gate in report["gates"]:
        mark = "skip" if gate.get("skipped") else ("pass" if gate["passed"] else "FAIL")
        colour = {"pass": "green", "FAIL": "red", "skip": "yellow"}[mark]
        console.info(f"[{colour}]{mark}[/{colour}] {gate['name']}: {gate['message']}")


def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Stored model: name, name@v3 or name@alias.")
    ],
    data: Annotated[Path, typer.Option("--data", "-d", help="Labelled evaluation data.")],
    report: Annotated[
        list[Path] | None,
        typer.Option("--report", help="Write a report (.json, .md or .html); repeatable."),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="JUnit XML with one test case per gate.")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="Gate metric=value, repeatable: exit 1 when worse (for log_loss, brier, mae, "
            "rmse, mape: when above).",
        ),
    ] = None,
    compare_to: Annotated[
        str | None,
        typer.Option("--compare-to", help="Baseline: 'previous' or NAME@vN, re-evaluated here."),
    ] = None,
    max_drop: Annotated[
        list[str] | None,
        typer.Option(
            "--max-drop", help="Gate metric=value: exit 1 when worse than the baseline by more."
        ),
    ] = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Evaluate a stored model on labelled data; reports for CI and gates on the exit code.

    Examples:

      mktai evaluate --model response --data holdout.csv --fail-under roc_auc=0.80

      mktai evaluate --model response --data holdout.csv --compare-to previous \\
          --max-drop roc_auc=0.02 --report report.html --junit junit.xml
    """
    from mktai.cli import console
    from mktai.cli.options import parse_mapping, resolve_flag, resolve_store
    from mktai.errors import GateFailed
    from mktai.evaluation import report as er

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    for path in report or []:
        er.report_format(path)  # a bad extension is a usage error before any work
        er.check_writable(path, "--report")
    if junit is not None:
        er.check_writable(junit, "--junit")
    from mktai.api.evaluate import evaluate as run_evaluate

    outcome = run_evaluate(
        model,
        data,
        store=resolve_store(ctx, store),
        fail_under=fail_under,
        max_drop=max_drop,
        compare_to=compare_to,
        mapping=parse_mapping(mapping),
        encoding=encoding,
    )
    result = outcome.report
    for warning in outcome.warnings:
        console.warn(warning)
    print_summary(result)
    written = er.write_reports(result, report or [])
    if junit is not None:
        er.write_text_atomic(junit, er.render_junit(result))
        written.append(junit)
    for path in written:
        console.info(f"wrote {path}")
    if resolve_flag(ctx, "json", json_out):
        console.print_json(outcome.to_dict())
    if not outcome.passed:
        from mktai.evaluation.gates import Gate, failure_message

        raise GateFailed(failure_message([Gate(**g) for g in result["gates"]]))
