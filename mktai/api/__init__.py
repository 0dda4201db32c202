"""The Python API: one module per operation, each a plain function returning a result object.

    from mktai.api import train, predict
    result = train("propensity", "bank.csv", name="response", target="y", store="store/")
    scored = predict("response", "leads.csv", store="store/")
    scored.frame.head(); scored.to_dict()

cli/ and serve/ are its two clients. Nothing here prints; warnings come back in
`result.warnings`, progress through an optional `progress(label, done, total)` callback.
Functions are imported lazily so `import mktai.api` costs nothing.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {}


def _export(module: str, *names: str) -> None:
    for name in names:
        _EXPORTS[name] = f"mktai.api.{module}"


_export("result", "Result")
_export("recommend", "recommend", "similar_items")
_export("forecast", "forecast")


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mktai.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


class _Api(types.ModuleType):
    """Importing mktai.api.recommend would bind the submodule as this package's `recommend`
    attribute, shadowing the function of the same name; such bindings are dropped, so
    `from mktai.api import recommend` is the function whatever was imported before."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api
