"""ALS for the recommend family: factors learned by Spark MLlib, stored as the family's arrays.

pyspark.ml.recommendation.ALS needs integer ids: the family's codes (sorted raw ids -> 0..n-1,
kept with the model as its id maps) are those ids. Explicit ratings: the global mean and
regularised user / item biases are taken out first (as Surprise's SVD models them) and ALS
factorises the residuals, so the stored arrays are exactly svd's (mu, bu, bi, pu, qi) and
`recommend`, `evaluate` and `serve` score them with NumPy on any machine. Implicit purchases:
ALS's implicit mode with confidence 1 + alpha * weight; no biases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from mktai.tasks.recommend.interactions import Interactions

DEFAULTS = {"n_factors": 50, "n_epochs": 15, "reg_all": 0.05, "alpha": 10.0}
BIAS_REG = (15.0, 10.0)  # item, user: BaselineOnly's ALS defaults (reg_i, reg_u)
BIAS_ROUNDS = 10


def fit(events: Interactions, params: dict[str, Any], seed: int, *, matrix: Any = None) -> dict:
    """The arrays of an ALS model trained on Spark (session from mktai.engines)."""
    import numpy as np
    import pandas as pd

    from mktai.engines.spark_session import get_session

    get = {k: params.get(k) if params.get(k) is not None else v for k, v in DEFAULTS.items()}
    spark = get_session()
    implicit = events.feedback == "implicit"
    n_users, n_items = events.n_users, events.n_items
    if implicit:
        cells = (matrix if matrix is not None else events.matrix("count")).tocoo()
        u, i, target = cells.row, cells.col, cells.data.astype(np.float64)
        mu, bu, bi = 0.0, np.zeros(n_users), np.zeros(n_items)
    else:
        u, i = events.u, events.i
        mu, bu, bi = baseline(u, i, events.value, n_users, n_items)
        target = events.value - mu - bu[u] - bi[i]
    frame = spark.createDataFrame(
        pd.DataFrame({"u": u.astype(np.int32), "i": i.astype(np.int32), "r": target})
    )
    from pyspark.ml.recommendation import ALS

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
    )
    model = als.fit(frame)
    pu = _factors(model.userFactors, n_users, int(get["n_factors"]))
    qi = _factors(model.itemFactors, n_items, int(get["n_factors"]))
    known_u = np.bincount(u, minlength=n_users) > 0
    known_i = np.bincount(i, minlength=n_items) > 0
    return {"mu": np.float64(mu), "known_u": known_u, "known_i": known_i,
            "biased": np.bool_(not implicit), "bu": bu, "bi": bi, "pu": pu, "qi": qi}  # fmt: skip


def baseline(u: Any, i: Any, r: Any, n_users: int, n_items: int) -> tuple[float, Any, Any]:
    """Global mean and regularised biases by alternating least squares (BaselineOnly's)."""
    import numpy as np

    mu = float(np.mean(r))
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    n_u = np.bincount(u, minlength=n_users)
    n_i = np.bincount(i, minlength=n_items)
    reg_i, reg_u = BIAS_REG
    for _ in range(BIAS_ROUNDS):
        bi = np.bincount(i, weights=r - mu - bu[u], minlength=n_items) / (reg_i + n_i)
        bu = np.bincount(u, weights=r - mu - bi[i], minlength=n_users) / (reg_u + n_u)
    return mu, bu, bi


def _factors(frame: Any, n: int, rank: int) -> np.ndarray:
    """MLlib's (id, features) rows as an n x rank array in code order (zeros if unseen)."""
    import numpy as np

    rows = frame.toPandas()
    out = np.zeros((n, rank))
    if len(rows):
        out[rows["id"].to_numpy(dtype=np.int64)] = np.vstack(rows["features"].to_numpy())
    return out
