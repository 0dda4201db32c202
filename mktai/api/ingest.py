"""`ingest`: raw exports -> one clean typed table, a rejects file with reasons and a report.

Streams every source through the cleaning layer chunk by chunk (bounded memory) and writes the
outputs atomically. With strict, a run that rejected rows does not publish the clean file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mktai.api.result import Result


@dataclass
class IngestResult(Result):
    """report: the cleaning report (rows in/out, rejects by reason, columns, encoding ...)."""

    output: Path | None
    rejects_path: Path | None
    report: dict[str, Any] = field(default_factory=dict)
    held_back: bool = False

    @property
    def rows_rejected(self) -> int:
        return int(self.report.get("rows_rejected", 0))

    def to_dict(self) -> dict[str, Any]:
        """The cleaning report (what --json prints)."""
        return dict(self.report)


def ingest(
    sources: Sequence[str | Path] | str | Path,
    output: Path | str | None = None,
    *,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    rejects: Path | str | None = None,
    report: Path | str | None = None,
    strict: bool = False,
    keep_duplicates: bool = False,
    engine: str | None = None,
    spark_master: str | None = None,
    partition_by: Sequence[str] | None = None,
) -> IngestResult:
    """Clean SOURCES (paths, or "-" for stdin) into OUTPUT (None: CSV on stdout).

    engine "spark" (default $MKTAI_ENGINE, else "local") runs the same cleaning on Spark and
    writes OUTPUT as a parquet directory (partition_by: its partition columns), the rejects as
    a directory of CSV parts (default OUTPUT.rejects beside it) and the same report.
    """
    from mktai.data.ingest import ingest as run
    from mktai.engines import engine_name

    if isinstance(sources, (str, Path)):
        sources = [sources]
    if engine_name(engine) == "spark" or partition_by:
        from mktai.engines import get_engine

        run = get_engine(engine, master=spark_master).ingest
        done = run(list(sources), output, kind=kind, mapping=mapping, encoding=encoding,
                   rejects=rejects, report=report, strict=strict, dedupe=not keep_duplicates,
                   partition_by=partition_by)  # fmt: skip
        return IngestResult(output=done.output, rejects_path=done.rejects_path,
                            report=done.report, held_back=done.held_back)  # fmt: skip
    done = run(
        list(sources),
        Path(output) if output is not None else None,
        kind=kind,
        mapping=mapping,
        encoding=encoding,
        rejects=Path(rejects) if rejects is not None else None,
        report=Path(report) if report is not None else None,
        strict=strict,
        dedupe=not keep_duplicates,
    )
    return IngestResult(output=done.output, rejects_path=done.rejects_path,
                        report=done.report, held_back=done.held_back)  # fmt: skip
