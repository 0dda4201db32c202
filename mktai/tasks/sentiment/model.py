"""SentimentModel: one or more per-language cores behind the family protocol.

A model directory holds `model.json` (algorithm, classes, routes, metrics) and one sub-directory
per route. Route "*" takes every text; the shipped default has routes "en" and "zh" and sends each
text to the core of its detected language. The same format serves store artifacts and the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mktai.errors import InputError, UsageError
from mktai.files import dumps
from mktai.tasks.sentiment.cores import worker_count
from mktai.tasks.sentiment.hashing import analyse
from mktai.tasks.sentiment.text import UNKNOWN, normalize

FORMAT = "mktai-sentiment/1"
LANGS = ("en", "zh")


def load_core(directory: Path, algorithm: str):
    """The scorer stored in one route directory."""
    if algorithm == "keras":
        from mktai.tasks.sentiment.keras_model import KerasTextModel

        return KerasTextModel.load(directory)
    from mktai.tasks.sentiment.linear import LinearTextModel

    return LinearTextModel.load(directory)


@dataclass
class Scored:
    """Per-text results of SentimentModel.score (aligned with the input texts)."""

    label: list[str]
    probability: np.ndarray  # NaN for unknown texts
    lang: list[str]
    explanation: list[str] | None
    unknown: int
    by_lang: dict[str, int] = field(default_factory=dict)
    workers: int = 1  # processes that scored the batch


@dataclass
class PartSink:
    """What SentimentModel.score does with each scored slice besides returning it.

    make(start, part) runs where the slice was scored (in a forked worker for a large batch:
    it sees what the caller built before scoring, nothing is pickled on the way in); its
    result comes back and take(result) runs in the calling process, slice after slice in
    input order.
    """

    make: Callable[[int, Scored], Any]
    take: Callable[[Any], None]


@dataclass
class SentimentModel:
    """Texts in, label + probability out; implements the FittedModel protocol."""

    algorithm: str
    routes: dict[str, Any]  # "*" or language code -> core (LinearTextModel / KerasTextModel)
    classes: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    input_schema: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # class -> label shown (1 -> positive)
    kind: str = "sentiment"

    # -- scoring ---------------------------------------------------------------------------
    def score(
        self,
        texts: list[Any],
        *,
        lang: str = "auto",
        explain: bool = False,
        parts: PartSink | None = None,
        idle: Any = None,
    ) -> Scored:
        """Label, probability of that label and detected language per text.

        Large batches for the NumPy-scored algorithms are split over the available cores
        (forked workers share the loaded model; results come back as arrays). PARTS: work done
        on each scored slice where it was scored (a worker), its result handed back in input
        order while later slices are still being scored (the CLI writes its CSV that way).
        IDLE: a cores.IdleProbe started earlier (the free cores measured meanwhile).
        """
        if lang not in ("auto", *LANGS):
            raise UsageError(f"--lang must be en, zh or auto, not {lang!r}")
        if explain and self.algorithm == "keras":
            raise UsageError("--explain works with the linear and nb algorithms, not keras")
        texts = list(texts)
        clock = _Clock()
        jobs = _jobs(len(texts), idle) if self.algorithm != "keras" else 1
        if jobs > 1:
            scored = _score_parallel(self, texts, lang, explain, jobs, parts)
        elif len(texts) > SERIAL_CHUNK and self.algorithm != "keras":
            scored = _score_chunks(self, texts, lang, explain, parts)
        else:
            scored = self._score_serial(texts, lang, explain)
            if parts is not None:
                parts.take(parts.make(0, scored))
        clock.report(len(texts), jobs)
        return scored

    def _score_serial(self, texts: list[Any], lang: str, explain: bool) -> Scored:
        clean = [normalize(t) for t in texts]
        unknown, is_zh = analyse(clean)
        if lang == "auto":
            langs = np.where(is_zh, "zh", "en").astype(object)
        else:
            langs = np.full(len(clean), lang, dtype=object)
        labels = np.full(len(clean), UNKNOWN, dtype=object)
        proba = np.full(len(clean), np.nan)
        notes = [""] * len(clean) if explain else None
        for route, core in self.routes.items():
            rows = np.flatnonzero(~unknown & ((langs == route) | (route == "*")))
            if not len(rows):
                continue
            batch = [clean[i] for i in rows]
            p = core.predict_proba(batch)
            best = p.argmax(axis=1)
            shown = [self.names.get(c, c) for c in core.classes]
            labels[rows] = np.asarray(shown, dtype=object)[best]
            proba[rows] = p[np.arange(len(rows)), best]
            if notes is not None:
                for i, note in zip(rows, core.explain(batch, best), strict=True):
                    notes[i] = note
        codes, counts = np.unique(langs[~unknown].astype(str), return_counts=True)
        by_lang = {str(c): int(n) for c, n in zip(codes, counts, strict=True)}
        return Scored(list(labels), proba, list(langs), notes, int(unknown.sum()), by_lang)

    def probabilities(self, texts: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, unknown mask) for evaluation; unknown rows are all-NaN."""
        clean = [normalize(t) for t in texts]
        unknown, is_zh = analyse(clean)
        langs = np.where(is_zh, "zh", "en")
        out = np.full((len(clean), len(self.classes)), np.nan)
        for route, core in self.routes.items():
            rows = np.flatnonzero(~unknown & ((langs == route) | (route == "*")))
            if len(rows):
                p = core.predict_proba([clean[i] for i in rows])
                cols = [self.classes.index(c) for c in core.classes]
                out[np.ix_(rows, cols)] = p
        return out, unknown

    # -- protocol ----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        names = {}
        for route, core in self.routes.items():
            sub = "all" if route == "*" else route
            (directory / sub).mkdir()
            core.save(directory / sub)
            names[route] = sub
        meta = {
            "format": FORMAT,
            "algorithm": self.algorithm,
            "classes": self.classes,
            "names": self.names,
            "routes": names,
            "params": self.params,
            "metrics": self.metrics,
            "info": self.info,
        }
        text = dumps(meta)
        (directory / "model.json").write_text(text, encoding="utf-8")

    def manifest_fields(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "metrics": self.metrics,
            "input_schema": self.input_schema,
            "classes": self.classes,
            "label_names": self.names,
            **self.info,
        }

    def evaluate(self, table) -> dict[str, Any]:
        """Accuracy, macro F1, per-class precision/recall, confusion matrix, ROC AUC (binary)."""
        from mktai.tasks.sentiment.labels import check_coerced, evaluation_labels
        from mktai.tasks.sentiment.scoring import classification_report

        table.require("text", "label")
        where = table.describe()
        check_coerced(table, where=where)
        y = evaluation_labels(table.col("label"), self.classes, where=where, names=self.names)
        proba, unknown = self.probabilities(table.col("text").tolist())
        usable = (y >= 0) & ~unknown
        if not usable.any():
            raise InputError(f"{where}: no row has both a usable text and a label to evaluate")
        shown = [self.names.get(c, c) for c in self.classes]
        report = classification_report(y[usable], proba[usable], shown)
        report["skipped"] = {
            "unknown_text": int(unknown.sum()),
            "missing_label": int((y < 0).sum()),
        }
        return report


PARALLEL_MIN = 40_000


class _Clock:
    """Wall and CPU seconds (this process and its finished workers) of one scoring call, shown
    on stderr with MKTAI_DEBUG=1: what tells waiting for cores apart from work."""

    def __init__(self) -> None:
        import os
        import time

        # getrusage sums every thread of the process: a server's one-text request paid ~0.4 ms
        self.on = os.environ.get("MKTAI_DEBUG", "") not in ("", "0")
        self.wall, self.cpu = time.perf_counter(), self._cpu() if self.on else 0.0

    @staticmethod
    def _cpu() -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def report(self, n_texts: int, jobs: int) -> None:
        if not self.on:
            return
        import sys
        import time

        wall, cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu
        print(f"mktai: scored {n_texts:,} texts in {jobs} worker process(es): "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr)  # fmt: skip


_SHARED: dict[str, Any] = {}


# Libraries whose runtimes hold locks in their own threads: a forked child can deadlock on them.
FORK_UNSAFE = ("tensorflow", "torch", "jax")


def _fork_safe() -> bool:
    """Whether fork() cannot copy a lock some other thread holds.

    fork() copies only the calling thread; a lock held at that moment by another Python thread
    (a caller's worker pool) or by TensorFlow's runtime stays locked forever in the child. The
    native pools of NumPy's OpenBLAS and of Arrow re-initialise after fork (pthread_atfork).
    """
    import sys
    import threading

    if threading.active_count() > 1:
        return False
    return not any(name in sys.modules for name in FORK_UNSAFE)


def _jobs(n_texts: int, idle: Any = None) -> int:
    """Worker processes for a batch: 1 below PARALLEL_MIN texts, off Linux (fork needed), or
    when forking is unsafe (other threads running, TensorFlow loaded); else MKTAI_JOBS or the
    cores free right now (cores.worker_count; measured by IDLE since it started, if given)."""
    if n_texts < PARALLEL_MIN or not _fork_safe():
        return 1
    return worker_count(idle=idle)


# Texts per task handed to a worker. Small enough that a worker slowed by other work on its
# core takes fewer tasks while the others take more (no worker waits for a straggler's half);
# large enough that a task's fixed cost (the call, the result's trip back) stays negligible.
CHUNK = 4_000


# Texts scored at once by one process. Every text is scored on its own (features, norm and dot
# product are per row), so slicing changes no result; a 100,000-text batch at once built a
# sparse matrix of ~1 GB whose page faults cost seconds of system time.
SERIAL_CHUNK = 20_000


def _score_part(bounds: tuple[int, int]) -> tuple[tuple[Any, ...], Any]:
    """Score one slice in a forked worker; the result goes back compactly (codes + arrays),
    with what the caller's PartSink made of it."""
    model, texts, lang, explain, parts = _SHARED["args"]
    part = model._score_serial(texts[bounds[0] : bounds[1]], lang, explain)
    return _pack(part), parts.make(bounds[0], part) if parts is not None else None


def _pack(part: Scored) -> tuple[Any, ...]:
    labels, label_codes = _encode(part.label)
    langs, lang_codes = _encode(part.lang)
    return (
        labels,
        label_codes,
        part.probability,
        langs,
        lang_codes,
        part.explanation,
        part.unknown,
        part.by_lang,
    )


def _encode(values: list[str]) -> tuple[list[str], np.ndarray]:
    """A list of a few distinct strings as (distinct values, int16 codes): pickles in
    microseconds where the list of str objects takes milliseconds each way."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), dtype=np.int16, count=len(values)
    )
    return list(index), codes


def _decode(values: list[str], codes: np.ndarray) -> list[str]:
    table = np.asarray(values, dtype=object)
    return table[codes].tolist() if len(codes) else []


def _score_parallel(
    model, texts: list[Any], lang: str, explain: bool, jobs: int, sink: PartSink | None = None
) -> Scored:
    """Score in `jobs` forked workers that pull CHUNK-text tasks in turn (ordered results).

    Equal halves per worker made a busy core set the pace of the whole run: with one other
    CPU-bound process on two cores, the worker sharing its core finished last at half speed.
    Pulling small tasks, each worker scores as much as its core allows.
    """
    import multiprocessing

    n = len(texts)
    size = max(1, min(CHUNK, -(-n // (jobs * 4))))  # at least 4 tasks per worker
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    from mktai.tasks.common.heap import keep_freed_memory

    _SHARED["args"] = (model, texts, lang, explain, sink)
    parts = []
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=keep_freed_memory) as pool:
            for packed, made in pool.imap(_score_part, bounds, chunksize=1):
                parts.append(packed)
                if sink is not None:
                    sink.take(made)  # meanwhile the workers score the next slices
    finally:
        _SHARED.clear()
    return _merge(parts, explain, jobs)


def _score_chunks(
    model, texts: list[Any], lang: str, explain: bool, sink: PartSink | None = None
) -> Scored:
    """Score a large batch in this process, SERIAL_CHUNK texts at a time (bounded memory;
    the chunks reuse one another's freed arrays instead of page-faulting new ones)."""
    from mktai.tasks.common.heap import batch_heap

    parts = []
    with batch_heap():
        for start in range(0, len(texts), SERIAL_CHUNK):
            part = model._score_serial(texts[start : start + SERIAL_CHUNK], lang, explain)
            parts.append(_pack(part))
            if sink is not None:
                sink.take(sink.make(start, part))
    return _merge(parts, explain, 1)


def _merge(parts: list[tuple[Any, ...]], explain: bool, workers: int) -> Scored:
    """One Scored from the packed parts of consecutive slices, in order."""
    by_lang: dict[str, int] = {}
    labels: list[str] = []
    langs: list[str] = []
    notes: list[str] | None = [] if explain else None
    for label_values, label_codes, _, lang_values, lang_codes, explanation, _, counts in parts:
        labels += _decode(label_values, label_codes)
        langs += _decode(lang_values, lang_codes)
        if notes is not None:
            notes += explanation
        for code, count in counts.items():
            by_lang[code] = by_lang.get(code, 0) + count
    return Scored(
        labels,
        np.concatenate([part[2] for part in parts]),
        langs,
        notes,
        sum(part[6] for part in parts),
        dict(sorted(by_lang.items())),
        workers,
    )


def load_directory(directory: Path) -> SentimentModel:
    """Read a model directory written by SentimentModel.save (store version or default)."""
    path = directory / "model.json"
    if not path.is_file():
        raise InputError(f"{directory} holds no sentiment model (model.json missing)")
    from mktai.store.formats import read_json

    meta = read_json(path)
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: unsupported sentiment model format {meta.get('format')!r}")
    routes = {
        route: load_core(directory / sub, meta["algorithm"])
        for route, sub in meta["routes"].items()
    }
    return SentimentModel(
        algorithm=meta["algorithm"],
        routes=routes,
        classes=list(meta["classes"]),
        params=meta.get("params", {}),
        metrics=meta.get("metrics", {}),
        info=meta.get("info", {}),
        names=dict(meta.get("names") or {}),
    )


def columns_of(scored: Scored, texts: list[Any]) -> dict[str, Any]:
    """Free-text results as table columns (lists and NumPy arrays): text, lang, label,
    probability (+ explanation). score_texts makes the DataFrame; a server answering one text
    reads the columns as they are (the frame cost a quarter of the scoring)."""
    data = {
        "text": [str(t) for t in texts],
        "lang": scored.lang,
        "label": scored.label,
        "probability": np.round(scored.probability, 4),
    }
    if scored.explanation is not None:
        data["explanation"] = scored.explanation
    return data
