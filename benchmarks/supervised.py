"""Supervised family on UCI Bank Marketing: 5-fold CV ROC AUC per algorithm, train/predict speed.

Baseline, measured in the same run on the same folds: scikit-learn's HistGradientBoosting-
Classifier with default parameters (categoricals as ordinal codes), the figure usually quoted for
this file (~0.935). mktai's algorithms run through the family's own fit() (cleaning-layer table,
its preprocessing, stratified CV with the same seed), so the numbers are what `mktai train` prints.

    .venv/bin/python benchmarks/supervised.py [--algorithms gbm,linear,mlp] [--rows N] [--no-leak]

--no-leak adds both models without `duration` (known only after the call).
--threads 1,2 instead times one gbm fit (mktai's defaults, all rows) per OpenMP thread count,
median of --repeats, against the 1-thread fit: check `uptime` first, busy cores distort it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank_marketing.csv"


def baseline_auc(frame, y, folds: int, seed: int, drop: list[str]) -> tuple[float, float]:
    """Default HistGradientBoostingClassifier, categoricals as codes, same stratified folds."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    X = frame.drop(columns=["y", *drop]).copy()
    for column in X.columns:
        if X[column].dtype.kind not in "fiub":
            X[column] = X[column].astype("category").cat.codes
    start = time.perf_counter()
    with threadpool_limits(1, user_api="openmp"):
        scores = cross_val_score(
            HistGradientBoostingClassifier(random_state=seed),
            X,
            y,
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
            scoring="roc_auc",
        )
    return float(scores.mean()), time.perf_counter() - start


def mktai_run(table, algorithm: str, folds: int, seed: int, drop: list[str]) -> dict:
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
    rows = len(table.frame)
    return {
        "auc": model.metrics["cv"]["roc_auc"]["mean"],
        "auc_std": model.metrics["cv"]["roc_auc"]["std"],
        "seconds": fit_seconds,
        # one fit per fold plus the final fit, each on (folds-1)/folds or all of the rows
        "train_rows_s": rows * ((folds - 1) + 1) / fit_seconds,
        "predict_rows_s": rows / predict_seconds,
    }


def thread_timings(table, counts: list[int], repeats: int, seed: int) -> None:
    """Median wall time of one gbm fit per OpenMP thread count (ratio against 1 thread)."""
    import os
    import statistics

    from threadpoolctl import threadpool_limits

    from mktai.tasks.supervised.estimators import GBM_DEFAULTS, build, passive_openmp

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
            model = build("gbm", "binary", dict(GBM_DEFAULTS), numeric, categorical,
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
    parser.add_argument("--algorithms", default="gbm,linear,mlp")
    parser.add_argument("--rows", type=int, default=0, help="subsample rows (0 = all 45,211)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-leak", action="store_true", help="also run without duration")
    parser.add_argument("--threads", default="", help="e.g. 1,2: time one gbm fit per count")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found (the shared real data sets are not present)")
        return 0
    from mktai.data import load_table

    table = load_table(DATA, kind="labelled", mapping={"target": "y"})
    if args.rows:
        table.frame = table.frame.sample(args.rows, random_state=args.seed).reset_index(drop=True)
    if args.threads:
        counts = [int(t) for t in args.threads.split(",") if t.strip()]
        thread_timings(table, counts, args.repeats, args.seed)
        return 0
    frame, y = table.frame, table.frame["y"].to_numpy()
    print(
        f"bank_marketing: {len(frame):,} rows, positive rate {y.mean():.3f}, {args.folds}-fold CV"
    )
    variants = [[]] + ([["duration"]] if args.no_leak else [])
    header = (f"{'model':<44} {'ROC AUC':>8} {'± std':>6} {'vs base':>8} {'fit s':>7} "
              f"{'train rows/s':>13} {'predict rows/s':>15}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for drop in variants:
        suffix = " (no duration)" if drop else ""
        base, base_s = baseline_auc(frame, y, args.folds, args.seed, drop)
        name = f"baseline: sklearn HGB defaults{suffix}"
        print(f"{name:<44} {base:>8.4f} {'':>6} {1.0:>8.4f} {base_s:>7.1f}", flush=True)
        for algorithm in [a.strip() for a in args.algorithms.split(",") if a.strip()]:
            r = mktai_run(table, algorithm, args.folds, args.seed, drop)
            print(
                f"{'mktai ' + algorithm + suffix:<44} {r['auc']:>8.4f} {r['auc_std']:>6.4f} "
                f"{r['auc'] / base:>8.4f} {r['seconds']:>7.1f} {r['train_rows_s']:>13,.0f} "
                f"{r['predict_rows_s']:>15,.0f}",
                flush=True,
            )
    print("vs base = ROC AUC / baseline ROC AUC on the same folds; fit s = CV + final fit + "
          "permutation importance + leak scan")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
