"""`mktai recommend --all-users --engine spark`: top-N for every user, computed on the cluster.

The stored model (factor arrays, id maps, the seen-items matrix) is broadcast to the executors
and each task runs the family's own NumPy top-N (mktai.tasks.recommend.apply.recommendations)
over a range of user codes, so the exclusion of seen and excluded items, the popularity padding
and the scores are exactly those of the local path; the result is written as a parquet directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mktai.errors import UsageError

SCHEMA = "user string, rank long, item string, score double, source string"


def all_users(
    fitted: Any,
    n: int,
    output: str | Path | None,
    *,
    include_seen: bool = False,
    exclude: list[str] | None = None,
    master: str | None = None,
) -> tuple[Any, dict[str, int]]:
    """(the first rows as a preview frame, counts) after writing OUTPUT (a directory)."""
    from pyspark.sql import functions as F

    from mktai.engines.spark_session import get_session
    from mktai.engines.spark_write import write_dir
    from mktai.tasks.recommend.apply import recommendations

    if output is None:
        raise UsageError("--all-users --engine spark writes a parquet directory: give -o DIR")
    # options checked (and n capped to what can be recommended) once, on the driver
    _, checked, _ = recommendations(fitted, [], n, include_seen=include_seen, exclude=exclude)
    n = checked["n"]
    spark = get_session(master)
    shared = spark.sparkContext.broadcast(fitted)
    with_reason = _has_reasons(fitted)
    schema = SCHEMA + (", reason string" if with_reason else "")

    def run(batches: Any) -> Any:
        import pyarrow as pa

        model = shared.value
        for batch in batches:
            codes = batch.column("id").to_numpy()
            if not len(codes):
                continue
            ids = [str(u) for u in model.users[codes]]
            frame, _, _ = recommendations(model, ids, n, include_seen=include_seen,
                                          exclude=exclude)  # fmt: skip
            frame = frame.astype({"user": object, "item": object, "source": object})
            yield pa.RecordBatch.from_pandas(frame, preserve_index=False)

    width = max(2, spark.sparkContext.defaultParallelism)
    users = spark.range(0, fitted.n_users, numPartitions=width)
    recs = users.mapInArrow(run, schema)
    write_dir(recs, str(output), "parquet")
    written = spark.read.parquet(_uri(output))
    per_user = written.groupBy("user").count()
    stats = per_user.agg(
        F.count(F.lit(1)).alias("users"),
        F.sum("count").alias("rows"),
        F.sum((F.col("count") < n).cast("long")).alias("short"),
    ).collect()[0]
    padded = written.filter(F.col("source") != "model").count()
    counts = {
        "users": int(stats["users"] or 0),
        "rows": int(stats["rows"] or 0),
        "short": int(stats["short"] or 0),
        "padded_rows": int(padded),
        "n": int(n),
    }
    preview = written.limit(20).toPandas()
    shared.unpersist()
    return preview, counts


def _has_reasons(model: Any) -> bool:
    from mktai.tasks.recommend.scoring import ITEM_BASED

    return model.algorithm in ITEM_BASED or (
        model.algorithm == "blend" and any(m in ITEM_BASED for m in model.members)
    )


def _uri(path: str | Path) -> str:
    from mktai.engines.spark_read import is_remote

    text = str(path)
    return text if is_remote(text) else "file://" + str(Path(text).absolute())
