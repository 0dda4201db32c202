"""RFM, scores, segments and clusters: real data checked against independent pandas code, plus
small hand-made frames for the bad-input cases."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mktai.errors import InputError, UsageError
from mktai.tasks.segment import rfm as rfm
from mktai.tasks.segment.family import (
    SegmentOptions,
    load_model,
    migration_matrix,
    segment_customers,
    transactions_frame,
)
from mktai.tasks.segment.rfm_scores import (
    assign_segments,
    fm_score,
    load_segment_map,
    quintile_edges,
    score,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "transactions.csv.gz"


@pytest.fixture(scope="module")
def real_table():
    if not DATA.exists():
        pytest.skip(f"real data not found: {DATA}")
    from mktai.data import load_table

    return load_table(DATA, kind="transactions")


@pytest.fixture(scope="module")
def real_frame(real_table):
    frame, counts = transactions_frame(real_table)
    return frame, counts


@pytest.fixture(scope="module")
def real_result(real_frame):
    frame, _ = real_frame
    return segment_customers(frame, SegmentOptions(seed=3, k_max=5))


@pytest.fixture(scope="module")
def raw_lines():
    """The raw file read independently with plain pandas (exact duplicates dropped, as the
    cleaning layer does)."""
    if not DATA.exists():
        pytest.skip(f"real data not found: {DATA}")
    raw = pd.read_csv(DATA, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    raw = raw.drop_duplicates()
    raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"])
    return raw.dropna(subset=["CustomerID"])


def _independent_rfm(lines: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    value = lines["Quantity"] * lines["UnitPrice"]
    is_return = lines["InvoiceNo"].str.startswith("C") | (lines["Quantity"] < 0) | (value < 0)
    purchases = lines[~is_return & (value > 0)]
    net = value[~is_return].sum() - value[is_return].abs().sum()
    last = purchases["InvoiceDate"].max()
    frequency = purchases["InvoiceNo"].nunique()
    return {
        "recency": (as_of - last.normalize()).days,
        "frequency": frequency,
        "total": net,
        "monetary": net / frequency,
        "n_days": purchases["InvoiceDate"].dt.normalize().nunique(),
        "t_x": (last.normalize() - purchases["InvoiceDate"].min().normalize()).days,
    }


def test_rfm_values_match_independent_pandas(real_result, raw_lines):
    customers = real_result.customers.set_index("customer")
    as_of = pd.Timestamp("2011-12-09")  # the last date, included (lifetimes' convention)
    assert real_result.summary["as_of"] == "2011-12-09"
    # ordinary, the biggest, heavy returners, one with a 74,215-unit order and its cancellation
    for cid in ["12347", "12348", "14646", "17850", "18102", "12748", "16446", "13093"]:
        expected = _independent_rfm(raw_lines[raw_lines["CustomerID"] == cid], as_of)
        row = customers.loc[cid]
        assert row["recency"] == expected["recency"], cid
        assert row["frequency"] == expected["frequency"], cid
        assert row["total"] == pytest.approx(expected["total"], abs=1e-6), cid
        if expected["total"] > 0:
            assert row["monetary"] == pytest.approx(expected["monetary"], rel=1e-9), cid


def test_customer_counts_match_the_published_cleaning_facts(real_result, real_frame):
    _, counts = real_frame
    customers = real_result.customers
    assert len(customers) == 4372  # every customer id in the file
    assert int((customers["frequency"] > 0).sum()) == 4338  # the usual cleaned-set count
    assert counts["rows_without_customer"] == 135_037  # 135,080 minus exact duplicates
    excluded = customers["excluded_reason"] != ""
    assert excluded.sum() == sum(real_result.summary["excluded"].values())
    assert customers.loc[excluded, "cluster"].isna().all()
    assert customers.loc[~excluded, "cluster"].notna().all()
    assert customers["segment"].notna().all()  # RFM for everyone, excluded or not


def test_scores_agree_with_pandas_qcut(real_result):
    usable = real_result.customers[real_result.customers["excluded_reason"] == ""]
    expected_m = pd.qcut(usable["monetary"], 5, labels=False) + 1
    assert (usable["m_score"].to_numpy() == expected_m.to_numpy()).all()
    expected_r = 5 - pd.qcut(usable["recency"], 5, labels=False)
    assert (usable["r_score"].to_numpy() == expected_r.to_numpy()).all()
    # ties always share a score
    assert usable.groupby("frequency")["f_score"].nunique().max() == 1
    assert usable.groupby("recency")["r_score"].nunique().max() == 1


def test_segment_and_cluster_output_is_stable_across_runs(real_frame, real_result):
    frame, _ = real_frame
    again = segment_customers(frame, SegmentOptions(seed=3, k_max=5))
    pd.testing.assert_frame_equal(again.customers, real_result.customers)
    assert again.summary["clusters"] == real_result.summary["clusters"]


def test_auto_k_reports_every_candidate(real_result):
    clusters = real_result.summary["clusters"]
    assert set(clusters["silhouette_by_k"]) == {"2", "3", "4", "5"}
    best = max(clusters["silhouette_by_k"].items(), key=lambda kv: kv[1])[0]
    assert clusters["k"] == int(best)
    profiles = clusters["profiles"]
    assert sum(p["customers"] for p in profiles) == int(
        real_result.customers["cluster"].notna().sum()
    )
    assert sum(p["revenue_share"] for p in profiles) == pytest.approx(1.0)
    assert len({p["name"] for p in profiles}) == len(profiles)
    # cluster 0 is the most valuable: lowest recency and highest frequency of all clusters
    assert profiles[0]["mean_recency"] == min(p["mean_recency"] for p in profiles)


def test_segment_summary_shares_add_up(real_result):
    segments = real_result.summary["segments"]
    assert sum(s["customers"] for s in segments) == 4372
    assert sum(s["share"] for s in segments) == pytest.approx(1.0)
    assert sum(s["revenue_share"] for s in segments) == pytest.approx(1.0)
    champions = next(s for s in segments if s["segment"] == "Champions")
    lost = next(s for s in segments if s["segment"] == "Lost")
    assert champions["mean_monetary"] > lost["mean_monetary"]
    assert champions["mean_recency"] < lost["mean_recency"]


def test_stored_model_reapplies_the_same_edges(real_frame, real_result, tmp_path):
    frame, _ = real_frame
    model = real_result.model
    model.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"model.json", "clusters.npz"}
    loaded = load_model(tmp_path, {})
    applied = loaded.apply(frame)
    pd.testing.assert_frame_equal(applied.customers, real_result.customers)
    # next "month": the first 9 months scored with the stored edges, not re-fitted ones
    early = frame[frame["date"] < "2011-09-01"]
    scored = loaded.apply(early).customers
    assert scored["r_score"].between(1, 5).all()
    refit = segment_customers(early, SegmentOptions(seed=3, k=3))
    assert refit.model.edges != loaded.edges


# --------------------------------------------------------------------------- segment map


def test_default_map_covers_every_score_cell():
    seg_map = load_segment_map()
    names = [rule["name"] for rule in seg_map["segments"]]
    assert len(names) == 11 and "Champions" in names and "Can't lose them" in names
    rows = list(itertools.product(range(1, 6), repeat=3))
    scores = pd.DataFrame(rows, columns=["r_score", "f_score", "m_score"])
    scores["fm_score"] = fm_score(scores["f_score"].to_numpy(), scores["m_score"].to_numpy())
    assigned = assign_segments(scores, seg_map)
    assert seg_map["fallback"] not in set(assigned)
    assert set(assigned) == set(names)


def test_custom_map_first_match_wins_and_fallback(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(
        json.dumps(
            {
                "segments": [
                    {"name": "VIP", "m": [5, 5]},
                    {"name": "Recent", "r": [4, 5]},
                ],
                "fallback": "Rest",
            }
        )
    )
    seg_map = load_segment_map(path)
    scores = pd.DataFrame(
        {"r_score": [5, 5, 1], "f_score": [1, 1, 1], "m_score": [5, 1, 1], "fm_score": [3, 1, 1]}
    )
    assert list(assign_segments(scores, seg_map)) == ["VIP", "Recent", "Rest"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ('{"segments": []}', "empty"),
        ('{"segments": [{"name": "A", "x": [1, 2]}]}', "unknown keys"),
        ('{"segments": [{"name": "A", "r": [4, 9]}]}', "1 <= low <= high <= 5"),
    ],
)
def test_bad_segment_maps_are_rejected(tmp_path, content, message):
    path = tmp_path / "map.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_segment_map(path)


def test_quintile_scores_are_deterministic_with_ties():
    values = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 10], dtype=float)
    edges = quintile_edges(values)
    scores = score(values, edges)
    assert len(set(scores[values == 1])) == 1
    assert list(score(values[::-1], edges)) == list(scores[::-1])
    assert list(score(np.array([0.0, 100.0]), edges)) == [1, 5]
    assert list(score(np.array([0.0, 100.0]), edges, reverse=True)) == [5, 1]


# --------------------------------------------------------------------------- bad input


def _frame(rows):
    return pd.DataFrame(rows, columns=["customer", "order", "date", "amount", "is_return"]).assign(
        date=lambda f: pd.to_datetime(f["date"])
    )


def test_returns_are_netted_and_return_only_customers_reported():
    frame = _frame(
        [
            ("a", "1", "2024-01-01", 100.0, False),
            ("a", "2", "2024-01-10", 50.0, False),
            ("a", "C3", "2024-01-12", 30.0, True),  # positive amount flagged as return
            ("b", "4", "2024-01-05", 20.0, False),
            ("b", "C5", "2024-01-06", -40.0, True),  # returns more than bought
            ("c", "C6", "2024-01-07", -10.0, True),  # only a return
            ("d", "7", "2024-01-02", 0.0, False),  # only a free item
        ]
    )
    summary, stats = rfm.summarise(frame)
    summary = summary.set_index("customer")
    assert summary.loc["a", "total"] == pytest.approx(120.0)
    assert summary.loc["a", "frequency"] == 2
    assert summary.loc["a", "monetary"] == pytest.approx(60.0)
    assert summary.loc["a", "recency"] == 2  # as of 2024-01-12 (the last date), bought 01-10
    assert summary.loc["b", "excluded_reason"] == rfm.REASON_NON_POSITIVE
    assert summary.loc["c", "excluded_reason"] == rfm.REASON_ONLY_RETURNS
    assert summary.loc["c", "recency"] == 5  # from its last line of any kind
    assert summary.loc["d", "excluded_reason"] == rfm.REASON_ONLY_RETURNS
    assert stats.return_lines == 3 and stats.zero_amount_lines == 1


def test_single_customer_gets_rfm_but_no_clusters():
    frame = _frame([("solo", str(i), f"2024-01-{i + 1:02d}", 10.0 * i, False) for i in range(1, 5)])
    result = segment_customers(frame, SegmentOptions(clv=True))
    assert len(result.customers) == 1
    assert result.customers["segment"].iloc[0]
    assert result.customers["cluster"].isna().all()
    assert any("clustering skipped" in w for w in result.warnings)
    assert "skipped" in result.summary["clusters"]
    assert any("CLV skipped" in w and "at least 10" in w for w in result.warnings)
    # clustering was skipped too: no warning may claim clusters were computed
    assert not any("clusters are still computed" in w for w in result.warnings)
    assert any("only 1 usable customer" in w and "--model" in w for w in result.warnings)
    assert result.customers["expected_value"].isna().all()


def test_single_order_per_customer_keeps_rfm_and_explains_missing_clv():
    rng = np.random.default_rng(0)
    rows = [
        (
            f"c{i}",
            f"o{i}",
            f"2024-0{1 + i % 6}-{1 + i % 27:02d}",
            float(rng.integers(5, 500)),
            False,
        )
        for i in range(60)
    ]
    result = segment_customers(_frame(rows), SegmentOptions(clv=True, seed=1))
    assert result.customers["expected_value"].isna().all()
    assert any("CLV skipped" in w and "more than one day" in w for w in result.warnings)
    assert any("single order" in w for w in result.warnings)
    assert result.customers["segment"].notna().all()
    assert result.customers["cluster"].notna().all()
    assert "skipped" in result.summary["clv"]


def test_as_of_in_the_past_takes_a_snapshot_and_counts_later_lines():
    frame = _frame(
        [
            ("a", "1", "2024-01-01", 10.0, False),
            ("a", "2", "2024-01-20", 10.0, False),
            ("b", "3", "2024-01-25", 10.0, False),
        ]
    )
    # --as-of is the last day included: its lines are in, later ones out
    summary, stats = rfm.summarise(frame, as_of=pd.Timestamp("2024-01-20"))
    assert stats.lines_after_as_of == 1
    assert list(summary["customer"]) == ["a"]
    assert summary["recency"].iloc[0] == 0 and summary["frequency"].iloc[0] == 2
    assert summary["T"].iloc[0] == 19
    result = segment_customers(
        frame, SegmentOptions(as_of=pd.Timestamp("2024-01-19"), clusters=False)
    )
    assert any("2 line(s) dated after --as-of 2024-01-19" in w for w in result.warnings)
    with pytest.raises(UsageError, match="before --as-of"):
        rfm.summarise(frame, as_of=pd.Timestamp("2023-12-31"))


def test_no_customer_ids_is_an_input_error(tmp_path):
    from mktai.data import load_table

    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_id,date,amount\n,1,2024-01-01,10\n,2,2024-01-02,20\n")
    with pytest.raises(InputError, match="customer id"):
        transactions_frame(load_table(path, kind="transactions"))


def test_migration_matrix_counts_moves_new_and_gone():
    previous = pd.DataFrame({"customer": ["1", "2", "3", "4"], "segment": ["A", "A", "B", "B"]})
    current = pd.DataFrame({"customer": [1, 2, 3, 5], "segment": ["A", "B", "B", "A"]})
    matrix = migration_matrix(previous, current)
    assert matrix.loc["A", "A"] == 1
    assert matrix.loc["A", "B"] == 1
    assert matrix.loc["B", "B"] == 1
    assert matrix.loc["B", "(gone)"] == 1
    assert matrix.loc["(new)", "A"] == 1
    assert int(matrix.to_numpy().sum()) == 5
    ordered = migration_matrix(previous, current, ["B", "A"])
    assert list(ordered.index) == ["B", "A", "(new)"]
    assert list(ordered.columns) == ["B", "A", "(gone)"]


def test_summary_matches_naive_groupby_with_shared_and_missing_order_ids():
    """Random lines where order ids are shared across customers, missing, or span two days."""
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame(
        {
            "customer": rng.integers(0, 80, n).astype(str),
            "order": pd.array(rng.integers(0, 400, n).astype(str), dtype="str"),
            "date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"),
            "amount": np.round(rng.normal(30, 40, n), 2),
            "is_return": rng.random(n) < 0.05,
        }
    )
    frame.loc[rng.random(n) < 0.1, "order"] = pd.NA
    summary, _ = rfm.summarise(frame)
    summary = summary.set_index("customer")
    value = frame["amount"].where(
        ~frame["is_return"] & (frame["amount"] >= 0), -frame["amount"].abs()
    )
    purchases = frame[~frame["is_return"] & (frame["amount"] > 0)].assign(
        day=lambda f: f["date"].dt.normalize(),
        key=lambda f: f["order"].astype(object).where(f["order"].notna(), f["day"].astype(str)),
    )
    by_customer = purchases.groupby("customer")
    expected = pd.DataFrame(
        {
            "frequency": by_customer["key"].nunique(),
            "n_days": by_customer["day"].nunique(),
            "first": by_customer["day"].min(),
            "last": by_customer["day"].max(),
        }
    )
    got = summary.loc[expected.index]
    assert (got["frequency"] == expected["frequency"]).all()
    assert (got["n_days"] == expected["n_days"]).all()
    assert (got["first_purchase"] == expected["first"]).all()
    assert (got["last_purchase"] == expected["last"]).all()
    np.testing.assert_allclose(
        summary["total"].to_numpy(), value.groupby(frame["customer"]).sum().loc[summary.index]
    )


def test_fully_returned_purchases_net_to_exactly_zero():
    # 0.1 + 0.2 - 0.3 is 5.6e-17 in floating point: without a tolerance the customer would be
    # "positive" and clustered with a monetary value of 1e-17 (seen on the real data).
    frame = _frame(
        [
            ("a", "1", "2024-01-01", 0.1, False),
            ("a", "1", "2024-01-01", 0.2, False),
            ("a", "C2", "2024-01-03", -0.3, True),
            ("b", "3", "2024-01-02", 0.7, False),
            ("b", "C4", "2024-01-04", -0.1, True),
            ("b", "C4", "2024-01-04", -0.6, True),
            ("c", "5", "2024-01-02", 25.0, False),
        ]
    )
    summary, _ = rfm.summarise(frame)
    summary = summary.set_index("customer")
    assert summary.loc["a", "total"] == 0.0 and summary.loc["a", "monetary"] == 0.0
    assert summary.loc["b", "total"] == 0.0
    assert summary.loc["a", "excluded_reason"] == rfm.REASON_NON_POSITIVE
    assert summary.loc["b", "excluded_reason"] == rfm.REASON_NON_POSITIVE
    assert summary.loc["c", "total"] == 25.0 and summary.loc["c", "excluded_reason"] == ""


def test_auto_k_with_too_few_profiles_does_not_claim_k_was_given():
    rows = [
        (c, f"{c}{i}", f"2024-01-{day:02d}", amount, False)
        for c, day, amount in (("a", 2, 10.0), ("b", 2, 10.0), ("c", 20, 500.0))
        for i in range(2)
    ]
    result = segment_customers(_frame(rows), SegmentOptions(seed=0))
    clusters = result.summary["clusters"]
    assert clusters["k"] == 2
    assert clusters["chosen_by"] == "too few profiles to compare"


def test_only_returns_file_gives_rfm_without_numpy_warnings_or_negative_shares():
    import warnings

    frame = _frame(
        [
            ("a", "C1", "2024-01-01", -10.0, True),
            ("b", "C2", "2024-01-03", -7.0, True),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" reached the user
        result = segment_customers(frame, SegmentOptions(clv=True))
    assert set(result.customers["excluded_reason"]) == {rfm.REASON_ONLY_RETURNS}
    assert "no usable customer" in result.summary["clusters"]["skipped"]
    assert all(s["revenue_share"] is None for s in result.summary["segments"])


@pytest.fixture(scope="module")
def saved_small_model(tmp_path_factory):
    frame = _frame(
        [(f"c{i}", f"o{i}{j}", f"2024-0{1 + j}-{1 + i % 27:02d}", 10.0 + i, False)
         for i in range(30) for j in range(1 + i % 3)]
    )  # fmt: skip
    directory = tmp_path_factory.mktemp("small_model")
    segment_customers(frame, SegmentOptions(clv=True, seed=0)).model.save(directory)
    return directory


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("edges"),
        lambda p: p.update(segment_map={"segments": "not a list"}),
        lambda p: p["edges"].update(recency=[1.0]),
        lambda p: p.update(bgnbd={"r": "x"}),
    ],
)
def test_malformed_stored_model_is_a_store_error_not_a_traceback(
    saved_small_model, tmp_path, change
):
    # An imported archive is self-consistent (checksums match) yet may hold any JSON.
    import shutil

    from mktai.errors import StoreError

    shutil.copytree(saved_small_model, tmp_path, dirs_exist_ok=True)
    load_model(tmp_path, {})  # intact: loads
    payload = json.loads((tmp_path / "model.json").read_text())
    change(payload)
    (tmp_path / "model.json").write_text(json.dumps(payload))
    with pytest.raises(StoreError, match="not a valid segments model"):
        load_model(tmp_path, {})
