"""The cleaning pipeline over one or more sources: stream batches, clean, count, report."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.data.clean import (
    SAMPLE_ROWS,
    Cleaner,
    Deduper,
    Plan,
    empty_rejects,
    free_name,
    make_plan,
)
from mktai.data.read import (
    BadRow,
    InMemory,
    Source,
    empty_frame,
    iter_batches,
    open_source,
    plain_batch,
    small_source,
)
from mktai.data.table import CleanTable
from mktai.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass
class Stream:
    """A cleaning run in progress: iterate `chunks()`, then read `report` / `table_info()`."""

    sources: list[Source]
    kind: str | None
    mapping: dict[str, str]
    required: tuple[str, ...]
    plan: Plan | None = None
    cleaners: list[Cleaner] = field(default_factory=list)
    bad_rows: dict[str, list[BadRow]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dedupe: bool = True  # False keeps exact duplicates (and memory flat: no row hashes kept)
    keep_raw: bool = False  # keep each kept row as read (CleanTable.raw), for scoring output
    # clean rows of a single source as data.coded.CodedChunk (text not decoded): the parquet
    # writer of `mktai ingest` takes them as they are
    coded: bool = False
    not_deduplicated_again: list[str] = field(default_factory=list)  # ingested parquet files
    # header -> plan decided earlier (a server's stream of small requests): reused, not re-inferred
    plans: MutableMapping[tuple[str, ...], Plan] | None = None
    _running: list[Any] = field(default_factory=list)  # chunks() generators, for close()

    def _plan_for(self, source: Source, raw: Any) -> Plan:
        """The plan for this header: a copy of one decided before (plans), else a new one."""
        import copy

        if self.plans is None:
            return make_plan(_plan_sample(source, raw), self.kind, self.mapping, self.required)
        header = tuple(map(str, raw.schema.names))
        known = self.plans.get(header)
        if known is not None:
            return copy.deepcopy(known)  # the cleaner may fix a date order in its copy
        plan = make_plan(_plan_sample(source, raw), self.kind, self.mapping, self.required)
        adapt = getattr(self.plans, "adapt", None)  # e.g. column types from a model's schema
        if adapt is not None:
            plan = adapt(plan)
        self.plans[header] = copy.deepcopy(plan)
        return plan

    def _dedupes(self, source: Source) -> bool:
        """Whether to drop exact duplicates of this source: not again in a file `mktai ingest`
        wrote (it de-duplicated, or was told --keep-duplicates: either way it decided)."""
        if not self.dedupe:
            return False
        metadata = ingest_metadata(source)
        if metadata is not None and metadata.get("ingested"):
            self.not_deduplicated_again.append(source.name)
            return False
        return True

    def _cleaner(
        self, source: Source, deduper: Deduper, source_index: int, dedupe: bool = True
    ) -> Cleaner:
        """One Cleaner per source; they share the plan and the duplicate memory."""
        assert self.plan is not None
        cleaner = Cleaner(
            self.plan,
            source.name,
            source.delimiter,
            dedupe,
            deduper=deduper,
            source_index=source_index,
            keep_raw=self.keep_raw,
            coded=self.coded and len(self.sources) == 1,
        )
        self.cleaners.append(cleaner)
        return cleaner

    def chunks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """(clean rows, rejects) per batch, over every source in order; close() stops it."""
        running = self._chunks()
        self._running.append(running)
        return running

    def _chunks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        import pandas as pd

        multi = len(self.sources) > 1
        deduper = Deduper()
        for source in self.sources:
            bad: list[BadRow] = []
            self.bad_rows[source.name] = bad
            offset = 0
            cleaner: Cleaner | None = None
            # Once the parser has skipped a malformed line, later row numbers are shifted by
            # it; such rejects are held back and renumbered when the source is done.
            held: list[pd.DataFrame] = []
            source_index = deduper.add_source(source.name)

            def find_duplicates(batch: pa.RecordBatch, first_row: int, index: int = source_index):
                # runs in the reader thread, batch after batch in file order
                return deduper.check(batch, index, first_row)

            dedupe = self._dedupes(source)
            prepare = find_duplicates if dedupe else None
            batches = iter_batches(source, bad, dictionary=True)
            read = inline if small_source(source) else prefetch
            # closed here on an error or Ctrl-C, not when the traceback that keeps this frame
            # alive is dropped (at interpreter exit, too late for the reader thread to stop)
            with contextlib.closing(read(batches, prepare=prepare)) as pairs:
                for raw, duplicates in pairs:
                    if self.plan is None:
                        self.plan = self._plan_for(source, plain_batch(raw))
                    if cleaner is None:
                        cleaner = self._cleaner(source, deduper, source_index, dedupe)
                    clean, rejects = cleaner.clean(raw, offset, duplicates=duplicates)
                    _refuse_small_serial_dates(cleaner, clean, source)
                    offset += raw.num_rows
                    if multi:
                        source_column = free_name("source", self.plan.names + self.plan.derived)
                        clean.insert(0, source_column, source.name)
                    if bad and len(rejects):
                        held.append(rejects)
                        rejects = rejects.iloc[:0]
                    yield clean, rejects
            if cleaner is None:  # header only
                if self.plan is None:
                    header = empty_frame(source)
                    self.plan = make_plan(header, self.kind, self.mapping, self.required)
                cleaner = self._cleaner(source, deduper, source_index, dedupe)
            if bad:
                malformed, renumber = _malformed_rejects(source, bad, len(self.plan.original))
                held = [renumber(frame) for frame in held]
                yield _empty_like(self.plan), pd.concat([*held, malformed], ignore_index=True)
                if renumber is _unchanged:
                    self.notes.append(
                        f"{source.name}: row numbers of rejects after a malformed line may be "
                        "off by the number of malformed lines before them"
                    )
        if self.plan is None:
            raise InputError("no input rows")
        self.report = self._build_report()

    def _build_report(self) -> dict[str, Any]:
        from collections import Counter

        plan = self.plan
        assert plan is not None
        rows_in = sum(c.stats.rows_in for c in self.cleaners)
        malformed = sum(len(b) for b in self.bad_rows.values())
        rejected: Counter = Counter()
        missing: Counter = Counter()
        unparseable: Counter = Counter()
        examples: dict[str, str] = {}
        transactions: Counter = Counter()
        date_info: dict[str, Any] = {}
        present: Counter = Counter()
        failed: Counter = Counter()
        failed_examples: dict[str, list[str]] = {}
        drift: dict[str, int] = {}
        for cleaner in self.cleaners:
            for key, row in cleaner.stats.drift_row.items():
                drift.setdefault(key, row)
            present.update(cleaner.stats.present)
            failed.update(cleaner.stats.failed)
            for key, values in cleaner.stats.failed_examples.items():
                failed_examples.setdefault(key, []).extend(values)
            rejected.update(cleaner.stats.rejected)
            missing.update(cleaner.stats.missing)
            unparseable.update(cleaner.stats.unparseable)
            transactions.update(cleaner.stats.transactions)
            for key, value in cleaner.stats.unparseable_examples.items():
                examples.setdefault(key, value)
            for key, value in cleaner.stats.date_info.items():
                date_info.setdefault(key, value)
        if malformed:
            rejected["malformed line"] += malformed
        rows_out = sum(c.stats.rows_out for c in self.cleaners)
        total = rows_in + malformed
        columns = {}
        for original, name in zip(plan.original, plan.names, strict=True):
            entry: dict[str, Any] = {
                "original": original,
                "type": plan.types[name],
                "missing_share": round(missing[name] / rows_out, 6) if rows_out else 0.0,
            }
            if unparseable[name]:
                entry["unparseable"] = unparseable[name]
                entry["unparseable_example"] = examples.get(name)
            if name in date_info:
                entry["date_format"] = date_info[name]
            columns[name] = entry
        report: dict[str, Any] = {
            "sources": [
                {
                    "name": s.name,
                    "format": s.format,
                    "compression": s.compression,
                    "encoding": s.encoding,
                    "delimiter": s.delimiter,
                    "sha256": s.sha256,
                }
                for s in self.sources
            ],
            "kind": plan.kind,
            "roles": dict(plan.roles),
            "required_roles": list(plan.required),
            "rows_in": total,
            "rows_out": rows_out,
            "rows_rejected": total - rows_out,
            "rejected_by_reason": dict(rejected.most_common()),
            "duplicates_removed": int(rejected.get("exact duplicate", 0)),
            "deduplicated": self.dedupe,
            # ingested parquet files, cleaned by `mktai ingest` already: not de-duplicated again
            "not_deduplicated_again": list(self.not_deduplicated_again),
            "columns": columns,
        }
        gaps = parsing_gaps(plan, present, failed, failed_examples, drift)
        notes = list(plan.notes) + [gap["warning"] for gap in gaps] + list(self.notes)
        if gaps:
            report["parsing_gaps"] = gaps
        if notes:
            report["notes"] = notes
        if transactions:
            tx = {
                k: (round(v, 2) if isinstance(v, float) else int(v))
                for k, v in transactions.items()
            }
            report["transactions"] = tx
        return report

    def fingerprint(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        for source in self.sources:
            digest.update(source.sha256.encode())
        return {"sha256": digest.hexdigest(), "rows": self.report.get("rows_in", 0)}

    def close(self) -> None:
        """Stop any chunks() still running (its reader thread and read-ahead end here, not at
        interpreter exit) and remove the sources' temp files."""
        while self._running:
            self._running.pop().close()
        for source in self.sources:
            source.cleanup()


def parsing_gaps(
    plan: Plan,
    present: dict[str, int],
    failed: dict[str, int],
    examples: dict[str, list[str]],
    drift: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Typed columns where more than half of the present values could not be read, or where
    from some batch on (drift: column -> first row) most of them could not.

    That is almost always a format the parsers do not know (e.g. a currency written a new way),
    not bad data, so the report says so loudly and `ingest --strict` fails on it.
    """
    from mktai.data.clean import GAP_SHARE

    gaps = []
    for column in plan.names:
        bad, seen = failed.get(column, 0), present.get(column, 0)
        from_row = (drift or {}).get(column)
        if not seen or (bad <= GAP_SHARE * seen and from_row is None):
            continue
        shown = ", ".join(repr(e) for e in examples.get(column, [])[:3])
        kind = plan.types[column]
        required = column in {plan.roles.get(r) for r in plan.required}
        effect = "those rows were rejected" if required else "those values were left empty"
        gaps.append(
            {
                "column": column,
                "type": kind,
                "unreadable": bad,
                "present": seen,
                "examples": examples.get(column, [])[:3],
                "warning": (
                    f"column {column}: {bad:,} of {seen:,} values ({bad / seen:.0%}) could not "
                    f"be read as {kind} (e.g. {shown}) and {effect}"
                    + (
                        f"; from row {from_row:,} on most values do not read as {kind} (its "
                        "type was decided from a sample of the file)"
                        if from_row is not None and bad <= GAP_SHARE * seen
                        else "; that many is almost certainly a format mktai does not read, "
                        "not bad data"
                    )
                    + ": check the column and report the format"
                ),
            }
        )
        if from_row is not None:
            gaps[-1]["from_row"] = from_row
    return gaps


def _plan_sample(source: Source, first: pa.RecordBatch) -> pd.DataFrame:
    """What column types are decided on: the first SAMPLE_ROWS rows plus, for a plain CSV file,
    rows from across the whole file (mktai.data.sample)."""
    import pandas as pd

    from mktai.data.sample import spread_rows

    sample = first.slice(0, SAMPLE_ROWS).to_pandas()
    spread = spread_rows(source, first.num_columns)
    if spread is None:
        return sample
    return pd.concat([sample, spread.set_axis(sample.columns, axis=1)], ignore_index=True)


def _empty_like(plan: Plan | None) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=plan.names if plan else [])


def inline(
    batches: Iterator[Any], prepare: Callable[[pa.RecordBatch, int], Any] | None = None
) -> Iterator[tuple[pa.RecordBatch, Any]]:
    """prefetch's (batch, prepare(batch, first_row)) pairs read in the caller's thread: a small
    input is one batch, and a reader thread per request cost more than it overlaps."""
    first_row = 0
    try:
        for batch in batches:
            extra = prepare(batch, first_row) if prepare is not None else None
            first_row += batch.num_rows
            yield batch, extra
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def prefetch(
    batches: Iterator[Any],
    depth: int = 2,
    prepare: Callable[[pa.RecordBatch, int], Any] | None = None,
) -> Iterator[tuple[pa.RecordBatch, Any]]:
    """Parse the next Arrow batches in a thread (plus `prepare(batch, first_row)`, e.g. the
    duplicate check) while the caller cleans this one.

    pyarrow releases the GIL while it parses, so on two cores reading overlaps cleaning; the
    queue holds at most `depth` batches, so memory stays bounded. Errors are re-raised here.
    """
    import queue
    import threading

    pipe: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                pipe.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            first_row = 0
            for batch in batches:
                extra = prepare(batch, first_row) if prepare is not None else None
                first_row += batch.num_rows
                if not put(("batch", (batch, extra))):
                    return
            put(("done", done))
        except BaseException as exc:  # handed to the consumer
            put(("error", exc))
        finally:
            # the consumer may stop early (an error while cleaning): close the reader here, in
            # its own thread, so pyarrow's read-ahead is shut down before the interpreter exits
            close = getattr(batches, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    thread = threading.Thread(target=produce, daemon=True, name="mktai-read")
    thread.start()
    try:
        while True:
            kind, item = pipe.get()
            if kind == "error":
                raise item
            if kind == "done":
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _unchanged(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def _malformed_rejects(
    source: Source, bad: list[BadRow], expected: int
) -> tuple[pd.DataFrame, Callable[[pd.DataFrame], pd.DataFrame]]:
    """Rejects for the lines the parser skipped, and a function that renumbers other rejects.

    The fast parser cannot say where it skipped a line, so one pass of Python's csv module finds
    each malformed record's data row and physical line; rows after it are shifted back into place.
    """
    import numpy as np
    import pandas as pd

    located = _locate_malformed(source, expected)
    exact = located is not None and len(located) == len(bad)
    rows = [r for r, _ in located] if exact else [-1] * len(bad)
    lines = [line for _, line in located] if exact else [None] * len(bad)
    malformed = pd.DataFrame(
        {
            "source": source.name,
            "row": np.asarray(rows, dtype=np.int64) + 1,
            "reason": [
                f"malformed line{f' {line}' if line else ''}: expected {b.expected} fields, "
                f"found {b.actual}"
                for b, line in zip(bad, lines, strict=True)
            ],
            "raw": [b.text[:10_000] for b in bad],
        }
    )
    if not exact:
        malformed["row"] = -1
        return malformed, _unchanged
    # Parsed row i (0-based, bad rows skipped) is data row i + #{j : bad_j - j <= i}.
    gaps = np.asarray(rows, dtype=np.int64) - np.arange(len(rows))

    def true_row(parsed: np.ndarray) -> np.ndarray:
        return parsed + np.searchsorted(gaps, parsed, side="right")

    def renumber(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["row"] = true_row(frame["row"].to_numpy(dtype=np.int64) - 1) + 1
        reason = frame["reason"].astype(str)
        ref = reason.str.extract(r"^exact duplicate of row (\d+)$")[0]
        has_ref = ref.notna()
        if has_ref.any():
            fixed = true_row(ref[has_ref].astype(np.int64).to_numpy() - 1) + 1
            frame.loc[has_ref, "reason"] = ["exact duplicate of row " + str(n) for n in fixed]
        return frame

    return malformed, renumber


def _locate_malformed(source: Source, expected: int) -> list[tuple[int, int]] | None:
    """(0-based data row, first physical line) of every record with the wrong field count."""
    import bz2
    import csv
    import gzip
    import sys

    openers: dict[str | None, Any] = {"gzip": gzip.open, "bz2": bz2.open, None: open}
    found: list[tuple[int, int]] = []
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with openers[source.compression](
            source.path, "rt", encoding=source.encoding, errors="replace", newline=""
        ) as handle:
            reader = csv.reader(handle, delimiter=source.delimiter)
            if next(reader, None) is None:
                return found
            record, line = 0, reader.line_num + 1
            for fields in reader:
                if fields:  # blank lines are not records for either parser
                    if len(fields) != expected:
                        found.append((record, line))
                    record += 1
                line = reader.line_num + 1
    except (OSError, csv.Error, KeyError):
        return None
    return found


# Whole numbers read as Excel day serials must give a date from here on: smaller ones (6, 38,
# 365) are counts of days (recency, T) or other integers, not dates in 1900.
PLAUSIBLE_SERIAL_FROM = "1910-01-01"  # serial 3654


def _refuse_small_serial_dates(cleaner: Cleaner, clean: pd.DataFrame, source: Source) -> None:
    """A date column read as Excel serials whose values all fall before 1910 is an error."""
    import pandas as pd

    from mktai.data.coded import as_frame

    for column, info in cleaner.stats.date_info.items():
        if info.get("format") != "excel-serial" or column not in clean.columns:
            continue
        dates = as_frame(clean)[column].dropna()
        if not len(dates) or dates.max() >= pd.Timestamp(PLAUSIBLE_SERIAL_FROM):
            continue
        days = (dates - pd.Timestamp("1899-12-30")).dt.days
        raise InputError(
            f"{source.name}: column {column!r} is used as a date but holds small whole numbers "
            f"({int(days.min())}..{int(days.max())}), which as Excel day serials would be dates "
            f"in {dates.min().year}; they look like counts of days (recency, T), not dates. "
            "Map a real date column, or give a customer summary table (frequency, recency, T, "
            "monetary_value) to `mktai segment --clv` as it is"
        )


def ingest_metadata(source: Source) -> dict[str, Any] | None:
    """What `mktai ingest` recorded in a parquet file it wrote (see write.MKTAI_METADATA_KEY)."""
    import json

    if source.format != "parquet":
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mktai.data.write import MKTAI_METADATA_KEY

    try:
        metadata = pq.read_schema(str(source.path)).metadata or {}
        value = json.loads(metadata.get(MKTAI_METADATA_KEY, b"null").decode("utf-8"))
    except (pa.ArrowInvalid, OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def open_stream(
    sources: Sequence[str | Path | InMemory] | str | Path | InMemory,
    *,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    required: tuple[str, ...] = (),
    dedupe: bool = True,
    keep_raw: bool = False,
    plans: MutableMapping[tuple[str, ...], Plan] | None = None,
) -> Stream:
    """Open every source (sniffing encoding and delimiter) without reading the data yet.

    plans: a cache header -> Plan shared by calls with the same kind and mapping; a header seen
    before is cleaned with the types decided then (as later batches of one file are).
    """
    if isinstance(sources, (str, Path, InMemory)):
        sources = [sources]
    if not sources:
        raise InputError("no input file given")
    opened = [open_source(s, encoding) for s in sources]
    return Stream(
        opened,
        kind,
        dict(mapping or {}),
        tuple(required),
        dedupe=dedupe,
        keep_raw=keep_raw,
        plans=plans,
    )


def load_table(
    sources: Sequence[str | Path | InMemory] | str | Path | InMemory,
    *,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    required: tuple[str, ...] = (),
    dedupe: bool = True,
    keep_raw: bool = False,
    plans: MutableMapping[tuple[str, ...], Plan] | None = None,
) -> CleanTable:
    """Read, clean and type one or more CSV/parquet files into a CleanTable (in memory).

    keep_raw=True also keeps the kept rows as read (CleanTable.raw) for commands whose output
    must give the user's own columns back unchanged.
    """
    import pandas as pd

    stream = open_stream(
        sources,
        kind=kind,
        mapping=mapping,
        encoding=encoding,
        required=required,
        dedupe=dedupe,
        keep_raw=keep_raw,
        plans=plans,
    )
    try:
        frames, rejects = [], []
        for clean, rejected in stream.chunks():
            if len(clean):
                frames.append(clean)
            if len(rejected):
                rejects.append(rejected)
        plan = stream.plan
        assert plan is not None
        frame = stack_frames(frames) if frames else _empty_like(plan)
        del frames
        frame = _tidy_labels(frame, plan)
        if len(frame) >= SMALL_TABLE:  # a server's one-row table frees nothing worth a trim
            release_memory()
        all_rejects = pd.concat(rejects, ignore_index=True) if rejects else empty_rejects()
        return CleanTable(
            frame=frame,
            roles=dict(plan.roles),
            kind=plan.kind,
            rejects=all_rejects,
            report=stream.report,
            fingerprint=stream.fingerprint(),
            sources=[s.name for s in stream.sources],
            raw=_raw_rows(stream, frame) if keep_raw else None,
        )
    finally:
        stream.close()


SMALL_TABLE = 10_000  # rows below which load_table does not hand freed memory back


def stack_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat of the chunks, one column at a time, each column's chunks dropped once it is
    stacked: the peak is the table plus one column, not two tables (pd.concat holds both)."""
    import pandas as pd

    if len(frames) == 1:
        return frames.pop().reset_index(drop=True)
    columns = list(frames[0].columns)
    stacked = {}
    for column in columns:
        parts = [chunk.pop(column) for chunk in frames]
        stacked[column] = pd.concat(parts, ignore_index=True)
        del parts
    frames.clear()
    return pd.DataFrame(stacked, copy=False)


def release_memory() -> None:
    """Hand memory freed by the cleaning (batches, hashes, parser buffers) back to the system.

    Arrow's pool and glibc's heap keep freed pages for reuse, so a big load otherwise leaves
    hundreds of MB resident that the command running next cannot use."""
    import contextlib
    import ctypes
    import sys

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _raw_rows(stream: Stream, frame: pd.DataFrame) -> pd.DataFrame:
    """The kept rows as read, in the order of `frame` (plus its source column if stacked)."""
    import pandas as pd

    parts = []
    for cleaner in stream.cleaners:
        for chunk in cleaner.raw_kept:
            if len(stream.sources) > 1:
                chunk = chunk.copy()
                chunk.insert(0, frame.columns[0], cleaner.source_name)
            parts.append(chunk)
    plan = stream.plan
    empty = pd.DataFrame(columns=plan.original if plan else [])
    raw = pd.concat(parts, ignore_index=True) if parts else empty
    if len(raw) != len(frame):  # never expected: fall back to the cleaned values
        return frame.copy()
    return raw


def _bool_numbers(values: pd.Series) -> Any:
    """A yes/no column as int64 1/0, or float64 with NaN when some values are missing."""
    import pandas as pd

    if isinstance(values.dtype, pd.Int8Dtype):  # what the cleaner makes: mask + data, no pandas ops
        return yes_no_numbers(values.array)
    return values.astype("int64") if values.notna().all() else values.astype("float64")


def yes_no_numbers(array: Any) -> Any:
    """The cleaner's Int8 yes/no array as NumPy: int64 1/0, or float64 with NaN for missing."""
    import numpy as np

    if not array.isna().any():
        return array.to_numpy(dtype=np.int64)
    return array.to_numpy(dtype=np.float64, na_value=np.nan)


def _tidy_labels(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Integral float labels/targets (1.0, 0.0) become int64 so classes print as 1 and 0."""
    import numpy as np

    for column, kind in plan.types.items():
        if kind == "bool" and column in frame.columns:
            frame[column] = _bool_numbers(frame[column])
    for role in ("label", "target", "rating"):
        column = plan.roles.get(role)
        if column is None or column not in frame.columns or role == "rating":
            continue
        values = frame[column]
        if values.dtype.kind == "f" and values.notna().all():
            finite = values.to_numpy()
            if np.all(np.mod(finite, 1) == 0):
                frame[column] = values.astype("int64")
        elif str(values.dtype) == "Int8" and values.notna().all():
            frame[column] = values.astype("int64")
    return frame


# -- one batch at a time, for engines that plan on one machine and clean elsewhere (Spark) -----


def clean_batch(
    plan: Plan,
    raw: Any,
    rows: Any,
    *,
    source_name: str,
    delimiter: str,
    duplicates: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Clean one batch of raw columns (Arrow batch or DataFrame) with a plan made elsewhere:
    (clean, rejects, CleanStats).

    The same Cleaner as `Stream.chunks`, for a batch whose rows need not be contiguous:
    `rows` holds each row's 0-based data row number in its source (file order), and
    `duplicates` the 'exact duplicate of row N' reasons found beforehand (None: none). Rejects
    and the date-order note carry those row numbers. The plan may be updated (a date order
    decided by this batch), as it is by a stream, so pass the same plan object batch after batch.
    """
    import numpy as np
    import pandas as pd

    rows = np.asarray(rows, dtype=np.int64)
    cleaner = Cleaner(plan, source_name, delimiter, dedupe=False)
    reasons = None  # an object array: None = not a duplicate (a pandas 3 Series would be NaN)
    if duplicates is not None:
        reasons = np.asarray(duplicates, dtype=object)
    if isinstance(raw, pd.DataFrame):
        raw = raw.reset_index(drop=True)
    clean, rejects = cleaner.clean(raw, 0, duplicates=reasons)
    if len(rejects):
        rejects["row"] = rows[rejects["row"].to_numpy(dtype=np.int64) - 1] + 1
    for info in cleaner.stats.date_info.values():
        if "decided_at_row" in info:
            info["decided_at_row"] = int(rows[int(info["decided_at_row"]) - 1]) + 1
    return clean, rejects, cleaner.stats


def merge_stats(parts: Sequence[Any]) -> Any:
    """Sum per-batch CleanStats given in file order (first examples and date notes win)."""
    from mktai.data.clean import CleanStats

    total = CleanStats()
    for part in parts:
        total.rows_in += part.rows_in
        total.rows_out += part.rows_out
        total.duplicates += part.duplicates
        total.rejected.update(part.rejected)
        total.missing.update(part.missing)
        total.unparseable.update(part.unparseable)
        total.transactions.update(part.transactions)
        for key, value in part.unparseable_examples.items():
            total.unparseable_examples.setdefault(key, value)
        for key, value in part.date_info.items():
            total.date_info.setdefault(key, value)
    return total


def report_from_stats(
    sources: Sequence[Source],
    plan: Plan,
    stats: Any,
    *,
    malformed: int = 0,
    dedupe: bool = True,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The cleaning report a Stream would build, from CleanStats merged by another engine."""
    stream = Stream(list(sources), plan.kind, {}, plan.required, plan=plan, dedupe=dedupe)
    cleaner = Cleaner(plan, "", ",", dedupe=False)
    cleaner.stats = stats
    stream.cleaners = [cleaner]
    stream.bad_rows = {"malformed": [BadRow("", 0, 0)] * malformed}
    stream.notes = list(notes)
    return stream._build_report()
