"""`evaluate`: a stored model on labelled data, with gates, a baseline and a recorded result.

Evaluates a version on data with known outcomes (the family's own metrics), optionally
re-evaluates a baseline version on the same data (compare_to "previous" or NAME@vN), applies
fail_under / max_drop gates and records the result in the version's manifest. The report dict
is canonical (mktai.evaluation.report renders JSON / Markdown / HTML / JUnit from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mktai.api.result import Result, store_root


@dataclass
class EvaluateResult(Result):
    """passed is False when a gate failed; report is the canonical report dict."""

    ref: str
    passed: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report without its bulky curves (what --json prints)."""
        summary = {k: v for k, v in self.report.items() if k != "evaluation"}
        evaluation = self.report.get("evaluation") or {}
        summary["evaluation"] = {k: v for k, v in evaluation.items() if k != "curves"}
        return summary


def evaluate(
    model: str,
    data: Path | str,
    *,
    store: Path | str | None = None,
    fail_under: list[str] | None = None,
    max_drop: list[str] | None = None,
    compare_to: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    record: bool = True,
) -> EvaluateResult:
    """Evaluate MODEL on DATA; gates are "metric=value" strings (as --fail-under takes)."""
    report = _evaluate_model(store_root(store), model, data, fail_under=fail_under,
                             max_drop=max_drop, compare_to=compare_to, mapping=mapping,
                             encoding=encoding, record=record)  # fmt: skip
    return EvaluateResult(ref=report["model"]["ref"], passed=bool(report["passed"]),
                          metrics=report["metrics"], gates=report["gates"], report=report,
                          warnings=list(report.get("warnings") or []))  # fmt: skip


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


def _evaluate_model(
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
    table = load_for(version.kind, data, mapping=mapping, encoding=encoding,
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
