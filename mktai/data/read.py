"""Reading hostile CSV exports: encodings, delimiters, compression, stdin and parquet.

Everything is streamed in record batches of strings (pyarrow's CSV reader), so a multi-GB file
needs bounded memory and type decisions are made by the cleaning layer, not by guesswork here.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

SNIFF_BYTES = 256 * 1024
BLOCK_SIZE = 8 * 1024 * 1024
# The one limit on a field (and a row): pyarrow cannot parse a row much longer than a block, and
# a field this large is almost always a quote that is never closed swallowing the rest of the file.
MAX_FIELD_BYTES = BLOCK_SIZE
# Wider tables are exports of something else (a matrix, a pivot); cleaning keeps per-column state.
MAX_COLUMNS = 5_000
DELIMITERS = (",", ";", "\t", "|")
CANDIDATE_ENCODINGS = ("utf-8", "gb18030", "cp1252")


@dataclass
class Source:
    """One input file as the reader sees it (stdin and zip members are spooled to a temp file)."""

    name: str
    path: Path
    format: str = "csv"  # csv | parquet
    compression: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)
    _temp: Path | None = None
    _digest: _Digest | None = None

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the input bytes (computed in a background thread while reading)."""
        return self._digest.result() if self._digest is not None else ""

    def cleanup(self) -> None:
        if self._digest is not None:
            self._digest.result()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)


class _Digest:
    """SHA-256 of a file in a thread: hashlib releases the GIL, so it overlaps the cleaning."""

    def __init__(self, path: Path) -> None:
        import threading

        self._value = ""
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if _small(path):  # a request body: hashing it costs less than starting a thread
            self._run(path)
            return
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = _sha256(path)
        except BaseException as exc:  # reported when the digest is asked for
            self._error = exc

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise InputError(f"cannot read the input to fingerprint it ({self._error})")
        return self._value


SMALL_INPUT = 256 * 1024  # bytes: read without helper threads (a server's request bodies)


def _small(path: Path) -> bool:
    """True for inputs small enough that a helper thread costs more than the work it hides."""
    try:
        return path.stat().st_size <= SMALL_INPUT
    except OSError:
        return False


def small_source(source: Source) -> bool:
    """An uncompressed CSV or parquet file of at most SMALL_INPUT bytes."""
    return source.compression is None and _small(source.path)


def _spool(stream: io.BufferedIOBase, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="mktai-in-", suffix=suffix, delete=False)
    with handle:
        shutil.copyfileobj(stream, handle, length=1 << 20)
    return Path(handle.name)


@dataclass(frozen=True)
class InMemory:
    """Input bytes held in memory (an HTTP request body), named as errors should call it.

    Spooled to a temp file like stdin, so it is read by exactly the same code as a file.
    cells: the header and rows the bytes were written from, when a caller has them (a JSON
    request body turned into CSV): mktai.data.small reads few plain rows from them instead.
    """

    data: bytes
    name: str = "<request>"
    cells: tuple[list[str], list[list[str]]] | None = field(default=None, compare=False,
                                                            repr=False)  # fmt: skip


def open_source(spec: str | Path | InMemory, encoding: str | None = None) -> Source:
    """Resolve a path, '-' (stdin), in-memory bytes or an archive to a Source with sniffed
    encoding/delimiter."""
    spec_str = spec.name if isinstance(spec, InMemory) else str(spec)
    temp: Path | None = None
    if isinstance(spec, InMemory):
        path = temp = _spool(io.BytesIO(spec.data), ".csv")
        name = spec.name
    elif spec_str == "-":
        path = temp = _spool(sys.stdin.buffer, ".csv")
        name = "<stdin>"
    else:
        path = Path(spec_str)
        name = spec_str
        if not path.exists():
            raise InputError(f"{name}: file not found; check the path")
        if path.is_dir():
            raise InputError(f"{name}: is a directory; give a CSV or parquet file")
    lower = name.lower()
    if lower.endswith(".zip"):
        path = temp = _unzip(path, name)
        lower = path.name.lower()
    source = Source(name=name, path=path, _temp=temp)
    source._digest = _Digest(path)
    if lower.endswith((".parquet", ".pq")) or _is_parquet(path):
        source.format = "parquet"
        return source
    if lower.endswith(".gz") or _starts_with(path, b"\x1f\x8b"):
        source.compression = "gzip"
    elif lower.endswith(".bz2"):
        source.compression = "bz2"
    head = _head_bytes(path, source.compression)
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name}: looks like a binary file, not CSV text; export it as CSV")
    source.encoding = encoding or detect_encoding(head)
    if encoding:
        try:
            head.decode(encoding, errors="strict")
        except LookupError:
            raise InputError(f"--encoding {encoding!r}: unknown encoding name") from None
        except UnicodeDecodeError:
            pass  # the head may end mid-character; the reader reports real errors per file
    if head.startswith(b"\xef\xbb\xbf") and source.encoding.lower().replace("_", "-") in (
        "utf-8",
        "utf8",
    ):
        source.encoding = "utf-8-sig"  # --encoding utf-8 on a file with a BOM: drop the BOM
    text = head.decode(source.encoding, errors="replace").lstrip("\ufeff")
    source.delimiter = sniff_delimiter(text)
    return source


def _unzip(path: Path, name: str) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(f"{name}: not a valid zip archive") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        if len(members) != 1:
            listed = ", ".join(m.filename for m in members[:5])
            raise InputError(
                f"{name}: the zip holds {len(members)} files ({listed}); "
                "unzip it and pass the CSV files you want"
            )
        suffix = Path(members[0].filename).suffix or ".csv"
        with archive.open(members[0]) as member:
            return _spool(member, suffix)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(magic)) == magic


def _is_parquet(path: Path) -> bool:
    return _starts_with(path, b"PAR1")


def _head_bytes(path: Path, compression: str | None, size: int = SNIFF_BYTES) -> bytes:
    if compression == "gzip":
        import gzip

        opener: Any = gzip.open
    elif compression == "bz2":
        import bz2

        opener = bz2.open
    else:
        opener = open
    try:
        with opener(path, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read ({exc}); is the file compressed correctly?"
        ) from None


def _decodes(head: bytes, encoding: str, truncated: bool) -> str | None:
    """The sample decoded, forgiving a multi-byte character cut off at the end of a sample."""
    try:
        return head.decode(encoding)
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(head) - 4:
            try:
                return head[: exc.start].decode(encoding)
            except UnicodeDecodeError:
                return None
        return None


def _chinese_share(text: str) -> float:
    """Share of non-ASCII characters that look like real Chinese text in GB18030.

    Common hanzi and CJK punctuation are in GB2312 (both bytes >= 0xA1) or need GB18030's
    four-byte form (e.g. ¥); Latin-1 text misread as GBK ('Renée' -> 'Ren閑') lands in the GBK
    extension, where the second byte is an ASCII letter, so it scores low.
    """
    high = [c for c in text if ord(c) > 127]
    if not high:
        return 0.0
    good = 0
    for char in set(high):
        try:
            char.encode("gb2312")
            ok = True
        except UnicodeEncodeError:
            ok = len(char.encode("gb18030")) == 4
        if ok:
            good += high.count(char)
    return good / len(high)


def detect_encoding(head: bytes, truncated: bool | None = None) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, GB18030 when the bytes read as Chinese,
    else cp1252. `truncated`: the sample is the start of a longer file (default: it is as long
    as SNIFF_BYTES), so a character cut at its end is not evidence against an encoding."""
    if truncated is None:
        truncated = len(head) >= SNIFF_BYTES
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if _decodes(head, "utf-8", truncated) is not None:
        return "utf-8"
    text = _decodes(head, "gb18030", truncated)
    if text is not None and _chinese_share(text) >= 0.6:
        return "gb18030"
    return "cp1252"


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most consistent, >1 field count over the first lines."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    sample = "\n".join(lines)
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        counts = [len(r) for r in rows if r]
        if not counts or counts[0] < 2:
            continue
        header = counts[0]
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = consistent * 10 + min(header, 50) / 50
        if score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass
class BadRow:
    """A line the CSV parser could not split into the header's columns."""

    text: str
    expected: int
    actual: int


def iter_batches(
    source: Source, bad_rows: list[BadRow], *, dictionary: bool = False
) -> Iterator[pa.RecordBatch]:
    """Record batches with every column as string (parquet keeps its own types).

    dictionary=True: CSV columns come dictionary-encoded (the same strings, each distinct value
    of a batch stored once). The CSV reader builds the dictionaries in its own threads, outside
    the GIL, and the cleaner then trims, casts and hashes only the distinct values of a batch
    (most export columns repeat a few thousand values); `plain_strings` gives the strings back.
    """
    import pyarrow as pa

    if source.format == "parquet":
        yield from _iter_parquet(source)
        return
    import pyarrow.csv as pcsv

    def on_invalid(row: Any) -> str:
        bad_rows.append(BadRow(row.text or "", row.expected_columns, row.actual_columns))
        return "skip"

    fields = _read_header_fields(source)
    header = _header_names(source, fields)
    # The header line goes through pyarrow too (not skip_rows, which is not quote-aware), so
    # both parsers agree on where the data starts; it is checked and dropped below.
    read_options = pcsv.ReadOptions(
        block_size=BLOCK_SIZE,
        encoding=source.encoding,
        column_names=[f"c{i}" for i in range(len(header))],
    )
    parse_options = pcsv.ParseOptions(
        delimiter=source.delimiter,
        newlines_in_values=True,
        invalid_row_handler=on_invalid,
    )
    cell = pa.dictionary(pa.int32(), pa.string()) if dictionary else pa.string()
    convert_options = pcsv.ConvertOptions(
        column_types={f"c{i}": cell for i in range(len(header))},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )
    # pyarrow decodes a malformed line's text before calling on_invalid; bytes that are not
    # valid in the encoding make that fail outside our code ("Exception ignored in ...").
    # Catch those reports while reading and turn them into the encoding error they are.
    undecodable: list[BaseException] = []
    previous_hook = sys.unraisablehook

    def hook(report: Any) -> None:
        if isinstance(report.exc_value, UnicodeDecodeError) and report.object is on_invalid:
            undecodable.append(report.exc_value)
            return
        previous_hook(report)

    sys.unraisablehook = hook
    throttle: _Throttle | None = None
    reader: Any = None
    exhausted = False
    try:
        # block_size counts decoded bytes; UTF-16/32 input takes 2-4 raw bytes for each
        wide = 4 if "32" in source.encoding else 2 if "16" in source.encoding else 1
        throttle = _Throttle(_open_stream(source), BLOCK_SIZE * wide)
        reader = pcsv.open_csv(
            pa.PythonFile(throttle, mode="r"),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        rows = 0
        # physical line of the next data row: after the header and the line breaks held in
        # the fields before it (so an unclosed quote is reported where it opened)
        line = 2 + sum(f.count("\n") for f in fields)
        newline = _line_break(source)
        first = True
        for batch in throttle.batches(reader):
            if first and batch.num_rows:
                first = False
                seen = [batch.column(i)[0].as_py() for i in range(batch.num_columns)]
                if [f.lstrip("\ufeff") for f in seen] != fields:
                    raise InputError(
                        f"{source.name}: the header row cannot be read consistently (a quote or "
                        "line break inside it?); fix the first line"
                    )
                batch = _without_header_entries(batch.slice(1))
            _check_field_sizes(source, batch, header, rows)
            line += batch.num_rows + _check_unclosed_quotes(source, batch, header, line, newline)
            rows += batch.num_rows
            yield pa.RecordBatch.from_arrays(batch.columns, names=header)
        exhausted = True
        if undecodable:  # a line was lost to a decoding failure: never finish silently
            raise pa.ArrowInvalid("undecodable line")
    except pa.ArrowInvalid as exc:
        if undecodable:
            raise InputError(
                f"{source.name}: not valid {source.encoding} text "
                f"({undecodable[0].reason}); pass the right --encoding (e.g. gb18030, cp1252)"
            ) from None
        raise InputError(_explain_arrow_error(source, exc)) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source.name}: not valid {source.encoding} text ({exc.reason} at byte {exc.start}); "
            "pass the right --encoding (e.g. gb18030, cp1252)"
        ) from None
    except UnicodeError as exc:
        raise InputError(
            f"{source.name}: not valid {source.encoding} text ({exc}); "
            "pass the right --encoding (e.g. utf-8, gb18030, cp1252)"
        ) from None
    finally:
        if throttle is not None:
            # pyarrow's read-ahead thread may be parked in throttle.read(); left there, it wakes
            # up during interpreter shutdown and aborts the process (PyGILState_Release)
            throttle.stop()
            if reader is not None and not exhausted:
                _drain(reader)
        sys.unraisablehook = previous_hook


def _drain(reader: Any) -> None:
    """Run a CSV reader stopped early (an error, Ctrl-C) to its end.

    After _Throttle.stop every read ends the stream, but pyarrow's read-ahead still holds
    blocks to parse and may ask for one more read. A reader dropped then leaves tasks in
    Arrow's thread pool that call back into Python (the file wrapper) after the interpreter
    has shut down: the process hung in the pool's shutdown or crashed at exit (SIGSEGV) when
    `mktai ingest` was interrupted in its first seconds. Reading it to the end (a few blocks at
    most) leaves no such task; parse errors of the cut stream do not matter here.
    """
    with contextlib.suppress(Exception):
        while True:
            reader.read_next_batch()


def _without_header_entries(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The first batch with the header's words taken out of its column dictionaries.

    The header line is parsed as a row and sliced off, but its text stays entry 0 of each
    dictionary; a number column's dictionary then holds 'age' beside '58', the cleaner's cast
    of the distinct values fails and the whole batch takes the pandas parsers (~0.6 ms per
    column on a one-row request). The entry is dropped only when no data row uses it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for array in batch.columns:
        if pa.types.is_dictionary(array.type) and len(array) and not array.null_count:
            low = pc.min(array.indices).as_py()
            if low is not None and low >= 1 and len(array.dictionary):
                indices = pc.subtract(array.indices, pa.scalar(1, array.indices.type))
                array = pa.DictionaryArray.from_arrays(indices, array.dictionary.slice(1))
        columns.append(array)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class _Throttle:
    """A file wrapper that keeps pyarrow's CSV reader at most AHEAD blocks ahead of the consumer.

    pyarrow's streaming reader otherwise reads and parses ahead as fast as the disk allows, so
    memory grows with the file when cleaning is slower than parsing. When the consumer has been
    waiting for a batch for a while (a row longer than the look-ahead), reads are let through.
    """

    AHEAD = 3
    PATIENCE = 1.0  # seconds the consumer waits before the limit is lifted for that batch

    def __init__(self, raw: Any, block: int) -> None:
        import threading

        self.raw = raw
        self.block = block
        self.read_bytes = 0
        self.consumed = 0
        self.waiting_since: float | None = None
        self.stopped = False
        self.active = 0  # reads in progress (in pyarrow's read-ahead thread)
        self.cond = threading.Condition()

    def batches(self, reader: Any) -> Iterator[Any]:
        import time

        iterator = iter(reader)
        while True:
            with self.cond:
                self.waiting_since = time.monotonic()
            try:
                batch = next(iterator)
            except StopIteration:
                return
            finally:
                with self.cond:
                    self.waiting_since = None
                    self.consumed += 1
                    self.cond.notify_all()
            yield batch

    def _may_read(self) -> bool:
        import time

        if self.read_bytes < (self.consumed + self.AHEAD) * self.block:
            return True
        since = self.waiting_since
        return since is not None and time.monotonic() - since > self.PATIENCE

    def read(self, size: int = -1) -> bytes:
        with self.cond:
            while not self.stopped and not self._may_read():
                self.cond.wait(0.1)
            if self.stopped:
                return b""  # end of file for the read-ahead: it stops asking
            self.active += 1
        try:
            data = self.raw.read(size)
        finally:
            with self.cond:
                self.active -= 1
                self.cond.notify_all()
        self.read_bytes += len(data)
        return data

    def stop(self, timeout: float = 10.0) -> None:
        """End the stream for pyarrow's read-ahead thread and wait until no read is running."""
        import time

        deadline = time.monotonic() + timeout
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
            while self.active and time.monotonic() < deadline:
                self.cond.wait(0.05)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    def close(self) -> None:
        self.raw.close()


def _check_field_sizes(
    source: Source, batch: pa.RecordBatch, header: list[str], offset: int
) -> None:
    """Refuse fields over MAX_FIELD_BYTES with the row and column, before they fill memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, column in enumerate(batch.columns):
        # a dictionary holds every distinct value once: a field over the limit is in it
        values = column.dictionary if pa.types.is_dictionary(column.type) else column
        if values.get_total_buffer_size() < MAX_FIELD_BYTES:
            continue  # the whole column is smaller than the limit
        column = plain_strings(column)
        lengths = pc.binary_length(column)
        largest = pc.max(lengths).as_py() or 0
        if largest > MAX_FIELD_BYTES:
            row = offset + pc.index(lengths, largest).as_py() + 1
            raise InputError(
                f"{source.name}: data row {row}, column {header[index]!r} holds a "
                f"{largest / (1 << 20):.1f} MB field (limit {MAX_FIELD_BYTES >> 20} MB); "
                "a quote is probably never closed - fix the quoting or split the field"
            )


# A quoted field spanning this many lines, most of which split into the header's columns, is a
# quote that was never closed swallowing the rows after it.
RUNAWAY_LINES = 10
RUNAWAY_SHARE = 0.8


def _line_break(source: Source) -> str:
    """The line break that fields hold: '\n' (LF, CRLF) or '\r' for old Mac files."""
    head = _head_bytes(source.path, source.compression)
    return "\r" if b"\r" in head and b"\n" not in head else "\n"


def _check_unclosed_quotes(
    source: Source, batch: pa.RecordBatch, header: list[str], line: int, newline: str
) -> int:
    """Refuse a field that swallowed the following rows (exit 2, naming the line where its
    quote opened); returns the line breaks held in the batch's fields for line numbering."""
    import pyarrow.compute as pc

    held = 0
    suspects: list[tuple[int, int]] = []  # (row in batch, column)
    for index, column in enumerate(batch.columns):
        total = _count_in_values(column, newline)
        held += total
        if total < RUNAWAY_LINES or len(header) < 2:
            continue
        column = plain_strings(column)
        many = pc.greater_equal(pc.count_substring(column, newline), RUNAWAY_LINES)
        for row in pc.indices_nonzero(many).to_pylist()[:20]:
            suspects.append((row, index))
    for row, index in sorted(suspects):
        value = batch.column(index)[row].as_py() or ""
        lines = value.split(newline)[1:1001]
        like_rows = sum(1 for text in lines if text.count(source.delimiter) == len(header) - 1)
        if like_rows >= RUNAWAY_LINES and like_rows >= RUNAWAY_SHARE * len(lines):
            before = batch.slice(0, row)
            opened = line + row + sum(_count_in_values(c, newline) for c in before.columns)
            spans = value.count(newline) + 1
            raise InputError(
                f"{source.name}: line {opened:,}: the quote opened in column {header[index]!r} "
                f"is never closed: the field runs on over {spans:,} lines that look like rows "
                "of this file; close the quote (or double it inside the text) and run again"
            )
    return held


def _count_in_values(column: pa.Array, text: str) -> int:
    """How often `text` occurs in a string column, over its raw value bytes (one memchr-speed
    pass; most columns hold no line break at all)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        if not _count_in_values(column.dictionary, text):
            return 0  # no distinct value holds it: nor does any row
        column = plain_strings(column)
    if not pa.types.is_string(column.type) or len(column) == 0:
        return int(pc.sum(pc.count_substring(column, text)).as_py() or 0)
    _validity, offsets, data = column.buffers()
    if data is None:
        return 0
    bounds = np.frombuffer(offsets, dtype=np.int32)
    start, end = int(bounds[column.offset]), int(bounds[column.offset + len(column)])
    return memoryview(data)[start:end].tobytes().count(text.encode())


def plain_strings(column: Any) -> Any:
    """A dictionary-encoded column (iter_batches(dictionary=True)) as the plain array it stands
    for; any other column unchanged."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    return column


def row_indices(indices: Any) -> Any:
    """A dictionary column's indices (Arrow int32, no nulls) as NumPy intp, the index type
    NumPy gathers with: distinct[int32 indices] converts them inside the gather and costs
    ~2x distinct[intp indices] plus the conversion (every batch spreads a dozen columns'
    distinct values to the rows this way)."""
    import numpy as np

    return np.asarray(indices).astype(np.intp)


def plain_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """plain_strings on every column of a batch."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(t) for t in batch.schema.types):
        return batch
    return pa.RecordBatch.from_arrays(
        [plain_strings(c) for c in batch.columns], names=batch.schema.names
    )


def empty_frame(source: Source) -> Any:
    """An empty table of strings with the source's header (for header-only files)."""
    import pandas as pd

    if source.format == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(str(source.path)).schema_arrow.empty_table().to_pandas()
    return pd.DataFrame({name: pd.Series(dtype="object") for name in _read_header(source)})


def _open_stream(source: Source) -> Any:
    import pyarrow as pa

    raw = pa.OSFile(str(source.path), "rb")
    if source.compression:
        return pa.CompressedInputStream(raw, source.compression)
    return raw


def _read_header_fields(source: Source) -> list[str]:
    """The first CSV record as written (quote-aware, any of \\n, \\r\\n, \\r line ends).

    A header wider than the sniffing sample (300,000 columns) is read on to its end, up to the
    field/row limit; past that it is refused, never cut into a shorter header.
    """
    head = _head_bytes(source.path, source.compression)
    text = head.decode(source.encoding, errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise InputError(f"{source.name}: the file is empty; expected a header row and data")
    fields, complete = _first_record(source, text)
    if not complete and len(head) >= SNIFF_BYTES:
        head = _head_bytes(source.path, source.compression, MAX_FIELD_BYTES + 1)
        text = head.decode(source.encoding, errors="replace").lstrip("\ufeff")
        fields, complete = _first_record(source, text)
        if not complete and len(head) > MAX_FIELD_BYTES:
            raise InputError(
                f"{source.name}: the header row is longer than the {MAX_FIELD_BYTES >> 20} MB "
                f"row limit (over {len(fields):,} columns before the cut); keep the columns "
                "you need (e.g. with `cut -d, -f1-100`) and run again"
            )
    if len(fields) > MAX_COLUMNS:
        raise InputError(
            f"{source.name}: the header row names {len(fields):,} columns, more than the "
            f"{MAX_COLUMNS:,} mktai reads; keep the columns you need and run again"
        )
    return fields


def _first_record(source: Source, text: str) -> tuple[list[str], bool]:
    """(fields of the first record, whether text went on after it)."""
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=source.delimiter)
    try:
        fields = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"{source.name}: cannot read the header row ({exc})") from None
    return fields, stream.tell() < len(text)


def _header_names(source: Source, fields: list[str]) -> list[str]:
    if not any(h.strip() for h in fields):
        raise InputError(
            f"{source.name}: the header row is empty; the first line must name columns"
        )
    return [h if h.strip() else f"column_{i + 1}" for i, h in enumerate(fields)]


def _read_header(source: Source) -> list[str]:
    return _header_names(source, _read_header_fields(source))


def _explain_arrow_error(source: Source, exc: Exception) -> str:
    message = str(exc)
    if "invalid utf8" in message.lower():
        return (
            f"{source.name}: not valid {source.encoding} text; "
            "pass the right --encoding (e.g. gb18030, cp1252)"
        )
    if "straddling" in message or "block size" in message.lower():
        return (
            f"{source.name}: a row or field is larger than the {MAX_FIELD_BYTES >> 20} MB limit "
            "(a quote that is never closed?); fix the quoting or split the field"
        )
    return f"{source.name}: cannot parse as CSV ({message.splitlines()[0]})"


def _iter_parquet(source: Source) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(str(source.path))
        for batch in parquet.iter_batches(batch_size=200_000):
            yield _flatten_nested(batch)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{source.name}: not a readable parquet file ({exc})") from None


def _flatten_nested(batch: pa.RecordBatch) -> pa.RecordBatch:
    """List, struct and map columns become JSON text: tables here are flat."""
    import json

    import pyarrow as pa

    columns = []
    for column in batch.columns:
        if pa.types.is_nested(column.type):
            column = pa.array(
                [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()],
                type=pa.string(),
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def file_size(path: Path) -> int:
    return os.stat(path).st_size
