"""A seeded generator of MovieLens-shaped explicit ratings (no redistributable set exists here).

The default size is MovieLens 1M's: 6,040 users x 3,706 items, 1,000,209 ratings, every user
with at least 20 ratings. The story: item popularity is long-tailed (Zipf-like) and user activity
log-normal; each user rates items drawn without replacement in proportion to popularity; a rating
is mu + user bias + item bias (popular items a little better) + a rank-8 taste term + noise,
rounded and clipped to 1..5 (mean about 3.6, std about 1.1, as in MovieLens). Timestamps are
spread over 2000-04-25 .. 2003-02-28, later for a user's later ratings.

Tests import `generate_ratings` with a small size (tests put benchmarks/ on sys.path so the
package ships no benchmark code); the CLI writes a CSV:

    python benchmarks/ratings_data.py [--users 6040 --items 3706 --ratings 1000209] [-o PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "_data"
SEED = 20260101
START, END = "2000-04-25", "2003-02-28"


def generate_ratings(
    n_users: int = 6040,
    n_items: int = 3706,
    n_ratings: int = 1_000_209,
    *,
    seed: int = SEED,
    rank: int = 8,
    noise: float = 0.75,
    min_per_user: int = 20,
    oracle: bool = False,
) -> pd.DataFrame:
    """Columns user_id, item_id, rating (int 1..5), timestamp (ISO text); sorted by user, time.

    oracle=True adds the column `oracle`: the expected rating given the true parameters (the
    best any model can predict; its RMSE is the noise floor of this data).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    min_per_user = min(min_per_user, n_items)
    # long-tailed popularity: Zipf-like weights over a random item order
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.0
    popularity = popularity[rng.permutation(n_items)]
    popularity /= popularity.sum()
    # log-normal activity, at least min_per_user, scaled to the wanted total
    activity = rng.lognormal(0.0, 1.0, n_users)
    extra = max(n_ratings - min_per_user * n_users, 0)
    counts = min_per_user + np.floor(activity / activity.sum() * extra).astype(np.int64)
    counts = np.minimum(counts, n_items)
    short = n_ratings - int(counts.sum())
    if short > 0:  # hand the rounding remainder to the most active users with room left
        room = np.flatnonzero(counts < n_items)
        order = room[np.argsort(-activity[room], kind="stable")]
        counts[order[: min(short, len(order))]] += 1
    # latent structure
    user_bias = rng.normal(0.0, 0.35, n_users)
    item_bias = rng.normal(0.0, 0.4, n_items) + 0.15 * np.log(popularity * n_items)
    item_bias -= item_bias.mean()
    scale = 0.8 / np.sqrt(rank)
    user_factors = rng.normal(0.0, np.sqrt(scale), (n_users, rank))
    item_factors = rng.normal(0.0, np.sqrt(scale), (n_items, rank))
    log_pop = np.log(popularity)
    users, items = [], []
    chunk = 512
    for start in range(0, n_users, chunk):
        stop = min(start + chunk, n_users)
        keys = log_pop + rng.gumbel(size=(stop - start, n_items))  # Gumbel top-k: weighted draw
        order = np.argsort(-keys, axis=1)
        for row, user in enumerate(range(start, stop)):
            picked = order[row, : counts[user]]
            users.append(np.full(len(picked), user, dtype=np.int64))
            items.append(picked)
    u = np.concatenate(users)
    i = np.concatenate(items)
    signal = (
        3.5 + user_bias[u] + item_bias[i] + np.einsum("ij,ij->i", user_factors[u], item_factors[i])
    )
    raw = signal + rng.normal(0.0, noise, len(u))
    rating = np.clip(np.rint(raw), 1, 5).astype(np.int64)
    # timestamps: each user active over a random window; ratings in order within it
    start_ns = pd.Timestamp(START).value
    span = pd.Timestamp(END).value - start_ns
    first = rng.uniform(0.0, 0.8, n_users)
    length = rng.uniform(0.01, 0.2, n_users)
    position = rng.uniform(0.0, 1.0, len(u))
    stamp = start_ns + ((first[u] + length[u] * position) * span).astype(np.int64)
    frame = pd.DataFrame(
        {
            "user_id": u + 1,
            "item_id": i + 1,
            "rating": rating,
            "timestamp": pd.to_datetime(stamp).floor("s"),
        }
    )
    if oracle:
        frame["oracle"] = _expected_rating(signal, noise)
    frame = frame.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def _expected_rating(signal, noise: float):
    """E[clip(round(signal + N(0, noise)), 1, 5)]: sum of k x P(the rating is k)."""
    import numpy as np
    from scipy.stats import norm

    edges = np.array([-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf])
    cdf = norm.cdf((edges[None, :] - signal[:, None]) / noise)
    return (np.diff(cdf, axis=1) * np.arange(1, 6)).sum(axis=1)


def write_ratings(path: Path, **kwargs: int) -> Path:
    """Generate and write a CSV (atomically: temp file then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = generate_ratings(**kwargs)
    temp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(temp, index=False)
    temp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=6040)
    parser.add_argument("--items", type=int, default=3706)
    parser.add_argument("--ratings", type=int, default=1_000_209)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("-o", "--output", type=Path, default=DATA_DIR / "ratings_1m.csv")
    args = parser.parse_args()
    write_ratings(
        args.output,
        n_users=args.users,
        n_items=args.items,
        n_ratings=args.ratings,
        seed=args.seed,
    )
    print(args.output)


if __name__ == "__main__":
    main()
