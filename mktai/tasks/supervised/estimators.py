"""scikit-learn estimators of the supervised family and their pickle-free persistence (skops).

linear: one-hot + median imputation + scaling, then LogisticRegression / LinearRegression.
gbm:    HistGradientBoosting with native categorical handling and native missing values, early
        stopping on a validation split (bank marketing 5-fold CV ROC AUC ~0.939 vs ~0.935 for
        scikit-learn defaults).
Threads: the usable cores not busy with other work ($MKTAI_THREADS overrides), with OpenMP
told to wait passively.
Loading uses skops with an explicit list of trusted types: the file's types are listed with
skops.io.get_untrusted_types and every one must be in ALLOWED_TYPES, else IntegrityError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mktai.errors import UsageError

# The family options each learner is built with; their defaults are the Params of the family's
# SPEC (mktai/tasks/supervised/__init__.py), stated there once.
GBM_PARAMS = ("learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf",
              "l2_regularization", "max_features", "early_stopping")  # fmt: skip
LINEAR_PARAMS = ("c", "max_iter")
MLP_PARAMS = ("epochs", "batch_size", "patience", "learning_rate")
# Not options. Early stopping ends a gbm fit when the loss on a 10% validation split has not
# improved for 10 rounds: on bank marketing 0.939 ROC AUC in ~90 rounds, where the former fixed
# 800 rounds at learning rate 0.025 reached 0.940 at 8x the time (max_iter is only a cap).
GBM_FIXED: dict[str, Any] = {"n_iter_no_change": 10, "validation_fraction": 0.1}

# Every type a stored linear/gbm/mlp-preprocessing artifact may contain beyond skops' defaults.
ALLOWED_TYPES = frozenset(
    {
        "builtins.slice",
        # HistGradientBoosting's categorical preprocessor keeps partial(check_array, ...)
        "functools.partial",
        "sklearn.utils.validation.check_array",
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.float64",
        "numpy.int64",
        "numpy.random.mtrand.RandomState",
        "numpy.random._mt19937.MT19937",
        "pandas.core.arrays.categorical.Categorical",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.impute._base.MissingIndicator",
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._encoders.OrdinalEncoder",
        "sklearn.utils._bunch.Bunch",
    }
)


def learner_params(algorithm: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters ALGORITHM is built with: the family options it takes (PARAMS: the parsed
    options, a missing or None value meaning that algorithm's default in SPEC) + the fixed ones."""
    from mktai.tasks.supervised import SPEC

    names = {"gbm": GBM_PARAMS, "linear": LINEAR_PARAMS, "mlp": MLP_PARAMS}.get(algorithm, ())
    out: dict[str, Any] = {}
    for name in names:
        value = params.get(name)
        out[name] = SPEC.param(name).default_for(algorithm) if value is None else value
    if algorithm == "gbm":
        out.update(GBM_FIXED)
    return out


def encoder_pipeline(numeric: list[str], categorical: list[str]):
    """Median imputation (+ missing indicators) and scaling; one-hot with unknowns ignored."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric_steps = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
        ]
    )
    return ColumnTransformer(
        [
            ("num", numeric_steps, numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ],
        remainder="drop",
    )


def build(
    algorithm: str,
    task: str,
    params: dict[str, Any],
    numeric: list[str],
    categorical: list[str],
    *,
    seed: int,
    class_weight: str | None,
    features: list[str] | None = None,
):
    """An unfitted estimator for linear or gbm (mlp lives in supervised_mlp).

    gbm with `features` (the prepared columns in order) takes a float array with category codes
    (tabular_prep.as_codes); without, pandas categoricals ("from_dtype", the pre-#13 models).
    """
    classification = task in ("binary", "multiclass")
    if algorithm == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        kinds: Any = "from_dtype"
        if features is not None:
            mask = [name in categorical for name in features]
            kinds = mask if any(mask) else None
        if classification:
            return HistGradientBoostingClassifier(
                categorical_features=kinds,
                class_weight=class_weight,
                random_state=seed,
                **params,
            )
        return HistGradientBoostingRegressor(
            categorical_features=kinds, random_state=seed, **params
        )
    if algorithm == "linear":
        from sklearn.linear_model import LinearRegression, LogisticRegression
        from sklearn.pipeline import Pipeline

        if classification:
            model = LogisticRegression(
                C=params["c"], max_iter=params["max_iter"], class_weight=class_weight
            )
        else:
            model = LinearRegression()
        return Pipeline([("encode", encoder_pipeline(numeric, categorical)), ("model", model)])
    raise UsageError(f"unknown algorithm {algorithm!r}; choose linear, gbm or mlp")


def default_threads() -> int:
    """OpenMP threads for HistGradientBoosting: $MKTAI_THREADS, else the cores not busy now.

    Every core this process may use, less the ones other processes keep busy (the 1-minute load
    average, counting this process as one): an idle machine gets all cores, a shared one just
    1. Measured on bank marketing (45k rows, 2 cores, load average ~5 from other jobs): 4.3 s
    with 1 thread, 7.0 s with 2 (passive waiting); on an idle machine the threads pay off.
    """
    import os

    raw = os.environ.get("MKTAI_THREADS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):
        others = 0.0
    return int(min(cores, max(1, round(cores - others))))


def passive_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spinning, unless the user chose otherwise.

    With the default (spinning) policy, HistGradientBoosting's threads busy-wait for each other
    between its many short parallel sections; when other processes hold the cores (shared cron
    and CI machines) that made a 45k-row bank marketing fit take 78 s with 2 threads instead of
    4.4 s with 1 (load average 4.5 on 2 cores). With OMP_WAIT_POLICY=PASSIVE, 2 threads under
    the same kind of load cost 1.0-1.6x the 1-thread time instead of 18x, so a wrong guess of
    free cores costs little. OpenMP reads the variable once, when the runtime loads, so this
    runs before scikit-learn is imported.
    """
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def limit_threads(rows: int):
    """Context manager: OpenMP and BLAS threads (see default_threads).

    BLAS too: on a busy 2-core machine OpenBLAS's own threads made a logistic regression on
    bank marketing take 1.4 s instead of 0.35 s with one thread.
    """
    return _controller().limit(limits=default_threads())


_CONTROLLER: list[Any] = []  # [(modules loaded when it was built, ThreadpoolController)]


def _controller() -> Any:
    """threadpoolctl's view of the loaded thread pools, built once per set of imported modules.

    Building it reads /proc/self/maps and every library's symbols (~5 ms, as much as scoring a
    row in a server); a native library only arrives with an import, so it is rebuilt when
    sys.modules has grown since.
    """
    import sys

    passive_openmp()
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime so the limit can reach it
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER or _CONTROLLER[0][0] != len(sys.modules):
        _CONTROLLER[:] = [(len(sys.modules), ThreadpoolController())]
    return _CONTROLLER[0][1]


def save_skops(estimator: Any, path: Path) -> None:
    from mktai.store.formats import write_skops

    write_skops(path, estimator)


def load_skops(path: Path) -> Any:
    """Load a skops file trusting only the types in ALLOWED_TYPES (nothing else is executed)."""
    from mktai.store.formats import read_skops

    return read_skops(path, ALLOWED_TYPES)
