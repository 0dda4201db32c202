"""The stored state of a segmentation (SegmentModel) and how it is saved and read back.

A model keeps the quintile edges, the segment map, the cluster scaler and centroids and the
BG/NBD + Gamma-Gamma parameters, as model.json + clusters.npz (no pickle), so next month's data
is scored on the same scale and segment migrations mean something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.files import plain as finite  # JSON-safe copy: NaN/inf -> None, NumPy -> Python

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable
    from mktai.tasks.segment.clusters import ClusterModel
    from mktai.tasks.segment.clv import BGNBD, GammaGamma
    from mktai.tasks.segment.fit import FitNotes
    from mktai.tasks.segment.run import SegmentResult

FORMAT_VERSION = 1


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
    # what fitting on the training data found (fit.fit_model); None for a stored model
    fit_notes: FitNotes | None = field(default=None, repr=False, compare=False)

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
        summary: Any = None,
    ) -> SegmentResult:
        """Score new transactions with the stored edges, centroids and CLV parameters.

        summary: the lines already reduced per customer (rfm.summarise's output), frame unused."""
        from mktai.errors import UsageError
        from mktai.tasks.segment.apply import apply_model
        from mktai.tasks.segment.run import check_clv_options, customer_table

        check_clv_options(horizon, discount)
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
        customers = customer_table(frame, as_of=as_of, monetary=self.monetary, summary=summary)
        return apply_model(self, customers, clv=want_clv, horizon=horizon, discount=discount,
                           features=features)  # fmt: skip

    # -- family protocol --------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """model.json (edges, map, names, parameters) + clusters.npz (scaler and centroids)."""
        import numpy as np

        from mktai.store.formats import write_json, write_npz

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
            write_npz(directory / "clusters.npz", {
                "mean": np.asarray(c.mean, dtype="float64"),
                "scale": np.asarray(c.scale, dtype="float64"),
                "centroids": np.asarray(c.centroids, dtype="float64"),
            }, compress=False)  # fmt: skip
        write_json(directory / "model.json", finite(payload))

    def manifest_fields(self) -> dict[str, Any]:
        return finite(
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
        from mktai.tasks.segment.checks import add_holdout, silhouette
        from mktai.tasks.segment.run import transactions_frame

        frame, counts = transactions_frame(table)
        result = self.apply(frame, clv=False)
        metrics: dict[str, Any] = {
            "customers": result.summary["customers"],
            "segments": {s["segment"]: s["customers"] for s in result.summary["segments"]},
            "input": counts,
        }
        if self.clusters is not None:
            metrics["silhouette"] = silhouette(result.customers, self.clusters, self.seed)
        if self.bgnbd is not None:
            add_holdout(metrics, frame, self.horizon, self.bgnbd, self.monetary, section=None)
        return finite(metrics)


def load_model(directory: Path, manifest: dict[str, Any] | None = None) -> SegmentModel:
    """Read a stored segments model (JSON + .npz, no pickle)."""
    from mktai.errors import StoreError
    from mktai.store.formats import read_json

    payload = read_json(Path(directory) / "model.json")
    if not isinstance(payload, dict):
        raise StoreError(f"{directory}: model.json is not a segments model (not an object)")
    if payload.get("format") != FORMAT_VERSION:
        raise StoreError(
            f"{directory}: segments model format {payload.get('format')!r} is not supported "
            f"by this mktai (expects {FORMAT_VERSION}); retrain it"
        )
    # An imported archive is checksummed but not trusted to be well-formed: a malformed
    # model.json must be one clear store error, not a traceback.
    from zipfile import BadZipFile

    from mktai.errors import InputError

    try:
        return _parse(Path(directory), payload, manifest or {})
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        OSError,
        BadZipFile,
        InputError,
    ) as exc:
        raise StoreError(
            f"{directory}: model.json is not a valid segments model ({type(exc).__name__}: "
            f"{exc}); retrain it or import a good export"
        ) from None


def _parse(directory: Path, payload: dict[str, Any], manifest: dict[str, Any]) -> SegmentModel:
    from mktai.store.formats import read_npz
    from mktai.tasks.segment.clusters import ClusterModel
    from mktai.tasks.segment.clv import BGNBD, GammaGamma
    from mktai.tasks.segment.rfm_scores import validate_segment_map

    validate_segment_map(payload["segment_map"], "stored segment map")
    edges = {
        k: [float(e) for e in payload["edges"][k]] for k in ("recency", "frequency", "monetary")
    }
    if any(len(v) != 4 for v in edges.values()):
        raise ValueError("each of recency, frequency and monetary needs 4 quintile edges")
    clusters = None
    if payload.get("clusters"):
        info = payload["clusters"]
        arrays = read_npz(Path(directory) / "clusters.npz", ("mean", "scale", "centroids"))
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

    return SegmentModel(
        monetary=payload["monetary"],
        edges=edges,
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
