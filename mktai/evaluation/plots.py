"""Report plots as PNGs (ROC, PR, lift/gains, calibration, residuals, RFM heatmap, clusters).

matplotlib is imported inside the functions (Figure objects, no pyplot or display); each plot is drawn from
the curve data stored in the JSON report, so HTML is always a rendering of the canonical JSON.
"""

from __future__ import annotations

from typing import Any


def _figure(size: tuple[float, float] = (4.2, 3.4), dpi: int = 90):
    """A pyplot-free Figure: no global state, no display backend, safe in threads and servers."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    return None, fig, fig.subplots()


def png_bytes(fig: Any, *, tight: bool = False) -> bytes:
    """The figure as PNG bytes (bbox 'tight' crops to what is drawn)."""
    import io

    buffer = io.BytesIO()
    if tight:
        fig.savefig(buffer, format="png", bbox_inches="tight")
    else:
        fig.tight_layout()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _encode(_plt, fig) -> str:
    import base64

    return base64.b64encode(png_bytes(fig)).decode("ascii")


def roc_plot(curve: dict[str, list]) -> str:
    plt, fig, ax = _figure()
    ax.plot(curve["fpr"], curve["tpr"], color="#1f77b4", label="model")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    return _encode(plt, fig)


def pr_plot(curve: dict[str, list], base_rate: float | None) -> str:
    plt, fig, ax = _figure()
    ax.plot(curve["recall"], curve["precision"], color="#1f77b4", label="model")
    if base_rate is not None:
        ax.axhline(base_rate, linestyle="--", color="grey", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    ax.legend(loc="upper right")
    return _encode(plt, fig)


def gains_plot(lift: list[dict[str, Any]]) -> str:
    plt, fig, ax = _figure()
    xs = [0.0] + [row["cum_rows_share"] for row in lift]
    ys = [0.0] + [row["cum_gain"] or 0.0 for row in lift]
    ax.plot(xs, ys, marker="o", color="#1f77b4", label="model")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax2 = ax.twinx()
    ax2.bar([row["cum_rows_share"] - 0.05 for row in lift], [row["lift"] or 0 for row in lift],
            width=0.08, alpha=0.25, color="#ff7f0e")  # fmt: skip
    ax2.set_ylabel("decile lift")
    ax.set(xlabel="share of rows contacted (best first)", ylabel="share of positives",
           title="Cumulative gains and lift")  # fmt: skip
    ax.legend(loc="lower right")
    return _encode(plt, fig)


def calibration_plot(curve: dict[str, list]) -> str:
    plt, fig, ax = _figure()
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    ax.plot(curve["mean_predicted"], curve["fraction_positive"], marker="o", label="model")
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="Calibration")
    ax.legend(loc="upper left")
    return _encode(plt, fig)


def residual_plot(curve: dict[str, list]) -> str:
    plt, fig, ax = _figure()
    ax.scatter(curve["predicted"], curve["residual"], s=6, alpha=0.5)
    ax.axhline(0, color="grey", linestyle="--")
    ax.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals")
    return _encode(plt, fig)


def report_plots(evaluation: dict[str, Any]) -> dict[str, str]:
    """{title: base64 PNG} for every plot the evaluation has data for."""
    curves = evaluation.get("curves") or {}
    plots: dict[str, str] = {}
    if "roc" in curves:
        plots["ROC curve"] = roc_plot(curves["roc"])
    if "pr" in curves:
        rate = (evaluation.get("metrics") or {}).get("positive_rate")
        plots["Precision-recall curve"] = pr_plot(curves["pr"], rate)
    if evaluation.get("lift"):
        plots["Cumulative gains and lift"] = gains_plot(evaluation["lift"])
    if "calibration" in curves:
        plots["Calibration"] = calibration_plot(curves["calibration"])
    if "residuals" in curves:
        plots["Residuals"] = residual_plot(curves["residuals"])
    return plots


def rfm_heatmap(counts: list[list[int]], names: list[list[str]] | None) -> bytes:
    """Customers per (R score, FM score) cell, R 5 on top, each cell named by its segment."""
    import numpy as np

    grid = np.array(counts)
    _, fig, ax = _figure((7.5, 5.5), 100)
    image = ax.imshow(grid[::-1], cmap="Blues", aspect="auto")
    ax.set_xticks(range(5), [str(i) for i in range(1, 6)])
    ax.set_yticks(range(5), [str(i) for i in range(5, 0, -1)])
    ax.set_xlabel("FM score (mean of frequency and monetary scores)")
    ax.set_ylabel("R score (5 = most recent)")
    ax.set_title("Customers by RFM score")
    names = names or [[""] * 5 for _ in range(5)]
    for i in range(5):
        for j in range(5):
            value = grid[::-1][i, j]
            label = names[4 - i][j].replace(" ", "\n", 1)  # row 4 - i: R score 5 on top
            ax.text(j, i, f"{label}\n{value:,}" if label else f"{value:,}", ha="center",
                    va="center", color="white" if value > grid.max() / 2 else "black",
                    fontsize=7)  # fmt: skip
    fig.colorbar(image, ax=ax, label="customers")
    return png_bytes(fig, tight=True)


def cluster_scatter(
    recency: Any, monetary: Any, frequency: Any, labels: Any, names: dict[int, str]
) -> bytes:
    """Recency against monetary value (log-log), one colour per cluster, size by frequency."""
    import numpy as np

    _, fig, ax = _figure((7, 5), 100)
    labels = np.asarray(labels, dtype="int64")
    for c in sorted(set(labels.tolist())):
        mask = labels == c
        ax.scatter(np.asarray(recency)[mask] + 1,
                   np.maximum(np.asarray(monetary, dtype="float64")[mask], 0.01),
                   s=6 + 4 * np.log1p(np.asarray(frequency)[mask]), alpha=0.5,
                   label=f"{c}: {names.get(c, '')}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("recency + 1 (days, log)")
    ax.set_ylabel("monetary (log)")
    ax.set_title("Clusters (marker size ~ frequency)")
    ax.legend(fontsize=7, markerscale=2)
    return png_bytes(fig, tight=True)
