"""Options shared by several commands, and resolution of global settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Silence progress output.")]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Random seed: same data + seed = same result.")
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write results here; format from the extension (.csv, .parquet, .json, .jsonl).",
    ),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.",
    ),
]
KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="Dataset kind: transactions, customers, ratings, reviews, sales, labelled.",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Input encoding (default: detected; e.g. utf-8, gb18030)."),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 2 when any row is rejected.")]


def resolve_store(ctx: typer.Context | None, store: Path | None) -> Path:
    """--store on the command, else on the app, else $MKTAI_STORE, else ./mktai-store."""
    if store is not None:
        return store
    if ctx is not None:
        root = ctx.find_root()
        if root.obj and root.obj.get("store"):
            return Path(root.obj["store"])
    env = os.environ.get("MKTAI_STORE")
    return Path(env) if env else Path("mktai-store")


def resolve_flag(ctx: typer.Context | None, name: str, value: bool) -> bool:
    """A flag set either on the command or on the app (mktai --json models list)."""
    if value:
        return True
    if ctx is not None:
        root = ctx.find_root()
        return bool(root.obj and root.obj.get(name))
    return False


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """Turn ['amount=Total', 'date=OrderDate'] into {'amount': 'Total', 'date': 'OrderDate'}."""
    from mktai.errors import UsageError

    mapping: dict[str, str] = {}
    for item in items or []:
        role, sep, column = item.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise UsageError(f"--map {item!r} must look like role=Column (e.g. --map amount=Total)")
        mapping[role.strip().lower()] = column.strip()
    return mapping


def json_needs_output(as_json: bool, output: Path | None, what: str) -> None:
    """--json owns stdout, so data that would go there needs -o FILE (checked before any work)."""
    if as_json and output is None:
        from mktai.errors import UsageError

        raise UsageError(f"--json prints the summary on stdout, so write {what} with -o FILE")


EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where the data work runs: local (default) or spark; default $MKTAI_ENGINE.",
        show_default=False,
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL, e.g. spark://host:7077, yarn, local[4] (default: "
        "$MKTAI_SPARK_MASTER, else $SPARK_REMOTE, spark-defaults.conf, local[*]).",
        show_default=False,
    ),
]
