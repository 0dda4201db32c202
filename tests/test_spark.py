"""The Spark engine (--engine spark) against the local engine, on real data, with real Spark.

One Spark local[2] session for the whole file (the `spark` fixture in conftest.py); the tests
skip with the reason when pyspark or Java 17 is absent, the real-data ones when ../shared/data
is. Parity means: the same clean rows in the same order, the same rejects (reason, raw line,
row number), the same report, the same RFM per customer, bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(
    os.environ.get("MKTAI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
REAL = SHARED / "transactions.csv.gz"  # ../shared/data beside the project (or $MKTAI_SHARED_DATA)
needs_real = pytest.mark.skipif(not REAL.exists(), reason=f"real data absent ({REAL})")
ROOT = Path(__file__).resolve().parents[1]


def _parts(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.rglob(f"*{suffix}") if not p.name.startswith((".", "_")))


def read_spark_parquet(directory: Path):
    import pandas as pd

    frames = [pd.read_parquet(p) for p in _parts(directory, ".parquet")]
    return pd.concat(frames, ignore_index=True)


def read_spark_csv(directory: Path):
    import pandas as pd

    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in _parts(directory, ".csv")]
    return pd.concat(frames, ignore_index=True)


def arrow_types(path: Path) -> list[str]:
    """Column types as stored (Spark keeps timestamps in microseconds, pyarrow in ns)."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    names = {"large_string": "string"}
    return [f"{f.name}:{'timestamp' if str(f.type).startswith('timestamp') else names.get(str(f.type), f.type)}"
            for f in schema]  # fmt: skip


def same_dates(frame):
    for column in frame.columns:
        if frame[column].dtype.kind == "M":
            frame[column] = frame[column].astype("datetime64[ns]")
    return frame


# -- without a JVM --------------------------------------------------------------------------------


def test_master_resolution_follows_the_usual_order(monkeypatch, tmp_path):
    from mktai.engines.spark_session import resolve_master, session_config

    for name in ("MKTAI_SPARK_MASTER", "SPARK_REMOTE", "SPARK_CONF_DIR", "SPARK_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert resolve_master() == ("master", "local[*]")
    monkeypatch.setenv("SPARK_REMOTE", "sc://gateway:15002")
    assert resolve_master() == ("remote", "sc://gateway:15002")
    monkeypatch.setenv("MKTAI_SPARK_MASTER", "spark://host:7077")
    assert resolve_master() == ("master", "spark://host:7077")
    assert resolve_master("local[3]") == ("master", "local[3]")
    monkeypatch.delenv("MKTAI_SPARK_MASTER")
    monkeypatch.delenv("SPARK_REMOTE")
    (tmp_path / "spark-defaults.conf").write_text(
        "spark.master  yarn\nspark.ui.enabled true\n", encoding="utf-8"
    )
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert resolve_master() == ("defaults", None)
    config = session_config("defaults", None)
    assert "spark.ui.enabled" not in config  # Spark's own configuration wins
    assert config["spark.sql.session.timeZone"] == "UTC"


def test_engine_names_are_checked(monkeypatch):
    from mktai.engines import engine_name
    from mktai.errors import UsageError

    monkeypatch.delenv("MKTAI_ENGINE", raising=False)
    assert engine_name(None) == "local"
    monkeypatch.setenv("MKTAI_ENGINE", "spark")
    assert engine_name(None) == "spark"
    assert engine_name("local") == "local"
    with pytest.raises(UsageError, match="not an engine"):
        engine_name("dask")


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", *args],
        capture_output=True, text=True, env=full, cwd=cwd, timeout=600, check=False,
    )  # fmt: skip


def test_missing_java_is_exit_4_in_one_line(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("InvoiceNo,InvoiceDate,Quantity,UnitPrice\n1,2024-01-02,1,2.5\n")
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"JAVA_HOME": str(tmp_path / "no-jdk"), "PATH": str(bare)}
    done = _cli(["ingest", str(data), "-o", str(tmp_path / "out"), "--engine", "spark"], env,
                tmp_path)  # fmt: skip
    if "pyspark is not installed" in done.stderr:
        pytest.skip("pyspark absent: the Java check comes after it")
    assert done.returncode == 4, done.stderr
    assert "Java 17" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_pyspark_is_exit_4_with_the_pip_command(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("InvoiceNo,InvoiceDate,Quantity,UnitPrice\n1,2024-01-02,1,2.5\n")
    code = (
        "import sys; sys.modules['pyspark'] = None; sys.argv = ['mktai', 'ingest', "
        f"{str(data)!r}, '-o', {str(tmp_path / 'out')!r}, '--engine', 'spark']; "
        "from mktai.cli.app import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "pip install 'mktai[spark]'" in done.stderr and "Traceback" not in done.stderr


def test_clean_batch_numbers_rows_given_by_the_caller():
    """The seam Spark uses: one batch, rows not contiguous, duplicates found beforehand."""
    import pandas as pd

    from mktai.data.clean import make_plan
    from mktai.data.load import clean_batch

    raw = pd.DataFrame(
        {
            "InvoiceNo": ["1", "2", "3", "4"],
            "InvoiceDate": ["2024-01-02", "bad date", "2024-01-03", "2024-01-03"],
            "Quantity": ["1", "2", "3", "3"],
            "UnitPrice": ["2.5", "1", "1", "1"],
        },
        dtype="str",
    )
    plan = make_plan(raw, None, {}, ())
    duplicates = [None, None, None, "exact duplicate of row 13"]
    clean, rejects, stats = clean_batch(plan, raw, [10, 20, 12, 30], source_name="t.csv",
                                        delimiter=",", duplicates=duplicates)  # fmt: skip
    assert list(clean["invoice_no"]) == ["1", "3"]
    assert list(rejects["row"]) == [21, 31]
    assert rejects["reason"].iloc[1] == "exact duplicate of row 13"
    assert rejects["raw"].iloc[0] == "2,bad date,2,1"
    assert stats.rows_in == 4 and stats.rows_out == 2


# -- with Spark local[2] ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both_ingested(spark, tmp_path_factory):
    """transactions.csv.gz through both engines (once for the module)."""
    if not REAL.exists():
        pytest.skip(f"real data absent ({REAL})")
    from mktai.api import ingest

    out = tmp_path_factory.mktemp("engines")
    local = ingest(REAL, out / "local.parquet", report=out / "local.json")
    remote = ingest(REAL, out / "clean", report=out / "spark.json", engine="spark")
    return out, local, remote


@needs_real
def test_ingest_parity_on_real_transactions(both_ingested):
    import pandas as pd

    out, local, remote = both_ingested
    mine = json.loads((out / "spark.json").read_text())
    theirs = json.loads((out / "local.json").read_text())
    for key in ("output", "rejects_file"):
        mine.pop(key), theirs.pop(key)
    assert mine == theirs  # counts, rejects by reason, columns, transactions, fingerprint
    assert theirs["rejected_by_reason"]["exact duplicate"] == 5268

    spark_rows = same_dates(read_spark_parquet(out / "clean"))
    local_rows = same_dates(pd.read_parquet(out / "local.parquet"))
    assert len(spark_rows) == local.report["rows_out"] == 536641
    pd.testing.assert_frame_equal(spark_rows, local_rows, check_dtype=False)
    assert arrow_types(_parts(out / "clean", ".parquet")[0]) == arrow_types(out / "local.parquet")

    spark_rejects = read_spark_csv(out / "clean.rejects")
    local_rejects = pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(spark_rejects, local_rejects)  # reason, raw line, row number


@needs_real
def test_segment_parity_rfm_exact(both_ingested):
    """segment on Spark (from the Spark output directory) gives the local customer table bit for
    bit: RFM per customer, scores, segments, clusters and CLV (fitted on frequency / recency / T,
    so those are exact too), and the same summary (line counts, input counts, edges, segments)."""
    import pandas as pd

    from mktai.api import segment

    out, _, _ = both_ingested
    on_spark = segment(str(out / "clean"), engine="spark", clv=True, k="4", seed=3)
    on_local = segment(str(out / "local.parquet"), clv=True, k="4", seed=3)
    pd.testing.assert_frame_equal(on_spark.customers, on_local.customers, check_exact=True)
    assert on_spark.customers["expected_value"].notna().any()  # CLV was fitted
    drop = lambda s: {k: v for k, v in s.items() if k != "source"}  # noqa: E731
    assert drop(on_spark.summary) == drop(on_local.summary)
    assert on_spark.summary["lines"]["return_lines"] > 0


# -- ALS (the recommend family's Spark algorithm) ---------------------------------------------------


def _events(frame, users=None, items=None):
    import numpy as np

    from mktai.tasks.recommend.interactions import Interactions, _encode

    ids_u = frame["user_id"].astype(str).to_numpy(dtype=np.str_)
    ids_i = frame["item_id"].astype(str).to_numpy(dtype=np.str_)
    if users is None:
        users, u = np.unique(ids_u, return_inverse=True)
        items, i = np.unique(ids_i, return_inverse=True)
    else:
        u, i = _encode(ids_u, users), _encode(ids_i, items)
    return Interactions(users, items, u.astype(np.int64), i.astype(np.int64),
                        frame["rating"].to_numpy(dtype=np.float64), None, "explicit", (1.0, 5.0))  # fmt: skip


@pytest.mark.spark
def test_als_rmse_within_3_percent_of_svd_and_stored_as_arrays(spark, tmp_path):
    """ALS on the generated MovieLens-shaped ratings (100k) vs mktai svd on the same split;
    the saved model loads without Spark and predicts the same numbers with NumPy."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from ratings_data import generate_ratings

    from mktai.evaluation.ranking import rating_metrics
    from mktai.tasks.recommend import family

    frame = generate_ratings(943, 1682, 100_000)
    test = np.random.default_rng(0).random(len(frame)) < 0.2
    train_events = _events(frame[~test])
    held = _events(frame[test], train_events.users, train_events.items)

    def rmse(model):
        predicted = np.clip(model.scorer().predict(held.u, held.i), 1, 5)
        return rating_metrics(held.value, predicted)["rmse"]

    svd = family.train("svd", train_events, {}, 0)
    als = family.train("als", train_events, {}, 0)
    svd_rmse, als_rmse = rmse(svd), rmse(als)
    assert als_rmse <= svd_rmse * 1.03, (als_rmse, svd_rmse)

    # the biases are the closed-form regularised means (als.baseline), here in NumPy
    from mktai.tasks.recommend.als import BIAS_REG

    u, i, r = train_events.u, train_events.i, train_events.value
    n_u = np.bincount(u, minlength=train_events.n_users)
    n_i = np.bincount(i, minlength=train_events.n_items)
    mu = r.mean()
    bi = np.bincount(i, r - mu, minlength=train_events.n_items) / (BIAS_REG[0] + n_i)
    bu = np.bincount(u, r - mu - bi[i], minlength=train_events.n_users) / (BIAS_REG[1] + n_u)
    arrays = als.arrays[0]
    np.testing.assert_allclose(arrays["mu"], mu, rtol=1e-12)
    np.testing.assert_allclose(arrays["bi"], bi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(arrays["bu"], bu, rtol=1e-9, atol=1e-12)
    assert np.abs(bu).max() > 0.1 and np.abs(bi).max() > 0.1  # real biases, not zeros

    als.save(tmp_path)
    loaded = family.load_model(tmp_path, {"algorithm": "als", **als.manifest_fields()})
    np.testing.assert_array_equal(loaded.scorer().predict(held.u, held.i),
                                  als.scorer().predict(held.u, held.i))  # fmt: skip


@pytest.fixture(scope="module")
def als_store(spark, tmp_path_factory):
    """train recommender --algorithm als --engine spark from the CLI, once for the module."""
    from typer.testing import CliRunner

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from ratings_data import generate_ratings

    from mktai.cli.app import app

    folder = tmp_path_factory.mktemp("als")
    generate_ratings(300, 200, 9000, seed=5).to_csv(folder / "ratings.csv", index=False)
    store = folder / "store"
    trained = CliRunner().invoke(app, ["--store", str(store), "train", "recommender",
                                       str(folder / "ratings.csv"), "--name", "recs",
                                       "--algorithm", "als", "--engine", "spark", "--json"],
                                 catch_exceptions=False)  # fmt: skip
    assert trained.exit_code == 0, trained.output
    return folder, store, json.loads(trained.stdout)


@pytest.mark.spark
def test_als_from_the_cli_and_all_users_on_spark_match_local(als_store, connect_url, tmp_path):
    """train recommender --algorithm als (CLI, events and split on Spark) -> a pickle-free model
    whose seen items Spark wrote as parquet; it applies on a laptop with NumPy, and recommend
    --all-users --engine spark writes exactly the local top-N (seen items excluded) as parquet
    parts, on the classic session and through a Spark Connect client (no broadcast there)."""
    import pandas as pd
    from typer.testing import CliRunner

    from mktai.cli.app import app

    folder, store, summary = als_store
    assert summary["algorithm"] == "als" and summary["metrics"]["holdout"]["rmse"] < 1.2
    assert summary["metrics"]["holdout"]["users_evaluated"] > 0
    files = sorted(p.name for p in (store / "recs" / "v1").iterdir())
    assert "seen.parquet" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))]
    ratings = pd.read_csv(folder / "ratings.csv", dtype=str)
    seen_file = pd.read_parquet(store / "recs" / "v1" / "seen.parquet")
    assert len(seen_file) == len(ratings.drop_duplicates(["user_id", "item_id"]))

    runner = CliRunner()
    local_out, spark_out = tmp_path / "local.parquet", tmp_path / "recs"
    for extra, out in (([], local_out), (["--engine", "spark"], spark_out)):
        done = runner.invoke(app, ["--store", str(store), "recommend", "--model", "recs",
                                   "--all-users", "-n", "5", "-o", str(out), *extra],
                             catch_exceptions=False)  # fmt: skip
        assert done.exit_code == 0, done.output
    local = pd.read_parquet(local_out)
    on_spark = read_spark_parquet(spark_out)
    pd.testing.assert_frame_equal(on_spark, local, check_dtype=False)
    seen = set(zip(ratings["user_id"], ratings["item_id"], strict=True))
    assert not seen & set(zip(on_spark["user"], on_spark["item"], strict=True))
    assert local["user"].nunique() == ratings["user_id"].nunique()

    connect_out = tmp_path / "connect"
    done = _cli(["--store", str(store), "recommend", "--model", "recs", "--all-users", "-n", "5",
                 "-o", str(connect_out), "--engine", "spark"], {"SPARK_REMOTE": connect_url},
                tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(read_spark_parquet(connect_out), local, check_dtype=False)

    # a model bigger than Connect can carry inline: exit 2, one line, pointing to --spark-master
    too_big = _cli(["--store", str(store), "recommend", "--model", "recs", "--all-users",
                    "-o", str(tmp_path / "big"), "--engine", "spark"],
                   {"SPARK_REMOTE": connect_url, "MKTAI_SPARK_CONNECT_LIMIT_MB": "0.1"},
                   tmp_path)  # fmt: skip
    assert too_big.returncode == 2, too_big.stderr
    assert "--spark-master" in too_big.stderr and "0.1 MB" in too_big.stderr
    assert len(too_big.stderr.strip().splitlines()) == 1 and "Traceback" not in too_big.stderr
    assert not (tmp_path / "big").exists()


@pytest.mark.spark
def test_als_same_seed_same_model(als_store):
    """ALS on Spark: the same data and seed give the same stored model (a second run without
    the holdout: the stored model is fitted on every event either way)."""
    import numpy as np

    from mktai.api import train
    from mktai.store import Store
    from mktai.tasks.recommend.family import load_model

    folder, store, summary = als_store
    again = train("recommender", folder / "ratings.csv", name="recs", store=store,
                  algorithm="als", params={"test_size": "0"})  # fmt: skip
    assert again.version == 2 and not again.metrics
    first, second = (Store(store).load(f"recs@v{v}") for v in (1, 2))
    one, two = (load_model(v.path, v.manifest) for v in (first, second))
    for key, value in one.arrays[0].items():
        np.testing.assert_array_equal(value, two.arrays[0][key], err_msg=key)
    assert (one.train != two.train).nnz == 0
    np.testing.assert_array_equal(one.users, two.users)


def _spark_events(spark, path, feedback, kind, scale):
    from mktai.engines import get_engine
    from mktai.tasks.recommend.als_spark import events_on_spark, split_on_spark

    done = get_engine("spark").clean([path], kind=kind, dedupe=kind == "transactions")
    events = events_on_spark(done.cleaned, done.report, feedback, done.description, scale)
    rows = events.frame.select("u", "i", "value").toPandas()
    held = [sorted(r["key"] for r in split_on_spark(events, 0.5, "random", 7)[1].frame.collect())
            for _ in range(2)]  # fmt: skip
    assert held[0] == held[1]  # the same seed holds out the same events
    events.frame.unpersist()
    done.close()
    return events, done.report, rows.sort_values(["u", "i", "value"], ignore_index=True)


@pytest.mark.spark
def test_spark_events_follow_the_local_event_rules(spark, tmp_path):
    """Ratings: out-of-scale and incomplete rows rejected (counted in the report), a pair rated
    twice keeps the latest by timestamp; purchases: returns, cancellations and lines without a
    customer left out, one event per (customer, item, order). Same maps, events and counts as
    the local read."""
    import pandas as pd

    from mktai.data import load_table
    from mktai.tasks.recommend.interactions import read_events

    ratings = tmp_path / "ratings.csv"
    ratings.write_text("user_id,item_id,rating,timestamp\n"
                       "u1,a,4,2024-01-03\nu1,a,2,2024-01-05\nu1,a,5,2024-01-04\n"
                       "u2, b ,3,2024-01-01\nu2,a,9,2024-01-01\nu3,b,,2024-01-02\n"
                       "u3,c,1,2024-01-02\nu10,c,5,2024-01-09\n", encoding="utf-8")  # fmt: skip
    first, _ = two_files(tmp_path)
    for path, feedback, kind, scale in ((ratings, "explicit", "ratings", (1.0, 5.0)),
                                        (first, "implicit", "transactions", None)):  # fmt: skip
        events, report, rows = _spark_events(spark, path, feedback, kind, scale)
        table = load_table(path, kind=kind, dedupe=kind == "transactions")
        local = read_events(table, feedback, scale=scale)
        assert events.users.tolist() == local.users.tolist()
        assert events.items.tolist() == local.items.tolist()
        expected = pd.DataFrame({"u": local.u.astype("int32"), "i": local.i.astype("int32"),
                                 "value": local.value}).sort_values(["u", "i", "value"],
                                                                    ignore_index=True)  # fmt: skip
        pd.testing.assert_frame_equal(rows, expected, check_dtype=False)
        assert events.counts == local.counts and events.notes == local.notes
        if feedback == "explicit":
            assert local.counts["out_of_scale_rejected"] == 1
            assert local.counts["duplicates_replaced"] == 2
        assert events.scale == local.scale and events.timed == (local.time is not None)
        for key in ("rows_out", "rows_rejected", "rejected_by_reason"):
            assert report.get(key) == table.report.get(key), key
    assert local.counts["return_lines_excluded"] == 1


def two_files(folder: Path) -> tuple[Path, Path]:
    """Two small exports: a bad date, a cancellation, a formula, duplicates within and across."""
    header = "InvoiceNo,StockCode,InvoiceDate,Quantity,UnitPrice,CustomerID,Country\n"
    first, second = folder / "a.csv", folder / "b.csv"
    first.write_text(header + "1,X,2024-01-02 10:00:00,2,1.5,17,UK\n"
                     "2,Y,not a date,1,1,17,UK\n"
                     "C3,X,2024-01-03 11:00:00,-2,1.5,17,UK\n"
                     "4,Z,2024-01-04 09:00:00,1,=2+2,18,FR\n", encoding="utf-8")  # fmt: skip
    second.write_text(header + "5,X,2024-02-02 10:00:00,1,2,19,FR\n"
                      "1,X,2024-01-02 10:00:00,2,1.5,17,UK\n"
                      "5,X,2024-02-02 10:00:00,1,2,19,FR\n"
                      "6,Y,2024-02-03 12:00:00,3,4,18,FR\n", encoding="utf-8")  # fmt: skip
    return first, second


@pytest.mark.spark
def test_two_files_duplicates_across_files_and_partitioned_output(spark, tmp_path):
    """Several sources: row numbers per file, 'exact duplicate of row N of FILE', the source
    column, the same report; --partition-by writes one folder per value."""
    import pandas as pd

    from mktai.api import ingest

    first, second = two_files(tmp_path)
    local = ingest([first, second], tmp_path / "local.parquet", report=tmp_path / "l.json")
    remote = ingest([first, second], tmp_path / "clean", report=tmp_path / "s.json",
                    engine="spark", partition_by=["Country"])  # fmt: skip
    strip = lambda r: {k: v for k, v in r.items() if k not in ("output", "rejects_file")}  # noqa: E731
    assert strip(remote.report) == strip(local.report)
    reasons = pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False)
    assert f"exact duplicate of row 1 of {first}" in set(reasons["reason"])
    pd.testing.assert_frame_equal(read_spark_csv(tmp_path / "clean.rejects"), reasons)
    assert sorted(p.name for p in (tmp_path / "clean").iterdir() if p.is_dir()) == [
        "country=FR", "country=UK"]  # fmt: skip
    spark_rows = read_spark_parquet(tmp_path / "clean")
    local_rows = pd.read_parquet(tmp_path / "local.parquet")
    key = ["source", "invoice_no"]
    assert sorted(map(tuple, spark_rows[key].to_numpy())) == sorted(
        map(tuple, local_rows[key].to_numpy())
    )


# -- Spark Connect ---------------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_connect_ingest_and_segment_from_the_cli(connect_url, tmp_path):
    """SPARK_REMOTE=sc://host:port: mktai is a pure Spark Connect client (no Java on its PATH,
    JAVA_HOME pointing nowhere); ingest writes the local engine's report, rows and rejects, and
    segment --engine spark reads the output back into the local customer table."""
    import pandas as pd

    from mktai.api import ingest, segment

    first, second = two_files(tmp_path)
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"SPARK_REMOTE": connect_url, "JAVA_HOME": str(tmp_path / "no-jdk"), "PATH": str(bare)}
    done = _cli(["ingest", str(first), str(second), "-o", str(tmp_path / "clean"),
                 "--engine", "spark", "--report", str(tmp_path / "s.json")], env, tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    local = ingest([first, second], tmp_path / "local.parquet", report=tmp_path / "l.json")
    strip = lambda r: {k: v for k, v in r.items() if k not in ("output", "rejects_file")}  # noqa: E731
    assert strip(json.loads((tmp_path / "s.json").read_text())) == strip(local.report)
    pd.testing.assert_frame_equal(read_spark_parquet(tmp_path / "clean"),
                                  pd.read_parquet(tmp_path / "local.parquet"), check_dtype=False)  # fmt: skip
    pd.testing.assert_frame_equal(read_spark_csv(tmp_path / "clean.rejects"),
                                  pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False))  # fmt: skip

    seg = _cli(["segment", str(tmp_path / "clean"), "--engine", "spark", "-o",
                str(tmp_path / "customers.parquet"), "--k", "2"], env, tmp_path)  # fmt: skip
    assert seg.returncode == 0, seg.stderr
    expected = segment(str(tmp_path / "local.parquet"), k="2", seed=0).customers
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "customers.parquet"), expected,
                                  check_dtype=False)  # fmt: skip


@pytest.mark.spark
def test_spark_connect_input_the_server_cannot_see_is_one_line(connect_url, tmp_path):
    """Over Spark Connect the paths are the server's. A file that the client can read and the
    server cannot (here: removed after the client sniffed it, as if it lived only on the
    client's disk) is a one-line input error saying so, from a real Connect client."""
    first, _ = two_files(tmp_path)
    script = tmp_path / "client.py"
    script.write_text(
        "import os, sys\n"
        "from mktai.engines.spark_session import get_session, is_connect\n"
        "from mktai.engines.spark_read import resolve, missing_paths\n"
        "from mktai.engines.spark_clean import clean_on_spark\n"
        "from mktai.errors import InputError\n"
        "spark = get_session()\n"
        "assert is_connect(spark)\n"
        f"inp = resolve(spark, [{str(first)!r}], None)\n"
        f"os.remove({str(first)!r})\n"
        "try:\n"
        "    with missing_paths(spark):\n"
        "        clean_on_spark(spark, inp, kind=None, mapping={})\n"
        "except InputError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n",
        encoding="utf-8",
    )  # fmt: skip
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPARK_REMOTE": connect_url,
           "JAVA_HOME": str(tmp_path / "no-jdk"), "PATH": str(bare)}  # fmt: skip
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = done.stdout.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in done.stderr
    assert "Spark cannot read the input" in line and "paths are the server's" in line
