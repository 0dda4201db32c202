"""The Python API: one module per operation, each a plain function returning a result object.

    from mktai.api import train, predict
    result = train("propensity", "bank.csv", name="response", target="y", store="store/")
    scored = predict("response", "leads.csv", store="store/")
    scored.frame.head(); scored.to_dict()

cli/ and serve/ are its two clients. Nothing here prints; warnings come back in
`result.warnings`, progress through an optional `progress(label, done, total)` callback.
The operation modules are light (heavy libraries load inside the functions), so they are
imported here eagerly: that also binds each name to its function rather than to its module.
"""

from __future__ import annotations

from mktai.api.evaluate import EvaluateResult, evaluate
from mktai.api.forecast import ForecastResult, forecast
from mktai.api.ingest import IngestResult, ingest
from mktai.api.models import list_models, open_store
from mktai.api.predict import PredictResult, predict
from mktai.api.recommend import RecommendResult, SimilarResult, recommend, similar_items
from mktai.api.result import Result
from mktai.api.segment import SegmentRunResult, segment
from mktai.api.sentiment import SentimentResult, sentiment
from mktai.api.train import TrainResult, train

__all__ = [
    "EvaluateResult",
    "ForecastResult",
    "IngestResult",
    "PredictResult",
    "RecommendResult",
    "Result",
    "SegmentRunResult",
    "SentimentResult",
    "SimilarResult",
    "TrainResult",
    "evaluate",
    "forecast",
    "ingest",
    "list_models",
    "open_store",
    "predict",
    "recommend",
    "segment",
    "sentiment",
    "similar_items",
    "train",
]
