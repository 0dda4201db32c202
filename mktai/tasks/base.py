"""The small protocol every model family implements, so train/evaluate/models treat them alike.

A family module (mktai/tasks/<family>.py) provides:

    def fit(table: CleanTable, kind: str, options: TrainOptions) -> FittedModel
    def load_model(directory: Path, manifest: dict) -> FittedModel

and its FittedModel provides the attributes and methods below. The store writes the files that
`save` puts in a staging directory, hashes them and records `manifest_fields()` in manifest.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class TrainOptions:
    """Options common to every family plus the family-specific extras (--key value)."""

    seed: int = 0
    algorithm: str | None = None
    target: str | None = None
    cv: int | None = 5  # None: the family's default (supervised: 5, or 3 on 20,000+ rows)
    extra: dict[str, str] = field(default_factory=dict)
    # family parameters parsed and checked against the family's FamilySpec (declared families)
    params: dict[str, Any] = field(default_factory=dict)
    # progress(label, done, total): optional callback; the api layer turns it into a bar
    progress: Any = None


class FittedModel(Protocol):
    kind: str
    algorithm: str

    def save(self, directory: Path) -> None:
        """Write the model's files (safe formats only) into an existing empty directory."""

    def manifest_fields(self) -> dict[str, Any]:
        """algorithm, params, metrics (cv/holdout), input_schema: recorded in manifest.json."""

    def evaluate(self, table: Any) -> dict[str, Any]:
        """Metrics of this model on a labelled CleanTable, as a JSON-able dict (see evaluation/)."""
