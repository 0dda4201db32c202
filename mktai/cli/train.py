"""`mktai train`: being built (see the issue tracker)."""

from __future__ import annotations

import typer


def train(ctx: typer.Context) -> None:
    """Not built yet: exits 2."""
    from mktai.errors import UsageError

    raise UsageError("'mktai train' is not built yet in this version of mktai")
