"""`mktai train recommender`, `mktai recommend` and `mktai evaluate` end to end through the
real CLI: a generated ratings file (explicit) and sample_data/transactions_sample.csv (purchases).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from ratings_data import generate_ratings  # noqa: E402

from mktai.cli.app import app  # noqa: E402
from mktai.store.formats import read_npz  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A store with an explicit model (recs) and a purchases model (basket)."""
    root = tmp_path_factory.mktemp("rec")
    ratings = generate_ratings(200, 120, 6000, seed=11)
    ratings.to_csv(root / "ratings.csv", index=False)
    sample = pd.read_csv(SAMPLE, dtype=str)
    # the 600 best-selling products keep the EASE inversions small (tests stay quick)
    top = sample["StockCode"].value_counts().index[:600]
    sample = sample[sample["StockCode"].isin(top)]
    dates = pd.to_datetime(sample["InvoiceDate"])
    cut = dates.quantile(0.8)
    sample[dates <= cut].to_csv(root / "orders.csv", index=False)
    sample[dates > cut].to_csv(root / "orders_test.csv", index=False)
    store = root / "store"
    trained = run("--store", store, "train", "recommender", root / "ratings.csv", "--name", "recs",
                  "--seed", "1", "--json")  # fmt: skip
    assert trained.exit_code == 0, trained.output
    basket = run("--store", store, "train", "recommender", root / "orders.csv", "--name", "basket",
                 "--json")  # fmt: skip
    assert basket.exit_code == 0, basket.output
    return root, store, ratings, json.loads(trained.stdout), json.loads(basket.stdout)


def test_train_explicit_and_implicit_choose_their_defaults(work):
    _root, _store, _ratings, recs, basket = work
    assert recs["algorithm"] == "svd"
    assert {"rmse", "mae", "ndcg_at_10", "popularity.ndcg_at_10"} <= set(recs["metrics"]["holdout"])
    assert basket["algorithm"] == "ease"
    holdout = basket["metrics"]["holdout"]
    assert "rmse" not in holdout and holdout["ndcg_at_10"] > holdout["popularity.ndcg_at_10"]
    assert any("return/cancellation" in w for w in basket["warnings"])


def test_recommend_one_user_excludes_seen_items(work):
    root, store, ratings, _r, _b = work
    out = root / "u5.csv"
    result = run("--store", store, "recommend", "--model", "recs", "--user", "5", "-n", "7",
                 "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(out, dtype={"user": str, "item": str})
    assert list(recs.columns) == ["user", "rank", "item", "score", "source"]
    assert recs["rank"].tolist() == list(range(1, 8)) and (recs["source"] == "model").all()
    assert recs["score"].is_monotonic_decreasing
    seen = set(ratings.loc[ratings["user_id"] == 5, "item_id"].astype(str))
    assert not seen & set(recs["item"])


def test_all_users_parquet_exactly_n_each(work):
    root, store, ratings, _r, _b = work
    out = root / "all.parquet"
    result = run("--store", store, "recommend", "--model", "recs", "--all-users", "-n", "4",
                 "-o", out, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    recs = pd.read_parquet(out)
    assert recs.groupby("user").size().eq(4).all()
    assert recs["user"].nunique() == ratings["user_id"].nunique()
    assert json.loads(result.stdout)["rows"] == len(recs)


def test_unknown_user_gets_popularity_with_a_note(work):
    root, store, _ratings, _r, _b = work
    orders = pd.read_csv(root / "orders.csv", dtype=str)
    regular = orders["CustomerID"].value_counts().index[0]  # the customer with most lines
    result = run("--store", store, "recommend", "--model", "basket", "--user", "no-such",
                 "--user", regular, "-n", "5")  # fmt: skip
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
    assert (recs.loc[recs["user"] == "no-such", "source"] == "popularity").all()
    assert "unknown to the model" in result.stderr and "no-such" in result.stderr
    known = recs[recs["user"] == regular]
    assert len(known) == 5 and known["reason"].str.startswith("because you liked").any()


def test_n_larger_than_catalogue_and_exclude_items(work):
    root, store, ratings, _r, _b = work
    result = run("--store", store, "recommend", "--model", "recs", "--user", "3", "-n", "500")
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
    unseen = 120 - (ratings["user_id"] == 3).sum()
    assert len(recs) == unseen
    assert result.stderr.count("more than the 120 item(s)") == 1
    top = recs["item"].head(3).tolist()
    stock = root / "out_of_stock.csv"
    stock.write_text("item\n" + "\n".join(top) + "\n")
    again = run("--store", store, "recommend", "--model", "recs", "--user", "3", "-n", "5",
                "--exclude-items", stock)  # fmt: skip
    assert again.exit_code == 0, again.output
    later = pd.read_csv(pd.io.common.StringIO(again.stdout), dtype=str)
    assert len(later) == 5 and not set(top) & set(later["item"])


def test_similar_items_by_factors_and_item_matrix(work):
    _root, store, _ratings, _r, _b = work
    for model, item in (("recs", "10"), ("basket", "85123A")):
        result = run("--store", store, "recommend", "--model", model, "--similar-to", item,
                     "-n", "6")  # fmt: skip
        assert result.exit_code == 0, result.output
        table = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
        assert len(table) == 6 and item not in set(table["similar_item"])
        assert list(table.columns) == ["item", "rank", "similar_item", "score", "source"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--user", "1", "--all-users"], "not both"),
        ([], "--user ID"),
        (["--similar-to", "no-such-item"], "no such item"),
        (["--user", "1", "-n", "0"], "at least 1"),
    ],
)
def test_bad_recommend_input_exits_2(work, args, message):
    _root, store, _ratings, _r, _b = work
    result = run("--store", store, "recommend", "--model", "recs", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output


def test_bad_training_input_exits_2(work, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("user_id,item_id,rating\nu1,a,4\nu1,b,3\n")
    result = run("--store", tmp_path / "s", "train", "recommender", one, "--name", "x")
    assert result.exit_code == 2 and "at least 2 users" in result.stderr
    root = work[0]
    wrong = run("--store", tmp_path / "s", "train", "recommender", root / "orders.csv",
                "--name", "x", "--algorithm", "svd")  # fmt: skip
    assert wrong.exit_code == 2 and "needs explicit ratings" in wrong.stderr


def test_out_of_scale_ratings_are_rejected(tmp_path):
    frame = generate_ratings(40, 30, 900, seed=2)
    frame.loc[3, "rating"] = 9
    frame.to_csv(tmp_path / "r.csv", index=False)
    result = run("--store", tmp_path / "s", "train", "recommender", tmp_path / "r.csv",
                 "--name", "r", "--scale", "1,5", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_rejected"] == 1
    assert any("rejected" in w for w in summary["warnings"])


def test_evaluate_with_gates(work):
    root, store, _ratings, _r, _b = work
    ok = run("--store", store, "evaluate", "--model", "basket", "--data", root / "orders_test.csv",
             "--fail-under", "ndcg_at_10=0.001", "--json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["metrics"]["ndcg_at_10"] > report["metrics"]["popularity.ndcg_at_10"]
    high = run("--store", store, "evaluate", "--model", "basket", "--data",
               root / "orders_test.csv", "--fail-under", "ndcg_at_10=0.99")  # fmt: skip
    assert high.exit_code == 1 and "ndcg_at_10" in high.stderr
    rmse = run("--store", store, "evaluate", "--model", "recs", "--data", root / "ratings.csv",
               "--fail-under", "rmse=0.01")  # lower is better: 0.8 is above the limit  # fmt: skip
    assert rmse.exit_code == 1 and "at most 0.01" in rmse.stderr


def test_seed_decides_the_factors(work, tmp_path):
    root, store, _ratings, first, _b = work
    again = run("--store", store, "train", "recommender", root / "ratings.csv", "--name", "recs2",
                "--seed", "1", "--json")  # fmt: skip
    other = run("--store", store, "train", "recommender", root / "ratings.csv", "--name", "recs3",
                "--seed", "2", "--json")  # fmt: skip
    paths = [Path(json.loads(r.stdout)["path"]) for r in (again, other)]
    a = read_npz(Path(first["path"]) / "arrays.npz")["m0__pu"]
    b = read_npz(paths[0] / "arrays.npz")["m0__pu"]
    c = read_npz(paths[1] / "arrays.npz")["m0__pu"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_tune_records_the_grid_and_winner(work):
    from mktai.store import Store

    root, store, _ratings, _r, _b = work
    for name, data, extra in (("tuned-basket", "orders.csv", []),
                              ("tuned-recs", "ratings.csv", ["--cv", "2"])):  # fmt: skip
        result = run("--store", store, "train", "recommender", root / data, "--name", name,
                     "--tune", *extra, "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        tuning = Store(store).load(name).manifest["recommender"]["tuning"]
        assert tuning["results"] and set(tuning["best"]) == set(tuning["grid"])
        (param, value), *_ = tuning["best"].items()
        assert value in tuning["grid"][param]
        assert Store(store).load(name).manifest["params"][param] == value


def test_purchases_without_price_time_split_and_implicit_ratings(work, tmp_path):
    root, store, _ratings, _r, _b = work
    sample = pd.read_csv(root / "orders.csv", dtype=str)
    bare = sample.rename(columns={"CustomerID": "customer_id", "StockCode": "sku",
                                  "InvoiceDate": "order_date", "Quantity": "qty"})  # fmt: skip
    bare[["customer_id", "sku", "order_date", "qty"]].to_csv(tmp_path / "bare.csv", index=False)
    result = run("--store", store, "train", "recommender", tmp_path / "bare.csv", "--name",
                 "bare", "--split", "time", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["algorithm"] == "ease" and summary["metrics"]["holdout"]["users_evaluated"] > 0
    assert any("no positive quantity" in w or "return" in w for w in summary["warnings"])
    implicit = run("--store", store, "train", "recommender", root / "ratings.csv", "--name",
                   "clicks", "--feedback", "implicit", "--algorithm", "item-knn", "--json")  # fmt: skip
    assert implicit.exit_code == 0, implicit.output
    assert "rmse" not in json.loads(implicit.stdout)["metrics"]["holdout"]


def test_python_api_with_progress(work):
    from mktai.api import recommend, similar_items

    _root, store, ratings, _r, _b = work
    calls = []
    result = recommend("recs", all_users=True, n=3, store=store,
                       progress=lambda label, done, total: calls.append((done, total)))  # fmt: skip
    assert len(result.frame) == 3 * ratings["user_id"].nunique()
    assert calls and calls[-1][0] == calls[-1][1] == result.users
    assert "frame" not in result.to_dict() and result.to_dict()["n"] == 3
    seen = recommend("recs", users=["5"], n=5, include_seen=True, store=store)
    rated = set(ratings.loc[ratings["user_id"] == 5, "item_id"].astype(str))
    assert rated & set(seen.frame["item"])  # include_seen lets rated items back in
    near = similar_items("basket", "85123A", n=4, store=store)
    assert near.rows == 4 and near.method.startswith("item-item")


def test_demo_step_runs_through_the_real_cli(tmp_path):
    from mktai.cli.demo import Tour, sample_data_dir

    tour = Tour(sample_data=sample_data_dir(), out=tmp_path, store=tmp_path / "store", seed=0)
    tour.section("recommend")
    recs = pd.read_csv(tmp_path / "recommendations.csv", dtype=str)
    assert recs.groupby("user").size().eq(10).all()
    assert {label for label, _ in tour.outputs} >= {"top-10 per customer"}


def test_evaluate_on_unknown_customers_is_na_not_a_crash(work, tmp_path):
    _root, store, _ratings, _r, _b = work
    cold = tmp_path / "cold.csv"
    cold.write_text("CustomerID,StockCode,InvoiceDate,Quantity,UnitPrice,InvoiceNo\n"
                    "new1,85123A,2011-12-01,1,2.5,9\nnew2,22423,2011-12-01,1,2.5,9\n")  # fmt: skip
    result = run("--store", store, "evaluate", "--model", "basket", "--data", cold,
                 "--fail-under", "ndcg_at_10=0.05")  # fmt: skip
    assert result.exit_code == 1 and "n/a" in result.stderr
