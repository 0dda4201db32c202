"""ALS for the recommend family: factors learned by Spark MLlib, stored as the family's arrays.

pyspark.ml.recommendation.ALS needs integer ids: the family's codes (sorted raw ids -> 0..n-1,
kept with the model as its id maps) are those ids. Explicit ratings: the global mean and
regularised user / item biases are taken out first (as Surprise's SVD models them) and ALS
factorises the residuals, so the stored arrays are exactly svd's (mu, bu, bi, pu, qi) and
`recommend`, `evaluate` and `serve` score them with NumPy on any machine. Implicit purchases:
ALS's implicit mode with confidence 1 + alpha * weight; no biases.

Both the local read (events as arrays, `fit`) and the Spark read (events as a DataFrame,
als_spark) train through fit_frame, so the biases and factors come from one definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from mktai.tasks.recommend.interactions import Interactions

DEFAULTS = {"n_factors": 50, "n_epochs": 15, "reg_all": 0.05, "alpha": 10.0}
BIAS_REG = (15.0, 10.0)  # item, user: BaselineOnly's ALS defaults (reg_i, reg_u)
BIAS_ROUNDS = 10
MAX_BLOCKS = 10  # MLlib's default numUserBlocks / numItemBlocks


def fit(events: Interactions, params: dict[str, Any], seed: int, *, matrix: Any = None) -> dict:
    """The arrays of an ALS model trained on Spark from events held as arrays (the local
    engine's read): they become a DataFrame and go through fit_frame."""
    import numpy as np
    import pandas as pd

    from mktai.engines.spark_session import get_session

    implicit = events.feedback == "implicit"
    if implicit:
        cells = (matrix if matrix is not None else events.matrix("count")).tocoo()
        u, i, value = cells.row, cells.col, cells.data.astype(np.float64)
    else:
        u, i, value = events.u, events.i, events.value
    frame = get_session().createDataFrame(
        pd.DataFrame({"u": u.astype(np.int32), "i": i.astype(np.int32), "value": value})
    )
    return fit_frame(frame, events.n_users, events.n_items, implicit, params, seed)


def fit_frame(frame: Any, n_users: int, n_items: int, implicit: bool, params: dict[str, Any],
              seed: int) -> dict:  # fmt: skip
    """The arrays of an ALS model from a DataFrame (u int, i int, value double): explicit
    ratings (biases taken out on Spark first) or implicit matrix cells (the confidence weight).
    Only arrays the size of the user base and the catalogue come back to the driver."""
    import numpy as np
    from pyspark import StorageLevel
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    get = {k: params.get(k) if params.get(k) is not None else v for k, v in DEFAULTS.items()}
    frame = frame.select(F.col("u").cast("int"), F.col("i").cast("int"),
                         F.col("value").cast("double")).persist(StorageLevel.MEMORY_AND_DISK)  # fmt: skip
    try:
        n_u = _by_code(frame.groupBy(F.col("u").alias("c")).count(), n_users)
        n_i = _by_code(frame.groupBy(F.col("i").alias("c")).count(), n_items)
        if implicit:
            mu, bu, bi = 0.0, np.zeros(n_users), np.zeros(n_items)
            target = frame.select("u", "i", F.col("value").alias("r"))
        else:
            mu, bu, bi = baseline(frame, n_u, n_i)
            spark = frame.sparkSession
            target = (
                frame.join(_array_frame(spark, bu, "u", "bu"), "u")
                .join(_array_frame(spark, bi, "i", "bi"), "i")
                .select("u", "i", (F.col("value") - F.lit(mu) - F.col("bu") - F.col("bi")).alias("r"))
            )  # fmt: skip
        als = ALS(
            rank=int(get["n_factors"]),
            maxIter=int(get["n_epochs"]),
            regParam=float(get["reg_all"]),
            implicitPrefs=implicit,
            alpha=float(get["alpha"]),
            userCol="u",
            itemCol="i",
            ratingCol="r",
            seed=int(seed),
            coldStartStrategy="nan",
            nonnegative=False,
            numUserBlocks=blocks(frame.sparkSession),
            numItemBlocks=blocks(frame.sparkSession),
        )
        model = als.fit(target)
        pu = _factors(model.userFactors, n_users, int(get["n_factors"]))
        qi = _factors(model.itemFactors, n_items, int(get["n_factors"]))
    finally:
        frame.unpersist()
    return {"mu": np.float64(mu), "known_u": n_u > 0, "known_i": n_i > 0,
            "biased": np.bool_(not implicit), "bu": bu, "bi": bi, "pu": pu, "qi": qi}  # fmt: skip


def blocks(spark: Any) -> int:
    """ALS blocks: the shuffle width, at most MLlib's default 10 (each block is a task of every
    one of the ~3 stages per iteration; 10 blocks on a 2-core local master is 5 waves)."""
    try:
        width = int(spark.conf.get("spark.sql.shuffle.partitions"))
    except (TypeError, ValueError):
        width = MAX_BLOCKS
    return max(1, min(MAX_BLOCKS, width))


def baseline(frame: Any, n_u: np.ndarray, n_i: np.ndarray) -> tuple[float, Any, Any]:
    """Global mean and regularised biases by alternating least squares (BaselineOnly's), the
    sums over ratings done by Spark; each round's biases come back as arrays, so the plan of
    the next round stays one join deep."""
    import numpy as np
    from pyspark.sql import functions as F

    spark = frame.sparkSession
    mu = float(frame.agg(F.avg("value")).collect()[0][0])
    bu, bi = np.zeros(len(n_u)), np.zeros(len(n_i))
    reg_i, reg_u = BIAS_REG
    # one copy hash-partitioned by item and one by user: each round's sums are then one
    # stage (no shuffle), the small bias table joined by broadcast
    width = blocks(spark)
    by_item = frame.repartition(width, "i").persist()
    by_user = frame.repartition(width, "u").persist()
    try:
        for _ in range(BIAS_ROUNDS):
            bi = _sums(by_item, _array_frame(spark, bu, "u", "b"), "u", "i", mu, len(n_i))
            bi /= reg_i + n_i
            bu = _sums(by_user, _array_frame(spark, bi, "i", "b"), "i", "u", mu, len(n_u))
            bu /= reg_u + n_u
    finally:
        by_item.unpersist()
        by_user.unpersist()
    return mu, bu, bi


def _sums(frame: Any, biases: Any, on: str, by: str, mu: float, n: int) -> np.ndarray:
    """Per code of `by`: the sum of (rating - mu - the other side's bias)."""
    from pyspark.sql import functions as F

    joined = frame.join(F.broadcast(biases), on)
    sums = joined.groupBy(F.col(by).alias("c")).agg(
        F.sum(F.col("value") - F.lit(mu) - F.col("b")).alias("s")
    )
    return _by_code(sums, n, "s")


def _array_frame(spark: Any, values: np.ndarray, code: str, name: str) -> Any:
    """A code -> value DataFrame of an array (user- or item-sized)."""
    import numpy as np
    import pandas as pd

    return spark.createDataFrame(
        pd.DataFrame({code: np.arange(len(values), dtype=np.int32), name: values})
    )


def _by_code(frame: Any, n: int, column: str = "count") -> np.ndarray:
    """(c, value) rows of an aggregation as an array indexed by code (0 where absent)."""
    import numpy as np

    table = frame.select("c", column).toArrow()
    out = np.zeros(n)
    if table.num_rows:
        codes = table.column(0).to_numpy(zero_copy_only=False).astype(np.int64)
        out[codes] = table.column(1).to_numpy(zero_copy_only=False).astype(np.float64)
    return out


def _factors(frame: Any, n: int, rank: int) -> np.ndarray:
    """MLlib's (id, features) rows as an n x rank array in code order (zeros if unseen)."""
    import numpy as np

    rows = frame.toPandas()
    out = np.zeros((n, rank))
    if len(rows):
        out[rows["id"].to_numpy(dtype=np.int64)] = np.vstack(rows["features"].to_numpy())
    return out
