"""The typer application: wires every command module and maps errors to exit codes.

Only typer and the small command modules are imported here; every heavy library is imported
inside the function that needs it, so `mktai --help` stays as fast as typer itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from mktai import __version__
from mktai.cli import console


class MktaiGroup(TyperGroup):
    """Click group that turns MktaiError (and stray exceptions) into one line + exit code."""

    def invoke(self, ctx):  # noqa: D401 - click API
        from mktai.errors import EXIT_INTERNAL, MktaiError

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
        except Exception as exc:
            if console.debug_enabled():
                raise
            console.error_line(
                f"internal error: {type(exc).__name__}: {exc} "
                "(rerun with MKTAI_DEBUG=1 for the traceback and please report it)"
            )
            raise typer.Exit(EXIT_INTERNAL) from None


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


def _register() -> None:
    from mktai.cli import (
        demo,
        evaluate,
        forecast,
        ingest,
        models,
        predict,
        recommend,
        segment,
        sentiment,
        serve,
        train,
    )

    app.command("ingest")(ingest.ingest)
    app.command(
        "train",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(train.train)
    app.command("segment")(segment.segment)
    app.command("recommend")(recommend.recommend)
    app.command("forecast")(forecast.forecast)
    app.command("sentiment")(sentiment.sentiment)
    app.command("predict")(predict.predict)
    app.command("evaluate")(evaluate.evaluate)
    app.add_typer(models.app, name="models")
    app.command("demo")(demo.demo)
    app.command("serve")(serve.serve)


_register()


def _silence_stdout() -> None:
    """After a closed pipe (mktai ... | head), stop Python complaining at exit."""
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(0) from None


if __name__ == "__main__":  # pragma: no cover
    main()
