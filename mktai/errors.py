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
    """Base class: a problem the user can act on, described in one sentence.

    Optional structured fields (file, row, column, role, ...) say where, for callers that
    render errors themselves (the HTTP server's JSON body, a script) without parsing text.
    """

    exit_code = EXIT_INPUT

    def __init__(self, message: str = "", **fields: object) -> None:
        super().__init__(message)
        self.fields = {k: v for k, v in fields.items() if v is not None}


class UsageError(MktaiError):
    """Wrong options or a command that cannot run as asked."""


class InputError(MktaiError):
    """Input data that cannot be used (file, row or column named in the message)."""


def _shown(columns: list[str] | tuple[str, ...], limit: int = 25) -> str:
    return ", ".join(map(str, list(columns)[:limit]))


class ColumnNotFound(UsageError):
    """A column the user named (--map ROLE=COLUMN, --target, --column) is not in the file.

    Structured so that each command names its own option: `exc.named_by("--target")` gives the
    same error worded for that option, without matching message text.
    """

    def __init__(
        self,
        role: str,
        column: str,
        columns: list[str] | tuple[str, ...],
        *,
        option: str | None = None,
        source: str | None = None,
    ) -> None:
        self.role, self.column, self.columns = role, column, list(columns)
        self.option, self.source = option, source
        where = f"{source}: " if source else ""
        named = option or f"--map {role}={column}"
        super().__init__(f"{where}{named}: no column {column!r} (columns: {_shown(columns)})",
                         file=source, role=role, column=column)  # fmt: skip

    def named_by(self, option: str, source: str | None = None) -> ColumnNotFound:
        return ColumnNotFound(self.role, self.column, self.columns, option=option,
                              source=source or self.source)  # fmt: skip


class RoleNotFound(InputError):
    """No column plays a role the command needs (customer, date, text ...).

    `named_by("--column")` words the hint with the command's own option instead of --map.
    """

    def __init__(
        self,
        roles: list[str] | tuple[str, ...],
        columns: list[str] | tuple[str, ...],
        *,
        kind: str | None = None,
        source: str | None = None,
        option: str | None = None,
    ) -> None:
        self.roles, self.columns, self.kind = list(roles), list(columns), kind
        self.source, self.option = source, option
        where = f"{source}: " if source else ""
        what = (
            f"no column found for {', '.join(roles)} in a {kind} file"
            if kind
            else (f"no column for role '{roles[0]}'")
        )
        hint = f"{option} COLUMN" if option else f"--map {roles[0]}=COLUMN"
        super().__init__(f"{where}{what} (columns: {_shown(columns, 25 if kind else 20)}); "
                         f"name it with {hint}", file=source, role=roles[0])  # fmt: skip

    def named_by(self, option: str) -> RoleNotFound:
        return RoleNotFound(self.roles, self.columns, kind=self.kind, source=self.source,
                            option=option)  # fmt: skip


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
