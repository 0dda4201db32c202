"""stderr console and stdout result writers shared by every command (rich is imported lazily)."""

from __future__ import annotations

import os
import sys
from typing import Any

_state: dict[str, Any] = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return bool(_state["quiet"])


def err_console():
    """Rich console on stderr; progress, warnings and summaries go here, never to stdout."""
    from rich.console import Console

    if "console" not in _state:
        _state["console"] = Console(stderr=True, highlight=False, soft_wrap=True)
    return _state["console"]


def info(message: str) -> None:
    """Progress / summary line on stderr, silenced by --quiet."""
    if not is_quiet():
        err_console().print(message)


def warn(message: str) -> None:
    """Warnings are shown even with --quiet: they are about the user's data."""
    err_console().print(f"[yellow]warning:[/yellow] {message}")


def error_line(message: str) -> None:
    """The single error line of the CLI contract."""
    try:
        from rich.markup import escape

        err_console().print(f"[bold red]error:[/bold red] {escape(message)}")
    except Exception:  # pragma: no cover - rich unavailable or broken terminal
        sys.stderr.write(f"error: {message}\n")


def print_json(payload: Any) -> None:
    """Machine-readable summary on stdout (--json)."""
    from mktai.files import dumps

    sys.stdout.write(dumps(payload))
    sys.stdout.write("\n")
    sys.stdout.flush()


def debug_enabled() -> bool:
    return os.environ.get("MKTAI_DEBUG", "") not in ("", "0")


class ClosedStdout:
    """Stands in for sys.stdout when file descriptor 1 is closed (`mktai ingest f.csv >&-`).

    Python then sets sys.stdout to None, and the first result written there was an internal
    error (AttributeError, exit 70). Commands that write only to files still work; writing a
    result to stdout is a usage error (exit 2) that says what to do.
    """

    closed = False

    def write(self, text: str) -> int:
        from mktai.errors import UsageError

        raise UsageError(
            "stdout is closed, so the results cannot be written there; "
            "give -o FILE or redirect stdout (e.g. > out.csv)"
        )

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def guard_closed_stdout() -> None:
    """Install ClosedStdout when the process started without a stdout."""
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
