"""A stored model loaded once and applied many times (what a long-running server needs).

`load(ref)` verifies every sha256 and loads the fitted model; `predict_rows(loaded, data)`
scores rows exactly as `predict` does (cleaning layer, input-schema check, every row in input
order); `sentiment_texts(loaded, texts)` scores texts. A LoadedModel also knows the stat of its
files (`changed_on_disk()`), a content hash (the sha256 list its manifest records) and the
cleaning plans decided per header, so a server can re-check it cheaply on every request.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import store_root
from mktai.data.read import InMemory  # re-exported: request bodies are read as InMemory

if TYPE_CHECKING:
    from mktai.api.predict import PredictResult
    from mktai.api.sentiment import SentimentResult

__all__ = [
    "InMemory",
    "LoadedModel",
    "load",
    "predict_rows",
    "predict_small",
    "recommend_users",
    "reverify",
    "sentiment_texts",
    "similar_to",
]

MAX_PLANS = 16  # distinct headers remembered per model (hostile clients cannot grow it)
BUILTIN = "built-in"


class SchemaPlans(OrderedDict):
    """header -> cleaning plan whose column types come from the model's input schema.

    A server sees a stream of small requests with the same header; its plan (names, roles,
    and the types the schema fixes: tabular.read_types) is made once per header and reused,
    so no request's values decide how later requests are read. remember=False (one call, as
    `mktai predict` reads a file) keeps nothing between calls and lets the file's sample
    decide its decimal mark and day order.
    """

    def __init__(self, schema: dict[str, Any] | None, *, remember: bool = True) -> None:
        super().__init__()
        self.schema = schema or {}
        self.remember = remember
        self.lock = threading.Lock()

    def adapt(self, plan: Any) -> Any:
        """The plan the cleaning layer made from the first batch, typed by the schema."""
        if not self.schema.get("columns"):
            return plan
        from mktai.tasks.common.tabular import read_types

        return read_types(plan, self.schema, keep_marks=not self.remember)

    def get(self, key: Any, default: Any = None) -> Any:
        with self.lock:
            return super().get(key, default)

    def __setitem__(self, key: Any, plan: Any) -> None:
        if not self.remember:
            return
        with self.lock:
            super().__setitem__(key, plan)
            while len(self) > MAX_PLANS:
                self.popitem(last=False)


@dataclass
class LoadedModel:
    """One verified version in memory: its manifest, family module and fitted model."""

    name: str
    version: int
    kind: str
    path: Path
    manifest: dict[str, Any]
    module: Any
    fitted: Any
    content_hash: str
    stamp: tuple = ()
    plans: SchemaPlans = field(default_factory=lambda: SchemaPlans(None))

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}" if self.version else self.name

    def changed_on_disk(self) -> bool:
        """True when any file of the version (or its manifest) was touched since loading."""
        return bool(self.stamp) and file_stamp(self.path) != self.stamp

    def summary(self) -> dict[str, Any]:
        """What GET /v1/models/{ref} shows: identity, metrics and the input schema."""
        m = self.manifest
        keys = ("kind", "algorithm", "task", "target", "classes", "threshold", "created_at",
                "metrics", "input_schema", "training_data")  # fmt: skip
        return {"ref": self.ref, "name": self.name, "version": self.version,
                "content_sha256": self.content_hash, **{k: m[k] for k in keys if k in m}}  # fmt: skip


def file_stamp(directory: Path) -> tuple:
    """(name, size, mtime_ns, inode) of every file in a version directory: a cheap change test."""
    out = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ino))
    except OSError:
        return (("<missing>", 0, 0, 0),)
    return tuple(sorted(out))


def content_hash(manifest: dict[str, Any]) -> str:
    """sha256 over the per-file sha256 list of a manifest: equal content, equal hash."""
    files = manifest.get("files") or {}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def load(model: str, *, store: Path | str | None = None) -> LoadedModel:
    """Verify and load the stored version MODEL names (IntegrityError if any file is damaged)."""
    from mktai.tasks.stored import load_stored

    version, module, fitted = load_stored(store_root(store), model)
    stamp = file_stamp(version.path)
    schema = version.manifest.get("input_schema")
    return LoadedModel(name=version.name, version=version.version, kind=str(version.kind),
                       path=version.path, manifest=version.manifest, module=module,
                       fitted=fitted, content_hash=content_hash(version.manifest), stamp=stamp,
                       plans=SchemaPlans(schema if isinstance(schema, dict) else None))  # fmt: skip


def reverify(loaded: LoadedModel, *, store: Path | str | None = None) -> LoadedModel:
    """Re-hash the version's files: the same content keeps the fitted model (no reload), other
    content is loaded afresh; IntegrityError when a file no longer matches its sha256."""
    from mktai.store import Store

    version = Store(store_root(store)).load(loaded.ref)
    if content_hash(version.manifest) == loaded.content_hash:
        loaded.manifest = version.manifest
        loaded.stamp = file_stamp(version.path)
        return loaded
    return load(loaded.ref, store=store)


def resolve(model: str, *, store: Path | str | None = None) -> tuple[str, int]:
    """(name, version number) a reference names now (ModelNotFound if none)."""
    from mktai.store import Store

    return Store(store_root(store)).resolve(model)


def model_names(*, store: Path | str | None = None) -> list[str]:
    """Names with at least one complete version in the store."""
    from mktai.store import Store

    return Store(store_root(store)).names()


def check_ref(model: str) -> str:
    """The model name of a reference; UsageError for anything that is not NAME[@v3|@alias]."""
    from mktai.store.layout import parse_ref

    return parse_ref(model).name


def builtin_sentiment() -> LoadedModel:
    """The shipped sentiment model as a LoadedModel (no store involved)."""
    from mktai.tasks.sentiment import family

    fitted = family.default_model()
    return LoadedModel(name=BUILTIN, version=0, kind="sentiment", path=family.default_dir(),
                       manifest={"kind": "sentiment", "algorithm": getattr(fitted, "algorithm",
                                 None)}, module=family, fitted=fitted, content_hash="")  # fmt: skip


def stored_model(model: str | LoadedModel, store: Path | str | None) -> tuple[str, str, Any]:
    """(ref, kind, fitted model) of a reference (loaded and sha256-verified now) or of a
    LoadedModel (verified when it was loaded, re-checked by its owner, e.g. the server's
    cache): the API functions taking `model=` accept either, so a server does not re-hash
    the files on every request."""
    if isinstance(model, LoadedModel):
        return model.ref, model.kind, model.fitted
    from mktai.tasks.stored import load_stored

    version, _module, fitted = load_stored(store_root(store), model)
    return version.ref, str(version.kind), fitted


def check_applies(loaded: LoadedModel, command: str) -> None:
    """UsageError (the CLI's message) when `command` cannot apply this kind of model."""
    from mktai.api.predict import applying_command
    from mktai.errors import UsageError

    applies = applying_command(loaded.kind)
    if command == "predict" and (
        applies != "predict" or not callable(getattr(loaded.fitted, "predict", None))
    ):
        raise UsageError(
            f"{loaded.ref} is a {loaded.kind} model, which `mktai predict` cannot apply; "
            f"use `mktai {applies} --model {loaded.ref}`"
        )
    if command != "predict" and applies != command:
        raise UsageError(
            f"model {loaded.ref} is a {loaded.kind!r} model, not {command}; "
            f"apply it with `mktai {applies} --model {loaded.ref}`"
        )


def predict_rows(
    loaded: LoadedModel,
    data: Path | str | InMemory,
    *,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    reuse_plans: bool = True,
    keep_raw: bool = True,
    scores_only: bool = False,
    frame: bool = True,
    checkpoint: Callable[[str], None] | None = None,
) -> PredictResult:
    """Scores for DATA (a file or InMemory bytes) from a loaded row-scoring model.

    The same path as `predict`: cleaning layer, input-schema check, every row in input order.
    Column types come from the model's input schema (SchemaPlans, tabular.read_types).
    reuse_plans keeps the plan made for a header for later calls (a server); without it
    nothing is kept and the input's own sample decides its decimal mark and day order.
    keep_raw=False: result.frame holds the cleaned input columns instead of the rows as
    written (same scores; a server answering only scores skips rebuilding the raw rows).
    scores_only=True: result.frame holds only the model's score columns (score, prediction,
    proba_<class>), and a few plain rows that come with their cells (InMemory.cells, a JSON
    request body) are cleaned by mktai.data.small instead of the CSV reader and the stream:
    the same rules and numbers for a fraction of the per-call cost.
    frame=False (with scores_only): no DataFrame is built; result.columns holds the score
    columns (NumPy arrays, as fitted.score_columns gives them) and result.rejects may be
    None when no row was rejected (a server turns them into JSON as they are).
    checkpoint(stage) is called before each stage ("cleaning", "scoring"): a server's
    deadline check, which raises to stop work nobody will receive.
    """
    from mktai.api.predict import PredictResult
    from mktai.tasks.stored import load_for

    check_applies(loaded, "predict")
    if reuse_plans and not mapping and not encoding:
        plans = loaded.plans
    else:
        plans = SchemaPlans(loaded.plans.schema, remember=False)
    check = checkpoint or _no_check
    check("cleaning")
    columns_only = scores_only and not frame and hasattr(loaded.fitted, "score_columns")
    if scores_only and plans is loaded.plans and isinstance(data, InMemory) and data.cells:
        small = _predict_small(loaded, data, check, frame=not columns_only)
        if small is not None:
            return small
    table = load_for(loaded.kind, data, mapping=mapping, encoding=encoding,
                     unlabelled=True, dedupe=False, keep_raw=keep_raw, plans=plans)  # fmt: skip
    check("scoring")
    columns = None
    if columns_only:  # what fitted.predict computes, without copying the input around it
        raw, stats = loaded.fitted.raw_scores(table.frame, table.describe())
        columns = loaded.fitted.score_columns(raw)
        scored = None
        rows = len(table.frame)
    else:
        scored, stats = loaded.fitted.predict(table)
        if scores_only:
            scored = scored[loaded.fitted.score_names()]
        rows = len(scored)
    return PredictResult(
        ref=loaded.ref,
        kind=loaded.kind,
        rows=int(rows),
        rows_rejected=int(len(table.rejects)),
        unseen_categories=dict(stats.get("unseen", {})),
        missing_values=dict(stats.get("missing", {})),
        invalid_numbers=dict(stats.get("invalid", {})),
        frame=scored,
        rejects=table.rejects,
        columns=columns,
    )


def _no_check(_stage: str) -> None:
    return None


def predict_small(
    loaded: LoadedModel, data: InMemory, *, checkpoint: Callable[[str], None] | None = None
) -> PredictResult | None:
    """predict_rows(data, keep_raw=False, scores_only=True, frame=False) when the few-row
    path takes DATA (cells of plain rows whose header has a plan), else None: a bounded,
    cheap call a server can make on its event loop, leaving the rest to its thread pool."""
    check_applies(loaded, "predict")
    cheap = getattr(loaded.fitted, "scores_cheaply", None)
    if not data.cells or cheap is None or not cheap(len(data.cells[1])):
        return None  # sklearn's own path (a large model, many rows): the pool's work
    check = checkpoint or _no_check
    check("cleaning")
    return _predict_small(loaded, data, check, frame=False)


def _predict_small(
    loaded: LoadedModel, data: InMemory, check: Callable[[str], None], *, frame: bool = True
) -> PredictResult | None:
    """predict_rows(scores_only=True) of a few plain rows with a known header, or None when
    they need the full path (no plan for the header yet, a cell the fast rules do not read,
    a column the model needs is missing: the full path gives its message). frame=False:
    result.columns instead of a DataFrame, and no (empty) rejects frame."""
    from mktai.api.predict import PredictResult
    from mktai.data.small import clean_rows

    assert data.cells is not None
    names, rows = data.cells
    plan = loaded.plans.get(tuple(names))
    fitted = loaded.fitted
    schema = getattr(fitted, "schema", None)
    if plan is None or not isinstance(schema, dict) or not hasattr(fitted, "score_columns"):
        return None
    columns = clean_rows(plan, names, rows)
    if columns is None or any(c["name"] not in columns.arrays for c in schema["columns"]):
        return None
    check("scoring")
    raw, stats = fitted.raw_scores(columns, data.name)
    scores = fitted.score_columns(raw)
    result = PredictResult(
        ref=loaded.ref,
        kind=loaded.kind,
        rows=len(columns),
        unseen_categories=dict(stats.get("unseen", {})),
        missing_values=dict(stats.get("missing", {})),
        invalid_numbers=dict(stats.get("invalid", {})),
        columns=None if frame else scores,
    )
    if frame:
        import pandas as pd

        from mktai.data.clean import empty_rejects

        result.frame, result.rejects = pd.DataFrame(scores), empty_rejects()
    return result


def sentiment_texts(
    loaded: LoadedModel,
    texts: list[str],
    *,
    lang: str = "auto",
    explain: bool = False,
    frame: bool = True,
) -> SentimentResult:
    """Label + probability per text from a loaded sentiment model (stored or built-in).

    frame=False: result.columns holds the table's columns and no DataFrame is built (a
    server turns them into JSON as they are)."""
    from mktai.api.sentiment import SentimentResult
    from mktai.tasks.sentiment import apply

    check_applies(loaded, "sentiment")
    columns, summary = apply.score_text_columns(loaded.fitted, list(texts), lang=lang,
                                                explain=explain)  # fmt: skip
    summary["model"] = loaded.ref
    if not frame:
        return SentimentResult(model=loaded.ref, summary=summary, columns=columns)
    import pandas as pd

    return SentimentResult(model=loaded.ref, summary=summary, frame=pd.DataFrame(columns))


def recommend_users(
    loaded: LoadedModel,
    users: list[str],
    *,
    n: int = 10,
    include_seen: bool = False,
    exclude_items: list[str] | None = None,
) -> Any:
    """Top-n items per user from a loaded recommender (as `recommend` answers)."""
    from mktai.api.recommend import RecommendResult
    from mktai.errors import UsageError
    from mktai.tasks.recommend.apply import recommendations

    check_applies(loaded, "recommend")
    if n < 1:
        raise UsageError(f"-n must be at least 1, not {n}")
    if not users:
        raise UsageError("give at least one user id")
    frame, counts, warnings = recommendations(loaded.fitted, [str(u) for u in users], n,
                                              include_seen=include_seen, exclude=exclude_items)  # fmt: skip
    return RecommendResult(
        model=loaded.ref, algorithm=loaded.fitted.algorithm, n=counts["n"], users=counts["users"],
        rows=counts["rows"], fallback_users=counts["fallback_users"],
        padded_rows=counts["padded_rows"], frame=frame, warnings=warnings,
    )  # fmt: skip


def similar_to(loaded: LoadedModel, item: str, *, n: int = 10) -> Any:
    """The n items most similar to `item` from a loaded recommender (as `similar_items`)."""
    from mktai.api.recommend import SimilarResult
    from mktai.errors import UsageError
    from mktai.tasks.recommend.apply import similar

    check_applies(loaded, "recommend")
    if n < 1:
        raise UsageError(f"-n must be at least 1, not {n}")
    frame, method, warnings = similar(loaded.fitted, str(item).strip(), n)
    return SimilarResult(model=loaded.ref, algorithm=loaded.fitted.algorithm,
                         item=str(item).strip(), method=method, rows=int(len(frame)),
                         frame=frame, warnings=warnings)  # fmt: skip


def example_rows(loaded: LoadedModel) -> bytes:
    """A one-row CSV example built from the stored input schema (for a warm-up prediction).

    Numbers are the training medians, categories the first known one, dates a fixed day: no
    training row is stored or shown, yet every column the model needs is present and valid.
    """
    import csv
    import io

    schema = loaded.manifest.get("input_schema") or {}
    names, values = [], []
    for column in schema.get("columns") or []:
        names.append(column["name"])
        if column["type"] == "numeric":
            median = column.get("median", 0.0)
            values.append(repr(float(median)) if median is not None else "")
        elif column["type"] == "categorical":
            known = [c for c in column.get("categories") or [] if c != "__other__"]
            values.append(known[0] if known else "")
        else:
            values.append("2024-01-15")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerow(values)
    return buffer.getvalue().encode("utf-8")
