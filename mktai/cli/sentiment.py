"""`mktai sentiment`: label + probability per review text (English and Chinese).

A thin shell over mktai.tasks.sentiment.family: texts come from the arguments, from stdin (`-`, one per
line) or from a file read by the cleaning layer (--input); the built-in model scores them unless
--model names a stored one. Results go to stdout or -o FILE; counts and warnings to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mktai.cli.options import (
    EncodingOpt,
    JsonOpt,
    OutputOpt,
    QuietOpt,
    StoreOpt,
    StrictOpt,
    json_needs_output,
)

if TYPE_CHECKING:
    import pandas as pd


def sentiment(
    ctx: typer.Context,
    texts: Annotated[
        list[str] | None,
        typer.Argument(help="Texts to score; '-' reads one text per line from stdin."),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="File of reviews (CSV/parquet/JSON lines...)."),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option("--column", "-c", help="Text column of --input (default: detected)."),
    ] = None,
    output: OutputOpt = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Stored sentiment model (name, name@v3, name@alias); default builtin.",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Add the n-grams that pushed each text to its label."),
    ] = False,
    lang: Annotated[
        str,
        typer.Option("--lang", help="auto (detect per text from CJK characters), en or zh."),
    ] = "auto",
    encoding: EncodingOpt = None,
    strict: StrictOpt = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score review texts: label and probability of that label, per text.

    Texts with nothing to read (empty, whitespace, numbers only) get the label "unknown".
    Without --model the built-in English + Chinese model is used (no training needed).

    Examples:

      mktai sentiment "Great product, fast delivery" "质量很差，不会再买了" --explain

      mktai sentiment --input reviews.csv --column review -o scored.csv

      cut -f2 reviews.tsv | mktai sentiment - > labels.csv
    """
    from mktai.cli import console
    from mktai.cli.options import resolve_flag
    from mktai.errors import UsageError

    if quiet:
        console.set_quiet(True)
    json_out = resolve_flag(ctx, "json", json_out)
    texts = list(texts or [])
    if input_file is None and not texts:
        raise UsageError(
            "give texts to score, '-' to read them from stdin, or --input FILE --column NAME"
        )
    if input_file is not None and texts:
        raise UsageError("give either texts (or '-') or --input FILE, not both")
    if column is not None and input_file is None:
        raise UsageError("--column names a column of --input FILE; add --input")
    if "-" in texts and len(texts) > 1:
        raise UsageError("'-' (read stdin) cannot be combined with texts on the command line")
    if input_file is not None:
        json_needs_output(json_out, output, "the scored rows")

    from mktai.api.sentiment import sentiment as run_sentiment
    from mktai.cli.options import resolve_store

    lines = None
    spooled = None
    if input_file is None:
        lines = texts
        if texts == ["-"]:
            data = _stdin_bytes()
            lines = _stdin_lines(encoding, data)
            spooled = _stdin_as_table(data, lines)
            if spooled is not None:
                input_file, column = spooled
                lines = None
                json_needs_output(json_out, output, "the scored rows")
    # a file's rows go straight to -o as they are scored (no frame kept)
    streamed = input_file is not None and output is not None
    try:
        result = run_sentiment(lines, input=input_file, column=column, model=model,
                               store=resolve_store(ctx, store), lang=lang, explain=explain,
                               encoding=encoding, strict=strict,
                               output=output if streamed else None)  # fmt: skip
    finally:
        if spooled is not None:
            spooled[0].unlink(missing_ok=True)
    if spooled is not None:
        result.summary["input"] = "<stdin>"
    frame, summary = result.frame, result.summary
    _report(summary)

    from mktai.data import write_table

    if streamed:
        console.info(f"wrote {summary['rows']:,} rows to {output}")
    elif output is not None:
        write_table(frame, output)
        console.info(f"wrote {len(frame):,} rows to {output}")
    elif json_out:
        summary["results"] = _records(frame)
    elif input_file is None and texts != ["-"]:
        _print_table(frame)
    else:
        write_table(frame, None)
    if json_out:
        console.print_json(summary)


def _report(summary: dict[str, Any]) -> None:
    from mktai.cli import console

    if not summary["rows"]:
        console.warn("no texts to score: the input is empty")
        return
    langs = ", ".join(f"{k} {v:,}" for k, v in summary["languages"].items()) or "none"
    labels = ", ".join(f"{k} {v:,}" for k, v in summary["labels"].items())
    console.info(
        f"scored {summary['rows']:,} texts with the {summary['model']} model "
        f"(languages: {langs}): {labels}"
    )
    if summary.get("output_columns"):
        console.info(
            "the input already has a label/probability column: the results are written as "
            "predicted_label and predicted_probability"
        )
    if summary.get("agreement_with_label_column") is not None:
        console.info(
            f"agreement with the file's own label column: "
            f"{summary['agreement_with_label_column']:.1%} of the scored rows"
        )
    if summary.get("rows_rejected_by_cleaning"):
        console.warn(
            f"{summary['rows_rejected_by_cleaning']:,} row(s) of {summary['input']} were "
            "rejected by cleaning and not scored (see `mktai ingest` for the rejects file)"
        )
    if summary["unknown"]:
        console.warn(
            f"{summary['unknown']:,} text(s) had nothing to read (empty, whitespace, numbers or "
            "punctuation only): labelled 'unknown' with no probability"
        )
    if summary["broken_encoding"]:
        console.warn(
            f"{summary['broken_encoding']:,} text(s) contain undecodable characters (U+FFFD); "
            "check the file encoding (--encoding gb18030, latin-1, ...)"
        )


def _stdin_lines(encoding: str | None = None, data: bytes | None = None) -> list[str]:
    """One text per line from stdin, in --encoding or the one the cleaning layer detects.

    Chinese exports are often GB18030; reading them as UTF-8 would score mojibake. Bytes that
    still do not decode become U+FFFD and are counted.
    """
    import codecs

    from mktai.data.read import detect_encoding
    from mktai.errors import UsageError

    if data is None:
        data = _stdin_bytes()
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
    else:
        encoding = detect_encoding(data, truncated=False)
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    text = data.decode(encoding, errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def _stdin_bytes() -> bytes:
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")


def _stdin_as_table(data: bytes, lines: list[str]) -> tuple[Path, str] | None:
    """A CSV piped to `sentiment -` (header naming a text column): a temp file and that column."""
    import tempfile

    from mktai.cli import console
    from mktai.tasks.sentiment.apply import csv_text_column

    column = csv_text_column(lines)
    if column is None:
        return None
    handle = tempfile.NamedTemporaryFile(prefix="mktai-stdin-", suffix=".csv", delete=False)
    with handle:
        handle.write(data)
    console.info(
        f"stdin is a CSV whose header names a text column ({column!r}): scored it as a table, "
        "every row with its columns (`--input - --column NAME` picks another column)"
    )
    return Path(handle.name), column


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import math

    records = frame.to_dict(orient="records")
    for record in records:
        p = record.get("probability")
        if isinstance(p, float) and math.isnan(p):
            record["probability"] = None
    return records


def _print_table(frame: pd.DataFrame) -> None:
    """The readable result table of free-text arguments, on stdout."""
    import math

    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    columns = ["text", "lang", "label", "probability"]
    if "explanation" in frame.columns:
        columns.append("explanation")
    for name in columns:
        table.add_column(name, overflow="fold", justify="right" if name == "probability" else None)
    for record in frame.to_dict(orient="records"):
        p = record["probability"]
        text = str(record["text"])
        cells = [
            text if len(text) <= 70 else text[:67] + "...",
            str(record["lang"]),
            str(record["label"]),
            "" if isinstance(p, float) and math.isnan(p) else f"{p:.3f}",
        ]
        if "explanation" in record:
            cells.append(str(record["explanation"]))
        table.add_row(*cells)
    Console(highlight=False, soft_wrap=False, width=160).print(table)
