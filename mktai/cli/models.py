"""`mktai models`: list, show, tag, untag, rm, prune, verify, export and import stored models.

A thin shell over the store (mktai.api.models.open_store -> mktai.store.Store). Only the store (stdlib + filelock) and rich are imported,
so `mktai models list` starts as fast as typer itself: no pandas, NumPy, scikit-learn or TF.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli import console
from mktai.cli.options import JsonOpt, QuietOpt, StoreOpt, resolve_flag, resolve_store

if TYPE_CHECKING:
    from mktai.store import Store

app = typer.Typer(
    help="Manage stored model versions: list, show, tag, rm, prune, verify, export, import.",
    no_args_is_help=True,
)

RefArg = Annotated[str, typer.Argument(help="NAME (latest), NAME@v3 or NAME@alias.")]


def _open(
    ctx: typer.Context, store: Path | None, json_out: bool, quiet: bool
) -> tuple[Store, bool]:
    """The Store named by --store/$MKTAI_STORE and whether --json is on (command or app level)."""
    from mktai.api.models import open_store

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    return open_store(resolve_store(ctx, store)), resolve_flag(ctx, "json", json_out)


def _stdout_console():
    """Tables are results, so they go to stdout; wide when piped so rows are not wrapped."""
    import sys

    width = None if sys.stdout.isatty() else 160
    return console.safe_console(highlight=False, width=width)


def _size(num: int | None) -> str:
    if num is None:
        return ""
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def _metrics_text(metrics: dict[str, float] | None) -> str:
    return "  ".join(f"{k}={v:.4g}" for k, v in (metrics or {}).items())


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this model.")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List every model version with its aliases, kind, algorithm, date, size and metrics.

    Examples:

      mktai models list

      mktai models list churn --json
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    models = repo.list(name)
    if as_json:
        console.print_json(models)
        return
    if not models:
        if repo.missing():  # a note, not an error: listing an empty place is not wrong
            console.warn(f"{repo.missing()}: no models (check --store or $MKTAI_STORE)")
        else:
            console.info(f"no models in {repo.root} (train one with `mktai train`)")
        return
    for model in models:
        if model.get("error"):
            console.warn(model["error"])
        for entry in model["versions"]:
            if entry.get("error"):
                console.warn(entry["error"])
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("MODEL", "VERSION", "ALIASES", "KIND", "ALGORITHM", "CREATED", "SIZE"):
        table.add_column(column, no_wrap=True)
    table.add_column("METRICS")
    for model in models:
        for entry in model["versions"]:
            table.add_row(
                model["name"],
                f"v{entry['version']}",
                ",".join(entry["aliases"]),
                entry.get("kind") or "",
                "[red]damaged[/red]" if "error" in entry else escape(entry.get("algorithm") or ""),
                (entry.get("created_at") or "").replace("T", " ").rstrip("Z"),
                _size(entry.get("bytes")),
                _metrics_text(entry.get("metrics")),
            )
    _stdout_console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: RefArg,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Show one version's manifest (parameters, schema, data fingerprint, metrics, files).

    Examples:

      mktai models show churn

      mktai models show churn@v2 --json
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    version = repo.get(ref)
    if as_json:
        console.print_json(version.manifest)
        return
    problems = repo.verify(version.ref)
    aliases = [a for a, v in repo.aliases(version.name).items() if v == version.version]
    out = _stdout_console()
    manifest = dict(version.manifest)
    out.print(f"[bold]{version.ref}[/bold]  {' '.join('@' + a for a in aliases)}")
    out.print(f"path        {version.path}")
    status = "[green]ok[/green]" if not problems else f"[red]DAMAGED: {problems[0]}[/red]"
    out.print(f"integrity   {status}")
    for key in ("kind", "algorithm", "created_at", "seed"):
        if key in manifest:
            out.print(f"{key:<11} {manifest[key]}")
    from rich.syntax import Syntax

    from mktai.store.jsonio import dumps

    environment = ("mktai_version", "python", "platform", "libraries")
    skip = {"files", "format", "name", "version", "kind", "algorithm", "created_at", "seed"}
    rest = {k: v for k, v in manifest.items() if k not in skip and k not in environment}
    rest = {k: v for k, v in rest.items() if v not in (None, [], {})}
    rest["environment"] = {k: manifest[k] for k in environment if k in manifest}
    out.print(Syntax(dumps(rest), "json", theme="ansi_dark", background_color="default"))
    files = manifest.get("files") or {}
    out.print(f"[bold]files[/bold] ({len(files)})")
    for rel, entry in sorted(files.items()):
        out.print(f"  {rel:<40} {_size(entry.get('bytes')):>10}  sha256 {entry.get('sha256')}")


@app.command("tag")
def tag(
    ctx: typer.Context,
    ref: RefArg,
    alias: Annotated[str, typer.Argument(help="Alias to set or move, e.g. production.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Point NAME@ALIAS at a version (moves the alias if it already exists).

    Examples:

      mktai models tag churn@v3 production
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    name = ref.partition("@")[0]
    before = repo.aliases(name).get(alias) if repo.versions(name) else None
    version = repo.tag(ref, alias)
    _done(
        as_json,
        {"alias": f"{name}@{alias}", "ref": version.ref, "previous": before},
        f"{name}@{alias} -> v{version.version}"
        + (f" (was v{before})" if before and before != version.version else ""),
    )


@app.command("untag")
def untag(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias: Annotated[str, typer.Argument(help="Alias to remove.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove an alias (the version itself stays).

    Examples:

      mktai models untag churn@production
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    number = repo.untag(name, alias)
    _done(
        as_json,
        {"alias": f"{name}@{alias}", "was": f"{name}@v{number}"},
        f"removed alias {name}@{alias} (was v{number})",
    )


@app.command("rm")
def rm(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@v3 or NAME@alias; a bare NAME needs --all.")],
    all_versions: Annotated[
        bool, typer.Option("--all", help="Remove every version of NAME.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove versions that carry an alias.")
    ] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove a version, or every version of a model with --all. Numbers are never reused.

    Examples:

      mktai models rm churn@v1

      mktai models rm churn --all
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    removed = repo.remove(ref, all_versions=all_versions, force=force)
    _done(as_json, {"removed": removed}, f"removed {', '.join(removed)}")


@app.command("prune")
def prune(
    ctx: typer.Context,
    keep: Annotated[
        int, typer.Option("--keep", min=0, help="Versions to keep per model (newest first).")
    ],
    name: Annotated[str | None, typer.Argument(help="Only this model (default: all).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would be removed.")
    ] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove old versions, keeping the newest --keep N plus every aliased version.

    Examples:

      mktai models prune churn --keep 3
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    removed = repo.prune(name, keep=keep, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    message = f"{verb} {len(removed)} version(s)" + (f": {', '.join(removed)}" if removed else "")
    _done(as_json, {"removed": removed, "dry_run": dry_run}, message)


@app.command("verify")
def verify(
    ctx: typer.Context,
    ref: Annotated[
        str | None, typer.Argument(help="NAME (all its versions), NAME@v3, or all models.")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check every file's sha256 and every alias; exit 3 and list each problem if any.

    Examples:

      mktai models verify

      mktai models verify churn --json
    """
    from mktai.errors import IntegrityError

    repo, as_json = _open(ctx, store, json_out, quiet)
    if repo.missing():  # a typo in CI must not pass as "every file matches"
        raise IntegrityError(f"{repo.missing()}; check --store or $MKTAI_STORE")
    problems = repo.verify(ref)
    scope = ref or f"the store {repo.root}"
    if as_json:
        console.print_json({"ok": not problems, "problems": [p.as_dict() for p in problems]})
    else:
        for problem in problems:
            typer.echo(console.visible(str(problem), one_line=True))
    if problems:
        raise IntegrityError(
            f"{len(problems)} problem(s) in {scope}; restore the damaged versions from an export "
            "or retrain them, and remove them with `mktai models rm NAME@vN --force`"
        )
    seals = repo.seals(ref)
    counts = {s: list(seals.values()).count(s) for s in ("signed", "indexed", "unindexed")}
    told = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.info(
        f"verified {scope}: every file matches its sha256; manifests: {told or 'none'}"
        + (
            " (unindexed: published before manifest seals; `mktai models sign` records them)"
            if counts["unindexed"]
            else ""
        )
    )


@app.command("sign")
def sign(
    ctx: typer.Context,
    ref: RefArg,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record a version's current manifest in the store index, signed with $MKTAI_STORE_KEY
    (or the file named by $MKTAI_STORE_KEY_FILE) when set. Every file must match first.

    Example: MKTAI_STORE_KEY=$(cat ~/.mktai-key) mktai models sign churn@v3
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    version, found = repo.sign(ref)
    _done(as_json, {"ref": version.ref, "seal": found.status}, f"{version.ref}: {found.status}")


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def check_archive_name(path: Path) -> None:
    """The archive is a gzip-compressed tar: a name saying otherwise (.zip, .tar) is refused."""
    from mktai.errors import UsageError

    name = path.name.lower()
    if not name.endswith(ARCHIVE_SUFFIXES):
        stem = path.name.split(".")[0] or "model"
        raise UsageError(
            f"-o {path}: models export writes a gzip-compressed tar archive, not "
            f"{path.suffix or 'a file without extension'}; name it {stem}.tar.gz (or .tgz)"
        )


@app.command("export")
def export(
    ctx: typer.Context,
    ref: RefArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Archive to write (.tar.gz).")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write one verified version to a .tar.gz that `mktai models import` accepts anywhere.

    Examples:

      mktai models export churn@production -o churn-prod.tar.gz
    """
    check_archive_name(output)
    repo, as_json = _open(ctx, store, json_out, quiet)
    version = repo.load(ref)
    path = repo.export(version.ref, output)
    _done(
        as_json,
        {"ref": version.ref, "archive": str(path), "bytes": path.stat().st_size},
        f"exported {version.ref} to {path} ({_size(path.stat().st_size)})",
    )


@app.command("import")
def import_model(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="A .tar.gz written by `mktai models export`.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Import under this name instead.")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import an exported version as the next version number of its name (verified first).

    Examples:

      mktai models import churn-prod.tar.gz

      mktai models import churn-prod.tar.gz --name churn-copy
    """
    repo, as_json = _open(ctx, store, json_out, quiet)
    version = repo.import_(archive, name=name)
    origin = version.manifest.get("imported", {}).get("from")
    _done(
        as_json,
        {"ref": version.ref, "from": origin, "archive": str(archive)},
        f"imported {archive} as {version.ref} (exported as {origin})",
    )


def _done(as_json: bool, payload: dict[str, Any], message: str) -> None:
    """--json: the payload on stdout; otherwise a one-line summary on stderr."""
    if as_json:
        console.print_json(payload)
    else:
        console.info(message)
