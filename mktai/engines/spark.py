"""The Spark engine: ingest and the per-customer aggregation on a Spark cluster (or local[*]).

Same rules as the local engine (mktai.data cleaning, mktai.tasks.segment.rfm summary), run per
partition; same outputs, except that tables are directories of part files (parquet).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mktai.errors import InputError, UsageError


class SparkEngine:
    name = "spark"

    def __init__(self, master: str | None = None) -> None:
        self.master = master

    def session(self) -> Any:
        from mktai.engines.spark_session import get_session

        return get_session(self.master)

    def ingest(
        self,
        sources: Sequence[str | Path],
        output: Path | str | None,
        *,
        kind: str | None = None,
        mapping: dict[str, str] | None = None,
        encoding: str | None = None,
        rejects: Path | str | None = None,
        report: Path | str | None = None,
        strict: bool = False,
        dedupe: bool = True,
        partition_by: Sequence[str] | None = None,
    ) -> Any:
        """Clean SOURCES into the parquet directory OUTPUT, rejects (CSV parts) beside it."""
        from mktai.data.ingest import IngestResult
        from mktai.data.load import report_from_stats
        from mktai.data.write import ensure_parent, write_json
        from mktai.engines.spark_clean import clean_on_spark
        from mktai.engines.spark_read import missing_paths, resolve
        from mktai.engines.spark_write import write_dir

        if output is None:
            raise UsageError("--engine spark writes a directory of parquet files: give -o DIR")
        output_text = str(output)
        rejects_text = str(rejects) if rejects is not None else default_rejects(output_text)
        if rejects_text.rstrip("/") == output_text.rstrip("/"):
            raise UsageError(f"the rejects directory {rejects_text} would overwrite the output")
        if report is not None:
            ensure_parent(Path(report))
        spark = self.session()
        inp = resolve(spark, sources, encoding)
        cleaned = None
        try:
            _refuse_inputs(inp, [output_text, rejects_text])
            with missing_paths(spark):
                cleaned = clean_on_spark(spark, inp, kind=kind, mapping=dict(mapping or {}),
                                         dedupe=dedupe)  # fmt: skip
            summary = report_from_stats(
                inp.sources,
                cleaned.plan,
                cleaned.stats,
                malformed=cleaned.malformed,
                dedupe=dedupe,
                notes=inp.notes,
            )
            rejected = int(summary.get("rows_rejected", 0))
            held_back = strict and rejected > 0
            partition = _partition_columns(partition_by, cleaned.columns)
            if not held_back:
                write_dir(cleaned.clean(), output_text, "parquet", partition)
            if rejected or _exists(rejects_text):
                write_dir(cleaned.rejects().coalesce(1) if rejected < 1_000_000
                          else cleaned.rejects(), rejects_text, "csv")  # fmt: skip
            rejects_path = rejects_text if rejected else None
            summary["output"] = None if held_back else output_text
            summary["rejects_file"] = rejects_path
            summary["fingerprint"] = fingerprint(inp.sources, summary.get("rows_in", 0))
            if held_back:
                summary["held_back"] = (
                    f"--strict: {output_text} not written because rows were rejected"
                )
            if report is not None:
                write_json(summary, Path(report))
        finally:
            if cleaned is not None:
                cleaned.frame.unpersist()
            inp.close()
        return IngestResult(
            output=None if held_back else Path(output_text),
            rejects_path=Path(rejects_path) if rejects_path else None,
            report=summary,
            held_back=held_back,
        )

    def clean(
        self,
        sources: Sequence[str | Path],
        *,
        kind: str | None = None,
        mapping: dict[str, str] | None = None,
        encoding: str | None = None,
        dedupe: bool = True,
    ) -> CleanedOnSpark:
        """The cleaned rows as a persisted Spark DataFrame (close() releases it) + the report."""
        from mktai.data.load import report_from_stats
        from mktai.engines.spark_clean import clean_on_spark
        from mktai.engines.spark_read import missing_paths, resolve

        spark = self.session()
        inp = resolve(spark, sources, encoding)
        try:
            with missing_paths(spark):
                cleaned = clean_on_spark(spark, inp, kind=kind, mapping=dict(mapping or {}),
                                         dedupe=dedupe)  # fmt: skip
            report = report_from_stats(inp.sources, cleaned.plan, cleaned.stats,
                                       malformed=cleaned.malformed, dedupe=dedupe,
                                       notes=inp.notes)  # fmt: skip
            prints = fingerprint(inp.sources, report.get("rows_in", 0))
        finally:
            inp.close()
        return CleanedOnSpark(cleaned, report, ", ".join(inp.names), prints)


class CleanedOnSpark:
    """What `SparkEngine.clean` returns: the Cleaned frames, the cleaning report, the sources."""

    def __init__(self, cleaned: Any, report: dict[str, Any], description: str,
                 fingerprint: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.cleaned = cleaned
        self.report = report
        self.description = description
        self.fingerprint = fingerprint or {}

    @property
    def rejected(self) -> int:
        return int(self.report.get("rows_rejected", 0))

    def close(self) -> None:
        self.cleaned.frame.unpersist()


def default_rejects(output: str) -> str:
    """clean/ -> clean.rejects/ beside it; clean.parquet -> clean.rejects."""
    from mktai.data.ingest import _stem

    text = output.rstrip("/")
    head, _, name = text.rpartition("/")
    name = _stem(name) + ".rejects"
    return f"{head}/{name}" if head else name


def fingerprint(sources: Sequence[Any], rows: int) -> dict[str, Any]:
    import hashlib

    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.sha256.encode())
    return {"sha256": digest.hexdigest(), "rows": rows}


def _partition_columns(wanted: Sequence[str] | None, columns: list[str]) -> list[str] | None:
    if not wanted:
        return None
    from mktai.data.schema import normalise_name

    out = []
    for name in wanted:
        column = name if name in columns else normalise_name(name)
        if column not in columns:
            raise UsageError(
                f"--partition-by {name}: no such column (columns: {', '.join(columns)})"
            )
        out.append(column)
    return out


def _exists(path: str) -> bool:
    from mktai.engines.spark_read import is_remote

    return not is_remote(path) and Path(path).exists()


def _refuse_inputs(inp: Any, targets: list[str]) -> None:
    """An output directory must not replace an input (data would be lost)."""
    from mktai.engines.spark_read import is_remote

    inputs = {Path(u).resolve() for u in inp.uris if not is_remote(u)}
    for target in targets:
        if is_remote(target):
            continue
        path = Path(target).resolve()
        if path in inputs or any(path in p.parents for p in inputs):
            raise InputError(f"{target} holds an input of this run; write the output elsewhere")
