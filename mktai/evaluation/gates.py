"""Evaluation gates for CI: --fail-under metric=value and --compare-to ... --max-drop metric=value.

A gate compares one metric with a limit. For metrics where lower is better (log_loss, brier, mae,
rmse, mape …) "fail under" means "fail when worse than", i.e. above the limit, and a drop is an
increase. Every gate becomes one JUnit test case.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mktai.errors import UsageError
from mktai.evaluation.metrics import LOWER_IS_BETTER

NA = "n/a: undefined on this data (e.g. ROC AUC needs both classes)"


@dataclass
class Gate:
    """The outcome of one gate."""

    name: str  # e.g. "fail-under roc_auc=0.9"
    metric: str
    kind: str  # "fail-under" | "max-drop"
    limit: float
    value: float | None
    passed: bool
    message: str
    baseline: float | None = None
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lower_is_better(metric: str) -> bool:
    name = metric.rsplit(".", 1)[-1].lower()
    # coverage_error_95: a forecast interval's distance to its nominal coverage
    return name in LOWER_IS_BETTER or name.startswith("coverage_error")


def parse_specs(items: list[str] | None, option: str) -> dict[str, float]:
    """['roc_auc=0.9', 'recall=0.5'] -> {'roc_auc': 0.9, 'recall': 0.5}; UsageError if malformed."""
    specs: dict[str, float] = {}
    for item in items or []:
        metric, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not metric.strip() or number is None:
            raise UsageError(f"{option} {item!r} must look like metric=number (e.g. roc_auc=0.9)")
        specs[metric.strip()] = number
    return specs


def _lookup(metrics: dict[str, float], metric: str, option: str) -> float | None:
    if metric in metrics:
        return metrics[metric]
    suffix = [k for k in metrics if k.endswith(f".{metric}")]
    if len(suffix) == 1:
        return metrics[suffix[0]]
    names = ", ".join(sorted(metrics)) or "none"
    raise UsageError(f"{option} names metric {metric!r}, which this model does not report: {names}")


def check_names(metrics: dict[str, float], *specs: tuple[dict[str, float], str]) -> None:
    """Fail early (exit 2) when a gate names a metric the evaluation does not produce."""
    for spec, option in specs:
        for metric in spec:
            _lookup(metrics, metric, option)


def fail_under(metrics: dict[str, float], specs: dict[str, float]) -> list[Gate]:
    """One gate per spec: the metric must not be worse than the limit."""
    gates = []
    for metric, limit in specs.items():
        value = _lookup(metrics, metric, "--fail-under")
        lower = lower_is_better(metric)
        name = f"fail-under {metric}={limit:g}"
        if value is None:
            gates.append(Gate(name, metric, "fail-under", limit, None, False, f"{metric} is {NA}"))
            continue
        passed = value <= limit if lower else value >= limit
        relation = "at most" if lower else "at least"
        message = f"{metric} {value:.4f} {'meets' if passed else 'fails'} {relation} {limit:g}"
        gates.append(Gate(name, metric, "fail-under", limit, value, passed, message))
    return gates


def max_drop(
    metrics: dict[str, float],
    baseline: dict[str, float] | None,
    specs: dict[str, float],
    baseline_ref: str | None,
) -> list[Gate]:
    """One gate per spec: the metric may be worse than the baseline's by at most the limit.

    Without a baseline (first version of a model) the gates are recorded as skipped and pass.
    """
    gates = []
    for metric, limit in specs.items():
        value = _lookup(metrics, metric, "--max-drop")
        name = f"max-drop {metric}={limit:g}"
        if baseline is None:
            gates.append(
                Gate(
                    name, metric, "max-drop", limit, value, True,
                    f"skipped: no baseline version to compare {metric} with", skipped=True,
                )
            )  # fmt: skip
            continue
        base = None if value is None else _lookup(baseline, metric, "--max-drop")
        if value is None or base is None:
            gates.append(
                Gate(name, metric, "max-drop", limit, value, False, f"{metric} is {NA}", base)
            )
            continue
        drop = (value - base) if lower_is_better(metric) else (base - value)
        passed = drop <= limit + 1e-12
        message = (
            f"{metric} {value:.4f} vs {base:.4f} in {baseline_ref}: "
            f"{'drop' if drop > 0 else 'change'} {abs(drop):.4f} "
            f"{'within' if passed else 'exceeds'} the allowed {limit:g}"
        )
        gates.append(Gate(name, metric, "max-drop", limit, value, passed, message, base))
    return gates


def failures(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if not g.passed]


def failure_message(gates: list[Gate]) -> str:
    """One sentence naming each failing metric (for the exit-1 error line)."""
    failed = failures(gates)
    parts = "; ".join(g.message for g in failed)
    return f"{len(failed)} evaluation gate(s) failed: {parts}"
