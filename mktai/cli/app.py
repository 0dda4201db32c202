"""The typer application: a lazy group of the command modules, errors mapped to exit codes.

Only typer is imported here; a command module is imported when its command runs or shows its
help, and every heavy library inside the function that needs it, so `mktai --help` stays as
fast as typer itself.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated

import typer
import typer.main
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from mktai import __version__
from mktai.cli import console
from mktai.errors import MktaiError

# name -> (module, attribute, one-line help shown in `mktai --help`, click context settings).
# A command's module is imported only when that command runs or shows its own help, so
# `mktai --help` costs what typer costs. The one-liners repeat the commands' docstrings.
COMMANDS: dict[str, tuple[str, str, str, dict]] = {
    "ingest": ("mktai.cli.ingest", "ingest", "Clean raw exports: detect encoding, delimiter, column roles and types; reject bad rows.", {}),
    "train": ("mktai.cli.train", "train", "Train a model on DATA and store it as a new version NAME@vN.", {"allow_extra_args": True, "ignore_unknown_options": True}),
    "segment": ("mktai.cli.segment", "segment", "RFM scores, named segments, k-means clusters and CLV per customer.", {}),
    "recommend": ("mktai.cli.recommend", "recommend", "Top-N items per user and similar items from a stored recommender.", {}),
    "forecast": ("mktai.cli.forecast", "forecast", "Future values per series with prediction intervals; backtests.", {}),
    "sentiment": ("mktai.cli.sentiment", "sentiment", "Score review texts: label and probability of that label, per text.", {}),
    "predict": ("mktai.cli.predict", "predict", "Score DATA with a stored model: input columns + score + prediction (CSV on stdout or -o).", {}),
    "evaluate": ("mktai.cli.evaluate", "evaluate", "Evaluate a stored model on labelled data; reports for CI and gates on the exit code.", {}),
    "models": ("mktai.cli.models", "app", "Manage stored model versions: list, show, tag, rm, prune, verify, export, import.", {}),
    "serve": ("mktai.cli.serve", "serve", "Serve the stored models over HTTP: predict, sentiment, recommend, forecast, segment; MLflow scoring protocol.", {}),
    "demo": ("mktai.cli.demo", "demo", "Run the whole tour on sample_data/ into a throw-away store and list the outputs.", {}),
}  # fmt: skip

# OSErrors about the machine, not the code: a full disk or quota, a too-large or read-only
# file, a forbidden path
_ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)


class MktaiGroup(TyperGroup):
    """Click group that loads command modules lazily and maps errors to exit codes.

    MktaiError (and stray exceptions) become one line on stderr and the contract's exit code.
    """

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, summary, settings = entry
        if self._listing:  # the group's own help needs names and one-liners only
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        return _load_command(cmd_name, module_name, attribute, settings)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx):  # noqa: D401 - click API
        from mktai.errors import EXIT_INPUT, MktaiError

        try:
            return super().invoke(ctx)
        except MktaiError as exc:
            if console.debug_enabled():
                raise
            console.error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise  # typer's own usage errors and exits keep their meaning
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None
        except OSError as exc:
            if console.debug_enabled():
                raise
            if exc.errno not in _ENVIRONMENT_ERRNOS:
                _internal_error(exc)
            # a full disk, a quota, a read-only or forbidden path: the user's to fix, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            console.error_line(
                f"{where}{exc.strerror or exc}; free some space, check permissions or choose "
                "another path"
            )
            raise typer.Exit(EXIT_INPUT) from None
        except Exception as exc:
            if console.debug_enabled():
                raise
            _internal_error(exc)


def _internal_error(exc: BaseException) -> None:
    """A real bug: one line asking for a report, exit 70."""
    from mktai.errors import EXIT_INTERNAL

    console.error_line(
        f"internal error: {type(exc).__name__}: {exc} "
        "(rerun with MKTAI_DEBUG=1 for the traceback and please report it)"
    )
    raise typer.Exit(EXIT_INTERNAL) from None


_LOADED: dict[str, click.Command] = {}


def _load_command(name: str, module_name: str, attribute: str, settings: dict) -> click.Command:
    """The click command of one command module (a function, or a Typer app for `models`)."""
    if name not in _LOADED:
        import importlib

        target = getattr(importlib.import_module(module_name), attribute)
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            cls = getattr(target, "command_class", None)
            single.command(name, cls=cls, context_settings=settings or None)(target)
            command = typer.main.get_command(single)
        command.name = name
        _LOADED[name] = command
    return _LOADED[name]


app = typer.Typer(
    name="mktai",
    cls=MktaiGroup,
    help="Marketing analytics from CSV exports: clean, train, store, apply and evaluate models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mktai {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Artifact store (default: $MKTAI_STORE, else ./mktai-store)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Silence progress output.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Machine-readable summary on stdout.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Marketing analytics from CSV exports.

    Exit codes: 0 ok, 1 an evaluation gate failed, 2 usage or input error, 3 store error
    (missing model, integrity, lock), 4 missing optional dependency.
    """
    ctx.obj = {"store": str(store) if store else None, "quiet": quiet, "json": json_out}
    console.set_quiet(quiet)


def _silence_stdout() -> None:
    """After a closed pipe (mktai ... | head), stop Python complaining at exit."""
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _skip_final_collections() -> None:
    """The command is done, its outputs closed: keep the interpreter's exit from traversing
    every object the command made (pandas alone leaves ~0.25 s of CPU to the final garbage
    collections on a 2-core machine) only to free memory the OS takes back at once.

    gc.freeze moves them out of the collector's reach; reference counting still frees what it
    can and atexit handlers still run. Only here, at the end of the process: a test or a
    library calling app() keeps its collector as it was.
    """
    import gc

    gc.freeze()


def main() -> None:
    """Console-script entry point."""
    console.guard_closed_stdout()
    try:
        app()
    except SystemExit:
        _skip_final_collections()
        raise
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(0) from None
    except MktaiError as exc:  # raised outside a command, e.g. --help to a closed stdout
        if console.debug_enabled():
            raise
        console.error_line(str(exc))
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":  # pragma: no cover
    main()
