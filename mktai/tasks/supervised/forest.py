"""A fitted HistGradientBoosting's trees evaluated in NumPy, all at once, for a few rows.

scikit-learn scores a row tree by tree: one Cython call per tree, each of which converts the
node array to a typed memoryview first (~45 us per tree, whatever the row count: ~2 ms for a
43-round model, ~10 ms for an ensemble of five). `Forest` stacks the nodes of every tree into
flat arrays once and walks all trees of all rows together, one level per step, with the same
decisions as sklearn's `_predict_one_from_raw_data` (NaN -> the missing side; categorical:
negative -> missing side, left bitset -> left, known category -> right, unknown -> missing
side; numeric: x <= threshold -> left). The leaf values are summed in sklearn's order (the
baseline, then every iteration in turn, float64: a cumulative sum is that sequential sum),
so the raw predictions are bit for bit the same; `ForestScorer` then applies the model's own
loss (`_loss.predict_proba`, `_loss.link.inverse`) as sklearn's predict does.

`forest_scorer` builds it only after checking on a probe (known and unknown codes, NaN,
every split threshold itself, arbitrary numbers) that it gives exactly sklearn's raw
predictions; any other layout, a newer scikit-learn storing trees differently or a mismatch
keeps the estimator as it is. A check, not a proof: the decisions are the same rule at every
node, and the probe reaches each threshold. Batches above SMALL_ROWS rows, or above
WALK_CELLS rows x nodes, go to scikit-learn.
"""

from __future__ import annotations

from typing import Any

SMALL_ROWS = 64  # rows up to which the NumPy walk is used (above: sklearn's per-row Cython)
# rows x nodes the walk takes at once: its temporaries are ~26 bytes and ~40 ns a cell, so a
# walk stays within ~5 MB and a few ms (a 1,500-tree model: 2 rows; the 43-tree one: 64);
# beyond it sklearn answers, whose cost is per tree, not per row
WALK_CELLS = 200_000
PROBE_ROWS = 256
_CODE_LIMIT = 256  # sklearn reads a categorical value as uint8: codes must be below this


class Forest:
    """The trees of a fitted HistGradientBoosting as flat arrays (see the module docstring)."""

    def __init__(self, estimator: Any) -> None:
        import numpy as np

        iterations = estimator._predictors
        self.per_iteration = int(estimator.n_trees_per_iteration_)
        self.iterations = len(iterations)
        self.features = int(estimator.n_features_in_)
        self.baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64)
        known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
        trees = [tree for per_k in iterations for tree in per_k]
        offsets, bitset_offsets, total, bits_total = [], [], 0, 0
        for tree in trees:
            offsets.append(total)
            bitset_offsets.append(bits_total)
            total += len(tree.nodes)
            bits_total += len(tree.raw_left_cat_bitsets)
        nodes = np.concatenate([tree.nodes for tree in trees])
        shift = np.repeat(np.asarray(offsets, dtype=np.int64), [len(t.nodes) for t in trees])
        leaf = nodes["is_leaf"].astype(bool)
        here = np.arange(total, dtype=np.int64)
        # a leaf points to itself both ways: walking on leaves stays there
        self.left = np.where(leaf, here, nodes["left"].astype(np.int64) + shift)
        self.right = np.where(leaf, here, nodes["right"].astype(np.int64) + shift)
        self.feature = np.where(leaf, 0, nodes["feature_idx"].astype(np.int64))
        self.threshold = nodes["num_threshold"].astype(np.float64)
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.categorical = nodes["is_categorical"].astype(bool) & ~leaf
        self.value = nodes["value"].astype(np.float64)
        self.roots = np.asarray(offsets, dtype=np.int64)
        self.depth = int(nodes["depth"].max()) if total else 0
        self.has_categorical = bool(self.categorical.any())
        if self.has_categorical:
            # per categorical node, the side each code 0..255 goes (index 256: a negative value)
            self.cat_nodes = np.flatnonzero(self.categorical)
            bitset_shift = np.repeat(np.asarray(bitset_offsets, dtype=np.int64),
                                     [len(t.nodes) for t in trees])  # fmt: skip
            left_bits = np.concatenate([t.raw_left_cat_bitsets for t in trees
                                        if len(t.raw_left_cat_bitsets)])  # fmt: skip
            rows = (
                nodes["bitset_idx"].astype(np.int64)[self.cat_nodes] + bitset_shift[self.cat_nodes]
            )
            codes = np.arange(_CODE_LIMIT)
            word, bit = codes >> 5, codes & 31
            in_left = (left_bits.astype(np.int64)[rows][:, word] >> bit) & 1
            known_rows = np.asarray(f_idx_map, dtype=np.int64)[self.feature[self.cat_nodes]]
            known_bit = (np.asarray(known, dtype=np.int64)[known_rows][:, word] >> bit) & 1
            side = self.missing_left[self.cat_nodes][:, None]
            table = np.where(in_left == 1, True, np.where(known_bit == 1, False, side))
            self.cat_table = np.concatenate([table, side], axis=1)
            self.cat_row = np.arange(len(self.cat_nodes))
            # the categorical columns of the preprocessed array (encoded ones come first)
            remapped = estimator._bin_mapper.is_categorical_
            self.code_columns = np.flatnonzero(np.asarray(remapped, dtype=bool))

    def raw(self, X: Any) -> Any:
        """sklearn's _raw_predict of the preprocessed array X (n x features, float64), or None
        when X holds a categorical value sklearn would read as uint8 differently.

        Every node's decision for every row is made at once (n x nodes), then each row walks
        its trees down through those decisions, one gather per level."""
        import numpy as np

        n, total = X.shape[0], len(self.left)
        X = np.asarray(X, dtype=np.float64)
        x = X[:, self.feature]
        missing = np.isnan(x)
        go_left = np.where(missing, self.missing_left, x <= self.threshold)
        if self.has_categorical:
            codes = x[:, self.cat_nodes]
            if np.any(codes >= _CODE_LIMIT):
                return None
            # NaN and negative values: column 256, the missing side (as sklearn's predictor)
            index = np.where(codes >= 0, codes, _CODE_LIMIT).astype(np.int64)
            go_left[:, self.cat_nodes] = self.cat_table[self.cat_row, index]
        base = (np.arange(n, dtype=np.int64) * total)[:, None]
        step = (np.where(go_left, self.left, self.right) + base).ravel()
        node = self.roots + base
        for _ in range(self.depth):
            node = step[node]
        leaves = self.value[node - base].reshape(n, self.iterations, self.per_iteration)
        stacked = np.concatenate(
            [np.broadcast_to(self.baseline.reshape(1, 1, -1), (n, 1, self.per_iteration)),
             leaves], axis=1)  # fmt: skip
        out = np.zeros((n, self.per_iteration), dtype=np.float64, order="F")
        out[:] = np.cumsum(stacked, axis=1)[:, -1, :]  # baseline, then each iteration in turn
        return out


class ForestScorer:
    """The estimator's predict / predict_proba with a few rows walked by Forest."""

    def __init__(self, estimator: Any, forest: Forest) -> None:
        self.estimator, self.forest = estimator, forest
        self.classifier = hasattr(estimator, "classes_")

    def walks(self, rows: int) -> bool:
        """Whether `rows` rows are walked in NumPy (cheap, bounded) rather than by sklearn."""
        return rows <= SMALL_ROWS and rows * len(self.forest.left) <= WALK_CELLS

    def _raw(self, X: Any) -> Any:
        import numpy as np

        if not self.walks(len(X)):
            return None
        est = self.estimator
        if est._preprocessor is None and isinstance(X, np.ndarray) and X.dtype == np.float64:
            if X.ndim != 2 or X.shape[1] != self.forest.features:
                return None  # sklearn's own validation gives the message
            pre = X
        else:
            pre = est._preprocess_X(X, reset=False)
        return self.forest.raw(np.asarray(pre, dtype=np.float64))

    def predict_proba(self, X: Any) -> Any:
        raw = self._raw(X) if self.classifier else None
        if raw is None:
            return self.estimator.predict_proba(X)
        return self.estimator._loss.predict_proba(raw)

    def predict(self, X: Any) -> Any:
        raw = None if self.classifier else self._raw(X)
        if raw is None:
            return self.estimator.predict(X)
        return self.estimator._loss.link.inverse(raw.ravel())


def forest_scorer(estimator: Any) -> Any:
    """ForestScorer over the estimator when it gives sklearn's numbers on a probe (every
    split threshold, NaN, known and unknown categories), else the estimator itself.

    The probe is walked a few rows at a time (WALK_CELLS), so checking a large model costs
    time at load, never a large block of memory."""
    import numpy as np

    try:
        forest = Forest(estimator)
        probe = _probe(estimator, forest)
        expected = estimator._raw_predict(probe)
        pre = estimator._preprocess_X(probe, reset=False)
        step = max(1, WALK_CELLS // max(len(forest.left), 1))
        parts = [forest.raw(pre[i : i + step]) for i in range(0, len(pre), step)]
    except Exception:  # anything stored differently: keep sklearn's own path
        return estimator
    if any(part is None for part in parts):
        return estimator
    if not np.array_equal(expected, np.concatenate(parts), equal_nan=True):
        return estimator
    return ForestScorer(estimator, forest)


def _probe(estimator: Any, forest: Forest) -> Any:
    """Rows (before preprocessing) mixing every split threshold, NaN, arbitrary numbers and,
    for categorical columns, known and unknown categories."""
    import numpy as np

    from mktai.tasks.supervised.fast_predict import code_pool

    rng = np.random.default_rng(0)
    width = forest.features
    probe = rng.normal(0, 1000, size=(PROBE_ROWS, width))
    pre = estimator._preprocessor
    # the original column each preprocessed column comes from (encoded columns come first)
    order = list(range(width))
    if pre is not None and hasattr(pre, "encoded"):
        order = [*pre.encoded.tolist(), *pre.passed.tolist()]
    thresholds: dict[int, list[float]] = {}
    numeric = ~forest.categorical & (forest.left != np.arange(len(forest.left)))
    for feature, value in zip(forest.feature[numeric], forest.threshold[numeric], strict=True):
        thresholds.setdefault(int(feature), []).append(float(value))
    categorical = set()
    if forest.has_categorical:
        categorical = {int(c) for c in forest.code_columns}
    for j in range(width):
        column = order[j] if j < len(order) else j
        if j in categorical and pre is not None and hasattr(pre, "known"):
            pool = code_pool(pre.known[j])  # the lookup's j-th encoded column
        else:
            cut = np.asarray(thresholds.get(j, []), dtype=np.float64)
            pool = np.concatenate([cut, np.nextafter(cut, np.inf), rng.normal(0, 100, 8),
                                   [np.nan]])  # fmt: skip
        probe[:, column] = rng.choice(pool, PROBE_ROWS)
    probe[rng.random(probe.shape) < 0.05] = np.nan
    return probe
