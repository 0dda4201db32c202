"""Vectorised text analysis of a whole batch: n-gram hashes, word tokens, language, unknowns.

Why: per-text Python loops cap scoring at a few thousand texts per second. Here a batch of
normalised texts becomes one array of code points (each text padded by a space), every character
gets a class from a lookup table, and n-grams are identified by a 64-bit polynomial hash computed
with prefix sums, so the work is a handful of NumPy operations per batch.

hash(s) = len(s) * P**len(s) + sum(ord(s[k]) * P**(len(s)-1-k)) modulo 2**64, for any string s;
`hash_strings` computes the same value for vocabulary strings, so lookups are exact up to 64-bit
collisions (negligible for vocabularies of a few hundred thousand n-grams).

Tokens (same rule as text.tokens): every CJK character alone; runs of letters/digits, with an
apostrophe kept when it sits between two of them (don't). Characters above U+FFFF count as
CJK when in the ideograph planes (U+20000-U+3FFFF), otherwise as separators.
"""

from __future__ import annotations

import numpy as np

P = np.uint64(1000003)
Q = np.uint64(pow(1000003, -1, 2**64))  # P's inverse modulo 2**64 (P is odd)

OTHER, LETTER, DIGIT, CJK, APOSTROPHE = 0, 1, 2, 3, 4
_TABLE: np.ndarray | None = None
_POW: dict[str, np.ndarray] = {}


def char_classes() -> np.ndarray:
    """Class of every BMP code point (built once per process, ~10 ms)."""
    global _TABLE
    if _TABLE is None:
        from mktai.tasks.sentiment.text import CJK_RANGES

        chars = [chr(cp) for cp in range(0x10000)]
        alpha = np.fromiter(map(str.isalpha, chars), dtype=bool, count=0x10000)
        alnum = np.fromiter(map(str.isalnum, chars), dtype=bool, count=0x10000)
        table = np.where(alpha, LETTER, np.where(alnum, DIGIT, OTHER)).astype(np.uint8)
        for lo, hi in CJK_RANGES:
            if lo < 0x10000:
                table[lo : hi + 1] = CJK
        table[ord("_")] = OTHER
        table[ord("'")] = APOSTROPHE
        _TABLE = table
    return _TABLE


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and Q**i for i < n (wrapping uint64), grown on demand."""
    have = _POW.get("p")
    if have is None or len(have) < n:
        size = max(n, 1 << 16, 2 * (len(have) if have is not None else 0))
        with np.errstate(over="ignore"):
            for key, base in (("p", P), ("q", Q)):
                steps = np.full(size, base, dtype=np.uint64)
                steps[0] = 1
                _POW[key] = np.cumprod(steps, dtype=np.uint64)
    return _POW["p"], _POW["q"]


def hash_strings(strings: list[str]) -> np.ndarray:
    """The n-gram hash of each whole string, vectorised by string length."""
    out = np.zeros(len(strings), dtype=np.uint64)
    by_len: dict[int, list[int]] = {}
    for i, s in enumerate(strings):
        by_len.setdefault(len(s), []).append(i)
    for n, idx in by_len.items():
        joined = "".join(strings[i] for i in idx)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes = codes.reshape(len(idx), n)
        h = np.full(len(idx), n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                h = h * P + codes[:, k]
        out[np.asarray(idx)] = h
    return out


class Batch:
    """A batch of normalised texts laid out as code points, ready for n-gram hashing."""

    def __init__(self, texts: list[str]) -> None:
        self.n_texts = len(texts)
        self.big = "".join(" " + t + " " for t in texts)
        codes32 = np.frombuffer(self.big.encode("utf-32-le"), dtype=np.uint32)
        self.codes = codes32.astype(np.uint64)
        lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=len(texts))
        self.owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        table = char_classes()
        cls = np.zeros(len(codes32), dtype=np.uint8)
        bmp = codes32 < 0x10000
        cls[bmp] = table[codes32[bmp]]
        cls[(codes32 >= 0x20000) & (codes32 < 0x40000)] = CJK
        self.cls = cls
        self._prefix: np.ndarray | None = None

    @property
    def prefix(self) -> np.ndarray:
        """prefix[i] = sum(codes[k] * Q**k for k < i): substring hashes in O(1) each."""
        if self._prefix is None:
            _, q = _powers(len(self.codes) + 2)
            self._prefix = np.zeros(len(self.codes) + 1, dtype=np.uint64)
            with np.errstate(over="ignore"):
                np.cumsum(self.codes * q[: len(self.codes)], dtype=np.uint64, out=self._prefix[1:])
        return self._prefix

    @property
    def p(self) -> np.ndarray:
        return _powers(len(self.codes) + 2)[0]

    def span_hash(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Hash of big[start:end] for arrays of spans (end > start)."""
        n = (end - start).astype(np.int64)
        with np.errstate(over="ignore"):
            poly = self.p[end - 1] * (self.prefix[end] - self.prefix[start])
            return n.astype(np.uint64) * self.p[n] + poly

    def poly(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self.p[end - 1] * (self.prefix[end] - self.prefix[start])

    # -- per-text facts ----------------------------------------------------------------------
    def letters_and_cjk(self) -> tuple[np.ndarray, np.ndarray]:
        letters = np.bincount(
            self.owner, weights=(self.cls == LETTER) | (self.cls == CJK), minlength=self.n_texts
        )
        cjk = np.bincount(self.owner, weights=self.cls == CJK, minlength=self.n_texts)
        return letters, cjk

    # -- character n-grams (char_wb) ------------------------------------------------------------
    def char_grams(self, min_n: int, max_n: int, *, with_start: bool = False):
        """(hash, text, [start, n]) of n-grams with spaces only at their ends, not only spaces."""
        total = len(self.codes)
        is_space = self.codes == 32
        space_cum = np.concatenate([[0], np.cumsum(is_space)])
        hashes, owners, starts, sizes = [], [], [], []
        for n in range(min_n, max_n + 1):
            count = total - n + 1
            if count <= 0:
                continue
            start = np.arange(count)
            ok = self.owner[:count] == self.owner[n - 1 :]
            if n >= 3:
                ok &= (space_cum[start + n - 1] - space_cum[start + 1]) == 0
            if n == 1:
                ok &= ~is_space[:count]
            elif n == 2:
                ok &= ~(is_space[:count] & is_space[1 : count + 1])
            start = start[ok]
            hashes.append(self.span_hash(start, start + n))
            owners.append(self.owner[start])
            if with_start:
                starts.append(start)
                sizes.append(np.full(len(start), n, dtype=np.int64))
        return _joined(hashes, owners, starts, sizes, with_start)

    # -- word tokens and bigrams ----------------------------------------------------------------
    def tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) of every token, in text order."""
        cls = self.cls
        word = (cls == LETTER) | (cls == DIGIT)
        prev = np.concatenate([[False], word[:-1]])
        nxt = np.concatenate([word[1:], [False]])
        word |= (cls == APOSTROPHE) & prev & nxt
        prev = np.concatenate([[False], word[:-1]])
        nxt = np.concatenate([word[1:], [False]])
        run_start = np.flatnonzero(word & ~prev)
        run_end = np.flatnonzero(word & ~nxt) + 1
        cjk = np.flatnonzero(cls == CJK)
        start = np.concatenate([run_start, cjk])
        end = np.concatenate([run_end, cjk + 1])
        order = np.argsort(start, kind="stable")
        return start[order], end[order]

    def word_grams(self, max_n: int, *, with_start: bool = False):
        """(hash, text, [spans]) of word unigrams and, when max_n >= 2, bigrams 'a b'."""
        start, end = self.tokens()
        owner = self.owner[start]
        hashes, owners = [self.span_hash(start, end)], [owner]
        spans = [np.stack([start, end, end, end], axis=1)] if with_start else []
        if max_n >= 2 and len(start) > 1:
            same = owner[:-1] == owner[1:]
            a0, a1, b0, b1 = start[:-1][same], end[:-1][same], start[1:][same], end[1:][same]
            na, nb = a1 - a0, b1 - b0
            n = na + 1 + nb
            with np.errstate(over="ignore"):
                h = (
                    n.astype(np.uint64) * self.p[n]
                    + self.poly(a0, a1) * self.p[nb + 1]
                    + np.uint64(32) * self.p[nb]
                    + self.poly(b0, b1)
                )
            hashes.append(h)
            owners.append(owner[:-1][same])
            if with_start:
                spans.append(np.stack([a0, a1, b0, b1], axis=1))
        h = np.concatenate(hashes)
        o = np.concatenate(owners)
        if with_start:
            return h, o, np.concatenate(spans)
        return h, o

    def word_text(self, span: np.ndarray) -> str:
        a0, a1, b0, b1 = (int(v) for v in span)
        first = self.big[a0:a1]
        return first if b0 == b1 else first + " " + self.big[b0:b1]


def _joined(hashes, owners, starts, sizes, with_start):
    if not hashes:
        empty = (np.zeros(0, np.uint64), np.zeros(0, np.int64))
        return (*empty, np.zeros(0, np.int64), np.zeros(0, np.int64)) if with_start else empty
    h, o = np.concatenate(hashes), np.concatenate(owners)
    if with_start:
        return h, o, np.concatenate(starts), np.concatenate(sizes)
    return h, o


def analyse(clean_texts: list[str], threshold: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(unknown, is_zh) per text: no letters at all; CJK share of letters >= threshold."""
    if not clean_texts:
        return np.zeros(0, bool), np.zeros(0, bool)
    letters, cjk = Batch(clean_texts).letters_and_cjk()
    unknown = letters == 0
    return unknown, ~unknown & (cjk >= threshold * np.maximum(letters, 1))
