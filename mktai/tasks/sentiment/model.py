"""SentimentModel: one or more per-language cores behind the family protocol.

A model directory holds `model.json` (algorithm, classes, routes, metrics) and one sub-directory
per route. Route "*" takes every text; the shipped default has routes "en" and "zh" and sends each
text to the core of its detected language. The same format serves store artifacts and the default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mktai.errors import InputError, UsageError
from mktai.tasks.sentiment.text import UNKNOWN, is_unknown, language, normalize

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "mktai-sentiment/1"
LANGS = ("en", "zh")


def load_core(directory: Path, algorithm: str):
    """The scorer stored in one route directory."""
    if algorithm == "keras":
        from mktai.tasks.sentiment.keras_model import KerasTextModel

        return KerasTextModel.load(directory)
    from mktai.tasks.sentiment.linear import LinearTextModel

    return LinearTextModel.load(directory)


@dataclass
class Scored:
    """Per-text results of SentimentModel.score (aligned with the input texts)."""

    label: list[str]
    probability: np.ndarray  # NaN for unknown texts
    lang: list[str]
    explanation: list[str] | None
    unknown: int
    by_lang: dict[str, int] = field(default_factory=dict)


@dataclass
class SentimentModel:
    """Texts in, label + probability out; implements the FittedModel protocol."""

    algorithm: str
    routes: dict[str, Any]  # "*" or language code -> core (LinearTextModel / KerasTextModel)
    classes: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    input_schema: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    kind: str = "sentiment"

    # -- scoring ---------------------------------------------------------------------------
    def score(self, texts: list[Any], *, lang: str = "auto", explain: bool = False) -> Scored:
        """Label, probability of that label and detected language per text."""
        if lang not in ("auto", *LANGS):
            raise UsageError(f"--lang must be en, zh or auto, not {lang!r}")
        if explain and self.algorithm == "keras":
            raise UsageError("--explain works with the linear and nb algorithms, not keras")
        clean = [normalize(t) for t in texts]
        unknown = np.array([is_unknown(c) for c in clean], dtype=bool)
        langs = [lang if lang != "auto" else language(c) for c in clean]
        labels = np.full(len(clean), UNKNOWN, dtype=object)
        proba = np.full(len(clean), np.nan)
        notes = [""] * len(clean) if explain else None
        for route, core in self.routes.items():
            rows = [
                i
                for i in range(len(clean))
                if not unknown[i] and (route == "*" or langs[i] == route)
            ]
            if not rows:
                continue
            batch = [clean[i] for i in rows]
            p = core.predict_proba(batch)
            best = p.argmax(axis=1)
            labels[rows] = np.asarray(core.classes, dtype=object)[best]
            proba[rows] = p[np.arange(len(rows)), best]
            if notes is not None:
                for i, note in zip(rows, core.explain(batch, best), strict=True):
                    notes[i] = note
        by_lang: dict[str, int] = {}
        for i, code in enumerate(langs):
            if not unknown[i]:
                by_lang[code] = by_lang.get(code, 0) + 1
        return Scored(
            list(labels), proba, langs, notes, int(unknown.sum()), dict(sorted(by_lang.items()))
        )

    def probabilities(self, texts: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, unknown mask) for evaluation; unknown rows are all-NaN."""
        clean = [normalize(t) for t in texts]
        unknown = np.array([is_unknown(c) for c in clean], dtype=bool)
        out = np.full((len(clean), len(self.classes)), np.nan)
        for route, core in self.routes.items():
            rows = [
                i
                for i in range(len(clean))
                if not unknown[i] and (route == "*" or language(clean[i]) == route)
            ]
            if rows:
                p = core.predict_proba([clean[i] for i in rows])
                cols = [self.classes.index(c) for c in core.classes]
                out[np.ix_(rows, cols)] = p
        return out, unknown

    # -- protocol ----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        names = {}
        for route, core in self.routes.items():
            sub = "all" if route == "*" else route
            (directory / sub).mkdir()
            core.save(directory / sub)
            names[route] = sub
        meta = {
            "format": FORMAT,
            "algorithm": self.algorithm,
            "classes": self.classes,
            "routes": names,
            "params": self.params,
            "metrics": self.metrics,
            "info": self.info,
        }
        text = json.dumps(meta, ensure_ascii=False, indent=2, default=_plain)
        (directory / "model.json").write_text(text, encoding="utf-8")

    def manifest_fields(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "metrics": self.metrics,
            "input_schema": self.input_schema,
            "classes": self.classes,
            **self.info,
        }

    def evaluate(self, table) -> dict[str, Any]:
        """Accuracy, macro F1, per-class precision/recall, confusion matrix, ROC AUC (binary)."""
        from mktai.tasks.sentiment.labels import evaluation_labels
        from mktai.tasks.sentiment.scoring import classification_report

        table.require("text", "label")
        where = table.describe()
        y = evaluation_labels(table.col("label"), self.classes, where=where)
        proba, unknown = self.probabilities(table.col("text").tolist())
        usable = (y >= 0) & ~unknown
        if not usable.any():
            raise InputError(f"{where}: no row has both a usable text and a label to evaluate")
        report = classification_report(y[usable], proba[usable], self.classes)
        report["skipped"] = {
            "unknown_text": int(unknown.sum()),
            "missing_label": int((y < 0).sum()),
        }
        return report


def load_directory(directory: Path) -> SentimentModel:
    """Read a model directory written by SentimentModel.save (store version or default)."""
    path = directory / "model.json"
    if not path.is_file():
        raise InputError(f"{directory} holds no sentiment model (model.json missing)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: unsupported sentiment model format {meta.get('format')!r}")
    routes = {
        route: load_core(directory / sub, meta["algorithm"])
        for route, sub in meta["routes"].items()
    }
    return SentimentModel(
        algorithm=meta["algorithm"],
        routes=routes,
        classes=list(meta["classes"]),
        params=meta.get("params", {}),
        metrics=meta.get("metrics", {}),
        info=meta.get("info", {}),
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def frame_of(scored: Scored, texts: list[Any]) -> pd.DataFrame:
    """Free-text results as a table: text, lang, label, probability (+ explanation)."""
    import pandas as pd

    data = {
        "text": [str(t) for t in texts],
        "lang": scored.lang,
        "label": scored.label,
        "probability": np.round(scored.probability, 4),
    }
    if scored.explanation is not None:
        data["explanation"] = scored.explanation
    return pd.DataFrame(data)
