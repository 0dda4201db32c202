"""Supervised family: purchase propensity / churn (classification) and demand (regression).

The implementation is mktai.tasks.supervised.family (fit / load_model); this module only
declares the family so help, option checks and completion need no scikit-learn.
"""

from mktai.tasks.spec import FamilySpec, Param

_SK = ("auto", "gbm", "linear")
_GBM = ("auto", "gbm")

SPEC = FamilySpec(
    name="supervised",
    kinds=("propensity", "demand"),
    dataset_kind="labelled",
    applies_with="predict",
    module="mktai.tasks.supervised.family",
    algorithms=("auto", "gbm", "linear", "mlp"),
    default_algorithm="auto",
    deep_algorithms=("mlp",),
    summary="propensity / churn (classification) and demand (regression) from a labelled table; "
    "auto races linear and gbm on the CV folds and keeps the better",
    params=(
        Param("test_size", "float", 0.2, "share of rows held out for the holdout metrics (0 = none)", 0.0, 0.9),
        Param("threshold_metric", "str", "f1", "how the decision threshold is chosen on out-of-fold scores", choices=("f1", "youden")),
        Param("class_weight", "str", "none", "reweight classes for imbalanced targets", choices=("balanced", "none")),
        Param("calibrate", "str", "none", "calibrate probabilities on out-of-fold scores", choices=("none", "sigmoid", "isotonic")),
        Param("positive", "str", None, "label of the positive class (default 1 / yes / true, else the rarer class)"),
        Param("drop", "list", None, "columns to exclude from the features (e.g. duration)"),
        Param("leak_auc", "float", 0.8, "single-column ROC AUC from which a column is reported as a possible leak", 0.5, 1.01),
        Param("learning_rate", "float", None, "step size", 1e-6, 1.0, algorithms=("auto", "gbm", "mlp"), by_algorithm=(("gbm", 0.1), ("mlp", 0.001))),
        Param("max_iter", "int", None, "boosting rounds (gbm) or solver iterations (linear) at most", 1, 100000, algorithms=_SK, by_algorithm=(("gbm", 1000), ("linear", 2000))),
        Param("max_leaf_nodes", "int", 31, "leaves per tree", 2, 4096, algorithms=_GBM),
        Param("min_samples_leaf", "int", 20, "rows per leaf at least", 1, None, algorithms=_GBM),
        Param("l2_regularization", "float", 1.0, "L2 penalty on leaf values", 0.0, None, algorithms=_GBM),
        Param("max_features", "float", 0.3, "share of features tried per split", 0.01, 1.0, algorithms=_GBM),
        Param("early_stopping", "bool", True, "stop after 10 rounds without gain on a 10% validation split (false: run max_iter)", algorithms=_GBM),
        Param("c", "float", 1.0, "inverse regularisation strength", 1e-6, 1e6, algorithms=("auto", "linear")),
        Param("epochs", "int", 200, "training epochs at most (early stopping)", 1, 10000, algorithms=("mlp",)),
        Param("batch_size", "int", 0, "rows per batch (0 = automatic)", 0, None, algorithms=("mlp",)),
        Param("patience", "int", 8, "epochs without validation gain before stopping", 0, None, algorithms=("mlp",)),
    ),
)  # fmt: skip
