"""Quintile scores 1-5 from stored value edges, and named segments from a JSON segment map.

Scores come from value edges (the 20/40/60/80% quantiles of the usable customers), not from
ranks: a score is 1 + the number of edges strictly below the value (pd.qcut's right-closed
bins). Equal values therefore always get the same score (ties are deterministic and fair), and
a stored model re-applies exactly the same edges to next month's data. When many customers tie
(frequency 1 is common) some scores are simply not used — stated, not hidden.
Recency is reversed: the most recent customers score 5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

QUANTILES = (0.2, 0.4, 0.6, 0.8)
SCORE_KEYS = ("r", "f", "m", "fm")


def quintile_edges(values: np.ndarray) -> list[float]:
    """The four inner quintile edges of `values` (linear interpolation, as numpy/pandas)."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(e) for e in np.quantile(values, QUANTILES)]


def score(values: np.ndarray, edges: list[float], *, reverse: bool = False) -> np.ndarray:
    """Scores 1-5: 1 + number of edges < value; reverse=True for recency (small is good)."""
    import numpy as np

    ranks = np.searchsorted(np.asarray(edges, dtype="float64"), values, side="left") + 1
    ranks = ranks.astype(np.int8)
    return (6 - ranks).astype(np.int8) if reverse else ranks


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Mean of F and M scores rounded half up (4 and 5 -> 5), as the segment map uses it."""
    import numpy as np

    return np.floor((f.astype(np.int16) + m.astype(np.int16)) / 2 + 0.5).astype(np.int8)


def default_map_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "rfm_segments.json"


def load_segment_map(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a segment map (the bundled default when path is None)."""
    from mktai.errors import InputError

    source = Path(path) if path is not None else default_map_path()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"segment map {source} not found; pass an existing JSON file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"segment map {source} is not valid JSON ({exc}); fix the file") from None
    validate_segment_map(data, str(source))
    return data


def validate_segment_map(data: Any, where: str = "segment map") -> None:
    """Rules are {name, r?, f?, m?, fm?: [low, high]} in 1..5; first match wins; fallback name."""
    from mktai.errors import InputError

    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise InputError(f"{where}: expected an object with a 'segments' list of rules")
    if not data["segments"]:
        raise InputError(f"{where}: the 'segments' list is empty")
    for i, rule in enumerate(data["segments"], start=1):
        if not isinstance(rule, dict) or not isinstance(rule.get("name"), str) or not rule["name"]:
            raise InputError(f"{where}: rule {i} needs a non-empty 'name'")
        unknown = set(rule) - {"name", "description", *SCORE_KEYS}
        if unknown:
            raise InputError(
                f"{where}: rule {i} ({rule['name']}) has unknown keys {sorted(unknown)}; "
                f'use {", ".join(SCORE_KEYS)} ranges like "r": [4, 5]'
            )
        for key in SCORE_KEYS:
            if key not in rule:
                continue
            bounds = rule[key]
            ok = (
                isinstance(bounds, list)
                and len(bounds) == 2
                and all(isinstance(b, int) and 1 <= b <= 5 for b in bounds)
                and bounds[0] <= bounds[1]
            )
            if not ok:
                raise InputError(
                    f"{where}: rule {i} ({rule['name']}) key {key!r} must be [low, high] "
                    f"with 1 <= low <= high <= 5, got {bounds!r}"
                )
    fallback = data.get("fallback", "Other")
    if not isinstance(fallback, str) or not fallback:
        raise InputError(f"{where}: 'fallback' must be a non-empty segment name")


def assign_segments(scores: pd.DataFrame, segment_map: dict[str, Any]) -> np.ndarray:
    """Segment name per row of a frame with r_score, f_score, m_score, fm_score columns."""
    import numpy as np

    columns = {"r": "r_score", "f": "f_score", "m": "m_score", "fm": "fm_score"}
    names = np.full(len(scores), segment_map.get("fallback", "Other"), dtype=object)
    unassigned = np.ones(len(scores), dtype=bool)
    for rule in segment_map["segments"]:
        hit = unassigned.copy()
        for key, column in columns.items():
            if key in rule:
                low, high = rule[key]
                values = scores[column].to_numpy()
                hit &= (values >= low) & (values <= high)
        names[hit] = rule["name"]
        unassigned &= ~hit
    return names


def segment_order(segment_map: dict[str, Any]) -> list[str]:
    """Segment names in map order, then the fallback: the display order of every table."""
    names = [rule["name"] for rule in segment_map["segments"]]
    seen: list[str] = []
    for name in [*names, segment_map.get("fallback", "Other")]:
        if name not in seen:
            seen.append(name)
    return seen
