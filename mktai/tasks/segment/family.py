"""The segments family: RFM scores and named segments, k-means clusters, BG/NBD + Gamma-Gamma CLV.

Library entry points (the CLI is a thin shell over them):

    frame, counts = transactions_frame(table)          # CleanTable -> standard columns
    result = segment_customers(frame, SegmentOptions(...))   # fit on this data, then apply
    result = model.apply(frame, as_of=..., clv=True)        # stored edges/centroids/CLV params
    migration_matrix(previous, current)                     # from-segment x to-segment counts

segment_customers is fit_model (customer table -> SegmentModel) then apply_model (SegmentModel +
customer table -> SegmentResult); customer_table makes the table from the lines. And the family protocol for `mktai train segments`: fit(table, kind, options) -> SegmentModel,
load_model(directory, manifest). A stored model keeps the quintile edges, the segment map, the
cluster scaler and centroids and the CLV parameters, so next month's run is scored on the same
scale as this month's and segment migrations mean something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mktai.tasks.segment.apply import CLV_COLUMNS, OUTPUT_COLUMNS, apply_model
from mktai.tasks.segment.checks import (
    add_holdout,
    clv_holdout,
    migration_matrix,
    migration_summary,
    silhouette,
)
from mktai.tasks.segment.fit import FitNotes, fit_model
from mktai.tasks.segment.model import FORMAT_VERSION, SegmentModel, finite, load_model
from mktai.tasks.segment.run import (
    SegmentOptions,
    SegmentResult,
    check_clv_options,
    customer_table,
    parse_as_of,
    segment_customers,
    transactions_frame,
)

if TYPE_CHECKING:
    from mktai.data.table import CleanTable
    from mktai.tasks.base import TrainOptions

__all__ = [
    "CLV_COLUMNS",
    "FORMAT_VERSION",
    "OUTPUT_COLUMNS",
    "FitNotes",
    "SegmentModel",
    "SegmentOptions",
    "SegmentResult",
    "apply_model",
    "check_clv_options",
    "clv_holdout",
    "customer_table",
    "finite",
    "fit",
    "fit_model",
    "load_model",
    "migration_matrix",
    "migration_summary",
    "options_from_params",
    "parse_as_of",
    "parse_k",
    "segment_customers",
    "transactions_frame",
]


def fit(table: CleanTable, kind: str, options: TrainOptions) -> SegmentModel:
    """Family protocol: `mktai train segments DATA --name NAME [--k auto] [--clv true] ...`."""
    from mktai.errors import UsageError

    if kind != "segments":
        raise UsageError(f"the segments family cannot train kind {kind!r}")
    if options.algorithm not in (None, "", "rfm", "kmeans", "rfm+kmeans"):
        raise UsageError(
            f"--algorithm {options.algorithm!r} is not a segments algorithm; segments always "
            "use RFM + k-means (+ BG/NBD/Gamma-Gamma with --clv)"
        )
    from mktai.tasks.segment import SPEC

    # parsed and checked by the caller (api.train); library calls may give only the raw extras
    params = options.params or SPEC.parse_options(options.extra)
    seg_options = options_from_params(params, seed=options.seed)
    frame, counts = transactions_frame(table)
    result = segment_customers(frame, seg_options)
    model = result.model
    assert model is not None
    model.params = {
        "monetary": seg_options.monetary,
        "k": "auto" if seg_options.k is None else seg_options.k,
        "clusters": seg_options.clusters,
        "k_range": [seg_options.k_min, seg_options.k_max],
        "clv": model.bgnbd is not None,
        "horizon": seg_options.horizon,
        "discount": seg_options.discount,
        "as_of": result.summary["as_of"],
        "segment_map": seg_options.segment_map.get("name", "custom")
        if seg_options.segment_map
        else "default",
    }
    # Flat numbers first (what train/models tables show), details in nested entries.
    metrics: dict[str, Any] = {"customers": result.summary["customers"]}
    if model.clusters is not None:
        metrics["k"] = model.clusters.k
        metrics["silhouette"] = silhouette(result.customers, model.clusters, model.seed)
        metrics["silhouette_by_k"] = {str(k): v for k, v in model.clusters.silhouette.items()}
    metrics["segments"] = {s["segment"]: s["customers"] for s in result.summary["segments"]}
    metrics["excluded"] = result.summary["excluded"]
    metrics["input"] = counts
    if model.bgnbd is not None:
        metrics["clv"] = {
            k: result.summary["clv"][k] for k in ("r", "alpha", "a", "b", "p", "q", "v")
        }
        add_holdout(metrics, frame, seg_options.horizon, None, model.monetary)
    model.metrics = metrics
    model.warnings = list(result.warnings)
    model.input_schema = {
        "kind": "transactions",
        "roles": {k: v for k, v in table.roles.items()},
        "columns": {c: str(t) for c, t in table.frame.dtypes.items()},
    }
    return model


def options_from_params(params: dict[str, Any], *, seed: int = 0) -> SegmentOptions:
    """SegmentOptions from the parsed family options of `mktai train segments` (SPEC.parse_options:
    every option present, the defaults are the SPEC's)."""
    from mktai.tasks.segment.rfm_scores import load_segment_map

    k, clusters = parse_k(params["k"])
    opts = SegmentOptions(
        as_of=parse_as_of(params["as_of"]),
        monetary=params["monetary"],
        clusters=clusters,
        k=k,
        k_max=params["k_max"],
        clv=params["clv"],
        horizon=params["horizon"],
        discount=params["discount"],
        seed=seed,
        segment_map=load_segment_map(params["segment_map"]),
    )
    opts.validate()
    return opts


def parse_k(value: Any) -> tuple[int | None, bool]:
    """'auto' -> (None, True); 'off'/'none'/'0' -> (None, False); '5' -> (5, True)."""
    from mktai.errors import UsageError

    text = str(value).strip().lower()
    if text in ("auto", ""):
        return None, True
    if text in ("off", "none", "0", "no"):
        return None, False
    try:
        k = int(text)
    except ValueError:
        raise UsageError(
            f"--k must be 'auto', 'off' or a number of clusters, not {value!r}"
        ) from None
    if k < 1:
        raise UsageError(f"--k must be at least 1, not {k}")
    return k, True
