"""`mktai recommend --all-users --engine spark`: top-N for every user, computed on the cluster.

The model's arrays (factors or item-item matrices, id maps, popularity) are broadcast to the
executors (over Spark Connect, which has no broadcast, they travel inside the task's function, so
they must fit in one Connect message: CONNECT_LIMIT, $MKTAI_SPARK_CONNECT_LIMIT_MB to lower it).
The seen items are a DataFrame joined to the user codes (read by Spark from the model's
seen.parquet when it was trained on Spark, so the driver never loads them), and each task runs
the family's own NumPy top-N (mktai.tasks.recommend.apply.recommendations) over its users with
their seen rows, so the exclusion of seen and excluded items, the popularity padding and the
scores are exactly those of the local path; the result is written as a parquet directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mktai.errors import UsageError

SCHEMA = "user string, rank long, item string, score double, source string"
CONNECT_LIMIT_MB = 96  # below Spark Connect's default 128 MiB gRPC message size


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
    spark = get_session(master)
    bare = without_seen(fitted)
    _, checked, _ = recommendations(bare, [], n, include_seen=include_seen, exclude=exclude)
    n = checked["n"]
    shared = ship(spark, bare)
    with_reason = _has_reasons(fitted)
    schema = SCHEMA + (", reason string" if with_reason else "")

    def run(batches: Any) -> Any:
        import pyarrow as pa

        model = shared.value
        for batch in batches:
            codes = batch.column("u").to_numpy(zero_copy_only=False).astype("int64")
            if not len(codes):
                continue
            here = with_rows(model, codes, batch)
            ids = [str(u) for u in model.users[codes]]
            frame, _, _ = recommendations(here, ids, n, include_seen=include_seen,
                                          exclude=exclude)  # fmt: skip
            frame = frame.astype({"user": object, "item": object, "source": object})
            yield pa.RecordBatch.from_pandas(frame, preserve_index=False)

    width = _width(spark)
    users = spark.range(0, fitted.n_users, numPartitions=width).select(
        F.col("id").cast("int").alias("u")
    )
    joined = users_with_seen(users, seen_frame(spark, fitted))
    # part files in user-code order, as the local table is
    ordered = joined.repartitionByRange(width, "u").sortWithinPartitions("u")
    recs = ordered.mapInArrow(run, schema)
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


def connect_limit() -> float:
    """Megabytes (MiB) of model Spark Connect may carry inline: $MKTAI_SPARK_CONNECT_LIMIT_MB (a server
    with a smaller spark.connect.grpc.maxInboundMessageSize), else CONNECT_LIMIT_MB."""
    import os

    text = os.environ.get("MKTAI_SPARK_CONNECT_LIMIT_MB", "").strip()
    try:
        megabytes = float(text) if text else CONNECT_LIMIT_MB
    except ValueError:
        raise UsageError(
            f"MKTAI_SPARK_CONNECT_LIMIT_MB={text!r} is not a number of megabytes"
        ) from None
    return megabytes


def ship(spark: Any, fitted: Any) -> Any:
    """A broadcast of the model (classic Spark), or the model inline (Spark Connect), checked
    against the Connect message size: too big is a usage error saying what to do."""
    from mktai.engines.spark_session import is_connect

    if not is_connect(spark):
        return spark.sparkContext.broadcast(fitted)
    from pyspark import cloudpickle  # how pyspark ships functions; only to measure the size

    size, limit = len(cloudpickle.dumps(fitted)), connect_limit()
    if size > limit * 2**20:
        raise UsageError(
            f"the model is {size / 2**20:,.1f} MB; Spark Connect ships it inside the task (no "
            f"broadcast) and takes at most {limit:g} MB: run --all-users "
            "--engine spark with --spark-master URL (a classic session), or without --engine spark"
        )
    return _Inline(fitted)


def without_seen(model: Any) -> Any:
    """The model with an empty seen-items matrix of the same shape: what is shipped to tasks."""
    import dataclasses

    import scipy.sparse as sp

    from mktai.tasks.recommend.family import RecommenderModel

    keep = {f.name: getattr(model, f.name) for f in dataclasses.fields(RecommenderModel)
            if f.name not in ("train", "_scorer", "seen_file")}  # fmt: skip
    return RecommenderModel(train=sp.csr_matrix((model.n_users, model.n_items)), **keep)


def seen_frame(spark: Any, model: Any) -> Any:
    """The model's seen items (u int, i int, value double) as a DataFrame: Spark reads the
    stored seen.parquet of a Spark-trained model; a locally trained one's matrix is sent."""
    import numpy as np
    import pandas as pd

    if getattr(model, "seen_file", None) is not None:
        from mktai.engines.spark_read import missing_paths

        with missing_paths(spark):
            frame = spark.read.parquet(_uri(model.seen_file))
            frame.schema  # noqa: B018  (resolves the path now: a clear error if unseen)
        return frame
    cells = model.train.tocoo()
    return spark.createDataFrame(pd.DataFrame({
        "u": cells.row.astype(np.int32), "i": cells.col.astype(np.int32),
        "value": cells.data.astype(np.float64)}))  # fmt: skip


def users_with_seen(users: Any, seen: Any, extra: tuple[str, ...] = ()) -> Any:
    """users (u, *extra) with the lists of their seen items and values (si, sv), sorted by
    item code within a user (a user with none: empty lists)."""
    from pyspark.sql import functions as F

    grouped = seen.groupBy("u").agg(F.sort_array(F.collect_list(F.struct("i", "value"))).alias("s"))
    joined = users.join(grouped, "u", "left")
    return joined.select(
        "u", *extra,
        F.coalesce(F.col("s.i"), F.array().cast("array<int>")).alias("si"),
        F.coalesce(F.col("s.value"), F.array().cast("array<double>")).alias("sv"),
    )  # fmt: skip


def with_rows(model: Any, codes: Any, batch: Any) -> Any:
    """The shipped model with the seen rows of this batch's users (the other rows empty): all
    that top-N reads of the seen matrix for these users."""
    import dataclasses

    import numpy as np
    import scipy.sparse as sp

    si, sv = batch.column("si"), batch.column("sv")
    lengths = np.asarray(si.value_lengths().fill_null(0), dtype=np.int64)
    rows = np.repeat(np.asarray(codes, dtype=np.int64), lengths)
    cols = np.asarray(si.flatten(), dtype=np.int64)
    data = np.asarray(sv.flatten(), dtype=np.float64)
    train = sp.csr_matrix((data, (rows, cols)), shape=(model.n_users, model.n_items))
    train.sort_indices()
    return dataclasses.replace(model, train=train, _scorer=None)


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
