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

# Which dataset kind (cleaning rules, role detection) each model kind reads; a family module
# may override it with a DATASET_KIND attribute, or choose per file with
# `dataset_kind_for(data, mapping=..., encoding=...) -> str | None` (recommend: a ratings file
# or a transactions export).
DATASET_KINDS = {
    "propensity": "labelled",
    "demand": "labelled",
    "segments": "transactions",
    "sentiment": "reviews",
    "recommender": "ratings",
    "forecast": "sales",
}


def dataset_kind(kind: str, module: Any = None) -> str | None:
    """The cleaning layer's dataset kind for a model kind."""
    from mktai.tasks import spec_for

    spec = spec_for(kind)
    if spec is not None:
        return spec.dataset_kind
    declared = getattr(module, "DATASET_KIND", None) if module is not None else None
    return declared if isinstance(declared, str) else DATASET_KINDS.get(kind)


def load_for(
    kind: str,
    data: Path | str | list,
    *,
    module: Any = None,
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
    from mktai.errors import InputError, UsageError

    mapping = dict(mapping or {})
    if target:
        mapping["target"] = target
    data_kind = dataset_kind(kind, module)
    chooser = getattr(module, "dataset_kind_for", None)
    if callable(chooser):  # a family reading more than one kind (ratings or transactions)
        data_kind = chooser(data, mapping=mapping, encoding=encoding) or data_kind
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
    except UsageError as exc:
        prefix = f"--map target={target}: "
        if target is None or not str(exc).startswith(prefix):
            raise
        source = data if isinstance(data, (str, Path)) else ", ".join(map(str, data))
        raise InputError(
            f"{source}: no target column {target!r} ({target_from}); {str(exc)[len(prefix) :]}"
        ) from None
    if strict and len(table.rejects):
        first = table.rejects.iloc[0]
        raise InputError(
            f"{first['source']} row {first['row']}: {first['reason']} "
            f"({len(table.rejects)} row(s) rejected; --strict refuses any reject)"
        )
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
    model = module.load_model(version.path, version.manifest)
    return version, module, model
