"""`mktai serve`: the stored models as an HTTP API (needs the `serve` extra).

A thin shell: the options go to `python -m mktai.serve` (as JSON in $MKTAI_SERVE_CONFIG),
which replaces this process; cli/ never imports serve/. Importing this module (for --help)
loads neither FastAPI nor pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mktai.cli.options import StoreOpt


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; beyond loopback a token is required.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes.")] = 1,
    models: Annotated[
        str | None,
        typer.Option("--models", help="Serve only these: NAME[@alias],... (default: --all)."),
    ] = None,
    all_models: Annotated[
        bool, typer.Option("--all", help="Serve every model in the store (the default).")
    ] = False,
    default_model: Annotated[
        str | None,
        typer.Option("--default-model", help="Model answering MLflow's POST /invocations."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file", help="File holding the bearer token (else $MKTAI_SERVE_TOKEN)."
        ),
    ] = None,
    max_body: Annotated[
        str, typer.Option("--max-body", help="Largest request body (413 beyond), e.g. 10MB.")
    ] = "10MB",
    max_rows: Annotated[
        int, typer.Option("--max-rows", help="Most rows or texts in one request (413 beyond).")
    ] = 100_000,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to read a request and answer it (504).")
    ] = 60.0,
    store: StoreOpt = None,
) -> None:
    """Serve the stored models over HTTP: predict, sentiment, segment, MLflow /invocations.

    Binds 127.0.0.1 by default; any other address needs a token (--token-file or
    $MKTAI_SERVE_TOKEN), which every endpoint but /livez and /readyz then requires. Aliases
    moved with `mktai models tag` are picked up without a restart; SIGTERM lets in-flight
    requests finish. API docs: http://HOST:PORT/docs.

    Examples:

      mktai serve --models response,reviews --default-model response

      curl -s -X POST localhost:8000/v1/models/response/predict -H 'content-type: text/csv' --data-binary @leads.csv

      MKTAI_SERVE_TOKEN=$(cat token) mktai serve --host 0.0.0.0 --workers 2 --all
    """
    import json
    import os
    import sys

    from mktai.cli.options import resolve_store
    from mktai.errors import UsageError, require

    if models and all_models:
        raise UsageError("give either --models NAME,... or --all, not both")
    options = {
        "store": str(resolve_store(ctx, store)),
        "host": host,
        "port": port,
        "workers": workers,
        "models": models or "",
        "all_models": all_models or not models,
        "default_model": default_model,
        "token_file": str(token_file) if token_file else None,
        "max_body": max_body,
        "max_rows": max_rows,
        "timeout": timeout,
    }
    require("fastapi", "serve")
    require("uvicorn", "serve")
    # cli/ and serve/ are independent layers: hand the options over and become the server
    os.environ["MKTAI_SERVE_CONFIG"] = json.dumps(options)
    argv = [sys.executable, "-m", "mktai.serve"]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # no exec on Windows: run it and pass its exit code on
        import subprocess

        raise SystemExit(subprocess.call(argv))
    os.execv(sys.executable, argv)
