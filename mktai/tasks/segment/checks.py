"""Checks and comparisons around a segmentation: silhouette of the stored clusters, the CLV
calibration/holdout check and the segment migration matrix between two runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mktai.tasks.segment.clusters import ClusterModel
    from mktai.tasks.segment.clv import BGNBD


def silhouette(customers: pd.DataFrame, clusters: ClusterModel, seed: int) -> float | None:
    """Silhouette of the assigned clusters on a seeded sample of at most 5,000 customers."""
    import numpy as np
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    mask = customers["cluster"].notna().to_numpy()
    rfm_only = [f for f in clusters.features if f in ("recency", "frequency", "monetary")]
    if len(rfm_only) != len(clusters.features) or mask.sum() < 3:
        return None
    labels = customers.loc[mask, "cluster"].to_numpy(dtype="int64")
    if np.unique(labels).size < 2:
        return None
    z = clusters.transform(customers.loc[mask, rfm_only].to_numpy(dtype="float64"))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(z), min(5000, len(z)), replace=False)
    if np.unique(labels[idx]).size < 2:
        return None
    with threadpool_limits(limits=1):
        return float(silhouette_score(z[idx], labels[idx]))


def add_holdout(
    metrics: dict[str, Any],
    frame: pd.DataFrame,
    horizon: int,
    bgnbd: Any,
    monetary: str,
    *,
    section: str | None = "holdout",
) -> None:
    """CLV calibration/holdout: headline numbers under metrics[section] (top level when None),
    the per-frequency calibration table under clv_calibration."""
    from mktai.errors import MktaiError

    try:
        check = clv_holdout(frame, horizon=horizon, bgnbd=bgnbd, monetary=monetary)
    except MktaiError as exc:
        metrics["clv_holdout_skipped"] = str(exc)
        return
    headline = {
        "clv_purchases_mae": check["mae"],
        "clv_purchases_rmse": check["rmse"],
        "clv_purchases_correlation": check["correlation"],
        "clv_predicted_purchases": check["predicted_purchases"],
        "clv_actual_purchases": check["actual_purchases"],
    }
    if section is None:
        metrics.update(headline)
    else:
        metrics[section] = headline
    metrics["clv_calibration"] = {
        "cutoff": check["cutoff"],
        "horizon_days": check["horizon_days"],
        "customers": check["customers"],
        "refitted": bgnbd is None,
        "by_calibration_frequency": check["by_calibration_frequency"],
    }


def clv_holdout(
    frame: pd.DataFrame,
    *,
    horizon: int,
    bgnbd: BGNBD | None = None,
    monetary: str = "mean",
) -> dict[str, Any]:
    """Calibration/holdout check: fit on all but the last `horizon` days, predict them.

    With bgnbd given, its parameters are used as they are (evaluating a stored model);
    otherwise BG/NBD is refitted on the calibration period (a true holdout at training time).
    Compares predicted and actual purchase days per customer and by calibration frequency.
    """
    import numpy as np
    import pandas as pd

    from mktai.errors import InputError
    from mktai.tasks.segment import rfm as rfm
    from mktai.tasks.segment.clv import fit_bgnbd

    end = rfm.default_as_of(frame["date"])  # the last day, included
    cutoff = end - pd.Timedelta(days=horizon)  # last calibration day; (cutoff, end] is held out
    calibration = frame.loc[frame["date"] < cutoff + pd.Timedelta(days=1)]
    if calibration.empty:
        raise InputError(
            f"the data spans less than the {horizon}-day horizon: no calibration period for a "
            "CLV holdout check"
        )
    cal, _ = rfm.summarise(calibration, as_of=cutoff, monetary=monetary)
    cal = cal.loc[cal["event_days"] > 0]  # the BG/NBD population (lifetimes' conventions)
    if bgnbd is None:
        bgnbd = fit_bgnbd(cal["x"], cal["t_x"], cal["T"])
    hold = frame.loc[frame["date"] >= cutoff + pd.Timedelta(days=1)]
    hold_summary, _ = rfm.summarise(hold, as_of=end, monetary=monetary)
    actual = (
        hold_summary.set_index("customer")["event_days"]
        .reindex(cal["customer"])
        .fillna(0)
        .to_numpy()
    )
    predicted = bgnbd.expected_purchases(
        float(horizon),
        cal["x"].to_numpy(dtype="float64"),
        cal["t_x"].to_numpy(dtype="float64"),
        cal["T"].to_numpy(dtype="float64"),
    )
    buckets = np.minimum(cal["x"].to_numpy(), 7)
    by_x = []
    for b in range(8):
        mask = buckets == b
        if mask.any():
            by_x.append(
                {
                    "calibration_repeat_days": f"{b}+" if b == 7 else str(b),
                    "customers": int(mask.sum()),
                    "predicted_mean": float(predicted[mask].mean()),
                    "actual_mean": float(actual[mask].mean()),
                }
            )
    corr = (
        float(np.corrcoef(predicted, actual)[0, 1])
        if len(actual) > 2 and actual.std() > 0 and predicted.std() > 0
        else None
    )
    return {
        "cutoff": str(cutoff.date()),
        "horizon_days": horizon,
        "customers": int(len(cal)),
        "params": {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b},
        "predicted_purchases": float(predicted.sum()),
        "actual_purchases": float(actual.sum()),
        "mae": float(np.abs(predicted - actual).mean()),
        "rmse": float(np.sqrt(((predicted - actual) ** 2).mean())),
        "correlation": corr,
        "by_calibration_frequency": by_x,
    }


def migration_matrix(
    previous: pd.DataFrame, current: pd.DataFrame, order: list[str] | None = None
) -> pd.DataFrame:
    """Customers moving from each previous segment (rows) to each current segment (columns).

    Both frames need `customer` and `segment`. Customers only in the current run come from
    "(new)"; customers only in the previous run go to "(gone)".
    """
    import pandas as pd

    from mktai.tasks.segment.rfm import customer_key

    prev = pd.DataFrame(
        {"customer": customer_key(previous["customer"]), "from": previous["segment"].astype(str)}
    )
    cur = pd.DataFrame(
        {"customer": customer_key(current["customer"]), "to": current["segment"].astype(str)}
    )
    merged = prev.merge(cur, on="customer", how="outer")
    merged["from"] = merged["from"].fillna("(new)")
    merged["to"] = merged["to"].fillna("(gone)")
    matrix = pd.crosstab(merged["from"], merged["to"])
    seen = [*previous["segment"].astype(str), *current["segment"].astype(str)]
    order = list(dict.fromkeys([*(order or []), *seen]))
    rows = [s for s in order if s in matrix.index] + (["(new)"] if "(new)" in matrix.index else [])
    cols = [s for s in order if s in matrix.columns] + (
        ["(gone)"] if "(gone)" in matrix.columns else []
    )
    matrix = matrix.reindex(index=rows, columns=cols, fill_value=0)
    matrix.index.name = "from_segment"
    matrix.columns.name = "to_segment"
    return matrix


def migration_summary(matrix: pd.DataFrame, previous: str) -> dict[str, Any]:
    """JSON form of a migration matrix plus how many customers changed segment."""
    moved = 0
    for row in matrix.index:
        for col in matrix.columns:
            if row != col and row != "(new)" and col != "(gone)":
                moved += int(matrix.loc[row, col])
    return {
        "previous": previous,
        "from": [str(i) for i in matrix.index],
        "to": [str(c) for c in matrix.columns],
        "counts": matrix.to_numpy().tolist(),
        "customers_moved": moved,
    }
