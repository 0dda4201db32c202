"""Where the heavy data work runs: the local engine (pandas / pyarrow / NumPy, the default) or
Apache Spark (pyspark, imported only when used), behind one small interface.

    engine = get_engine("spark", master="spark://host:7077")
    engine.ingest(["orders/*.csv.gz"], "clean/", kind="transactions")   # IngestResult
    engine.clean(["clean/"], kind="transactions")     # cleaned rows, not written

What families do with cleaned rows on Spark lives with the family (tasks/segment/on_spark.py:
the per-customer aggregation; tasks/recommend/on_spark.py: top-N for all users), so engines/
knows nothing of tasks/.

Both engines run the same cleaning rules (mktai.data) and the same per-customer summary
(mktai.tasks.segment.rfm); the Spark engine plans on the driver and runs them per partition.
The engine name comes from --engine, else $MKTAI_ENGINE, else "local".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mktai.errors import UsageError

if TYPE_CHECKING:
    from mktai.data.ingest import IngestResult

ENGINES = ("local", "spark")


class Engine(Protocol):
    """The operations whose implementation differs between engines."""

    name: str

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
    ) -> IngestResult: ...

    def clean(
        self,
        sources: Sequence[str | Path],
        *,
        kind: str | None = None,
        mapping: dict[str, str] | None = None,
        encoding: str | None = None,
    ) -> Any:
        """The cleaned rows without writing them: a CleanTable (local) or a CleanedOnSpark
        (a persisted Spark DataFrame; close() it) that a family reduces on the cluster."""
        ...


def engine_name(name: str | None = None) -> str:
    """--engine, else $MKTAI_ENGINE, else local; anything else is a usage error."""
    chosen = (name or os.environ.get("MKTAI_ENGINE") or "local").strip().lower()
    if chosen not in ENGINES:
        where = "--engine" if name else "MKTAI_ENGINE"
        raise UsageError(f"{where} {chosen!r} is not an engine; use one of: {', '.join(ENGINES)}")
    return chosen


def get_engine(name: str | None = None, *, master: str | None = None) -> Engine:
    """The engine called `name` (see engine_name); master: --spark-master for Spark."""
    chosen = engine_name(name)
    if chosen == "spark":
        from mktai.engines.spark import SparkEngine

        return SparkEngine(master=master)
    if master:
        raise UsageError("--spark-master needs --engine spark")
    from mktai.engines.local import LocalEngine

    return LocalEngine()
