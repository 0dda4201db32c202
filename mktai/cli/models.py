"""`mktai models`: being built."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage stored model versions.", no_args_is_help=True)


@app.command("list")
def list_models() -> None:
    """List stored models."""
    from mktai.errors import UsageError

    raise UsageError("'mktai models' is not built yet")
