"""A per-call-cheap HistGradientBoosting for scoring a few rows at a time (a server's requests).

A fitted HistGradientBoosting with categorical features runs its inputs through a
ColumnTransformer (an OrdinalEncoder on the categorical columns, check_array on the others,
encoded columns first) on every predict call: ~4 ms of scikit-learn validation per call,
whatever the row count, for what is a lookup in sorted arrays. `fast_estimator` returns a
shallow copy whose preprocessor does that lookup in NumPy, after checking on a probe that it
gives exactly what scikit-learn's gives; anything else (another layout, a newer scikit-learn
that stores it differently, a mismatch on the probe) keeps the estimator as it is.
"""

from __future__ import annotations

import copy
from typing import Any

PROBE_ROWS = 256


class OrdinalLookup:
    """ColumnTransformer([OrdinalEncoder(unknown -> NaN, missing -> NaN) on `categorical`,
    check_array on the rest]).transform as NumPy: encoded columns first, then the others."""

    def __init__(self, categorical: Any, categories: list[Any]) -> None:
        import numpy as np

        mask = np.asarray(categorical, dtype=bool)
        self.encoded = np.flatnonzero(mask)
        self.passed = np.flatnonzero(~mask)
        # NaN is a category when training had missing values; it encodes to NaN either way
        self.known = [np.asarray(c, dtype=np.float64) for c in categories]
        self.known = [c[~np.isnan(c)] for c in self.known]
        self.table = _code_table(self.known)

    def transform(self, X: Any) -> Any:
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.encoded) + len(self.passed):
            raise ValueError(
                f"X has {X.shape} features, expected {len(self.encoded) + len(self.passed)}"
            )
        out = np.empty((X.shape[0], X.shape[1]), dtype=np.float64)
        out[:, len(self.encoded) :] = X[:, self.passed]
        if self.table is not None:  # every column in one lookup (the known codes are 0..W-1)
            codes = X[:, self.encoded]
            width = self.table.shape[1] - 1
            # a value that is not an integer in [0, W) is no known code: column W holds NaN
            exact = (codes >= 0) & (codes < width) & (codes == np.floor(codes))
            at = np.where(exact, codes, width).astype(np.intp)
            out[:, : len(self.encoded)] = self.table[np.arange(len(self.encoded)), at]
            return out
        for j, (column, known) in enumerate(zip(self.encoded, self.known, strict=True)):
            values = X[:, column]
            at = np.minimum(np.searchsorted(known, values), max(len(known) - 1, 0))
            hit = (known[at] == values) if len(known) else np.zeros(len(values), dtype=bool)
            out[:, j] = np.where(hit, at, np.nan)
        return out


TABLE_WIDTH = 1024  # known codes up to which the lookup is one table (sklearn keeps <= 255)


def _code_table(known: list[Any]) -> Any:
    """table[j, v] = the position of code v among column j's known codes (NaN if unknown),
    column W = NaN; None when some known code is not an integer in [0, TABLE_WIDTH)."""
    import numpy as np

    if not known:
        return None
    values = np.concatenate(known)
    if len(values) and (
        values.min() < 0 or values.max() >= TABLE_WIDTH or np.any(values != np.floor(values))
    ):
        return None
    width = int(values.max()) + 1 if len(values) else 0
    table = np.full((len(known), width + 1), np.nan)
    for j, codes in enumerate(known):
        table[j, codes.astype(np.intp)] = np.arange(len(codes), dtype=np.float64)
    return table


def fast_estimator(estimator: Any) -> Any:
    """The estimator with OrdinalLookup as its preprocessor when that is provably the same."""
    lookup = _lookup_for(estimator)
    if lookup is None:
        return estimator
    fast = copy.copy(estimator)  # shares the fitted trees; only the preprocessor differs
    fast._preprocessor = lookup
    return fast if _same_on_probe(estimator, lookup) else estimator


def _lookup_for(estimator: Any) -> OrdinalLookup | None:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    pre = getattr(estimator, "_preprocessor", None)
    if not isinstance(pre, ColumnTransformer) or pre.remainder != "drop":
        return None
    fitted = [t for t in getattr(pre, "transformers_", None) or [] if not _dropped_nothing(t)]
    if len(fitted) != 2:
        return None
    (_, encoder, encoded), (_, numeric, passed) = fitted
    if not isinstance(encoder, OrdinalEncoder) or not isinstance(numeric, FunctionTransformer):
        return None
    if encoder.handle_unknown != "use_encoded_value" or not _is_nan(encoder.unknown_value):
        return None
    if not _is_nan(encoder.encoded_missing_value):
        return None
    import numpy as np

    encoded, passed = np.asarray(encoded), np.asarray(passed)
    if encoded.dtype != bool or passed.dtype != bool or not np.array_equal(encoded, ~passed):
        return None
    return OrdinalLookup(encoded, list(encoder.categories_))


def _dropped_nothing(entry: Any) -> bool:
    """The ('remainder', 'drop', [False, ...]) entry a ColumnTransformer lists when no column
    is left over."""
    import numpy as np

    _name, transformer, columns = entry
    columns = np.asarray(columns)
    unused = len(columns) == 0 or (columns.dtype == bool and not columns.any())
    return isinstance(transformer, str) and transformer == "drop" and unused


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def code_pool(known: Any) -> Any:
    """The values a probe draws for a categorical column: its known codes, NaN, a negative,
    a fraction and the first code past the known ones (what sklearn treats as unknown)."""
    import numpy as np

    return np.concatenate([known, [np.nan, -1.0, 0.5, (known.max() + 1) if len(known) else 0]])


def _same_on_probe(estimator: Any, lookup: OrdinalLookup) -> bool:
    """Both preprocessors on rows of known codes, unknown codes, NaN and arbitrary numbers."""
    import numpy as np

    rng = np.random.default_rng(0)
    width = len(lookup.encoded) + len(lookup.passed)
    probe = rng.normal(0, 1000, size=(PROBE_ROWS, width))
    for column, known in zip(lookup.encoded, lookup.known, strict=True):
        probe[:, column] = rng.choice(code_pool(known), PROBE_ROWS)
    probe[rng.random(probe.shape) < 0.05] = np.nan
    try:
        expected = estimator._preprocessor.transform(probe)
        got = lookup.transform(probe)
    except Exception:  # anything scikit-learn does differently: keep its own path
        return False
    return bool(np.array_equal(np.asarray(expected, dtype=np.float64), got, equal_nan=True))
