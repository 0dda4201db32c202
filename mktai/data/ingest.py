"""ingest: stream raw files through the cleaning layer into a clean file, rejects and a report."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.data.clean import empty_rejects
from mktai.data.coded import CodedParquetWriter
from mktai.data.load import open_stream
from mktai.data.write import TableWriter, ensure_parent, write_json


@dataclass
class IngestResult:
    output: Path | None
    rejects_path: Path | None
    report: dict[str, Any]
    held_back: bool = False


def default_rejects_path(output: Path | None, first_input: str) -> Path:
    """clean.parquet -> clean.rejects.csv; stdout or /dev/null -> <input stem>.rejects.csv here."""
    from mktai.data.write import is_special

    if output is not None and not is_special(output):
        return output.with_name(_stem(output.name) + ".rejects.csv")
    stem = _stem(Path(first_input).name) if first_input != "-" else "stdin"
    return Path(f"{stem}.rejects.csv")


def _stem(name: str) -> str:
    """'sales.2024.csv.gz' -> 'sales.2024': only data and compression suffixes are removed."""
    known = {".csv", ".tsv", ".txt", ".parquet", ".pq", ".json", ".jsonl", ".gz", ".bz2", ".zip"}
    while True:
        suffix = Path(name).suffix.lower()
        if suffix not in known or suffix == name.lower():
            return name
        name = name[: -len(suffix)]


def ingest(
    sources: Sequence[str | Path],
    output: Path | None,
    *,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    rejects: Path | None = None,
    report: Path | None = None,
    strict: bool = False,
    dedupe: bool = True,
) -> IngestResult:
    """Clean every source chunk by chunk (bounded memory) and write the outputs atomically.

    The rejects file is written when rows were rejected, or emptied (header only) when one from
    an earlier run is in the way, so it never describes another run. With `strict`, a run that
    rejected rows does not publish the clean file (result.output is None, result.held_back is
    True); the rejects and the report are still written. Output to stdout cannot be held back.
    A parsing gap (more than half of a typed column unreadable, report["parsing_gaps"]) fails a
    strict run too, even when no row was rejected for it.
    """
    _import_libraries()
    stream = open_stream(sources, kind=kind, mapping=mapping, encoding=encoding, dedupe=dedupe)
    rejects_path = rejects or default_rejects_path(output, str(sources[0]))
    _refuse_clobbering(rejects_path, output, sources)
    # fail before the work (and before any temp file exists), not after outputs are published
    for path in (rejects_path, report):
        if path is not None:
            ensure_parent(path)
    from mktai import __version__

    # a parquet says it was cleaned here, so commands reading it do not de-duplicate it again
    writer = CodedParquetWriter(
        output, metadata={"ingested": True, "deduplicated": dedupe, "mktai": __version__}
    )
    stream.coded = getattr(writer, "takes_coded", False)  # text handed over dictionary-coded
    reject_writer = TableWriter(rejects_path)
    background = _Background(writer.write)
    pending = _Pending(reject_writer)
    try:
        for clean, rejected in stream.chunks():
            if len(clean):
                background.submit(clean)
            if len(rejected):
                pending.add(rejected)
        pending.flush()
        background.finish()
        gaps = stream.report.get("parsing_gaps", [])
        failing = stream.report.get("rows_rejected", 0) > 0 or bool(gaps)
        held_back = strict and output is not None and failing
        # the rejects first: stopped in between (Ctrl-C, a full disk), there is never a clean
        # file without the rejects of its run
        if reject_writer.rows or rejects_path.exists():
            reject_writer.close(empty_frame=empty_rejects())
        else:
            reject_writer.abort()
        if held_back:
            writer.abort()
        else:
            writer.close(empty_frame=_empty_frame(stream))
        if not reject_writer.rows:
            rejects_path = None
    except OSError as exc:  # a full disk, /dev/full, a quota: one line naming the file, exit 2
        background.cancel()
        writer.abort()
        reject_writer.abort()
        raise cannot_write(exc, output or rejects_path) from None
    except BaseException:
        background.cancel()
        writer.abort()
        reject_writer.abort()
        raise
    finally:
        stream.close()
    summary = dict(stream.report)
    summary["output"] = None if held_back else (str(output) if output else "<stdout>")
    summary["rejects_file"] = str(rejects_path) if rejects_path else None
    summary["fingerprint"] = stream.fingerprint()
    if held_back:
        summary["held_back"] = f"--strict: {output} not written because rows were rejected"
    if report is not None:
        write_json(summary, report)
    if strict and gaps and not summary.get("rows_rejected"):
        from mktai.errors import InputError

        kept = f"; {output} was not written" if held_back else ""
        raise InputError(f"--strict: {gaps[0]['warning']}{kept}")
    return IngestResult(
        output=None if held_back else output,
        rejects_path=rejects_path,
        report=summary,
        held_back=held_back,
    )


def _import_libraries() -> None:
    """pandas and pyarrow's CSV and parquet modules imported with the cyclic GC paused, the
    objects they made then frozen out of it (a fresh process, as the CLI's, only).

    The imports are ~0.9 s of CPU before any row is read, and the ~170 collections their new
    objects trigger find nothing to free (~0.1-0.2 s of it); unfrozen, the first collection
    after them would walk all of them again. After them, a run makes almost no garbage cycles
    (4 young collections over a 2M-row file), so nothing else changes.
    """
    import gc
    import sys

    if all(name in sys.modules for name in ("pandas", "pyarrow.csv", "pyarrow.parquet")):
        return  # imported by the caller: their objects are the caller's business
    paused = gc.isenabled()
    gc.disable()
    try:
        import pandas  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        gc.freeze()
    finally:
        if paused:
            gc.enable()


def cannot_write(exc: OSError, path: Path | None) -> Exception:
    """The UsageError (exit 2) for an output that could not be written."""
    from mktai.errors import UsageError

    where = exc.filename or path or "the output"
    return UsageError(
        f"cannot write {where}: {exc.strerror or exc}; free some space or choose another -o"
    )


def _refuse_clobbering(rejects: Path, output: Path | None, sources: Sequence[str | Path]) -> None:
    """The rejects file must not replace an input or the clean output (data would be lost)."""
    from mktai.errors import UsageError

    target = rejects.resolve()
    taken = [Path(s).resolve() for s in sources if str(s) != "-"]
    if output is not None:
        taken.append(output.resolve())
    if target in taken:
        raise UsageError(
            f"the rejects file {rejects} would overwrite an input or the output; "
            "choose another with --rejects FILE"
        )


class _Background:
    """Runs `write` on chunks in one worker thread (parquet encoding releases the GIL, so it
    overlaps the cleaning of the next chunk); at most `depth` chunks wait, bounding memory."""

    def __init__(self, write: Callable[[Any], None], depth: int = 2) -> None:
        import queue
        import threading

        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="mktai-write")
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._write(item)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def submit(self, frame: Any) -> None:
        if self._error is not None:
            self.finish()
        self._queue.put(frame)

    def finish(self) -> None:
        """Wait for every submitted chunk; raise the first write error."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        with contextlib.suppress(BaseException):
            self.finish()


class _Pending:
    """Rejects gathered into fewer, larger writes: a batch has a few hundred, and each CSV write
    costs ~15 ms of pandas calls whatever its size (0.3-0.8 s per 2M-row file written batch by
    batch). The bytes are the same: the chunks are written as one when none holds a CR (the
    only per-chunk choice the CSV writer makes, see write._has_cr), else one by one as before."""

    ROWS = 50_000  # rejects held before a write (a few MB of raw lines)

    def __init__(self, writer: TableWriter) -> None:
        self.writer = writer
        self.frames: list[Any] = []
        self.rows = 0

    def add(self, frame: Any) -> None:
        self.frames.append(frame)
        self.rows += len(frame)
        if self.rows >= self.ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.frames:
            return
        frames, self.frames, self.rows = self.frames, [], 0
        if len(frames) > 1 and self.writer.format == "csv":
            import pandas as pd

            from mktai.data.write import _has_cr

            joined = pd.concat(frames, ignore_index=True)
            if not _has_cr(joined):
                frames = [joined]
        for frame in frames:
            self.writer.write(frame)


def _empty_frame(stream: Any) -> Any:
    import pandas as pd

    plan = stream.plan
    return pd.DataFrame(columns=plan.names + plan.derived) if plan else None
