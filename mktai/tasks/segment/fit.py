"""Fitting a segmentation: quintile edges, k-means clusters and CLV parameters from customers.

fit_model() reads the per-customer table (rfm.summarise's output) and returns a SegmentModel;
apply.apply_model() then scores customers with it. What fitting found out on the way (too few
customers, clustering or CLV skipped, how k was chosen) is kept in FitNotes on the model, so the
run that fitted can report it; a stored model has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment.clusters import ClusterModel
    from mktai.tasks.segment.clv import BGNBD, GammaGamma
    from mktai.tasks.segment.model import SegmentModel
    from mktai.tasks.segment.run import SegmentOptions

MIN_CLV_CUSTOMERS = 10
MIN_EDGE_CUSTOMERS = 5  # fewer customers than quintiles: the edges say nothing
CLV_FIT_SAMPLE = 200_000


@dataclass
class FitNotes:
    """What fitting on this data found; warnings by stage, in the order a run reports them."""

    edges: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    clv: list[str] = field(default_factory=list)
    cluster_choice: str = ""  # "silhouette", "too few profiles to compare" or "given"
    clusters_skipped: str = ""  # why the model has no clusters ("" when it has)
    clv_skipped: str = ""  # why the model has no CLV parameters although asked for
    clv_fitted_on: int | None = None  # customers the BG/NBD parameters were fitted on


def fit_model(customers: tuple[pd.DataFrame, Any], options: SegmentOptions) -> SegmentModel:
    """Edges, clusters (options.clusters) and CLV parameters (options.clv) fitted on CUSTOMERS.

    customers: (per-customer frame, LineStats) as rfm.summarise returns them.
    """
    from mktai.tasks.segment.model import SegmentModel
    from mktai.tasks.segment.rfm_scores import load_segment_map

    options.validate()
    cust = customers[0]
    usable = (cust["excluded_reason"] == "").to_numpy()
    notes = FitNotes()
    edges = _edges(cust, usable, notes)
    clusters = _clusters(cust, usable, options, notes)
    bgnbd, gamma_gamma = _clv(cust, options.seed, notes) if options.clv else (None, None)
    model = SegmentModel(
        monetary=options.monetary,
        edges=edges,
        segment_map=options.segment_map or load_segment_map(),
        clusters=clusters,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        horizon=options.horizon,
        discount=options.discount,
        seed=options.seed,
    )
    model.fit_notes = notes
    return model


def _edges(cust: pd.DataFrame, usable: np.ndarray, notes: FitNotes) -> dict[str, list[float]]:
    """Quintile edges of recency, frequency and monetary over the usable customers."""
    from mktai.tasks.segment.rfm_scores import quintile_edges

    n_usable = int(usable.sum())
    if n_usable < MIN_EDGE_CUSTOMERS:
        notes.edges.append(
            f"only {n_usable} usable customer(s): quintile edges from so few customers make "
            "the 1-5 scores and segments arbitrary; score small files with a stored model "
            "(`mktai train segments` on the full history, then --model)"
        )
    basis = cust.loc[usable] if n_usable else cust
    return {name: quintile_edges(basis[name].to_numpy()) for name in ("recency", "frequency", "monetary")}  # fmt: skip


def _clusters(
    cust: pd.DataFrame, usable: np.ndarray, options: SegmentOptions, notes: FitNotes
) -> ClusterModel | None:
    """k-means on the usable customers with every feature (None: off, or too few to cluster)."""
    from mktai.errors import InputError
    from mktai.tasks.segment.clusters import choose_and_fit
    from mktai.tasks.segment.inputs import cluster_inputs, missing_features_warning

    if not options.clusters:
        notes.clusters_skipped = "clustering off (--k off)"
        return None
    raw, names, feature_ok = cluster_inputs(cust, options.features, None)
    rows = usable & feature_ok
    try:
        model = choose_and_fit(
            raw[rows], names, k=options.k, seed=options.seed, k_range=(options.k_min, options.k_max)
        )
    except InputError as exc:
        no_features = int((usable & ~feature_ok).sum())
        if no_features:  # applying reports it when there are clusters
            notes.clusters.append(missing_features_warning(no_features, names))
        notes.clusters.append(f"clustering skipped: {exc}")
        notes.clusters_skipped = str(exc)
        return None
    if options.k is None:
        notes.cluster_choice = "silhouette" if model.silhouette else "too few profiles to compare"
    else:
        notes.cluster_choice = "given"
    return model


def _clv(cust: pd.DataFrame, seed: int, notes: FitNotes) -> tuple[BGNBD | None, GammaGamma | None]:
    """BG/NBD + Gamma-Gamma fitted with lifetimes' conventions (see apply._clv).

    With more than CLV_FIT_SAMPLE customers the parameters are fitted on a seeded sample of that
    size (their standard errors are already tiny) and applied to everyone."""
    from mktai.errors import InputError
    from mktai.tasks.segment.clv import fit_bgnbd, fit_gamma_gamma
    from mktai.tasks.segment.inputs import clv_inputs

    data = clv_inputs(cust)
    x, t_x, T = data.x, data.t_x, data.T
    rows = _fit_rows(x.size, seed)
    try:
        if x.size < MIN_CLV_CUSTOMERS:
            raise InputError(
                f"only {x.size} usable customer(s); fitting BG/NBD needs at least "
                f"{MIN_CLV_CUSTOMERS}"
            )
        bgnbd = fit_bgnbd(x[rows], t_x[rows], T[rows])
    except InputError as exc:
        notes.clv.append(f"CLV skipped: {exc}; the RFM columns are still computed")
        notes.clv_skipped = str(exc)
        return None, None
    notes.clv_fitted_on = min(int(x.size), CLV_FIT_SAMPLE)
    if not bgnbd.converged:
        notes.clv.append("BG/NBD fit did not fully converge; treat CLV figures with care")
    dropout = bgnbd.a / (bgnbd.a + bgnbd.b)
    if dropout < 1e-3:
        notes.clv.append(
            f"BG/NBD: mean dropout probability per purchase a/(a+b) = {dropout:.1e}; the "
            "data show almost no churn, so P(alive) is close to 1 for everyone"
        )
    try:
        gamma_gamma = fit_gamma_gamma(x[rows], data.spend_mean[rows])
    except InputError as exc:
        notes.clv.append(f"{exc}; expected value uses each customer's own mean spend")
        return bgnbd, None
    if gamma_gamma.q <= 1:
        notes.clv.append(
            f"Gamma-Gamma q = {gamma_gamma.q:.3f} <= 1: the population mean spend is "
            "infinite; expected spend leans entirely on each customer's own mean"
        )
    return bgnbd, gamma_gamma


def _fit_rows(n: int, seed: int) -> Any:
    """All rows, or a sorted seeded sample of CLV_FIT_SAMPLE of them."""
    import numpy as np

    if n <= CLV_FIT_SAMPLE:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n, CLV_FIT_SAMPLE, replace=False))
