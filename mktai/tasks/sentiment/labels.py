"""Sentiment labels: canonical strings, validation with errors that name the offending values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mktai.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_CLASSES = 20


def label_text(value: object) -> str | None:
    """1.0 -> '1', ' pos ' -> 'pos', NaN/empty -> None."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            return str(int(value))
    if hasattr(value, "item"):
        return label_text(value.item())
    text = str(value).strip()
    return text or None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sort_key(text: str) -> tuple:
    return (0, float(text), "") if _is_number(text) else (1, 0.0, text)


def _listing(counts: pd.Series, limit: int = 8) -> str:
    items = [f"{k!r} ({v} row{'s' if v != 1 else ''})" for k, v in counts.head(limit).items()]
    more = f" and {len(counts) - limit} more" if len(counts) > limit else ""
    return ", ".join(items) + more


def check_coerced(table: object, *, where: str) -> None:
    """Labels the cleaning layer could not read as the column's type raise InputError.

    A column of 0/1 with a few 'maybe' is typed as numbers and the 'maybe' become missing;
    training or evaluating would then skip those rows without a word.
    """
    column = getattr(table, "roles", {}).get("label")
    info = ((getattr(table, "report", None) or {}).get("columns") or {}).get(column) or {}
    bad = int(info.get("unparseable") or 0)
    if bad:
        example = info.get("unparseable_example")
        raise InputError(
            f"{where}: {bad} value(s) of label column {column!r} are not {info.get('type')}s "
            f"like the rest (e.g. {example!r}); fix or remove those rows"
        )


def training_labels(
    values: pd.Series, *, where: str, expected: list[str] | None = None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Validate a label column; returns (class index per row or -1 if missing, classes, missing).

    Unexpected values raise InputError naming them: values outside --labels when given; text
    mixed into numeric labels; classes seen only once; too many distinct values for sentiment.
    """
    import numpy as np
    import pandas as pd

    labels = pd.Series([label_text(v) for v in values], index=values.index, dtype=object)
    missing = labels.isna().to_numpy()
    counts = labels[~missing].value_counts()
    if expected:
        bad = counts[~counts.index.isin(expected)]
        if len(bad):
            raise InputError(
                f"{where}: unexpected label values {_listing(bad)}; expected only "
                f"{', '.join(expected)} (fix the rows or change --labels)"
            )
        classes = [c for c in expected if c in counts.index]
    else:
        numeric = [_is_number(k) for k in counts.index]
        if any(numeric) and not all(numeric) and sum(numeric) >= len(numeric) / 2:
            bad = counts[[not n for n in numeric]]
            raise InputError(
                f"{where}: unexpected non-numeric label values {_listing(bad)} among numeric "
                "labels; fix those rows or declare the classes with --labels"
            )
        if len(counts) > MAX_CLASSES:
            raise InputError(
                f"{where}: the label column has {len(counts)} distinct values (e.g. "
                f"{_listing(counts, 5)}); sentiment needs a few classes such as 0/1 or "
                "neg/neutral/pos — check --map label=COLUMN"
            )
        rare = counts[counts < 2]
        if len(rare) and len(counts) > 2:
            raise InputError(
                f"{where}: label values seen only once {_listing(rare)}; they look like typos — "
                "fix them or declare the classes with --labels"
            )
        classes = sorted(counts.index, key=_sort_key)
    if len(classes) < 2:
        raise InputError(
            f"{where}: the label column needs at least two classes, found "
            f"{', '.join(map(repr, classes)) or 'none'}"
        )
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([-1 if m else index[v] for v, m in zip(labels, missing, strict=True)])
    return codes, classes, missing


def evaluation_labels(
    values: pd.Series, classes: list[str], *, where: str, names: dict[str, str] | None = None
) -> np.ndarray:
    """Class index per row (-1 if missing); labels the model never saw raise InputError.

    A class may also be given by its shown name (positive for class 1).
    """
    import numpy as np
    import pandas as pd

    index = {c: i for i, c in enumerate(classes)}
    for c, shown in (names or {}).items():
        index.setdefault(shown, index[c])
    labels = pd.Series([label_text(v) for v in values], dtype=object)
    counts = labels.dropna().value_counts()
    bad = counts[~counts.index.isin(list(index))]
    if len(bad):
        raise InputError(
            f"{where}: label values the model was not trained on {_listing(bad)}; "
            f"the model knows {', '.join(index)}"
        )
    return np.array([-1 if v is None else index[v] for v in labels])
