"""`mktai segment --report out.html|md|json`: segment sizes, revenue share and charts.

JSON is canonical (the summary itself); Markdown and HTML render from it. Charts (RFM heatmap,
cluster scatter) are drawn with matplotlib (imported lazily, Agg backend): embedded as base64
PNG in HTML, written as PNG files beside a Markdown report.
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
    lines = ["# Customer segments", ""]
    lines += [f"- {fact}" for fact in _facts(summary)]
    lines.append("")
    for title, header, rows in tables(summary):
        lines += [
            f"## {title}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
        ]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows
        ]
        lines.append("")
    for name, src in images.items():
        lines += [f"## {CHART_TITLES.get(name, name)}", "", f"![{name}]({src})", ""]
    return "\n".join(lines)


def _html(summary: dict[str, Any], images: dict[str, str]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Customer segments</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}td:first-child,th:first-child,.text{text-align:left}"
        "img{max-width:100%}</style></head><body>",
        "<h1>Customer segments</h1><ul>",
        *(f"<li>{e(fact)}</li>" for fact in _facts(summary)),
        "</ul>",
    ]
    for title, header, rows in tables(summary):
        css = ["" if h not in TEXT_COLUMNS else " class='text'" for h in header]
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
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- charts


def _charts(summary: dict[str, Any], customers: pd.DataFrame, seed: int) -> dict[str, bytes]:
    """PNG bytes of the RFM heatmap and the cluster scatter (missing matplotlib: no charts)."""
    import io

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return {}
    import numpy as np

    charts: dict[str, bytes] = {}

    def png(fig: Any) -> bytes:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        return buffer.getvalue()

    grid = np.array(summary["rfm_grid"]["counts"])
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    image = ax.imshow(grid[::-1], cmap="Blues", aspect="auto")
    ax.set_xticks(range(5), [str(i) for i in range(1, 6)])
    ax.set_yticks(range(5), [str(i) for i in range(5, 0, -1)])
    ax.set_xlabel("FM score (mean of frequency and monetary scores)")
    ax.set_ylabel("R score (5 = most recent)")
    ax.set_title("Customers by RFM score")
    names = summary["rfm_grid"].get("segments") or [[""] * 5 for _ in range(5)]
    for i in range(5):
        for j in range(5):
            value = grid[::-1][i, j]
            label = names[4 - i][j].replace(" ", "\n", 1)  # row 4 - i: R score 5 on top
            ax.text(
                j,
                i,
                f"{label}\n{value:,}" if label else f"{value:,}",
                ha="center",
                va="center",
                color="white" if value > grid.max() / 2 else "black",
                fontsize=7,
            )
    fig.colorbar(image, ax=ax, label="customers")
    charts["rfm_heatmap"] = png(fig)

    clustered = customers.loc[customers["cluster"].notna()]
    if len(clustered):
        rng = np.random.default_rng(seed)
        if len(clustered) > 5000:
            clustered = clustered.iloc[np.sort(rng.choice(len(clustered), 5000, replace=False))]
        fig, ax = plt.subplots(figsize=(7, 5))
        labels = clustered["cluster"].to_numpy(dtype="int64")
        names = dict(zip(clustered["cluster"].astype(int), clustered["cluster_name"], strict=False))
        for c in sorted(set(labels)):
            mask = labels == c
            ax.scatter(
                clustered["recency"].to_numpy()[mask] + 1,
                np.maximum(clustered["monetary"].to_numpy(dtype="float64")[mask], 0.01),
                s=6 + 4 * np.log1p(clustered["frequency"].to_numpy()[mask]),
                alpha=0.5,
                label=f"{c}: {names.get(c, '')}",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("recency + 1 (days, log)")
        ax.set_ylabel("monetary (log)")
        ax.set_title("Clusters (marker size ~ frequency)")
        ax.legend(fontsize=7, markerscale=2)
        charts["cluster_scatter"] = png(fig)
    return charts
