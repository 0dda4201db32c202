"""`segment`: one row per customer with RFM scores, named segment, cluster and optional CLV.

Either fits everything on this data (quintile edges, k-means, BG/NBD + Gamma-Gamma) or applies a
stored segments model (same edges, map and centroids as when it was trained, so next month's
run is on the same scale and segment migrations mean something). compare_to adds the migration
matrix from a previous run's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import Result, internal

if TYPE_CHECKING:
    import pandas as pd

    from mktai.api.loaded import LoadedModel


@dataclass
class SegmentRunResult(Result):
    """customers: the per-customer table; summary: segments, clusters, CLV, migration."""

    summary: dict[str, Any] = field(default_factory=dict)
    customers: pd.DataFrame | None = internal()

    def to_dict(self) -> dict[str, Any]:
        from mktai.tasks.segment.family import finite

        return finite(self.summary)


def _is_summary_table(data: Any, encoding: str | None) -> bool:
    """Whether DATA (one file) is a customer summary, judged from its header alone."""
    from mktai.data.read import empty_frame, open_source
    from mktai.data.schema import normalise_name
    from mktai.errors import MktaiError
    from mktai.tasks.segment.clv_summary import is_customer_summary

    if isinstance(data, (list, tuple)):
        if len(data) != 1:
            return False
        data = data[0]
    if str(data) == "-":
        return False
    try:
        source = open_source(data, encoding)
        try:
            header = list(empty_frame(source).columns)
        finally:
            source.cleanup()
    except (MktaiError, OSError, ValueError):
        return False
    return is_customer_summary([normalise_name(str(h)) for h in header])


def _default(name: str, value: Any) -> Any:
    """The given value, else the segments SPEC's default: each default is stated once."""
    from mktai.tasks.segment import SPEC

    return value if value is not None else SPEC.param(name).default


def _segment_summary(data: Any, *, horizon: int | None, discount: float | None,
                     encoding: str | None) -> SegmentRunResult:  # fmt: skip
    """CLV of every row of a customer summary table (mktai.tasks.segment.clv_summary)."""
    from mktai.data import load_table
    from mktai.tasks.segment.clv_summary import clv_from_summary

    path = data[0] if isinstance(data, (list, tuple)) else data
    table = load_table(path, kind="table", encoding=encoding)
    table.check_strict(False)
    scored = clv_from_summary(table.frame, horizon=float(_default("horizon", horizon)),
                              discount=float(_default("discount", discount)),
                              source=table.describe())  # fmt: skip
    summary = {**scored.summary, "input_kind": "customer summary", "source": str(path),
               "rows_rejected_by_cleaning": int(len(table.rejects))}  # fmt: skip
    return SegmentRunResult(summary=summary, customers=scored.customers,
                            warnings=list(scored.warnings))  # fmt: skip


def segment(
    data: list[Path | str] | Path | str,
    *,
    model: str | LoadedModel | None = None,
    store: Path | str | None = None,
    as_of: str | None = None,
    monetary: str | None = None,
    k: str | int | None = None,
    k_max: int | None = None,
    clv: bool = False,
    horizon: int | None = None,
    discount: float | None = None,
    segment_map: Path | str | None = None,
    customers: Path | str | None = None,
    features: str | list[str] | None = None,
    compare_to: Path | str | None = None,
    seed: int = 0,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    strict: bool = False,
    keep_duplicates: bool = False,
    engine: str | None = None,
    spark_master: str | None = None,
) -> SegmentRunResult:
    """Segment the customers of transactions DATA (fit here, or apply the stored MODEL: a
    reference, or a LoadedModel from mktai.api.loaded, verified once, as a server holds it).

    keep_duplicates keeps identical lines (a log without order ids has genuine ones). With clv
    and a customer summary table as DATA (frequency, recency, T[, monetary_value], as
    lifetimes writes it), BG/NBD + Gamma-Gamma are fitted on it directly (no RFM scores).
    engine "spark" (default $MKTAI_ENGINE, else "local") cleans the lines and reduces them to
    one row per customer on Spark (spark_master: a master URL); the rest runs here as usual.
    """
    from mktai.errors import UsageError
    from mktai.tasks.segment import family as seg

    if isinstance(features, (list, tuple)):
        features = ",".join(features)
    if features and customers is None:
        raise UsageError("--features needs --customers FILE holding those columns")
    as_of_ts = seg.parse_as_of(as_of)
    if model is not None:
        given = [name for name, value in (("--k", k), ("--monetary", monetary),
                                          ("--segment-map", segment_map)) if value is not None]  # fmt: skip
        if given:
            raise UsageError(
                f"{', '.join(given)} come(s) from the stored model when --model is given; "
                "drop them or train a new model"
            )
    # Every option is checked before the (possibly large) data is read.
    k_value, clusters_on = seg.parse_k(k if k is not None else "auto")
    seg.check_clv_options(horizon, discount)
    options = None
    if model is None:
        from mktai.tasks.segment.rfm_scores import load_segment_map

        options = seg.SegmentOptions(
            as_of=as_of_ts,
            monetary=(monetary or "mean").lower(),
            clusters=clusters_on,
            k=k_value,
            k_max=_default("k_max", k_max),
            clv=clv,
            horizon=_default("horizon", horizon),
            discount=_default("discount", discount),
            seed=seed,
            segment_map=load_segment_map(segment_map),
        )
        options.validate()
    summary_input = clv and model is None and compare_to is None and not mapping
    if summary_input and _is_summary_table(data, encoding):
        return _segment_summary(data, horizon=horizon, discount=discount, encoding=encoding)
    stored = _load_model(store, model) if model is not None else None
    from mktai.engines import engine_name

    customers_in = None
    if engine_name(engine) == "spark":
        frame, counts, customers_in, rejected, reasons, source = _on_spark(
            data, mapping, encoding, as_of_ts, stored.monetary if stored else options.monetary,
            strict, spark_master,
        )  # fmt: skip
    else:
        from mktai.engines.local import LocalEngine  # a directory of part files reads too

        paths = list(data) if isinstance(data, (list, tuple)) else [data]
        table = LocalEngine().clean(paths, kind="transactions", mapping=mapping,
                                    encoding=encoding, dedupe=not keep_duplicates)  # fmt: skip
        table.check_strict(strict)
        frame, counts = seg.transactions_frame(table)
        reasons = (table.report or {}).get("rejected_by_reason") or {}
        rejected, source = len(table.rejects), table.describe()
        del table  # the columns segmenting does not use (items, quantities, prices) go now
    warnings: list[str] = []
    if rejected:
        detail = ", ".join(f"{reason}: {n:,}" for reason, n in list(reasons.items())[:4])
        warnings.append(
            f"{rejected:,} input row(s) rejected by cleaning"
            + (f" ({detail})" if detail else "")
            + "; `mktai ingest` writes them to a rejects file"
        )
    feature_frame = (
        _features(Path(customers), features, encoding) if customers is not None else None
    )
    if stored is not None:
        result = stored.apply(frame, as_of=as_of_ts, clv=True if clv else None,
                              horizon=horizon, discount=discount, features=feature_frame,
                              summary=customers_in)  # fmt: skip
        result.summary["model"] = model if isinstance(model, str) else model.ref
        fitted = stored
    else:
        assert options is not None
        options.features = feature_frame
        result = seg.segment_customers(frame, options, summary=customers_in)
        fitted = result.model
    summary = dict(result.summary)
    summary["input"] = counts
    summary["source"] = source
    if compare_to is not None:
        assert fitted is not None
        previous = _previous_segments(Path(compare_to), fitted, mapping or {}, encoding)
        from mktai.tasks.segment.rfm_scores import segment_order

        order = segment_order(fitted.segment_map)
        matrix = seg.migration_matrix(previous, result.customers, order)
        summary["migration"] = seg.migration_summary(matrix, str(compare_to))
    return SegmentRunResult(summary=summary, customers=result.customers,
                            warnings=warnings + list(result.warnings))  # fmt: skip


def _on_spark(
    data: Any, mapping: Any, encoding: Any, as_of: Any, monetary: str, strict: bool, master: Any
) -> tuple[Any, dict[str, int], Any, int, dict[str, int], str]:
    """The lines cleaned and reduced per customer on Spark (engines.spark)."""
    from mktai.errors import InputError
    from mktai.tasks.segment.on_spark import transactions

    paths = [data] if isinstance(data, (str, Path)) else list(data)
    tx = transactions(paths, master=master, mapping=mapping, encoding=encoding, as_of=as_of,
                      monetary=monetary)  # fmt: skip
    if strict and tx.rejected:
        raise InputError(
            f"{tx.description}: {tx.rejected:,} row(s) rejected by cleaning and --strict is set; "
            "`mktai ingest --engine spark` writes them to a rejects directory"
        )
    return None, tx.counts, tx.summary, tx.rejected, tx.reasons, tx.description


def _load_model(store: Path | str | None, ref: str | LoadedModel) -> Any:
    from mktai.api.loaded import stored_model
    from mktai.errors import UsageError

    name, kind, model = stored_model(ref, store)
    if kind != "segments":
        raise UsageError(
            f"model {name} is a {kind!r} model, not segments; "
            "train one with `mktai train segments DATA --name NAME`"
        )
    return model


def _features(customers: Path, features: str | None, encoding: str | None) -> pd.DataFrame:
    """customer + the requested numeric feature columns of a customers file."""
    import pandas as pd

    from mktai.data import load_table
    from mktai.data.schema import normalise_name
    from mktai.errors import InputError, UsageError
    from mktai.tasks.segment.rfm import customer_key

    if not features:
        raise UsageError("--customers needs --features col1,col2 naming its numeric columns")
    table = load_table(customers, kind="customers", encoding=encoding)
    table.require("customer")
    names = [f.strip() for f in features.split(",") if f.strip()]
    out = pd.DataFrame({"customer": customer_key(table.col("customer"))})
    for name in names:
        column = name if name in table.frame.columns else normalise_name(name)
        if column not in table.frame.columns:
            raise InputError(
                f"{customers}: no column {name!r} for --features "
                f"(columns: {', '.join(map(str, table.frame.columns[:20]))})"
            )
        values = pd.to_numeric(table.frame[column], errors="coerce")
        if values.notna().sum() == 0:
            raise InputError(f"{customers}: feature column {name!r} has no numeric values")
        out[column] = values.to_numpy(dtype="float64")
    duplicated = out["customer"].duplicated()
    if duplicated.any():
        raise InputError(
            f"{customers}: customer id {out.loc[duplicated, 'customer'].iloc[0]!r} appears more "
            "than once; one row per customer is needed for --features"
        )
    return out


def _previous_segments(
    path: Path, fitted: Any, mapping: dict[str, str], encoding: str | None
) -> pd.DataFrame:
    """customer + segment of the previous run.

    A file with `customer` and `segment` columns is a previous `mktai segment` output and is used
    as it is; anything else is read as transactions and scored with the same edges, map and
    centroids as this run (its own as-of: the day after its last date).
    """
    import dataclasses

    import pandas as pd

    from mktai.data import load_table
    from mktai.tasks.segment import family as seg

    table = load_table(path, encoding=encoding)
    if {"customer", "segment"} <= set(map(str, table.frame.columns)):
        return pd.DataFrame(
            {"customer": table.frame["customer"], "segment": table.frame["segment"]}
        )
    tx = load_table(path, kind="transactions", mapping=mapping, encoding=encoding)
    frame, _ = seg.transactions_frame(tx)
    has_clusters = fitted.clusters is not None and all(
        f in ("recency", "frequency", "monetary") for f in fitted.clusters.features
    )
    if not has_clusters and fitted.clusters is not None:
        fitted = dataclasses.replace(fitted, clusters=None)
    return fitted.apply(frame, clv=False).customers[["customer", "segment"]]
