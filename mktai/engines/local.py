"""The local engine: today's streaming pandas / pyarrow path, unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class LocalEngine:
    name = "local"

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
        from mktai.data.ingest import ingest
        from mktai.errors import UsageError

        if partition_by:
            raise UsageError("--partition-by writes a partitioned directory: use --engine spark")
        return ingest(
            list(sources),
            Path(output) if output is not None else None,
            kind=kind,
            mapping=mapping,
            encoding=encoding,
            rejects=Path(rejects) if rejects is not None else None,
            report=Path(report) if report is not None else None,
            strict=strict,
            dedupe=dedupe,
        )

    def clean(
        self,
        sources: Sequence[str | Path],
        *,
        kind: str | None = None,
        mapping: dict[str, str] | None = None,
        encoding: str | None = None,
        dedupe: bool = True,
    ) -> Any:
        """The cleaned table in memory (a CleanTable); directories read as their part files."""
        from mktai.data import load_table

        return load_table(_expand_dirs(sources), kind=kind, mapping=mapping, encoding=encoding,
                          dedupe=dedupe)  # fmt: skip


def _expand_dirs(sources: Sequence[str | Path] | str | Path) -> list[str | Path]:
    """A directory of part files (what Spark writes) is read as its files, in name order."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    out: list[str | Path] = []
    for source in sources:
        if not isinstance(source, (str, Path)):  # an in-memory source (a server's request)
            out.append(source)
            continue
        path = Path(str(source))
        if str(source) != "-" and path.is_dir():
            from mktai.engines.spark_read import expand

            out.extend(expand([path]))
        else:
            out.append(source)
    return out
