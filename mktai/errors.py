"""Exception types that map one-to-one onto the exit codes of the CLI contract.

Library users catch these; the CLI turns them into a single stderr line and the exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_INPUT = 2
EXIT_STORE = 3
EXIT_DEPENDENCY = 4
EXIT_INTERNAL = 70


class MktaiError(Exception):
    """Base class: a problem the user can act on, described in one sentence."""

    exit_code = EXIT_INPUT


class UsageError(MktaiError):
    """Wrong options or a command that cannot run as asked."""


class InputError(MktaiError):
    """Input data that cannot be used (file, row or column named in the message)."""


class GateFailed(MktaiError):
    """An evaluation gate (--fail-under, --max-drop) failed."""

    exit_code = EXIT_GATE


class StoreError(MktaiError):
    """The artifact store cannot do what was asked."""

    exit_code = EXIT_STORE


class ModelNotFound(StoreError):
    """No such model name, version or alias."""


class IntegrityError(StoreError):
    """A stored file is missing, truncated or does not match its recorded sha256."""


class LockTimeout(StoreError):
    """Another process held the store lock for too long."""


class MissingDependency(MktaiError):
    """An optional library is not installed; the message says what to pip install."""

    exit_code = EXIT_DEPENDENCY


def require(module: str, extra: str, package: str | None = None):
    """Import an optional module or raise MissingDependency with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module
        raise MissingDependency(
            f"{pkg} is not installed ({exc}); install it with: pip install 'mktai[{extra}]'"
        ) from exc
