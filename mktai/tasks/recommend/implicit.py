"""Purchase-based recommenders: EASE (Steck 2019, closed form), item-knn (cosine), popularity.

All three read the binary (or weighted) customer x item matrix X built in interactions.py.
EASE: B = I - P diagMat(1 / diag(P)) with P = (X'X + lambda I)^-1, so diag(B) = 0; scores X B.
item-knn: cosine similarity of item columns, the k largest per item kept; scores X S.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp


def gram(matrix: sp.csr_matrix) -> np.ndarray:
    import numpy as np

    return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float64)


def ease(matrix: sp.csr_matrix, l2: float) -> dict[str, Any]:
    """Item-item weights B (float32 on disk: the scores only rank)."""
    import numpy as np

    g = gram(matrix)
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return {"B": b.astype(np.float32)}


def item_knn(matrix: sp.csr_matrix, k: int) -> dict[str, Any]:
    """Cosine similarity between items (columns), the k most similar neighbours of each."""
    import numpy as np

    g = gram(matrix)
    norms = np.sqrt(np.diag(g))
    norms[norms == 0] = 1.0
    s = g / norms[:, None] / norms[None, :]
    s[np.diag_indices_from(s)] = 0.0
    if k < s.shape[0]:
        # S[j, i] = weight of purchased j for candidate i: keep, per candidate i, its top k j
        cut = np.partition(s, s.shape[0] - k, axis=0)[s.shape[0] - k]
        s[s < cut[None, :]] = 0.0
    return {"S": s.astype(np.float32)}


def popularity(matrix: sp.csr_matrix) -> np.ndarray:
    """Share of training users who interacted with each item."""
    import numpy as np

    users = max(matrix.shape[0], 1)  # stored cells count (a rating of 0 is an interaction)
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64) / users
