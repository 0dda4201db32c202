"""The linear pipeline's encoder in NumPy for a few rows (a server's one-row requests).

A linear model scores a frame of strings (tabular.for_encoders) through its ColumnTransformer
(median fill + missing indicators + scaling, one-hot): ~25 ms per call whatever the row count
(pandas indexing, check_array per column, the encoder's validation), for elementwise work.
`EncodedScorer` takes prepare_codes' array instead and builds the same matrix in NumPy: the
imputer's statistics where a number is missing, its indicator columns, (x - mean) / scale as
StandardScaler computes it, one-hot columns from a category code -> column table (unknown or
missing categories: all zero, as handle_unknown='ignore'), in the ColumnTransformer's order.
The fitted final estimator's own predict_proba / predict is then called on that matrix, so the
decision function is scikit-learn's. `encoded_scorer` builds it only for the layout
estimators.encoder_pipeline makes and only after a probe (NaN, missing and every category)
gives exactly the ColumnTransformer's matrix and the pipeline's predictions; else None.
"""

from __future__ import annotations

from typing import Any

PROBE_ROWS = 128


class EncodedScorer:
    """predict / predict_proba of a linear pipeline from prepare_codes' array."""

    def __init__(self, pipeline: Any, schema: dict[str, Any]) -> None:
        import numpy as np
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        from mktai.tasks.common.tabular import MISSING, feature_names

        steps = dict(pipeline.steps)
        encode, self.model = steps["encode"], steps["model"]
        if list(steps) != ["encode", "model"] or not isinstance(encode, ColumnTransformer):
            raise TypeError("not the linear layout")
        fitted = [t for t in encode.transformers_ if t[0] != "remainder"]
        if [t[0] for t in fitted] != ["num", "cat"] or encode.sparse_output_:
            raise TypeError("not the linear layout")
        (_, numeric, num_names), (_, onehot, cat_names) = fitted
        impute, scale = dict(numeric.steps)["impute"], dict(numeric.steps)["scale"]
        if not (isinstance(numeric, Pipeline) and isinstance(impute, SimpleImputer)
                and isinstance(scale, StandardScaler) and isinstance(onehot, OneHotEncoder)):  # fmt: skip
            raise TypeError("not the linear layout")
        if onehot.handle_unknown != "ignore" or onehot.drop_idx_ is not None:
            raise TypeError("one-hot layout not handled")
        if getattr(onehot, "_infrequent_enabled", False):
            raise TypeError("infrequent categories not handled")
        names = feature_names(schema)
        self.width = len(names)
        self.numeric = np.array([names.index(n) for n in num_names], dtype=np.intp)
        self.fill = np.asarray(impute.statistics_, dtype=np.float64)
        indicator = getattr(impute, "indicator_", None)
        self.flagged = None if indicator is None else np.asarray(indicator.features_, np.intp)
        self.mean = None if scale.mean_ is None else np.asarray(scale.mean_, np.float64)
        self.scale = None if scale.scale_ is None else np.asarray(scale.scale_, np.float64)
        categories = {c["name"]: c["categories"] for c in schema["columns"]
                      if c["type"] == "categorical"}  # fmt: skip
        self.coded = np.array([names.index(n) for n in cat_names], dtype=np.intp)
        self.onehot_width = sum(len(c) for c in onehot.categories_)
        # per categorical column: schema code + 1 (0 = missing) -> one-hot column, -1 = none
        self.tables = []
        offset = 0
        for name, known in zip(cat_names, onehot.categories_, strict=True):
            where = {str(v): i for i, v in enumerate(known)}
            values = [MISSING, *[str(v) for v in categories[name]]]
            self.tables.append(np.array([offset + where[v] if v in where else -1
                                         for v in values], dtype=np.intp))  # fmt: skip
            offset += len(known)

    def matrix(self, X: Any) -> Any:
        """The ColumnTransformer's output for prepare_codes' array X."""
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.width:
            raise ValueError(f"X has {X.shape} features, expected {self.width}")
        n = X.shape[0]
        numbers = X[:, self.numeric]
        missing = np.isnan(numbers)
        parts = [np.where(missing, self.fill, numbers)]
        if self.flagged is not None and len(self.flagged):
            parts.append(missing[:, self.flagged].astype(np.float64))
        scaled = np.hstack(parts) if len(parts) > 1 else parts[0]
        if self.mean is not None:
            scaled = scaled - self.mean
        if self.scale is not None:
            scaled = scaled / self.scale
        onehot = np.zeros((n, self.onehot_width), dtype=np.float64)
        rows = np.arange(n)
        for column, table in zip(self.coded, self.tables, strict=True):
            codes = X[:, column]
            known = (codes >= 0) & (codes < len(table) - 1) & (codes == np.floor(codes))
            at = table[np.where(known, codes + 1, 0).astype(np.intp)]
            hit = at >= 0
            onehot[rows[hit], at[hit]] = 1.0
        return np.hstack([scaled, onehot])

    def predict_proba(self, X: Any) -> Any:
        return self.model.predict_proba(self.matrix(X))

    def predict(self, X: Any) -> Any:
        return self.model.predict(self.matrix(X))


def encoded_scorer(pipeline: Any, schema: dict[str, Any], task: str) -> EncodedScorer | None:
    """EncodedScorer for the pipeline when it provably gives its numbers, else None."""
    import numpy as np

    try:
        scorer = EncodedScorer(pipeline, schema)
        codes, frame = _probe(schema)
        from mktai.tasks.common.tabular import for_encoders

        strings = for_encoders(frame, schema)
        same = np.array_equal(
            scorer.matrix(codes), pipeline.named_steps["encode"].transform(strings)
        )
        method = "predict" if task == "regression" else "predict_proba"
        same = same and np.array_equal(getattr(scorer, method)(codes),
                                       getattr(pipeline, method)(strings))  # fmt: skip
    except Exception:  # another layout or a scikit-learn that stores it differently
        return None
    return scorer if same else None


def _probe(schema: dict[str, Any]) -> tuple[Any, Any]:
    """(prepare_codes-style array, the prepare() frame of the same rows): numbers around the
    training medians with NaN, every category code and missing ones."""
    import numpy as np
    import pandas as pd

    from mktai.tasks.common.tabular import _category_dtype, feature_names

    rng = np.random.default_rng(0)
    names = feature_names(schema)
    categories = {c["name"]: c["categories"] for c in schema["columns"]
                  if c["type"] == "categorical"}  # fmt: skip
    codes = rng.normal(0, 1000, size=(PROBE_ROWS, len(names)))
    codes[rng.random(codes.shape) < 0.1] = np.nan
    frame: dict[str, Any] = {}
    for j, name in enumerate(names):
        if name in categories:
            pick = rng.integers(-1, len(categories[name]), PROBE_ROWS)
            codes[:, j] = np.where(pick < 0, np.nan, pick)
            dtype = _category_dtype(tuple(categories[name]))[0]
            frame[name] = pd.Categorical.from_codes(pick, dtype=dtype)
        else:
            frame[name] = codes[:, j]
    return codes, pd.DataFrame(frame)
