"""Classification and regression metrics, decile lift / cumulative gains, curve data.

Everything here takes plain arrays (true labels, probabilities, predictions) and returns JSON-able
dicts, so any family can use it and reports can be rendered from the JSON alone. This package
never imports mktai.tasks: the families hand it arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Metrics where a smaller value is better (gates invert their comparison for these).
LOWER_IS_BETTER = frozenset(
    {
        "log_loss",
        "brier",
        "mae",
        "rmse",
        "mse",
        "mape",
        "smape",
        "mase",
        "wape",
        "rmsse",
        "owa",
    }  # fmt: skip
)
CURVE_POINTS = 200


def _num(value: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf) rounded to 6 decimals."""
    import math

    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value, 6)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars so labels survive json.dumps."""
    return value.item() if hasattr(value, "item") else value


def _thin(xs: Any, ys: Any, limit: int = CURVE_POINTS) -> tuple[list, list]:
    """At most `limit` evenly spaced points of a curve, always keeping both ends."""
    import numpy as np

    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) > limit:
        index = np.unique(np.linspace(0, len(xs) - 1, limit).round().astype(int))
        xs, ys = xs[index], ys[index]
    return [round(float(x), 5) for x in xs], [round(float(y), 5) for y in ys]


def lift_table(y_true: Any, score: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Decile lift and cumulative gains: rows sorted by score (best first) cut into `bins` groups.

    lift = positive rate in the group / overall rate; cum_gain = share of all positives captured
    by the groups so far. y_true is 0/1.
    """
    import numpy as np

    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    if len(y) == 0:
        return []
    order = np.argsort(-s, kind="mergesort")
    groups = np.array_split(y[order], min(bins, len(y)))
    total_pos = y.sum()
    base = total_pos / len(y) if len(y) else 0.0
    out, cum_rows, cum_pos = [], 0, 0.0
    for i, group in enumerate(groups, start=1):
        rows, pos = len(group), float(group.sum())
        cum_rows += rows
        cum_pos += pos
        rate = pos / rows if rows else 0.0
        cum_rate = cum_pos / cum_rows if cum_rows else 0.0
        out.append(
            {
                "decile": i,
                "rows": rows,
                "positives": int(pos),
                "rate": _num(rate),
                "lift": _num(rate / base) if base else None,
                "cum_rows_share": _num(cum_rows / len(y)),
                "cum_positives": int(cum_pos),
                "cum_gain": _num(cum_pos / total_pos) if total_pos else None,
                "cum_lift": _num(cum_rate / base) if base else None,
            }
        )
    return out


def calibration_data(y_true: Any, proba: Any, bins: int = 10) -> dict[str, list]:
    """Reliability curve with equal-width bins: mean predicted vs observed positive rate."""
    import numpy as np

    y = np.asarray(y_true, dtype=float)
    p = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    mean_pred, frac_pos, count = [], [], []
    for b in range(bins):
        mask = which == b
        if mask.any():
            mean_pred.append(round(float(p[mask].mean()), 5))
            frac_pos.append(round(float(y[mask].mean()), 5))
            count.append(int(mask.sum()))
    return {"mean_predicted": mean_pred, "fraction_positive": frac_pos, "count": count}


def binary_metrics(
    y_true: Any, proba: Any, threshold: float = 0.5, *, curves: bool = True
) -> dict[str, Any]:
    """Metrics of a binary classifier; y_true is 0/1, proba the positive-class probability."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y_true).astype(int)
    p = np.clip(np.asarray(proba, dtype=float), 1e-15, 1 - 1e-15)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    # most telling first: `mktai models list` shows the first few as headline metrics
    values = {
        "roc_auc": _num(skm.roc_auc_score(y, p)) if both else None,
        "pr_auc": _num(skm.average_precision_score(y, p)) if both else None,
        "accuracy": _num(skm.accuracy_score(y, pred)),
        "precision": _num(skm.precision_score(y, pred, zero_division=0)),
        "recall": _num(skm.recall_score(y, pred, zero_division=0)),
        "f1": _num(skm.f1_score(y, pred, zero_division=0)),
        "log_loss": _num(skm.log_loss(y, p, labels=[0, 1])),
        "brier": _num(skm.brier_score_loss(y, p)),
        "positive_rate": _num(y.mean()) if len(y) else None,
        "rows": int(len(y)),
    }
    result: dict[str, Any] = {
        "task": "binary",
        "threshold": _num(threshold),
        "metrics": values,
        "confusion_matrix": {
            "labels": [0, 1],
            "matrix": skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        },
        "lift": lift_table(y, p),
    }
    if curves and both:
        fpr, tpr, _ = skm.roc_curve(y, p)
        prec, rec, _ = skm.precision_recall_curve(y, p)
        result["curves"] = {
            "roc": dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True)),
            "pr": dict(zip(("recall", "precision"), _thin(rec[::-1], prec[::-1]), strict=True)),
            "calibration": calibration_data(y, p),
        }
    return result


def multiclass_metrics(y_true: Any, proba: Any, classes: Sequence[Any]) -> dict[str, Any]:
    """Metrics of a multi-class classifier: macro-averaged scores, one-vs-rest ROC AUC."""
    import numpy as np
    from sklearn import metrics as skm

    labels = list(classes)
    position = {str(_plain(c)): i for i, c in enumerate(labels)}
    y = np.asarray([position[str(_plain(v))] for v in np.asarray(y_true).tolist()], dtype=int)
    p = np.asarray(proba, dtype=float)
    pred = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=int)
    k = list(range(len(labels)))
    roc = None
    if len(set(y.tolist())) == len(labels) and len(labels) > 2:
        roc = _num(skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=k))
    onehot = (y[:, None] == np.asarray(k)[None, :]).astype(float)
    values = {
        "accuracy": _num(skm.accuracy_score(y, pred)),
        "balanced_accuracy": _num(skm.balanced_accuracy_score(y, pred)) if len(y) else None,
        "precision": _num(skm.precision_score(y, pred, labels=k, average="macro", zero_division=0)),
        "recall": _num(skm.recall_score(y, pred, labels=k, average="macro", zero_division=0)),
        "f1": _num(skm.f1_score(y, pred, labels=k, average="macro", zero_division=0)),
        "roc_auc": roc,
        "log_loss": _num(skm.log_loss(y, np.clip(p, 1e-15, 1), labels=k)),
        "brier": _num(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "rows": int(len(y)),
    }
    return {
        "task": "multiclass",
        "classes": [_plain(c) for c in labels],
        "metrics": values,
        "confusion_matrix": {
            "labels": [_plain(c) for c in labels],
            "matrix": skm.confusion_matrix(y, pred, labels=k).tolist(),
        },
    }


def regression_metrics(y_true: Any, y_pred: Any, *, curves: bool = True) -> dict[str, Any]:
    """MAE, RMSE, MAPE (over rows whose true value is not 0, in percent), R²."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    nonzero = y != 0
    mape = (
        float(np.mean(np.abs((y[nonzero] - p[nonzero]) / y[nonzero])) * 100)
        if nonzero.any()
        else float("nan")
    )
    values = {
        "rmse": _num(np.sqrt(skm.mean_squared_error(y, p))),
        "mae": _num(skm.mean_absolute_error(y, p)),
        "r2": _num(skm.r2_score(y, p)) if len(y) > 1 else None,
        "mape": _num(mape),
        "mean_actual": _num(y.mean()) if len(y) else None,
        "mean_predicted": _num(p.mean()) if len(y) else None,
        "rows": int(len(y)),
    }
    result: dict[str, Any] = {"task": "regression", "metrics": values}
    if curves and len(y):
        rng = np.random.default_rng(0)
        index = np.arange(len(y))
        if len(index) > 1000:
            index = np.sort(rng.choice(index, 1000, replace=False))
        result["curves"] = {
            "residuals": {
                "predicted": [round(float(v), 5) for v in p[index]],
                "residual": [round(float(v), 5) for v in (y - p)[index]],
            }
        }
    return result


def threshold_for(y_true: Any, proba: Any, metric: str = "f1") -> float:
    """Decision threshold maximising F1 or Youden's J (tpr - fpr) on validation predictions."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y_true).astype(int)
    p = np.asarray(proba, dtype=float)
    if len(np.unique(y)) < 2:
        return 0.5
    if metric == "youden":
        fpr, tpr, thresholds = skm.roc_curve(y, p)
        best = int(np.argmax(tpr - fpr))
        value = thresholds[best]
    elif metric == "f1":
        prec, rec, thresholds = skm.precision_recall_curve(y, p)
        f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
        value = thresholds[int(np.argmax(f1))]
    else:
        raise ValueError(f"unknown threshold metric {metric!r}")
    return float(min(max(value, 1e-6), 1.0))


def summarise_folds(folds: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{metric: {mean, std}} over per-fold metric dicts (None values are skipped)."""
    import numpy as np

    out: dict[str, dict[str, float]] = {}
    keys = [k for k in folds[0] if k != "rows"] if folds else []
    for key in keys:
        values = [f[key] for f in folds if isinstance(f.get(key), (int, float))]
        if values:
            out[key] = {"mean": _num(np.mean(values)), "std": _num(np.std(values))}
    return out


def fast_roc_auc(y_true: Any, score: Any) -> float | None:
    """ROC AUC from ranks (ties averaged), as roc_auc_score gives, without its per-call checks.

    Used where many AUCs are taken in a row (permutation importance, the leak scan): ~0.2 ms
    instead of ~15 ms per call. None when only one class is present.
    """
    import numpy as np
    from scipy.stats import rankdata

    y = np.asarray(y_true).astype(bool)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(np.asarray(score, dtype=float))
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def permutation_importance_batched(
    predict: Callable[[Any], Any],
    metric: Callable[[Any], float],
    frame: Any,
    *,
    repeats: int = 3,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """permutation_importance with one predict call for every shuffled copy at once.

    predict(frame) -> scores per row (any array indexed by row); metric(scores) -> "higher is
    better" on the frame's rows. Model calls have a fixed cost (input checks, encoders) that
    dominated when 48-90 small frames were predicted one by one. Same shuffles as
    permutation_importance for the same seed.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(frame)
    copies = [frame]
    for column in frame.columns:
        for _ in range(repeats):
            shuffled = frame.copy()
            shuffled[column] = frame[column].to_numpy()[rng.permutation(n)]
            copies.append(shuffled)
    scores = predict(pd.concat(copies, ignore_index=True))
    base = metric(scores[:n])
    rows = []
    for i, column in enumerate(frame.columns):
        drops = []
        for r in range(repeats):
            start = n * (1 + i * repeats + r)
            drops.append(base - metric(scores[start : start + n]))
        rows.append(
            {"feature": str(column), "importance": _num(np.mean(drops)), "std": _num(np.std(drops))}
        )
    rows.sort(key=lambda r: -(r["importance"] or 0.0))
    return rows


def permutation_importance(
    score: Callable[[Any], float],
    frame: Any,
    *,
    repeats: int = 3,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Drop in `score(frame)` when one column is shuffled, per column (mean and std of repeats).

    Works on the model's own input frame, so importances are per original column whatever the
    algorithm; score must be "higher is better".
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    base = score(frame)
    rows = []
    for column in frame.columns:
        drops = []
        for _ in range(repeats):
            shuffled = frame.copy()
            shuffled[column] = frame[column].to_numpy()[rng.permutation(len(frame))]
            drops.append(base - score(shuffled))
        rows.append(
            {"feature": str(column), "importance": _num(np.mean(drops)), "std": _num(np.std(drops))}
        )
    rows.sort(key=lambda r: -(r["importance"] or 0.0))
    return rows


def flat_metrics(result: dict[str, Any]) -> dict[str, float]:
    """The scalar metrics of an evaluation result, flattened with dotted names.

    Supervised results keep them under "metrics"; other families may return them at the top
    level or nested (e.g. {"ranking": {"ndcg@10": 0.3}} -> "ranking.ndcg@10").
    """
    source = result.get("metrics") if isinstance(result.get("metrics"), dict) else result
    out: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            out[prefix] = float(value)
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)

    walk("", source)
    return out
