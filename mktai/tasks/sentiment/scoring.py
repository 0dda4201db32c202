"""Classification report of a sentiment model (on top of the shared evaluation metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np


def classification_report(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro F1, per-class precision/recall/F1, confusion matrix, ROC AUC (binary)."""
    from sklearn import metrics as skm

    from mktai.evaluation.metrics import multiclass_metrics

    labels = np.asarray(classes, dtype=object)
    report = multiclass_metrics(labels[y], proba, classes)
    values = report["metrics"]
    values["macro_f1"] = values.get("f1")
    if len(classes) == 2:
        both = len(np.unique(y)) == 2
        values["roc_auc"] = round(float(skm.roc_auc_score(y, proba[:, 1])), 6) if both else None
    pred = proba.argmax(axis=1)
    prec, rec, f1, support = skm.precision_recall_fscore_support(
        y, pred, labels=list(range(len(classes))), zero_division=0
    )
    report["per_class"] = {
        c: {
            "precision": round(float(prec[k]), 6),
            "recall": round(float(rec[k]), 6),
            "f1": round(float(f1[k]), 6),
            "support": int(support[k]),
        }
        for k, c in enumerate(classes)
    }
    report["task"] = "sentiment"
    return report


def quick_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy and macro F1 of one CV fold."""
    from sklearn import metrics as skm

    pred = proba.argmax(axis=1)
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "macro_f1": float(skm.f1_score(y, pred, average="macro")),
    }
