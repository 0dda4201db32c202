"""Holdout metrics of a Spark-trained model on Spark: family.evaluate_events's numbers without
bringing the events to the driver.

Each task scores its slice with the family's own NumPy code (Scorer.predict for ratings, top_n
and evaluation.ranking for the ranking metrics, the popularity baseline beside the model) and
returns sums; the driver adds them up. Ranking metrics cover warm users (users with training
events), the relevant items being held-out ones not seen in training (explicit: rated from 3/4
of the scale up), as locally.
"""

from __future__ import annotations

import json
from typing import Any

SUMS = "n long, sse double, sae double"
RANKING = (
    "users long, model string, popularity string, model_items array<int>, pop_items array<int>"
)


def holdout_metrics(held: Any, test: Any) -> dict[str, Any]:
    """The metrics dict evaluate_events(held, test)["metrics"] gives, computed on Spark."""
    from mktai.tasks.recommend.family import K
    from mktai.tasks.recommend.on_spark import ship, without_seen

    spark = test.frame.sparkSession
    bare = without_seen(held)
    shared = ship(spark, bare)
    metrics: dict[str, Any] = {}
    if held.feedback == "explicit":
        metrics.update(_rating_metrics(test.frame, shared, held.scale))
    metrics.update(_ranking_metrics(held, test, shared, min(K, held.n_items)))
    shared.unpersist()
    return metrics


def _rating_metrics(frame: Any, shared: Any, scale: Any) -> dict[str, float]:
    import math

    from pyspark.sql import functions as F

    low, high = scale or (-math.inf, math.inf)

    def run(batches: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        scorer = shared.value.scorer()
        for batch in batches:
            u = batch.column("u").to_numpy(zero_copy_only=False).astype(np.int64)
            i = batch.column("i").to_numpy(zero_copy_only=False).astype(np.int64)
            actual = batch.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
            error = np.clip(scorer.predict(u, i), low, high) - actual
            yield pa.RecordBatch.from_pydict({"n": [len(u)], "sse": [float((error**2).sum())],
                                              "sae": [float(np.abs(error).sum())]})  # fmt: skip

    row = frame.select("u", "i", "value").mapInArrow(run, SUMS).agg(
        F.sum("n"), F.sum("sse"), F.sum("sae")).collect()[0]  # fmt: skip
    n = int(row[0] or 0)
    if not n:
        return {}
    return {"rmse": float(math.sqrt(row[1] / n)), "mae": float(row[2] / n)}


def _ranking_metrics(held: Any, test: Any, shared: Any, k: int) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from mktai.evaluation.ranking import ranking_metrics
    from mktai.tasks.recommend.family import K, relevance_threshold
    from mktai.tasks.recommend.on_spark import users_with_seen

    seen = held.seen
    warm = seen.select("u").distinct()
    relevant = test.frame.join(warm, "u", "left_semi")
    if held.feedback == "explicit":
        relevant = relevant.filter(F.col("value") >= relevance_threshold(held.scale))
    relevant = relevant.join(seen.select("u", "i"), ["u", "i"], "left_anti")
    per_user = relevant.groupBy("u").agg(F.array_sort(F.collect_list("i")).alias("rel"))
    rows = users_with_seen(per_user, seen, ("rel",))

    def run(batches: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        from mktai.tasks.recommend.on_spark import with_rows
        from mktai.tasks.recommend.scoring import Scorer
        from mktai.tasks.recommend.topn import top_n

        model = shared.value
        for batch in batches:
            codes = batch.column("u").to_numpy(zero_copy_only=False).astype(np.int64)
            if not len(codes):
                continue
            here = with_rows(model, codes, batch)
            lists = [np.asarray(x, dtype=np.int64) for x in batch.column("rel").to_pylist()]
            out = {"users": [len(codes)]}
            for name, scorer in (("model", here.scorer()),
                                 ("pop", Scorer("popularity", {}, here.train, here.popularity))):  # fmt: skip
                recs = top_n(scorer, codes, k).items
                means = ranking_metrics(recs, lists, K, model.n_items)
                sums = {m: v * len(codes) for m, v in means.items() if not m.startswith("coverage")}
                out["model" if name == "model" else "popularity"] = [json.dumps(sums)]
                out[f"{name}_items"] = [np.unique(recs[recs >= 0]).astype(np.int32).tolist()]
            yield pa.RecordBatch.from_pydict(out, schema=_schema())

    parts = rows.mapInArrow(run, RANKING).collect()
    users = sum(int(p["users"]) for p in parts)
    metrics: dict[str, Any] = {}
    names = list(ranking_metrics([], [], K, held.n_items))
    if not users:
        for name in names:
            metrics[name] = metrics[f"popularity.{name}"] = None
        metrics["users_evaluated"] = 0
        return metrics
    for column, prefix, items in (("model", "", "model_items"),
                                  ("popularity", "popularity.", "pop_items")):  # fmt: skip
        totals: dict[str, float] = {}
        shown: set[int] = set()
        for part in parts:
            for name, value in json.loads(part[column]).items():
                totals[name] = totals.get(name, 0.0) + value
            shown.update(part[items])
        for name in names:
            if name.startswith("coverage"):
                metrics[prefix + name] = float(len(shown) / held.n_items) if held.n_items else 0.0
            else:
                metrics[prefix + name] = totals.get(name, 0.0) / users
    metrics["users_evaluated"] = users
    return metrics


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("users", pa.int64()), ("model", pa.string()), ("popularity", pa.string()),
                      ("model_items", pa.list_(pa.int32())), ("pop_items", pa.list_(pa.int32()))])  # fmt: skip
