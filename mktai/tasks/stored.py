"""Shared by train, predict and evaluate: read data the way a model kind expects, load a version.

Each command used to carry its own copy (evaluate imported them from the predict and train CLI
modules); here they are library functions a user can call too. Dependencies stay one way:
tasks -> data, store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mktai.data.table import CleanTable
    from mktai.store import Version


def dataset_kind(
    kind: str,
    data: Any = None,
    *,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
) -> str:
    """The cleaning layer's dataset kind a model kind reads (from its family's spec).

    A family that reads more than one kind (recommend: a ratings file or a transactions
    export) declares `chooses_dataset_kind` and decides from the file's header.
    """
    from mktai.tasks import spec_for

    spec = spec_for(kind)
    if spec.chooses_dataset_kind and data is not None:
        chosen = spec.implementation().dataset_kind_for(data, mapping=mapping, encoding=encoding)
        if chosen:
            return chosen
    return spec.dataset_kind


def load_for(
    kind: str,
    data: Path | str | list,
    *,
    mapping: dict[str, str] | None = None,
    target: str | None = None,
    target_from: str = "--target",
    encoding: str | None = None,
    strict: bool = False,
    unlabelled: bool = False,
    dedupe: bool | None = None,
    keep_raw: bool = False,
    plans: Any = None,
) -> CleanTable:
    """Read data through the cleaning layer with the dataset kind the model kind expects.

    target: the target column, named by `target_from` in errors ("--target", or "the model's
    target" when evaluate takes it from the manifest) rather than as a --map the user never
    wrote. unlabelled: rows to score have no target, so a labelled kind is read as a plain table.
    dedupe: None (default) drops exact duplicate lines only from transaction logs, where a
    repeated line is a double-recorded event; elsewhere a repeated row is a real observation
    (two customers alike, the same short review twice) and counts in training and metrics.
    False keeps every row (scoring owes every input row a score). plans: a header -> plan
    cache passed to the cleaning layer (a server reusing the types decided for a header).
    """
    from mktai.data import load_table
    from mktai.errors import ColumnNotFound, InputError

    mapping = dict(mapping or {})
    if target:
        mapping["target"] = target
    data_kind = dataset_kind(kind, data, mapping=mapping, encoding=encoding)
    if unlabelled and data_kind == "labelled":
        data_kind = "table"
    if dedupe is None:
        dedupe = data_kind == "transactions"
    try:
        table = load_table(
            data,
            kind=data_kind,
            mapping=mapping,
            encoding=encoding,
            dedupe=dedupe,
            keep_raw=keep_raw,
            plans=plans,
        )
    except ColumnNotFound as exc:
        if target is None or exc.role != "target":
            raise
        source = data if isinstance(data, (str, Path)) else ", ".join(map(str, data))
        raise InputError(
            f"{source}: no target column {target!r} ({target_from}); no column "
            f"{exc.column!r} (columns: {', '.join(exc.columns[:25])})"
        ) from None
    table.check_strict(strict)
    return table


def load_stored(store_root: Path, ref: str) -> tuple[Version, Any, Any]:
    """(Version, family module, fitted model) for a model reference; sha256 verified."""
    from mktai.errors import IntegrityError
    from mktai.store import Store
    from mktai.tasks import family

    version = Store(store_root).load(ref)
    kind = version.kind
    if not kind:
        raise IntegrityError(f"{version.ref}: manifest has no kind; the version is damaged")
    module = family(kind)
    model = load_checked(module, version)
    return version, module, model


def load_checked(module: Any, version: Version) -> Any:
    """module.load_model, with a model file that lacks a field or has one of the wrong type
    (the files are hashed, but an imported archive is only as sound as its writer) reported
    as a damaged version (exit 3) instead of an internal error."""
    from mktai.errors import IntegrityError

    try:
        return module.load_model(version.path, version.manifest)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise IntegrityError(
            f"model {version.ref} is damaged: its model files do not have the shape this mktai "
            f"writes ({type(exc).__name__}: {detail}); retrain it or re-import a sound export"
        ) from None
