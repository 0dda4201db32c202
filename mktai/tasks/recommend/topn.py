"""Top-N for many users at once: chunked score blocks, seen and excluded items masked.

Memory stays bounded: users are scored in blocks of about CELLS scores. A user whose model
has fewer candidates than n (item-knn with too little history) is padded from popularity and
the padded positions are flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

CELLS = 1 << 22  # scores per block (32 MB of float64)


@dataclass
class TopN:
    items: np.ndarray  # users x n item codes (-1: nothing left to recommend)
    scores: np.ndarray  # users x n
    from_model: np.ndarray  # users x n bool (False: popularity padding)


def top_n(
    scorer,
    users: np.ndarray,
    n: int,
    *,
    include_seen: bool = False,
    excluded: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TopN:
    import numpy as np

    n_items = scorer.n_items
    users = np.asarray(users, dtype=np.int64)
    out_items = np.full((len(users), n), -1, dtype=np.int64)
    out_scores = np.full((len(users), n), np.nan)
    from_model = np.zeros((len(users), n), dtype=bool)
    blocked = np.zeros(n_items, dtype=bool) if excluded is None else excluded
    pop_order = np.lexsort((np.arange(n_items), -scorer.popularity))
    rows = max(1, CELLS // max(n_items, 1))
    seen = scorer.train
    for start in range(0, len(users), rows):
        chunk = users[start : start + rows]
        block = scorer.scores(chunk)
        block[:, blocked] = -np.inf
        if not include_seen:
            sub = seen[chunk]
            block[np.repeat(np.arange(len(chunk)), np.diff(sub.indptr)), sub.indices] = -np.inf
        k = min(n, n_items)
        part = (
            np.argpartition(-block, k - 1, axis=1)[:, :k]
            if k < n_items
            else (np.broadcast_to(np.arange(n_items), (len(chunk), n_items)))
        )
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -part_scores), axis=1)  # score desc, then item code
        best = np.take_along_axis(part, order, axis=1)
        best_scores = np.take_along_axis(part_scores, order, axis=1)
        good = np.isfinite(best_scores)
        rows_out = slice(start, start + len(chunk))
        out_items[rows_out, :k] = np.where(good, best, -1)
        out_scores[rows_out, :k] = np.where(good, best_scores, np.nan)
        from_model[rows_out, :k] = good
        for row in np.flatnonzero(~good.all(axis=1)):
            _pad(row, start, chunk, out_items, out_scores, seen, blocked, include_seen,
                 pop_order, scorer.popularity, n)  # fmt: skip
        if progress is not None:
            progress(min(start + rows, len(users)), len(users))
    return TopN(out_items, out_scores, from_model)


def _pad(row, start, chunk, out_items, out_scores, seen, blocked, include_seen, pop_order,
         popularity, n) -> None:  # fmt: skip
    """Fill the empty positions of one user's list with the most popular allowed items."""
    import numpy as np

    user = int(chunk[row])
    index = start + row
    have = out_items[index][out_items[index] >= 0]
    taken = set(have.tolist())
    if not include_seen:
        taken.update(seen.indices[seen.indptr[user] : seen.indptr[user + 1]].tolist())
    fill = [int(i) for i in pop_order if not blocked[i] and int(i) not in taken]
    slots = np.flatnonzero(out_items[index] < 0)[: len(fill)]
    chosen = np.asarray(fill[: len(slots)], dtype=np.int64)
    out_items[index, slots] = chosen
    out_scores[index, slots] = popularity[chosen]


def popular(scorer, n: int, excluded: np.ndarray | None = None) -> np.ndarray:
    """The n most popular allowed item codes (cold-start users)."""
    import numpy as np

    order = np.lexsort((np.arange(scorer.n_items), -scorer.popularity))
    if excluded is not None:
        order = order[~excluded[order]]
    return order[:n]
