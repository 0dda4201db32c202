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


def kinds() -> list[str]:
    """Every model kind `mktai train` accepts."""
    found: dict[str, str] = {}
    for family_name in FAMILIES:
        for kind in spec_of_family(family_name).kinds:
            found[kind] = family_name
    return sorted(found)


def spec_of_family(family_name: str) -> FamilySpec:
    """The SPEC its light package __init__ declares."""
    return importlib.import_module(FAMILIES[family_name]).SPEC


def spec_for(kind: str) -> FamilySpec:
    """The declared spec of the family serving `kind`; an unknown kind is a UsageError."""
    from mktai.errors import UsageError

    for family_name in FAMILIES:
        spec = spec_of_family(family_name)
        if kind in spec.kinds:
            return spec
    raise UsageError(f"unknown model kind {kind!r}; choose one of: {', '.join(kinds())}")


def family(kind: str) -> ModuleType:
    """The implementation module (fit / load_model) for a model kind."""
    return spec_for(kind).implementation()
