"""The registry: model kind -> family. The only table of kinds.

A family is a package mktai/tasks/<family>/ whose light __init__.py declares `SPEC` (a
FamilySpec: kinds, dataset kind, applying command, typed parameters; see tasks/spec.py) and
whose `SPEC.module` implements fit / load_model (tasks/base.py). Importing this package, or a
spec, imports no model code. Adding a family is one package and one line in FAMILIES.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mktai.tasks.spec import FamilySpec

# family name -> package
FAMILIES: dict[str, str] = {
    "supervised": "mktai.tasks.supervised",
    "segment": "mktai.tasks.segment",
    "sentiment": "mktai.tasks.sentiment",
    "recommend": "mktai.tasks.recommend",
    "forecast": "mktai.tasks.forecast",
}

# Kinds of families planned but not built in this version: kind -> family name.
_LEGACY_KINDS: dict[str, str] = {
    "recommender": "recommend",
    "forecast": "forecast",
}


def _package(family_name: str) -> ModuleType | None:
    module_name = FAMILIES[family_name]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # not built in this version
        raise


def kinds() -> list[str]:
    """Every model kind `mktai train` accepts (built or not)."""
    found = dict(_LEGACY_KINDS)
    for family_name in FAMILIES:
        spec = spec_of_family(family_name)
        if spec is not None:
            for kind in spec.kinds:
                found[kind] = family_name
    return sorted(found)


def spec_of_family(family_name: str) -> FamilySpec | None:
    package = _package(family_name)
    spec = getattr(package, "SPEC", None) if package is not None else None
    return spec


def spec_for(kind: str) -> FamilySpec | None:
    """The declared spec serving `kind` (None for a family not yet declared with a SPEC)."""
    from mktai.errors import UsageError

    for family_name in FAMILIES:
        spec = spec_of_family(family_name)
        if spec is not None and kind in spec.kinds:
            return spec
    if kind not in _LEGACY_KINDS:
        raise UsageError(f"unknown model kind {kind!r}; choose one of: {', '.join(kinds())}")
    return None


def family(kind: str) -> ModuleType:
    """The implementation module for a model kind; unknown or unbuilt kinds raise UsageError."""
    from mktai.errors import UsageError

    spec = spec_for(kind)
    if spec is not None:
        return spec.implementation()
    package = _package(_LEGACY_KINDS[kind])
    if package is None:
        raise UsageError(f"model kind {kind!r} is not built yet in this version")
    return package
