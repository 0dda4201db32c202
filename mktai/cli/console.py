"""stderr console and stdout result writers shared by every command (rich is imported lazily)."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

_state: dict[str, Any] = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return bool(_state["quiet"])


# C0 and C1 control characters (ESC starts terminal escape sequences) and the Unicode bidi
# overrides that reorder what a terminal shows; tab and newline are left to the layout.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str, *, one_line: bool = False) -> str:
    """Text with control characters shown as \\x1b-style escapes, so a column name or a file name
    holding a raw ESC cannot drive the terminal (escape injection). one_line: \\n and \\t too."""
    pattern = _CONTROL_AND_LINES if one_line else _CONTROL
    return pattern.sub(_escape_char, text)


def _escape_char(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_console(**options: Any):
    """A rich Console that renders control characters in every string it prints (messages,
    table cells, markup) visibly; rich's own styling codes are unaffected."""
    return _safe_console_class()(**options)


def _safe_console_class():
    if "safe_class" not in _state:
        from rich.console import Console
        from rich.segment import Segment

        class SafeConsole(Console):
            def render_str(self, text: str, *args: Any, **kwargs: Any):  # strings, table cells
                return super().render_str(visible(text), *args, **kwargs)

            def _render_buffer(self, buffer: Any) -> str:  # anything built as Text directly
                clean = (
                    segment
                    if segment.control
                    else Segment(visible(segment.text), segment.style, segment.control)
                    for segment in buffer
                )
                return super()._render_buffer(clean)

        _state["safe_class"] = SafeConsole
    return _state["safe_class"]


def err_console():
    """Rich console on stderr; progress, warnings and summaries go here, never to stdout."""
    if "console" not in _state:
        _state["console"] = safe_console(stderr=True, highlight=False, soft_wrap=True)
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

        err_console().print(
            f"[bold red]error:[/bold red] {escape(visible(message, one_line=True))}"
        )
    except Exception:  # pragma: no cover - rich unavailable or broken terminal
        sys.stderr.write(f"error: {visible(message, one_line=True)}\n")


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
