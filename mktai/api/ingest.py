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
) -> IngestResult:
    """Clean SOURCES (paths, or "-" for stdin) into OUTPUT (None: CSV on stdout)."""
    from mktai.data.ingest import ingest as run

    if isinstance(sources, (str, Path)):
        sources = [sources]
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
