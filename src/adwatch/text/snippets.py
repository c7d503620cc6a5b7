"""Cutting text around a match without splitting what is written as one.

A cut between a letter and its vowel or tone marks (Thai, Burmese, Vietnamese
written with combining accents) leaves a stray mark that renders broken, so every
cut here moves to the nearest place that is not inside a written syllable.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Thai vowels written after their consonant that Unicode does not class as marks
# (sara a, aa, am, lakkhangyao), and those written before it (e, ae, o, ai, ai).
_THAI_FOLLOWING = frozenset("\u0e30\u0e32\u0e33\u0e45")
_THAI_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


@dataclass(frozen=True)
class Context:
    """The matched text inside its surrounding text."""

    before: str
    match: str
    after: str


def cut_context(text: str, start: int, end: int, width: int) -> Context:
    """text[start:end] with up to `width` characters either side, cut at spaces, "…" where cut."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    while 0 < left < start and joined(text[left - 1], text[left]):
        left += 1
    while end < right < len(text) and joined(text[right - 1], text[right]):
        right += 1
    before, after = text[left:start], text[end:right]
    if left > 0:
        cut = before.find(" ")
        before = "…" + (before[cut + 1 :] if 0 <= cut < width // 3 else before)
    if right < len(text):
        cut = after.rfind(" ")
        after = (after[:cut] if cut > len(after) - width // 3 else after) + "…"
    return Context(before, text[start:end], after)


def joined(previous: str, char: str) -> bool:
    """Whether a cut between `previous` and `char` would split one written syllable."""
    return (
        unicodedata.category(char).startswith("M")
        or char in _THAI_FOLLOWING
        or previous in _THAI_LEADING
    )
