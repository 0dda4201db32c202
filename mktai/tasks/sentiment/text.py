"""Text hygiene shared by every sentiment algorithm: normalising, language detection, unknowns.

Kept free of heavy imports so the CLI can classify and count texts before loading any model.
"""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (incl. extension A and compatibility), kana and hangul count as CJK for routing.
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RE = re.compile(f"[{_CJK_CLASS}]")
# Word tokens: every CJK character on its own (Chinese needs no segmenter), else runs of
# letters/digits with an optional apostrophe part (don't, it's).
TOKEN_RE = re.compile(f"[{_CJK_CLASS}]|[^\\W_]+(?:'[^\\W_]+)?")
_SPACE_RE = re.compile(r"\s+")
_LETTER_RE = re.compile(r"[^\W\d_]")

UNKNOWN = "unknown"


def _is_bad_char(ch: str) -> bool:
    """Control, format, line/paragraph separator characters and U+FFFD (broken encodings)."""
    return ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


_BAD_TABLE = {cp: " " for cp in range(0x110000) if cp < 0x3000 and _is_bad_char(chr(cp))}
_BAD_TABLE.update({0xFFFD: " ", 0xFEFF: " "})


def normalize(text: object) -> str:
    """NFKC (full-width -> ASCII punctuation), lower case, separators/control chars -> spaces.

    Keras' TextVectorization fails to reload a vocabulary built on raw text with U+2028/U+0085
    inside tokens; the linear features want the same clean text, so every algorithm uses this.
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    value = unicodedata.normalize("NFKC", str(text)).translate(_BAD_TABLE).lower()
    return _SPACE_RE.sub(" ", value).strip()


def is_unknown(clean: str) -> bool:
    """No letters at all (empty, whitespace, numbers, punctuation only): no sentiment to read."""
    return _LETTER_RE.search(clean) is None


def language(clean: str, threshold: float = 0.2) -> str:
    """'zh' when CJK characters make up at least `threshold` of the letters, else 'en'."""
    letters = len(_LETTER_RE.findall(clean))
    if letters == 0:
        return "en"
    return "zh" if len(CJK_RE.findall(clean)) / letters >= threshold else "en"


def tokens(clean: str) -> list[str]:
    """Word tokens of a normalised text (CJK characters one by one)."""
    return TOKEN_RE.findall(clean)


def spaced(clean: str) -> str:
    """Text with a space around every CJK character, so whitespace splitting yields tokens."""
    return " ".join(tokens(clean))
