"""Report plots as base64 PNGs (ROC, PR, lift/gains, calibration, residuals).

matplotlib is imported inside the functions (Figure objects, no pyplot or display); each plot is drawn from
the curve data stored in the JSON report, so HTML is always a rendering of the canonical JSON.
"""

from __future__ import annotations

from typing import Any


def _figure():
    """A pyplot-free Figure: no global state, no display backend, safe inside any process."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.4), dpi=90)
    return None, fig, fig.subplots()


def _encode(_plt, fig) -> str:
    import base64
    import io

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


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
