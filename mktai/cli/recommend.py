"""`mktai recommend`: not built yet (no open issue schedules it)."""

from __future__ import annotations

import typer


def recommend(ctx: typer.Context) -> None:
    """Not built yet: exits 2. See DESIGN.md §4 for what it will do."""
    from mktai.errors import UsageError

    raise UsageError("'mktai recommend' is not built yet in this version of mktai")
