"""Reading inputs on Spark: which files, how to parse them, and each row's place in its file.

The cleaning rules need to know, for every row, its source and its 0-based data row number in
that file (rejects name it, 'exact duplicate of row N' points at it, the first occurrence wins).
Spark keeps neither, so every row is tagged here: a file's rows are read by one task in file
order, so (file, split start, monotonically increasing id) orders them; one small aggregation
per split turns that into row numbers without a global sort.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mktai.data.read import Source
from mktai.errors import InputError, UsageError

REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SAMPLE_ROWS = 20_000
SRC, ROW, BAD, DUP = "__mktai_src", "__mktai_row", "__mktai_bad", "__mktai_dup"
# Python codec names -> the charset names Spark's (Java) CSV reader knows
JAVA_CHARSETS = {"utf-8-sig": "UTF-8", "utf8": "UTF-8", "cp1252": "windows-1252", "gbk": "GBK"}


@dataclass
class SparkInput:
    """The files of one run, in the order the local engine would read them."""

    sources: list[Source]
    uris: list[str]
    format: str  # csv | parquet
    encoding: str = "utf-8"
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    local: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sources]

    def close(self) -> None:
        for source in self.sources:
            source.cleanup()


def is_remote(spec: str) -> bool:
    return bool(REMOTE.match(spec)) and not spec.startswith("file://")


def expand(specs: Sequence[str | Path]) -> list[str]:
    """Paths in argument order; a local glob or directory becomes its files, sorted.

    Directories are what Spark writes (part files; _SUCCESS, .crc and hidden files skipped)."""
    out: list[str] = []
    for spec in specs:
        text = str(spec)
        if text == "-":
            raise UsageError("--engine spark reads files, not stdin; give a path")
        if is_remote(text):
            out.append(text)
            continue
        text = text.removeprefix("file://")
        if any(ch in text for ch in "*?["):
            matches = sorted(p for p in glob.glob(text) if Path(p).is_file())
            if not matches:
                raise InputError(f"{text}: no file matches; check the pattern")
            out.extend(matches)
        elif Path(text).is_dir():
            files = sorted(
                str(p)
                for p in Path(text).rglob("*")
                if p.is_file() and not p.name.startswith(("_", ".")) and p.suffix != ".crc"
            )
            if not files:
                raise InputError(f"{text}: the directory holds no data files")
            out.extend(files)
        else:
            out.append(text)
    return out


def resolve(spark: Any, specs: Sequence[str | Path], encoding: str | None) -> SparkInput:
    """Sniff the inputs the way the local engine does (local files) or from their head."""
    from mktai.data.read import open_source

    paths = expand(specs)
    if all(not is_remote(p) for p in paths):
        sources = []
        try:
            for path in paths:
                if path.lower().endswith(".zip"):
                    raise UsageError(f"{path}: --engine spark cannot read zip archives; unzip it")
                sources.append(open_source(path, encoding))
        except BaseException:
            for source in sources:
                source.cleanup()
            raise
        inp = SparkInput(sources, [str(Path(p).resolve()) for p in paths], sources[0].format)
        _check_same(inp)
        if inp.format == "csv":
            from mktai.data.read import _read_header

            inp.encoding, inp.delimiter = sources[0].encoding, sources[0].delimiter
            inp.header = _read_header(sources[0])
        return inp
    if any(not is_remote(p) for p in paths):
        raise UsageError("give either local paths or remote URIs (s3a://, hdfs://), not both")
    return _resolve_remote(spark, paths, encoding)


def _check_same(inp: SparkInput) -> None:
    first = inp.sources[0]
    for source in inp.sources[1:]:
        for what in ("format", "encoding", "delimiter"):
            if getattr(source, what) != getattr(first, what):
                raise UsageError(
                    f"{source.name}: {what} {getattr(source, what)!r} differs from "
                    f"{first.name} ({getattr(first, what)!r}); --engine spark reads files of one "
                    "format, encoding and delimiter together: run them separately"
                )


def _resolve_remote(spark: Any, uris: list[str], encoding: str | None) -> SparkInput:
    """Remote inputs (s3a://, hdfs://, gs://, abfss://): list them with Spark, sniff the head."""
    from mktai.data.read import DELIMITERS, sniff_delimiter

    parquet = all(u.lower().rstrip("/").endswith((".parquet", ".pq")) for u in uris)
    reader = spark.read.parquet if parquet else spark.read.text
    try:
        files = sorted(reader(*uris).inputFiles())
    except Exception as exc:
        raise InputError(f"{uris[0]}: cannot list the input ({_first_line(exc)})") from None
    if not files:
        raise InputError(f"{uris[0]}: no input files")
    sources = [
        Source(name=f, path=Path(f), format="parquet" if parquet else "csv",
               compression="gzip" if f.lower().endswith(".gz") else None,
               encoding=encoding or "utf-8")
        for f in files
    ]  # fmt: skip
    inp = SparkInput(sources, files, sources[0].format, encoding=encoding or "utf-8", local=False)
    inp.notes.append("remote inputs: sha256 of the input bytes not computed")
    if not parquet:
        lines = [
            r.value
            for r in spark.read.option("encoding", java_charset(inp.encoding))
            .text(files[0])
            .limit(200)
            .collect()
        ]
        text = "\n".join(lines).lstrip("\ufeff")
        inp.delimiter = sniff_delimiter(text) if text.strip() else DELIMITERS[0]
        header = next(csv.reader(io.StringIO(text), delimiter=inp.delimiter), None)
        if not header:
            raise InputError(f"{files[0]}: the file is empty; expected a header row and data")
        inp.header = [h if h.strip() else f"column_{i + 1}" for i, h in enumerate(header)]
        for source in sources:
            source.delimiter = inp.delimiter
    return inp


class missing_paths:
    """A path Spark cannot see becomes a one-line input error (over Spark Connect the paths are
    the server's, so a client-side file may not exist there) instead of a JVM trace."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        from pyspark.errors import AnalysisException

        if not isinstance(exc, AnalysisException) or "PATH_NOT_FOUND" not in str(exc):
            return
        from mktai.engines.spark_session import is_connect

        hint = (
            "; over Spark Connect paths are the server's: give a URI both sides see (s3a://, "
            "hdfs://) or a file system mounted on both"
            if is_connect(self.spark)
            else ""
        )
        raise InputError(f"Spark cannot read the input ({_first_line(exc)}){hint}") from None


def java_charset(encoding: str) -> str:
    return JAVA_CHARSETS.get(encoding.lower().replace("_", "-"), encoding)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def raw_columns(inp: SparkInput) -> list[str]:
    return [f"c{i}" for i in range(len(inp.header))]


def read_tagged(spark: Any, inp: SparkInput, held: list[Any]) -> tuple[Any, list[str]]:
    """(DataFrame of the raw columns + SRC, ROW, BAD, persisted; the raw column names).

    The persisted frame is appended to `held` (the caller unpersists it when done).

    CSV fields are strings exactly as the local reader gives them ('' for an empty field);
    BAD holds the text of a line with the wrong number of fields (else null). Parquet keeps its
    types (the cleaner handles typed input as it does locally) and uses the file's row index.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from mktai.engines.spark_session import cache_level

    if inp.format == "parquet":
        frame = spark.read.parquet(*_spark_paths(inp))
        columns = list(frame.columns)
        frame = frame.select(
            *[F.col(f"`{c}`") for c in columns],
            F.col("_metadata.file_path").alias("__file"),
            F.lit(0).cast("long").alias("__block"),
            F.col("_metadata.row_index").alias("__mid"),
            F.lit(None).cast("string").alias(BAD),
        )
    else:
        columns = raw_columns(inp)
        schema = StructType(
            [StructField(c, StringType()) for c in columns] + [StructField(BAD, StringType())]
        )
        reader = (
            spark.read.schema(schema)
            .option("header", True)
            .option("multiLine", True)  # quoted line breaks, as the local reader allows
            .option("quote", '"')
            .option("escape", '"')
            .option("sep", inp.delimiter)
            .option("encoding", java_charset(inp.encoding))
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", BAD)
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .option("maxCharsPerColumn", -1)
            .option("enforceSchema", True)
        )
        frame = reader.csv(_spark_paths(inp))
        frame = frame.select(
            *[F.coalesce(F.col(c), F.lit("")).alias(c) for c in columns],
            F.col(BAD),
            F.col("_metadata.file_path").alias("__file"),
            F.col("_metadata.file_block_start").alias("__block"),
            F.monotonically_increasing_id().alias("__mid"),
        )
    frame = frame.persist(cache_level())
    held.append(frame)
    splits = frame.groupBy("__file", "__block").agg(
        F.count(F.lit(1)).alias("n"), F.min("__mid").alias("first")
    )
    table = _row_offsets(inp, splits.collect())
    offsets = spark.createDataFrame(table, "__file string, __block long, src int, base long")
    tagged = frame.join(F.broadcast(offsets), ["__file", "__block"]).select(
        *[F.col(f"`{c}`") for c in columns],
        F.col(BAD),
        F.col("src").alias(SRC),
        (F.col("base") + F.col("__mid")).alias(ROW),
    )
    return tagged, columns


def _row_offsets(inp: SparkInput, splits: list[Any]) -> list[tuple[str, int, int, int]]:
    """Per (file, split): source index and what to add to the id to get the data row number."""
    by_path = {_normal(u): i for i, u in enumerate(inp.uris)}
    rows: list[tuple[str, int, int, int]] = []
    per_file: dict[str, list[Any]] = {}
    for split in splits:
        per_file.setdefault(split["__file"], []).append(split)
    for name, parts in per_file.items():
        index = by_path.get(_normal(name))
        if index is None:
            raise InputError(f"{name}: read by Spark but not among the inputs; report this")
        start = 0
        for part in sorted(parts, key=lambda p: p["__block"]):
            rows.append((name, int(part["__block"]), index, start - int(part["first"])))
            start += int(part["n"])
    return rows


def _normal(uri: str) -> str:
    text = unquote(uri)
    text = re.sub(r"^file:(//)?", "", text)
    return os.path.normpath(text) if not REMOTE.match(text) else text.rstrip("/")


def _spark_paths(inp: SparkInput) -> list[str]:
    return [u if REMOTE.match(u) else "file://" + u for u in inp.uris]


def sample_frame(spark: Any, inp: SparkInput, tagged: Any, columns: list[str]) -> Any:
    """The rows the local engine plans from: its first batch of the first file (plus rows
    from across a plain CSV file, as mktai.data.load does); remote: the first SAMPLE_ROWS."""
    from mktai.data.read import empty_frame, iter_batches

    if inp.local:
        bad: list[Any] = []
        batches = iter_batches(inp.sources[0], bad)
        try:
            first = next(batches, None)
        finally:
            batches.close()
        if first is None:
            return empty_frame(inp.sources[0])
        from mktai.data.load import _plan_sample  # the local engine's sample, exactly

        return _plan_sample(inp.sources[0], first)
    from pyspark.sql import functions as F

    rows = (
        tagged.filter((F.col(SRC) == 0) & F.col(BAD).isNull())
        .orderBy(ROW)
        .limit(SAMPLE_ROWS)
        .select(*[F.col(f"`{c}`") for c in columns])
        .toArrow()
    )
    frame = rows.to_pandas()
    if inp.format == "csv":
        frame.columns = inp.header
    return frame
