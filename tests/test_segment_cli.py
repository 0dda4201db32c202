"""`mktai segment` through the real CLI on sample_data/transactions_sample.csv, plus the
segments family protocol used by `mktai train segments`."""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.data import load_table
from mktai.errors import UsageError
from mktai.store import Store
from mktai.tasks import family
from mktai.tasks.base import TrainOptions

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
CLV_PARAMS = ("r", "alpha", "a", "b", "p", "q", "v")


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def clv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seg")
    result = run(
        "segment", str(SAMPLE), "--clv", "--horizon", "60", "--seed", "4",
        "-o", str(out / "customers.csv"), "--report", str(out / "report.html"), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A segments model stored through the family protocol, as `mktai train segments` does."""
    store_dir = tmp_path_factory.mktemp("store")
    table = load_table(SAMPLE, kind="transactions")
    module = family("segments")
    model = module.fit(table, "segments", TrainOptions(seed=2, extra={"k": "3", "horizon": "60"}))
    version = Store(store_dir).save(
        "rfm", "segments", write=model.save, manifest=model.manifest_fields()
    )
    return store_dir, version, model


def test_customers_file_and_json_summary(clv_run):
    out, result = clv_run
    customers = pd.read_csv(out / "customers.csv", dtype={"customer": str})
    expected = {"customer", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
                "rfm_score", "segment", "cluster", "cluster_name", "p_alive",
                "expected_purchases", "expected_value", "excluded_reason"}  # fmt: skip
    assert expected <= set(customers.columns)
    assert len(customers) == 280 and customers["customer"].is_unique
    summary = json.loads(result.stdout)
    _assert_clv_maximises_independent_likelihood(summary["clv"])
    assert summary["clv"]["horizon_days"] == 60
    assert summary["monetary"] == "mean"
    assert summary["input"]["rows_without_customer"] == 150
    assert summary["excluded"] == _independent_exclusions()
    excluded = customers["excluded_reason"].notna()
    assert customers.loc[excluded, "expected_value"].isna().all()
    assert customers.loc[~excluded, "expected_value"].notna().all()
    assert customers["p_alive"].dropna().between(0, 1).all()
    assert "Champions" in result.stderr and "revenue share" in result.stderr


def _independent_clv_inputs() -> tuple[np.ndarray, ...]:
    """lifetimes' (x, t_x, T, repeat spend) per customer, counted from the raw CSV with pandas.

    A purchase event is any non-return line (zero-value ones too); x = distinct event days - 1,
    t_x / T = days from the first event day to the last one / to the last day in the file;
    repeat spend = (net value - net value of the first event day) / x.
    """
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "InvoiceNo": str}).drop_duplicates()
    day = pd.to_datetime(raw["InvoiceDate"]).dt.normalize()
    as_of = day.max()
    raw = raw.assign(day=day)[raw["CustomerID"].notna()]
    value = raw["Quantity"] * raw["UnitPrice"]
    is_return = raw["InvoiceNo"].str.startswith("C") | (raw["Quantity"] < 0)
    raw = raw.assign(net=value.abs().where(~is_return, -value.abs()))
    events = raw[~is_return].groupby("CustomerID")["day"].agg(["nunique", "min", "max"])
    raw = raw.join(events["min"].rename("first"), on="CustomerID")
    raw = raw[raw["first"].notna()]
    net = raw.groupby("CustomerID")["net"].sum()
    on_first = raw[raw["day"] == raw["first"]].groupby("CustomerID")["net"].sum()
    x = (events["nunique"] - 1).astype(float)
    spend = ((net - on_first.reindex(net.index, fill_value=0)) / x.where(x > 0)).fillna(0)
    return (
        x.to_numpy(),
        (events["max"] - events["min"]).dt.days.to_numpy(dtype=float),
        (as_of - events["min"]).dt.days.to_numpy(dtype=float),
        spend.reindex(x.index).to_numpy(),
    )


def _bgnbd_loglik(r, alpha, a, b, x, t_x, T) -> float:
    """FHL 2005 eq. (6), written out here rather than taken from mktai."""
    from scipy.special import betaln, gammaln

    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) + common - (r + x) * np.log(alpha + T)
    dead = betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - betaln(a, b) + common
    dead = dead - (r + x) * np.log(alpha + t_x)
    return float(np.where(x > 0, np.logaddexp(alive, dead), alive).sum())


def _gg_loglik(p, q, v, x, m) -> float:
    """Gamma-Gamma density of a customer's mean spend m over x repeat purchases (FH 2013)."""
    from scipy.special import gammaln

    keep = (x >= 1) & (m > 0)
    x, m = x[keep], m[keep]
    px = p * x
    terms = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
    terms += (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v)
    return float(terms.sum())


def _assert_clv_maximises_independent_likelihood(clv: dict) -> None:
    """The reported parameters are the maximum-likelihood fit to the sample's own customers,
    under likelihoods written out here: a 5% nudge of r, alpha, p, q or v costs more than 0.1
    log-likelihood units. The sample shows almost no churn (a / (a + b) ~ 1e-9), where the
    likelihood is flat along a and b: nudging those may not raise it either."""
    x, t_x, T, spend = _independent_clv_inputs()
    assert len(x) == 276 and (x > 0).sum() > 100  # 280 customers, 4 with only returns
    bg = np.array([clv[k] for k in ("r", "alpha", "a", "b")])
    gg = np.array([clv[k] for k in ("p", "q", "v")])
    best_bg, best_gg = _bgnbd_loglik(*bg, x, t_x, T), _gg_loglik(*gg, x, spend)
    assert clv["a"] / (clv["a"] + clv["b"]) < 1e-3
    for i, step in itertools.product(range(4), (0.95, 1.05)):
        nudged = bg.copy()
        nudged[i] *= step
        change = _bgnbd_loglik(*nudged, x, t_x, T) - best_bg
        assert change < (-0.1 if i < 2 else 1e-6), (CLV_PARAMS[i], step, change)
    for i, step in itertools.product(range(3), (0.95, 1.05)):
        nudged = gg.copy()
        nudged[i] *= step
        change = _gg_loglik(*nudged, x, spend) - best_gg
        assert change < -0.1, (CLV_PARAMS[4 + i], step, change)
    assert clv["q"] > 1  # a finite population mean spend p v / (q - 1)


def _independent_exclusions() -> dict[str, int]:
    """Excluded customers of the sample counted with plain pandas, in whole pence."""
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "InvoiceNo": str}).drop_duplicates()
    raw = raw[raw["CustomerID"].notna()]
    value = raw["Quantity"] * raw["UnitPrice"]
    is_return = raw["InvoiceNo"].str.startswith("C") | (raw["Quantity"] < 0)
    pence = (value.abs().where(~is_return, -value.abs()) * 100).round().astype(int)
    bought = (~is_return & (value > 0)).groupby(raw["CustomerID"]).any()
    net = pence.groupby(raw["CustomerID"]).sum()
    return {
        "net total <= 0 after returns": int(((net <= 0) & bought).sum()),
        "only returns or zero-value lines": int((~bought).sum()),
    }


def test_html_report_embeds_charts(clv_run):
    out, _ = clv_run
    text = (out / "report.html").read_text()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) == 2  # RFM heatmap and cluster scatter
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    assert "Champions" in text and "Gamma-Gamma" in text
    assert "<h2>RFM heatmap</h2>" in text and "<h2>Cluster scatter</h2>" in text
    # each excluded reason is stated once (it was both a fact line and a warning)
    summary = json.loads(clv_run[1].stdout)
    for reason in summary["excluded"]:
        assert text.count(html.escape(reason)) == 1, reason
    # cluster names are text: left-aligned like the first column, not like the numbers
    name = summary["clusters"]["profiles"][0]["name"]
    assert f"<td class='text'>{name}</td>" in text


def test_markdown_and_json_reports(tmp_path):
    result = run("segment", str(SAMPLE), "--k", "3", "-o", str(tmp_path / "c.parquet"),
                 "--report", str(tmp_path / "r.md"), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r_rfm_heatmap.png").read_bytes().startswith(b"\x89PNG")
    assert "| Champions |" in (tmp_path / "r.md").read_text()
    frame = pd.read_parquet(tmp_path / "c.parquet")
    assert frame["cluster"].dropna().nunique() == 3
    result = run("segment", str(SAMPLE), "--k", "off", "--monetary", "total",
                 "-o", str(tmp_path / "c.json"), "--report", str(tmp_path / "r.json"))  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["monetary"] == "total" and "skipped" in report["clusters"]
    frame = pd.read_json(tmp_path / "c.json")
    assert frame["cluster"].isna().all()


def test_stdout_csv_without_output_file():
    result = run("segment", str(SAMPLE), "--k", "2", "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("customer,recency,frequency,monetary")
    assert len(lines) == 281


@pytest.mark.parametrize(
    "args, message",
    [
        (["--json"], "-o FILE"),
        (["--k", "many", "-o", "x.csv"], "--k must be"),
        (["--monetary", "median", "-o", "x.csv"], "--monetary"),
        (["--as-of", "2009-01-01", "-o", "x.csv"], "dated before --as-of"),
        (["--as-of", "someday", "-o", "x.csv"], "not a date"),
        (["--features", "age", "-o", "x.csv"], "--customers"),
        (["--report", "r.pdf", "-o", "x.csv"], ".html, .md or .json"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run("segment", str(SAMPLE), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_apply_stored_model_and_migration(stored, tmp_path):
    store_dir, version, model = stored
    assert version.manifest["algorithm"] == "rfm+kmeans+bgnbd+gammagamma"
    metrics = version.manifest["metrics"]
    assert metrics["k"] == 3 and metrics["customers"] == 280
    assert set(metrics["clv"]) == set(CLV_PARAMS)
    # the training-time holdout refits BG/NBD on the calibration days; the actuals are data
    assert metrics["holdout"]["clv_actual_purchases"] == _independent_holdout(60)[1].sum()
    assert metrics["holdout"]["clv_purchases_mae"] > 0  # a fitted model is not exact here
    assert metrics["clv_calibration"]["by_calibration_frequency"]
    # previous month = transactions up to the end of October, scored the same way
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    previous = tmp_path / "previous.csv"
    raw[raw["InvoiceDate"] < "2011-11-01"].to_csv(previous, index=False)
    out = tmp_path / "now.csv"
    result = run("segment", str(SAMPLE), "--model", "rfm", "--store", str(store_dir), "--clv",
                 "-o", str(out), "--compare-to", str(previous), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == "rfm"
    assert summary["edges"] == model.edges
    assert summary["clv"]["r"] == pytest.approx(model.bgnbd.r)
    # the clusters come from the model: no claim that k was chosen (or given) in this run
    assert summary["clusters"]["chosen_by"] == "stored model"
    assert "from the stored model" in result.stderr and "Silhouette by k" not in result.stderr
    migration = summary["migration"]
    counts = sum(map(sum, migration["counts"]))
    assert counts == 280  # every customer once: present in both, new, or gone
    assert "(new)" in migration["from"]
    assert "migration" in result.stderr.lower()
    # a previous *output* file gives the same matrix as the previous transactions
    prev_out = tmp_path / "prev_out.csv"
    assert run("segment", str(previous), "--model", "rfm", "--store", str(store_dir),
               "-o", str(prev_out), "-q").exit_code == 0  # fmt: skip
    again = run("segment", str(SAMPLE), "--model", "rfm", "--store", str(store_dir),
                "-o", str(out), "--compare-to", str(prev_out), "--json")  # fmt: skip
    assert json.loads(again.stdout)["migration"]["counts"] == migration["counts"]


def test_model_options_conflict_and_missing_model(stored, tmp_path):
    store_dir, _, _ = stored
    result = run("segment", str(SAMPLE), "--model", "rfm", "--store", str(store_dir), "--k", "4")
    assert result.exit_code == 2 and "stored model" in result.stderr
    result = run("segment", str(SAMPLE), "--model", "nope", "--store", str(store_dir))
    assert result.exit_code == 3


def test_custom_segment_map(tmp_path):
    seg_map = tmp_path / "map.json"
    seg_map.write_text(json.dumps({"segments": [{"name": "Top", "r": [4, 5], "fm": [4, 5]}],
                                   "fallback": "Everyone else"}))  # fmt: skip
    out = tmp_path / "c.csv"
    result = run(
        "segment", str(SAMPLE), "--segment-map", str(seg_map), "--k", "off", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out)["segment"]) == {"Top", "Everyone else"}


def test_customer_features_join_the_clustering(tmp_path):
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    ids = sorted(set(raw["CustomerID"]) - {""})
    customers = tmp_path / "customers.csv"
    pd.DataFrame({"CustomerID": ids, "Tenure Years": [i % 7 for i in range(len(ids))]}).to_csv(
        customers, index=False
    )
    out = tmp_path / "c.csv"
    result = run("segment", str(SAMPLE), "--customers", str(customers), "--features",
                 "Tenure Years", "--k", "3", "-o", str(out), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["clusters"]["features"] == ["recency", "frequency", "monetary", "tenure_years"]
    assert "mean_tenure_years" in summary["clusters"]["profiles"][0]
    assert summary["clusters"]["customers_without_features"] == 0


def test_customers_missing_from_the_features_file_are_reported(tmp_path):
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    ids = sorted(set(raw["CustomerID"]) - {""})
    customers = tmp_path / "customers.csv"
    pd.DataFrame({"CustomerID": ids[:-10], "age": range(len(ids) - 10)}).to_csv(
        customers, index=False
    )
    out = tmp_path / "c.csv"
    result = run("segment", str(SAMPLE), "--customers", str(customers), "--features", "age",
                 "--k", "3", "-o", str(out), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"customer": str})
    usable = frame["excluded_reason"].isna()
    missing = set(ids[-10:]) & set(frame.loc[usable, "customer"])
    assert set(frame.loc[usable & frame["cluster"].isna(), "customer"]) == missing
    assert json.loads(result.stdout)["clusters"]["customers_without_features"] == len(missing)
    assert f"{len(missing)} customer(s) have no numeric value for a --features column (age)" in (
        result.stderr
    )


def test_family_protocol_validates_extra_options(stored, tmp_path):
    _, version, model = stored
    module = family("segments")
    table = load_table(SAMPLE, kind="transactions")
    with pytest.raises(UsageError, match="--colour"):
        module.fit(table, "segments", TrainOptions(extra={"colour": "red"}))
    with pytest.raises(UsageError, match="--horizon"):
        module.fit(table, "segments", TrainOptions(extra={"horizon": "soon"}))
    loaded = module.load_model(version.path, version.manifest)
    metrics = loaded.evaluate(table)
    assert metrics["customers"] == 280
    assert sum(metrics["segments"].values()) == 280
    assert metrics["silhouette"] == pytest.approx(_independent_silhouette(loaded, table))
    # the CLV holdout check, recounted from the raw file with pandas (lifetimes' conventions)
    customers, actual, x, t_x, big_t = _independent_holdout(horizon=60)
    predicted = loaded.bgnbd.expected_purchases(60.0, x, t_x, big_t)
    assert metrics["clv_calibration"]["customers"] == customers == 224
    assert metrics["clv_actual_purchases"] == actual.sum() == 154
    assert metrics["clv_purchases_mae"] == pytest.approx(np.abs(predicted - actual).mean())
    assert metrics["clv_predicted_purchases"] == pytest.approx(predicted.sum())
    json.dumps(metrics)  # JSON-able for the manifest / report


def _independent_holdout(horizon: int):
    """Calibration customers and their purchase days in the last `horizon` days, with pandas:
    an event is a line with a customer that is not a return; days are calendar days."""
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "InvoiceNo": str})
    raw = raw[raw["CustomerID"].notna()]
    event = ~(raw["InvoiceNo"].str.startswith("C") | (raw["Quantity"] < 0))
    days = pd.DataFrame(
        {"c": raw["CustomerID"], "d": pd.to_datetime(raw["InvoiceDate"]).dt.normalize()}
    )[event]
    cutoff = days["d"].max() - pd.Timedelta(days=horizon)
    cal = days[days["d"] <= cutoff].groupby("c")["d"].agg(["nunique", "min", "max"])
    actual = days[days["d"] > cutoff].groupby("c")["d"].nunique().reindex(cal.index).fillna(0)
    x = (cal["nunique"] - 1).to_numpy(float)
    t_x = (cal["max"] - cal["min"]).dt.days.to_numpy(float)
    big_t = (cutoff - cal["min"]).dt.days.to_numpy(float)
    return len(cal), actual.to_numpy(float), x, t_x, big_t


def _independent_silhouette(model, table) -> float:
    """scikit-learn's silhouette of the customers in the model's scaled log-RFM space, each
    labelled by its nearest stored centroid (computed here, not by the model)."""
    from sklearn.metrics import silhouette_score

    from mktai.tasks.segment.run import transactions_frame

    customers = model.apply(transactions_frame(table)[0], clv=False).customers
    usable = customers["cluster"].notna()
    features = model.clusters.features
    raw = customers.loc[usable, features].to_numpy(float)
    z = (np.log1p(np.maximum(raw, 0)) - model.clusters.mean) / model.clusters.scale
    labels = ((z[:, None, :] - model.clusters.centroids[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (labels == customers.loc[usable, "cluster"].to_numpy(int)).all()
    return float(silhouette_score(z, labels))


def test_demo_step_runs(tmp_path):
    from mktai.cli.demo import Tour

    tour = Tour(sample_data=SAMPLE.parent, out=tmp_path, store=tmp_path / "store")
    tour.section("segment")
    labels = dict(tour.outputs)
    for label in ("segment: customers", "segment: report", "segment: with model rfm"):
        assert labels[label].exists(), label
    assert Store(tmp_path / "store").load("rfm").kind == "segments"
    october = pd.read_csv(labels["segment: 2011-10 snapshot"], dtype={"customer": str})
    today = pd.read_csv(labels["segment: with model rfm"], dtype={"customer": str})
    assert len(october) < len(today)  # customers first seen in Nov/Dec are not in October


def test_rows_with_missing_dates_are_rejected_and_reported(tmp_path):
    data = tmp_path / "orders.csv"
    data.write_text(
        "customer_id,order_id,date,amount\n1,a,2024-01-01,10\n1,b,,20\n"
        "2,c,2024-01-03,30\n2,d,2024-02-03,30\n3,e,2024-02-05,5\n"
    )
    out = tmp_path / "c.csv"
    result = run("segment", str(data), "--k", "off", "-o", str(out), "--json", "-q")
    assert result.exit_code == 0, result.output
    assert "1 input row(s) rejected" in result.stderr and "missing date" in result.stderr
    assert json.loads(result.stdout)["input"]["rows_rejected_by_cleaning"] == 1
    customers = pd.read_csv(out, dtype={"customer": str}).set_index("customer")
    assert customers.loc["1", "frequency"] == 1  # the undated order is not counted
    strict = run("segment", str(data), "--k", "off", "-o", str(out), "--strict")
    assert strict.exit_code == 2 and "--strict" in strict.stderr


def test_family_options_reach_the_model(tmp_path):
    seg_map = tmp_path / "map.json"
    seg_map.write_text(json.dumps({"name": "two tiers", "segments": [{"name": "Top", "m": [4, 5]}],
                                   "fallback": "Rest"}))  # fmt: skip
    table = load_table(SAMPLE, kind="transactions")
    extra = {"k": "off", "clv": "false", "monetary": "total", "as-of": "2011-11-01",
             "segment_map": str(seg_map)}  # fmt: skip
    model = family("segments").fit(table, "segments", TrainOptions(seed=1, extra=extra))
    assert model.clusters is None and model.bgnbd is None
    assert model.algorithm == "rfm"
    assert model.params["monetary"] == "total" and model.params["as_of"] == "2011-11-01"
    assert model.params["segment_map"] == "two tiers"
    assert set(model.metrics["segments"]) == {"Top", "Rest"}
    model.save(tmp_path)
    assert not (tmp_path / "clusters.npz").exists()
    applied = (
        family("segments")
        .load_model(tmp_path, model.manifest_fields())
        .apply(transactions_frame_of(table))
    )
    assert set(applied.customers["segment"]) == {"Top", "Rest"}
    assert "p_alive" not in applied.customers.columns


def transactions_frame_of(table):
    from mktai.tasks.segment.family import transactions_frame

    return transactions_frame(table)[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--horizon", "0"], "--horizon"),
        (["--discount", "-3"], "--discount"),
        (["--monetary", "median"], "--monetary"),
        (["--k-max", "1"], "--k-max"),
        (["--segment-map", "no_such_map.json"], "segment map"),
        (["--report", "."], ".html, .md or .json"),
    ],
)
def test_options_are_checked_before_the_data_is_read(tmp_path, args, message):
    # The data file does not exist: the option error must come first, not after a long read.
    result = run("segment", str(tmp_path / "missing.csv"), *args, "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert message in result.stderr and "missing.csv" not in result.stderr


def test_report_path_that_is_a_directory_is_a_usage_error(tmp_path):
    # was an "internal error" (exit 70) after all the work had been done
    (tmp_path / "r.html").mkdir()
    result = run("segment", str(tmp_path / "missing.csv"), "--report", str(tmp_path / "r.html"),
                 "-o", str(tmp_path / "o.csv"))  # fmt: skip
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_stored_model_refuses_a_bad_horizon_or_discount(stored, tmp_path):
    # With --model these were silently ignored (horizon 0 -> stored one; negative values gave
    # an expected value of 0 for everybody).
    store_dir, _, _ = stored
    for args in (["--horizon", "-10"], ["--horizon", "0"], ["--discount", "-3"]):
        result = run("segment", str(SAMPLE), "--model", "rfm", "--store", str(store_dir),
                     "-o", str(tmp_path / "o.csv"), *args)  # fmt: skip
        assert result.exit_code == 2, args
        assert args[0] in result.stderr
