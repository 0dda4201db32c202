"""Applying a fitted segmentation: scores, segments, clusters and CLV for every customer.

apply_model() takes a SegmentModel (just fitted by fit.fit_model, or stored) and the
per-customer table (rfm.summarise's output) and returns the per-customer output and the
JSON-able summary. Nothing is estimated here: edges, centroids and CLV parameters come from the
model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment.fit import FitNotes
    from mktai.tasks.segment.model import SegmentModel
    from mktai.tasks.segment.run import SegmentResult

OUTPUT_COLUMNS = [
    "customer",
    "recency",
    "frequency",
    "monetary",
    "total",
    "r_score",
    "f_score",
    "m_score",
    "fm_score",
    "rfm_score",
    "segment",
    "cluster",
    "cluster_name",
    "excluded_reason",
]
CLV_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "expected_value"]


def apply_model(
    model: SegmentModel,
    customers: tuple[pd.DataFrame, Any],
    *,
    clv: bool,
    horizon: int | None = None,
    discount: float | None = None,
    features: Any = None,
    notes: FitNotes | None = None,
) -> SegmentResult:
    """Score CUSTOMERS ((frame, LineStats) as rfm.summarise returns them) with MODEL.

    clv: add the CLV columns (horizon / discount: the model's unless given). features: the
    customer feature frame the model's clusters need. notes: the FitNotes of the run that just
    fitted MODEL on these customers (their warnings join this run's); None for a stored model.
    """
    import numpy as np

    from mktai.tasks.segment.rfm_scores import assign_segments, fm_score, score
    from mktai.tasks.segment.run import SegmentResult

    cust, stats = customers[0].copy(), customers[1]
    warnings: list[str] = []
    if stats.lines_after_as_of:
        warnings.append(
            f"{stats.lines_after_as_of:,} line(s) dated after --as-of {stats.as_of} are "
            "left out: the snapshot is taken at the end of that day"
        )
    if notes is not None:
        warnings += notes.edges
    usable = (cust["excluded_reason"] == "").to_numpy()
    n_usable = int(usable.sum())
    edges = model.edges
    cust["r_score"] = score(cust["recency"].to_numpy(), edges["recency"], reverse=True)
    cust["f_score"] = score(cust["frequency"].to_numpy(), edges["frequency"])
    cust["m_score"] = score(cust["monetary"].to_numpy(), edges["monetary"])
    cust["fm_score"] = fm_score(cust["f_score"].to_numpy(), cust["m_score"].to_numpy())
    digits = (
        cust["r_score"].to_numpy(dtype=np.int64) * 100
        + cust["f_score"].to_numpy(dtype=np.int64) * 10
        + cust["m_score"].to_numpy(dtype=np.int64)
    )
    cust["rfm_score"] = np.array([f"{i:03d}" for i in range(1000)], dtype=object)[digits]
    cust["segment"] = assign_segments(cust, model.segment_map)

    excluded = cust.loc[~usable, "excluded_reason"].value_counts().to_dict()
    if excluded:
        warnings.append(
            f"{len(cust) - n_usable} customer(s) get RFM scores but no cluster or CLV: "
            + "; ".join(f"{n} with {reason}" for reason, n in excluded.items())
            + " (see the excluded_reason column)"
        )
    if (cust.loc[usable, "frequency"] <= 1).all() and n_usable:
        warnings.append("every customer has a single order: frequency scores carry no information")

    clusters_summary = _clusters(cust, usable, model, features, notes, warnings)
    clv_summary = None
    if clv:
        clv_summary = _clv(
            cust,
            usable,
            model,
            horizon=model.horizon if horizon is None else horizon,
            discount=model.discount if discount is None else discount,
            notes=notes,
            warnings=warnings,
        )
    summary = _summary(cust, stats, model, excluded, clusters_summary)
    if clv_summary is not None:
        summary["clv"] = clv_summary
    summary["warnings"] = warnings
    columns = OUTPUT_COLUMNS + ([c for c in CLV_COLUMNS if c in cust.columns] if clv else [])
    return SegmentResult(customers=cust[columns], summary=summary, warnings=warnings, model=model)


def _clusters(
    cust: pd.DataFrame,
    usable: np.ndarray,
    model: SegmentModel,
    features: Any,
    notes: FitNotes | None,
    warnings: list[str],
) -> dict[str, Any]:
    """Fill cluster / cluster_name with the model's centroids; the clusters summary."""
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment.clusters import profiles
    from mktai.tasks.segment.inputs import cluster_inputs, missing_features_warning

    centroids = model.clusters
    if notes is not None:
        warnings += notes.clusters
    if centroids is None:
        cust["cluster"] = pd.array([pd.NA] * len(cust), dtype="Int64")
        cust["cluster_name"] = ""
        return {"skipped": notes.clusters_skipped if notes else "the stored model has no clusters"}
    raw, names, feature_ok = cluster_inputs(cust, features, centroids)
    rows = usable & feature_ok
    no_features = int((usable & ~feature_ok).sum())
    if no_features:
        warnings.append(missing_features_warning(no_features, names))
    cluster = np.full(len(cust), -1, dtype=np.int64)
    if rows.any():
        cluster[rows] = centroids.assign(raw[rows])
    if notes is None:  # its silhouettes were computed at training time, not here
        chosen_by, by_k = "stored model", {}
    else:
        chosen_by = notes.cluster_choice
        by_k = {} if chosen_by == "given" else {str(c): s for c, s in centroids.silhouette.items()}
    names_of = np.array(centroids.names + [""], dtype=object)
    cust["cluster"] = pd.array(np.where(cluster >= 0, cluster, -1), dtype="Int64")
    cust.loc[cluster < 0, "cluster"] = pd.NA
    cust["cluster_name"] = names_of[cluster]  # -1 picks the trailing ""
    return {
        "k": centroids.k,
        "features": centroids.features,
        "customers_without_features": no_features,
        "chosen_by": chosen_by,
        "silhouette_by_k": by_k,
        "profiles": profiles(raw, cluster, centroids, cust["total"].to_numpy()),
    }


def _clv(
    cust: pd.DataFrame,
    usable: np.ndarray,
    model: SegmentModel,
    *,
    horizon: int,
    discount: float,
    notes: FitNotes | None,
    warnings: list[str],
) -> dict[str, Any]:
    """Fill p_alive and expected_* with the model's BG/NBD + Gamma-Gamma parameters.

    lifetimes' conventions: BG/NBD on every customer with a purchase event (zero-spend and
    fully-returned customers included; they get p_alive and expected_purchases), Gamma-Gamma on
    the mean spend of the repeat days (x >= 1; the first purchase is not in it), expected spend
    and value for the usable customers (net total > 0)."""
    import numpy as np

    from mktai.tasks.segment.clv import expected_value
    from mktai.tasks.segment.inputs import clv_inputs

    for column in CLV_COLUMNS:
        cust[column] = np.nan
    if notes is not None:
        warnings += notes.clv
    summary: dict[str, Any] = {"horizon_days": horizon, "discount": discount, "time_unit": "days"}
    bgnbd, gamma_gamma = model.bgnbd, model.gamma_gamma
    if bgnbd is None:
        summary["skipped"] = notes.clv_skipped if notes else "the model has no CLV parameters"
        return summary
    data = clv_inputs(cust)
    counted, x, t_x, T, spend_mean = data.counted, data.x, data.t_x, data.T, data.spend_mean
    valued = usable[counted]  # customers whose value is estimated: net > 0 among the counted
    repeat = x > 0
    if repeat.sum() < 10:
        warnings.append(
            f"only {int(repeat.sum())} customer(s) bought on more than one day: CLV estimates "
            "rest on very little repeat behaviour"
        )
    # Gamma-Gamma assumes spend per purchase does not depend on how often a customer buys.
    spend_corr = None
    if repeat.sum() > 2 and np.std(x[repeat]) > 0 and np.std(spend_mean[repeat]) > 0:
        spend_corr = float(np.corrcoef(x[repeat], spend_mean[repeat])[0, 1])
        if gamma_gamma is not None and abs(spend_corr) > 0.3:
            warnings.append(
                f"spend per purchase and purchase frequency correlate ({spend_corr:+.2f}); "
                "Gamma-Gamma assumes they do not, so expected spend is less reliable"
            )
    p_alive = bgnbd.p_alive(x, t_x, T)
    purchases = bgnbd.expected_purchases(float(horizon), x, t_x, T)
    if gamma_gamma is None:  # each customer's own mean net value per purchase day
        sub = cust.loc[counted]
        spend = sub["total"].to_numpy(dtype="float64") / np.maximum(sub["n_days"].to_numpy(), 1)
    else:
        spend = gamma_gamma.expected_spend(x, spend_mean)
    value = expected_value(
        bgnbd,
        gamma_gamma,
        horizon=float(horizon),
        x=x,
        t_x=t_x,
        T=T,
        spend_n=x,
        spend_mean=spend_mean if gamma_gamma is not None else spend,
        discount=discount,
    )
    cust.loc[counted, "p_alive"] = p_alive
    cust.loc[counted, "expected_purchases"] = purchases
    cust.loc[counted, "expected_spend"] = np.where(valued, spend, np.nan)
    cust.loc[counted, "expected_value"] = np.where(valued, value, np.nan)
    gg = gamma_gamma
    summary.update(
        {
            "r": bgnbd.r,
            "alpha": bgnbd.alpha,
            "a": bgnbd.a,
            "b": bgnbd.b,
            "p": gg.p if gg else None,
            "q": gg.q if gg else None,
            "v": gg.v if gg else None,
            "bgnbd": bgnbd.to_dict(),
            "gamma_gamma": gg.to_dict() if gg else None,
            "customers": int(counted.sum()),
            "valued_customers": int(valued.sum()),
            "conventions": "lifetimes: T to the --as-of day inclusive; BG/NBD on every "
            "customer with a purchase event (zero-spend ones too); Gamma-Gamma on repeat days",
            "repeat_customers": int(repeat.sum()),
            "fitted_on_customers": notes.clv_fitted_on if notes else None,
            "expected_purchases_total": float(purchases.sum()),
            "expected_value_total": float(np.nansum(np.where(valued, value, np.nan))),
            "mean_p_alive": float(p_alive.mean()) if p_alive.size else None,
            "spend_frequency_correlation": spend_corr,
        }
    )
    return summary


def _summary(
    cust: pd.DataFrame,
    stats: Any,
    model: SegmentModel,
    excluded: dict[str, int],
    clusters_summary: dict[str, Any],
) -> dict[str, Any]:
    from mktai.tasks.segment.rfm_scores import segment_order

    total_revenue = float(cust["total"].sum())
    n = len(cust)
    grouped = cust.groupby("segment", sort=False).agg(
        customers=("customer", "size"),
        revenue=("total", "sum"),
        recency=("recency", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
    )
    segments = []
    for name in segment_order(model.segment_map):
        if name not in grouped.index:
            continue
        row = grouped.loc[name]
        segments.append(
            {
                "segment": name,
                "customers": int(row["customers"]),
                "share": int(row["customers"]) / n,
                "revenue": float(row["revenue"]),
                # a share of a non-positive total (only returns) means nothing
                "revenue_share": float(row["revenue"]) / total_revenue
                if total_revenue > 0
                else None,
                "mean_recency": float(row["recency"]),
                "mean_frequency": float(row["frequency"]),
                "mean_monetary": float(row["monetary"]),
            }
        )
    heat = (
        cust.pivot_table(
            index="r_score", columns="fm_score", values="customer", aggfunc="size", fill_value=0
        )
        .reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
        .astype(int)
    )
    return {
        "customers": n,
        "as_of": stats.as_of,
        "monetary": model.monetary,
        "monetary_definition": (
            "mean net value per order (purchases minus returns, divided by orders)"
            if model.monetary == "mean"
            else "total net value (purchases minus returns)"
        ),
        "recency_definition": "days from the last purchase day to as_of",
        "lines": stats.to_dict(),
        "excluded": {str(k): int(v) for k, v in excluded.items()},
        "edges": model.edges,
        "segment_map": model.segment_map.get("name", "custom"),
        "segments": segments,
        "rfm_grid": {
            "rows": "r_score 1..5",
            "columns": "fm_score 1..5",
            "counts": heat.to_numpy().tolist(),
            "segments": _grid_segments(cust),
        },
        "clusters": clusters_summary,
        "revenue_total": total_revenue,
    }


def _grid_segments(cust: pd.DataFrame) -> list[list[str]]:
    """The most common segment of each (r_score, fm_score) cell ("" when the cell is empty)."""
    grid = [["" for _ in range(5)] for _ in range(5)]
    counts = cust.groupby(["r_score", "fm_score", "segment"], sort=True).size()
    best = counts.reset_index(name="n").sort_values(
        ["r_score", "fm_score", "n", "segment"], ascending=[True, True, False, True]
    )
    for row in best.drop_duplicates(["r_score", "fm_score"]).itertuples(index=False):
        grid[int(row.r_score) - 1][int(row.fm_score) - 1] = str(row.segment)
    return grid
