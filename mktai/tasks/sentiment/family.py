"""Sentiment family: review texts in English and Chinese -> label + probability.

Algorithms: linear (default; word + char n-gram TF-IDF, NB-scaled logistic regression), nb
(multinomial naive Bayes on tokens), keras (the seeds' TextVectorization + Embedding network).
Models persist as JSON + .npz (linear, nb) or .keras (safe_mode), never pickle. A default model
trained on redistributable data ships in mktai/resources/sentiment_default/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mktai.tasks.sentiment.model import SentimentModel, load_directory
from mktai.tasks.sentiment.training import fit

__all__ = ["SentimentModel", "default_model", "fit", "load_model"]


def load_model(directory: Path, manifest: dict[str, Any]) -> SentimentModel:
    """Family protocol: read a stored version back.

    A model file that lacks a field or holds the wrong type (an imported archive is only as
    sound as whoever wrote it) is a damaged version, exit 3, not an internal error."""
    from mktai.errors import IntegrityError

    try:
        model = load_directory(Path(directory))
        model.input_schema = dict(manifest.get("input_schema") or {})
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise IntegrityError(
            f"{directory}: the sentiment model files do not have the shape this mktai writes "
            f"({type(exc).__name__}: {detail[:200]}); retrain it or re-import a sound export"
        ) from None
    return model


def default_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "sentiment_default"


def default_model() -> SentimentModel:
    """The shipped default (English + Chinese routes); works with no training step."""
    from mktai.errors import MktaiError

    directory = default_dir()
    if not (directory / "model.json").is_file():
        raise MktaiError(
            f"the built-in sentiment model is missing from {directory}; reinstall mktai or "
            "rebuild it with: python benchmarks/build_sentiment_default.py"
        )
    return load_directory(directory)
