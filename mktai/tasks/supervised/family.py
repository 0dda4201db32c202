"""Supervised family: purchase propensity / churn (classification) and demand (regression).

fit() validates the target, holds out --test-size of the rows, cross-validates (stratified k-fold)
on the rest, calibrates probabilities and picks the decision threshold on out-of-fold predictions,
keeps the fold models as the final model (linear, gbm) or refits on the training part (mlp), scores
the holdout, and records permutation importance and possible target leaks. Algorithms: auto
(default: linear and gbm raced on the CV folds, the better kept; see supervised_cv), linear, gbm
(early stopping on a validation split), mlp (Keras, TensorFlow imported only then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError, UsageError
from mktai.tasks.base import TrainOptions
from mktai.tasks.supervised.estimators import passive_openmp

# Before anything here imports scikit-learn (loading a model imports it through skops).
passive_openmp()

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable

MODEL_FORMAT = 1
FEW_ROWS = 64  # rows scored without a thread limit (see raw_scores)
POSITIVE_NAMES = ("1", "yes", "true", "y", "positive", "是")


def _label(value: Any) -> Any:
    """A JSON-friendly class label: integral floats become ints, numpy scalars Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key(value: Any) -> str:
    return str(_label(value))


def _keys(values: pd.Series) -> pd.Series:
    """_key of every value, computed once per distinct value (a target has few of them)."""
    lookup = {value: _key(value) for value in values.unique()}
    return values.map(lookup)


# --------------------------------------------------------------------------- learners


class SkLearner:
    """A scikit-learn estimator behind the small fit / predict_raw interface the family uses."""

    def __init__(self, estimator: Any, task: str, encoded: bool, schema: dict[str, Any]):
        self.estimator, self.task, self.encoded, self.schema = estimator, task, encoded, schema
        # gbm models since #13 take category codes; older ones pandas categoricals
        self.codes = not encoded and getattr(estimator, "categorical_features", "") != "from_dtype"
        self._scorer: Any = None  # the estimator used to predict (fast_predict), made once
        self._scorer_of: Any = None  # ...for this estimator (fit replaces it)
        self._encoded: Any = None  # (estimator, linear_fast.EncodedScorer or None)

    def _input(self, X):
        from mktai.tasks.common.tabular import as_codes, for_encoders

        if self.encoded:
            return for_encoders(X, self.schema)
        return as_codes(X, self.schema) if self.codes else X

    def fit(self, X, y, class_weight=None) -> SkLearner:
        self.estimator.fit(self._input(X), y)
        self._scorer = None  # refitted in place: the scorers copy the new fit when asked
        self._encoded = None
        return self

    def predict_raw(self, X):
        return self.predict_codes(self._input(X))

    @property
    def takes_codes(self) -> bool:
        """Whether predict_codes accepts prepare_codes' array (gbm on category codes)."""
        return self.codes

    def predict_codes(self, X):
        """Probabilities (values for regression) of the model's input array."""
        scorer = self.scorer()
        if self.task == "regression":
            return scorer.predict(X).astype(float)
        return scorer.predict_proba(X)

    @property
    def takes_few_codes(self) -> bool:
        """Whether predict_few_codes scores prepare_codes' array of a few rows (a linear
        pipeline whose encoder linear_fast proved it computes in NumPy)."""
        return self.encoded and self.encoded_scorer() is not None

    def predict_few_codes(self, X):
        """predict_raw of a few rows given as prepare_codes' array (takes_few_codes)."""
        scorer = self.encoded_scorer()
        if self.task == "regression":
            return scorer.predict(X).astype(float)
        return scorer.predict_proba(X)

    def scores_cheaply(self, rows: int) -> bool:
        """Whether `rows` rows are scored by a NumPy path already built (the linear encoder,
        the gbm walk within its budget): bounded work, fit for a server's event loop. Never
        builds one (its check against sklearn takes time at load)."""
        if self.encoded:
            return rows <= FEW_ROWS and self._encoded is not None and self._encoded[1] is not None
        walks = getattr(self._scorer, "walks", None)
        return self._scorer_of is self.estimator and walks is not None and walks(rows)

    def encoded_scorer(self) -> Any:
        if self._encoded is None or self._encoded[0] is not self.estimator:
            from mktai.tasks.supervised.linear_fast import encoded_scorer

            made = encoded_scorer(self.estimator, self.schema, self.task) if self.encoded else None
            self._encoded = (self.estimator, made)
        return self._encoded[1]

    def scorer(self) -> Any:
        """The fitted estimator for predicting: HistGradientBoosting without its per-call
        preprocessor validation when that is provably the same (fast_predict), its trees
        walked in NumPy for a few rows (forest), each only where it gives sklearn's numbers."""
        if self._scorer is None or self._scorer_of is not self.estimator:
            from mktai.tasks.supervised.fast_predict import fast_estimator
            from mktai.tasks.supervised.forest import forest_scorer

            scorer = self.estimator
            if self.codes:
                scorer = forest_scorer(fast_estimator(self.estimator))
            self._scorer = scorer
            self._scorer_of = self.estimator
        return self._scorer


class EncodedKeras:
    """KerasNet fed with string categoricals (its encoder one-hot encodes them)."""

    def __init__(self, net: Any, schema: dict[str, Any]):
        self.net, self.schema = net, schema

    def fit(self, X, y, class_weight=None) -> EncodedKeras:
        from mktai.tasks.common.tabular import for_encoders

        self.net.fit(for_encoders(X, self.schema), y, class_weight=class_weight)
        return self

    def predict_raw(self, X):
        from mktai.tasks.common.tabular import for_encoders

        return self.net.predict_raw(for_encoders(X, self.schema))


# --------------------------------------------------------------------------- calibration


def fit_calibration(method: str, proba, y) -> dict[str, Any] | None:
    """Platt (sigmoid) or isotonic mapping fitted on out-of-fold probabilities, as JSON."""
    import numpy as np

    if method in ("none", "", None):
        return None
    p = np.clip(np.asarray(proba, dtype=float), 1e-6, 1 - 1e-6)
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        logit = np.log(p / (1 - p)).reshape(-1, 1)
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(logit, y)
        return {"method": "sigmoid", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
        return {
            "method": "isotonic",
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    raise UsageError(f"--calibrate {method!r}: choose none, sigmoid or isotonic")


def apply_calibration(calibration: dict[str, Any] | None, proba):
    import numpy as np

    p = np.asarray(proba, dtype=float)
    if not calibration:
        return p
    if calibration["method"] == "sigmoid":
        q = np.clip(p, 1e-6, 1 - 1e-6)
        z = calibration["a"] * np.log(q / (1 - q)) + calibration["b"]
        return 1.0 / (1.0 + np.exp(-z))
    return np.interp(p, calibration["x"], calibration["y"])


# --------------------------------------------------------------------------- the model


@dataclass
class SupervisedModel:
    """A fitted propensity or demand model: learner + schema + threshold + calibration."""

    kind: str
    algorithm: str
    task: str  # binary | multiclass | regression
    schema: dict[str, Any]
    learner: Any
    classes: list[Any] = field(default_factory=list)
    positive: Any = None
    threshold: float | None = None
    calibration: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ persistence
    def info(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "kind": self.kind,
            "algorithm": self.algorithm,
            "task": self.task,
            "classes": self.classes,
            "positive": self.positive,
            "threshold": self.threshold,
            "calibration": self.calibration,
            "params": self.params,
            "seed": self.seed,
            "input_schema": self.schema,
        }

    def save(self, directory: Path) -> None:
        from mktai.store.formats import write_json
        from mktai.tasks.supervised.estimators import save_skops

        info = self.info()
        if self.algorithm == "mlp":
            info["mlp"] = self.learner.net.save(directory)
        else:
            save_skops(self.learner.estimator, directory / "model.skops")
        write_json(directory / "model.json", info)

    def manifest_fields(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "task": self.task,
            "target": self.schema["target"]["name"],
            "classes": self.classes,
            "positive": self.positive,
            "threshold": self.threshold,
            "calibration": (self.calibration or {}).get("method"),
            "metrics": self.metrics,
            "input_schema": self.schema,
            **self.extras,
        }

    # ------------------------------------------------------------------ scoring
    def scores_cheaply(self, rows: int) -> bool:
        """Whether `rows` rows score on a bounded NumPy path (SkLearner.scores_cheaply)."""
        cheap = getattr(self.learner, "scores_cheaply", None)
        return bool(cheap and cheap(rows))

    def raw_scores(self, frame: pd.DataFrame, source: str = "input"):
        """(probabilities n x k or values, prepare stats) for a frame with the schema's columns."""
        import numpy as np

        from mktai.tasks.common.tabular import check_columns, prepare, prepare_codes
        from mktai.tasks.supervised.estimators import limit_threads

        check_columns(frame, self.schema, source)
        if getattr(self.learner, "takes_codes", False):  # gbm: no frame of Categoricals between
            X, stats = prepare_codes(frame, self.schema)
            predict = self.learner.predict_codes
        elif len(frame) <= FEW_ROWS and getattr(self.learner, "takes_few_codes", False):
            X, stats = prepare_codes(frame, self.schema)  # linear: its encoder in NumPy
            predict = self.learner.predict_few_codes
        else:
            X, stats = prepare(frame, self.schema)
            predict = self.learner.predict_raw
        if len(X) == 0:
            width = len(self.classes) if self.task != "regression" else 0
            return (np.zeros((0, width)) if width else np.zeros(0)), stats
        if self.scores_cheaply(len(X)):  # a NumPy path: no OpenMP pool to limit, and the
            raw = predict(X)  # limit's own bookkeeping costs more than scoring a few rows
        else:
            with limit_threads(len(X)):
                raw = predict(X)
        if self.task == "binary":
            p = apply_calibration(self.calibration, raw[:, 1])
            raw = np.column_stack([1 - p, p])
        return raw, stats

    def predict(self, table: CleanTable) -> tuple[pd.DataFrame, dict[str, Any]]:
        """(the input columns plus score and prediction (and proba_<class> for multi-class),
        preparation stats: unseen categories, imputed missing values, invalid numbers)."""
        frame = table.frame
        raw, stats = self.raw_scores(frame, table.describe())
        # the user's columns as they wrote them (names, 'yes'), when the reader kept them
        out = (table.raw if table.raw is not None else frame).copy()
        for name, values in self.score_columns(raw).items():
            out[name] = values
        return out, stats

    def score_names(self) -> list[str]:
        """The columns score_columns makes, in order."""
        proba = [f"proba_{label}" for label in self.classes]
        return ["score", "prediction", *(proba if self.task == "multiclass" else [])]

    def score_columns(self, raw) -> dict[str, Any]:
        """score and prediction (and proba_<class> for multi-class) from raw_scores' output,
        in the order predict adds them (a server answering only these builds no other)."""
        import numpy as np

        if self.task == "regression":
            return {"score": raw, "prediction": raw}
        labels = np.asarray(self.classes, dtype=object)
        if self.task == "binary":
            return {"score": raw[:, 1],
                    "prediction": labels[(raw[:, 1] >= self.threshold).astype(int)]}  # fmt: skip
        best = raw.argmax(axis=1) if len(raw) else np.zeros(0, dtype=int)
        out = {"score": raw.max(axis=1) if len(raw) else [], "prediction": labels[best]}
        for i, label in enumerate(self.classes):
            out[f"proba_{label}"] = raw[:, i]
        return out

    def _truth(self, table: CleanTable):
        """(frame with a known target, true labels, rows without target) for evaluation."""
        target = self.schema["target"]["name"]
        column = table.roles.get("target") or target
        frame = table.frame
        if column not in frame.columns:
            raise InputError(
                f"{table.describe()}: no target column {column!r}; evaluation needs the true "
                "outcome (name it with --target or --map target=COLUMN)"
            )
        known = frame[column].notna()
        return frame.loc[known], frame.loc[known, column], int((~known).sum())

    def evaluate(self, table: CleanTable) -> dict[str, Any]:
        """Classification or regression metrics, lift and curve data on a labelled table."""
        import numpy as np
        import pandas as pd

        from mktai.evaluation import metrics as em

        frame, truth, no_target = self._truth(table)
        if len(frame) == 0:
            raise InputError(f"{table.describe()}: no rows with a known target to evaluate on")
        raw, stats = self.raw_scores(frame, table.describe())
        if self.task == "regression":
            y = pd.to_numeric(truth, errors="coerce")
            if y.isna().any():
                raise InputError(
                    f"{table.describe()}: target column {truth.name!r} has non-numeric values "
                    f"(e.g. {truth[y.isna()].iloc[0]!r})"
                )
            result = em.regression_metrics(y.to_numpy(dtype=float), raw)
        else:
            keys, boolean = _label_keys(truth, self.classes)
            known = {_key(c): i for i, c in enumerate(self.classes)}
            stray = keys[~keys.isin(list(known))]
            if len(stray):
                counts = stray.value_counts()
                named = ", ".join(f"{k!r} ({n} row{'s' if n > 1 else ''})"
                                  for k, n in counts.head(5).items())  # fmt: skip
                more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
                words = " (yes/no words count as 1/0)" if boolean else ""
                raise InputError(
                    f"{table.describe()}: target {truth.name!r} has labels the model never saw "
                    f"in training: {named}{more}; known labels: {', '.join(known)}{words}. "
                    "Fix or remove those rows"
                )
            index = keys.map(known).to_numpy(dtype=int)
            if self.task == "binary":
                result = em.binary_metrics(index, raw[:, 1], self.threshold)
                result["positive"] = self.positive
            else:
                labels = np.asarray(self.classes, dtype=object)
                result = em.multiclass_metrics(labels[index], raw, self.classes)
        result["rows_without_target"] = no_target
        result["unseen_categories"] = stats["unseen"]
        result["missing_values"] = stats["missing"]
        return result


def _label_keys(truth: pd.Series, classes: list[Any]) -> tuple[pd.Series, bool]:
    """The true labels as keys in the model's label space, and whether yes/no words were mapped.

    The cleaning layer turns a clean yes/no column into 1/0, but one stray value ('Maybe') keeps
    the whole column as text: compare 'Yes'/'No' with the model's 1/0 all the same, so only the
    stray value is reported.
    """
    keys = _keys(truth)
    if {_key(c) for c in classes} <= {"0", "1"} and not set(keys) <= {"0", "1"}:
        from mktai.data.parse import parse_booleans

        values, _failed = parse_booleans(truth.astype("string"))
        mapped = values.notna()
        if mapped.any():
            keys = keys.where(~mapped, values.astype("Int64").astype("string"))
            return keys.astype(object), True
    return keys, False


# --------------------------------------------------------------------------- training


@dataclass
class Target:
    name: str
    task: str
    y: Any  # encoded: 0/1, class index or float
    classes: list[Any]
    positive: Any
    keep: Any  # boolean mask of rows with a target


def resolve_target(table: CleanTable, kind: str, options: TrainOptions) -> Target:
    """Validate the target column and encode it (exit 2 on a missing, constant or bad target)."""
    import pandas as pd

    frame = table.frame
    if len(frame) == 0:
        rejects = table.rejects
        rejected = len(rejects) if rejects is not None else 0
        why = "the file has a header but no data rows"
        if rejected:
            reasons = (
                rejects["reason"].astype(str).value_counts().head(3) if "reason" in rejects else {}
            )
            listed = "; ".join(f"{reason}: {n}" for reason, n in dict(reasons).items())
            why = f"all {rejected} row(s) were rejected by cleaning" + (
                f" ({listed})" if listed else ""
            )
        raise InputError(f"{table.describe()}: no data rows to train on ({why})")
    name = table.roles.get("target") or options.target
    if not name:
        raise InputError(f"{table.describe()}: no target column; name it with --target COLUMN")
    if name not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:20]))
        raise InputError(
            f"{table.describe()}: target column {name!r} not found (columns: {cols}); "
            "check --target"
        )
    column = frame[name]
    keep = column.notna().to_numpy()
    values = column[keep]
    if values.nunique() < 2:
        if not len(values):
            raise InputError(
                f"{table.describe()}: target column {name!r} is empty in all {len(frame)} "
                "row(s); a model needs known outcomes"
            )
        only = f" (every row is {_label(values.iloc[0])!r})"
        raise InputError(
            f"{table.describe()}: target column {name!r} is constant{only}; a model needs at "
            "least two different outcomes"
        )
    if kind == "demand":
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.isna().any() or pd.api.types.is_bool_dtype(values):
            bad = values[numbers.isna()].iloc[0] if numbers.isna().any() else values.iloc[0]
            raise InputError(
                f"{table.describe()}: target column {name!r} is not numeric (e.g. {bad!r}); "
                "demand models predict numbers, use kind propensity for classes"
            )
        return Target(name, "regression", numbers.to_numpy(dtype=float), [], None, keep)
    keys = _keys(values)
    counts = keys.value_counts()
    lonely = counts[counts < 2]
    if len(lonely):
        raise InputError(
            f"{table.describe()}: class {lonely.index[0]!r} of target {name!r} has only one row; "
            "every class needs at least two (merge rare classes or add data)"
        )
    if len(counts) > 50:
        raise InputError(
            f"{table.describe()}: target {name!r} has {len(counts)} different values; that looks "
            "like a number to predict: use kind demand"
        )
    first = {}
    for value in values.unique():  # first-seen order, as iterating the rows gave
        first.setdefault(_key(value), _label(value))
    ordered = sorted(first, key=lambda k: (isinstance(first[k], str), first[k]))
    if len(ordered) == 2:
        wanted = options.params.get("positive")
        if wanted is not None:
            if wanted not in first:
                raise UsageError(f"--positive {wanted!r} is not a label of {name!r}: {ordered}")
            pos = wanted
        else:
            named = [k for k in ordered if k.strip().lower() in POSITIVE_NAMES]
            pos = named[0] if named else min(ordered, key=lambda k: (counts[k], k))
        neg = next(k for k in ordered if k != pos)
        y = (keys == pos).to_numpy(dtype=int)
        return Target(name, "binary", y, [first[neg], first[pos]], first[pos], keep)
    index = {k: i for i, k in enumerate(ordered)}
    y = keys.map(index).to_numpy(dtype=int)
    return Target(name, "multiclass", y, [first[k] for k in ordered], None, keep)


def _make_learner(algorithm, task, params, schema, seed, class_weight, n_classes):
    from mktai.tasks.common.tabular import categorical_names, feature_names
    from mktai.tasks.supervised.estimators import build

    categorical = categorical_names(schema)
    numeric = [n for n in feature_names(schema) if n not in categorical]
    if algorithm == "mlp":
        from mktai.tasks.supervised.mlp import KerasNet

        net = KerasNet(task, n_classes, params, seed, numeric, categorical)
        return EncodedKeras(net, schema)
    estimator = build(algorithm, task, params, numeric, categorical, seed=seed,
                      class_weight=class_weight, features=feature_names(schema))  # fmt: skip
    return SkLearner(estimator, task, algorithm == "linear", schema)


def _keras_weights(y, enabled: bool) -> dict[int, float] | None:
    import numpy as np

    if not enabled:
        return None
    classes, counts = np.unique(y, return_counts=True)
    return {
        int(c): float(len(y) / (len(classes) * n)) for c, n in zip(classes, counts, strict=True)
    }


def _fold_metrics(task, y, raw, threshold, classes):
    from mktai.evaluation import metrics as em

    if task == "binary":
        return em.binary_metrics(y, raw, threshold, curves=False)["metrics"]
    if task == "multiclass":
        return em.multiclass_metrics(y, raw, list(range(len(classes))))["metrics"]
    return em.regression_metrics(y, raw, curves=False)["metrics"]


LARGE_TABLE = 20_000  # training rows from which 3 folds are the default instead of 5


def default_folds(rows: int) -> int:
    """CV folds when --cv is not given: 5, or 3 from 20,000 training rows.

    With that many rows each of 3 folds still scores 6,700+ rows (AUC noise ~0.005), and the
    fits, which are most of the training time, drop from 5 to 3.
    """
    return 3 if rows >= LARGE_TABLE else 5


def _splitter(task: str, folds: int, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "regression":
        return KFold(folds, shuffle=True, random_state=seed)
    return StratifiedKFold(folds, shuffle=True, random_state=seed)


def fit(table: CleanTable, kind: str, options: TrainOptions) -> SupervisedModel:
    """Train a propensity (classification) or demand (regression) model; see module docstring."""
    from mktai.tasks.supervised.estimators import limit_threads

    with limit_threads(len(table.frame)):
        return _fit(table, kind, options)


def _fit(table: CleanTable, kind: str, options: TrainOptions) -> SupervisedModel:
    import numpy as np

    from mktai.evaluation import metrics as em
    from mktai.tasks.common.tabular import infer_schema, leak_scan, prepare
    from mktai.tasks.supervised import SPEC
    from mktai.tasks.supervised.estimators import learner_params

    if kind not in ("propensity", "demand"):
        raise UsageError(f"the supervised family trains propensity or demand models, not {kind!r}")
    algorithm = SPEC.check_algorithm(options.algorithm)
    # parsed and checked by the caller (api.train); library calls may give only the raw extras
    given = options.params or SPEC.parse_options(options.extra, algorithm)
    progress = options.progress
    options = TrainOptions(options.seed, algorithm, options.target, options.cv, options.extra,
                           params=given)  # fmt: skip
    seed = options.seed
    warnings: list[str] = []
    target = resolve_target(table, kind, options)
    task = target.task
    if task == "regression" and set(np.unique(target.y)) <= {0.0, 1.0}:
        warnings.append(
            f"target {target.name!r} only takes the values 0 and 1 (yes/no): a demand model "
            "predicts amounts; for an outcome that happens or not use kind propensity"
        )
    threshold_metric = given["threshold_metric"]
    class_weight = given["class_weight"]
    calibrate = given["calibrate"]
    if task != "binary" and calibrate != "none":
        warnings.append("--calibrate applies to two-class targets only; ignored")
        calibrate = "none"
    test_size = given["test_size"]
    leak_auc = given["leak_auc"]
    drop = list(given["drop"] or [])
    candidates = ("mlp",) if algorithm == "mlp" else ("linear", "gbm")
    params_of = {a: learner_params(a, given) for a in candidates}

    frame = table.frame.loc[target.keep].reset_index(drop=True)
    y = target.y
    no_target = int((~target.keep).sum())
    if no_target:
        warnings.append(
            f"{no_target} row(s) without a value in target {target.name!r} were skipped"
        )
    rng_index = np.arange(len(frame))
    holdout = np.zeros(0, dtype=int)
    train_idx = rng_index
    if test_size > 0:
        from sklearn.model_selection import train_test_split

        stratify = y if task != "regression" else None
        try:
            train_idx, holdout = train_test_split(
                rng_index, test_size=test_size, random_state=seed, stratify=stratify
            )
        except ValueError:  # too few rows per class for a stratified holdout
            warnings.append("too few rows per class for a stratified holdout; trained on all")
            train_idx, holdout = rng_index, np.zeros(0, dtype=int)
        train_idx, holdout = np.sort(train_idx), np.sort(holdout)
    train_frame = frame.iloc[train_idx]
    y_train = y[train_idx]
    columns = table.report.get("columns") or {}
    yes_no = frozenset(name for name, info in columns.items() if info.get("type") == "bool")
    day_first = {
        name: info["date_format"]["day_first"]
        for name, info in columns.items()
        if isinstance(info.get("date_format"), dict)
        and info["date_format"].get("day_first") is not None
    }
    schema = infer_schema(train_frame, target.name, drop=drop, yes_no=yes_no, day_first=day_first)
    schema["target"] = {
        "name": target.name,
        "type": task,
        "classes": target.classes,
        "positive": target.positive,
    }
    schema["roles"] = dict(table.roles)
    X_train, prep_stats = prepare(train_frame, schema)
    n_classes = len(target.classes)
    weights = class_weight == "balanced"

    def make(chosen: str):
        return _make_learner(chosen, task, params_of[chosen], schema, seed,
                             "balanced" if weights else None, n_classes)  # fmt: skip

    def fit_on(learner, rows):
        return learner.fit(
            X_train.iloc[rows], y_train[rows], class_weight=_keras_weights(y_train[rows], weights)
        )

    # ---- cross-validation on the training part
    folds = default_folds(len(y_train)) if options.cv is None else int(options.cv or 0)
    if folds < 0 or folds == 1:
        raise UsageError(f"--cv {folds}: use 0 (no cross-validation) or 2 or more folds")
    if task != "regression" and folds > 1:
        smallest = int(np.bincount(y_train).min())
        if smallest < folds:
            warnings.append(
                f"smallest class has {smallest} training rows; CV uses {smallest} folds"
            )
            folds = smallest
    folds = min(folds, len(y_train))
    cv_metrics: dict[str, Any] = {}
    oof = None
    run = None
    if folds >= 2:
        from mktai.tasks.supervised.cv import CANDIDATES, cross_validate

        parts = list(_splitter(task, folds, seed).split(X_train, y_train))
        candidates = CANDIDATES if algorithm == "auto" else (algorithm,)
        run = cross_validate(candidates, make, fit_on, X_train, y_train, task, parts,
                             n_classes, progress)  # fmt: skip
        oof = run.oof
    elif algorithm == "auto":
        warnings.append("--cv 0: no cross-validation to compare linear and gbm; auto uses gbm")
    requested = algorithm
    if algorithm == "auto":
        algorithm = run.algorithm if run is not None else "gbm"
    params = params_of[algorithm]
    calibration = None
    threshold = None
    if task == "binary":
        if oof is not None:
            calibration = fit_calibration(calibrate, oof[:, 1], y_train)
            scores = apply_calibration(calibration, oof[:, 1])
            threshold = em.threshold_for(y_train, scores, threshold_metric)
            oof = np.column_stack([1 - scores, scores])
        else:
            threshold = 0.5
    if oof is not None:
        per_fold = [
            _fold_metrics(
                task,
                y_train[va],
                oof[va, 1] if task == "binary" else oof[va],
                threshold,
                target.classes,
            )  # fmt: skip
            for _tr, va in parts
        ]
        cv_metrics = em.summarise_folds(per_fold)

    # ---- final model: the fold models (linear, gbm) or a refit on the training part (mlp)
    if run is not None and algorithm != "mlp":
        from mktai.tasks.supervised.cv import FoldEnsemble

        learner = FoldEnsemble(run.members)
    else:
        if progress is not None:
            progress(f"final model: {algorithm}", 0, 1)
        learner = fit_on(make(algorithm), np.arange(len(y_train)))
        if progress is not None:
            progress(f"final model: {algorithm}", 1, 1)
    model = SupervisedModel(
        kind=kind, algorithm=algorithm, task=task, schema=schema, learner=learner,
        classes=target.classes, positive=target.positive, threshold=threshold,
        calibration=calibration, seed=seed,
        params={**params, "class_weight": class_weight, "calibrate": calibrate,
                "threshold_metric": threshold_metric if task == "binary" else None,
                "test_size": test_size, "cv": folds, "drop": drop,
                "algorithm_requested": requested},
    )  # fmt: skip
    holdout_metrics: dict[str, Any] = {}
    if len(holdout):
        X_test, _ = prepare(frame.iloc[holdout], schema)
        raw = model.learner.predict_raw(X_test)
        if task == "binary":
            raw = np.column_stack([1 - (p := apply_calibration(calibration, raw[:, 1])), p])
        holdout_metrics = _fold_metrics(
            task, y[holdout], raw[:, 1] if task == "binary" else raw, threshold, target.classes
        )
        importance_X, importance_y = X_test, y[holdout]
    else:
        importance_X, importance_y = X_train, y_train
    model.metrics = {"cv": cv_metrics, "holdout": holdout_metrics}

    # ---- permutation importance, leak scan, preprocessing report
    importance = _importance(model, importance_X, importance_y, seed)
    leaks = leak_scan(X_train, y_train, task, auc_limit=leak_auc, seed=seed)
    for leak in leaks:
        strength = f"ROC AUC {leak['auc']:.3f}" if "auc" in leak else f"ρ {leak['spearman']:.3f}"
        warnings.append(
            f"column {leak['column']!r} alone predicts the target ({strength}): possible target "
            f"leak (known only after the outcome?); if so retrain with --drop {leak['column']}"
        )
    if prep_stats["missing"]:
        total = sum(prep_stats["missing"].values())
        how = "handled natively by gbm" if algorithm == "gbm" else "imputed with the median"
        warnings.append(f"{total} missing feature value(s) {how}: {prep_stats['missing']}")
    # columns the user excluded with --drop are no news; the manifest's schema still lists them
    unasked = {k: v for k, v in schema["dropped"].items() if k not in drop}
    identifiers = {k: v for k, v in unasked.items() if v.startswith("identifier")}
    if identifiers:
        listed = ", ".join(
            f"{k} ({v.removeprefix('identifier: ')})" for k, v in identifiers.items()
        )
        warnings.append(f"identifier column(s) left out of the features: {listed}")
        unasked = {k: v for k, v in unasked.items() if k not in identifiers}
    if unasked:
        dropped = ", ".join(f"{k} ({v})" for k, v in unasked.items())
        warnings.append(f"columns not used as features: {dropped}")
    model.extras = {
        "preprocessing": {
            "train_rows": int(len(train_idx)),
            "holdout_rows": int(len(holdout)),
            "rows_without_target": no_target,
            "missing_values": prep_stats["missing"],
            "invalid_numbers": prep_stats["invalid"],
            "features": len(X_train.columns),
            "identifiers": sorted(identifiers),
        },
        "permutation_importance": importance[:30],
        "leak_warnings": leaks,
        "warnings": warnings,
    }
    from mktai.tasks.common.overlap import row_sketch

    sketch_columns = [c["name"] for c in schema["columns"]] + [target.name]
    model.extras["training_rows_sketch"] = row_sketch(train_frame, sketch_columns)
    if run is not None:
        if run.selection is not None:
            model.extras["selection"] = run.selection
        if run.rounds:
            model.extras["rounds"] = run.rounds
        model.extras["final_model"] = f"average of the {len(run.members)} CV fold models"
    if algorithm == "mlp":
        model.extras["epochs_run"] = learner.net.epochs_run
    return model


def _importance(model: SupervisedModel, X, y, seed: int, rows: int = 1000) -> list[dict]:
    """Permutation importance on (a sample of) the holdout, higher-is-better score per task.

    One batched predict call for all shuffled copies, through the first fold model of an
    ensemble (k times cheaper, same features); 1,000 rows rank the columns as 2,000 did.
    """
    import numpy as np

    from mktai.evaluation.metrics import fast_roc_auc, permutation_importance_batched

    learner = getattr(model.learner, "members", [model.learner])[0]
    if len(X) > rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
        X, y = X.iloc[pick], y[pick]
    if model.task == "binary" and len(np.unique(y)) < 2:
        return []
    y = np.asarray(y)

    def metric(raw) -> float:
        if model.task == "binary":
            return float(fast_roc_auc(y, raw[:, 1]) or 0.0)
        if model.task == "multiclass":
            picked = np.clip(raw[np.arange(len(y)), y], 1e-15, 1)
            return float(np.mean(np.log(picked)))  # minus the log loss
        spread = float(np.sum((y - y.mean()) ** 2)) or 1.0
        return 1.0 - float(np.sum((y - raw) ** 2)) / spread  # R²

    return permutation_importance_batched(learner.predict_raw, metric, X, repeats=3, seed=seed)


def load_model(directory: Path, manifest: dict[str, Any]) -> SupervisedModel:
    """Read a stored version back (skops with trusted types / .keras with safe_mode)."""
    from mktai.errors import IntegrityError
    from mktai.store.formats import read_json
    from mktai.tasks.supervised.estimators import load_skops

    info = read_json(Path(directory) / "model.json")
    if not isinstance(info, dict):
        raise IntegrityError(f"{directory}/model.json is not a model description; retrain")
    if info.get("format") != MODEL_FORMAT:
        raise IntegrityError(
            f"{directory}: model format {info.get('format')} is not supported by this mktai"
        )
    schema = info["input_schema"]
    algorithm = info["algorithm"]
    if algorithm == "mlp":
        from mktai.tasks.supervised.mlp import KerasNet

        learner: Any = EncodedKeras(KerasNet.load(Path(directory), info), schema)
    else:
        estimator = load_skops(Path(directory) / "model.skops")
        estimators = estimator if isinstance(estimator, list) else [estimator]
        if not estimators:
            raise IntegrityError(f"{directory}/model.skops holds no model; retrain the model")
        members = []
        for one in estimators:
            _check_estimator(one, algorithm, info["task"], directory)
            members.append(SkLearner(one, info["task"], algorithm == "linear", schema))
        if isinstance(estimator, list):
            from mktai.tasks.supervised.cv import FoldEnsemble

            learner = FoldEnsemble(members)
        else:
            learner = members[0]
    return SupervisedModel(
        kind=info["kind"], algorithm=algorithm, task=info["task"], schema=schema, learner=learner,
        classes=info.get("classes") or [], positive=info.get("positive"),
        threshold=info.get("threshold"), calibration=info.get("calibration"),
        params=info.get("params") or {}, seed=info.get("seed", 0),
        metrics=manifest.get("metrics") or {},
    )  # fmt: skip


def _check_estimator(estimator: Any, algorithm: str, task: str, directory: Path) -> None:
    """The loaded object must be the kind of estimator this algorithm stores."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    from mktai.errors import IntegrityError

    if algorithm == "gbm":
        expected: tuple = (
            (HistGradientBoostingRegressor,)
            if task == "regression"
            else (HistGradientBoostingClassifier,)
        )
    else:
        expected = (Pipeline,)
    if not isinstance(estimator, expected):
        raise IntegrityError(
            f"{directory}/model.skops holds a {type(estimator).__name__}, not the "
            f"{expected[0].__name__} a {algorithm} model stores; retrain the model"
        )
