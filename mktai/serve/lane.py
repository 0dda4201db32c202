"""The hot request — a few rows to score — answered before FastAPI's routing.

A one-row predict cost ~0.75 ms of server CPU in FastAPI's route matching, dependency solving
and middleware stack, as much as cleaning and scoring the row. POST /v1/models/{ref}/predict,
/v1/models/{ref}/invocations and /invocations (the --default-model) with a JSON or CSV body of
at most `limit` bytes are offered here to the routes' own quick path (app.quick_scores, which
scores only what a built NumPy path takes); whatever it declines goes on to FastAPI with the
body replayed, so every other answer and every error is the route's. The lane sits inside the
Guard: the token, the size limits, the timeout and the access log apply as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mktai.serve.guard import Receive, Scope, Send

_ROUTE = re.compile(r"^/v1/models/([^/]+)/(predict|invocations)$")
_JSON = re.compile(rb"^\s*application/json\s*(;.*)?$", re.IGNORECASE)
_CSV = re.compile(rb"^\s*(text|application)/csv\s*(;.*)?$", re.IGNORECASE)

# quick(ref, kind, body, mlflow) -> an ASGI response, or None for FastAPI's route; kind is
# "json" or "csv", as bodies.body_kind names the body
Quick = Callable[[str, str, bytes, bool], Any]


class QuickLane:
    """ASGI app: the quick path for few-row JSON and CSV scoring requests, FastAPI for the
    rest."""

    def __init__(self, app: Any, quick: Quick, *, default_model: str | None, limit: int):
        self.app, self.quick, self.default_model, self.limit = app, quick, default_model, limit

    def _target(self, scope: Scope) -> tuple[str, bool, str] | None:
        """(model ref, MLflow answer?, body kind) when the request may take the lane, else
        None."""
        if scope["type"] != "http" or scope.get("method") != "POST":
            return None
        path = scope.get("path", "")
        if path == "/invocations":
            found = (self.default_model, True) if self.default_model else None
        else:
            match = _ROUTE.match(path)
            found = (match.group(1), match.group(2) == "invocations") if match else None
        if found is None:
            return None
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if _JSON.match(content_type):
            return (*found, "json")
        if _CSV.match(content_type):
            return (*found, "csv")
        return None  # every other type: the route reads (or refuses) it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        read: list[dict[str, Any]] = []
        body, more = b"", True
        while more and len(body) <= self.limit:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: the route sees it
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if not more and len(body) <= self.limit and read[-1]["type"] == "http.request":
            response = self.quick(target[0], target[2], body, target[1])
            if response is not None:
                await response(scope, receive, send)
                return

        async def replay() -> dict[str, Any]:
            return read.pop(0) if read else await receive()

        await self.app(scope, replay, send)
