"""Evaluation reports: JSON is canonical; Markdown, HTML and JUnit XML are renderings of it.

The Markdown fits a CI job summary or a pull-request comment; the HTML is one self-contained file
(inline CSS, plots as base64 PNG); the JUnit XML has one test case per gate so CI systems show
gates like tests.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mktai.errors import UsageError

REPORT_FORMAT = 1
FORMATS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html",
           ".htm": "html", ".xml": "junit"}  # fmt: skip
# Order in which headline metrics are shown; others follow alphabetically.
PREFERRED = ["roc_auc", "pr_auc", "accuracy", "balanced_accuracy", "precision", "recall", "f1",
             "log_loss", "brier", "mae", "rmse", "mape", "r2", "ndcg_at_10", "precision_at_10",
             "recall_at_10", "map_at_10", "hit_rate_at_10", "coverage_at_10"]  # fmt: skip


def build_report(
    *,
    model: dict[str, Any],
    data: dict[str, Any],
    evaluation: dict[str, Any],
    metrics: dict[str, float],
    gates: list[dict[str, Any]],
    comparison: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The canonical JSON report (what --json prints and what every rendering reads)."""
    from datetime import UTC, datetime

    from mktai import __version__

    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "report_format": REPORT_FORMAT,
        "created_at": now,
        "mktai_version": __version__,
        "model": model,
        "data": data,
        "metrics": metrics,
        "evaluation": evaluation,
        "comparison": comparison,
        "gates": gates,
        "passed": all(g.get("passed") for g in gates),
        "warnings": list(warnings or []),
    }


def comparison_table(
    current: dict[str, float], baseline: dict[str, float], baseline_ref: str
) -> dict[str, Any]:
    """Side-by-side metrics of this model and its baseline on the same data."""
    rows = {}
    for key in ordered_metrics(current):
        if key in baseline:
            rows[key] = {
                "current": current[key],
                "baseline": baseline[key],
                "delta": round(current[key] - baseline[key], 6),
            }
    return {"baseline": baseline_ref, "metrics": rows}


def ordered_metrics(metrics: dict[str, Any]) -> list[str]:
    first = [k for k in PREFERRED if k in metrics]
    return first + sorted(k for k in metrics if k not in first)


def report_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or fmt == "junit":
        raise UsageError(
            f"--report {path}: unknown report format {path.suffix or '(none)'}; "
            "use .json, .md or .html (JUnit XML goes to --junit)"
        )
    return fmt


def check_writable(path: Path, option: str) -> None:
    """Fail before any work (exit 2) when a report could not be written where asked."""
    path = Path(path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name")
    problem = None if parent.is_dir() else "is not a folder"
    if problem is None:
        try:  # a real probe: permission bits say nothing for root or special file systems
            fd, probe = tempfile.mkstemp(prefix=".mktai-probe.", dir=parent)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problem = f"is not writable: {exc.strerror or exc}"
    if problem:
        raise UsageError(f"{option} {path}: cannot write there ({parent} {problem})")


def write_text_atomic(path: Path, text: str) -> None:
    """Readers (a CI artifact upload, a browser) never see half a report."""
    from mktai.files import output_mode, write_atomic

    try:
        write_atomic(Path(path), text, mode=output_mode())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def to_json(report: dict[str, Any]) -> str:
    from mktai.files import dumps

    return dumps(report) + "\n"


def write_reports(report: dict[str, Any], paths: Iterable[Path]) -> list[Path]:
    """Write the report once per path, format from the extension."""
    paths = [Path(p) for p in paths]
    formats = [report_format(p) for p in paths]  # validate all before writing any
    renderers = {"json": to_json, "markdown": render_markdown, "html": render_html}
    for path, fmt in zip(paths, formats, strict=True):
        write_text_atomic(path, renderers[fmt](report))
    return paths


# --------------------------------------------------------------------------- Markdown


def format_metric(value: Any) -> str:
    """How every report and summary prints a metric: counts as 1,234, rates with 4 decimals."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 2:
            return f"{int(value):,}"
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def _md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    model, data, evaluation = report["model"], report["data"], report["evaluation"]
    status = "✅ all gates passed" if report["passed"] else "❌ gate(s) failed"
    if not report["gates"]:
        status = "no gates"
    lines = [
        f"## Evaluation of `{model.get('ref')}` ({model.get('kind')}, "
        f"{model.get('algorithm')}): {status}",
        "",
        f"Data: `{_md_escape(', '.join(data.get('sources', [])))}` — {data.get('rows')} rows"
        f" (sha256 `{str(data.get('sha256', ''))[:12]}`)",
        "",
    ]
    for warning in report.get("warnings", []):
        lines.append(f"> ⚠️ {_md_escape(warning)}")
    if report.get("warnings"):
        lines.append("")
    if report["gates"]:
        lines += ["### Gates", "", "| gate | result | detail |", "|---|---|---|"]
        for gate in report["gates"]:
            mark = "skipped" if gate.get("skipped") else ("pass" if gate["passed"] else "**FAIL**")
            lines.append(f"| `{gate['name']}` | {mark} | {_md_escape(gate['message'])} |")
        lines.append("")
    comparison = report.get("comparison")
    if comparison and comparison.get("metrics"):
        lines += [
            "### Metrics",
            "",
            f"| metric | this model | {comparison['baseline']} | change |",
            "|---|---:|---:|---:|",
        ]
        for key, row in comparison["metrics"].items():
            lines.append(
                f"| {key} | {format_metric(row['current'])} | {format_metric(row['baseline'])} | "
                f"{row['delta']:+.4f} |"
            )
    else:
        lines += ["### Metrics", "", "| metric | value |", "|---|---:|"]
        for key in ordered_metrics(report["metrics"]):
            lines.append(f"| {key} | {format_metric(report['metrics'][key])} |")
    lines.append("")
    matrix = evaluation.get("confusion_matrix")
    if matrix:
        labels = matrix["labels"]
        threshold = evaluation.get("threshold")
        title = "### Confusion matrix (rows: actual, columns: predicted"
        title += f", threshold {threshold:.3f})" if threshold is not None else ")"
        lines += [title, "", "| | " + " | ".join(map(str, labels)) + " |",
                  "|---|" + "---:|" * len(labels)]  # fmt: skip
        for label, row in zip(labels, matrix["matrix"], strict=True):
            lines.append(f"| **{label}** | " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    if evaluation.get("lift"):
        lines += [
            "### Decile lift and cumulative gains",
            "",
            "| decile | rows | positives | rate | lift | cumulative gain | cumulative lift |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in evaluation["lift"]:
            lines.append(
                f"| {row['decile']} | {row['rows']} | {row['positives']} | {format_metric(row['rate'])} | "
                f"{format_metric(row['lift'])} | {format_metric(row['cum_gain'])} | {format_metric(row['cum_lift'])} |"
            )
        lines.append("")
    importance = model.get("importance") or []
    if importance:
        lines += [
            "### Permutation importance (from training: drop in score when shuffled)",
            "",
            "| feature | importance | ± std |",
            "|---|---:|---:|",
        ]
        for row in importance:
            lines.append(
                f"| {_md_escape(row['feature'])} | {format_metric(row['importance'])} | {format_metric(row['std'])} |"
            )
        lines.append("")
    lines.append(f"<sub>mktai {report['mktai_version']}, {report['created_at']}</sub>")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 10px}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}.skip{color:#777}
.warn{background:#fff7e0;border-left:4px solid #f0b400;padding:.4em .8em;margin:.4em 0}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{margin:0}
figcaption{font-size:.85em;color:#555;text-align:center}.meta{color:#666;font-size:.9em}
"""


def html_document(title: str, body: Iterable[str]) -> str:
    """One self-contained HTML page in the house style: no external CSS, scripts or images."""
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>"
    )
    return "\n".join([head, *body, "</body></html>"])


def markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(headers: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i >= numeric_from else ""
            cells.append(f"<td{cls}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    """One self-contained HTML file: no external CSS, scripts or images."""
    from mktai.evaluation.plots import report_plots

    model, data, evaluation = report["model"], report["data"], report["evaluation"]
    parts = [
        f"<h1>Evaluation of <code>{_h(model.get('ref'))}</code></h1>",
        f"<p class='meta'>kind {_h(model.get('kind'))} · algorithm {_h(model.get('algorithm'))}"
        f" · data {_h(', '.join(data.get('sources', [])))} ({_h(data.get('rows'))} rows, sha256 "
        f"{_h(str(data.get('sha256', ''))[:12])}) · mktai {_h(report['mktai_version'])} · "
        f"{_h(report['created_at'])}</p>",
    ]
    for warning in report.get("warnings", []):
        parts.append(f"<div class='warn'>⚠ {_h(warning)}</div>")
    if report["gates"]:
        rows = []
        for gate in report["gates"]:
            if gate.get("skipped"):
                mark = "<span class='skip'>skipped</span>"
            elif gate["passed"]:
                mark = "<span class='pass'>pass</span>"
            else:
                mark = "<span class='fail'>FAIL</span>"
            rows.append([f"<code>{_h(gate['name'])}</code>", mark, _h(gate["message"])])
        parts += ["<h2>Gates</h2>", _html_table(["gate", "result", "detail"], rows, 99)]
    comparison = report.get("comparison")
    parts.append("<h2>Metrics</h2>")
    if comparison and comparison.get("metrics"):
        rows = [
            [_h(k), format_metric(r["current"]), format_metric(r["baseline"]), f"{r['delta']:+.4f}"]
            for k, r in comparison["metrics"].items()
        ]
        headers = ["metric", "this model", _h(comparison["baseline"]), "change"]
        parts.append(_html_table(headers, rows))
    else:
        rows = [
            [_h(k), format_metric(report["metrics"][k])] for k in ordered_metrics(report["metrics"])
        ]
        parts.append(_html_table(["metric", "value"], rows))
    plots = report_plots(evaluation)
    if plots:
        parts.append("<h2>Plots</h2><div class='plots'>")
        for title, png in plots.items():
            # the title is drawn inside the plot; a caption would repeat it
            parts.append(
                f"<figure><img alt='{_h(title)}' src='data:image/png;base64,{png}'></figure>"
            )
        parts.append("</div>")
    matrix = evaluation.get("confusion_matrix")
    if matrix:
        labels = matrix["labels"]
        rows = [
            [f"<b>{_h(label)}</b>", *row]
            for label, row in zip(labels, matrix["matrix"], strict=True)
        ]
        parts += [
            "<h2>Confusion matrix</h2><p class='meta'>rows: actual, columns: predicted"
            + (
                f", threshold {evaluation['threshold']:.3f}"
                if evaluation.get("threshold") is not None
                else ""
            )
            + "</p>",
            _html_table(["", *map(str, labels)], rows),
        ]
    if evaluation.get("lift"):
        rows = [
            [r["decile"], r["rows"], r["positives"], format_metric(r["rate"]), format_metric(r["lift"]),
             format_metric(r["cum_gain"]), format_metric(r["cum_lift"])]
            for r in evaluation["lift"]
        ]  # fmt: skip
        headers = ["decile", "rows", "positives", "rate", "lift", "cum. gain", "cum. lift"]
        parts += ["<h2>Decile lift and cumulative gains</h2>", _html_table(headers, rows, 0)]
    importance = model.get("importance") or []
    if importance:
        rows = [
            [_h(r["feature"]), format_metric(r["importance"]), format_metric(r["std"])]
            for r in importance
        ]
        parts += [
            "<h2>Permutation importance</h2><p class='meta'>from training: drop in score when "
            "the column is shuffled</p>",
            _html_table(["feature", "importance", "± std"], rows),
        ]
    return html_document(f"mktai evaluation: {model.get('ref')}", parts) + "\n"


# --------------------------------------------------------------------------- JUnit


def render_junit(report: dict[str, Any]) -> str:
    """JUnit XML: one <testcase> per gate; failed gates carry a <failure> with the message."""
    import xml.etree.ElementTree as ET

    gates = report["gates"]
    ref = str(report["model"].get("ref"))
    suite = ET.Element(
        "testsuite",
        {
            "name": f"mktai evaluate {ref}",
            "tests": str(len(gates)),
            "failures": str(sum(1 for g in gates if not g["passed"])),
            "skipped": str(sum(1 for g in gates if g.get("skipped"))),
            "errors": "0",
            "timestamp": str(report["created_at"]),
        },
    )
    for gate in gates:
        case = ET.SubElement(suite, "testcase", {"classname": f"mktai.gates.{ref}",
                                                 "name": gate["name"]})  # fmt: skip
        if gate.get("skipped"):
            ET.SubElement(case, "skipped", {"message": gate["message"]})
        elif not gate["passed"]:
            failure = ET.SubElement(case, "failure", {"message": gate["message"]})
            failure.text = gate["message"]
        out = ET.SubElement(case, "system-out")
        out.text = gate["message"]
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
