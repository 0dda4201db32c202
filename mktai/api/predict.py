"""`predict`: apply a stored row-scoring model (propensity, demand) to new rows.

Loads and verifies the version, reads the rows through the cleaning layer, checks them against
the manifest's input schema (a missing column is an InputError naming it) and scores every row,
in input order: two identical leads are two leads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import Result, internal

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class PredictResult(Result):
    """frame: the input columns as written plus score and prediction."""

    ref: str
    kind: str
    rows: int
    rows_rejected: int = 0
    unseen_categories: dict[str, int] = field(default_factory=dict)
    missing_values: dict[str, int] = field(default_factory=dict)
    invalid_numbers: dict[str, int] = field(default_factory=dict)
    frame: pd.DataFrame | None = internal()
    rejects: pd.DataFrame | None = internal()  # source, row, reason, raw of rows not scored
    columns: dict[str, Any] | None = internal()  # the score columns, when no frame was built


def applying_command(kind: str) -> str:
    """The command that applies models of `kind` (from the family spec)."""
    from mktai.tasks import spec_for

    return spec_for(kind).applies_with


def predict(
    model: str,
    data: Path | str | pd.DataFrame,
    *,
    store: Path | str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
) -> PredictResult:
    """Scores for DATA (a file, or a DataFrame of raw rows) from the stored model MODEL."""
    from mktai.api.loaded import load, predict_rows

    loaded = load(model, store=store)
    return predict_rows(loaded, data, mapping=mapping, encoding=encoding, reuse_plans=False)
