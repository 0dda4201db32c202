"""ASGI middleware in front of every route: token, body limit, timeout and the access log.

Pure ASGI (no framework objects) so it wraps the minimal benchmark app too. Order per request:
access log start -> bearer token (all but /livez and /readyz once a token is configured) ->
Content-Length / streamed size against --max-body (413) -> the app, within --timeout (504).
The 504 is sent when the timeout passes, but the route's work runs in a thread that cannot be
interrupted: the request's deadline (DEADLINE) is handed to it, and it stops at its next stage
boundary (stage_check) instead of running to the end for nobody.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import sys
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from mktai.serve.errors import error_body

OPEN_PATHS = frozenset({"/livez", "/readyz"})
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


DEADLINE: ContextVar[float | None] = ContextVar("mktai_serve_deadline", default=None)


class BodyTooLarge(Exception):
    pass


class Abandoned(Exception):
    """The request's --timeout passed (its 504 is sent): the work stops here."""


def stage_check(method: str, path: str) -> Callable[[str], None]:
    """check(stage) for the current request: raises Abandoned once its deadline has passed,
    with one line on stderr naming the stage not started (the work is never answered)."""
    deadline = DEADLINE.get()

    def check(stage: str) -> None:
        if deadline is not None and time.monotonic() > deadline:
            sys.stderr.write(f"mktai serve: {method} {path} abandoned before {stage} "
                             "(--timeout passed, 504 sent)\n")  # fmt: skip
            raise Abandoned(stage)

    return check


class Guard:
    """Wraps an ASGI app; one JSON access-log line per request on stderr (never bodies)."""

    def __init__(self, app: Any, *, token: str | None, max_body: int, timeout: float,
                 log: bool = True) -> None:  # fmt: skip
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body
        self.timeout = timeout
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "model": None}

        async def logged_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"x-mktai-model":
                        state["model"] = value.decode("latin-1")
            await send(message)

        try:
            await self._handle(scope, receive, logged_send, state)
        finally:
            if self.log:
                self._log(scope, state, started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, state: dict) -> None:
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        if self.token is not None and path not in OPEN_PATHS and not self._authorised(headers):
            await respond(send, 401, error_body(
                "missing or wrong bearer token; send 'Authorization: Bearer TOKEN'", 401,
                "Unauthorized"), [(b"www-authenticate", b'Bearer realm="mktai"')])  # fmt: skip
            return
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await respond(send, 400, error_body("invalid Content-Length", 400, "BadRequest"))
                return
            if declared > self.max_body:
                await respond(send, 413, too_large(self.max_body))
                return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        DEADLINE.set(time.monotonic() + self.timeout)  # this request's task context only
        try:
            await asyncio.wait_for(self.app(scope, limited_receive, send), self.timeout)
        except BodyTooLarge:
            if not state["status"]:
                await respond(send, 413, too_large(self.max_body))
        except TimeoutError:
            if not state["status"]:
                message = f"the request took longer than {self.timeout:g} s (--timeout)"
                await respond(send, 504, error_body(message, 504, "Timeout"))

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        value = headers.get(b"authorization", b"")
        scheme, _, given = value.partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        assert self.token is not None
        return hmac.compare_digest(given.strip(), self.token)

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], started: float) -> None:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": state["status"],
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "model": state["model"],
            "client": (scope.get("client") or [None])[0],
        }
        try:
            sys.stderr.write(json.dumps(line) + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def too_large(limit: int) -> dict[str, Any]:
    return error_body(
        f"the request body is larger than {limit:,} bytes (--max-body); split it", 413,
        "PayloadTooLarge")  # fmt: skip


async def respond(send: Send, status: int, body: dict[str, Any],
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:  # fmt: skip
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
