"""The CLI's rendering of the api's progress callback: one short line per step on stderr.

api functions call `progress(label, done, total)` (total may be None); training reports each CV
fold ("CV fold 2/5: gbm, 87 rounds") and the final fit. Plain lines rather than a live bar, so
logs of cron jobs and CI keep them; --quiet silences them (warnings still show).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def printer() -> Callable[[str, int, int | None], None] | None:
    """A progress callback writing to stderr, or None under --quiet (the api then skips it)."""
    from mktai.cli import console

    if console.is_quiet():
        return None
    start = time.monotonic()

    def show(label: str, done: int, total: int | None) -> None:
        from rich.markup import escape

        elapsed = time.monotonic() - start  # labels carry their own counts (CV fold 2/5)
        console.info(f"[dim]{elapsed:6.1f}s[/dim] {escape(label)}")

    return show
