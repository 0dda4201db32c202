"""The local cleaning rules run on Spark: planned on the driver, applied per partition.

One definition of the rules: the driver plans exactly as the local engine does (the first batch
of the first file through mktai.data.clean.make_plan), and every partition runs the same Cleaner
through mktai.data.load.clean_batch on Arrow batches of the raw columns (mapInArrow, so the
pandas hand-off is the one the local reader makes). Only what needs the whole data set is
expressed in Spark: the exact-duplicate check (first occurrence in file order wins, by the row
tags of spark_read) and the order of the output (file order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mktai.engines.spark_read import BAD, DUP, ROW, SRC, SparkInput

KIND = "__mktai_kind"
STATS = "__mktai_stats"
REJECT_COLUMNS = ("source", "row", "reason", "raw")
BROADCAST_GROUPS = 2_000_000  # duplicate groups joined back by broadcast (24 B each)
SOURCE_SHIFT = 40  # the tag of a row: source index above, row number below (as Deduper does)


@dataclass
class Cleaned:
    """What cleaning on Spark produced: typed rows and rejects (DataFrames) and the counts."""

    frame: Any  # kind, src, row, clean columns..., r_source, r_row, r_reason, r_raw, stats
    columns: list[str]  # the clean columns, in output order
    plan: Any
    stats: Any  # merged CleanStats
    malformed: int

    def clean(self, *, tags: bool = False) -> Any:
        from pyspark.sql import functions as F

        keep = [F.col(f"`{c}`") for c in self.columns]
        if tags:
            keep += [F.col(SRC), F.col(ROW)]
        return self.frame.filter(F.col(KIND) == 0).select(*keep)

    def rejects(self) -> Any:
        from pyspark.sql import functions as F

        return self.frame.filter(F.col(KIND) == 1).select(
            *[F.col(f"r_{c}").alias(c) for c in REJECT_COLUMNS]
        )


def _spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    return {
        "number": T.DoubleType(),
        "date": T.TimestampNTZType(),
        "bool": T.ByteType(),
    }.get(kind, T.StringType())


def output_columns(plan: Any, multi: bool) -> list[tuple[str, str]]:
    """(name, plan type) of the clean table, as Stream.chunks lays it out."""
    from mktai.data.clean import free_name

    columns = [(n, plan.types[n]) for n in plan.names]
    for name in plan.derived:
        columns.append((name, "bool" if name == plan.roles.get("is_return") else "number"))
    if multi:
        columns.insert(0, (free_name("source", plan.names + plan.derived), "text"))
    return columns


def schema(columns: list[tuple[str, str]]) -> Any:
    from pyspark.sql import types as T

    fields = [
        T.StructField(KIND, T.ByteType(), False),
        T.StructField(SRC, T.IntegerType()),
        T.StructField(ROW, T.LongType()),
    ]
    for name, kind in columns:
        spark_type = T.BooleanType() if kind == "bool" and name.startswith("is_return") else None
        fields.append(T.StructField(name, spark_type or _spark_type(kind)))
    fields += [
        T.StructField("r_source", T.StringType()),
        T.StructField("r_row", T.LongType()),
        T.StructField("r_reason", T.StringType()),
        T.StructField("r_raw", T.StringType()),
        T.StructField(STATS, T.StringType()),
    ]
    return T.StructType(fields)


def clean_on_spark(spark: Any, inp: SparkInput, *, kind: str | None, mapping: dict[str, str],
                   required: tuple[str, ...] = (), dedupe: bool = True) -> Cleaned:  # fmt: skip
    """Plan on the driver, dedupe in Spark, clean per partition; the result is persisted."""
    from pyspark.sql import functions as F

    from mktai.data.clean import make_plan
    from mktai.data.load import merge_stats
    from mktai.engines.spark_read import read_tagged, sample_frame
    from mktai.engines.spark_session import cache_level

    held: list[Any] = []  # intermediate caches, released once the result is materialised
    tagged, raw = read_tagged(spark, inp, held)
    plan = make_plan(sample_frame(spark, inp, tagged, raw), kind, mapping, required)
    if len(raw) != len(plan.names):
        raise AssertionError("plan and raw columns disagree")
    tag = F.col(SRC).cast("long") * F.lit(1 << SOURCE_SHIFT) + F.col(ROW)
    if dedupe:
        tagged = _mark_duplicates(tagged, raw, tag, held)
    else:
        tagged = tagged.withColumn(DUP, F.lit(None).cast("long"))
    # the range shuffle reads its input twice (sampling, then the shuffle): keep the marked rows
    # rather than hashing and joining every row twice more
    tagged = tagged.persist(cache_level())
    held.append(tagged)
    columns = output_columns(plan, len(inp.sources) > 1)
    out_schema = schema(columns)
    run = _partition_cleaner(plan, inp.names, inp.delimiter, raw, columns, len(plan.original))
    # one shuffle: contiguous, ordered row ranges per task (parallel cleaning, part files in
    # file order); each task sees its rows in file order, as the local stream does
    width = int(spark.conf.get("spark.sql.shuffle.partitions"))
    ordered = tagged.repartitionByRange(width, SRC, ROW).sortWithinPartitions(SRC, ROW)
    frame = ordered.mapInArrow(run, out_schema)
    frame = frame.persist(cache_level())
    rows = frame.filter(F.col(KIND) == 2).select(SRC, ROW, STATS).collect()
    for cached in held:  # `frame` holds every row now: its inputs' caches can go
        cached.unpersist()
    rows.sort(key=lambda r: (r[SRC], r[ROW]))
    parts = [_stats_from_json(r[STATS]) for r in rows]
    malformed = sum(p.pop("_malformed", 0) for p in parts)
    stats = merge_stats([_as_stats(p) for p in parts])
    for part in parts:  # a date order decided in a partition: the driver's plan says so too
        for column, day_first in part.get("_day_first", {}).items():
            if plan.day_first.get(column) is None:
                plan.day_first[column] = day_first
    return Cleaned(frame, [c for c, _ in columns], plan, stats, malformed)


def _mark_duplicates(tagged: Any, raw: list[str], tag: Any, held: list[Any]) -> Any:
    """Adds DUP: the tag of the first row (file order) with exactly the same raw values, when
    that is another row; else null. Two hashes (96 bits) find the groups, as the local
    Deduper's 64-bit row hash does; only groups with repeats are joined back (broadcast)."""
    from pyspark.sql import functions as F

    values = [x for c in raw for x in (F.col(f"`{c}`"), F.col(f"`{c}`").isNull())]
    hashed = tagged.withColumn("__h1", F.xxhash64(*values)).withColumn("__h2", F.hash(*values))
    groups = (
        hashed.filter(F.col(BAD).isNull())
        .groupBy("__h1", "__h2")
        .agg(F.count(F.lit(1)).alias("__n"), F.min(tag).alias("__first"))
        .filter(F.col("__n") > 1)
        .select("__h1", "__h2", "__first")
    )
    groups = groups.persist()
    held.append(groups)
    small = groups.count() <= BROADCAST_GROUPS
    joined = hashed.join(F.broadcast(groups) if small else groups, ["__h1", "__h2"], "left")
    first = F.when(F.col(BAD).isNull() & (F.col("__first") != tag), F.col("__first"))
    return joined.withColumn(DUP, first).drop("__h1", "__h2", "__first")


def _partition_cleaner(
    plan: Any,
    names: list[str],
    delimiter: str,
    raw: list[str],
    columns: list[tuple[str, str]],
    width: int,
) -> Any:
    """The function each task runs over its Arrow batches (rows sorted by source, row)."""

    def run(batches: Any) -> Any:
        for batch in batches:
            yield from _clean_arrow(batch, plan, names, delimiter, raw, columns, width)

    return run


def _clean_arrow(batch, plan, names, delimiter, raw, columns, width):  # noqa: ANN001, ANN202
    import numpy as np
    import pyarrow as pa

    from mktai.data.load import clean_batch

    if batch.num_rows == 0:
        return
    src = batch.column(SRC).to_numpy(zero_copy_only=False)
    cuts = np.flatnonzero(src[1:] != src[:-1]) + 1
    for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(src)], strict=True):
        part = batch.slice(int(start), int(stop - start))
        source = int(src[start])
        rows = part.column(ROW).to_numpy(zero_copy_only=False).astype(np.int64)
        bad = part.column(BAD)
        good = bad.is_null().to_numpy(zero_copy_only=False)
        pieces: list[pa.RecordBatch] = []
        stats_extra: dict[str, Any] = {"_malformed": int((~good).sum())}
        if good.any():
            mask = pa.array(good)
            frame = part.select(raw).filter(mask)  # Arrow, as the local reader hands it over
            first = part.column(DUP).filter(mask).to_numpy(zero_copy_only=False)
            reasons = _duplicate_reasons(first, source, names)
            before = dict(plan.day_first)
            clean, rejects, stats = clean_batch(
                plan, frame, rows[good], source_name=names[source], delimiter=delimiter,
                duplicates=reasons,
            )  # fmt: skip
            decided = {c: v for c, v in plan.day_first.items() if before.get(c) != v}
            if decided:
                stats_extra["_day_first"] = decided
            kept_rows = rows[good]
            if len(rejects):
                kept_rows = kept_rows[~np.isin(kept_rows, rejects["row"].to_numpy() - 1)]
            if len(clean):
                if columns and columns[0][0] not in plan.names + plan.derived:
                    clean.insert(0, columns[0][0], names[source])
                pieces.append(_clean_batch_arrow(clean, source, kept_rows, columns))
            if len(rejects):
                pieces.append(_rejects_arrow(rejects, source, columns))
            pieces.append(_stats_arrow(stats, stats_extra, source, int(rows[0]), columns))
        else:
            from mktai.data.clean import CleanStats

            pieces.append(_stats_arrow(CleanStats(), stats_extra, source, int(rows[0]), columns))
        if not good.all():
            pieces.append(_malformed_arrow(part, ~good, rows, source, names, width, delimiter,
                                           columns))  # fmt: skip
        yield from pieces


def _duplicate_reasons(first: Any, source: int, names: list[str]) -> Any:
    """'exact duplicate of row N' (+ ' of FILE' across files) from the first row's tag."""
    import numpy as np

    out = np.full(len(first), None, dtype=object)
    present = ~np.isnan(first) if first.dtype.kind == "f" else np.ones(len(first), dtype=bool)
    if not present.any():
        return out
    tags = first[present].astype(np.int64)
    rows = (tags & ((1 << SOURCE_SHIFT) - 1)) + 1
    srcs = tags >> SOURCE_SHIFT
    text = [
        f"exact duplicate of row {r}" + (f" of {names[s]}" if s != source else "")
        for r, s in zip(rows.tolist(), srcs.tolist(), strict=True)
    ]
    out[present] = text
    return out


def _nulls(n: int, columns: list[tuple[str, str]], skip: set[str]) -> dict[str, Any]:
    import pyarrow as pa

    from mktai.engines.spark_clean import _arrow_type

    return {
        name: pa.nulls(n, _arrow_type(kind, name)) for name, kind in columns if name not in skip
    }


def _arrow_type(kind: str, name: str) -> Any:
    import pyarrow as pa

    if kind == "bool" and name.startswith("is_return"):
        return pa.bool_()
    return {"number": pa.float64(), "date": pa.timestamp("us"), "bool": pa.int8()}.get(
        kind, pa.string()
    )


def _assemble(kind: int, n: int, source: int, rows: Any, columns, values, extra):  # noqa: ANN001, ANN202
    import pyarrow as pa

    arrays = {
        KIND: pa.array([kind] * n, pa.int8()),
        SRC: pa.array([source] * n, pa.int32()),
        ROW: pa.array(rows, pa.int64()),
    }
    filled = _nulls(n, columns, set(values))
    for name, _ in columns:
        arrays[name] = values[name] if name in values else filled[name]
    for name, arrow_type in (
        ("r_source", pa.string()),
        ("r_row", pa.int64()),
        ("r_reason", pa.string()),
        ("r_raw", pa.string()),
        (STATS, pa.string()),
    ):
        arrays[name] = extra.get(name, pa.nulls(n, arrow_type))
    return pa.RecordBatch.from_pydict(arrays)


def _clean_batch_arrow(clean, source, rows, columns):  # noqa: ANN001, ANN202
    import pyarrow as pa

    values = {}
    for name, kind in columns:
        arrow_type = _arrow_type(kind, name)
        series = clean[name]
        if kind == "date":
            array = pa.array(series.to_numpy(dtype="datetime64[ns]"), pa.timestamp("ns"))
            values[name] = array.cast(arrow_type, safe=False)
        elif arrow_type == pa.string():
            values[name] = pa.array(series.astype(object).where(series.notna(), None).tolist(),
                                    pa.string())  # fmt: skip
        else:
            values[name] = pa.Array.from_pandas(series).cast(arrow_type)
    return _assemble(0, len(clean), source, rows, columns, values, {})


def _rejects_arrow(rejects, source, columns):  # noqa: ANN001, ANN202
    import pyarrow as pa

    from mktai.data.write import neutralise_formulas

    rejects = neutralise_formulas(rejects)  # what the local rejects CSV holds
    n = len(rejects)
    extra = {
        "r_source": pa.array(rejects["source"].astype(str).tolist(), pa.string()),
        "r_row": pa.array(rejects["row"].to_numpy(dtype="int64"), pa.int64()),
        "r_reason": pa.array(rejects["reason"].astype(str).tolist(), pa.string()),
        "r_raw": pa.array(rejects["raw"].astype(str).tolist(), pa.string()),
    }
    rows = rejects["row"].to_numpy(dtype="int64") - 1
    return _assemble(1, n, source, rows, columns, {}, extra)


def _malformed_arrow(part, bad, rows, source, names, width, delimiter, columns):  # noqa: ANN001, ANN202
    """Lines with the wrong field count: rejected with the counts, like the local reader."""
    import csv
    import io

    import numpy as np
    import pyarrow as pa

    texts = part.column(BAD).filter(pa.array(bad)).to_pylist()
    reasons, raws = [], []
    for text in texts:
        line = (text or "").rstrip("\r\n")
        fields = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        reasons.append(f"malformed line: expected {width} fields, found {len(fields)}")
        raws.append(line[:10_000])
    import pandas as pd

    from mktai.data.write import neutralise_formulas

    picked = rows[bad].astype(np.int64)
    shown = neutralise_formulas(pd.DataFrame({"reason": reasons, "raw": raws}, dtype=object))
    extra = {
        "r_source": pa.array([names[source]] * len(texts), pa.string()),
        "r_row": pa.array(picked + 1, pa.int64()),
        "r_reason": pa.array(shown["reason"].astype(str).tolist(), pa.string()),
        "r_raw": pa.array(shown["raw"].astype(str).tolist(), pa.string()),
    }
    return _assemble(1, len(texts), source, picked, columns, {}, extra)


def _stats_arrow(stats, extra, source, first_row, columns):  # noqa: ANN001, ANN202
    import pyarrow as pa

    payload = {
        "rows_in": stats.rows_in,
        "rows_out": stats.rows_out,
        "duplicates": stats.duplicates,
        "rejected": dict(stats.rejected),
        "missing": dict(stats.missing),
        "unparseable": dict(stats.unparseable),
        "unparseable_examples": dict(stats.unparseable_examples),
        "date_info": stats.date_info,
        "transactions": dict(stats.transactions),
        **extra,
    }
    text = json.dumps(payload, default=_jsonable)
    return _assemble(2, 1, source, [first_row], columns, {}, {STATS: pa.array([text])})


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _stats_from_json(text: str) -> dict[str, Any]:
    return json.loads(text)


def _as_stats(part: dict[str, Any]) -> Any:
    from collections import Counter

    from mktai.data.clean import CleanStats

    return CleanStats(
        rows_in=part["rows_in"],
        rows_out=part["rows_out"],
        duplicates=part["duplicates"],
        rejected=Counter(part["rejected"]),
        missing=Counter(part["missing"]),
        unparseable=Counter(part["unparseable"]),
        unparseable_examples=dict(part["unparseable_examples"]),
        date_info=dict(part["date_info"]),
        transactions=Counter(part["transactions"]),
    )
