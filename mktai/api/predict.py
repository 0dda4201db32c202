"""`predict`: apply a stored row-scoring model (propensity, demand) to new rows.

Loads and verifies the version, reads the rows through the cleaning layer, checks them against
the manifest's input schema (a missing column is an InputError naming it) and scores every row,
in input order: two identical leads are two leads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mktai.api.result import Result, internal, store_root

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
    from mktai.errors import UsageError
    from mktai.tasks.stored import load_for, load_stored

    version, module, fitted = load_stored(store_root(store), model)
    command = applying_command(str(version.kind))
    if command != "predict" or not callable(getattr(fitted, "predict", None)):
        raise UsageError(
            f"{version.ref} is a {version.kind} model, which `mktai predict` cannot apply; "
            f"use `mktai {command} --model {version.ref}`"
        )
    table = load_for(version.kind, data, mapping=mapping, encoding=encoding,
                     unlabelled=True, dedupe=False, keep_raw=True)  # fmt: skip
    scored, stats = fitted.predict(table)
    return PredictResult(
        ref=version.ref,
        kind=str(version.kind),
        rows=int(len(scored)),
        rows_rejected=int(len(table.rejects)),
        unseen_categories=dict(stats.get("unseen", {})),
        missing_values=dict(stats.get("missing", {})),
        invalid_numbers=dict(stats.get("invalid", {})),
        frame=scored,
    )
