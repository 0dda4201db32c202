"""Prediction and score matrices from the stored arrays, in NumPy only (never Surprise).

Every explicit algorithm reproduces Surprise 1.1's `estimate` (unknown users or items fall back
as Surprise does: the baseline parts that are known, else the global mean). `scores(users)`
gives a dense block users x items for top-N; -inf marks items the model has no evidence for
(item-knn with no similar purchase), which top-N pads from popularity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mktai.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

FACTOR_MODELS = ("svd", "svdpp", "nmf", "als")
ITEM_BASED = ("knn-baseline", "ease", "item-knn")
# arrays each algorithm stores (checked when a model file is read)
REQUIRED = {
    "svd": ("mu", "bu", "bi", "pu", "qi", "known_u", "known_i", "biased"),
    "svdpp": ("mu", "bu", "bi", "pu", "qi", "known_u", "known_i", "biased"),
    "nmf": ("mu", "bu", "bi", "pu", "qi", "known_u", "known_i", "biased"),
    "als": ("mu", "bu", "bi", "pu", "qi", "known_u", "known_i", "biased"),  # svd's arrays
    "baseline": ("mu", "bu", "bi", "known_u", "known_i"),
    "knn-baseline": ("mu", "bu", "bi", "sim", "k", "min_k", "known_u", "known_i"),
    "slope-one": ("mu", "dev", "common", "user_mean", "known_u", "known_i"),
    "co-clustering": ("mu", "cltr_u", "cltr_i", "avg_cocltr", "avg_cltr_u", "avg_cltr_i",
                      "user_mean", "item_mean", "known_u", "known_i"),
    "ease": ("B",),
    "item-knn": ("S",),
    "popularity": (),
}  # fmt: skip


class Scorer:
    """One algorithm's arrays plus the training matrix (the ratings or purchases per user)."""

    def __init__(self, algorithm: str, arrays: dict[str, Any], train: sp.csr_matrix,
                 popularity: np.ndarray) -> None:  # fmt: skip
        self.algorithm = algorithm
        self.a = arrays
        self.train = train
        self.popularity = popularity
        self.n_users, self.n_items = train.shape

    # -- pairs -------------------------------------------------------------------------------
    def _known(self, u: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        ku = (u >= 0) & self.a["known_u"][np.maximum(u, 0)]
        ki = (i >= 0) & self.a["known_i"][np.maximum(i, 0)]
        return ku, ki

    def predict(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Unclipped estimates for code pairs (-1 = unknown id)."""
        import numpy as np

        u, i = np.asarray(u, dtype=np.int64), np.asarray(i, dtype=np.int64)
        name, a = self.algorithm, self.a
        if name in ("ease", "item-knn", "popularity"):
            raise UsageError(f"{name} ranks purchases; it predicts no ratings")
        ku, ki = self._known(u, i)
        both = ku & ki
        uu, ii = np.maximum(u, 0), np.maximum(i, 0)
        mu = float(a["mu"])
        if name in ("slope-one", "co-clustering") or (name == "nmf" and not a["biased"]):
            est = np.full(len(u), mu)
            if not both.any():
                return est
            if name == "nmf":
                est[both] = np.einsum("ij,ij->i", a["pu"][uu[both]], a["qi"][ii[both]])
            elif name == "co-clustering":
                est[both] = self._cocluster(uu[both], ii[both])
            else:
                est[both] = self._by_user(uu[both], ii[both])
            return est
        est = mu + np.where(ku, a["bu"][uu], 0.0) + np.where(ki, a["bi"][ii], 0.0)
        if name in FACTOR_MODELS and both.any():
            est[both] += np.einsum("ij,ij->i", a["pu"][uu[both]], a["qi"][ii[both]])
        elif name == "knn-baseline" and both.any():
            est[both] += self._by_user(uu[both], ii[both])
        return est

    def _cocluster(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        a = self.a
        cu, ci = a["cltr_u"][u], a["cltr_i"][i]
        return (a["avg_cocltr"][cu, ci] + a["user_mean"][u] - a["avg_cltr_u"][cu]
                + a["item_mean"][i] - a["avg_cltr_i"][ci])  # fmt: skip

    def _by_user(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """knn-baseline's neighbourhood term / slope-one's estimate, grouped by user."""
        import numpy as np

        out = np.zeros(len(u))
        order = np.argsort(u, kind="stable")
        bounds = np.flatnonzero(np.diff(u[order])) + 1
        for group in np.split(order, bounds):
            if len(group):
                out[group] = self._user_terms(int(u[group[0]]), i[group])
        return out

    def _user_terms(self, user: int, items: np.ndarray | None) -> np.ndarray:
        """For one user, the algorithm's user-dependent term for `items` (None: all items)."""
        import numpy as np

        a = self.a
        start, stop = self.train.indptr[user], self.train.indptr[user + 1]
        rated = self.train.indices[start:stop]
        ratings = self.train.data[start:stop]
        if self.algorithm == "slope-one":
            common = a["common"][:, rated] if items is None else a["common"][np.ix_(items, rated)]
            dev = a["dev"][:, rated] if items is None else a["dev"][np.ix_(items, rated)]
            count = common.sum(axis=1)
            total = np.where(common, dev, 0.0).sum(axis=1)
            mean = np.divide(total, count, out=np.zeros(len(count)), where=count > 0)
            return a["user_mean"][user] + mean
        # knn-baseline, item based: neighbours j of i among the items the user rated
        residual = ratings - (float(a["mu"]) + a["bi"][rated] + a["bu"][user])
        sim = a["sim"][:, rated] if items is None else a["sim"][np.ix_(items, rated)]
        k = int(a["k"])
        if sim.shape[1] > k:
            top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            sim = np.take_along_axis(sim, top, axis=1)
            residual = residual[top]
        else:
            residual = np.broadcast_to(residual, sim.shape)
        weights = np.where(sim > 0, sim, 0.0)
        total = weights.sum(axis=1)
        count = (sim > 0).sum(axis=1)
        num = (weights * residual).sum(axis=1)
        ok = (total > 0) & (count >= int(a["min_k"]))
        return np.divide(num, total, out=np.zeros(len(total)), where=ok)

    # -- whole rows -----------------------------------------------------------------------------
    def scores(self, users: np.ndarray) -> np.ndarray:
        """Dense users x items scores (higher = better), -inf where the model has no evidence."""
        import numpy as np

        name, a = self.algorithm, self.a
        users = np.asarray(users, dtype=np.int64)
        if name == "popularity":
            return np.broadcast_to(
                self.popularity.astype(np.float64), (len(users), self.n_items)
            ).copy()
        if name in ("ease", "item-knn"):
            weights = a["B"] if name == "ease" else a["S"]
            rows = self.train[users]
            block = np.asarray(rows @ weights, dtype=np.float64)
            if name == "item-knn":
                block[block <= 0] = -np.inf
            block[np.diff(rows.indptr) == 0] = -np.inf  # no history: top-N pads from popularity
            return block
        ku = a["known_u"][users]
        ki = a["known_i"]
        mu = float(a["mu"])
        if name in ("slope-one", "co-clustering") or (name == "nmf" and not a["biased"]):
            block = np.full((len(users), self.n_items), mu)
            for row, user in enumerate(users):
                if not ku[row]:
                    continue
                items = np.flatnonzero(ki)
                if name == "nmf":
                    block[row, items] = a["qi"][items] @ a["pu"][user]
                elif name == "co-clustering":
                    block[row, items] = self._cocluster(np.full(len(items), user), items)
                else:
                    block[row, items] = self._user_terms(int(user), items)
            return block
        block = mu + np.where(ku, a["bu"][users], 0.0)[:, None] + np.where(ki, a["bi"], 0.0)
        if name in FACTOR_MODELS:
            block += (a["pu"][users] @ a["qi"].T) * (ku[:, None] & ki[None, :])
        elif name == "knn-baseline":
            for row, user in enumerate(users):
                if ku[row]:
                    block[row] += self._user_terms(int(user), None) * ki
        return block

    # -- items ------------------------------------------------------------------------------
    def similar(self, item: int) -> tuple[np.ndarray, str] | None:
        """Similarity of every item to `item` and how it was measured, or None."""
        import numpy as np

        name, a = self.algorithm, self.a
        if name in FACTOR_MODELS:
            q = a["qi"]
            norms = np.linalg.norm(q, axis=1)
            denom = np.maximum(norms * norms[item], 1e-12)
            sims = (q @ q[item]) / denom
            sims[~a["known_i"]] = -np.inf
            return sims, "item factors (cosine)"
        if name == "knn-baseline":
            return a["sim"][item].astype(np.float64), "item-item similarity (pearson baseline)"
        if name == "ease":
            return np.asarray(a["B"][item], dtype=np.float64), "item-item weights (EASE)"
        if name == "item-knn":
            return np.asarray(a["S"][item], dtype=np.float64), "item-item similarity (cosine)"
        return None

    def reasons(self, user: int, items: np.ndarray) -> np.ndarray | None:
        """For item-based models: per recommended item, the liked item contributing most."""
        import numpy as np

        if self.algorithm not in ITEM_BASED:
            return None
        start, stop = self.train.indptr[user], self.train.indptr[user + 1]
        rated = self.train.indices[start:stop]
        if not len(rated) or not len(items):
            return np.full(len(items), -1)
        values = self.train.data[start:stop]
        a = self.a
        if self.algorithm == "knn-baseline":
            residual = values - (float(a["mu"]) + a["bi"][rated] + a["bu"][user])
            contribution = a["sim"][np.ix_(items, rated)] * residual[None, :]
        else:
            weights = a["B"] if self.algorithm == "ease" else a["S"]
            contribution = weights[np.ix_(rated, items)].T * values[None, :]
        best = np.argmax(contribution, axis=1)
        found = contribution[np.arange(len(items)), best] > 0
        return np.where(found, rated[best], -1)


class Blend:
    """Member scorers stacked with feature-weighted weights (family.blend_design)."""

    algorithm = "blend"

    def __init__(self, members: list[Scorer], weights: np.ndarray) -> None:
        import numpy as np

        self.members = members
        self.weights = weights
        self.n_users, self.n_items = members[0].n_users, members[0].n_items
        self.train = members[0].train
        self.popularity = members[0].popularity
        m = self.train
        self.log_user = np.log1p(np.diff(m.indptr).astype(np.float64))
        self.log_item = np.log1p(np.bincount(m.indices, minlength=self.n_items).astype(np.float64))

    def _combine(self, estimates: list[Any], lu: Any, li: Any) -> Any:
        total = self.weights[0]
        for index, est in enumerate(estimates):
            w, wu, wi = self.weights[1 + 3 * index : 4 + 3 * index]
            total = total + est * (w + wu * lu + wi * li)
        return total

    def predict(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        import numpy as np

        u, i = np.asarray(u, dtype=np.int64), np.asarray(i, dtype=np.int64)
        lu = np.where(u >= 0, self.log_user[np.maximum(u, 0)], 0.0)
        li = np.where(i >= 0, self.log_item[np.maximum(i, 0)], 0.0)
        return self._combine([m.predict(u, i) for m in self.members], lu, li)

    def scores(self, users: np.ndarray) -> np.ndarray:
        lu = self.log_user[users][:, None]
        li = self.log_item[None, :]
        return self._combine([m.scores(users) for m in self.members], lu, li)

    def similar(self, item: int) -> tuple[np.ndarray, str] | None:
        for member in self.members:
            found = member.similar(item)
            if found is not None:
                return found[0], f"{found[1]} of blend member {member.algorithm}"
        return None

    def reasons(self, user: int, items: np.ndarray) -> np.ndarray | None:
        for member in self.members:
            if member.algorithm in ITEM_BASED:
                return member.reasons(user, items)
        return None
