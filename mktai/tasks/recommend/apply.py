"""Recommendation and similar-item tables from a fitted recommender (what api/recommend calls).

Rows: user, rank, item, score, source ("model", or "popularity" for a cold-start user and for
padding when the model has fewer unseen candidates than n)[, reason for item-based models:
"because you liked ITEM"].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from mktai.tasks.recommend.family import RecommenderModel

SHOWN = 5  # unknown ids named in a warning


def _named(ids: list[str]) -> str:
    head = ", ".join(map(repr, ids[:SHOWN]))
    return head + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


def excluded_mask(model: RecommenderModel, ids: list[str] | None) -> tuple[Any, list[str]]:
    """Boolean mask over the catalogue, plus the ids the catalogue does not know."""
    import numpy as np

    mask = np.zeros(model.n_items, dtype=bool)
    if not ids:
        return mask, []
    codes = model.item_codes(ids)
    mask[codes[codes >= 0]] = True
    unknown = [str(x) for x, c in zip(ids, codes, strict=True) if c < 0]
    return mask, unknown


def recommendations(
    model: RecommenderModel,
    users: list[str] | None,
    n: int,
    *,
    include_seen: bool = False,
    exclude: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """(table, counts, warnings) for the given user ids, or every known user when None."""
    import numpy as np
    import pandas as pd

    from mktai.tasks.recommend.scoring import ITEM_BASED
    from mktai.tasks.recommend.topn import popular, top_n

    if n < 1:
        raise UsageError(f"-n must be at least 1, not {n}")
    warnings: list[str] = []
    blocked, unknown_excluded = excluded_mask(model, exclude)
    if unknown_excluded:
        warnings.append(
            f"{len(unknown_excluded)} excluded item id(s) not in the catalogue: "
            f"{_named(unknown_excluded)}"
        )
    available = int(model.n_items - blocked.sum())
    if available == 0:
        raise InputError("every item of the catalogue is excluded; nothing to recommend")
    if n > available:
        warnings.append(
            f"-n {n} is more than the {available} item(s) that can be recommended "
            f"(catalogue {model.n_items}, {int(blocked.sum())} excluded): {available} per user"
        )
        n = available
    if users is None:
        ids = model.users
        codes = np.arange(model.n_users)
    else:
        ids = np.asarray([str(u).strip() for u in users], dtype=np.str_)
        codes = model.user_codes(list(ids))
    known = codes >= 0
    cold = [str(u) for u in ids[~known]]
    if cold:
        warnings.append(
            f"{len(cold)} user(s) unknown to the model, given the most popular items "
            f"(source popularity): {_named(cold)}"
        )
    scorer = model.scorer()
    items = np.full((len(codes), n), -1, dtype=np.int64)
    scores = np.full((len(codes), n), np.nan)
    from_model = np.zeros((len(codes), n), dtype=bool)
    if known.any():
        found = top_n(scorer, codes[known], n, include_seen=include_seen, excluded=blocked,
                      progress=progress)  # fmt: skip
        items[known], scores[known], from_model[known] = found.items, found.scores, found.from_model
    if cold:
        fallback = popular(scorer, n, blocked)
        items[~known, : len(fallback)] = fallback
        scores[~known, : len(fallback)] = model.popularity[fallback]
    reasons = None
    if model.algorithm in ITEM_BASED or (
        model.algorithm == "blend" and any(m in ITEM_BASED for m in model.members)
    ):
        reasons = np.full(items.shape, "", dtype=object)
        for row in np.flatnonzero(known):
            chosen = from_model[row]
            liked = scorer.reasons(int(codes[row]), items[row][chosen])
            if liked is not None and len(liked):
                names = np.char.add("because you liked ", model.items[np.maximum(liked, 0)])
                text = np.where(liked >= 0, names, "")
                reasons[row, np.flatnonzero(chosen)] = text
    filled = items >= 0
    short = int((~filled.all(axis=1)).sum())
    if short:
        warnings.append(
            f"{short} user(s) have fewer than {n} items left to recommend (they have seen the "
            "rest): their lists are shorter"
        )
    padded = int((filled & ~from_model & known[:, None]).sum())
    rows, cols = np.nonzero(filled)
    frame = pd.DataFrame(
        {
            "user": ids[rows],
            "rank": cols + 1,
            "item": model.items[items[rows, cols]],
            "score": np.round(scores[rows, cols], 6),
            "source": np.where(from_model[rows, cols], "model", "popularity"),
        }
    )
    if reasons is not None:
        frame["reason"] = reasons[rows, cols]
    counts = {
        "users": int(len(codes)),
        "known_users": int(known.sum()),
        "fallback_users": len(cold),
        "padded_rows": padded,
        "rows": int(len(frame)),
        "n": int(n),
    }
    return frame, counts, warnings


def similar(model: RecommenderModel, item: str, n: int) -> tuple[pd.DataFrame, str, list[str]]:
    """(table item, rank, similar_item, score, source; the method; warnings)."""
    import numpy as np
    import pandas as pd

    if n < 1:
        raise UsageError(f"-n must be at least 1, not {n}")
    code = int(model.item_codes([item])[0])
    if code < 0:
        raise InputError(f"--similar-to {item!r}: no such item in {model.n_items} catalogue items")
    found = model.scorer().similar(code)
    if found is None:
        raise UsageError(
            f"--similar-to needs item factors or an item-item matrix (svd, svdpp, nmf, "
            f"knn-baseline, ease, item-knn, blend); {model.algorithm} has neither"
        )
    sims, method = found
    sims = np.asarray(sims, dtype=np.float64).copy()
    sims[code] = -np.inf
    warnings = []
    candidates = int(np.isfinite(sims).sum())
    if n > candidates:
        warnings.append(f"-n {n} is more than the {candidates} other item(s): {candidates} shown")
        n = candidates
    order = np.lexsort((np.arange(len(sims)), -sims))[:n]
    frame = pd.DataFrame(
        {
            "item": str(model.items[code]),
            "rank": np.arange(1, len(order) + 1),
            "similar_item": model.items[order],
            "score": np.round(sims[order], 6),
            "source": method,
        }
    )
    return frame, method, warnings
