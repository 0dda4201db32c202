"""stderr console and stdout result writers shared by every command (rich is imported lazily)."""

from __future__ import annotations

import json
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
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default))
    sys.stdout.write("\n")
    sys.stdout.flush()


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def debug_enabled() -> bool:
    return os.environ.get("MKTAI_DEBUG", "") not in ("", "0")
