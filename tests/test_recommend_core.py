"""The recommend family's numerics: NumPy scoring against Surprise's own predictions, EASE
against a direct per-column computation, ranking metrics on hand-checkable cases, and the
interaction rules (scale rejects, duplicate pairs, returns)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from ratings_data import generate_ratings  # noqa: E402

from mktai.data import load_table  # noqa: E402
from mktai.errors import InputError  # noqa: E402
from mktai.evaluation.ranking import ranking_metrics, rating_metrics  # noqa: E402
from mktai.tasks.recommend import explicit, family, implicit  # noqa: E402
from mktai.tasks.recommend import interactions as ix  # noqa: E402
from mktai.tasks.recommend.scoring import Scorer  # noqa: E402
from mktai.tasks.recommend.topn import top_n  # noqa: E402

ALGORITHMS = ["svd", "svdpp", "nmf", "knn-baseline", "baseline", "slope-one", "co-clustering"]


@pytest.fixture(scope="module")
def ratings_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ratings") / "ratings.csv"
    generate_ratings(250, 150, 9000, seed=3).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def events(ratings_csv):
    table = load_table(ratings_csv, kind="ratings", dedupe=False)
    return ix.read_events(table, "explicit")


def test_generator_is_seeded_and_movielens_shaped():
    a = generate_ratings(200, 120, 6000, seed=5)
    b = generate_ratings(200, 120, 6000, seed=5)
    c = generate_ratings(200, 120, 6000, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert set(a["rating"].unique()) <= {1, 2, 3, 4, 5}
    assert a.groupby("user_id").size().min() >= 20
    per_item = a.groupby("item_id").size()
    assert per_item.max() > 5 * per_item.median()  # long-tailed popularity


@pytest.mark.parametrize("name", ALGORITHMS)
def test_numpy_scores_equal_surprise_predictions(events, name):
    algo, arrays = explicit.fit_algorithm(name, events, {}, 7)
    scorer = Scorer(name, arrays, events.matrix(), np.zeros(events.n_items))
    users = np.arange(0, events.n_users, 25)
    block = scorer.scores(users)
    for row, user in enumerate(users):
        theirs = np.array(
            [algo.predict(int(user), int(i), clip=False).est for i in range(events.n_items)]
        )
        np.testing.assert_allclose(block[row], theirs, rtol=0, atol=1e-9)
        pairs = scorer.predict(np.full(events.n_items, user), np.arange(events.n_items))
        np.testing.assert_allclose(pairs, theirs, rtol=0, atol=1e-9)
    # unknown user / unknown item fall back exactly as Surprise does
    ours = scorer.predict(np.array([-1, 3]), np.array([3, -1]))
    theirs = [algo.predict("nobody", 3, clip=False).est, algo.predict(3, "nothing", clip=False).est]
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_top_n_and_rmse_match_surprise_on_a_holdout(events):
    import surprise

    train, test = ix.split(events, 0.2, "random", 1)
    algo, arrays = explicit.fit_algorithm("svd", train, {}, 2)
    matrix = train.matrix()
    scorer = Scorer("svd", arrays, matrix, np.zeros(events.n_items))
    users = np.arange(0, events.n_users, 10)
    ours = top_n(scorer, users, 10).items
    for row, user in enumerate(users):
        seen = set(matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]].tolist())
        items = np.array([i for i in range(events.n_items) if i not in seen])
        est = np.array([algo.predict(int(user), int(i), clip=False).est for i in items])
        assert items[np.lexsort((items, -est))[:10]].tolist() == ours[row].tolist()
    testset = list(zip(test.u.tolist(), test.i.tolist(), test.value.tolist(), strict=True))
    theirs = surprise.accuracy.rmse(algo.test(testset), verbose=False)
    mine = rating_metrics(test.value, np.clip(scorer.predict(test.u, test.i), 1, 5))["rmse"]
    assert mine == pytest.approx(theirs, rel=1e-9)


def test_ease_equals_the_per_column_ridge_solution():
    rng = np.random.default_rng(0)
    dense = (rng.random((40, 12)) < 0.3).astype(float)
    l2 = 5.0
    weights = implicit.ease(sp.csr_matrix(dense), l2)["B"]
    for j in range(dense.shape[1]):
        others = [c for c in range(dense.shape[1]) if c != j]
        x = dense[:, others]
        direct = np.linalg.solve(x.T @ x + l2 * np.eye(len(others)), x.T @ dense[:, j])
        np.testing.assert_allclose(weights[others, j], direct, rtol=1e-4, atol=1e-5)
        assert weights[j, j] == 0


def test_item_knn_is_cosine_with_k_neighbours():
    dense = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=float)
    s = implicit.item_knn(sp.csr_matrix(dense), 4)["S"]
    assert s[0, 1] == pytest.approx(2 / np.sqrt(2 * 3), rel=1e-6)
    assert s[0, 3] == 0 and s[2, 2] == 0
    top1 = implicit.item_knn(sp.csr_matrix(dense), 1)["S"]
    assert ((top1 > 0).sum(axis=0) == 1).all()  # one neighbour kept per candidate item


def test_ranking_metrics_hand_checked():
    recs = [[1, 2, 3], [4, 5, 6], [7, -1, -1]]
    relevant = [{2, 9}, {7}, set()]  # the third user has nothing relevant: not averaged
    got = ranking_metrics(recs, relevant, 3, 10)
    d2 = 1 / np.log2(3)
    assert got["precision_at_3"] == pytest.approx((1 / 3) / 2)
    assert got["recall_at_3"] == pytest.approx((1 / 2) / 2)
    assert got["ndcg_at_3"] == pytest.approx((d2 / (1 + d2)) / 2)
    assert got["map_at_3"] == pytest.approx(((1 / 2) / 2) / 2)
    assert got["hit_rate_at_3"] == pytest.approx(0.5)
    assert got["coverage_at_3"] == pytest.approx(7 / 10)
    perfect = ranking_metrics([[5, 6]], [{5, 6}], 2, 4)
    assert perfect["ndcg_at_2"] == pytest.approx(1.0) and perfect["map_at_2"] == 1.0
    errors = rating_metrics([1, 3], [2, 5])
    assert errors == {"rmse": pytest.approx(np.sqrt(2.5)), "mae": pytest.approx(1.5)}


def test_scale_rejects_and_latest_duplicate_kept(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "user_id,item_id,rating,timestamp\n"
        "u1,a,4,2020-01-01\nu1,a,2,2020-03-01\nu1,b,7,2020-01-02\nu2,a,5,2020-01-01\n"
        "u2,b,1,2020-01-05\nu2,a,3,2019-12-01\n"
    )
    table = load_table(path, kind="ratings", dedupe=False)
    events = ix.read_events(table, "explicit", scale=(1, 5))
    frame = events.frame().sort_values(["user", "item"]).reset_index(drop=True)
    assert frame.to_dict("list") == {
        "user": ["u1", "u2", "u2"], "item": ["a", "a", "b"], "rating": [2.0, 5.0, 1.0],
    }  # fmt: skip
    assert events.counts["duplicates_replaced"] == 2
    assert table.rejects["row"].tolist() == [3]
    assert "outside the scale 1..5" in table.rejects["reason"].iloc[0]


def test_purchases_exclude_returns_and_one_user_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        "1,A,2,2011-01-01,1.0,c1\n1,A,1,2011-01-01,1.0,c1\nC2,B,-1,2011-01-02,1.0,c1\n"
        "3,B,1,2011-01-03,1.0,\n"
    )
    table = load_table(path, kind="transactions")
    events = ix.read_events(table, "implicit")
    assert len(events) == 1  # two lines of A in invoice 1 are one purchase event
    assert events.counts["return_lines_excluded"] == 1
    assert events.counts["lines_without_customer"] == 1
    with pytest.raises(InputError, match="at least 2 users"):
        ix.check_enough(events, "t.csv")


def test_dataset_kind_chosen_from_the_header(tmp_path, ratings_csv):
    bare = tmp_path / "bare.csv"
    bare.write_text("customer_id,sku,order_date,qty\nc1,A,2011-01-01,1\n")
    assert family.dataset_kind_for(ratings_csv) == "ratings"
    assert family.dataset_kind_for(bare) == "table"
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
    assert family.dataset_kind_for(sample) == "transactions"


def test_top_n_pads_from_popularity_and_masks_seen_and_excluded():
    # u0 bought item 0, which only co-occurs with item 1; items 2-4 are popular elsewhere
    dense = np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 1, 1, 1],
                      [0, 0, 1, 0, 1]], dtype=float)  # fmt: skip
    matrix = sp.csr_matrix(dense)
    popularity = implicit.popularity(matrix)
    scorer = Scorer("item-knn", implicit.item_knn(matrix, 10), matrix, popularity)
    found = top_n(scorer, np.array([0]), 3)
    assert found.items[0].tolist() == [1, 2, 3]  # 1 from the model, then by popularity
    assert found.from_model[0].tolist() == [True, False, False]
    excluded = np.zeros(5, dtype=bool)
    excluded[2] = True
    again = top_n(scorer, np.array([0]), 3, excluded=excluded)
    assert again.items[0].tolist() == [1, 3, 4]
    with_seen = top_n(scorer, np.array([1]), 5, include_seen=True)
    assert set(with_seen.items[0].tolist()) == {0, 1, 2, 3, 4}
    assert scorer.reasons(0, np.array([1])).tolist() == [0]  # because you liked item 0
