"""Fit explicit-rating algorithms with Surprise and keep only their learned arrays.

Surprise is used for training only: each fitted algorithm is turned into plain NumPy arrays
indexed by mktai's own user / item codes (the sorted ids), which scoring.py reads. The
conversion follows each algorithm's `estimate` in Surprise 1.1 exactly (tests compare).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mktai.errors import MissingDependency

if TYPE_CHECKING:
    import numpy as np

    from mktai.tasks.recommend.interactions import Interactions

SURPRISE_NAMES = {
    "svd": "SVD",
    "svdpp": "SVDpp",
    "nmf": "NMF",
    "knn-baseline": "KNNBaseline",
    "baseline": "BaselineOnly",
    "slope-one": "SlopeOne",
    "co-clustering": "CoClustering",
}
# mktai option -> Surprise constructor argument, per algorithm
ARGUMENTS = {
    "svd": ("n_factors", "n_epochs", "lr_all", "reg_all"),
    "svdpp": ("n_factors", "n_epochs", "lr_all", "reg_all"),
    "nmf": ("n_factors", "n_epochs"),
    "knn-baseline": ("k",),
    "baseline": (),
    "slope-one": (),
    "co-clustering": ("n_epochs", "n_cltr_u", "n_cltr_i"),
    "als": ("n_factors", "n_epochs", "reg_all", "alpha"),  # not Surprise: tasks/recommend/als.py
}
# --tune grids (kept small: every point is a cross-validated fit)
GRIDS: dict[str, dict[str, list[Any]]] = {
    "svd": {"n_factors": [50, 150], "n_epochs": [20, 40], "reg_all": [0.02, 0.06]},
    "svdpp": {"n_factors": [20, 50], "reg_all": [0.02, 0.06]},
    "nmf": {"n_factors": [15, 30], "n_epochs": [50, 100]},
    "knn-baseline": {"k": [20, 40, 80]},
    "co-clustering": {"n_cltr_u": [3, 5], "n_cltr_i": [3, 5]},
}


def surprise() -> Any:
    try:
        import surprise as s
    except ImportError:  # pragma: no cover - a core dependency
        raise MissingDependency(
            "explicit-rating recommenders need scikit-surprise: pip install scikit-surprise"
        ) from None
    return s


def constructor_args(name: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    args: dict[str, Any] = {
        key: params[key] for key in ARGUMENTS[name] if params.get(key) is not None
    }
    if name == "knn-baseline":
        args["sim_options"] = {"name": "pearson_baseline", "user_based": False}
        args["verbose"] = False
    elif name == "baseline":
        args["verbose"] = False
    if name in ("svd", "svdpp", "nmf", "co-clustering"):
        args["random_state"] = seed
    if name == "svdpp":
        args["cache_ratings"] = True
    return args


def make_algorithm(name: str, params: dict[str, Any], seed: int) -> Any:
    s = surprise()
    return getattr(s, SURPRISE_NAMES[name])(**constructor_args(name, params, seed))


def trainset(events: Interactions) -> Any:
    """A Surprise trainset whose raw ids are mktai's integer codes."""
    import pandas as pd

    s = surprise()
    frame = pd.DataFrame({"u": events.u, "i": events.i, "r": events.value})
    reader = s.Reader(rating_scale=events.scale)
    return s.Dataset.load_from_df(frame, reader).build_full_trainset()


def fit_algorithm(
    name: str, events: Interactions, params: dict[str, Any], seed: int
) -> tuple[Any, dict[str, np.ndarray]]:
    """(the fitted Surprise algorithm, its arrays in mktai's code order)."""
    data = trainset(events)
    algo = make_algorithm(name, params, seed)
    algo.fit(data)
    return algo, extract(name, algo, data, events.n_users, events.n_items)


def extract(name: str, algo: Any, data: Any, n_users: int, n_items: int) -> dict[str, Any]:
    """The learned arrays, reindexed from Surprise's inner ids to mktai codes."""
    import numpy as np

    def inner_of(mapping: dict, size: int) -> np.ndarray:  # code -> Surprise inner id
        out = np.full(size, -1, dtype=np.int64)
        raw = np.fromiter(mapping.keys(), dtype=np.int64, count=len(mapping))
        out[raw] = np.fromiter(mapping.values(), dtype=np.int64, count=len(mapping))
        return out

    u_of = inner_of(data._raw2inner_id_users, n_users)
    i_of = inner_of(data._raw2inner_id_items, n_items)
    known_u, known_i = u_of >= 0, i_of >= 0

    def users(values: Any) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        out = np.zeros((n_users, *values.shape[1:]))
        out[known_u] = values[u_of[known_u]]
        return out

    def items(values: Any) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        out = np.zeros((n_items, *values.shape[1:]))
        out[known_i] = values[i_of[known_i]]
        return out

    def item_matrix(values: Any, fill: float = 0.0) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        out = np.full((n_items, n_items), fill)
        idx = np.flatnonzero(known_i)
        out[np.ix_(idx, idx)] = values[np.ix_(i_of[idx], i_of[idx])]
        return out

    arrays: dict[str, Any] = {
        "mu": np.float64(data.global_mean),
        "known_u": known_u,
        "known_i": known_i,
    }
    if name in ("svd", "svdpp", "nmf", "baseline", "knn-baseline"):
        biased = bool(getattr(algo, "biased", True)) if name != "nmf" else bool(algo.biased)
        arrays["biased"] = np.bool_(biased)
        if biased or name in ("baseline", "knn-baseline"):
            arrays["bu"], arrays["bi"] = users(algo.bu), items(algo.bi)
        else:
            arrays["bu"], arrays["bi"] = np.zeros(n_users), np.zeros(n_items)
    if name in ("svd", "nmf"):
        arrays["pu"], arrays["qi"] = users(algo.pu), items(algo.qi)
    elif name == "svdpp":
        arrays["pu"], arrays["qi"] = users(_svdpp_user_vectors(algo, data)), items(algo.qi)
    elif name == "knn-baseline":
        arrays["sim"] = item_matrix(algo.sim)
        arrays["k"] = np.int64(algo.k)
        arrays["min_k"] = np.int64(algo.min_k)
    elif name == "slope-one":
        arrays["dev"] = item_matrix(algo.dev)
        arrays["common"] = item_matrix(np.asarray(algo.freq) > 0).astype(bool)
        arrays["user_mean"] = users(algo.user_mean)
    elif name == "co-clustering":
        arrays["cltr_u"] = users(algo.cltr_u).astype(np.int64)
        arrays["cltr_i"] = items(algo.cltr_i).astype(np.int64)
        arrays["avg_cocltr"] = np.asarray(algo.avg_cocltr, dtype=np.float64)
        arrays["avg_cltr_u"] = np.asarray(algo.avg_cltr_u, dtype=np.float64)
        arrays["avg_cltr_i"] = np.asarray(algo.avg_cltr_i, dtype=np.float64)
        arrays["user_mean"] = users(algo.user_mean)
        arrays["item_mean"] = items(algo.item_mean)
    return arrays


def _svdpp_user_vectors(algo: Any, data: Any) -> np.ndarray:
    """p_u + |N(u)|^-1/2 * sum of y_j over the items u rated (SVD++'s user vector)."""
    import numpy as np
    import scipy.sparse as sp

    rows, cols = [], []
    for u, ratings in data.ur.items():
        for j, _r in ratings:
            rows.append(u)
            cols.append(j)
    rows_a = np.asarray(rows)
    counts = np.bincount(rows_a, minlength=data.n_users).astype(np.float64)
    weights = 1.0 / np.sqrt(counts[rows_a])
    implicit = sp.csr_matrix((weights, (rows_a, cols)), shape=(data.n_users, data.n_items))
    return np.asarray(algo.pu) + implicit @ np.asarray(algo.yj)


def tune(
    name: str, events: Interactions, params: dict[str, Any], seed: int, folds: int
) -> dict[str, Any]:
    """Cross-validated grid search (Surprise's GridSearchCV, RMSE): winner and every point."""
    import pandas as pd

    s = surprise()
    grid = {k: list(v) for k, v in GRIDS.get(name, {}).items() if params.get(k) is None}
    if not grid:
        return {"grid": {}, "best": {}, "results": [], "note": f"nothing to tune for {name}"}
    frame = pd.DataFrame({"u": events.u, "i": events.i, "r": events.value})
    data = s.Dataset.load_from_df(frame, s.Reader(rating_scale=events.scale))
    fixed = {k: v for k, v in constructor_args(name, params, seed).items() if k not in grid}
    # GridSearchCV wants sim_options / bsl_options as dicts of lists, the rest as lists
    search_grid = {
        **{k: ({o: [x] for o, x in v.items()} if isinstance(v, dict) else [v])
           for k, v in fixed.items()},
        **grid,
    }  # fmt: skip
    algo_class = getattr(s, SURPRISE_NAMES[name])
    search = s.model_selection.GridSearchCV(
        algo_class, search_grid, measures=["rmse", "mae"],
        cv=s.model_selection.KFold(n_splits=max(2, folds), random_state=seed, shuffle=True),
        n_jobs=1, joblib_verbose=0,
    )  # fmt: skip
    search.fit(data)
    results = [
        {"params": {k: p[k] for k in grid}, "rmse": float(r), "mae": float(m)}
        for p, r, m in zip(
            search.cv_results["params"],
            search.cv_results["mean_test_rmse"],
            search.cv_results["mean_test_mae"],
            strict=True,
        )
    ]
    best = {k: search.best_params["rmse"][k] for k in grid}
    return {"grid": grid, "best": best, "results": results, "folds": max(2, folds),
            "best_rmse": float(search.best_score["rmse"])}  # fmt: skip
