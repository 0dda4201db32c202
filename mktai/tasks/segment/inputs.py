"""What fitting and applying a segmentation both read from the per-customer table.

The cluster matrix (R, F, M plus joined customer features) and the CLV inputs (x, t_x, T and the
repeat spend of every customer with a purchase event) must be built the same way when a model is
fitted and when it is applied, so they are built here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment.clusters import ClusterModel

RFM_FEATURES = ("recency", "frequency", "monetary")


def cluster_inputs(
    cust: pd.DataFrame, features: Any, cluster_model: ClusterModel | None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(raw matrix, feature names, rows with every feature) to cluster on.

    features: None or a DataFrame of customer + numeric columns. With a fitted cluster_model the
    columns it was fitted on are taken (in its order); a missing one is an InputError.
    """
    import numpy as np

    from mktai.errors import InputError

    names = list(RFM_FEATURES)
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


def missing_features_warning(count: int, feature_names: list[str]) -> str:
    return (
        f"{count} customer(s) have no numeric value for a --features column "
        f"({', '.join(feature_names[len(RFM_FEATURES) :])}) and get no cluster; RFM and CLV "
        "still apply"
    )


@dataclass
class ClvInputs:
    """lifetimes' inputs for the customers with a purchase event (counted)."""

    counted: np.ndarray  # bool per customer
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    spend_mean: np.ndarray  # mean spend of the repeat days


def clv_inputs(cust: pd.DataFrame) -> ClvInputs:
    counted = (cust["event_days"] > 0).to_numpy()
    sub = cust.loc[counted]
    return ClvInputs(
        counted=counted,
        x=sub["x"].to_numpy(dtype="float64"),
        t_x=sub["t_x"].to_numpy(dtype="float64"),
        T=sub["T"].to_numpy(dtype="float64"),
        spend_mean=sub["repeat_spend"].to_numpy(dtype="float64"),
    )
