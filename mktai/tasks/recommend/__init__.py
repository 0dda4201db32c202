"""The recommend family: explicit-rating and purchase-based recommenders (`mktai recommend`).

Light on purpose: only the declared spec. The code is in mktai.tasks.recommend.family.
"""

from __future__ import annotations

from mktai.tasks.spec import FamilySpec, Param

EXPLICIT = (
    "svd",
    "svdpp",
    "nmf",
    "knn-baseline",
    "baseline",
    "slope-one",
    "co-clustering",
    "blend",
)
IMPLICIT = ("ease", "item-knn", "popularity")
SPARK = ("als",)  # either feedback; trained on Spark (mktai[spark]), scored with NumPy
FACTORS = ("svd", "svdpp", "nmf", "als")
SGD = ("svd", "svdpp", "nmf", "blend")

SPEC = FamilySpec(
    name="recommend",
    kinds=("recommender",),
    dataset_kind="ratings",
    chooses_dataset_kind=True,
    applies_with="recommend",
    module="mktai.tasks.recommend.family",
    algorithms=EXPLICIT + IMPLICIT + SPARK,
    default_algorithm=None,  # explicit ratings -> svd, purchases -> ease (chosen in fit)
    summary="Top-N recommendations from ratings (Surprise algorithms) or purchases (EASE).",
    params=(
        Param(
            "feedback",
            "str",
            None,
            "explicit or implicit (default: from the data)",
            choices=("explicit", "implicit"),
        ),
        Param("scale", "str", None, "rating scale LOW,HIGH, e.g. 1,5 (default: detected)"),
        Param(
            "n_factors",
            "int",
            None,
            "latent factors (Surprise defaults: 100/20/15)",
            low=1,
            high=1000,
            algorithms=FACTORS,
        ),
        Param(
            "n_epochs",
            "int",
            None,
            "SGD epochs (Surprise default 20, nmf 50)",
            low=1,
            high=1000,
            algorithms=SGD,
        ),
        Param(
            "lr_all",
            "float",
            None,
            "SGD learning rate (svd/svdpp)",
            low=0.0,
            high=1.0,
            algorithms=("svd", "svdpp", "blend"),
        ),
        Param(
            "reg_all",
            "float",
            None,
            "SGD regularisation (svd/svdpp); ALS regParam (als, default 0.05)",
            low=0.0,
            high=10.0,
            algorithms=("svd", "svdpp", "blend", "als"),
        ),
        Param(
            "alpha",
            "float",
            None,
            "ALS implicit confidence: 1 + alpha x purchases (default 10)",
            low=0.0,
            high=1e6,
            algorithms=("als",),
        ),
        Param(
            "k",
            "int",
            None,
            "neighbours per item (knn-baseline 40, item-knn 100)",
            low=1,
            high=10000,
            algorithms=("knn-baseline", "item-knn", "blend"),
        ),
        Param(
            "lambda",
            "float",
            200.0,
            "EASE L2 regularisation",
            low=0.0,
            high=1e9,
            algorithms=("ease",),
        ),
        Param(
            "members",
            "list",
            ["svd", "knn-baseline", "baseline"],
            "algorithms stacked by blend",
            algorithms=("blend",),
            choices=EXPLICIT[:-1],
        ),
        Param(
            "weighting",
            "str",
            "binary",
            "purchase matrix cells: binary, count or log",
            choices=("binary", "count", "log"),
            algorithms=IMPLICIT,
        ),
        Param("tune", "bool", False, "cross-validated grid search of the algorithm's parameters"),
        Param(
            "test_size",
            "float",
            0.2,
            "share held out for holdout metrics (0: none)",
            low=0.0,
            high=0.9,
        ),
        Param(
            "split", "str", "random", "holdout split: random or time", choices=("random", "time")
        ),
    ),  # fmt: skip
)
