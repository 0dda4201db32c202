"""Supervised family: does the default learner choose well and fast on real labelled tables?

For each table, on the same stratified 5-fold split (seed 7), against two baselines measured in
the same run:
  - scikit-learn HistGradientBoostingClassifier with default parameters (categoricals as codes),
  - a logistic regression (one-hot + median imputation + scaling, lbfgs),
the script prints the CV ROC AUC of mktai's default (`mktai train propensity` with no
--algorithm and no --cv, through the family's own fit(): cleaning-layer table, its
preprocessing, its CV: 5 folds, 3 from 20,000 rows; the baselines use the same folds)
and its wall time against ONE default HGB fit on all rows. Target (issue #13): AUC ratio against
the better baseline >= 1.000 and time ratio <= 5.

Tables (real data only, nothing downloaded):
  bank       UCI Bank Marketing, 45,211 rows (../shared/data/bank_marketing.csv)
  retail     repeat purchase from UCI Online Retail (../shared/data/transactions.csv.gz): one row
             per customer with their history up to 2011-09-01 (recency, frequency, spend,
             basket, products, tenure, returns, country); target: bought again before 2011-12-10
  cancer     scikit-learn's bundled copy of the UCI Wisconsin breast cancer table (569 rows)

    .venv/bin/python benchmarks/supervised.py [--tables bank,retail,cancer] [--algorithms auto]
        [--rows N] [--no-leak]

--algorithms also takes explicit ones (auto,gbm,linear,mlp; "default" = no --algorithm).
--no-leak adds bank without `duration` (known only after the call).
--threads 1,2 instead times one gbm fit (mktai's defaults, bank, all rows) per OpenMP thread
count, median of --repeats, against the 1-thread fit: check `uptime` first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
# the shared data sit beside the checkout (/work/main) or beside the worktrees (/work/wt/NAME)
CANDIDATE_DIRS = [Path(os.environ.get("MKTAI_SHARED_DATA", "/nonexistent"))] + [
    HERE.parents[i] / "shared" / "data" for i in (2, 3)
]
SHARED = next((d for d in CANDIDATE_DIRS if d.is_dir()), CANDIDATE_DIRS[1])
DATA = SHARED / "bank_marketing.csv"
CUTOFF = "2011-09-01"


# --------------------------------------------------------------------------- tables


def retail_table(path: Path) -> Path | None:
    """Repeat-purchase propensity per customer from the Online Retail lines (see docstring)."""
    import pandas as pd

    source = SHARED / "transactions.csv.gz"
    if not source.exists():
        return None
    lines = pd.read_csv(source, dtype={"CustomerID": "string", "InvoiceNo": "string"})
    lines = lines[lines["CustomerID"].notna()].copy()
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"])
    lines["amount"] = lines["Quantity"] * lines["UnitPrice"]
    lines["cancel"] = lines["InvoiceNo"].str.startswith("C")
    cutoff = pd.Timestamp(CUTOFF)
    past, future = lines[lines["InvoiceDate"] < cutoff], lines[lines["InvoiceDate"] >= cutoff]
    bought = past[~past["cancel"] & (past["Quantity"] > 0)]
    per = bought.groupby("CustomerID")
    frame = pd.DataFrame(
        {
            "recency_days": (cutoff - per["InvoiceDate"].max()).dt.days,
            "tenure_days": (cutoff - per["InvoiceDate"].min()).dt.days,
            "invoices": per["InvoiceNo"].nunique(),
            "lines": per.size(),
            "spend": per["amount"].sum().round(2),
            "products": per["StockCode"].nunique(),
            "units": per["Quantity"].sum(),
            "country": per["Country"].agg(lambda s: s.mode().iloc[0]),
        }
    )
    frame["avg_basket"] = (frame["spend"] / frame["invoices"]).round(2)
    returns = past[past["cancel"]].groupby("CustomerID").size()
    frame["returns"] = returns.reindex(frame.index).fillna(0).astype(int)
    again = future[~future["cancel"] & (future["Quantity"] > 0)]["CustomerID"].unique()
    frame["bought_again"] = frame.index.isin(again).astype(int)
    frame.reset_index(drop=True).to_csv(path, index=False)
    return path


def cancer_table(path: Path) -> Path:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "benign"})
    frame.to_csv(path, index=False)
    return path


def tables(names: list[str], work: Path) -> list[tuple[str, Path | None, str]]:
    out = []
    for name in names:
        if name == "bank":
            out.append(("bank", DATA if DATA.exists() else None, "y"))
        elif name == "retail":
            out.append(("retail", retail_table(work / "retail.csv"), "bought_again"))
        elif name == "cancer":
            out.append(("cancer", cancer_table(work / "cancer.csv"), "benign"))
        else:
            raise SystemExit(f"unknown table {name!r}")
    return out


# --------------------------------------------------------------------------- baselines


def _codes(frame, target: str, drop: list[str]):
    X = frame.drop(columns=[target, *drop]).copy()
    for column in X.columns:
        if X[column].dtype.kind not in "fiub":
            X[column] = X[column].astype("category").cat.codes
    return X


def baselines(frame, target: str, y, folds: int, seed: int, drop: list[str]) -> dict:
    """HGB defaults and a logistic regression on the same folds; one HGB default fit's time."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from threadpoolctl import threadpool_limits

    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    X = _codes(frame, target, drop)
    raw = frame.drop(columns=[target, *drop])
    text = [c for c in raw.columns if raw[c].dtype.kind not in "fiub"]
    numeric = [c for c in raw.columns if c not in text]
    raw = raw.copy()
    for c in text:
        raw[c] = raw[c].astype(str)
    logistic = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), text),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    with threadpool_limits(1):
        hgb = cross_val_score(HistGradientBoostingClassifier(random_state=seed), X, y, cv=cv,
                              scoring="roc_auc")  # fmt: skip
        lr = cross_val_score(logistic, raw, y, cv=cv, scoring="roc_auc")
        times = []
        for _ in range(3):  # median of three single fits on all rows
            start = time.perf_counter()
            HistGradientBoostingClassifier(random_state=seed).fit(X, y)
            times.append(time.perf_counter() - start)
    return {"hgb": float(hgb.mean()), "lr": float(lr.mean()), "hgb_fit_s": sorted(times)[1]}


# --------------------------------------------------------------------------- mktai


def default_folds(rows: int) -> int:
    """The folds `mktai train` uses without --cv (5 before this mktai had a size rule)."""
    try:
        from mktai.tasks.supervised.family import default_folds as rule
    except ImportError:
        return 5
    return rule(rows)


def mktai_run(table, algorithm: str | None, folds: int, seed: int, drop: list[str]) -> dict:
    from mktai.tasks.base import TrainOptions
    from mktai.tasks.supervised import family as supervised

    extra = {"test_size": "0"}
    if drop:
        extra["drop"] = ",".join(drop)
    start = time.perf_counter()
    model = supervised.fit(
        table, "propensity", TrainOptions(seed=seed, algorithm=algorithm, cv=folds, extra=extra)
    )
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(table)
    predict_seconds = time.perf_counter() - start
    extras = getattr(model, "extras", {}) or {}
    return {
        "auc": model.metrics["cv"]["roc_auc"]["mean"],
        "auc_std": model.metrics["cv"]["roc_auc"]["std"],
        "seconds": fit_seconds,
        "algorithm": model.algorithm,
        "rounds": extras.get("rounds"),
        "predict_rows_s": len(table.frame) / predict_seconds,
    }


def thread_timings(table, counts: list[int], repeats: int, seed: int) -> None:
    """Median wall time of one gbm fit per OpenMP thread count (ratio against 1 thread)."""
    import statistics

    from threadpoolctl import threadpool_limits

    from mktai.tasks.supervised.estimators import build, learner_params, passive_openmp

    passive_openmp()  # as mktai does (OMP_WAIT_POLICY=ACTIVE in the environment overrides it)
    from mktai.tasks.common.tabular import categorical_names, feature_names, infer_schema, prepare

    frame = table.frame
    schema = infer_schema(frame, "y")
    X, _ = prepare(frame, schema)
    y = frame["y"].to_numpy()
    categorical = categorical_names(schema)
    numeric = [n for n in feature_names(schema) if n not in categorical]
    print(f"gbm fit, {len(X):,} rows, load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores, median of {repeats}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")  # fmt: skip
    print(f"{'threads':>7} {'fit s':>7} {'vs 1 thread':>11}")
    times: dict[int, list[float]] = {t: [] for t in counts}
    for _ in range(repeats):  # interleaved, so a change of load hits every count alike
        for threads in counts:
            model = build("gbm", "binary", learner_params("gbm", {}), numeric, categorical,
                          seed=seed, class_weight=None)  # fmt: skip
            start = time.perf_counter()
            with threadpool_limits(threads, user_api="openmp"):
                model.fit(X, y)
            times[threads].append(time.perf_counter() - start)
    base = statistics.median(times[counts[0]])
    for threads in counts:
        median = statistics.median(times[threads])
        print(f"{threads:>7} {median:>7.2f} {median / base:>11.2f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="bank,retail,cancer")
    parser.add_argument("--algorithms", default="default")
    parser.add_argument("--rows", type=int, default=0, help="subsample rows (0 = all)")
    parser.add_argument("--folds", type=int, default=0, help="0 = mktai's default for the size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-leak", action="store_true", help="also bank without duration")
    parser.add_argument("--threads", default="", help="e.g. 1,2: time one gbm fit per count")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from mktai.data import load_table

    if args.threads:
        if not DATA.exists():
            print(f"skipped: {DATA} not found (the shared real data sets are not present)")
            return 0
        table = load_table(DATA, kind="labelled", mapping={"target": "y"})
        counts = [int(t) for t in args.threads.split(",") if t.strip()]
        thread_timings(table, counts, args.repeats, args.seed)
        return 0
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    header = (f"{'table':<22} {'rows':>6} {'folds':>5} {'HGB AUC':>8} {'LR AUC':>7} {'mktai':>26} "
              f"{'AUC':>7} {'vs best':>7} {'HGB fit s':>9} {'mktai s':>8} {'time x':>7}")  # fmt: skip
    print(
        f"stratified CV, seed {args.seed}, load average "
        f"{os.getloadavg()[0]:.2f}, MKTAI_THREADS={os.environ.get('MKTAI_THREADS', '')}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as work:
        for name, path, target in tables([t.strip() for t in args.tables.split(",")], Path(work)):
            if path is None:
                print(f"{name:<22} skipped: its source file is not in {SHARED}")
                continue
            table = load_table(path, kind="labelled", mapping={"target": target})
            if args.rows and len(table.frame) > args.rows:
                table.frame = table.frame.sample(args.rows, random_state=args.seed)
                table.frame = table.frame.reset_index(drop=True)
            frame = table.frame
            y = frame[target].to_numpy()
            variants = [[]] + ([["duration"]] if args.no_leak and name == "bank" else [])
            folds = args.folds if args.folds else default_folds(len(frame))
            for drop in variants:
                label = name + (" (no duration)" if drop else "")
                base = baselines(frame, target, y, folds, args.seed, drop)
                best = max(base["hgb"], base["lr"])
                for algorithm in algorithms:
                    chosen = None if algorithm == "default" else algorithm
                    r = mktai_run(table, chosen, folds, args.seed, drop)
                    shown = f"{algorithm} -> {r['algorithm']}"
                    print(
                        f"{label:<22} {len(frame):>6} {folds:>5} {base['hgb']:>8.4f} "
                        f"{base['lr']:>7.4f} "
                        f"{shown:>26} {r['auc']:>7.4f} {r['auc'] / best:>7.4f} "
                        f"{base['hgb_fit_s']:>9.2f} {r['seconds']:>8.2f} "
                        f"{r['seconds'] / base['hgb_fit_s']:>7.2f}",
                        flush=True,
                    )
    print("vs best = mktai CV ROC AUC / the better baseline's (same folds); time x = mktai's "
          "whole fit (CV, selection, final model, permutation importance, leak scan) / one "
          "default HGB fit on all rows (median of 3)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
