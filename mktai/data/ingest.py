"""ingest: stream raw files through the cleaning layer into a clean file, rejects and a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.data.load import open_stream
from mktai.data.write import TableWriter, write_json


@dataclass
class IngestResult:
    output: Path | None
    rejects_path: Path | None
    report: dict[str, Any]


def default_rejects_path(output: Path | None, first_input: str) -> Path:
    """clean.parquet -> clean.rejects.csv; stdout output -> <input stem>.rejects.csv here."""
    if output is not None:
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
) -> IngestResult:
    """Clean every source chunk by chunk (bounded memory) and write the outputs atomically."""
    stream = open_stream(sources, kind=kind, mapping=mapping, encoding=encoding)
    rejects_path = rejects or default_rejects_path(output, str(sources[0]))
    writer = TableWriter(output)
    reject_writer = TableWriter(rejects_path)
    try:
        for clean, rejected in stream.chunks():
            if len(clean):
                writer.write(clean)
            if len(rejected):
                reject_writer.write(rejected)
        writer.close(empty_frame=_empty_frame(stream))
        if reject_writer.rows:
            reject_writer.close()
        else:
            reject_writer.abort()
            rejects_path = None
    except BaseException:
        writer.abort()
        reject_writer.abort()
        raise
    finally:
        stream.close()
    summary = dict(stream.report)
    summary["output"] = str(output) if output else "<stdout>"
    summary["rejects_file"] = str(rejects_path) if rejects_path else None
    summary["fingerprint"] = stream.fingerprint()
    if report is not None:
        write_json(summary, report)
    return IngestResult(output=output, rejects_path=rejects_path, report=summary)


def _empty_frame(stream: Any) -> Any:
    import pandas as pd

    plan = stream.plan
    return pd.DataFrame(columns=plan.names + plan.derived) if plan else None
