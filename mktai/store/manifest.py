"""What the store itself writes into manifest.json, and how a manifest is summarised.

The caller's fields (algorithm, params, seed, input_schema, training_data, metrics…) are kept as
given; the store owns name, version, kind, created_at, mktai_version, python, libraries and files.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from typing import Any

# Distributions whose versions matter for reproducing or loading a model. Read from package
# metadata, which never imports the library (so saving does not pull in TensorFlow).
LIBRARIES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "pyarrow",
    "scikit-surprise",
    "skops",
    "joblib",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
)
STORE_KEYS = ("name", "version", "kind", "created_at", "mktai_version", "python", "libraries")
FORMAT = 1


def utc_now() -> str:
    """UTC timestamp in ISO 8601 with a Z, second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in LIBRARIES:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return found


def build_manifest(name: str, kind: str, fields: dict[str, Any], files: dict) -> dict[str, Any]:
    """Caller's fields first, then the store's own keys (which the caller cannot override)."""
    from mktai import __version__

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "version": None,  # set under the lock when the number is allocated
        "kind": kind,
        "created_at": utc_now(),
        "mktai_version": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "libraries": library_versions(),
    }
    for key, value in (fields or {}).items():
        if key in manifest or key == "files":
            continue
        manifest[key] = value
    manifest.setdefault("evaluations", [])
    manifest["files"] = files
    return manifest


def headline_metrics(manifest: dict[str, Any], limit: int = 3) -> dict[str, float]:
    """A few numeric metrics for tables: holdout first, then cross-validated, then flat ones."""
    metrics = manifest.get("metrics")
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, float] = {}
    sections = [("holdout", metrics.get("holdout")), ("cv", metrics.get("cv")), ("", metrics)]
    for prefix, section in sections:
        if not isinstance(section, dict):
            continue
        for key, value in section.items():
            if len(out) >= limit:
                return out
            number = _as_number(value)
            label = f"{prefix}.{key}" if prefix else key
            if number is not None and not any(k.endswith(f".{key}") or k == key for k in out):
                out[label] = number
    return out


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and isinstance(value.get("mean"), (int, float)):
        return float(value["mean"])
    return None
