"""`mktai ingest`: being built."""

from __future__ import annotations

import typer


def ingest(ctx: typer.Context) -> None:
    """Not built yet."""
    from mktai.errors import UsageError

    raise UsageError("'mktai ingest' is not built yet")
