"""The transaction-to-customer aggregation (RFM, frequency / recency / T) on Spark.

Lines are hash-partitioned by customer and sorted by (customer, file order); each task runs the
local engine's own per-customer summary (mktai.tasks.segment.rfm.summarise) over whole
customers. Every customer's lines are then summed in the order the local engine sums them, so
the per-customer table is bit-for-bit the local one, with one definition of the rules. Only the
customer table (one row per customer) comes back to the driver.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktai.engines.spark_read import ROW, SRC

CUSTOMER_SCHEMA = (
    "customer string, recency long, frequency long, monetary double, total double, "
    "gross double, returns double, first_purchase timestamp_ntz, last_purchase timestamp_ntz, "
    "n_days long, event_days long, x long, t_x long, T long, repeat_spend double, "
    "excluded_reason string, __mktai_stats string"
)
STAT_FIELDS = ("lines", "purchase_lines", "return_lines", "zero_amount_lines", "customers")


@dataclass
class Transactions:
    """Transactions reduced to one row per customer on Spark, and what cleaning said."""

    summary: tuple[Any, Any]  # (customer table, LineStats) as rfm.summarise returns them
    counts: dict[str, int]
    rejected: int
    reasons: dict[str, int]
    description: str


def transactions(
    sources: Sequence[str | Path],
    *,
    master: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    as_of: Any = None,
    monetary: str = "mean",
) -> Transactions:
    """Clean SOURCES on Spark and reduce the lines per customer there."""
    from mktai.engines import get_engine

    done = get_engine("spark", master=master).clean(
        sources, kind="transactions", mapping=mapping, encoding=encoding
    )
    try:
        cust, stats, counts = customer_table(done.cleaned, as_of=as_of, monetary=monetary)
    finally:
        done.close()
    counts["rows_rejected_by_cleaning"] = done.rejected
    return Transactions(
        summary=(cust, stats),
        counts=counts,
        rejected=done.rejected,
        reasons=dict(done.report.get("rejected_by_reason") or {}),
        description=done.description,
    )


def customer_table(cleaned: Any, *, as_of: Any, monetary: str) -> tuple[Any, Any, dict[str, int]]:
    """(per-customer frame as rfm.summarise returns it, LineStats, input counts)."""
    import pandas as pd
    from pyspark.sql import functions as F

    from mktai.errors import InputError, UsageError
    from mktai.tasks.segment.rfm import MONETARY_MODES, LineStats, default_as_of

    if monetary not in MONETARY_MODES:
        raise UsageError(f"--monetary must be one of {', '.join(MONETARY_MODES)}, not {monetary!r}")
    plan = cleaned.plan
    roles = plan.roles
    for role in ("customer", "date", "amount"):
        if role not in roles:
            raise InputError(f"no column for role '{role}'; name it with --map {role}=COLUMN")
    clean = cleaned.clean(tags=True)
    cols = [
        F.col(f"`{roles['customer']}`").alias("customer"),
        F.col(f"`{roles['date']}`").alias("date"),
        F.col(f"`{roles['amount']}`").cast("double").alias("amount"),
    ]
    if "order" in roles:
        cols.append(F.col(f"`{roles['order']}`").cast("string").alias("order"))
    if "is_return" in roles:
        cols.append(F.coalesce(F.col(f"`{roles['is_return']}`").cast("boolean"), F.lit(False))
                    .alias("is_return"))  # fmt: skip
    tx = clean.select(*cols, F.col(SRC), F.col(ROW))
    no_c, no_d, no_a = F.col("customer").isNull(), F.col("date").isNull(), F.col("amount").isNull()
    as_of_ts = None if as_of is None else pd.Timestamp(as_of).normalize()
    usable = ~(no_c | no_d | no_a)
    aggs = [
        F.count(F.lit(1)).alias("rows"),
        F.sum(no_c.cast("long")).alias("rows_without_customer"),
        F.sum((no_d & ~no_c).cast("long")).alias("rows_without_date"),
        F.sum((no_a & ~no_c & ~no_d).cast("long")).alias("rows_without_amount"),
        F.max(F.when(usable, F.col("date"))).alias("last"),
    ]
    if as_of_ts is not None:
        late = usable & (F.col("date") >= F.lit(as_of_ts.to_pydatetime()).cast("timestamp_ntz"))
        aggs.append(F.sum(late.cast("long")).alias("late"))
    row = tx.agg(*aggs).collect()[0]
    counts = {k: int(row[k] or 0) for k in ("rows", "rows_without_customer", "rows_without_date",
                                             "rows_without_amount")}  # fmt: skip
    counts["rows_rejected_by_cleaning"] = 0  # filled in by the caller
    if row["last"] is None:
        raise InputError(
            "no transaction row has a customer id, a date and an amount; check the columns "
            "(or name them with --map customer=... --map date=...)"
        )
    lines = tx.filter(usable)
    after = 0
    if as_of_ts is not None:
        after = int(row["late"] or 0)
        if after:
            cut = F.lit(as_of_ts.to_pydatetime()).cast("timestamp_ntz")
            lines = lines.filter(F.col("date") < cut)
            usable_rows = counts["rows"] - counts["rows_without_customer"]
            usable_rows -= counts["rows_without_date"] + counts["rows_without_amount"]
            if after == usable_rows:
                raise UsageError(
                    f"no transaction is dated before --as-of {as_of_ts.date()}; choose a later date"
                )
    else:
        as_of_ts = default_as_of(pd.Series([pd.Timestamp(row["last"])]))
    spark = cleaned.frame.sparkSession
    width = int(spark.conf.get("spark.sql.shuffle.partitions"))
    ordered = lines.repartition(width, "customer").sortWithinPartitions("customer", SRC, ROW)
    run = _summariser(as_of_ts, monetary)
    table = ordered.mapInArrow(run, CUSTOMER_SCHEMA).toArrow()
    frame = table.to_pandas()
    stats_rows = frame["__mktai_stats"].dropna()
    cust = frame[frame["__mktai_stats"].isna()].drop(columns="__mktai_stats")
    cust = cust.sort_values("customer", kind="stable").reset_index(drop=True)
    cust = _local_dtypes(cust)
    totals = dict.fromkeys(STAT_FIELDS, 0)
    for text in stats_rows:
        part = json.loads(text)
        for key in STAT_FIELDS:
            totals[key] += int(part[key])
    stats = LineStats(**totals, as_of=str(as_of_ts.date()), lines_after_as_of=after)
    return cust, stats, counts


def _local_dtypes(cust: Any) -> Any:
    """The dtypes rfm.summarise gives (str ids and reasons, datetime64[ns])."""
    import pandas as pd

    from mktai.tasks.segment.rfm import _customer_labels

    cust["customer"] = _customer_labels(cust["customer"].to_numpy())
    for column in ("recency", "frequency", "n_days", "event_days", "x", "t_x", "T"):
        cust[column] = cust[column].astype("int64")  # float while stats rows shared the table
    for column in ("first_purchase", "last_purchase"):
        cust[column] = cust[column].astype("datetime64[ns]")
    cust["excluded_reason"] = pd.array(cust["excluded_reason"].astype(str), dtype="str")
    return cust


def _summariser(as_of: Any, monetary: str) -> Any:
    """Per task: whole customers at a time (a customer's lines may span Arrow batches)."""

    def run(batches: Any) -> Any:
        import pyarrow as pa

        pending: list[Any] = []
        for batch in batches:
            if batch.num_rows == 0:
                continue
            customers = batch.column("customer")
            last = customers[batch.num_rows - 1]
            same = pa.compute.equal(customers, last)
            cut = batch.num_rows - int(pa.compute.sum(same).as_py() or 0)
            # rows of the last customer stay pending: its next lines may be in the next batch
            if cut > 0:
                pending.append(batch.slice(0, cut))
                done = pa.Table.from_batches(pending)
                pending = [batch.slice(cut)]
                yield from _summarise(done, as_of, monetary)
            else:
                pending.append(batch)
        if pending:
            yield from _summarise(pa.Table.from_batches(pending), as_of, monetary)

    return run


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "long": pa.int64(), "double": pa.float64(),
             "timestamp_ntz": pa.timestamp("us")}  # fmt: skip
    fields = [part.strip().split(" ") for part in CUSTOMER_SCHEMA.split(",")]
    return pa.schema([(name, types[kind]) for name, kind in fields])


def _summarise(table: Any, as_of: Any, monetary: str) -> Any:
    import pandas as pd
    import pyarrow as pa

    from mktai.tasks.segment.rfm import summarise

    if table.num_rows == 0:
        return
    frame = table.drop_columns([SRC, ROW]).to_pandas()
    frame["date"] = frame["date"].astype("datetime64[ns]")
    cust, stats = summarise(frame, as_of=as_of, monetary=monetary)
    cust = cust.assign(
        customer=cust["customer"].astype(object),
        excluded_reason=cust["excluded_reason"].astype(object),
        first_purchase=cust["first_purchase"].astype("datetime64[us]"),
        last_purchase=cust["last_purchase"].astype("datetime64[us]"),
        __mktai_stats=pd.Series([None] * len(cust), dtype=object),
    )
    out = pa.Table.from_pandas(cust, schema=_arrow_schema(), preserve_index=False)
    payload = json.dumps({k: getattr(stats, k) for k in STAT_FIELDS})
    stats_row = {name: [None] for name in out.column_names}
    stats_row["__mktai_stats"] = [payload]
    yield from out.to_batches()
    yield pa.RecordBatch.from_pydict(stats_row, schema=out.schema)
