"""Parsing the family-specific `--key value` options that `mktai train` passes through.

`train` cannot know each family's flags, so they arrive as strings in TrainOptions.extra; every
family validates them here the same way, and a bad value is a one-line UsageError (exit 2)
naming the flag instead of a ValueError deep inside a fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mktai.errors import UsageError

TRUE_TEXT = frozenset({"", "true", "1", "yes", "on"})
FALSE_TEXT = frozenset({"false", "0", "no", "off"})


def flag(key: str) -> str:
    """'k_max' -> '--k-max' (how the user typed it)."""
    return "--" + key.replace("_", "-")


def normalise_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    """'--k-max' / 'k-max' / 'K_MAX' all become 'k_max'."""
    return {str(k).lstrip("-").replace("-", "_").lower(): v for k, v in (extra or {}).items()}


def reject_unknown(
    options: dict[str, Any],
    known: Iterable[str],
    family: str,
    spelled: dict[str, str] | None = None,
    listed: Iterable[str] | None = None,
) -> None:
    """Unknown family options are an error, never silently ignored.

    spelled: the flag of a known name when users write it otherwise (c -> --C). listed: the
    names the message offers (those of the chosen algorithm; default every known one).
    """
    known = sorted(set(known))
    unknown = sorted(set(options) - set(known))
    if unknown:
        offered = known if listed is None else sorted(set(listed))
        flags = [(spelled or {}).get(k) or flag(k) for k in offered]
        raise UsageError(
            f"unknown option(s) for {family}: {', '.join(flag(u) for u in unknown)}; "
            f"{family} takes {', '.join(flags)}"
        )


def as_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag(name)} must be a whole number, not {value!r}") from None
    _check_range(number, name, low, high)
    return number


def as_float(value: Any, name: str, low: float | None = None, high: float | None = None) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag(name)} must be a number, not {value!r}") from None
    if number != number:  # NaN
        raise UsageError(f"{flag(name)} must be a number, not {value!r}")
    _check_range(number, name, low, high)
    return number


def as_bool(value: Any, name: str) -> bool:
    text = str(value).strip().lower()
    if text in TRUE_TEXT:
        return True
    if text in FALSE_TEXT:
        return False
    raise UsageError(f"{flag(name)} must be true or false, not {value!r}")


def like(default: Any, value: Any, name: str) -> Any:
    """Parse `value` as the type of `default` (bool, int, float or str)."""
    if isinstance(default, bool):
        return as_bool(value, name)
    if isinstance(default, int):
        return as_int(value, name)
    if isinstance(default, float):
        return as_float(value, name)
    return str(value)


def _check_range(number: float, name: str, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise UsageError(f"{flag(name)} must be at least {low}, not {number}")
    if high is not None and number > high:
        raise UsageError(f"{flag(name)} must be at most {high}, not {number}")
