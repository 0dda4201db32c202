"""`mktai serve`: the stored models as an HTTP service (FastAPI + uvicorn, the `serve` extra).

    config.py   ServeConfig: options, token and limits (light: no web framework imported)
    cache.py    ModelCache: models loaded once, verified, re-resolved cheaply per request
    bodies.py   request bodies -> rows for the cleaning layer (JSON records, MLflow, CSV)
    errors.py   mktai.errors -> HTTP status and the {"error", "detail"} body
    guard.py    ASGI middleware: bearer token, body limit, timeout, access log
    app.py      the FastAPI application and its routes
    run.py      uvicorn with one or N worker processes, graceful shutdown

serve/ calls mktai.api only (never mktai.cli).
"""
