"""The recommend family: fit / load_model and the stored recommender model.

`mktai train recommender DATA` reads ratings (explicit feedback: Surprise algorithms, svd by
default) or a transactions export (implicit purchases: ease by default). The fitted model keeps
only arrays (factors, biases, item-item matrices, the training matrix, id maps) in npz files;
scoring is NumPy (scoring.py, topn.py) and never imports Surprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError, IntegrityError, UsageError
from mktai.tasks.recommend import EXPLICIT, IMPLICIT
from mktai.tasks.recommend.interactions import IdMaps

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

    from mktai.data.table import CleanTable
    from mktai.tasks.base import TrainOptions
    from mktai.tasks.recommend.interactions import Interactions

FORMAT = 1
SEEN_FILE = "seen.parquet"  # the seen items (u, i, value) of a model trained on Spark
K = 10  # ranking metrics at 10
DEFAULT_K = {"knn-baseline": 40, "item-knn": 100}
BLEND_SHARE = 0.2  # inner held-out fold on which blend weights are fitted
# a blend's svd member is regularised more and trained longer than Surprise's defaults (the
# stack then corrects its bias with the neighbourhood and baseline members); --n-epochs /
# --lr-all / --reg-all given on the command line win
BLEND_MEMBER_DEFAULTS: dict[str, dict[str, Any]] = {"svd": {"n_epochs": 40, "reg_all": 0.05}}


def member_params(member: str, params: dict[str, Any]) -> dict[str, Any]:
    given = {k: v for k, v in params.items() if v is not None}
    return {**BLEND_MEMBER_DEFAULTS.get(member, {}), **given}


def dataset_kind_for(
    data: Any, *, mapping: dict[str, str] | None = None, encoding: str | None = None
) -> str | None:
    """'ratings' for a ratings file, 'transactions' (or 'table' without prices) for purchases.

    Decided from the header only (column names and --map), like the cleaning layer's kinds.
    """
    from mktai.data.clean import resolve_mapping
    from mktai.data.read import empty_frame, open_source
    from mktai.data.schema import detect_roles, normalise_names

    first = data[0] if isinstance(data, (list, tuple)) and data else data
    if not isinstance(first, (str, Path)) or str(first) == "-":
        return None
    source = open_source(first, encoding)
    try:
        original = [str(c) for c in empty_frame(source).columns]
    finally:
        source.cleanup()
    names = normalise_names(original)
    roles = detect_roles(names, resolve_mapping(dict(mapping or {}), original, names))
    if "rating" in roles:
        return "ratings"
    if "item" in roles and ({"customer", "user"} & set(roles)):
        if "date" in roles and ("amount" in roles or {"quantity", "price"} <= set(roles)):
            return "transactions"
        return "table"
    return "ratings"


# -- fitting ------------------------------------------------------------------------------------


def fit(table: CleanTable, kind: str, options: TrainOptions) -> RecommenderModel:
    from mktai.tasks.recommend import interactions as ix

    if getattr(table, "on_spark", False):  # als: the rows are Spark DataFrames (als_spark)
        from mktai.tasks.recommend.als_spark import fit_on_spark

        return fit_on_spark(table, kind, options)

    params = dict(options.params)
    algorithm = options.algorithm
    requested = params.get("feedback")
    if algorithm in IMPLICIT and requested is None:
        requested = "implicit"  # ease / item-knn / popularity on a ratings file: interactions
    feedback = ix.feedback_of(table, requested)
    if algorithm is None:
        algorithm = "svd" if feedback == "explicit" else "ease"
    if feedback == "implicit" and algorithm in EXPLICIT:
        raise UsageError(
            f"--algorithm {algorithm} needs explicit ratings; {table.describe()} gives purchases "
            f"(implicit feedback): use {', '.join(IMPLICIT)}"
        )
    if feedback == "explicit" and algorithm in IMPLICIT:
        raise UsageError(f"--algorithm {algorithm} ranks purchases; drop --feedback explicit")
    events = ix.read_events(table, feedback, scale=ix.parse_scale(params.get("scale")))
    ix.check_enough(events, table.describe())
    test_size = float(params.get("test_size") or 0.0)
    warnings = list(events.notes)
    metrics: dict[str, Any] = {}
    tuning: dict[str, Any] | None = None
    train_part = events
    test_part = None
    if test_size > 0:
        train_part, test_part = ix.split(events, test_size, params.get("split") or "random",
                                         options.seed)  # fmt: skip
        if len(test_part) == 0 or len(train_part) == 0:
            warnings.append("too few events for a holdout split: no holdout metrics")
            train_part, test_part = events, None
    if params.get("tune"):
        tuning = tune(algorithm, train_part, params, options)
        params.update(tuning.get("best") or {})
    if test_part is not None:
        held = train(algorithm, train_part, params, options.seed)
        metrics["holdout"] = evaluate_events(held, test_part)["metrics"]
    model = train(algorithm, events, params, options.seed)
    model.kind = kind
    model.metrics = metrics
    model.warnings = warnings
    model.counts = dict(events.counts)
    model.tuning = tuning
    return model


def train(algorithm: str, events: Interactions, params: dict[str, Any], seed: int) -> Any:
    """Fit one algorithm on events (mktai codes) into a RecommenderModel."""
    from mktai.tasks.recommend import explicit, implicit

    weighting = params.get("weighting") or "binary"
    matrix = events.matrix(weighting)
    popularity = implicit.popularity(matrix)
    used = effective_params(algorithm, params)
    arrays: list[dict[str, Any]] = []
    weights = None
    members: list[str] = []
    if algorithm == "blend":
        members = [m for m in params.get("members") or [] if m != "blend"]
        if len(members) < 2:
            raise UsageError("--members needs at least two algorithms for blend")
        weights = _blend_weights(members, events, params, seed)
        for member in members:
            fitted = explicit.fit_algorithm(member, events, member_params(member, params), seed)
            arrays.append(fitted[1])
    elif algorithm in EXPLICIT:
        arrays.append(explicit.fit_algorithm(algorithm, events, params, seed)[1])
    elif algorithm == "als":
        from mktai.tasks.recommend import als

        arrays.append(als.fit(events, params, seed, matrix=matrix))
    elif algorithm == "ease":
        arrays.append(implicit.ease(matrix, float(used["lambda"])))
    elif algorithm == "item-knn":
        arrays.append(implicit.item_knn(matrix, int(used["k"])))
    else:
        arrays.append({})
    return RecommenderModel(
        kind="recommender", algorithm=algorithm, feedback=events.feedback, scale=events.scale,
        users=events.users, items=events.items, train=matrix, popularity=popularity,
        arrays=arrays, members=members, weights=weights, params=used,
    )  # fmt: skip


def effective_params(algorithm: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that shaped this model (for the manifest)."""
    from mktai.tasks.recommend.explicit import ARGUMENTS

    keys = set(ARGUMENTS.get(algorithm, ()))
    if algorithm == "blend":
        keys = {"members", *{k for m in params.get("members") or [] for k in ARGUMENTS.get(m, ())}}
    if algorithm in IMPLICIT:
        keys = {"weighting", *({"lambda"} if algorithm == "ease" else set()),
                *({"k"} if algorithm == "item-knn" else set())}  # fmt: skip
    used = {k: params.get(k) for k in sorted(keys) if params.get(k) is not None}
    if algorithm == "blend":
        used["member_params"] = {
            m: {k: v for k, v in member_params(m, params).items() if k in ARGUMENTS.get(m, ())}
            for m in params.get("members") or []
        }
    if algorithm in DEFAULT_K and "k" not in used:
        used["k"] = DEFAULT_K[algorithm]
    return used


def _blend_weights(
    members: list[str], events: Interactions, params: dict[str, Any], seed: int
) -> np.ndarray:
    """Feature-weighted linear stacking (Sill et al. 2009) on an inner held-out fold.

    Least squares over [1, p_m, p_m * log(1 + ratings of the user), p_m * log(1 + ratings of
    the item)] for each member m: the weight of a member may depend on how much is known about
    the user and the item (neighbours help dense items, factors dense users).
    """
    import numpy as np

    from mktai.tasks.recommend import explicit
    from mktai.tasks.recommend.interactions import split
    from mktai.tasks.recommend.scoring import Scorer

    inner_train, inner_test = split(events, BLEND_SHARE, "random", seed + 1)
    matrix = inner_train.matrix()
    predictions = []
    for member in members:
        arrays = explicit.fit_algorithm(member, inner_train, member_params(member, params), seed)[1]
        scorer = Scorer(member, arrays, matrix, np.zeros(inner_train.n_items))
        predictions.append(scorer.predict(inner_test.u, inner_test.i))
    design = blend_design(predictions, matrix, inner_test.u, inner_test.i)
    weights, *_ = np.linalg.lstsq(design, inner_test.value, rcond=None)
    return weights


def blend_design(predictions: list[Any], matrix: Any, u: Any, i: Any) -> np.ndarray:
    """The stacking features of blend_weights for code pairs (u, i), support from `matrix`."""
    import numpy as np

    user_n = np.log1p(np.diff(matrix.indptr).astype(np.float64))
    item_n = np.log1p(np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64))
    lu = np.where(u >= 0, user_n[np.maximum(u, 0)], 0.0)
    li = np.where(i >= 0, item_n[np.maximum(i, 0)], 0.0)
    columns = [np.ones(len(u))]
    for p in predictions:
        columns += [p, p * lu, p * li]
    return np.column_stack(columns)


def tune(
    algorithm: str, events: Interactions, params: dict[str, Any], options: TrainOptions
) -> dict[str, Any]:
    """--tune: explicit algorithms by Surprise's cross-validated grid search (RMSE); implicit
    ones by NDCG@10 on an inner random holdout over a lambda / k grid."""
    from mktai.tasks.recommend import explicit
    from mktai.tasks.recommend.interactions import split

    if algorithm == "blend":
        return {"grid": {}, "best": {}, "results": [], "note": "blend is not tuned"}
    if algorithm in EXPLICIT:
        return explicit.tune(algorithm, events, params, options.seed, options.cv or 3)
    grid = {"ease": {"lambda": [50.0, 100.0, 200.0, 500.0, 1000.0]},
            "item-knn": {"k": [20, 50, 100, 200]}}.get(algorithm, {})  # fmt: skip
    if not grid:
        return {"grid": {}, "best": {}, "results": [], "note": f"nothing to tune for {algorithm}"}
    ((name, values),) = grid.items()
    inner_train, inner_test = split(events, 0.2, "random", options.seed + 2)
    results = []
    for value in values:
        model = train(algorithm, inner_train, {**params, name: value}, options.seed)
        score = evaluate_events(model, inner_test)["metrics"].get(f"ndcg_at_{K}", 0.0)
        results.append({"params": {name: value}, f"ndcg_at_{K}": score})
    best = max(results, key=lambda r: r[f"ndcg_at_{K}"])
    return {"grid": grid, "best": dict(best["params"]), "results": results,
            "measure": f"ndcg_at_{K} on an inner 20% holdout"}  # fmt: skip


# -- evaluation ---------------------------------------------------------------------------------


def relevance_threshold(scale: tuple[float, float] | None) -> float:
    """Explicit ratings count as relevant from 3/4 of the scale up (4 on 1..5)."""
    low, high = scale or (1.0, 5.0)
    return low + 0.75 * (high - low)


def evaluate_events(model: RecommenderModel, test: Interactions) -> dict[str, Any]:
    """Rating metrics (explicit) and ranking metrics at 10 vs the popularity baseline."""
    import numpy as np

    from mktai.evaluation.ranking import ranking_metrics, rating_metrics
    from mktai.tasks.recommend.scoring import Scorer
    from mktai.tasks.recommend.topn import top_n

    scorer = model.scorer()
    metrics: dict[str, Any] = {}
    known = (test.u >= 0) & (test.i >= 0)
    history = np.diff(model.train.indptr) > 0  # users with training events (warm users)
    warm = known & history[np.maximum(test.u, 0)]
    if model.feedback == "explicit":
        low, high = model.scale or (-np.inf, np.inf)
        predicted = np.clip(scorer.predict(test.u, test.i), low, high)
        metrics.update(rating_metrics(test.value, predicted))
        relevant_mask = warm & (test.value >= relevance_threshold(model.scale))
    else:
        relevant_mask = warm
    u, i = test.u[relevant_mask], test.i[relevant_mask]
    if len(u):
        structure = model.train.copy()
        structure.data[:] = 1.0  # a stored rating of 0 is still a rating
        seen = np.asarray(structure[u, i]).ravel() != 0
        u, i = u[~seen], i[~seen]
    users, inverse = np.unique(u, return_inverse=True)
    relevant = (
        [i[inverse == row] for row in range(len(users))]
        if len(users) < 2000
        else (_group(inverse, i, len(users)))
    )
    k = min(K, model.n_items)
    result: dict[str, Any] = {
        "k": K,
        "feedback": model.feedback,
        "baseline": "popularity",
        "test_events": int(len(test)),
        "events_unknown_user": int((test.u < 0).sum()),
        "events_unknown_item": int((test.i < 0).sum()),
        # ranking metrics cover warm users; cold ones get the popularity fallback
        "cold_users": int(len(np.unique(test.u[(test.u < 0) | ~history[np.maximum(test.u, 0)]]))),
    }
    if model.feedback == "explicit":
        result["relevant_from_rating"] = relevance_threshold(model.scale)
    if len(users):
        recs = top_n(scorer, users, k).items
        metrics.update(ranking_metrics(recs, relevant, K, model.n_items))
        pop = Scorer("popularity", {}, model.train, model.popularity)
        pop_recs = top_n(pop, users, k).items
        for name, value in ranking_metrics(pop_recs, relevant, K, model.n_items).items():
            metrics[f"popularity.{name}"] = value
    else:  # no known user with a relevant held-out item: undefined here (gates say n/a)
        for name in ranking_metrics([], [], K, model.n_items):
            metrics[name] = metrics[f"popularity.{name}"] = None
    metrics["users_evaluated"] = int(len(users))
    result["metrics"] = metrics
    return result


def _group(inverse: np.ndarray, values: np.ndarray, groups: int) -> list[np.ndarray]:
    import numpy as np

    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(1, groups))
    return np.split(values[order], bounds)


# -- the model ----------------------------------------------------------------------------------


@dataclass
class RecommenderModel(IdMaps):
    kind: str
    algorithm: str
    feedback: str
    scale: tuple[float, float] | None
    users: np.ndarray
    items: np.ndarray
    train: sp.csr_matrix
    popularity: np.ndarray
    arrays: list[dict[str, Any]]
    members: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    tuning: dict[str, Any] | None = None
    _scorer: Any = None
    # a Spark-trained model's seen items (SEEN_FILE), read into `train` on first use only
    seen_file: Path | None = None

    def __getattr__(self, name: str) -> Any:
        # load_model leaves `train` unset when the seen items are a parquet file: reading it
        # waits until something needs the matrix (recommend --all-users --engine spark never
        # does: Spark reads the file itself)
        seen = self.__dict__.get("seen_file")
        if name == "train" and seen is not None:
            self.train = read_seen(seen, len(self.users), len(self.items))
            return self.train
        raise AttributeError(name)

    def scorer(self) -> Any:
        from mktai.tasks.recommend.scoring import Blend, Scorer

        if self._scorer is None:
            if self.algorithm == "blend":
                members = [Scorer(m, a, self.train, self.popularity)
                           for m, a in zip(self.members, self.arrays, strict=True)]  # fmt: skip
                self._scorer = Blend(members, self.weights)
            else:
                self._scorer = Scorer(self.algorithm, self.arrays[0], self.train, self.popularity)
        return self._scorer

    def user_codes(self, ids: list[str]) -> np.ndarray:
        import numpy as np

        from mktai.tasks.recommend.interactions import _encode

        return _encode(np.asarray([str(x).strip() for x in ids], dtype=np.str_), self.users)

    def item_codes(self, ids: list[str]) -> np.ndarray:
        import numpy as np

        from mktai.tasks.recommend.interactions import _encode

        return _encode(np.asarray([str(x).strip() for x in ids], dtype=np.str_), self.items)

    # -- protocol ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        import numpy as np

        from mktai.store.formats import write_json, write_npz

        directory = Path(directory)
        write_json(directory / "recommender.json", self._meta())
        write_npz(directory / "ids.npz", {"users": self.users.astype(np.str_),
                                          "items": self.items.astype(np.str_)})  # fmt: skip
        m = self.train
        write_npz(directory / "interactions.npz", {
            "indptr": m.indptr.astype(np.int64), "indices": m.indices.astype(np.int32),
            "data": m.data.astype(np.float64), "popularity": self.popularity,
        })  # fmt: skip
        flat: dict[str, Any] = {}
        for index, arrays in enumerate(self.arrays):
            for key, value in arrays.items():
                flat[f"m{index}__{key}"] = np.asarray(value)
        if self.weights is not None:
            flat["blend_weights"] = np.asarray(self.weights, dtype=np.float64)
        write_npz(directory / "arrays.npz", flat)

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "algorithm": self.algorithm,
            "feedback": self.feedback,
            "scale": list(self.scale) if self.scale else None,
            "members": list(self.members),
            "params": self.params,
            "users": self.n_users,
            "items": self.n_items,
        }

    def manifest_fields(self) -> dict[str, Any]:
        recommender = {**self._meta(), "interactions": int(self.train.nnz), "counts": self.counts}
        if self.weights is not None:
            names = [f"{m}{x}" for m in self.members for x in ("", "*log_n_user", "*log_n_item")]
            recommender["blend_weights"] = dict(
                zip(["intercept", *names], map(float, self.weights), strict=True)
            )
        if self.tuning is not None:
            recommender["tuning"] = self.tuning
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "metrics": self.metrics,
            "input_schema": {
                "feedback": self.feedback,
                "roles": ["user", "item", "rating"]
                if self.feedback == "explicit"
                else ["customer", "item", "date", "quantity"],
            },  # fmt: skip
            "warnings": self.warnings,
            "recommender": recommender,
        }

    def evaluate(self, table: CleanTable) -> dict[str, Any]:
        """Metrics on a held-out file: its events against this model's training history."""
        from mktai.tasks.recommend.interactions import read_events

        test = read_events(table, self.feedback, scale=self.scale, users=self.users,
                           items=self.items)  # fmt: skip
        if not len(test):
            raise InputError(f"{table.describe()}: no usable events to evaluate on")
        result = evaluate_events(self, test)
        if test.notes:
            result["notes"] = list(test.notes)
        return result


def load_model(directory: Path, manifest: dict[str, Any]) -> RecommenderModel:
    import scipy.sparse as sp

    from mktai.store.formats import read_json, read_npz
    from mktai.tasks.recommend.scoring import REQUIRED

    directory = Path(directory)
    meta = read_json(directory / "recommender.json")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise IntegrityError(f"{directory / 'recommender.json'}: not a mktai recommender file")
    ids = read_npz(directory / "ids.npz", ("users", "items"))
    seen_file = directory / SEEN_FILE
    spark_trained = seen_file.exists()
    wanted = ("popularity",) if spark_trained else ("indptr", "indices", "data", "popularity")
    inter = read_npz(directory / "interactions.npz", wanted)
    algorithm = str(meta["algorithm"])
    members = [str(m) for m in meta.get("members") or []]
    names = members if algorithm == "blend" else [algorithm]
    expected = tuple(f"m{n}__{key}" for n, name in enumerate(names) for key in REQUIRED[name])
    flat = read_npz(directory / "arrays.npz", expected)
    users, items = ids["users"], ids["items"]
    train = None
    if not spark_trained:
        try:
            train = sp.csr_matrix((inter["data"], inter["indices"], inter["indptr"]),
                                  shape=(len(users), len(items)))  # fmt: skip
        except ValueError as exc:
            raise IntegrityError(
                f"{directory / 'interactions.npz'}: inconsistent ({exc})"
            ) from None
    arrays = []
    for index, _name in enumerate(names):
        prefix = f"m{index}__"
        arrays.append({k[len(prefix) :]: v for k, v in flat.items() if k.startswith(prefix)})
    scale = tuple(meta["scale"]) if meta.get("scale") else None
    model = RecommenderModel(
        kind=str(manifest.get("kind") or "recommender"), algorithm=algorithm,
        feedback=str(meta["feedback"]), scale=scale, users=users, items=items, train=train,
        popularity=inter["popularity"], arrays=arrays, members=members,
        weights=flat.get("blend_weights"), params=dict(meta.get("params") or {}),
        metrics=dict(manifest.get("metrics") or {}), warnings=list(manifest.get("warnings") or []),
        seen_file=seen_file if spark_trained else None,
    )  # fmt: skip
    if spark_trained:
        del model.train  # read from seen_file on first use (__getattr__)
    return model


def read_seen(path: Path, n_users: int, n_items: int) -> sp.csr_matrix:
    """The seen-items matrix from a Spark-trained model's parquet file (u, i, value)."""
    import numpy as np
    import scipy.sparse as sp

    from mktai.store.formats import read_parquet

    frame = read_parquet(path)
    try:
        u = frame["u"].to_numpy(dtype=np.int64)
        i = frame["i"].to_numpy(dtype=np.int64)
        value = frame["value"].to_numpy(dtype=np.float64)
        if len(u) and (u.min() < 0 or u.max() >= n_users or i.min() < 0 or i.max() >= n_items):
            raise ValueError("a code outside the id maps")
        matrix = sp.csr_matrix((value, (u, i)), shape=(n_users, n_items))
    except (KeyError, ValueError) as exc:
        raise IntegrityError(f"{path}: not the seen items of this model ({exc})") from None
    matrix.sort_indices()
    return matrix
