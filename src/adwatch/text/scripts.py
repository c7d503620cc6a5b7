"""Which writing system a character belongs to: the one place that knows the blocks.

Thai and Burmese put no spaces between words, so most of adwatch's text rules ask
"is this Thai, Burmese, or a letter of a spaced script?" before anything else.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

THAI_BLOCK = (0x0E00, 0x0E7F)
# Myanmar, Myanmar Extended-B and Extended-A (Shan, Mon and other languages' letters).
MYANMAR_BLOCKS = ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F))
UNSPACED_BLOCKS = (THAI_BLOCK, *MYANMAR_BLOCKS)


def _class(blocks: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in blocks)


# Regex character classes (without brackets) of the blocks, for building patterns.
THAI_CLASS = _class((THAI_BLOCK,))
MYANMAR_CLASS = _class(MYANMAR_BLOCKS)
UNSPACED_CLASS = _class(UNSPACED_BLOCKS)

MYANMAR_CHAR = re.compile(f"[{MYANMAR_CLASS}]")
UNSPACED_CHAR = re.compile(f"[{UNSPACED_CLASS}]")
UNSPACED_RUN = re.compile(f"[{UNSPACED_CLASS}]+")


def unspaced_characters() -> str:
    """Every Thai and Myanmar code point, for a tokenizer's separator list."""
    return "".join(chr(code) for first, last in UNSPACED_BLOCKS for code in range(first, last + 1))


def is_thai(char: str) -> bool:
    return THAI_BLOCK[0] <= ord(char) <= THAI_BLOCK[1]


def is_myanmar(char: str) -> bool:
    code = ord(char)
    return any(first <= code <= last for first, last in MYANMAR_BLOCKS)


@lru_cache(maxsize=4096)
def char_script(char: str) -> str:
    """'thai', 'myanmar', 'word' (a letter, digit or mark of a spaced script) or 'other'."""
    if is_thai(char):
        return "thai"
    if is_myanmar(char):
        return "myanmar"
    if char.isalnum() or unicodedata.category(char).startswith("M"):
        return "word"
    return "other"


def is_spaced_word_char(char: str) -> bool:
    """True for a letter, digit or combining mark of Latin and other spaced scripts."""
    return char_script(char) == "word"
