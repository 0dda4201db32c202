"""History, forecast and intervals as small multiples (PNG, or one self-contained HTML page).

Uses matplotlib's object API (Figure + Agg canvas), never pyplot's global state, so it is safe
in a server and in tests. Panels come in the order given (the caller puts the worst-backtesting
series first); at most MAX_PANELS are drawn and the page says how many were left out.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from mktai.errors import UsageError

MAX_PANELS = 12
HISTORY_POINTS = 120


def check_plot_path(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise UsageError(f"--plot {path}: use a .png or .html file name")
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise UsageError(f"--plot {path}: directory {parent} does not exist")
    return "png" if suffix == ".png" else "html"


def render_png(panels: list[dict[str, Any]], levels: list[int], title: str) -> bytes:
    """panels: {name, hist_x, hist_y, x, forecast, bands: {level: (lo, hi)}, note}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = panels[:MAX_PANELS]
    cols = 1 if len(shown) == 1 else (2 if len(shown) <= 4 else 3)
    rows = max(1, -(-len(shown) // cols))
    fig = Figure(figsize=(5.2 * cols, 2.8 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for k, p in enumerate(shown):
        ax = fig.add_subplot(rows, cols, k + 1)
        hx, hy = p["hist_x"][-HISTORY_POINTS:], p["hist_y"][-HISTORY_POINTS:]
        ax.plot(hx, hy, color="#333333", linewidth=1.0, label="history")
        shades = ["#9ecae1", "#c6dbef", "#deebf7"]
        for i, lv in enumerate(sorted(levels, reverse=True)):
            lo, hi = p["bands"][lv]
            ax.fill_between(p["x"], lo, hi, color=shades[min(i, 2)], label=f"{lv}%")
        ax.plot(p["x"], p["forecast"], color="#08519c", linewidth=1.4, label="forecast")
        ax.set_title(f"{p['name']}  {p.get('note', '')}".strip(), fontsize=9)
        ax.tick_params(labelsize=7)
        for label in ax.get_xticklabels():
            label.set_rotation(30)
        if k == 0:
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _atomic(path: Path, payload: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_plot(path: Path, panels: list[dict[str, Any]], levels: list[int], title: str) -> None:
    """Write the PNG, or an HTML page embedding it (base64) with a short legend."""
    fmt = check_plot_path(path)
    png = render_png(panels, levels, title)
    if fmt == "png":
        _atomic(path, png)
        return
    left = len(panels) - min(len(panels), MAX_PANELS)
    more = f"<p>{left} more series not drawn.</p>" if left else ""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1><p>History (black), forecast (blue) and "
        f"{', '.join(f'{lv}%' for lv in levels)} prediction intervals; worst-backtesting "
        "series first.</p>"
        f"<img alt='forecast plot' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"{more}</body></html>"
    )
    _atomic(path, page.encode("utf-8"))
