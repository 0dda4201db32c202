"""`train --if-changed`: is there anything new since the stored version? Data, configuration, mktai.

A cron job retrains only when something it depends on changed. The data fingerprint alone said
"unchanged" after --algorithm, --drop, the seed or a family option changed; the resolved
configuration (every option with its default filled in, as the family will see it) and the
mktai version are compared too, and the differences are named.
"""

from __future__ import annotations

from typing import Any

# manifest "config" keys, in the order differences are reported
CONFIG_KEYS = ("kind", "algorithm", "target", "cv", "seed", "mapping", "params", "options")


def resolved_config(
    *,
    kind: str,
    algorithm: str | None,
    target: str | None,
    cv: int | None,
    seed: int,
    mapping: dict[str, str] | None,
    params: dict[str, Any] | None,
    extra: dict[str, str] | None,
) -> dict[str, Any]:
    """What decides the model besides the data: JSON-able, defaults filled in where known."""
    from mktai.tasks.options import normalise_extra

    return {
        "kind": kind,
        "algorithm": algorithm or "default",
        "target": target,
        "cv": cv if cv is not None else "default",
        "seed": int(seed),
        "mapping": dict(sorted((mapping or {}).items())),
        "params": {k: params[k] for k in sorted(params or {})},
        "options": dict(sorted(normalise_extra(extra or {}).items())),
    }


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def differences(manifest: dict[str, Any], sha256: str, config: dict[str, Any]) -> list[str]:
    """What differs between a stored version and this run ([] = nothing: skip training)."""
    from mktai import __version__

    found: list[str] = []
    data = manifest.get("training_data")
    old_sha = data.get("sha256") if isinstance(data, dict) else None
    if old_sha != sha256:
        found.append(f"data (sha256 {str(old_sha or '?')[:12]} -> {sha256[:12]})")
    old = manifest.get("config")
    if not isinstance(old, dict):
        found.append("configuration (the stored version does not record one)")
    else:
        for key in CONFIG_KEYS:
            before, after = old.get(key), config.get(key)
            if before == after:
                continue
            if isinstance(before, dict) and isinstance(after, dict):
                for sub in sorted(set(before) | set(after)):
                    if before.get(sub) != after.get(sub):
                        found.append(f"{key} {sub}: {_short(before.get(sub))} -> "
                                     f"{_short(after.get(sub))}")  # fmt: skip
            else:
                found.append(f"{key}: {_short(before)} -> {_short(after)}")
    stored_version = manifest.get("mktai_version")
    if stored_version != __version__:
        found.append(f"mktai {stored_version or '?'} -> {__version__}")
    return found
