"""Writing Spark outputs: directories published atomically on local paths, overwritten by the
committer on remote stores (s3a://, hdfs://: Spark's commit protocol and its _SUCCESS marker)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from mktai.engines.spark_read import REMOTE
from mktai.errors import UsageError


def write_dir(
    frame: Any, target: str | Path, fmt: str, partition_by: list[str] | None = None
) -> None:
    """Write `frame` as a directory of part files (parquet or CSV with a header)."""
    text = str(target)
    remote = bool(REMOTE.match(text)) and not text.startswith("file://")

    def save(where: str, mode: str) -> None:
        writer = frame.write.mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if fmt == "csv":
            writer.option("header", True).option("escape", '"').option("quoteAll", False).csv(where)
        else:
            writer.parquet(where)

    if remote:
        save(text, "overwrite")
        return
    path = Path(text.removeprefix("file://")).absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    tmp = path.parent / f".{path.name}.mktai-{uuid.uuid4().hex[:8]}.tmp"
    try:
        save("file://" + str(tmp), "error")  # Connect knows "error", not "errorifexists"
        publish(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, path: Path) -> None:
    """Put the finished directory in place; whatever was at `path` goes only after that."""
    old = None
    if path.exists() or path.is_symlink():
        old = path.parent / f".{path.name}.mktai-old-{uuid.uuid4().hex[:8]}"
        os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        if old is not None:
            os.rename(old, path)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
