"""`train recommender --algorithm als` end to end on Spark: the events, the id maps, the holdout
split and the seen items are Spark DataFrames; only arrays the size of the catalogue and of the
user base (id maps, biases, factors, popularity) come to the driver.

The rows come from the Spark engine's cleaning (the local cleaning rules, run per partition);
the event rules are those of interactions.py, expressed on DataFrames:
- explicit: a usable rating has a user, an item and a finite rating inside the scale (detected
  from the data's min and max as locally, or --scale); a user-item pair rated twice keeps the
  latest by timestamp, file order without one;
- implicit: a line counts when it has a customer and an item, a positive quantity and is neither
  a return nor a cancellation; one event per (customer, item, order), the first line's time.
Every event keeps the row tag of its first line (source, row), which is what the seeded holdout
split hashes: the same seed gives the same split whatever the partitioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError, UsageError
from mktai.tasks.recommend.family import RecommenderModel
from mktai.tasks.recommend.interactions import IdMaps

if TYPE_CHECKING:
    import numpy as np

SHARE_SCALE = 1_000_000  # the split compares a hash modulo this with test_size * it
TIME_ACCURACY = 1_000_000  # percentile_approx accuracy of --split time's cut
SOURCE_SHIFT = 40  # a row's tag: source index above, row number below (as spark_clean's)


@dataclass
class SparkEvents(IdMaps):
    """Events as a DataFrame (u int, i int, value double, t long or null, key long) + the maps."""

    frame: Any
    users: np.ndarray
    items: np.ndarray
    feedback: str
    scale: tuple[float, float] | None
    timed: bool
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def subset(self, frame: Any) -> SparkEvents:
        return SparkEvents(frame, self.users, self.items, self.feedback, self.scale, self.timed)


def _text_id(column: str) -> Any:
    """An id as the local engine reads it (str of the value, stripped)."""
    from pyspark.sql import functions as F

    return F.trim(F.col(f"`{column}`").cast("string"))


def _time(plan: Any) -> Any:
    """Microseconds since the epoch of the date role, or a null literal."""
    from pyspark.sql import functions as F

    column = plan.roles.get("date")
    if column is None or plan.types.get(column) != "date":
        return F.lit(None).cast("long")
    return F.unix_micros(F.col(f"`{column}`").cast("timestamp"))


def events_on_spark(
    cleaned: Any, report: dict[str, Any], feedback: str, description: str,
    scale: tuple[float, float] | None = None,
) -> SparkEvents:  # fmt: skip
    """The events of Spark-cleaned rows (spark_clean.Cleaned), coded with sorted id maps; the
    frame is persisted (unpersist it when done). Rejected ratings update `report` as the local
    add_rejects does."""
    from pyspark.sql import functions as F

    from mktai.engines.spark_read import ROW, SRC
    from mktai.engines.spark_session import cache_level

    rows = cleaned.clean(tags=True).withColumn(
        "key", F.col(SRC).cast("long") * F.lit(1 << SOURCE_SHIFT) + F.col(ROW)
    )
    if feedback == "explicit":
        raw, notes, counts, scale = _explicit(rows, cleaned.plan, report, description, scale)
    else:
        raw, notes, counts = _implicit(rows, cleaned.plan, description)
    timed = bool(counts.pop("_timed"))
    users, items = _id_maps(raw)
    spark = rows.sparkSession
    frame = raw.join(F.broadcast(_codes(spark, users, "uid", "u")) if len(users) < 2_000_000
                     else _codes(spark, users, "uid", "u"), "uid")  # fmt: skip
    frame = frame.join(_codes(spark, items, "iid", "i"), "iid")
    frame = frame.select("u", "i", "value", "t", "key").persist(cache_level())
    return SparkEvents(frame, users, items, feedback, scale, timed, notes, counts)


def _id_maps(frame: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct user and item ids (code point order, as the local
    pd.factorize(sort=True) on str), from one Spark query: the two id columns as one tagged
    column, made distinct (the events are computed once, not once per map)."""
    import numpy as np
    from pyspark.sql import functions as F

    tagged = frame.select(F.lit(0).alias("side"), F.col("uid").alias("id")).unionByName(
        frame.select(F.lit(1).alias("side"), F.col("iid").alias("id"))
    )
    table = tagged.distinct().toArrow()
    side = table.column("side").to_numpy(zero_copy_only=False)
    ids = np.asarray(table.column("id").to_pylist(), dtype=object)
    users, items = (np.asarray(sorted(ids[side == k].tolist()), dtype=np.str_) for k in (0, 1))
    return users, items


def _codes(spark: Any, ids: np.ndarray, name: str, code: str) -> Any:
    import numpy as np
    import pyarrow as pa

    table = pa.table({name: pa.array(ids.tolist(), pa.string()),
                      code: pa.array(np.arange(len(ids), dtype=np.int32))})  # fmt: skip
    return spark.createDataFrame(table.to_pandas())


def _explicit(rows: Any, plan: Any, report: dict[str, Any], description: str,
              scale: tuple[float, float] | None) -> tuple[Any, list[str], dict[str, int], Any]:  # fmt: skip
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from mktai.engines.spark_read import ROW, SRC
    from mktai.tasks.recommend.interactions import detect_scale

    columns = _roles(plan, description, ("user", "item", "rating"))
    rating = F.col(f"`{columns['rating']}`").cast("double")
    frame = rows.select(
        _text_id(columns["user"]).alias("uid"), _text_id(columns["item"]).alias("iid"),
        rating.alias("value"), _time(plan).alias("t"), SRC, ROW, "key",
    )  # fmt: skip
    finite = F.col("value").isNotNull() & ~F.isnan("value") & (F.abs("value") < float("inf"))
    usable = finite & F.col("uid").isNotNull() & F.col("iid").isNotNull()
    frame = frame.withColumn("usable", usable)

    def outside_of(bounds: tuple[float, float]) -> Any:
        return F.col("usable") & ((F.col("value") < bounds[0]) | (F.col("value") > bounds[1]))

    # one pass: a detected scale holds every usable rating (detect_scale widens to the min and
    # max), so only a given --scale has ratings outside it to count
    outside_n = F.sum(outside_of(scale).cast("long")) if scale else F.lit(0)
    tally = frame.agg(
        F.min(F.when(F.col("usable"), F.col("value"))).alias("low"),
        F.max(F.when(F.col("usable"), F.col("value"))).alias("high"),
        F.count(F.when(F.col("usable"), F.lit(1))).alias("usable"),
        F.sum((~F.col("usable")).cast("long")).alias("missing"),
        outside_n.alias("outside"),
    ).collect()[0]
    if not tally["usable"]:
        raise InputError(f"{description}: no usable ratings (user, item and rating)")
    import numpy as np

    chosen = scale or detect_scale(np.array([tally["low"], tally["high"]], dtype=np.float64))
    outside = outside_of(chosen)
    missing, out_of_scale = int(tally["missing"] or 0), int(tally["outside"] or 0)
    notes: list[str] = []
    if missing or out_of_scale:
        _count_rejects(report, {"rating outside the scale": out_of_scale,
                                "missing user, item or rating": missing})  # fmt: skip
        notes.append(f"{missing + out_of_scale} rating(s) rejected (outside the scale or "
                     "incomplete)")  # fmt: skip
    kept = frame.filter(F.col("usable") & ~outside)
    # the latest rating of a pair by timestamp (a missing one is the earliest), then file order
    latest = Window.partitionBy("uid", "iid").orderBy(
        F.coalesce("t", F.lit(-(2**63))).desc(), F.col(SRC).desc(), F.col(ROW).desc()
    )
    ranked = kept.withColumn("__n", F.row_number().over(latest))
    out = ranked.filter(F.col("__n") == 1).select("uid", "iid", "value", "t", "key")
    tally = ranked.agg(F.count(F.lit(1)), F.sum((F.col("__n") == 1).cast("long")),
                       F.count("t")).collect()[0]  # fmt: skip
    duplicates = int(tally[0]) - int(tally[1] or 0)
    if duplicates:
        notes.append(
            f"{duplicates} duplicate user-item rating(s): the latest "
            f"{'by timestamp' if tally[2] else 'in file order'} kept"
        )
    counts = {"ratings": int(tally[1] or 0), "duplicates_replaced": duplicates,
              "out_of_scale_rejected": out_of_scale, "_timed": int(tally[2] or 0)}  # fmt: skip
    return out, notes, counts, chosen


def _implicit(rows: Any, plan: Any, description: str) -> tuple[Any, list[str], dict[str, int]]:
    from pyspark.sql import functions as F

    from mktai.tasks.recommend.interactions import CANCELLED_ORDER

    roles = plan.roles
    buyer = next((roles[r] for r in ("customer", "user") if r in roles), None)
    if buyer is None or "item" not in roles:
        columns = ", ".join(map(str, list(plan.names)[:20]))
        raise InputError(
            f"{description}: a recommender needs a customer (or user) and an item column "
            f"(columns: {columns}); name them with --map customer=COLUMN --map item=COLUMN"
        )
    quantity = (F.col(f"`{roles['quantity']}`").cast("double") if "quantity" in roles
                else F.lit(1.0))  # fmt: skip
    order = F.col(f"`{roles['order']}`") if "order" in roles else None
    if "is_return" in roles:
        returned = F.coalesce(F.col(f"`{roles['is_return']}`").cast("boolean"), F.lit(False))
    else:
        returned = F.coalesce(quantity < 0, F.lit(False))
        if order is not None:
            returned = returned | F.coalesce(
                order.cast("string").rlike(CANCELLED_ORDER), F.lit(False)
            )
    frame = rows.select(
        _text_id(buyer).alias("uid"), _text_id(roles["item"]).alias("iid"),
        (_text_id(roles["order"]) if order is not None else F.col("key").cast("string")).alias("o"),
        _time(plan).alias("t"), returned.alias("ret"), F.coalesce(quantity > 0, F.lit(False)).alias("pos"),
        "key",
    )  # fmt: skip
    no_buyer = F.col("uid").isNull() | F.col("iid").isNull()
    tally = frame.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(no_buyer.cast("long")).alias("no_buyer"),
        F.sum((F.col("ret") & ~no_buyer).cast("long")).alias("returns"),
        F.sum((~F.col("ret") & ~no_buyer & ~F.col("pos")).cast("long")).alias("not_positive"),
        F.count(F.when(~no_buyer & ~F.col("ret") & F.col("pos"), F.col("t"))).alias("timed"),
    ).collect()[0]
    kept = frame.filter(~no_buyer & ~F.col("ret") & F.col("pos"))
    events = kept.groupBy("uid", "iid", "o").agg(F.min("t").alias("t"), F.min("key").alias("key"))
    events = events.select("uid", "iid", F.lit(1.0).alias("value"), "t", "key")
    no_buyer_n, returns, not_positive = (int(tally[k] or 0) for k in
                                         ("no_buyer", "returns", "not_positive"))  # fmt: skip
    notes = []
    if no_buyer_n:
        notes.append(f"{no_buyer_n} line(s) without a customer or item left out")
    if returns:
        notes.append(f"{returns} return/cancellation line(s) excluded")
    if not_positive:
        notes.append(f"{not_positive} line(s) with no positive quantity left out")
    counts = {
        "lines_used": int(tally["n"]) - no_buyer_n - returns - not_positive,
        "lines_without_customer": no_buyer_n,
        "return_lines_excluded": returns,
        "non_positive_lines": not_positive,
        "purchase_events": int(events.count()),
        "_timed": int(tally["timed"] or 0),
    }
    return events, notes, counts


def _roles(plan: Any, description: str, wanted: tuple[str, ...]) -> dict[str, str]:
    for role in wanted:
        if role not in plan.roles:
            raise InputError(
                f"{description}: no {role} column (columns: {', '.join(plan.names[:20])}); "
                f"name it with --map {role}=COLUMN"
            )
    return {role: plan.roles[role] for role in wanted}


def _count_rejects(report: dict[str, Any], by_reason: dict[str, int]) -> None:
    """What interactions.add_rejects does to the report, by count (the rows stay on Spark)."""
    total = sum(by_reason.values())
    if "rows_out" in report:
        report["rows_out"] = int(report["rows_out"]) - total
        report["rows_rejected"] = int(report.get("rows_rejected", 0)) + total
        reasons = dict(report.get("rejected_by_reason") or {})
        for reason, n in by_reason.items():
            if n:
                reasons[reason] = reasons.get(reason, 0) + n
        report["rejected_by_reason"] = reasons


def split_on_spark(events: SparkEvents, test_size: float, how: str, seed: int
                   ) -> tuple[SparkEvents, SparkEvents]:  # fmt: skip
    """Holdout on Spark: a seeded hash of each event's first-line tag below test_size (about
    that share, the same events for the same seed), or the latest share in time."""
    from pyspark.sql import functions as F

    frame = events.frame
    if how == "time":
        if not events.timed:
            raise UsageError("--split time needs a date/timestamp column in the data")
        cut = frame.agg(F.percentile_approx("t", 1.0 - test_size, TIME_ACCURACY)).collect()[0][0]
        test = F.col("t") > F.lit(int(cut))
    else:
        drawn = F.pmod(F.xxhash64(F.lit(int(seed)), F.col("key")), F.lit(SHARE_SCALE))
        test = drawn < F.lit(int(round(test_size * SHARE_SCALE)))
    test = F.coalesce(test, F.lit(False))
    row = frame.agg(F.count(F.lit(1)), F.sum(test.cast("long"))).collect()[0]
    held_out = int(row[1] or 0)
    train, tested = events.subset(frame.filter(~test)), events.subset(frame.filter(test))
    train.counts, tested.counts = {"events": int(row[0]) - held_out}, {"events": held_out}
    return train, tested


def check_enough(events: SparkEvents, source: str) -> None:
    """A recommender needs at least two users and two items (the maps hold exactly the users
    and items that have events)."""
    users, items = events.n_users, events.n_items
    if users < 2 or items < 2:
        what = "user" if users < 2 else "item"
        raise InputError(
            f"{source}: only {min(users, items)} {what} with usable feedback; a recommender "
            "needs at least 2 users and 2 items"
        )


# -- reading ----------------------------------------------------------------------------------


class SparkTable:
    """What api.train needs of a cleaned table, for rows cleaned on Spark: the report, the
    fingerprint, the rejects count; the rows themselves stay on Spark (`done`)."""

    on_spark = True

    def __init__(self, done: Any) -> None:
        self.done = done
        self.cleaned = done.cleaned
        self.report = done.report
        self.fingerprint = done.fingerprint
        self.description = done.description
        self.model: Any = None

    @property
    def rejects(self) -> range:  # len() is what is read: rows rejected, by cleaning or events
        return range(int(self.report.get("rows_rejected", 0)))

    def describe(self) -> str:
        return self.description

    def close(self) -> None:
        if self.model is not None:
            self.model.release()
        self.done.close()


def clean_for_als(kind: str, data: Any, *, mapping: dict[str, str] | None, encoding: str | None,
                  strict: bool, keep_duplicates: bool, master: str | None) -> SparkTable:  # fmt: skip
    """DATA through the Spark engine's cleaning, with the dataset kind and dedupe rule the local
    read (tasks.stored.load_for) would use."""
    from mktai.engines import get_engine
    from mktai.engines.spark_read import expand, is_remote
    from mktai.tasks.stored import dataset_kind

    paths = [data] if isinstance(data, (str, Path)) else list(data)
    first = expand(paths[:1])[0]
    data_kind = None if is_remote(first) else dataset_kind(kind, first, mapping=mapping,
                                                            encoding=encoding)  # fmt: skip
    dedupe = data_kind == "transactions" and not keep_duplicates
    done = get_engine("spark", master=master).clean(paths, kind=data_kind, mapping=mapping,
                                                    encoding=encoding, dedupe=dedupe)  # fmt: skip
    table = SparkTable(done)
    if strict and done.rejected:
        table.close()
        raise InputError(
            f"{done.description}: {done.rejected:,} row(s) rejected by cleaning and --strict is "
            "set; `mktai ingest --engine spark` writes them to a rejects directory"
        )
    return table


# -- training -----------------------------------------------------------------------------------


def fit_on_spark(done: Any, kind: str, options: Any) -> Any:
    """family.fit for --algorithm als on Spark-cleaned rows (engines.spark.CleanedOnSpark):
    the same steps (events, checks, seeded holdout metrics, the model on every event), each on
    DataFrames."""
    from mktai.tasks.recommend.interactions import parse_scale
    from mktai.tasks.recommend.spark_eval import holdout_metrics

    params = dict(options.params)
    feedback = _feedback(done, kind, params.get("feedback"))
    events = events_on_spark(done.cleaned, done.report, feedback, done.description,
                             scale=parse_scale(params.get("scale")))  # fmt: skip
    try:
        check_enough(events, done.description)
        warnings = list(events.notes)
        metrics: dict[str, Any] = {}
        test_size = float(params.get("test_size") or 0.0)
        if test_size > 0:
            train_part, test_part = split_on_spark(events, test_size, params.get("split") or "random",
                                                   options.seed)  # fmt: skip
            if not train_part.counts["events"] or not test_part.counts["events"]:
                warnings.append("too few events for a holdout split: no holdout metrics")
            else:
                held = train(train_part, params, options.seed)
                metrics["holdout"] = holdout_metrics(held, test_part)
                held.release()
        model = train(events, params, options.seed)
    except BaseException:
        events.frame.unpersist()
        raise
    model.events = events.frame  # released after the model is saved (SparkALSModel.release)
    done.model = model
    model.kind = kind
    model.metrics = metrics
    model.warnings = warnings
    model.counts = dict(events.counts)
    model.tuning = ({"grid": {}, "best": {}, "results": [], "note": "nothing to tune for als"}
                    if params.get("tune") else None)  # fmt: skip
    return model


def _feedback(done: Any, kind: str, requested: str | None) -> str:
    """interactions.feedback_of for Spark-cleaned rows."""
    plan = done.cleaned.plan
    has_rating = plan.kind == "ratings" and "rating" in plan.roles
    if requested == "explicit" and not has_rating:
        raise InputError(
            f"{done.description}: --feedback explicit needs a rating column; this looks like a "
            "purchases file (name the column with --map rating=COLUMN)"
        )
    return requested or ("explicit" if has_rating else "implicit")


def cells(events: SparkEvents, weighting: str = "binary") -> Any:
    """The user x item matrix as a DataFrame (u, i, value): Interactions.matrix on Spark."""
    from pyspark.sql import functions as F

    grouped = events.frame.groupBy("u", "i")
    if events.feedback == "explicit":
        return grouped.agg(F.sum("value").alias("value"))
    count = F.count(F.lit(1)).cast("double")
    value = {"binary": F.lit(1.0), "count": count, "log": F.lit(1.0) + F.log(count)}[weighting]
    return grouped.agg(value.alias("value"))


def train(events: SparkEvents, params: dict[str, Any], seed: int) -> SparkALSModel:
    """family.train for als: the model's arrays from Spark; its seen items stay a DataFrame."""
    import numpy as np
    from pyspark.sql import functions as F

    from mktai.engines.spark_session import cache_level
    from mktai.tasks.recommend import als
    from mktai.tasks.recommend.family import effective_params

    matrix = cells(events, params.get("weighting") or "binary")
    matrix = matrix.persist(cache_level())
    implicit = events.feedback == "implicit"
    arrays = als.fit_frame(matrix if implicit else events.frame, events.n_users, events.n_items,
                           implicit, params, seed)  # fmt: skip
    per_item = als._by_code(matrix.groupBy(F.col("i").alias("c")).count(), events.n_items)
    popularity = per_item / max(events.n_users, 1)
    interactions = int(per_item.sum())
    return SparkALSModel(
        kind="recommender", algorithm="als", feedback=events.feedback, scale=events.scale,
        users=events.users, items=events.items, train=None, popularity=popularity.astype(np.float64),
        arrays=[arrays], params=effective_params("als", params), seen=matrix,
        interactions=interactions,
    )  # fmt: skip


class SparkALSModel(RecommenderModel):
    """A RecommenderModel whose seen items are a Spark DataFrame (`seen`): saved as
    seen.parquet, streamed from Spark a partition at a time, never collected whole."""

    def __init__(self, *, seen: Any, interactions: int, **fields: Any) -> None:
        super().__init__(**fields)
        del self.train  # there is no matrix on the driver
        self.seen = seen
        self.interactions = interactions
        self.events: Any = None

    def __getattr__(self, name: str) -> Any:
        if name == "train":
            raise AttributeError("a Spark-trained model's seen items are a DataFrame (seen)")
        raise AttributeError(name)

    def manifest_fields(self) -> dict[str, Any]:
        import scipy.sparse as sp

        self.train = sp.csr_matrix((0, 0))  # only its nnz is read, replaced below
        try:
            fields = super().manifest_fields()
        finally:
            del self.train
        fields["recommender"]["interactions"] = self.interactions
        return fields

    def save(self, directory: Any) -> None:
        from pathlib import Path

        import numpy as np

        from mktai.store.formats import write_json, write_npz
        from mktai.tasks.recommend.family import SEEN_FILE

        directory = Path(directory)
        write_json(directory / "recommender.json", self._meta())
        write_npz(directory / "ids.npz", {"users": self.users.astype(np.str_),
                                          "items": self.items.astype(np.str_)})  # fmt: skip
        write_npz(directory / "interactions.npz", {"popularity": self.popularity})
        flat = {f"m0__{key}": np.asarray(value) for key, value in self.arrays[0].items()}
        write_npz(directory / "arrays.npz", flat)
        write_seen(self.seen, directory / SEEN_FILE, self.n_users)

    def release(self) -> None:
        """Drop the cached DataFrames (after saving)."""
        self.seen.unpersist()
        if self.events is not None:
            self.events.unpersist()


SEEN_ROWS_PER_PART = 2_000_000  # seen items per Spark partition streamed to the driver


def write_seen(seen: Any, path: Any, n_users: int) -> int:
    """The seen items sorted by (user, item) into one parquet file: Spark sorts them by range,
    and the driver takes one partition at a time (toLocalIterator) into a row group."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    from mktai.store.formats import write_parquet_batches

    total = seen.count()
    parts = max(1, -(-total // SEEN_ROWS_PER_PART))
    ordered = seen.select(F.col("u").cast("int"), F.col("i").cast("int"),
                          F.col("value").cast("double"))  # fmt: skip
    ordered = ordered.repartitionByRange(parts, "u").sortWithinPartitions("u", "i")
    schema = pa.schema([("u", pa.int32()), ("i", pa.int32()), ("value", pa.float64())])

    def batches() -> Any:
        chunk: list[Any] = []
        for row in ordered.toLocalIterator():
            chunk.append(row)
            if len(chunk) == 100_000:
                yield _batch(chunk, schema)
                chunk = []
        if chunk:
            yield _batch(chunk, schema)

    return write_parquet_batches(path, schema, batches())


def _batch(rows: list[Any], schema: Any) -> Any:
    import pyarrow as pa

    u, i, value = zip(*rows, strict=True)
    return pa.RecordBatch.from_arrays(
        [pa.array(u, pa.int32()), pa.array(i, pa.int32()), pa.array(value, pa.float64())],
        schema=schema,
    )
