"""`mktai segment --report out.html|md|json`: segment sizes, revenue share and charts.

JSON is canonical (the summary itself); Markdown and HTML render from it in the house style of
mktai.evaluation.report. Charts (RFM heatmap, cluster scatter) come from mktai.evaluation.plots
(matplotlib Figure objects, no pyplot state: safe from several threads): embedded as base64 PNG
in HTML, written as PNG files beside a Markdown report.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMATS = (".html", ".htm", ".md", ".json")
CHART_TITLES = {"rfm_heatmap": "RFM heatmap", "cluster_scatter": "Cluster scatter"}
CHOSEN_BY = {
    "silhouette": "chosen by silhouette",
    "given": "k given",
    "stored model": "from the stored model",
}
TEXT_COLUMNS = ("name", "segment")  # left-aligned like the first column; numbers go right


def check_report_path(path: Path) -> str:
    """The report format suffix, or UsageError before any work is done."""
    from mktai.errors import UsageError

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--report {path}: use a .html, .md or .json file name")
    if path.is_dir():
        raise UsageError(f"--report {path} is a directory; give a file name such as report.html")
    return suffix


def write_report(
    path: Path,
    summary: dict[str, Any],
    customers: pd.DataFrame,
    *,
    seed: int = 0,
) -> Path:
    """Write the report in the format given by the extension; returns the path."""
    suffix = check_report_path(path)
    try:
        return _write(path, suffix, summary, customers, seed)
    except OSError as exc:
        from mktai.errors import InputError

        raise InputError(
            f"cannot write the report {path} ({exc.strerror or exc}); choose another --report"
        ) from None


def _write(
    path: Path, suffix: str, summary: dict[str, Any], customers: pd.DataFrame, seed: int
) -> Path:
    from mktai.data import write_json
    from mktai.evaluation.report import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        write_json(summary, path)
        return path
    charts = _charts(summary, customers, seed)
    if suffix == ".md":
        images = {}
        for name, png in charts.items():
            image = path.with_name(f"{path.stem}_{name}.png")
            image.write_bytes(png)  # written before the report that links to it
            images[name] = image.name
        text = _markdown(summary, images)
    else:
        images = {
            n: "data:image/png;base64," + base64.b64encode(p).decode() for n, p in charts.items()
        }
        text = _html(summary, images)
    write_text_atomic(path, text)
    return path


# --------------------------------------------------------------------------- tables


def _pct(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def tables(summary: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, shared by Markdown and HTML."""
    out = []
    out.append(
        (
            "Segments",
            [
                "segment",
                "customers",
                "share",
                "revenue",
                "revenue share",
                "mean R",
                "mean F",
                "mean M",
            ],
            [
                [
                    s["segment"],
                    _num(s["customers"]),
                    _pct(s["share"]),
                    _num(s["revenue"], 0),
                    _pct(s["revenue_share"]),
                    _num(s["mean_recency"]),
                    _num(s["mean_frequency"]),
                    _num(s["mean_monetary"]),
                ]
                for s in summary["segments"]
            ],
        )
    )
    clusters = summary.get("clusters") or {}
    if clusters.get("profiles"):
        out.append(
            (
                f"Clusters (k = {clusters['k']}, "
                + CHOSEN_BY.get(clusters.get("chosen_by"), str(clusters.get("chosen_by")))
                + ")",
                [
                    "cluster",
                    "name",
                    "customers",
                    "share",
                    "revenue share",
                    "mean R",
                    "mean F",
                    "mean M",
                ],
                [
                    [
                        str(p["cluster"]),
                        p["name"],
                        _num(p["customers"]),
                        _pct(p["share"]),
                        _pct(p["revenue_share"]),
                        _num(p.get("mean_recency")),
                        _num(p.get("mean_frequency")),
                        _num(p.get("mean_monetary")),
                    ]
                    for p in clusters["profiles"]
                ],
            )
        )
        if clusters.get("silhouette_by_k"):
            out.append(
                (
                    "Silhouette by k (sampled)",
                    ["k", "silhouette"],
                    [[k, f"{v:.4f}"] for k, v in clusters["silhouette_by_k"].items()],
                )
            )
    clv = summary.get("clv")
    if clv and "r" in clv:
        rows = [[name, _num(clv.get(name), 4)] for name in ("r", "alpha", "a", "b", "p", "q", "v")]
        rows += [
            ["horizon (days)", str(clv["horizon_days"])],
            ["expected purchases (all)", _num(clv["expected_purchases_total"])],
            ["expected value (all)", _num(clv["expected_value_total"], 0)],
            ["mean P(alive)", _num(clv["mean_p_alive"], 3)],
        ]
        out.append(
            (
                "CLV: BG/NBD (r, alpha, a, b; days) and Gamma-Gamma (p, q, v)",
                ["parameter", "value"],
                rows,
            )
        )
    migration = summary.get("migration")
    if migration:
        cols = migration["to"]
        out.append(
            (
                f"Segment migration ({migration.get('previous', 'previous run')} -> this run)",
                ["from \\ to", *cols],
                [
                    [row, *(_num(int(v)) for v in values)]
                    for row, values in zip(migration["from"], migration["counts"], strict=True)
                ],
            )
        )
    return out


def _facts(summary: dict[str, Any]) -> list[str]:
    facts = [
        f"{summary['customers']:,} customers, as of {summary['as_of']}",
        f"monetary = {summary['monetary_definition']}",
        f"recency = {summary['recency_definition']}",
        f"segment map: {summary.get('segment_map', 'default')}",
    ]
    # Excluded customers are not listed here: the warnings always include that count.
    facts += [f"warning: {w}" for w in summary.get("warnings", [])]
    return facts


def _markdown(summary: dict[str, Any], images: dict[str, str]) -> str:
    from mktai.evaluation.report import markdown_table

    lines = ["# Customer segments", ""]
    lines += [f"- {fact}" for fact in _facts(summary)]
    lines.append("")
    for title, header, rows in tables(summary):
        lines += [f"## {title}", "", *markdown_table(header, rows), ""]
    for name, src in images.items():
        lines += [f"## {CHART_TITLES.get(name, name)}", "", f"![{name}]({src})", ""]
    return "\n".join(lines)


def _html(summary: dict[str, Any], images: dict[str, str]) -> str:
    from mktai.evaluation.report import html_document

    e = html.escape
    parts = [
        "<h1>Customer segments</h1><ul>",
        *(f"<li>{e(fact)}</li>" for fact in _facts(summary)),
        "</ul>",
    ]
    for title, header, rows in tables(summary):
        css = [
            " class='text'" if i == 0 or h in TEXT_COLUMNS else " class='num'"
            for i, h in enumerate(header)
        ]
        parts.append(f"<h2>{e(title)}</h2><table><tr>")
        parts += [f"<th{c}>{e(h)}</th>" for c, h in zip(css, header, strict=True)]
        parts.append("</tr>")
        for row in rows:
            cells = "".join(f"<td{c}>{e(v)}</td>" for c, v in zip(css, row, strict=True))
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    for name, src in images.items():
        title = CHART_TITLES.get(name, name)
        parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='{src}'>")
    return html_document("Customer segments", parts)


# --------------------------------------------------------------------------- charts


def _charts(summary: dict[str, Any], customers: pd.DataFrame, seed: int) -> dict[str, bytes]:
    """PNG bytes of the RFM heatmap and the cluster scatter (drawn by mktai.evaluation.plots)."""
    import numpy as np

    from mktai.evaluation import plots

    grid = summary["rfm_grid"]
    charts = {"rfm_heatmap": plots.rfm_heatmap(grid["counts"], grid.get("segments"))}
    clustered = customers.loc[customers["cluster"].notna()]
    if len(clustered):
        rng = np.random.default_rng(seed)
        if len(clustered) > 5000:
            clustered = clustered.iloc[np.sort(rng.choice(len(clustered), 5000, replace=False))]
        names = dict(zip(clustered["cluster"].astype(int), clustered["cluster_name"], strict=False))
        charts["cluster_scatter"] = plots.cluster_scatter(
            clustered["recency"].to_numpy(),
            clustered["monetary"].to_numpy(dtype="float64"),
            clustered["frequency"].to_numpy(),
            clustered["cluster"].to_numpy(dtype="int64"),
            names,
        )
    return charts
