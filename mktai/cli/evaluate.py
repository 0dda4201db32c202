"""`mktai evaluate --model NAME --data holdout.csv`: metrics, reports and CI gates.

A thin shell over `evaluate_model`: evaluate a stored version on labelled data (the family's
own metrics), optionally re-evaluate a baseline version on the same data (--compare-to previous
or name@v), apply --fail-under / --max-drop gates, record the result in the version's manifest,
and write JSON / Markdown / HTML reports and JUnit XML. A failing gate exits 1 naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli.options import EncodingOpt, JsonOpt, MapOpt, QuietOpt, StoreOpt

if TYPE_CHECKING:
    from mktai.cli.demo import Tour


def _baseline_ref(store, version, compare_to: str) -> str | None:
    """'previous' -> the newest older version of the same name (None if there is none)."""
    if compare_to != "previous":
        return compare_to
    older = [n for n in store.versions(version.name) if n < version.version]
    return f"{version.name}@v{older[-1]}" if older else None


def _evaluate_version(store_root: Path, ref: str, table) -> tuple[Any, dict, dict[str, float]]:
    from mktai.evaluation.metrics import flat_metrics
    from mktai.tasks.stored import load_stored

    version, _module, model = load_stored(store_root, ref)
    result = model.evaluate(table)
    return version, result, flat_metrics(result)


def evaluate_model(
    store_root: Path,
    ref: str,
    data: Path | str,
    *,
    fail_under: list[str] | None = None,
    max_drop: list[str] | None = None,
    compare_to: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """The canonical report dict (see mktai.evaluation.report); recorded in the manifest."""
    from mktai.errors import MktaiError, UsageError
    from mktai.evaluation import gates as eg
    from mktai.evaluation.metrics import flat_metrics
    from mktai.evaluation.report import build_report, comparison_table
    from mktai.store import Store
    from mktai.tasks.stored import load_for, load_stored

    under = eg.parse_specs(fail_under, "--fail-under")
    drops = eg.parse_specs(max_drop, "--max-drop")
    if drops and not compare_to:
        raise UsageError("--max-drop needs --compare-to previous or --compare-to NAME@vN")
    store = Store(store_root)
    version, module, model = load_stored(store_root, ref)
    target = version.manifest.get("target")
    if "target" in (mapping or {}):  # --map target=COLUMN names the outcome in this file
        target = None
    table = load_for(version.kind, data, module=module, mapping=mapping, encoding=encoding,
                     target=target if isinstance(target, str) else None,
                     target_from=f"the target {version.ref} was trained on")  # fmt: skip
    result = model.evaluate(table)
    metrics = flat_metrics(result)
    # a metric the model reports but that is undefined on this data (ROC AUC of a file with one
    # class) fails its gate as n/a instead of being called unknown
    undefined = {k: None for k, v in (result.get("metrics") or {}).items() if v is None}
    gated = {**undefined, **metrics}
    eg.check_names(gated, (under, "--fail-under"), (drops, "--max-drop"))
    warnings = list(version.manifest.get("warnings") or [])
    warnings = [w for w in warnings if "target leak" in w]
    if len(table.rejects):
        warnings.append(f"{len(table.rejects)} row(s) of the evaluation data were rejected")
    for column, count in (result.get("unseen_categories") or {}).items():
        warnings.append(f"column {column!r}: {count} value(s) never seen in training")

    baseline_metrics, comparison, baseline = None, None, None
    if compare_to:
        baseline = _baseline_ref(store, version, compare_to)
        if baseline is None:
            warnings.append(
                f"no version of {version.name} older than {version.ref} to compare with"
            )
        else:
            try:
                base_version, _r, baseline_metrics = _evaluate_version(store_root, baseline, table)
            except MktaiError as exc:
                raise type(exc)(f"baseline {baseline}: {exc}") from None
            if base_version.kind != version.kind:
                raise UsageError(
                    f"--compare-to {baseline} is a {base_version.kind} model, "
                    f"{version.ref} a {version.kind} model"
                )
            baseline = base_version.ref
            comparison = comparison_table(metrics, baseline_metrics, baseline)
    gates = eg.fail_under(gated, under) + eg.max_drop(gated, baseline_metrics, drops, baseline)
    fingerprint = dict(table.fingerprint)
    report = build_report(
        model={
            "ref": version.ref,
            "kind": version.kind,
            "algorithm": version.manifest.get("algorithm"),
            "created_at": version.manifest.get("created_at"),
            "training_data": version.manifest.get("training_data"),
            "threshold": version.manifest.get("threshold"),
            "importance": (version.manifest.get("permutation_importance") or [])[:10],
        },
        data={
            "sources": list(table.sources),
            "rows": int(len(table.frame)),
            **fingerprint,
            "rows_rejected": int(len(table.rejects)),
        },  # fmt: skip
        evaluation=result,
        metrics=metrics,
        gates=[g.to_dict() for g in gates],
        comparison=comparison,
        warnings=warnings,
    )
    if record:
        store.record_evaluation(
            version.ref,
            {
                "data": {"sources": list(table.sources), **fingerprint},
                "metrics": metrics,
                "gates": [{"name": g.name, "passed": g.passed, "value": g.value} for g in gates],
                "passed": report["passed"],
                "compared_to": baseline,
            },
        )
    return report


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
    """Evaluate a stored model on labelled data; reports for CI and gates on the exit code."""
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
    result = evaluate_model(
        resolve_store(ctx, store),
        model,
        data,
        fail_under=fail_under,
        max_drop=max_drop,
        compare_to=compare_to,
        mapping=parse_mapping(mapping),
        encoding=encoding,
    )
    for warning in result["warnings"]:
        console.warn(warning)
    print_summary(result)
    written = er.write_reports(result, report or [])
    if junit is not None:
        er.write_text_atomic(junit, er.render_junit(result))
        written.append(junit)
    for path in written:
        console.info(f"wrote {path}")
    if resolve_flag(ctx, "json", json_out):
        summary = {k: v for k, v in result.items() if k != "evaluation"}
        summary["evaluation"] = {k: v for k, v in result["evaluation"].items() if k != "curves"}
        console.print_json(summary)
    if not result["passed"]:
        from mktai.evaluation.gates import Gate, failure_message

        raise GateFailed(failure_message([Gate(**g) for g in result["gates"]]))


def demo_step(tour: Tour) -> None:
    """Evaluate the demo propensity model on the holdout split with reports and a gate."""
    holdout = tour.out / "bank_holdout.csv"
    html_report, md_report = tour.out / "evaluation.html", tour.out / "evaluation.md"
    junit = tour.out / "evaluation-junit.xml"
    tour.run("evaluate", "--model", "response", "--data", str(holdout),
             "--report", str(html_report), "--report", str(md_report), "--junit", str(junit),
             "--fail-under", "roc_auc=0.80")  # fmt: skip
    tour.output("evaluation report (HTML)", html_report)
    tour.output("evaluation report (Markdown)", md_report)
    tour.output("JUnit gates", junit)
