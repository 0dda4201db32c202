"""Training a sentiment model from a CleanTable with roles text and label (family protocol fit)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mktai.errors import InputError, UsageError
from mktai.tasks.sentiment.hashing import analyse
from mktai.tasks.sentiment.text import normalize

ALGORITHMS = ("linear", "nb", "keras")


def parse_params(algorithm: str, extra: dict[str, str]) -> tuple[dict[str, Any], list[str] | None]:
    """The algorithm's options (--C 2, --min-df 3, --epochs 5) and --labels, from the SPEC.

    The defaults and ranges are stated once, in mktai.tasks.sentiment.SPEC: a value out of range
    or an option of another algorithm is a UsageError naming the flag, not a failure (or a silent
    no-op) deep inside a fit. Keys are spelled as the scorers take them ("C").
    """
    from mktai.tasks.sentiment import SPEC

    parsed = SPEC.parse_options(extra, algorithm)
    expected = parsed.pop("labels") or None
    params: dict[str, Any] = {}
    for p in SPEC.params:
        if p.name == "labels" or (p.algorithms and algorithm not in p.algorithms):
            continue
        value = parsed[p.name]
        params[p.spelling or p.name] = p.default_for(algorithm) if value is None else value
    return params, expected


def fit_core(algorithm: str, texts: list[str], y: np.ndarray, classes: list[str], params, seed):
    """One scorer on normalised texts."""
    if algorithm == "linear":
        from mktai.tasks.sentiment.linear import fit_linear

        return fit_linear(texts, y, classes, params, seed)
    if algorithm == "nb":
        from mktai.tasks.sentiment.linear import fit_nb

        return fit_nb(texts, y, classes, params, seed)
    from mktai.tasks.sentiment.keras_model import fit_keras

    return fit_keras(texts, y, classes, params, seed)


def cross_validate(algorithm, texts, y, classes, params, seed: int, folds: int) -> dict[str, Any]:
    """Stratified shuffled k-fold accuracy and macro F1 ({metric: {mean, std}}, folds).

    For the linear and nb scorers the out-of-fold scores also fit a probability temperature
    ("calibration": {temperature, log_loss_before, log_loss_after}); see calibrate().
    """
    from sklearn.model_selection import StratifiedKFold

    from mktai.evaluation.metrics import summarise_folds
    from mktai.tasks.sentiment.scoring import quick_scores

    folds = min(folds, int(np.bincount(y).min()))
    if folds < 2:
        return {}
    arr = np.array(texts, dtype=object)
    results, oof, core = [], None, None
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(arr, y):
        core = fit_core(algorithm, list(arr[train]), y[train], classes, params, seed)
        if hasattr(core, "scores"):
            scores = core.scores(list(arr[test]))
            if oof is None:
                oof = np.zeros((len(arr), scores.shape[1]))
            oof[test] = scores
            proba = core.proba_of(scores)
        else:
            proba = core.predict_proba(list(arr[test]))
        results.append(quick_scores(y[test], proba))
    summary: dict[str, Any] = {"folds": folds, **summarise_folds(results)}
    if oof is not None:
        from mktai.tasks.sentiment.calibration import fit_temperature

        summary["calibration"] = fit_temperature(oof, y, core.proba_of)
    return summary


def calibrate(core: Any, cv: dict[str, Any]) -> Any:
    """The core with the cross-validated temperature folded in (unchanged without one)."""
    temperature = (cv.get("calibration") or {}).get("temperature")
    return core.with_temperature(temperature) if temperature else core


def fit(table, kind: str, options) -> Any:
    """Family protocol: validate labels, cross-validate (or hold out for keras), fit on all."""
    from mktai.tasks.sentiment.labels import check_coerced, training_labels
    from mktai.tasks.sentiment.model import SentimentModel

    algorithm = options.algorithm or "linear"
    if algorithm not in ALGORITHMS:
        raise UsageError(
            f"unknown sentiment algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}"
        )
    params, expected = parse_params(algorithm, dict(options.extra or {}))
    table.require("text", "label")
    where = table.describe()
    check_coerced(table, where=where)
    codes, classes, missing = training_labels(table.col("label"), where=where, expected=expected)
    clean = [normalize(t) for t in table.col("text").tolist()]
    unknown, is_zh = analyse(clean)
    use = (codes >= 0) & ~unknown
    texts = [c for c, u in zip(clean, use, strict=True) if u]
    y = codes[use]
    if len(np.unique(y)) < 2:
        raise InputError(f"{where}: fewer than two label classes among the usable rows")
    seed = int(options.seed)
    metrics: dict[str, Any] = {}
    if algorithm == "keras":
        core, metrics["holdout"] = _fit_with_holdout(texts, y, classes, params, seed)
    else:
        if options.cv and options.cv >= 2:
            metrics["cv"] = cross_validate(algorithm, texts, y, classes, params, seed, options.cv)
        core = fit_core(algorithm, texts, y, classes, params, seed)
        core = calibrate(core, metrics.get("cv") or {})
    zh = int(is_zh[use].sum())
    langs = {k: v for k, v in (("en", len(texts) - zh), ("zh", zh)) if v}
    info = {
        "seed": seed,
        "training_data": dict(table.fingerprint or {}),
        "rows": {
            "used": len(texts),
            "unknown_text": int(unknown.sum()),
            "missing_label": int(missing.sum()),
        },
        "class_counts": {c: int((y == k).sum()) for k, c in enumerate(classes)},
        "languages": dict(sorted(langs.items())),
    }
    schema = {
        "roles": {r: table.roles[r] for r in ("text", "label") if r in table.roles},
        "columns": [str(c) for c in table.frame.columns],
        "classes": classes,
    }
    names = _label_names(table, classes)
    return SentimentModel(algorithm, {"*": core}, classes, params, metrics, schema, info, names)


def _label_names(table, classes: list[str]) -> dict[str, str]:
    """1/0 read from words (positive/negative, yes/no, 好评/差评) are shown as positive/negative."""
    column = table.roles.get("label")
    info = (table.report or {}).get("columns", {}).get(column, {})
    if info.get("type") == "bool" and classes == ["0", "1"]:
        return {"0": "negative", "1": "positive"}
    return {}


def _fit_with_holdout(texts, y, classes, params, seed):
    """keras: stratified holdout for the reported metrics (the model never sees it)."""
    from sklearn.model_selection import train_test_split

    from mktai.tasks.sentiment.scoring import quick_scores

    share = float(params.get("holdout", 0.2))
    if share <= 0 or np.bincount(y).min() < 2:
        return fit_core("keras", texts, y, classes, params, seed), {}
    idx = np.arange(len(texts))
    train, test = train_test_split(idx, test_size=share, stratify=y, random_state=seed)
    core = fit_core("keras", [texts[i] for i in train], y[train], classes, params, seed)
    scores = quick_scores(y[test], core.predict_proba([texts[i] for i in test]))
    return core, {"rows": len(test), **{k: round(v, 6) for k, v in scores.items()}}
