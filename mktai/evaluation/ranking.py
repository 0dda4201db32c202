"""Ranking metrics for recommenders: precision, recall, NDCG, MAP and hit rate at k, coverage.

Inputs are plain arrays: for each evaluated user a row of recommended item codes (best first,
-1 for an empty slot) and the set of relevant held-out item codes. Per-user values are averaged
over users with at least one relevant item. Definitions (k = list length):
  precision@k = hits / k;  recall@k = hits / |relevant|;  hit rate@k = share of users with a hit
  NDCG@k = DCG / ideal DCG with DCG = sum over hit ranks r of 1 / log2(r + 1)
  MAP@k = mean over users of (sum over hit ranks r of precision@r) / min(k, |relevant|)
  coverage@k = distinct items recommended to the evaluated users / catalogue size
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def ranking_metrics(
    recommended: Any, relevant: Sequence[Any], k: int, n_items: int
) -> dict[str, float]:
    """Metric name (e.g. ndcg_at_10) -> value; every value in [0, 1]."""
    import numpy as np

    recs = (
        np.asarray(recommended, dtype=np.int64).reshape(len(relevant), -1)[:, :k]
        if len(relevant)
        else np.zeros((0, k), dtype=np.int64)
    )
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    totals = {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "map": 0.0, "hit_rate": 0.0}
    users = 0
    for row, rel in zip(recs, relevant, strict=True):
        rel_set = set(np.asarray(list(rel), dtype=np.int64).tolist())
        if not rel_set:
            continue
        users += 1
        hits = np.array([int(i) in rel_set for i in row if i >= 0] + [False] * int((row < 0).sum()))
        n_hits = int(hits.sum())
        totals["precision"] += n_hits / k
        totals["recall"] += n_hits / len(rel_set)
        ideal = discounts[: min(k, len(rel_set))].sum()
        totals["ndcg"] += float(discounts[: len(hits)][hits].sum() / ideal)
        if n_hits:
            ranks = np.flatnonzero(hits) + 1
            totals["map"] += float((np.arange(1, n_hits + 1) / ranks).sum() / min(k, len(rel_set)))
            totals["hit_rate"] += 1.0
    out = {f"{name}_at_{k}": (value / users if users else 0.0) for name, value in totals.items()}
    shown = recs[recs >= 0]
    out[f"coverage_at_{k}"] = float(len(np.unique(shown)) / n_items) if n_items else 0.0
    return out


def rating_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    """RMSE and MAE of predicted ratings."""
    import numpy as np

    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if not len(actual):
        return {}
    error = predicted - actual
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
