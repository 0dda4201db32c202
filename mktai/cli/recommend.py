"""`mktai recommend`: top-N items per user, or items similar to one item, from a stored model.

A thin shell over mktai.api.recommend: parse options, call `recommend` or `similar_items`,
write the table (stdout CSV, or -o FILE) and print a short summary on stderr.

    mktai recommend --model recs --user 42 -n 10
    mktai recommend --model recs --all-users -n 20 -o recs.parquet
    mktai recommend --model basket --similar-to 85123A -n 10
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mktai.cli.options import (
    EngineOpt,
    JsonOpt,
    OutputOpt,
    QuietOpt,
    SparkMasterOpt,
    StoreOpt,
    json_needs_output,
)

SHOW_ROWS = 30


class LazyBar:
    """A progress bar on stderr that appears only when the work takes more than a moment."""

    def __init__(self, delay: float = 0.5) -> None:
        self.start = time.monotonic()
        self.delay = delay
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        from mktai.cli import console

        if console.is_quiet():
            return
        if self.bar is None:
            if time.monotonic() - self.start < self.delay or (total and done >= total):
                return
            from rich.progress import Progress

            self.bar = Progress(console=console.err_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _show(frame, title: str) -> None:
    from mktai.cli import console

    if console.is_quiet() or frame is None or not len(frame):
        return
    from rich.table import Table

    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    for column in frame.columns:
        table.add_column(str(column), justify="right" if column in ("rank", "score") else "left")
    for row in frame.head(SHOW_ROWS).itertuples(index=False):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    console.err_console().print(table)
    if len(frame) > SHOW_ROWS:
        console.info(f"… {len(frame) - SHOW_ROWS:,} more row(s)")


def recommend(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Stored recommender: name, name@v3 or name@alias.")
    ],
    user: Annotated[
        list[str] | None, typer.Option("--user", "-u", help="User / customer id; repeatable.")
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all-users", help="Recommend for every user the model knows.")
    ] = False,
    similar_to: Annotated[
        str | None, typer.Option("--similar-to", help="Items most similar to this item id.")
    ] = None,
    n: Annotated[int, typer.Option("-n", "--top", help="Items per user (default 10).")] = 10,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Allow items the user already rated/bought.")
    ] = False,
    exclude_items: Annotated[
        Path | None,
        typer.Option("--exclude-items", help="File of item ids never to recommend (out of stock)."),
    ] = None,
    output: OutputOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Recommend items: columns user, rank, item, score, source (model|popularity)[, reason].

    Examples: mktai recommend --model recs --user 42 -n 10;
    mktai recommend --model recs --all-users -n 20 -o recs.parquet;
    mktai recommend --model basket --similar-to 85123A.
    """
    from mktai.api.recommend import recommend as recommend_items
    from mktai.api.recommend import similar_items
    from mktai.cli import console
    from mktai.cli.options import resolve_flag, resolve_store
    from mktai.data import write_table
    from mktai.errors import UsageError

    if resolve_flag(ctx, "quiet", quiet):
        console.set_quiet(True)
    as_json = resolve_flag(ctx, "json", json_out)
    json_needs_output(as_json, output, "the recommendations")
    root = resolve_store(ctx, store)
    if similar_to is not None:
        if user or all_users or exclude_items or include_seen:
            raise UsageError("--similar-to takes only -n; drop --user/--all-users/--exclude-items")
        result: Any = similar_items(model, similar_to, n=n, store=root)
        title = f"items similar to {result.item} ({result.method})"
    else:
        bar = LazyBar()
        try:
            result = recommend_items(
                model, users=user, all_users=all_users, n=n, include_seen=include_seen,
                exclude_items=exclude_items, store=root, progress=bar, engine=engine,
                spark_master=spark_master, output=output,
            )  # fmt: skip
        finally:
            bar.close()
        title = f"recommendations from {result.model} ({result.algorithm})"
    for warning in result.warnings:
        console.warn(warning)
    if not all_users:  # --all-users: the count line below is the summary
        _show(result.frame, title)
    if getattr(result, "output_dir", None) is None:  # --engine spark wrote a directory
        write_table(result.frame, output)
    where = str(output) if output else "stdout"
    console.info(f"{result.rows:,} row(s) from {result.model} -> {where}")
    if as_json:
        console.print_json({**result.to_dict(), "output": str(output)})
