"""`mktai recommend`: top-N recommendations and similar items from a stored recommender.

from mktai.api import recommend, similar_items
recs = recommend("recs", users=["42"], n=10, store="store/")
recs.frame  # user, rank, item, score, source (model | popularity)[, reason]
similar_items("recs", "85123A", n=10).frame
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.api.result import Result, internal, store_root
from mktai.errors import InputError, UsageError

ITEM_HEADERS = ("item", "item_id", "items", "stock_code", "sku", "product", "product_id")


@dataclass
class RecommendResult(Result):
    """One row per (user, rank); counts for the summary."""

    model: str
    algorithm: str
    n: int
    users: int
    rows: int
    fallback_users: int
    padded_rows: int
    frame: Any = internal()
    output_dir: str | None = None  # --engine spark: the directory Spark wrote


@dataclass
class SimilarResult(Result):
    model: str
    algorithm: str
    item: str
    method: str
    rows: int
    frame: Any = internal()


def _load(model: str, store: str | Path | None) -> tuple[Any, Any]:
    from mktai.tasks.stored import load_stored

    version, _module, fitted = load_stored(store_root(store), model)
    if version.kind != "recommender":
        raise UsageError(
            f"{version.ref} is a {version.kind} model; mktai recommend needs a recommender "
            "(mktai train recommender DATA --name NAME)"
        )
    return version, fitted


def read_item_list(path: str | Path) -> list[str]:
    """--exclude-items FILE: one item id per line, or a CSV with an item column."""
    import csv

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--exclude-items {path}: cannot read the file ({exc})") from None
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if not rows:
        return []
    header = [c.strip().lower().replace(" ", "_") for c in rows[0]]
    column = next((header.index(h) for h in ITEM_HEADERS if h in header), None)
    if column is None and len(header) > 1:
        raise InputError(
            f"--exclude-items {path}: no item column (expected one of {', '.join(ITEM_HEADERS)}) "
            "or one id per line"
        )
    start = 1 if column is not None else 0
    column = column or 0
    return [r[column].strip() for r in rows[start:] if len(r) > column and r[column].strip()]


def recommend(
    model: str,
    *,
    users: list[str] | None = None,
    all_users: bool = False,
    n: int = 10,
    include_seen: bool = False,
    exclude_items: str | Path | list[str] | None = None,
    store: str | Path | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
    output: str | Path | None = None,
) -> RecommendResult:
    """Top-n items per user (given ids, or every user the model knows with all_users).

    all_users with engine "spark": computed on Spark and written to OUTPUT (a parquet
    directory; result.output_dir says so and result.frame holds the first rows only).
    """
    from mktai.engines import engine_name
    from mktai.tasks.recommend.apply import recommendations

    if all_users and users:
        raise UsageError("give either --user ID (repeatable) or --all-users, not both")
    if not all_users and not users:
        raise UsageError("give --user ID (repeatable), --all-users or --similar-to ITEM")
    if n < 1:
        raise UsageError(f"-n must be at least 1, not {n}")
    excluded = None
    if exclude_items is not None:
        excluded = (
            [str(x) for x in exclude_items]
            if isinstance(exclude_items, (list, tuple, set))
            else read_item_list(exclude_items)
        )
    version, fitted = _load(model, store)
    if engine and engine_name(engine) == "spark" and not all_users:
        raise UsageError("--engine spark computes --all-users; drop it for single users")
    if all_users and engine_name(engine) == "spark":
        from mktai.tasks.recommend.on_spark import all_users as on_spark

        preview, done = on_spark(fitted, n, output, include_seen=include_seen, exclude=excluded,
                                 master=spark_master)  # fmt: skip
        warnings = []
        if done["short"]:
            warnings.append(
                f"{done['short']} user(s) have fewer than {done['n']} items left to recommend "
                "(they have seen the rest): their lists are shorter"
            )
        return RecommendResult(
            model=version.ref, algorithm=fitted.algorithm, n=done["n"], users=done["users"],
            rows=done["rows"], fallback_users=0, padded_rows=done["padded_rows"], frame=preview,
            warnings=warnings, output_dir=str(output),
        )  # fmt: skip
    tick = None
    if progress is not None:

        def tick(done: int, total: int) -> None:
            progress("recommending", done, total)

    frame, counts, warnings = recommendations(
        fitted, None if all_users else list(users or []), n,
        include_seen=include_seen, exclude=excluded, progress=tick,
    )  # fmt: skip
    return RecommendResult(
        model=version.ref, algorithm=fitted.algorithm, n=counts["n"], users=counts["users"],
        rows=counts["rows"], fallback_users=counts["fallback_users"],
        padded_rows=counts["padded_rows"], frame=frame, warnings=warnings,
    )  # fmt: skip


def similar_items(
    model: str, item: str, *, n: int = 10, store: str | Path | None = None
) -> SimilarResult:
    """The n items most similar to `item` (item factors by cosine, or the item-item matrix)."""
    from mktai.tasks.recommend.apply import similar

    version, fitted = _load(model, store)
    frame, method, warnings = similar(fitted, str(item).strip(), n)
    return SimilarResult(
        model=version.ref, algorithm=fitted.algorithm, item=str(item).strip(), method=method,
        rows=int(len(frame)), frame=frame, warnings=warnings,
    )  # fmt: skip
