"""TF-IDF (or count) features over word n-grams and character n-grams, without sklearn at run time.

Why our own: the fitted vocabulary must persist as plain arrays (no pickle) and scoring must be
fast. Character n-grams are hashed with a 64-bit polynomial hash computed by NumPy over the whole
batch at once and matched against the sorted hashes of the vocabulary, so 100,000 texts score in
seconds. Word n-grams (few per text) use a dict.

Character n-grams follow "char_wb": every text is padded with a space and an n-gram may contain a
space only at its ends, so n-grams never cross a word boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from mktai.tasks.sentiment.text import tokens

_PRIME = np.uint64(1000003)
_CHUNK = 20000


def word_grams(clean: str, max_n: int) -> list[str]:
    """Word unigrams (and bigrams when max_n >= 2) of one normalised text."""
    toks = tokens(clean)
    grams = list(toks)
    if max_n >= 2:
        grams.extend(a + " " + b for a, b in zip(toks, toks[1:], strict=False))
    return grams


def _codes(texts: list[str]) -> tuple[str, np.ndarray, np.ndarray]:
    """' t1  t2  ... ' (each text padded by one space), its code points, and the text of each."""
    big = "".join(" " + t + " " for t in texts)
    codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=len(texts))
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return big, codes, owner


def _char_ngrams(texts: list[str], min_n: int, max_n: int) -> tuple[str, list[tuple]]:
    """Per n: (hash, text index, start offset in the padded batch string) of valid n-grams."""
    big, codes, owner = _codes(texts)
    total = len(codes)
    is_space = codes == 32
    space_cum = np.concatenate([[0], np.cumsum(is_space)])
    out = []
    for n in range(min_n, max_n + 1):
        count = total - n + 1
        if count <= 0:
            continue
        start = np.arange(count)
        ok = owner[:count] == owner[n - 1 :]
        if n >= 3:  # no space strictly inside the n-gram
            ok &= (space_cum[start + n - 1] - space_cum[start + 1]) == 0
        if n == 1:
            ok &= ~is_space[:count]
        elif n == 2:
            ok &= ~(is_space[:count] & is_space[1 : count + 1])
        h = np.full(count, n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                h = h * _PRIME + codes[k : k + count]
        out.append((h[ok], owner[:count][ok], start[ok], n))
    return big, out


def char_hashes(texts: list[str], min_n: int, max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hash, text index) of every char_wb n-gram, min_n <= n <= max_n, of normalised texts."""
    _, parts = _char_ngrams(texts, min_n, max_n)
    if not parts:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def hash_strings(strings: list[str]) -> np.ndarray:
    """The n-gram hash of each whole string (same function as char_hashes), vectorised by length."""
    out = np.zeros(len(strings), dtype=np.uint64)
    by_len: dict[int, list[int]] = {}
    for i, s in enumerate(strings):
        by_len.setdefault(len(s), []).append(i)
    for n, idx in by_len.items():
        joined = "".join(strings[i] for i in idx)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes = codes.reshape(len(idx), n) if n else codes.reshape(len(idx), 0)
        h = np.full(len(idx), n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                h = h * _PRIME + codes[:, k]
        out[np.asarray(idx)] = h
    return out


@dataclass
class TextFeatures:
    """A fitted feature space: vocabularies, idf weights and the weighting scheme."""

    word_vocab: list[str]
    char_vocab: list[str]
    word_ngram: int = 2
    char_ngram: tuple[int, int] = (1, 5)
    idf: np.ndarray | None = None  # None: raw counts (naive Bayes)
    sublinear_tf: bool = True
    norm: bool = True
    _word_index: dict[str, int] = field(default_factory=dict, repr=False)
    _char_index: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._word_index = {g: i for i, g in enumerate(self.word_vocab)}

    @property
    def n_features(self) -> int:
        return len(self.word_vocab) + len(self.char_vocab)

    def names(self) -> list[str]:
        return [*self.word_vocab, *self.char_vocab]

    def counts(self, clean_texts: list[str]) -> sparse.csr_matrix:
        """Raw n-gram counts, one row per text."""
        blocks = [
            self._counts_chunk(clean_texts[i : i + _CHUNK])
            for i in range(0, len(clean_texts), _CHUNK)
        ]
        if not blocks:
            return sparse.csr_matrix((0, self.n_features))
        return sparse.vstack(blocks, format="csr")

    def _counts_chunk(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols = [], []
        if self.word_vocab:
            get, ngram = self._word_index.get, self.word_ngram
            ids: list[int] = []
            per_text = np.zeros(len(texts), dtype=np.int64)
            for i, t in enumerate(texts):
                found = [j for j in map(get, word_grams(t, ngram)) if j is not None]
                per_text[i] = len(found)
                ids.extend(found)
            rows.append(np.repeat(np.arange(len(texts), dtype=np.int64), per_text))
            cols.append(np.asarray(ids, dtype=np.int64))
        if self.char_vocab:
            h, owner = char_hashes(texts, *self.char_ngram)
            pos = self._char_lookup().get_indexer(h)
            hit = pos >= 0
            rows.append(owner[hit])
            cols.append(pos[hit] + len(self.word_vocab))
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        data = np.ones(len(r), dtype=np.float64)
        return sparse.csr_matrix((data, (r, c)), shape=(len(texts), self.n_features))

    def _char_lookup(self):
        """pandas' C hash table over the vocabulary hashes (7x faster than a binary search)."""
        if self._char_index is None:
            import pandas as pd

            self._char_index = pd.Index(hash_strings(self.char_vocab))
        return self._char_index

    def transform(self, clean_texts: list[str]) -> sparse.csr_matrix:
        """Counts -> (sublinear) tf -> idf -> l2 norm, as configured."""
        x = self.counts(clean_texts)
        x.sum_duplicates()
        if self.sublinear_tf:
            x.data = 1.0 + np.log(x.data)
        if self.idf is not None:
            x = x @ sparse.diags(self.idf)
        x = sparse.csr_matrix(x)
        if self.norm:
            _l2_blocks(x, len(self.word_vocab))
        return x

    def select(self, keep: np.ndarray) -> TextFeatures:
        """A smaller feature space holding only the features at indices `keep` (sorted)."""
        keep = np.sort(np.asarray(keep, dtype=np.int64))
        nw = len(self.word_vocab)
        words = [self.word_vocab[i] for i in keep[keep < nw]]
        chars = [self.char_vocab[i - nw] for i in keep[keep >= nw]]
        idf = None if self.idf is None else self.idf[keep]
        return TextFeatures(
            words, chars, self.word_ngram, self.char_ngram, idf, self.sublinear_tf, self.norm
        )

    # -- persistence: JSON settings + .npz arrays (no pickle) ------------------------------
    def save(self, directory: Path, prefix: str = "features") -> None:
        settings = {
            "word_ngram": self.word_ngram,
            "char_ngram": list(self.char_ngram),
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
            "idf": self.idf is not None,
            "n_word": len(self.word_vocab),
            "n_char": len(self.char_vocab),
        }
        (directory / f"{prefix}.json").write_text(json.dumps(settings, indent=2))
        arrays: dict[str, Any] = {
            "word_vocab": np.array(self.word_vocab, dtype=str),
            "char_vocab": np.array(self.char_vocab, dtype=str),
        }
        if self.idf is not None:
            arrays["idf"] = self.idf.astype(np.float32)
        np.savez_compressed(directory / f"{prefix}.npz", **arrays)

    @classmethod
    def load(cls, directory: Path, prefix: str = "features") -> TextFeatures:
        settings = json.loads((directory / f"{prefix}.json").read_text())
        with np.load(directory / f"{prefix}.npz", allow_pickle=False) as arrays:
            words = arrays["word_vocab"].tolist()
            chars = arrays["char_vocab"].tolist()
            idf = arrays["idf"].astype(np.float64) if settings["idf"] else None
        return cls(
            words,
            chars,
            int(settings["word_ngram"]),
            tuple(settings["char_ngram"]),
            idf,
            bool(settings["sublinear_tf"]),
            bool(settings["norm"]),
        )


def _l2_blocks(x: sparse.csr_matrix, n_word: int) -> None:
    """In place: scale the word block and the char block of each row to unit length each.

    Normalising the blocks separately keeps the few word features from being drowned by the
    many character n-grams (measured: +0.7 points accuracy on sentiment_en).
    """
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    block = (x.indices >= n_word).astype(np.int64)
    key = rows * 2 + block
    sq = np.bincount(key, weights=x.data * x.data, minlength=2 * x.shape[0])
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    x.data = x.data / norms[key]


def fit_features(
    clean_texts: list[str],
    *,
    word_ngram: int = 2,
    char_ngram: tuple[int, int] | None = (1, 5),
    min_df: int = 2,
    idf: bool = True,
    sublinear_tf: bool = True,
    norm: bool = True,
) -> TextFeatures:
    """Learn the vocabularies (document frequency >= min_df) and smooth idf from texts."""
    n_docs = len(clean_texts)
    word_df: dict[str, int] = {}
    if word_ngram:
        for t in clean_texts:
            for g in set(word_grams(t, word_ngram)):
                word_df[g] = word_df.get(g, 0) + 1
    words = sorted(g for g, d in word_df.items() if d >= min_df)
    chars: list[str] = []
    char_df = np.zeros(0, dtype=np.int64)
    if char_ngram:
        chars, char_df = _char_vocabulary(clean_texts, char_ngram, min_df)
    features = TextFeatures(
        words, chars, word_ngram, tuple(char_ngram or (1, 1)), None, sublinear_tf, norm
    )
    if idf:
        df = np.concatenate([np.array([word_df[g] for g in words], dtype=np.float64), char_df])
        features.idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    return features


def _char_vocabulary(
    texts: list[str], char_ngram: tuple[int, int], min_df: int
) -> tuple[list[str], np.ndarray]:
    """Character n-grams with document frequency >= min_df, sorted, with their frequencies."""
    df_parts, strings = [], {}
    for i in range(0, len(texts), _CHUNK):
        big, parts = _char_ngrams(texts[i : i + _CHUNK], *char_ngram)
        for h, owner, start, n in parts:
            pairs = np.unique(np.stack([h, owner.astype(np.uint64)], axis=1), axis=0)
            df_parts.append(pairs[:, 0])
            keys, first = np.unique(h, return_index=True)
            for key, s in zip(keys.tolist(), start[first].tolist(), strict=True):
                if key not in strings:
                    strings[key] = big[s : s + n]
    if not df_parts:
        return [], np.zeros(0, np.float64)
    keys, df = np.unique(np.concatenate(df_parts), return_counts=True)
    kept = keys[df >= min_df].tolist()
    df_of = dict(zip(kept, df[df >= min_df].tolist(), strict=True))
    chosen = sorted(strings[k] for k in kept)
    kh = hash_strings(chosen)
    return chosen, np.array([df_of[h] for h in kh.tolist()], dtype=np.float64)
