"""`sentiment`: label + probability per review text, English and Chinese.

Texts come as a list or from a reviews file read by the cleaning layer (every row scored, in
order); the built-in model scores them unless `model` names a stored sentiment model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import Result, internal, store_root

if TYPE_CHECKING:
    import pandas as pd

BUILTIN = "built-in"


@dataclass
class SentimentResult(Result):
    """frame: text (or the file's columns), lang, label, probability[, explanation]."""

    model: str
    summary: dict[str, Any] = field(default_factory=dict)
    frame: pd.DataFrame | None = internal()
    columns: dict[str, Any] | None = internal()  # the frame's columns, when no frame was built

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "model": self.model}


def load_scorer(model: str | None, store: Path | str | None = None) -> tuple[Any, str]:
    """(scorer, its name): the stored sentiment model named by `model`, else the built-in one."""
    from mktai.tasks.sentiment import family as family

    if model is None or model.strip().lower() in ("builtin", BUILTIN):
        return family.default_model(), BUILTIN
    from mktai.errors import UsageError
    from mktai.store import Store

    version = Store(store_root(store)).load(model)
    if version.kind != "sentiment":
        raise UsageError(
            f"model {version.ref} is a {version.kind!r} model, not sentiment; train one with "
            "`mktai train sentiment REVIEWS.csv --name NAME`"
        )
    return family.load_model(version.path, version.manifest), version.ref


def sentiment(
    texts: list[str] | None = None,
    *,
    input: Path | str | None = None,  # noqa: A002 - mirrors --input
    column: str | None = None,
    model: str | None = None,
    store: Path | str | None = None,
    lang: str = "auto",
    explain: bool = False,
    encoding: str | None = None,
    strict: bool = False,
    output: Path | str | None = None,
) -> SentimentResult:
    """Score TEXTS, or every row of the reviews file INPUT (its text column: COLUMN or detected).

    OUTPUT: also write the result rows to this file (.csv, .parquet, .json, .jsonl; atomic:
    temp file + rename). With INPUT the rows are written as they are scored and not kept:
    result.frame is then None (the summary is the same); without OUTPUT, result.frame holds
    them.
    """
    from mktai.errors import UsageError
    from mktai.tasks.sentiment import apply

    if (input is None) == (texts is None):
        raise UsageError("give either texts or an input file to score, not both or neither")
    scorer, name = load_scorer(model, store)
    frame = None
    if input is not None and output is not None:
        summary = apply.score_file_to(scorer, Path(input), Path(output), column=column,
                                      lang=lang, explain=explain, encoding=encoding,
                                      strict=strict)  # fmt: skip
    elif input is not None:
        frame, summary = apply.score_file(scorer, Path(input), column=column, lang=lang,
                                          explain=explain, encoding=encoding, strict=strict)  # fmt: skip
    else:
        frame, summary = apply.score_texts(scorer, list(texts or []), lang=lang, explain=explain)
        if output is not None:
            from mktai.data import write_table

            write_table(frame, Path(output))
    summary["model"] = name
    return SentimentResult(model=name, summary=summary, frame=frame)
