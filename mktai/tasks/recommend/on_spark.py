"""`mktai recommend --all-users --engine spark`: top-N for every user, computed on the cluster.

The stored model (factor arrays, id maps, the seen-items matrix) is broadcast to the executors
(over Spark Connect, which has no broadcast, it travels inside the task's function, so it must fit
in one Connect message) and each task runs the family's own NumPy top-N (mktai.tasks.recommend.apply.recommendations)
over a range of user codes, so the exclusion of seen and excluded items, the popularity padding
and the scores are exactly those of the local path; the result is written as a parquet directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mktai.errors import UsageError

SCHEMA = "user string, rank long, item string, score double, source string"
CONNECT_LIMIT = 96 * 2**20  # below Spark Connect's default 128 MiB gRPC message size


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
    shared = _ship(spark, fitted)
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

    width = _width(spark)
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


class _Inline:
    """The model itself, pickled with the task's function (Spark Connect has no broadcast)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def unpersist(self) -> None:
        pass


def _ship(spark: Any, fitted: Any) -> Any:
    """A broadcast of the model (classic Spark), or the model inline (Spark Connect), checked
    against the Connect message size: too big is a usage error saying what to do."""
    from mktai.engines.spark_session import is_connect

    if not is_connect(spark):
        return spark.sparkContext.broadcast(fitted)
    from pyspark import cloudpickle  # how pyspark ships functions; only to measure the size

    size = len(cloudpickle.dumps(fitted))
    if size > CONNECT_LIMIT:
        raise UsageError(
            f"the model is {size / 2**20:,.0f} MB; Spark Connect ships it inside the task (no "
            f"broadcast) and takes at most {CONNECT_LIMIT // 2**20} MB: run --all-users "
            "--engine spark with --spark-master URL (a classic session), or without --engine spark"
        )
    return _Inline(fitted)


def _width(spark: Any) -> int:
    from mktai.engines.spark_session import is_connect

    if is_connect(spark):
        return max(2, int(spark.conf.get("spark.sql.shuffle.partitions")))
    return max(2, spark.sparkContext.defaultParallelism)


def _has_reasons(model: Any) -> bool:
    from mktai.tasks.recommend.scoring import ITEM_BASED

    return model.algorithm in ITEM_BASED or (
        model.algorithm == "blend" and any(m in ITEM_BASED for m in model.members)
    )


def _uri(path: str | Path) -> str:
    from mktai.engines.spark_read import is_remote

    text = str(path)
    return text if is_remote(text) else "file://" + str(Path(text).absolute())
