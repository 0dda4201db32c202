"""Text hygiene shared by every sentiment algorithm: normalising, language detection, unknowns.

Kept free of heavy imports so the CLI can classify and count texts before loading any model.
"""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (incl. extension A and compatibility), kana and hangul count as CJK for routing.
CJK_RANGES = (
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xAC00, 0xD7AF),
    (0x20000, 0x3FFFF),
)
_CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES)
CJK_RE = re.compile(f"[{_CJK_CLASS}]")
# Word tokens: every CJK character on its own (Chinese needs no segmenter), else runs of
# letters/digits, apostrophes kept between them (don't, rock'n'roll). hashing.Batch.tokens
# implements the same rule vectorised.
_WORD = f"[^\\W_{_CJK_CLASS}]+"
TOKEN_RE = re.compile(f"[{_CJK_CLASS}]|{_WORD}(?:'{_WORD})*")

UNKNOWN = "unknown"


def _is_bad_char(ch: str) -> bool:
    """Control, format, line/paragraph separator characters and U+FFFD (broken encodings)."""
    return ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


# below U+3000 only (the rest of the range is left to NFKC): walking all 1.1M code points at
# import cost 0.15 s of every sentiment run
_BAD_TABLE = {cp: " " for cp in range(0x3000) if _is_bad_char(chr(cp))}
_BAD_TABLE.update({0xFFFD: " ", 0xFEFF: " "})
_ASCII_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f]")


def normalize(text: object) -> str:
    """NFKC (full-width -> ASCII punctuation), lower case, separators/control chars -> spaces.

    Keras' TextVectorization fails to reload a vocabulary built on raw text with U+2028/U+0085
    inside tokens; the linear features want the same clean text, so every algorithm uses this.
    ASCII text (most English) skips the Unicode normalisation, which cannot change it.
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    value = str(text)
    if value.isascii():
        if _ASCII_CONTROL.search(value):
            value = value.translate(_BAD_TABLE)
        value = value.lower()
    else:
        value = unicodedata.normalize("NFKC", value).translate(_BAD_TABLE).lower()
    return " ".join(value.split())


def is_unknown(clean: str) -> bool:
    """No letters at all (empty, whitespace, numbers, punctuation only): no sentiment to read."""
    from mktai.tasks.sentiment.hashing import analyse

    return bool(analyse([clean])[0][0])


def language(clean: str) -> str:
    """'zh' when CJK characters make up at least a fifth of the letters, else 'en'."""
    from mktai.tasks.sentiment.hashing import analyse

    return "zh" if analyse([clean])[1][0] else "en"


def tokens(clean: str) -> list[str]:
    """Word tokens of a normalised text (CJK characters one by one)."""
    return TOKEN_RE.findall(clean)


def spaced(clean: str) -> str:
    """Text with a space around every CJK character, so whitespace splitting yields tokens."""
    return " ".join(tokens(clean))
