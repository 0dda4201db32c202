"""Writing results: format from the extension, atomic replace, spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import UsageError
from mktai.files import process_alive

if TYPE_CHECKING:
    import pandas as pd

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
}
PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_special(path: Path | None) -> bool:
    """/dev/null, /dev/stdout, a named pipe: written in place, never via temp file + rename."""
    try:
        return path is not None and path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def output_format(path: Path | None) -> str:
    if path is None:
        return "csv"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None and is_special(path):
        return "csv"
    if fmt is None:
        raise UsageError(
            f"{path}: unknown output format {path.suffix!r}; use .csv, .parquet, .json or .jsonl"
        )
    return fmt


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    Categorical columns are text too (an API user's labels), and so are the column names: the
    header is a row of cells like any other. The caller's frame is never changed.
    """
    import re

    out = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind in "iufbmM":
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            # '-1' or '+3.5' kept as text (a user's own column given back) is a number, not a
            # formula: a spreadsheet reads it as the number, so it is left alone. Matched on
            # the risky cells only: over a whole review column the regex cost 0.2 s a 100k rows.
            rows = risky.to_numpy().nonzero()[0]
            plain = text.iloc[rows].str.fullmatch(PLAIN_NUMBER).fillna(False).to_numpy(bool)
            risky.iloc[rows[plain]] = False
        if risky.any():
            if out is frame:
                out = frame.copy()
            out[column] = text.mask(risky, "'" + text)
    names = [
        f"'{name}"
        if isinstance(name, str)
        and name.startswith(FORMULA_START)
        and not re.fullmatch(PLAIN_NUMBER, name)
        else name
        for name in frame.columns
    ]
    if names != list(frame.columns):
        out = out.set_axis(names, axis=1)  # a new frame: the caller's keeps its names
    return out


def _has_cr(frame: pd.DataFrame) -> bool:
    """A text cell holding a CR: the csv module quotes only the line terminator's characters
    (here LF), so such a cell would be written bare and read back as a broken row; this chunk
    is then written with every text cell quoted."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind in "iufbmM":
            continue
        if values.astype("string").str.contains("\r", regex=False).fillna(False).any():
            return True
    return False


def has_cr(frame: pd.DataFrame) -> bool:
    """Whether some text cell holds a CR (see _has_cr): a streamed CSV decides it once for the
    whole file, as a file written from one frame does."""
    return _has_cr(frame)


def csv_text(frame: pd.DataFrame, *, header: bool, quote_all: bool | None = None) -> str:
    """A chunk of the spreadsheet-safe CSV: formulas neutralised, LF line ends, every text
    cell quoted when a cell holds a CR (QUOTE_ALL: decided for this chunk unless given)."""
    safe = neutralise_formulas(frame)
    if quote_all is None:
        quote_all = _has_cr(safe)
    return safe.to_csv(
        index=False,
        header=header,
        lineterminator="\n",
        quoting=csv.QUOTE_NONNUMERIC if quote_all else csv.QUOTE_MINIMAL,
    )


# Key of the JSON that `mktai ingest` stores in a parquet's schema metadata ({"ingested": true,
# "deduplicated": bool, "mktai": version}), read back by data/load.py.
MKTAI_METADATA_KEY = b"mktai"

# pyarrow's page limits (max_rows_per_page, data_page_size), which parquet_options keeps.
PAGE_ROWS = 20_000
PAGE_BYTES = 1 << 20


def parquet_options(first: Any) -> dict[str, Any]:
    """pyarrow.parquet.ParquetWriter settings for a file whose first rows are the Arrow table
    `first`: snappy, the rows encoded per call (write_batch_size, see batch_rows) and min/max
    statistics for the columns that are not text (docs/parquet.md).

    Readers skip row groups by the statistics of numbers and dates (a date range, amounts);
    text statistics cost ~0.1 s of the ~0.6 s writing 2M transaction rows (each row's
    dictionary index hashed) and prune little in rows kept in file order, where nearly every
    row group spans the same countries, customers and products.
    """
    stats = [field.name for field in first.schema if not _is_text(field.type)]
    return {
        "compression": "snappy",
        "write_batch_size": batch_rows(first),
        "write_statistics": stats,
    }


def _is_text(kind: Any) -> bool:
    """Arrow strings, plain or dictionary-coded."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def batch_rows(first: Any) -> int:
    """Rows the parquet writer encodes per call: a page's worth (20,000 rows), fewer when the
    widest column of the first rows (Arrow; text plain or dictionary-coded) would pass the 1 MB
    a page aims at.

    Each call has a fixed cost, large for dictionary-coded text with statistics (the entries the
    call's rows use are found by a hash of their indices and a take of the entries): at pyarrow's
    default of 1,024 rows it was ~0.2 s of the ~0.75 s spent writing 2M transaction rows. Pages
    are cut at 20,000 rows or, checked after each call, once past 1 MB: with values under ~50
    bytes no page reaches 1 MB first, so the file is byte for byte the one 1,024-row calls
    write; wide text (reviews) gets smaller calls and keeps its pages near 1 MB.
    """
    rows = max(first.num_rows, 1)
    widest = 1.0
    for column in first.columns:
        widest = max(widest, column.nbytes / rows)
        for chunk in getattr(column, "chunks", [column]):
            if hasattr(chunk, "dictionary") and len(chunk.dictionary):  # coded text: an entry
                widest = max(widest, chunk.dictionary.nbytes / len(chunk.dictionary))
    return int(min(PAGE_ROWS, max(1024, PAGE_BYTES // widest)))


class TableWriter:
    """Streams DataFrame chunks to one file, written to a temp file and renamed at close.

    metadata: JSON-able facts stored in a parquet file's schema metadata (MKTAI_METADATA_KEY);
    ignored for text formats.
    """

    def __init__(self, path: Path | None, metadata: dict[str, Any] | None = None) -> None:
        self.path = path
        self.metadata = metadata
        self.format = output_format(path)
        self.rows = 0
        self._parquet: Any = None
        self._schema: Any = None
        self._handle: Any = None
        self._tmp: Path | None = None
        self._direct: Path | None = path if is_special(path) else None
        self._timed: set[Any] = set()  # datetime columns already written with a time of day
        if path is not None and self._direct is None:
            ensure_parent(path)
            reclaim_temps(path)
            try:
                fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror}") from None
            os.close(fd)
            self._tmp = Path(tmp)

    def write(self, frame: pd.DataFrame) -> None:
        """Append a chunk. Whether the header / the opening '[' is still due depends on what was
        written (an empty first chunk writes it), not on the row count: empty chunks (every row
        rejected) before or between others would otherwise repeat it."""
        started = self._handle is not None
        if self.format == "parquet":
            self._write_parquet(frame)
        elif self.format == "csv":
            self._write_text(csv_text(self._steady_timestamps(frame), header=not started))
        elif self.format == "jsonl":
            if len(frame):
                self._write_text(
                    frame.to_json(
                        orient="records", lines=True, date_format="iso", force_ascii=False
                    ).rstrip("\n")
                    + "\n"
                )
        else:  # json: one array, streamed
            body = frame.to_json(orient="records", date_format="iso", force_ascii=False)[1:-1]
            prefix = "[" if not started else ("," if body and self.rows else "")
            self._write_text(prefix + body)
        self.rows += len(frame)

    def write_csv_text(self, text: str, rows: int) -> None:
        """Append ROWS rows already formatted by csv_text (e.g. in worker processes, chunk by
        chunk in order: the header with the first chunk only). CSV output only."""
        if self.format != "csv":
            raise UsageError(f"{self.path}: formatted CSV text written to a {self.format} file")
        self._write_text(text)
        self.rows += rows

    def _steady_timestamps(self, frame: pd.DataFrame) -> pd.DataFrame:
        """pandas writes a datetime column whose chunk is all midnights as bare dates: once a
        column has been written with times of day, later chunks keep that format, so one file
        does not switch between '2011-01-02 00:00:00' and '2011-01-02' halfway."""
        out = frame
        for column in frame.columns:
            values = frame[column]
            if values.dtype.kind != "M" or getattr(values.dt, "tz", None) is not None:
                continue
            present = values.dropna()
            if not len(present):
                continue
            if (present != present.dt.normalize()).any():
                self._timed.add(column)
            elif column in self._timed:
                if out is frame:
                    out = frame.copy()
                out[column] = values.dt.strftime("%Y-%m-%d %H:%M:%S")
        return out

    def _write_text(self, text: str) -> None:
        if self._handle is None:
            target = self._tmp or self._direct
            if target is None:
                self._handle = sys.stdout
            else:
                self._handle = open(target, "w", encoding="utf-8", newline="")
        self._handle.write(text)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = self._tmp or self._direct
        if target is None:
            raise UsageError("parquet output needs a file: use -o FILE.parquet")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._schema = table.schema
            if self.metadata:
                import json

                extra = {MKTAI_METADATA_KEY: json.dumps(self.metadata).encode("utf-8")}
                self._schema = self._schema.with_metadata(
                    {**(self._schema.metadata or {}), **extra}
                )
                table = table.cast(self._schema)
            self._parquet = pq.ParquetWriter(str(target), self._schema, **parquet_options(table))
        else:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                from mktai.errors import InputError

                raise InputError(
                    f"{self.path}: rows {self.rows + 1:,} on have column types that differ from "
                    f"the first rows ({str(exc).splitlines()[0]}); write CSV or fix the input"
                ) from None
        self._parquet.write_table(table)

    def close(self, empty_frame: pd.DataFrame | None = None) -> None:
        """Finish the file and move it into place atomically."""
        if (
            self.rows == 0
            and empty_frame is not None
            and self._parquet is None
            and self._handle is None
        ):
            self.write(empty_frame)
        if self.format == "json":
            self._write_text("[" if self._handle is None else "")
            self._write_text("]\n")
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None and self._handle is not sys.stdout:
            self._handle.flush()
            if self._direct is None:
                os.fsync(self._handle.fileno())
            self._handle.close()
        elif self._handle is sys.stdout:
            sys.stdout.flush()
        if self._tmp is not None and self.path is not None:
            os.chmod(self._tmp, 0o666 & ~_umask())
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the output; the temp file goes even when closing fails (a full disk)."""
        try:
            if self._parquet is not None:
                self._parquet.close()
            if self._handle is not None and self._handle is not sys.stdout:
                self._handle.close()
        except OSError:
            pass  # the error that made us abort is the one reported
        finally:
            self._parquet = None
            self._handle = None
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: Path | None) -> None:
    """Write a whole table (stdout CSV when path is None); atomic for files."""
    writer = TableWriter(Path(path) if path is not None else None)
    try:
        writer.write(frame)
        writer.close()
    except BaseException:
        writer.abort()
        raise


def write_json(payload: Any, path: Path) -> None:
    """Atomic JSON file (reports, summaries), created with the usual permissions."""
    from mktai.files import output_mode, write_json_atomic

    ensure_parent(path)
    reclaim_temps(path)
    try:
        write_json_atomic(path, payload, mode=output_mode())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


# A temp file of an output that nothing has touched for this long belongs to no live writer.
STALE_TEMP_SECONDS = 3600.0


def temp_prefix(path: Path) -> str:
    """.NAME.PID. : the hidden temp file of an output names the process writing it."""
    return f".{path.name}.{os.getpid()}."


def reclaim_temps(path: Path) -> list[Path]:
    """Remove temp files of this same output left by killed runs (kill -9, OOM): at once when
    the writer that named itself in the file is gone, else when untouched for an hour."""
    import glob
    import time

    removed = []
    prefix = f".{path.name}."
    try:
        candidates = list(path.parent.glob(f"{glob.escape(prefix)}*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for temp in candidates:
        middle = temp.name[len(prefix) : -len(".tmp")]
        pid_text = middle.split(".", 1)[0] if "." in middle else ""
        try:
            stale = now - temp.lstat().st_mtime > STALE_TEMP_SECONDS
            if pid_text.isdigit() and int(pid_text) != os.getpid():
                stale = stale or not process_alive(int(pid_text))
            if stale and temp.is_file() and not temp.is_symlink():
                temp.unlink()
                removed.append(temp)
        except OSError:
            continue
    return removed


def ensure_parent(path: Path) -> None:
    """Create the folder of an output file, or say in one line why it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write {path}: {exc.strerror} ({exc.filename}); choose another path"
        ) from None
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long for the file system: exit 2, not an internal error
        raise UsageError(f"cannot write {path}: {exc.strerror}; choose another path") from None
    if is_dir:
        raise UsageError(f"cannot write {path}: it is a directory; give a file name")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
