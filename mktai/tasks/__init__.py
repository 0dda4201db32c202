"""Lazy registry: model kind -> the module of the family that implements it.

Each family module implements the protocol in mktai.tasks.base (fit -> FittedModel with save,
metrics and evaluate; load_model to read a stored version back). Adding a family is one module
and one line here; importing this package imports no family.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KINDS: dict[str, str] = {
    "propensity": "mktai.tasks.supervised",
    "demand": "mktai.tasks.supervised",
    "segments": "mktai.tasks.segment",
    "sentiment": "mktai.tasks.sentiment",
    "recommender": "mktai.tasks.recommend",
    "forecast": "mktai.tasks.forecast",
}


def family(kind: str) -> ModuleType:
    """The family module for a model kind; unknown or unbuilt kinds raise UsageError."""
    from mktai.errors import UsageError

    module_name = KINDS.get(kind)
    if module_name is None:
        raise UsageError(f"unknown model kind {kind!r}; choose one of: {', '.join(sorted(KINDS))}")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UsageError(f"model kind {kind!r} is not built yet in this version") from None
        raise
