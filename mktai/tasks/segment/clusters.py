"""k-means on standardised log1p RFM (plus optional numeric features), automatic k, profiles.

Automatic k fits every candidate on one seeded sample and scores it with the silhouette on a
smaller seeded sample (silhouette is O(n^2)); every candidate's score is reported. The final
centroids are fitted on up to 200,000 usable customers (a seeded sample beyond that) and every
customer is assigned to the nearest one. Clusters are renumbered by value (0 = most valuable) so
numbering does not depend on k-means' arbitrary labels, and get readable names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

RFM_FEATURES = ("recency", "frequency", "monetary")


@dataclass
class ClusterModel:
    """Everything needed to assign new customers: scaler, centroids, names."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    centroids: np.ndarray  # in standardised space, row i = cluster i
    names: list[str]
    silhouette: dict[int, float] = field(default_factory=dict)
    chosen_silhouette: float | None = None

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return (transform_features(raw, self.features) - self.mean) / self.scale

    def assign(self, raw: np.ndarray) -> np.ndarray:
        """Nearest centroid for each row of raw (un-logged) feature values."""
        import numpy as np

        z = self.transform(raw)
        # |z - c|^2 = |z|^2 - 2 z.c + |c|^2; |z|^2 is constant per row.
        d = -2.0 * z @ self.centroids.T + (self.centroids**2).sum(axis=1)
        return np.argmin(d, axis=1).astype(np.int64)


def transform_features(raw: np.ndarray, features: list[str]) -> np.ndarray:
    """log1p on the RFM columns (recency, frequency, monetary are >= 0 for usable customers)."""
    import numpy as np

    out = np.asarray(raw, dtype="float64").copy()
    for i, name in enumerate(features):
        if name in RFM_FEATURES:
            out[:, i] = np.log1p(np.maximum(out[:, i], 0.0))
    return out


def choose_and_fit(
    raw: np.ndarray,
    features: list[str],
    *,
    k: int | None,
    seed: int,
    k_range: tuple[int, int] = (2, 8),
    fit_sample: int = 50_000,
    silhouette_sample: int = 3_000,
    final_sample: int = 200_000,
) -> ClusterModel:
    """Fit k-means with a given k, or pick k by silhouette over k_range when k is None.

    Runs single-threaded: on a shared 2-core machine OpenMP spinning made k-means 100x slower.
    """
    import sklearn.cluster  # noqa: F401 - load the OpenMP runtime before limiting it
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _choose_and_fit(
            raw,
            features,
            k=k,
            seed=seed,
            k_range=k_range,
            fit_sample=fit_sample,
            silhouette_sample=silhouette_sample,
            final_sample=final_sample,
        )


def _choose_and_fit(
    raw: np.ndarray,
    features: list[str],
    *,
    k: int | None,
    seed: int,
    k_range: tuple[int, int],
    fit_sample: int,
    silhouette_sample: int,
    final_sample: int,
) -> ClusterModel:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from mktai.errors import InputError

    logged = transform_features(raw, features)
    if logged.shape[0] == 0:  # before the statistics: numpy warns on empty means
        raise InputError(
            "no usable customer (every one has only returns or a net total <= 0): nothing to "
            "cluster"
        )
    mean = logged.mean(axis=0)
    scale = logged.std(axis=0)
    scale[scale == 0] = 1.0
    z = (logged - mean) / scale
    n = z.shape[0]
    distinct = np.unique(z.round(9), axis=0).shape[0] if n <= 200_000 else n
    if n < 3 or distinct < 2:
        raise InputError(
            f"only {n} usable customer(s) with {distinct} distinct RFM profile(s): "
            "clustering needs at least 3 customers and 2 distinct profiles"
        )
    rng = np.random.default_rng(seed)
    scores: dict[int, float] = {}
    chosen_score: float | None = None
    if k is None:
        low, high = k_range
        high = min(high, distinct - 1, n - 1)
        if high < low:
            k = min(low, distinct)
        else:
            sample = z if n <= fit_sample else z[rng.choice(n, fit_sample, replace=False)]
            sil_idx = rng.choice(
                sample.shape[0], min(silhouette_sample, sample.shape[0]), replace=False
            )
            for cand in range(low, high + 1):
                km = KMeans(n_clusters=cand, n_init=3, random_state=seed).fit(sample)
                labels = km.labels_[sil_idx]
                if np.unique(labels).size < 2:
                    continue
                scores[cand] = float(silhouette_score(sample[sil_idx], labels))
            if not scores:
                raise InputError("k-means found no split of the customers with 2+ clusters")
            # Highest silhouette; ties go to the smaller k (simpler to explain).
            k = max(scores, key=lambda c: (round(scores[c], 6), -c))
            chosen_score = scores[k]
    if k < 1 or k > min(n, distinct):
        raise InputError(
            f"--k {k} is more than the {min(n, distinct)} distinct customer profiles; use a "
            "smaller k or --k auto"
        )
    # Centroids from a 200k seeded sample are as good as from millions and 5x cheaper.
    final = z if n <= final_sample else z[rng.choice(n, final_sample, replace=False)]
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(final)
    centroids = km.cluster_centers_
    order = _value_order(centroids, features)
    centroids = centroids[order]
    names = _names(centroids, features)
    return ClusterModel(
        features=list(features),
        mean=mean,
        scale=scale,
        centroids=centroids,
        names=names,
        silhouette=scores,
        chosen_silhouette=chosen_score,
    )


def _value_order(centroids: np.ndarray, features: list[str]) -> np.ndarray:
    """Clusters sorted by value: low recency, high frequency and monetary first."""
    import numpy as np

    value = np.zeros(centroids.shape[0])
    for i, name in enumerate(features):
        if name == "recency":
            value -= centroids[:, i]
        elif name in ("frequency", "monetary"):
            value += centroids[:, i]
    return np.argsort(-value, kind="stable")


def _level(z: float, words: tuple[str, str, str]) -> str:
    low, mid, high = words
    return high if z > 0.5 else low if z < -0.5 else mid


def _names(centroids: np.ndarray, features: list[str]) -> list[str]:
    """Readable names from the standardised centroid of each cluster, unique by suffix."""
    words = {
        "recency": ("recent", "mid-recency", "lapsed"),
        "frequency": ("one-off", "occasional", "frequent"),
        "monetary": ("low-spend", "mid-spend", "high-spend"),
    }
    names: list[str] = []
    for row in centroids:
        parts = [_level(float(row[i]), words[f]) for i, f in enumerate(features) if f in words]
        name = ", ".join(parts) if parts else "cluster"
        if name in names:
            count = sum(1 for other in names if other == name or other.startswith(name + " #"))
            name = f"{name} #{count + 1}"
        names.append(name)
    return names


def profiles(
    raw: np.ndarray, cluster: np.ndarray, model: ClusterModel, revenue: np.ndarray
) -> list[dict[str, Any]]:
    """Size, share, mean of each feature and revenue share per cluster (-1 = not clustered).

    raw holds the un-logged feature values in the order of model.features.
    """
    out = []
    total_revenue = float(revenue[cluster >= 0].sum()) or 1.0
    clustered = int((cluster >= 0).sum()) or 1
    for i in range(model.k):
        mask = cluster == i
        size = int(mask.sum())
        entry: dict[str, Any] = {
            "cluster": i,
            "name": model.names[i],
            "customers": size,
            "share": size / clustered,
            "revenue_share": float(revenue[mask].sum()) / total_revenue,
        }
        for j, name in enumerate(model.features):
            entry[f"mean_{name}"] = float(raw[mask, j].mean()) if size else float("nan")
        out.append(entry)
    return out
