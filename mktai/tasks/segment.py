"""The segments family: RFM scores and named segments, k-means clusters, BG/NBD + Gamma-Gamma CLV.

Library entry points (the CLI is a thin shell over them):

    frame, counts = transactions_frame(table)          # CleanTable -> standard columns
    result = segment_customers(frame, SegmentOptions(...))   # fit everything on this data
    result = model.apply(frame, as_of=..., clv=True)        # stored edges/centroids/CLV params
    migration_matrix(previous, current)                     # from-segment x to-segment counts

and the family protocol for `mktai train segments`: fit(table, kind, options) -> SegmentModel,
load_model(directory, manifest). A stored model keeps the quintile edges, the segment map, the
cluster scaler and centroids and the CLV parameters, so next month's run is scored on the same
scale as this month's and segment migrations mean something.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.tasks.rfm import MONETARY_MODES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mktai.data.table import CleanTable
    from mktai.tasks.base import TrainOptions
    from mktai.tasks.clusters import ClusterModel
    from mktai.tasks.clv import BGNBD, GammaGamma

FORMAT_VERSION = 1
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
        if self.horizon < 1:
            raise UsageError(f"--horizon must be a positive number of days, not {self.horizon}")
        if not 0 <= self.discount < 10:
            raise UsageError(f"--discount is an annual rate such as 0.1, not {self.discount}")


@dataclass
class SegmentResult:
    """Per-customer output, the JSON-able summary and the warnings to show the user."""

    customers: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    model: SegmentModel | None = None


# --------------------------------------------------------------------------- input


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
        }
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


# --------------------------------------------------------------------------- the model


@dataclass
class SegmentModel:
    """Stored state of a segmentation: edges, segment map, clusters and CLV parameters."""

    monetary: str
    edges: dict[str, list[float]]
    segment_map: dict[str, Any]
    clusters: ClusterModel | None = None
    bgnbd: BGNBD | None = None
    gamma_gamma: GammaGamma | None = None
    horizon: int = 90
    discount: float = 0.0
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    input_schema: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kind: str = "segments"

    @property
    def algorithm(self) -> str:
        parts = ["rfm"]
        if self.clusters is not None:
            parts.append("kmeans")
        if self.bgnbd is not None:
            parts.append("bgnbd")
        if self.gamma_gamma is not None:
            parts.append("gammagamma")
        return "+".join(parts)

    # -- applying ---------------------------------------------------------------------------

    def apply(
        self,
        frame: pd.DataFrame,
        *,
        as_of: Any = None,
        clv: bool | None = None,
        horizon: int | None = None,
        discount: float | None = None,
        features: Any = None,
    ) -> SegmentResult:
        """Score new transactions with the stored edges, centroids and CLV parameters."""
        from mktai.errors import UsageError

        want_clv = self.bgnbd is not None if clv is None else clv
        if want_clv and self.bgnbd is None:
            raise UsageError(
                "this segments model was trained without CLV parameters; retrain it with "
                "--clv true or run without --clv"
            )
        if self.clusters is not None:
            extra = [
                f for f in self.clusters.features if f not in ("recency", "frequency", "monetary")
            ]
            if extra and features is None:
                raise UsageError(
                    f"this model clusters on customer features {extra}; pass the same "
                    "--customers file with --features"
                )
        return _run(
            frame,
            monetary=self.monetary,
            as_of=as_of,
            segment_map=self.segment_map,
            edges=self.edges,
            cluster_model=self.clusters,
            fit_clusters=False,
            bgnbd=self.bgnbd if want_clv else None,
            gamma_gamma=self.gamma_gamma if want_clv else None,
            fit_clv=False,
            horizon=horizon or self.horizon,
            discount=self.discount if discount is None else discount,
            features=features,
            model=self,
        )

    # -- family protocol --------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """model.json (edges, map, names, parameters) + clusters.npz (scaler and centroids)."""
        import numpy as np

        payload: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "monetary": self.monetary,
            "edges": self.edges,
            "segment_map": self.segment_map,
            "horizon": self.horizon,
            "discount": self.discount,
            "seed": self.seed,
            "clusters": None,
            "bgnbd": self.bgnbd.to_dict() if self.bgnbd else None,
            "gamma_gamma": self.gamma_gamma.to_dict() if self.gamma_gamma else None,
        }
        if self.clusters is not None:
            c = self.clusters
            payload["clusters"] = {
                "features": c.features,
                "names": c.names,
                "silhouette": {str(k): v for k, v in c.silhouette.items()},
                "chosen_silhouette": c.chosen_silhouette,
            }
            np.savez(
                directory / "clusters.npz",
                mean=np.asarray(c.mean, dtype="float64"),
                scale=np.asarray(c.scale, dtype="float64"),
                centroids=np.asarray(c.centroids, dtype="float64"),
            )
        (directory / "model.json").write_text(
            json.dumps(_finite(payload), indent=2, ensure_ascii=False), encoding="utf-8"
        )

    def manifest_fields(self) -> dict[str, Any]:
        return _finite(
            {
                "algorithm": self.algorithm,
                "params": self.params,
                "metrics": self.metrics,
                "input_schema": self.input_schema,
                "seed": self.seed,
                "warnings": self.warnings,
            }
        )

    def evaluate(self, table: CleanTable) -> dict[str, Any]:
        """Segment sizes, silhouette of the stored centroids and CLV holdout calibration."""
        frame, counts = transactions_frame(table)
        result = self.apply(frame, clv=False)
        metrics: dict[str, Any] = {
            "customers": result.summary["customers"],
            "segments": {s["segment"]: s["customers"] for s in result.summary["segments"]},
            "input": counts,
        }
        if self.clusters is not None:
            metrics["silhouette"] = _silhouette(result.customers, self.clusters, self.seed)
        if self.bgnbd is not None:
            _add_holdout(metrics, frame, self.horizon, self.bgnbd, self.monetary, section=None)
        return _finite(metrics)


def load_model(directory: Path, manifest: dict[str, Any] | None = None) -> SegmentModel:
    """Read a stored segments model (JSON + .npz, no pickle)."""
    import numpy as np

    from mktai.errors import StoreError
    from mktai.tasks.clusters import ClusterModel
    from mktai.tasks.clv import BGNBD, GammaGamma

    try:
        payload = json.loads((Path(directory) / "model.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{directory}: cannot read the segments model ({exc})") from None
    if payload.get("format") != FORMAT_VERSION:
        raise StoreError(
            f"{directory}: segments model format {payload.get('format')!r} is not supported "
            f"by this mktai (expects {FORMAT_VERSION}); retrain it"
        )
    clusters = None
    if payload.get("clusters"):
        info = payload["clusters"]
        with np.load(Path(directory) / "clusters.npz", allow_pickle=False) as arrays:
            clusters = ClusterModel(
                features=list(info["features"]),
                mean=arrays["mean"],
                scale=arrays["scale"],
                centroids=arrays["centroids"],
                names=list(info["names"]),
                silhouette={int(k): float(v) for k, v in info.get("silhouette", {}).items()},
                chosen_silhouette=info.get("chosen_silhouette"),
            )

    def params(data: dict | None, names: tuple[str, ...], cls: Any) -> Any:
        if not data:
            return None
        return cls(*(float(data[n]) for n in names), n=int(data.get("n", 0)))

    manifest = manifest or {}
    return SegmentModel(
        monetary=payload["monetary"],
        edges={k: [float(e) for e in v] for k, v in payload["edges"].items()},
        segment_map=payload["segment_map"],
        clusters=clusters,
        bgnbd=params(payload.get("bgnbd"), ("r", "alpha", "a", "b"), BGNBD),
        gamma_gamma=params(payload.get("gamma_gamma"), ("p", "q", "v"), GammaGamma),
        horizon=int(payload.get("horizon", 90)),
        discount=float(payload.get("discount", 0.0)),
        seed=int(payload.get("seed", 0)),
        params=manifest.get("params", {}),
        metrics=manifest.get("metrics", {}),
        input_schema=manifest.get("input_schema", {}),
    )


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
    seg_options = options_from_extra(options.extra, seed=options.seed, clv_default=True)
    frame, counts = transactions_frame(table)
    result = segment_customers(frame, seg_options, clv_required=False)
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
        metrics["silhouette"] = _silhouette(result.customers, model.clusters, model.seed)
        metrics["silhouette_by_k"] = {str(k): v for k, v in model.clusters.silhouette.items()}
    metrics["segments"] = {s["segment"]: s["customers"] for s in result.summary["segments"]}
    metrics["excluded"] = result.summary["excluded"]
    metrics["input"] = counts
    if model.bgnbd is not None:
        metrics["clv"] = {
            k: result.summary["clv"][k] for k in ("r", "alpha", "a", "b", "p", "q", "v")
        }
        _add_holdout(metrics, frame, seg_options.horizon, None, model.monetary)
    model.metrics = metrics
    model.warnings = list(result.warnings)
    model.input_schema = {
        "kind": "transactions",
        "roles": {k: v for k, v in table.roles.items()},
        "columns": {c: str(t) for c, t in table.frame.dtypes.items()},
    }
    return model


def options_from_extra(
    extra: dict[str, str], *, seed: int = 0, clv_default: bool = False
) -> SegmentOptions:
    """Parse the family flags of `mktai train segments` (--k auto --clv true --horizon 90 ...)."""
    import pandas as pd

    from mktai.errors import UsageError
    from mktai.tasks.rfm_scores import load_segment_map

    known = {"k", "k_max", "clv", "horizon", "discount", "as_of", "monetary", "segment_map"}
    normalised = {str(k).lstrip("-").replace("-", "_").lower(): v for k, v in extra.items()}
    unknown = sorted(set(normalised) - known)
    if unknown:
        raise UsageError(
            f"unknown option(s) for segments: {', '.join('--' + u.replace('_', '-') for u in unknown)};"
            f" segments take {', '.join('--' + k.replace('_', '-') for k in sorted(known))}"
        )
    opts = SegmentOptions(seed=seed, clv=clv_default)
    if "k" in normalised:
        opts.k, opts.clusters = parse_k(normalised["k"])
    if "k_max" in normalised:
        opts.k_max = _int(normalised["k_max"], "--k-max")
    if "clv" in normalised:
        opts.clv = _bool(normalised["clv"], "--clv")
    if "horizon" in normalised:
        opts.horizon = _int(normalised["horizon"], "--horizon")
    if "discount" in normalised:
        opts.discount = _float(normalised["discount"], "--discount")
    if "monetary" in normalised:
        opts.monetary = str(normalised["monetary"]).lower()
    if "as_of" in normalised:
        try:
            opts.as_of = pd.Timestamp(normalised["as_of"])
        except (ValueError, TypeError):
            raise UsageError(
                f"--as-of {normalised['as_of']!r} is not a date; use YYYY-MM-DD"
            ) from None
    opts.segment_map = load_segment_map(normalised.get("segment_map"))
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


def _int(value: Any, name: str) -> int:
    from mktai.errors import UsageError

    try:
        return int(str(value))
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {value!r}") from None


def _float(value: Any, name: str) -> float:
    from mktai.errors import UsageError

    try:
        return float(str(value))
    except ValueError:
        raise UsageError(f"{name} must be a number, not {value!r}") from None


def _bool(value: Any, name: str) -> bool:
    from mktai.errors import UsageError

    text = str(value).strip().lower()
    if text in ("", "true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"{name} must be true or false, not {value!r}")


# --------------------------------------------------------------------------- the run


def segment_customers(
    frame: pd.DataFrame, options: SegmentOptions, *, clv_required: bool = True
) -> SegmentResult:
    """Fit edges, clusters and (optionally) CLV on this data and score every customer.

    clv_required=False turns "CLV undefined" into a warning and a model without CLV parameters
    (training); otherwise the customers still get RFM and the CLV columns stay empty.
    """
    from mktai.tasks.rfm_scores import load_segment_map

    options.validate()
    return _run(
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
    )


def _run(
    frame: pd.DataFrame,
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
) -> SegmentResult:
    import numpy as np
    import pandas as pd

    from mktai.tasks import rfm
    from mktai.tasks.rfm_scores import (
        assign_segments,
        fm_score,
        quintile_edges,
        score,
    )

    warnings: list[str] = []
    cust, stats = rfm.summarise(frame, as_of=as_of, monetary=monetary)
    if stats.lines_after_as_of:
        warnings.append(
            f"{stats.lines_after_as_of:,} line(s) dated on or after --as-of {stats.as_of} are "
            "left out: the RFM snapshot is taken at the start of that day"
        )
    usable = (cust["excluded_reason"] == "").to_numpy()
    n_usable = int(usable.sum())
    if edges is None:
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
    if cluster_model is None and fit_clusters:
        from mktai.errors import InputError
        from mktai.tasks.clusters import choose_and_fit

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
        from mktai.tasks.clusters import profiles

        clusters_summary = {
            "k": cluster_model.k,
            "features": cluster_model.features,
            "chosen_by": "silhouette" if cluster_model.silhouette else "given",
            "silhouette_by_k": {str(c): s for c, s in cluster_model.silhouette.items()},
            "profiles": profiles(raw, cluster, cluster_model, cust["total"].to_numpy()),
        }
        names = np.array(cluster_model.names + [""], dtype=object)
        cust["cluster"] = pd.array(np.where(cluster >= 0, cluster, -1), dtype="Int64")
        cust.loc[cluster < 0, "cluster"] = pd.NA
        cust["cluster_name"] = names[cluster]  # -1 picks the trailing ""
    else:
        clusters_summary = {"skipped": "clustering off (--k off)" if not fit_clusters else ""}
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
            cust, usable, bgnbd, gamma_gamma, horizon=horizon, discount=discount, warnings=warnings
        )
        bgnbd = clv_summary.pop("_bgnbd", None)
        gamma_gamma = clv_summary.pop("_gg", None)

    if model is None:
        from mktai.tasks.rfm_scores import load_segment_map

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
) -> dict[str, Any]:
    """Fit (or reuse) BG/NBD + Gamma-Gamma and fill p_alive, expected_* columns."""
    import numpy as np

    from mktai.errors import InputError
    from mktai.tasks.clv import expected_value, fit_bgnbd, fit_gamma_gamma

    for column in CLV_COLUMNS:
        cust[column] = np.nan
    sub = cust.loc[usable]
    x = sub["x"].to_numpy(dtype="float64")
    t_x = sub["t_x"].to_numpy(dtype="float64")
    T = sub["T"].to_numpy(dtype="float64")
    n_days = sub["n_days"].to_numpy(dtype="float64")
    spend_mean = sub["total"].to_numpy(dtype="float64") / np.maximum(n_days, 1)
    summary: dict[str, Any] = {"horizon_days": horizon, "discount": discount, "time_unit": "days"}
    if bgnbd is None:
        try:
            if x.size < MIN_CLV_CUSTOMERS:
                raise InputError(
                    f"only {x.size} usable customer(s); fitting BG/NBD needs at least "
                    f"{MIN_CLV_CUSTOMERS}"
                )
            bgnbd = fit_bgnbd(x, t_x, T)
        except InputError as exc:
            warnings.append(f"CLV skipped: {exc}; RFM segments and clusters are still computed")
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
            gamma_gamma = fit_gamma_gamma(n_days, spend_mean)
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
    spend = (
        gamma_gamma.expected_spend(n_days, spend_mean) if gamma_gamma is not None else spend_mean
    )
    value = expected_value(
        bgnbd,
        gamma_gamma,
        horizon=float(horizon),
        x=x,
        t_x=t_x,
        T=T,
        spend_n=n_days,
        spend_mean=spend_mean,
        discount=discount,
    )
    cust.loc[usable, "p_alive"] = p_alive
    cust.loc[usable, "expected_purchases"] = purchases
    cust.loc[usable, "expected_spend"] = spend
    cust.loc[usable, "expected_value"] = value
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
            "customers": int(usable.sum()),
            "repeat_customers": int(repeat.sum()),
            "expected_purchases_total": float(purchases.sum()),
            "expected_value_total": float(value.sum()),
            "mean_p_alive": float(p_alive.mean()) if p_alive.size else None,
            "spend_frequency_correlation": spend_corr,
            "_bgnbd": bgnbd,
            "_gg": gamma_gamma,
        }
    )
    return summary


def _summary(
    cust: pd.DataFrame,
    stats: Any,
    edges: dict[str, list[float]],
    segment_map: dict[str, Any],
    monetary: str,
    excluded: dict[str, int],
    clusters_summary: dict[str, Any],
) -> dict[str, Any]:
    from mktai.tasks.rfm_scores import segment_order

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
                "revenue_share": float(row["revenue"]) / total_revenue if total_revenue else 0.0,
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


# --------------------------------------------------------------------------- extras


def _silhouette(customers: pd.DataFrame, clusters: ClusterModel, seed: int) -> float | None:
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


def _add_holdout(
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
    from mktai.tasks import rfm
    from mktai.tasks.clv import fit_bgnbd

    end = rfm.default_as_of(frame["date"])
    cutoff = end - pd.Timedelta(days=horizon)
    calibration = frame.loc[frame["date"] < cutoff]
    if calibration.empty:
        raise InputError(
            f"the data spans less than the {horizon}-day horizon: no calibration period for a "
            "CLV holdout check"
        )
    cal, _ = rfm.summarise(calibration, as_of=cutoff, monetary=monetary)
    cal = cal.loc[cal["excluded_reason"] == ""]
    if bgnbd is None:
        bgnbd = fit_bgnbd(cal["x"], cal["t_x"], cal["T"])
    hold = frame.loc[frame["date"] >= cutoff]
    hold_summary, _ = rfm.summarise(hold, as_of=end, monetary=monetary)
    actual = (
        hold_summary.set_index("customer")["n_days"].reindex(cal["customer"]).fillna(0).to_numpy()
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

    from mktai.tasks.rfm import customer_key

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


def _finite(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
