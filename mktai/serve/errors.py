"""mktai.errors -> HTTP: the status code and the {"error": ..., "detail": ...} body.

"error" is the one-line message the CLI prints for the same problem; "detail" says what kind
of problem it is. Nothing here ever puts a traceback in a response.
"""

from __future__ import annotations

from typing import Any

from mktai.errors import (
    InputError,
    IntegrityError,
    LockTimeout,
    MissingDependency,
    MktaiError,
    ModelNotFound,
    StoreError,
    UsageError,
)
from mktai.serve.bodies import TooLarge, UnsupportedMedia

# most specific first
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (TooLarge, 413),
    (UnsupportedMedia, 415),
    (ModelNotFound, 404),
    (IntegrityError, 503),
    (LockTimeout, 503),
    (StoreError, 503),
    (InputError, 422),
    (UsageError, 400),
    (MissingDependency, 501),
    (MktaiError, 400),
)


def status_of(exc: BaseException) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_body(message: str, status: int, kind: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, "detail": {"type": kind, "status": status, **extra}}


def mktai_error_body(exc: MktaiError) -> tuple[int, dict[str, Any]]:
    status = status_of(exc)
    return status, error_body(str(exc), status, type(exc).__name__, exit_code=exc.exit_code)


def internal_error_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """A bug: the exception's type and message, never the traceback."""
    message = f"internal error: {type(exc).__name__}: {exc}"
    return 500, error_body(message.splitlines()[0][:500], 500, "InternalError")
