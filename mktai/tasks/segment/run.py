"""One segmentation run: RFM summary, scores and segments, clusters and CLV for every customer.

run_segmentation() is shared by fitting (segment_customers: edges, centroids and CLV parameters
are estimated on this data) and applying a stored SegmentModel (they are given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mktai.tasks.segment.rfm import MONETARY_MODES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mktai.data.table import CleanTable
    from mktai.tasks.segment.clusters import ClusterModel
    from mktai.tasks.segment.clv import BGNBD, GammaGamma
    from mktai.tasks.segment.model import SegmentModel

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
MIN_CLV_CUSTOMERS = 10
MIN_EDGE_CUSTOMERS = 5  # fewer customers than quintiles: the edges say nothing
CLV_FIT_SAMPLE = 200_000
CLV_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "expected_value"]


@dataclass
class SegmentOptions:
    """What to compute. k=None means automatic; clusters=False skips k-means."""

    as_of: Any = None
    monetary: str = "mean"
    clusters: bool = True
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    clv: bool = False
    horizon: int = 90
    discount: float = 0.0
    seed: int = 0
    segment_map: dict[str, Any] | None = None
    features: Any = None  # optional DataFrame: customer + numeric feature columns

    def validate(self) -> None:
        from mktai.errors import UsageError

        if self.monetary not in MONETARY_MODES:
            raise UsageError(
                f"--monetary must be one of {', '.join(MONETARY_MODES)}, not {self.monetary!r}"
            )
        if self.k is not None and self.k < 1:
            raise UsageError(f"--k must be a positive number, 'auto' or 'off', not {self.k}")
        if not 2 <= self.k_min <= self.k_max:
            raise UsageError(f"--k-max must be at least {self.k_min}, not {self.k_max}")
        check_clv_options(self.horizon, self.discount)


def check_clv_options(horizon: int | None, discount: float | None) -> None:
    """UsageError for a CLV horizon or discount rate that makes no sense (None = not given)."""
    from mktai.errors import UsageError

    if horizon is not None and horizon < 1:
        raise UsageError(f"--horizon must be a positive number of days, not {horizon}")
    if discount is not None and not 0 <= discount < 10:
        raise UsageError(f"--discount is an annual rate such as 0.1, not {discount}")


@dataclass
class SegmentResult:
    """Per-customer output, the JSON-able summary and the warnings to show the user."""

    customers: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    model: SegmentModel | None = None


def transactions_frame(table: CleanTable) -> tuple[pd.DataFrame, dict[str, int]]:
    """Standard columns (customer, date, amount, order?, is_return?) from a CleanTable.

    Rows without a customer id or amount are counted, not used (the cleaning report lists them).
    """
    import pandas as pd

    table.require("customer", "date", "amount")
    frame = pd.DataFrame(
        {
            "customer": table.col("customer"),
            "date": table.col("date"),
            "amount": pd.to_numeric(table.col("amount"), errors="coerce"),
        },
        copy=False,  # views of the table's columns: 10M lines need no second copy
    )
    if table.has("order"):
        frame["order"] = table.col("order")
    if table.has("is_return"):
        frame["is_return"] = table.col("is_return").fillna(False).astype(bool)
    no_customer = frame["customer"].isna()
    no_date = frame["date"].isna()
    no_amount = frame["amount"].isna()
    usable = ~(no_customer | no_date | no_amount)
    counts = {
        "rows": len(frame),
        "rows_without_customer": int(no_customer.sum()),
        "rows_without_date": int((no_date & ~no_customer).sum()),
        "rows_without_amount": int((no_amount & ~no_customer & ~no_date).sum()),
        "rows_rejected_by_cleaning": len(table.rejects),
    }
    if not usable.all():
        frame = frame.loc[usable].reset_index(drop=True)
    if frame.empty:
        from mktai.errors import InputError

        raise InputError(
            f"{table.describe()}: no transaction row has a customer id, a date and an amount; "
            "check the columns (or name them with --map customer=... --map date=...)"
        )
    return frame, counts


def segment_customers(
    frame: pd.DataFrame | None,
    options: SegmentOptions,
    *,
    clv_required: bool = True,
    summary: tuple[pd.DataFrame, Any] | None = None,
) -> SegmentResult:
    """Fit edges, clusters and (optionally) CLV on this data and score every customer.

    clv_required=False turns "CLV undefined" into a warning and a model without CLV parameters
    (training); otherwise the customers still get RFM and the CLV columns stay empty.
    summary: the per-customer table already made from the lines (rfm.summarise's output, e.g.
    by the Spark engine); frame is then not needed.
    """
    from mktai.tasks.segment.rfm_scores import load_segment_map

    options.validate()
    return run_segmentation(
        frame,
        monetary=options.monetary,
        as_of=options.as_of,
        segment_map=options.segment_map or load_segment_map(),
        edges=None,
        cluster_model=None,
        fit_clusters=options.clusters,
        k=options.k,
        k_range=(options.k_min, options.k_max),
        bgnbd=None,
        gamma_gamma=None,
        fit_clv=options.clv,
        horizon=options.horizon,
        discount=options.discount,
        seed=options.seed,
        features=options.features,
        model=None,
        summary=summary,
    )


def run_segmentation(
    frame: pd.DataFrame | None,
    *,
    monetary: str,
    as_of: Any,
    segment_map: dict[str, Any],
    edges: dict[str, list[float]] | None,
    cluster_model: ClusterModel | None,
    fit_clusters: bool,
    bgnbd: BGNBD | None,
    gamma_gamma: GammaGamma | None,
    fit_clv: bool,
    horizon: int,
    discount: float,
    features: Any = None,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 0,
    model: SegmentModel | None = None,
    summary: tuple[pd.DataFrame, Any] | None = None,
) -> SegmentResult:
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment import rfm as rfm
    from mktai.tasks.segment.rfm_scores import (
        assign_segments,
        fm_score,
        quintile_edges,
        score,
    )

    warnings: list[str] = []
    if summary is not None:  # lines already reduced to customers (rfm.summarise's output)
        cust, stats = summary[0].copy(), summary[1]
    else:
        cust, stats = rfm.summarise(frame, as_of=as_of, monetary=monetary)
    if stats.lines_after_as_of:
        warnings.append(
            f"{stats.lines_after_as_of:,} line(s) dated after --as-of {stats.as_of} are "
            "left out: the snapshot is taken at the end of that day"
        )
    usable = (cust["excluded_reason"] == "").to_numpy()
    n_usable = int(usable.sum())
    if edges is None:
        if n_usable < MIN_EDGE_CUSTOMERS:
            warnings.append(
                f"only {n_usable} usable customer(s): quintile edges from so few customers make "
                "the 1-5 scores and segments arbitrary; score small files with a stored model "
                "(`mktai train segments` on the full history, then --model)"
            )
        basis = cust.loc[usable] if n_usable else cust
        edges = {
            "recency": quintile_edges(basis["recency"].to_numpy()),
            "frequency": quintile_edges(basis["frequency"].to_numpy()),
            "monetary": quintile_edges(basis["monetary"].to_numpy()),
        }
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
    cust["segment"] = assign_segments(cust, segment_map)

    excluded = cust.loc[~usable, "excluded_reason"].value_counts().to_dict()
    if excluded:
        warnings.append(
            f"{len(cust) - n_usable} customer(s) get RFM scores but no cluster or CLV: "
            + "; ".join(f"{n} with {reason}" for reason, n in excluded.items())
            + " (see the excluded_reason column)"
        )
    if (cust.loc[usable, "frequency"] <= 1).all() and n_usable:
        warnings.append("every customer has a single order: frequency scores carry no information")

    # -- clusters -----------------------------------------------------------------------------
    cluster = np.full(len(cust), -1, dtype=np.int64)
    clusters_summary: dict[str, Any]
    raw, feature_names, feature_ok = _cluster_inputs(cust, features, cluster_model)
    usable_for_clusters = usable & feature_ok
    no_features = int((usable & ~feature_ok).sum())
    if no_features and (fit_clusters or cluster_model is not None):
        warnings.append(
            f"{no_features} customer(s) have no numeric value for a --features column "
            f"({', '.join(feature_names[3:])}) and get no cluster; RFM and CLV still apply"
        )
    stored_clusters = cluster_model is not None
    if cluster_model is None and fit_clusters:
        from mktai.errors import InputError
        from mktai.tasks.segment.clusters import choose_and_fit

        try:
            cluster_model = choose_and_fit(
                raw[usable_for_clusters],
                feature_names,
                k=k,
                seed=seed,
                k_range=k_range,
            )
        except InputError as exc:
            warnings.append(f"clustering skipped: {exc}")
            cluster_model = None
    if cluster_model is not None and usable_for_clusters.any():
        cluster[usable_for_clusters] = cluster_model.assign(raw[usable_for_clusters])
    if cluster_model is not None:
        from mktai.tasks.segment.clusters import profiles

        if stored_clusters:  # its silhouettes were computed at training time, not here
            chosen_by, by_k = "stored model", {}
        elif k is None:
            chosen_by = "silhouette" if cluster_model.silhouette else "too few profiles to compare"
            by_k = {str(c): s for c, s in cluster_model.silhouette.items()}
        else:
            chosen_by, by_k = "given", {}
        clusters_summary = {
            "k": cluster_model.k,
            "features": cluster_model.features,
            "customers_without_features": no_features,
            "chosen_by": chosen_by,
            "silhouette_by_k": by_k,
            "profiles": profiles(raw, cluster, cluster_model, cust["total"].to_numpy()),
        }
        names = np.array(cluster_model.names + [""], dtype=object)
        cust["cluster"] = pd.array(np.where(cluster >= 0, cluster, -1), dtype="Int64")
        cust.loc[cluster < 0, "cluster"] = pd.NA
        cust["cluster_name"] = names[cluster]  # -1 picks the trailing ""
    else:
        off = (
            "the stored model has no clusters" if model is not None else "clustering off (--k off)"
        )
        clusters_summary = {"skipped": off if not fit_clusters else ""}
        for w in warnings:
            if w.startswith("clustering skipped"):
                clusters_summary["skipped"] = w.removeprefix("clustering skipped: ")
        cust["cluster"] = pd.array([pd.NA] * len(cust), dtype="Int64")
        cust["cluster_name"] = ""

    # -- CLV ----------------------------------------------------------------------------------
    clv_summary: dict[str, Any] | None = None
    want_clv = fit_clv or bgnbd is not None
    if want_clv:
        clv_summary = _clv(
            cust,
            usable,
            bgnbd,
            gamma_gamma,
            horizon=horizon,
            discount=discount,
            warnings=warnings,
            seed=seed,
        )
        bgnbd = clv_summary.pop("_bgnbd", None)
        gamma_gamma = clv_summary.pop("_gg", None)

    if model is None:
        from mktai.tasks.segment.model import SegmentModel
        from mktai.tasks.segment.rfm_scores import load_segment_map

        model = SegmentModel(
            monetary=monetary,
            edges=edges,
            segment_map=segment_map or load_segment_map(),
            clusters=cluster_model,
            bgnbd=bgnbd,
            gamma_gamma=gamma_gamma,
            horizon=horizon,
            discount=discount,
            seed=seed,
        )
    summary = _summary(cust, stats, edges, segment_map, monetary, excluded, clusters_summary)
    if clv_summary is not None:
        summary["clv"] = clv_summary
    summary["warnings"] = warnings
    columns = OUTPUT_COLUMNS + ([c for c in CLV_COLUMNS if c in cust.columns] if want_clv else [])
    return SegmentResult(customers=cust[columns], summary=summary, warnings=warnings, model=model)


def _cluster_inputs(
    cust: pd.DataFrame, features: Any, cluster_model: ClusterModel | None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The raw matrix to cluster on: R, F, M plus joined numeric customer features."""
    import numpy as np

    from mktai.errors import InputError

    names = ["recency", "frequency", "monetary"]
    raw = cust[names].to_numpy(dtype="float64")
    ok = np.ones(len(cust), dtype=bool)
    if features is None:
        return raw, names, ok
    extra_names = [c for c in features.columns if c != "customer"]
    if cluster_model is not None:
        wanted = [f for f in cluster_model.features if f not in names]
        missing = [f for f in wanted if f not in extra_names]
        if missing:
            raise InputError(f"the customers file lacks feature column(s) {missing} the model uses")
        extra_names = wanted
    joined = cust[["customer"]].merge(features, on="customer", how="left")
    extra = joined[extra_names].to_numpy(dtype="float64")
    ok = np.isfinite(extra).all(axis=1)
    return np.hstack([raw, extra]), names + extra_names, ok


def _clv(
    cust: pd.DataFrame,
    usable: np.ndarray,
    bgnbd: BGNBD | None,
    gamma_gamma: GammaGamma | None,
    *,
    horizon: int,
    discount: float,
    warnings: list[str],
    seed: int = 0,
) -> dict[str, Any]:
    """Fit (or reuse) BG/NBD + Gamma-Gamma and fill p_alive, expected_* columns.

    lifetimes' conventions: BG/NBD on every customer with a purchase event (zero-spend and
    fully-returned customers included; they get p_alive and expected_purchases), Gamma-Gamma on
    the mean spend of the repeat days (x >= 1; the first purchase is not in it), expected spend
    and value for the usable customers (net total > 0). With more than CLV_FIT_SAMPLE customers
    the parameters are fitted on a seeded sample of that size (their standard errors are
    already tiny) and applied to everyone."""
    import numpy as np

    from mktai.errors import InputError
    from mktai.tasks.segment.clv import expected_value, fit_bgnbd, fit_gamma_gamma

    for column in CLV_COLUMNS:
        cust[column] = np.nan
    counted = (cust["event_days"] > 0).to_numpy()
    sub = cust.loc[counted]
    x = sub["x"].to_numpy(dtype="float64")
    t_x = sub["t_x"].to_numpy(dtype="float64")
    T = sub["T"].to_numpy(dtype="float64")
    spend_mean = sub["repeat_spend"].to_numpy(dtype="float64")
    # customers whose value is estimated: usable (net > 0) among the counted ones
    valued = usable[counted]
    summary: dict[str, Any] = {"horizon_days": horizon, "discount": discount, "time_unit": "days"}
    fitted_on = None  # None: parameters of a stored model
    if bgnbd is None:
        try:
            if x.size < MIN_CLV_CUSTOMERS:
                raise InputError(
                    f"only {x.size} usable customer(s); fitting BG/NBD needs at least "
                    f"{MIN_CLV_CUSTOMERS}"
                )
            fit_rows = _fit_rows(x.size, seed)
            bgnbd = fit_bgnbd(x[fit_rows], t_x[fit_rows], T[fit_rows])
            fitted_on = min(int(x.size), CLV_FIT_SAMPLE)
        except InputError as exc:
            warnings.append(f"CLV skipped: {exc}; the RFM columns are still computed")
            summary["skipped"] = str(exc)
            return summary
        if not bgnbd.converged:
            warnings.append("BG/NBD fit did not fully converge; treat CLV figures with care")
        dropout = bgnbd.a / (bgnbd.a + bgnbd.b)
        if dropout < 1e-3:
            warnings.append(
                f"BG/NBD: mean dropout probability per purchase a/(a+b) = {dropout:.1e}; the "
                "data show almost no churn, so P(alive) is close to 1 for everyone"
            )
    if gamma_gamma is None:
        try:
            fit_rows = _fit_rows(x.size, seed)
            gamma_gamma = fit_gamma_gamma(x[fit_rows], spend_mean[fit_rows])
        except InputError as exc:
            warnings.append(f"{exc}; expected value uses each customer's own mean spend")
            gamma_gamma = None
        if gamma_gamma is not None and gamma_gamma.q <= 1:
            warnings.append(
                f"Gamma-Gamma q = {gamma_gamma.q:.3f} <= 1: the population mean spend is "
                "infinite; expected spend leans entirely on each customer's own mean"
            )
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
        own = sub["total"].to_numpy(dtype="float64") / np.maximum(sub["n_days"].to_numpy(), 1)
        spend = own
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
    summary.update(
        {
            "r": bgnbd.r,
            "alpha": bgnbd.alpha,
            "a": bgnbd.a,
            "b": bgnbd.b,
            "p": gamma_gamma.p if gamma_gamma else None,
            "q": gamma_gamma.q if gamma_gamma else None,
            "v": gamma_gamma.v if gamma_gamma else None,
            "bgnbd": bgnbd.to_dict(),
            "gamma_gamma": gamma_gamma.to_dict() if gamma_gamma else None,
            "customers": int(counted.sum()),
            "valued_customers": int(valued.sum()),
            "conventions": "lifetimes: T to the --as-of day inclusive; BG/NBD on every "
            "customer with a purchase event (zero-spend ones too); Gamma-Gamma on repeat days",
            "repeat_customers": int(repeat.sum()),
            "fitted_on_customers": fitted_on,
            "expected_purchases_total": float(purchases.sum()),
            "expected_value_total": float(np.nansum(np.where(valued, value, np.nan))),
            "mean_p_alive": float(p_alive.mean()) if p_alive.size else None,
            "spend_frequency_correlation": spend_corr,
            "_bgnbd": bgnbd,
            "_gg": gamma_gamma,
        }
    )
    return summary


def _fit_rows(n: int, seed: int) -> Any:
    """All rows, or a sorted seeded sample of CLV_FIT_SAMPLE of them."""
    import numpy as np

    if n <= CLV_FIT_SAMPLE:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n, CLV_FIT_SAMPLE, replace=False))


def _summary(
    cust: pd.DataFrame,
    stats: Any,
    edges: dict[str, list[float]],
    segment_map: dict[str, Any],
    monetary: str,
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
    for name in segment_order(segment_map):
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
        "monetary": monetary,
        "monetary_definition": (
            "mean net value per order (purchases minus returns, divided by orders)"
            if monetary == "mean"
            else "total net value (purchases minus returns)"
        ),
        "recency_definition": "days from the last purchase day to as_of",
        "lines": stats.to_dict(),
        "excluded": {str(k): int(v) for k, v in excluded.items()},
        "edges": edges,
        "segment_map": segment_map.get("name", "custom"),
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
