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
    value = getattr(importlib.import_module(module), name)
    # importing mktai.api.forecast binds the *module* as mktai.api.forecast; bind the function
    # over it, or `from mktai.api import forecast` would hand back the module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(_EXPORTS)
