"""`train`: fit a model family on a data file and store it as a new version NAME@vN.

Reads the data through the cleaning layer the way the kind expects, skips the fit when
if_changed and an existing version was trained on identical data, parses the family options
against the family's declared parameters, fits, and saves the version atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import Result, store_root

if TYPE_CHECKING:
    from collections.abc import Callable

    from mktai.data.table import CleanTable


@dataclass
class TrainResult(Result):
    """status is "trained" or "unchanged" (if_changed found a version trained on this data)."""

    status: str
    ref: str
    name: str
    version: int
    kind: str
    algorithm: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    rows_rejected: int = 0
    path: str | None = None


def cleaning_summary(table: CleanTable) -> dict[str, Any]:
    """What the manifest records of the cleaning (counts, reasons)."""
    report = table.report or {}
    keys = ("rows_in", "rows_out", "rows_rejected", "rejected_by_reason", "duplicates_removed")
    return {k: report[k] for k in keys if k in report}


def train(
    kind: str,
    data: Path | str,
    *,
    name: str,
    store: Path | str | None = None,
    target: str | None = None,
    algorithm: str | None = None,
    cv: int = 5,
    seed: int = 0,
    mapping: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    encoding: str | None = None,
    if_changed: bool = False,
    strict: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> TrainResult:
    """Train KIND on DATA and save NAME@vN; nothing is written unless fitting succeeded.

    params: the family's options (`mktai train KIND --help` lists them), as strings or typed
    values, e.g. {"class_weight": "balanced", "n_factors": 150}.
    """
    from mktai.store import Store, check_name
    from mktai.tasks import family, spec_for
    from mktai.tasks.base import TrainOptions
    from mktai.tasks.stored import load_for

    check_name(name)
    root = store_root(store)
    module = family(kind)
    spec = spec_for(kind)
    extra = {str(k): v if isinstance(v, str) else _text(v) for k, v in (params or {}).items()}
    # options are checked before the (possibly large) data is read
    algorithm = spec.check_algorithm(algorithm)
    parsed = spec.parse_options(extra, algorithm)
    _spark_for(algorithm, engine, spark_master)
    table = load_for(kind, data, mapping=mapping, target=target,
                     encoding=encoding, strict=strict)  # fmt: skip
    saved = Store(root)
    sha = table.fingerprint.get("sha256")
    if if_changed and sha:
        existing = saved.find_fingerprint(name, sha)
        if existing is not None:
            return TrainResult(status="unchanged", ref=existing.ref, name=name,
                               version=existing.version, kind=str(existing.kind),
                               training_data=dict(table.fingerprint))  # fmt: skip
    options = TrainOptions(seed=seed, algorithm=algorithm, target=target, cv=cv,
                           extra=extra, params=parsed, progress=progress)  # fmt: skip
    model = module.fit(table, kind, options)
    fields = dict(model.manifest_fields())
    fields.setdefault("algorithm", getattr(model, "algorithm", algorithm))
    fields.update(
        seed=seed,
        training_data=dict(table.fingerprint),
        cleaning=cleaning_summary(table),
        options={"cv": cv, **extra},
    )
    version = saved.save(name, kind, model.save, fields)
    return TrainResult(
        status="trained",
        ref=version.ref,
        name=name,
        version=version.version,
        kind=kind,
        algorithm=fields.get("algorithm"),
        metrics=fields.get("metrics", {}),
        training_data=dict(table.fingerprint),
        rows_rejected=int(len(table.rejects)),
        path=str(version.path),
        warnings=list(fields.get("warnings", [])),
    )


def _spark_for(algorithm: str | None, engine: str | None, master: str | None) -> None:
    """ALS trains on Spark: start the session (--spark-master) before the data is read; other
    algorithms run locally, so an explicit --engine spark with them is a usage error."""
    from mktai.errors import UsageError

    if algorithm == "als":
        from mktai.engines.spark_session import get_session

        get_session(master)
    elif engine is not None and engine.strip().lower() == "spark":
        raise UsageError(
            f"--engine spark trains --algorithm als; {algorithm or 'the default algorithm'} "
            "runs on the local engine (drop --engine spark)"
        )
    elif master:
        raise UsageError("--spark-master is for --algorithm als")


def _text(value: Any) -> str:
    """A typed option value as the command line would give it (lists comma-separated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)
