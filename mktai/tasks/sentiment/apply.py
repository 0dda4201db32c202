"""Scoring texts and review files with a sentiment model: the library behind `mktai sentiment`.

score_texts / score_file return the result table and a JSON-able summary (counts of labels,
unknown texts, languages, undecodable texts, rows rejected by cleaning), so scripts get exactly
what the CLI prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable


def score_texts(
    scorer: Any, texts: list[str], *, lang: str = "auto", explain: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Free texts -> table text, lang, label, probability (+ explanation) and a summary."""
    import pandas as pd

    columns, summary = score_text_columns(scorer, texts, lang=lang, explain=explain)
    return pd.DataFrame(columns), summary


def score_text_columns(
    scorer: Any, texts: list[str], *, lang: str = "auto", explain: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """score_texts' table as its columns (no DataFrame built) and the summary."""
    from mktai.tasks.sentiment.model import columns_of

    scored = scorer.score(texts, lang=lang, explain=explain)
    return columns_of(scored, texts), _summary(scored, len(texts), texts)


def score_file(
    scorer: Any,
    path: Path,
    *,
    column: str | None = None,
    lang: str = "auto",
    explain: bool = False,
    encoding: str | None = None,
    strict: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A reviews file -> its columns + label + probability (+ explanation) and a summary."""
    table = _read_reviews(path, column, encoding, strict)
    texts = _texts(table)
    scored = scorer.score(texts, lang=lang, explain=explain)
    # the user's columns as they wrote them (names, '好评'), not the cleaned values
    raw = _as_read(table)
    frame = _with_results(raw.copy(), _result_names(raw), scored)
    return frame, _file_summary(scorer, table, path, scored, texts)


def score_file_to(
    scorer: Any,
    path: Path,
    output: Path,
    *,
    column: str | None = None,
    lang: str = "auto",
    explain: bool = False,
    encoding: str | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """score_file's rows written to OUTPUT (atomically: temp file + rename); the summary.

    A CSV file is formatted where each slice is scored (the workers of a large batch) and
    written in input order while the next slices are scored: the same bytes as writing
    score_file's frame, without building it or formatting it in one process afterwards.
    Other formats, special files and inputs with datetime columns (whose CSV format pandas
    decides per column) are written from the frame.
    """
    from mktai.data.write import TableWriter, has_cr, is_special, output_format, write_table
    from mktai.tasks.sentiment.cores import IdleProbe
    from mktai.tasks.sentiment.model import PartSink

    idle = IdleProbe()  # the free cores are measured while the file is read
    table = _read_reviews(path, column, encoding, strict)
    texts = _texts(table)
    raw = _as_read(table)
    datetimes = any(dtype.kind == "M" for dtype in raw.dtypes)
    if output_format(output) != "csv" or is_special(output) or datetimes:
        scored = scorer.score(texts, lang=lang, explain=explain, idle=idle)
        write_table(_with_results(raw.copy(), _result_names(raw), scored), output)
        return _file_summary(scorer, table, path, scored, texts)
    names = _result_names(raw)
    # one quoting rule for the whole file, as one frame gets: explanations are normalised
    # text (no CR), labels the model's own names
    shown = [scorer.names.get(c, c) for c in scorer.classes]
    quote_all = has_cr(raw) or any("\r" in str(name) for name in shown)
    writer = TableWriter(output)
    sink = PartSink(
        make=lambda start, part: _csv_part(raw, names, start, part, quote_all),
        take=lambda made: writer.write_csv_text(*made),
    )
    try:
        scored = scorer.score(texts, lang=lang, explain=explain, parts=sink, idle=idle)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return _file_summary(scorer, table, path, scored, texts)


def _csv_part(
    raw: pd.DataFrame, names: dict[str, str], start: int, part: Any, quote_all: bool
) -> tuple[str, int]:
    """Rows START.. of the result as CSV text (the header with the first slice) and their
    count: what a worker sends back instead of the scores alone."""
    from mktai.data.write import csv_text

    rows = len(part.label)
    chunk = _with_results(raw.iloc[start : start + rows], names, part)  # copy on write
    return csv_text(chunk, header=start == 0, quote_all=quote_all), rows


def _read_reviews(path: Path, column: str | None, encoding: str | None, strict: bool) -> CleanTable:
    """The reviews file through the cleaning layer, every row kept as read."""
    from mktai.data import load_table
    from mktai.errors import ColumnNotFound, InputError, RoleNotFound

    mapping = {"text": column} if column else None
    try:
        # Two customers writing the same words are two reviews, and a review without words is
        # still a row ("unknown"): scoring keeps every row, in order, so the output lines up
        # with the input. A plain table (roles detected as for reviews, none required) does.
        table = load_table(
            path, kind="table", mapping=mapping, encoding=encoding, dedupe=False, keep_raw=True
        )
    except ColumnNotFound as exc:  # the cleaning layer names --map; this command's is --column
        raise exc.named_by(f"--column {exc.column}") if exc.role == "text" else exc from None
    except RoleNotFound as exc:
        raise exc.named_by("--column") if "text" in exc.roles else exc from None
    table.check_strict(strict)
    if not table.has("text"):
        names = ", ".join(map(str, table.frame.columns[:20]))
        raise InputError(
            f"{table.describe()}: no text column found (columns: {names}); "
            "name it with --column COLUMN"
        )
    return table


def _texts(table: CleanTable) -> list[Any]:
    text = table.col("text")
    return text.astype(object).where(text.notna(), "").tolist()


def _as_read(table: CleanTable) -> pd.DataFrame:
    """The user's columns as they wrote them (names, '好评'), not the cleaned values."""
    return table.raw if table.raw is not None else table.frame


def _with_results(frame: pd.DataFrame, names: dict[str, str], scored: Any) -> pd.DataFrame:
    """FRAME (changed in place) with the label, probability (+ explanation) columns added."""
    import numpy as np

    frame[names["label"]] = scored.label
    frame[names["probability"]] = np.round(scored.probability, 4)
    if scored.explanation is not None:
        frame[names["explanation"]] = scored.explanation
    return frame


def _file_summary(
    scorer: Any, table: CleanTable, path: Path, scored: Any, texts: list[Any]
) -> dict[str, Any]:
    summary = _summary(scored, len(texts), texts)
    summary["input"] = str(path)
    summary["text_column"] = table.roles["text"]
    summary["rows_rejected_by_cleaning"] = int(len(table.rejects))
    names = _result_names(_as_read(table))
    if names["label"] != "label":
        summary["output_columns"] = names
    if table.has("label"):
        agreement = _agreement(scorer, table.col("label"), scored.label, table.describe())
        if agreement is not None:
            summary["agreement_with_label_column"] = agreement
    return summary


def _agreement(scorer: Any, truth: Any, predicted: list[str], where: str) -> float | None:
    """Share of scored rows whose predicted label equals the file's own label (if comparable)."""
    import numpy as np

    from mktai.errors import InputError
    from mktai.tasks.sentiment.labels import evaluation_labels

    try:
        y = evaluation_labels(truth, scorer.classes, where=where, names=scorer.names)
    except InputError:
        return None
    shown = [scorer.names.get(c, c) for c in scorer.classes]
    pred = np.array([shown.index(p) if p in shown else -1 for p in predicted])
    usable = (y >= 0) & (pred >= 0)
    return round(float((y[usable] == pred[usable]).mean()), 4) if usable.any() else None


def _result_names(frame: pd.DataFrame) -> dict[str, str]:
    """label/probability/explanation, prefixed with predicted_ when the input has them."""
    wanted = ("label", "probability", "explanation")
    if not any(name in frame.columns for name in wanted):
        return {name: name for name in wanted}
    return {name: f"predicted_{name}" for name in wanted}


def _summary(scored: Any, rows: int, texts: list[Any]) -> dict[str, Any]:
    from collections import Counter

    labels = Counter(scored.label)
    broken = sum(1 for t in texts if isinstance(t, str) and "\ufffd" in t)
    return {
        "rows": rows,
        "labels": dict(sorted(labels.items())),
        "unknown": scored.unknown,
        "languages": scored.by_lang,
        "broken_encoding": broken,
    }


def csv_text_column(lines: list[str]) -> str | None:
    """The text column when lines read from stdin are a CSV whose header names one, else None.

    `mktai sentiment - < reviews.csv` would otherwise score the header and the label digits as
    review text. A CSV is recognised by a header of two or more fields, one of them a usual
    text column name (text, review, comment, 评论...), and data lines with as many fields.
    """
    import csv

    from mktai.data.read import sniff_delimiter
    from mktai.data.schema import ROLE_ALIASES

    if len(lines) < 2:
        return None
    delimiter = sniff_delimiter("\n".join(lines[:50]) + "\n")
    try:
        header = next(csv.reader([lines[0].lstrip("\ufeff")], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    if len(header) < 2:
        return None
    names = set(ROLE_ALIASES.get("text", ()))
    column = next((h for h in header if h.strip().lower().replace(" ", "_") in names), None)
    if column is None:
        return None
    sample = [line for line in lines[1:51] if line.strip()]
    try:
        widths = [len(next(csv.reader([line], delimiter=delimiter))) for line in sample]
    except csv.Error:
        return None
    if not widths or sum(w == len(header) for w in widths) < 0.8 * len(widths):
        return None
    return column
