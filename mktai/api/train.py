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
    # auto: the candidates' CV scores and the one kept (manifest "selection")
    selection: dict[str, Any] | None = None
    # if_changed: what differs from the newest version of NAME (data, configuration, mktai)
    changes: list[str] = field(default_factory=list)


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
    cv: int | None = None,
    seed: int = 0,
    mapping: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    encoding: str | None = None,
    if_changed: bool = False,
    strict: bool = False,
    keep_duplicates: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> TrainResult:
    """Train KIND on DATA and save NAME@vN; nothing is written unless fitting succeeded.

    params: the family's options (`mktai train KIND --help` lists them), as strings or typed
    values, e.g. {"class_weight": "balanced", "n_factors": 150}. cv None: the family's default
    (supervised: 5 folds, 3 from 20,000 rows). if_changed skips the fit only when the data, the
    resolved configuration and the mktai version all match a stored version; otherwise
    `changes` says what differs from the newest version.
    """
    from mktai.api.changes import differences, resolved_config
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
    if cv is None and not hasattr(module, "default_folds"):
        cv = 5  # families without a size rule of their own keep the 5 folds they had
    _spark_for(algorithm, engine, spark_master)
    if algorithm in spec.deep_algorithms:
        from mktai.tasks.common.deep import keras

        keras()  # a missing TensorFlow is exit 4 now, not after reading and checking the data
    if algorithm == "als":  # read, cleaned and turned into events on Spark
        from mktai.tasks.recommend.als_spark import clean_for_als

        table = clean_for_als(kind, data, mapping=mapping, encoding=encoding, strict=strict,
                              keep_duplicates=keep_duplicates, master=spark_master)  # fmt: skip
    else:
        table = load_for(kind, data, mapping=mapping, target=target, encoding=encoding,
                         strict=strict, dedupe=False if keep_duplicates else None)  # fmt: skip
    saved = Store(root)
    sha = table.fingerprint.get("sha256")
    config = resolved_config(kind=kind, algorithm=algorithm, target=target, cv=cv, seed=seed,
                             mapping=mapping, params=parsed, extra=extra)  # fmt: skip
    config["keep_duplicates"] = bool(keep_duplicates)
    changes: list[str] = []
    if if_changed and sha:
        existing = saved.find_fingerprint(name, sha)
        if existing is not None and not differences(existing.manifest, sha, config):
            if hasattr(table, "close"):
                table.close()
            return TrainResult(status="unchanged", ref=existing.ref, name=name,
                               version=existing.version, kind=str(existing.kind),
                               training_data=dict(table.fingerprint))  # fmt: skip
        newest = existing if existing is not None else _newest(saved, name)
        if newest is not None:
            changes = differences(newest.manifest, sha, config)
    options = TrainOptions(seed=seed, algorithm=algorithm, target=target, cv=cv,
                           extra=extra, params=parsed, progress=progress)  # fmt: skip
    try:
        model = module.fit(table, kind, options)
        fields = dict(model.manifest_fields())
        fields.setdefault("algorithm", getattr(model, "algorithm", algorithm))
        fields.update(
            seed=seed,
            training_data=dict(table.fingerprint),
            cleaning=cleaning_summary(table),
            options={"cv": cv, **extra},
            config=config,
        )
        version = saved.save(name, kind, model.save, fields)
    finally:
        if hasattr(table, "close"):
            table.close()  # the cached Spark frames of an als run
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
        selection=fields.get("selection"),
        changes=changes,
    )


def _newest(store: Any, name: str) -> Any:
    """The newest readable version of NAME, or None (none yet, or unreadable)."""
    from mktai.errors import MktaiError

    try:
        return store.load(name) if store.versions(name) else None
    except MktaiError:
        return None


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
