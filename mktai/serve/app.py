"""The FastAPI application: health, model listing, per-family routes and MLflow scoring.

Route handlers read the raw body (size already limited by guard.py), turn it into rows or texts
(bodies.py), and call mktai.api in the thread pool with a model from the ModelCache. Every
response names the version that answered (body "model" and header X-Mktai-Model); every
error is {"error": the CLI's one-line message, "detail": {...}} with a 4xx/5xx status.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from mktai import __version__
from mktai.api.loaded import (
    BUILTIN,
    InMemory,
    LoadedModel,
    example_rows,
    predict_rows,
    predict_small,
    sentiment_texts,
)
from mktai.errors import MktaiError, UsageError
from mktai.serve import bodies
from mktai.serve.cache import ModelCache
from mktai.serve.config import ServeConfig
from mktai.serve.errors import error_body, internal_error_body, mktai_error_body
from mktai.serve.guard import Abandoned, Guard, stage_check
from mktai.serve.lane import Quick, QuickLane

QUICK_BODY = 64 * 1024  # JSON bodies up to this size may be scored on the event loop
JSON_OR_CSV = {
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "text/csv": {"schema": {"type": "string"}},
    }
}
PREDICT_BODY = {
    "requestBody": {
        "description": 'Rows as {"records": [{"age": 41, "job": "admin.", ...}]}, any MLflow '
        "payload (dataframe_split, dataframe_records, instances, inputs), or a CSV body.",
        "required": True,
        **JSON_OR_CSV,
    }
}
SENTIMENT_BODY = {
    "requestBody": {
        "description": '{"texts": ["Great product", "质量很差"], "lang": "auto", "explain": false}',
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

RECOMMEND_BODY = {
    "requestBody": {
        "description": '{"user": "42", "n": 10} or {"users": ["42", "7"], "n": 10, '
        '"include_seen": false, "exclude_items": ["85123A"]}',
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
SIMILAR_BODY = {
    "requestBody": {
        "description": '{"item": "85123A", "n": 10}',
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
FORECAST_BODY = {
    "requestBody": {
        "description": '{"horizon": 13, "levels": [80, 95]} (optionally "records": recent rows '
        "of the series, read like the training file)",
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


class Readiness:
    """Warm-up state: every served model loaded, verified and answering once."""

    def __init__(self, cache: ModelCache, default_model: str | None) -> None:
        self.cache = cache
        self.default_model = default_model
        self.state: dict[str, str] = {}
        self.started = False
        self.lock = threading.Lock()

    def warm_all(self) -> None:
        refs = [BUILTIN, *self.cache.default_refs()]
        with self.lock:
            for ref in refs:
                self.state.setdefault(ref, "loading")
            self.started = True
        for ref in refs:
            self.warm(ref)
        _freeze_heap()

    def warm(self, ref: str) -> None:
        try:
            loaded = self.cache.get(ref)
            warm_up(loaded)
            self.state[ref] = "ok"
        except MktaiError as exc:
            self.state[ref] = str(exc)
        except Exception as exc:  # a bug in a family: reported, never raised into the server
            self.state[ref] = internal_error_body(exc)[1]["error"]

    def check(self) -> tuple[bool, dict[str, str]]:
        if not self.started:
            return False, {}
        for ref, state in list(self.state.items()):
            if state != "ok" and state != "loading":
                self.warm(ref)  # cheap when nothing changed on disk (the failure is cached)
        ready = all(s == "ok" for s in self.state.values())
        return ready, dict(self.state)


def _freeze_heap() -> None:
    """Move everything alive after the warm-up (the models, the libraries' module state) out
    of the cyclic garbage collector's reach: a full collection otherwise walks those millions of
    long-lived objects in the middle of some request, a pause of tens of milliseconds that shows
    up as the p99 latency. Objects made later (requests, a model loaded when an alias moves)
    are collected as usual."""
    import gc

    gc.collect()
    gc.freeze()


def warm_up(loaded: LoadedModel) -> None:
    """One prediction on an example built from the model's stored input schema."""
    if loaded.kind == "sentiment":
        sentiment_texts(loaded, ["good value, fast delivery"])
    elif loaded.kind == "recommender":
        from mktai.api.loaded import recommend_users

        recommend_users(loaded, ["mktai-warm-up"], n=1)  # an unknown user: popularity
    elif callable(getattr(loaded.fitted, "predict", None)) and loaded.manifest.get("input_schema"):
        # reuse_plans=False: the example's cells (medians such as 0.0 for a yes/no column)
        # must not decide the column types later requests are read with
        predict_rows(loaded, InMemory(example_rows(loaded), "warm-up example"), reuse_plans=False)


def create_app(config: ServeConfig | None = None) -> Any:
    """The ASGI application (FastAPI wrapped in the Guard middleware)."""
    config = config or ServeConfig.from_env()
    cache = ModelCache(config.store, config.models, all_models=config.all_models,
                       verify_every=config.verify_every)  # fmt: skip
    readiness = Readiness(cache, config.default_model)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        thread = threading.Thread(target=readiness.warm_all, name="mktai-warm-up", daemon=True)
        thread.start()
        yield

    app = FastAPI(title="mktai", version=__version__, lifespan=lifespan,
                  description="Stored mktai models over HTTP (`mktai serve`).")  # fmt: skip
    app.state.cache = cache
    app.state.config = config
    app.state.readiness = readiness
    _error_handlers(app)
    _health_routes(app, readiness)
    quick = _model_routes(app, cache, config)
    lane = QuickLane(app, quick, default_model=config.default_model, limit=QUICK_BODY)
    return Guard(lane, token=config.token(), max_body=config.max_body, timeout=config.timeout,
                 log=config.log_requests)  # fmt: skip


def factory() -> Any:
    """uvicorn --factory entry point for worker processes (config from the environment)."""
    return create_app(ServeConfig.from_env())


# --------------------------------------------------------------------------- responses
def answer(payload: dict[str, Any], loaded: LoadedModel | None = None, status: int = 200):
    headers = {"X-Mktai-Model": loaded.ref} if loaded is not None else {}
    if loaded is not None and loaded.version:
        headers["X-Mktai-Version"] = str(loaded.version)
    return JSONResponse(payload, status_code=status, headers=headers)


def failure(exc: BaseException) -> JSONResponse:
    if isinstance(exc, Abandoned):  # its 504 was sent already; nobody reads this one
        return JSONResponse(error_body(f"abandoned before {exc}", 504, "Timeout"), 504)
    if isinstance(exc, MktaiError):
        status, body = mktai_error_body(exc)
    else:
        status, body = internal_error_body(exc)
        sys.stderr.write(f"mktai serve: {body['error']}\n")
    return JSONResponse(body, status_code=status)


async def guarded(work: Callable[[], Any]) -> Any:
    """Run blocking work in the thread pool; MktaiError and bugs become error responses."""
    try:
        return await run_in_threadpool(work)
    except Exception as exc:
        return failure(exc)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException):
        message = {404: "no such endpoint; see /docs for the API", 405: "method not allowed"}
        text = message.get(exc.status_code, str(exc.detail))
        return JSONResponse(error_body(text, exc.status_code, "HTTPError"),
                            status_code=exc.status_code)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        text = f"{where}: {first.get('msg', 'invalid request')}"
        return JSONResponse(error_body(text, 422, "ValidationError"), status_code=422)

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception):
        return failure(exc)


def _health_routes(app: FastAPI, readiness: Readiness) -> None:
    @app.get("/livez", tags=["health"], summary="The process is up")
    async def livez():
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Every served model loaded, verified, warm")
    async def readyz():
        ready, models = await run_in_threadpool(readiness.check)
        body: dict[str, Any] = {"ready": ready, "models": models}
        refused = {ref: state for ref, state in readiness.cache.status().items() if state != "ok"}
        if refused:  # damaged after start: refused per request, the others still served
            body["refused"] = refused
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/ping", tags=["mlflow"], summary="MLflow health check")
    async def ping():
        return Response("\n", media_type="application/json")

    @app.get("/health", tags=["mlflow"], summary="MLflow health check")
    async def health():
        return Response("\n", media_type="application/json")

    @app.get("/version", tags=["mlflow"], summary="Server version")
    async def version():
        return Response(__version__, media_type="text/plain")


# --------------------------------------------------------------------------- model routes
def _model_routes(app: FastAPI, cache: ModelCache, config: ServeConfig) -> Quick:
    """The model routes on `app`; returns their quick path for the QuickLane."""
    max_rows, depth = config.max_rows, config.max_json_depth

    async def read(request: Request, *, csv_ok: bool = True) -> tuple[str, bytes]:
        body = await request.body()
        return bodies.body_kind(request.headers.get("content-type"), body, csv_ok=csv_ok), body

    def rows_of(kind: str, body: bytes) -> bytes:
        """JSON {"records": [...]} / MLflow payload / CSV body -> CSV bytes for cleaning."""
        if kind == "csv":
            return bodies.csv_body(body, max_rows)
        value = bodies.object_body(bodies.parse_json(body, depth), '{"records": [{...}]}')
        if "records" in value and len(value) == 1:
            return bodies.records_csv(value["records"], max_rows)
        return bodies.mlflow_csv(value, max_rows)[0]

    def score_rows(loaded: LoadedModel, kind: str, body: bytes, check: Any) -> Any:
        """predict_rows on the body's rows; only scores are answered, so the rows as written
        are not rebuilt (keep_raw=False: same scores, less work per request). check: the
        request's deadline, looked at between stages (a 504'd request stops there)."""
        data = rows_of(kind, body)
        rows = InMemory(data, "request body", cells=getattr(data, "cells", None))
        result = predict_rows(loaded, rows, keep_raw=False, scores_only=True, frame=False,
                              checkpoint=check)  # fmt: skip
        check("answering")
        return result

    def quick_scores(ref: str, kind: str, body: bytes, mlflow: bool, check: Any) -> Any:
        """The answer to a few plain rows (JSON, or CSV that bodies.plain_csv_cells splits)
        for a model in memory (predict_small), or None for everything else (the thread pool's
        score_rows). Runs on the event loop: a bounded body, no file reads, no loading; any
        error is the one the pool would give."""
        if len(body) > QUICK_BODY:
            return None
        loaded = cache.peek(ref)
        if loaded is None or loaded.kind == "sentiment":
            return None
        data = rows_of(kind, body)
        cells = getattr(data, "cells", None)
        if not cells:
            return None
        result = predict_small(loaded, InMemory(data, "request body", cells=cells),
                               checkpoint=check)  # fmt: skip
        if result is None:
            return None
        check("answering")
        return answer(_predict_payload(result, mlflow), loaded)

    def score(ref: str, kind: str, body: bytes, mlflow: bool, check: Any) -> Any:
        loaded = cache.get(ref)
        if loaded.kind == "sentiment":
            if kind == "csv":
                texts = bodies.mlflow_texts({"inputs": _csv_records(body)}, max_rows)
            else:
                value = bodies.object_body(bodies.parse_json(body, depth), '{"inputs": [...]}')
                texts = bodies.mlflow_texts(value, max_rows)
            check("scoring")
            result = sentiment_texts(loaded, texts, frame=False)
            check("answering")
            return answer(_sentiment_payload(result, loaded, mlflow), loaded)
        return answer(_predict_payload(score_rows(loaded, kind, body, check), mlflow), loaded)

    async def handle(request: Request, work: Callable[..., Any], *, csv_ok: bool = True,
                     staged: bool = False):  # fmt: skip
        """Read the body (a bad one is its 4xx), then run work(kind, body) in the thread pool
        (staged: work(kind, body, check) with the request's deadline check)."""
        try:
            kind, body = await read(request, csv_ok=csv_ok)
        except MktaiError as exc:
            return failure(exc)
        if staged:
            check = stage_check(request.method, request.url.path)
            return await guarded(lambda: work(kind, body, check))
        return await guarded(lambda: work(kind, body))

    def lane(ref: str, kind: str, body: bytes, mlflow: bool) -> Any:
        """QuickLane's call: a few plain JSON or CSV rows for a model in memory answered on the
        event loop (~1 ms there, less than handing them to a thread and back), or None."""
        check = stage_check("POST", f"/v1/models/{ref}/{'invocations' if mlflow else 'predict'}")
        try:
            return quick_scores(ref, kind, body, mlflow, check)
        except Exception as exc:
            return failure(exc)

    @app.get("/v1/models", tags=["models"], summary="Served models")
    async def list_models():
        def work():
            models = []
            for ref in cache.default_refs():
                try:
                    models.append(_short(cache.get(ref).summary()))
                except MktaiError as exc:
                    models.append({"ref": ref, "error": str(exc)})
            builtin = cache.builtin()
            models.append({"ref": BUILTIN, "kind": "sentiment",
                           "algorithm": builtin.manifest.get("algorithm")})  # fmt: skip
            return {"models": models, "default_model": config.default_model}

        return await guarded(work)

    @app.get("/v1/models/{ref}", tags=["models"], summary="One model: manifest summary, schema")
    async def show_model(ref: str):
        def work():
            loaded = cache.get(ref)
            return answer(loaded.summary(), loaded)

        return await guarded(work)

    @app.post("/v1/models/{ref}/predict", tags=["score"], openapi_extra=PREDICT_BODY,
              summary="Score rows with a propensity / demand model")  # fmt: skip
    async def predict(ref: str, request: Request):
        def work(kind: str, body: bytes, check: Any):
            loaded = cache.get(ref)
            result = score_rows(loaded, kind, body, check)
            return answer(_predict_payload(result, mlflow=False), loaded)

        return await handle(request, work, staged=True)  # a few JSON rows: QuickLane first

    async def sentiment_route(ref: str, request: Request):
        def work(kind: str, body: bytes, check: Any):
            value = bodies.object_body(bodies.parse_json(body, depth), '{"texts": ["..."]}')
            texts = bodies.texts_of(value, max_rows)
            lang = value.get("lang", "auto")
            if lang not in ("auto", "en", "zh"):
                raise UsageError(f"lang {lang!r}: use auto, en or zh")
            loaded = cache.get(ref)
            check("scoring")
            result = sentiment_texts(loaded, texts, lang=lang, explain=bool(value.get("explain")),
                                     frame=False)  # fmt: skip
            check("answering")
            return answer(_sentiment_payload(result, loaded, mlflow=False), loaded)

        return await handle(request, work, csv_ok=False, staged=True)

    @app.post("/v1/sentiment", tags=["score"], openapi_extra=SENTIMENT_BODY,
              summary="Sentiment of texts with the built-in English + Chinese model")  # fmt: skip
    async def sentiment_builtin(request: Request):
        return await sentiment_route(BUILTIN, request)

    @app.post("/v1/models/{ref}/sentiment", tags=["score"], openapi_extra=SENTIMENT_BODY,
              summary="Sentiment of texts with a stored sentiment model")  # fmt: skip
    async def sentiment_stored(ref: str, request: Request):
        return await sentiment_route(ref, request)

    @app.post("/v1/models/{ref}/segment", tags=["score"], summary="Segment customers",
              openapi_extra={"requestBody": {"description": "Transactions as CSV (customer, "
                             "date, amount ...)", "required": True, **JSON_OR_CSV}})  # fmt: skip
    async def segment(ref: str, request: Request):
        def work(kind: str, body: bytes, check: Any):
            from mktai.api.loaded import check_applies
            from mktai.api.segment import segment as run_segment

            loaded = cache.get(ref)
            check_applies(loaded, "segment")
            rows = rows_of(kind, body)
            check("cleaning")  # segment cleans and scores in one call: checked around it
            # the cache's verified model: no re-hash of its files per request
            result = run_segment(InMemory(rows, "request body"), model=loaded, store=cache.root)
            check("answering")
            customers = result.customers
            return answer({"model": loaded.ref, "summary": _plain(result.to_dict()),
                           "customers": _records(customers)}, loaded)  # fmt: skip

        return await handle(request, work, staged=True)

    def parse_object(body: bytes, example: str) -> dict[str, Any]:
        return bodies.object_body(bodies.parse_json(body, depth), example)

    @app.post("/v1/models/{ref}/recommend", tags=["score"], openapi_extra=RECOMMEND_BODY,
              summary="Top-N items per user from a stored recommender")  # fmt: skip
    async def recommend(ref: str, request: Request):
        def work(kind: str, body: bytes):
            value = parse_object(body, '{"user": "42", "n": 10}')
            from mktai.api.loaded import recommend_users

            users = bodies.users_of(value, max_rows)
            loaded = cache.get(ref)
            result = recommend_users(loaded, users, n=bodies.integer(value, "n", 10),
                                     include_seen=bool(value.get("include_seen")),
                                     exclude_items=bodies.strings(value, "exclude_items"))  # fmt: skip
            return answer({"model": loaded.ref, "recommendations": _records(result.frame),
                           **_plain(result.to_dict())}, loaded)  # fmt: skip

        return await handle(request, work, csv_ok=False)

    @app.post("/v1/models/{ref}/similar", tags=["score"], openapi_extra=SIMILAR_BODY,
              summary="Items most similar to an item (stored recommender)")  # fmt: skip
    async def similar(ref: str, request: Request):
        def work(kind: str, body: bytes):
            value = parse_object(body, '{"item": "85123A", "n": 10}')
            from mktai.api.loaded import similar_to

            item = value.get("item")
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise UsageError('send {"item": "85123A", "n": 10}: the item id as a string')
            loaded = cache.get(ref)
            result = similar_to(loaded, str(item), n=bodies.integer(value, "n", 10))
            return answer({"model": loaded.ref, "similar": _records(result.frame),
                           **_plain(result.to_dict())}, loaded)  # fmt: skip

        return await handle(request, work, csv_ok=False)

    @app.post("/v1/models/{ref}/forecast", tags=["score"], openapi_extra=FORECAST_BODY,
              summary="Future values per series from a stored forecast model")  # fmt: skip
    async def forecast(ref: str, request: Request):
        def work(kind: str, body: bytes, check: Any):
            value = parse_object(body, '{"horizon": 13}')
            from mktai.api.forecast import forecast as run_forecast
            from mktai.api.loaded import check_applies

            loaded = cache.get(ref)
            check_applies(loaded, "forecast")
            horizon = bodies.integer(value, "horizon", None, high=10_000)
            levels = value.get("levels", [80, 95])
            if not isinstance(levels, list) or not all(isinstance(v, int) for v in levels):
                raise UsageError('"levels" must be a list of interval levels, e.g. [80, 95]')
            records = value.get("records")
            data = (InMemory(bodies.records_csv(records, max_rows), "request body")
                    if records is not None else None)  # fmt: skip
            check("forecasting")
            result = run_forecast(data, horizon=horizon, model=loaded, store=cache.root,
                                  levels=tuple(levels))  # fmt: skip
            check("answering")
            summary = {k: v for k, v in result.to_dict().items() if k not in ("frame", "detail")}
            return answer({**_plain(summary), "model": loaded.ref,
                           "forecast": _records(result.frame)}, loaded)  # fmt: skip

        return await handle(request, work, csv_ok=False, staged=True)

    async def invocations_for(ref: str | None, request: Request):
        if ref is None:
            return failure(UsageError(
                "no default model: start the server with --default-model NAME to use "
                "/invocations, or POST to /v1/models/NAME/invocations"))  # fmt: skip
        return await handle(request, lambda kind, body, check: score(ref, kind, body, True, check),
                            staged=True)  # fmt: skip

    @app.post("/invocations", tags=["mlflow"], openapi_extra=PREDICT_BODY,
              summary="MLflow scoring protocol for --default-model")  # fmt: skip
    async def invocations(request: Request):
        return await invocations_for(config.default_model, request)

    @app.post("/v1/models/{ref}/invocations", tags=["mlflow"], openapi_extra=PREDICT_BODY,
              summary="MLflow scoring protocol for any served model")  # fmt: skip
    async def model_invocations(ref: str, request: Request):
        return await invocations_for(ref, request)

    return lane


# --------------------------------------------------------------------------- payloads
def _short(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in ("input_schema", "training_data")}


def _plain(value: Any) -> Any:
    """A cell or summary value as JSON: NaN/NA -> null, numpy scalars -> Python, dates -> ISO."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def _records(frame: Any, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON-able dicts (NaN -> null), in order; frame may also be a dict of
    columns (lists or NumPy arrays), as sentiment_texts(frame=False) gives them."""
    if frame is None:
        return []
    present = list(frame.columns) if hasattr(frame, "columns") else list(frame)
    columns = [c for c in (columns or present) if c in present]
    values = [[_plain(v) for v in _listed(frame[c])] for c in columns]
    names = [str(c) for c in columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _listed(values: Any) -> list[Any]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _predict_payload(result: Any, mlflow: bool) -> dict[str, Any]:
    frame = result.frame if result.frame is not None else result.columns
    present = frame.columns if hasattr(frame, "columns") else list(frame)
    columns = ["score", "prediction", *[c for c in present if str(c).startswith("proba_")]]
    predictions = _records(frame, columns)
    if mlflow:
        return {"predictions": predictions, "model": result.ref}
    payload: dict[str, Any] = {"model": result.ref, "predictions": predictions,
                               "rows": result.rows, "rows_rejected": result.rows_rejected}  # fmt: skip
    if result.rows_rejected and result.rejects is not None:
        payload["rejects"] = _records(result.rejects, ["row", "reason"])
    warnings = [f"column {c!r}: {n} value(s) never seen in training (as missing)"
                for c, n in result.unseen_categories.items()]  # fmt: skip
    if result.invalid_numbers:
        warnings.append(f"non-numeric values in numeric columns: {result.invalid_numbers}")
    if warnings:
        payload["warnings"] = warnings
    return payload


def _sentiment_payload(result: Any, loaded: LoadedModel, mlflow: bool) -> dict[str, Any]:
    columns = ["label", "probability", "lang", "explanation"]
    predictions = _records(result.frame if result.frame is not None else result.columns, columns)
    if mlflow:
        return {"predictions": predictions, "model": loaded.ref}
    return {"model": loaded.ref, "predictions": predictions, "summary": _plain(result.summary)}


def _csv_records(body: bytes) -> list[dict[str, str]]:
    import csv
    import io

    text = bodies.csv_body(body, 10**9).decode("utf-8", errors="replace")
    return list(csv.DictReader(io.StringIO(text)))
