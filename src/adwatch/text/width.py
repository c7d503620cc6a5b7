"""How many terminal columns text takes, and where it may be cut or wrapped to fit.

The rule is glibc's `wcwidth`, which xterm, VTE (GNOME Terminal and its kin)
and tmux on Linux follow: a non-spacing or enclosing mark (Mn, Me) and a
format character (Cf) take no column, an East Asian wide or full-width
character takes two, everything else one. A spacing mark (Mc) takes one: the
Burmese vowel signs ါ ာ ေ, the visarga း and the medials ျ ြ advance the cursor,
although rich counts them as zero (so a Burmese title overran its column and
every row wrapped). docs/terminal.md explains the choice.

Cuts never split what is written as one: a Thai character cluster, a Burmese
syllable, a letter and its marks (see `segment.safe_cut`). Wrapping prefers a
space, then a Thai word boundary, then a syllable or cluster boundary.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from adwatch.text import scripts, segment

ELLIPSIS = "…"

# Format characters that glibc still gives a column: the soft hyphen and the
# prepended concatenation marks (Arabic number signs and the like), which are
# drawn.
_SPACING_FORMAT = frozenset("\u00ad\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891")
_SPACING_FORMAT |= frozenset("\u08e2\U000110bd\U000110cd")
# Hangul medial vowels and final consonants join the syllable before them.
_HANGUL_JOINING = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF))
_VIRAMA, _ZWJ = "\u1039", "\u200d"
# Characters that close what comes before them: a line never starts with one.
# Separators a long run without spaces (a URL) may break after.
_BREAK_AFTER = "/-?&=_"
_NO_BREAK_BEFORE = frozenset("…,.;:!?)]}%»”’\u104a\u104b\u0e46\u0e2f")


@lru_cache(maxsize=8192)
def char_width(char: str) -> int:
    """The columns one character takes on a terminal: 0, 1 or 2."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return 0
    category = unicodedata.category(char)
    if category in ("Mn", "Me") or (category == "Cf" and char not in _SPACING_FORMAT):
        return 0
    if any(first <= code <= last for first, last in _HANGUL_JOINING):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """The columns `text` takes on a terminal (a single line)."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(map(char_width, text))


def _fitting_end(text: str, start: int, width: int) -> int:
    """The largest `end` for which text[start:end] takes at most `width` columns."""
    used = 0
    for index in range(start, len(text)):
        used += char_width(text[index])
        if used > width:
            return index
    return len(text)


def _cluster_end(text: str, start: int) -> int:
    """The end of the letter at `start` with its marks (and a Burmese stacked consonant)."""
    end = start + 1
    while end < len(text) and (
        unicodedata.category(text[end]).startswith("M")
        or text[end] == _ZWJ
        or text[end - 1] in (_VIRAMA, _ZWJ)
    ):
        end += 1
    return end


def _safe_end(text: str, start: int, width: int) -> int:
    """The furthest cut after `start` that fits `width` columns and splits no syllable.

    It is `start` when not even the first syllable (or cluster) fits.
    """
    end = _fitting_end(text, start, width)
    if end >= len(text):
        return end
    cut = segment.safe_cut(text, end, forward=False)
    return cut if start <= cut <= end else start


def _letters_end(text: str, start: int, width: int) -> int:
    """The furthest end of a letter with its marks after `start` within `width` columns.

    For a line narrower than one Burmese syllable: only then may a syllable be split.
    """
    end = _fitting_end(text, start, width)
    cut = start
    while cut < end and _cluster_end(text, cut) <= end:
        cut = _cluster_end(text, cut)
    return cut if cut > start else _cluster_end(text, start)


def truncation_end(text: str, width: int) -> int | None:
    """None when `text` fits `width` columns; else where to cut it to add an ellipsis.

    `text[:end] + ELLIPSIS` then fits, and the cut splits no cluster or syllable.
    """
    if display_width(text) <= width:
        return None
    end = _safe_end(text, 0, max(0, width - display_width(ELLIPSIS)))
    while end > 0 and text[end - 1] == " ":
        end -= 1
    return end


def wrap_spans(text: str, width: int) -> list[tuple[int, int]]:
    """`text` cut into lines of at most `width` columns, as (start, end) offsets.

    A line breaks at its last space when that leaves it at least half full;
    else, in Thai, at a word boundary; in a run like a URL, after a / - ? & = or _
    when that leaves it half full; else at a syllable or cluster boundary.
    Spaces at a break are dropped. Only a syllable wider than `width` is split,
    between letters; a letter with its marks wider than `width` gets a line of its
    own (the only way a line can be wider).
    """
    spans: list[tuple[int, int]] = []
    start, length = 0, len(text)
    width = max(1, width)
    while start < length:
        end = _safe_end(text, start, width)
        if end >= length:
            spans.append((start, length))
            break
        if end <= start:
            end = _letters_end(text, start, width)
        line_end, next_start = _break(text, start, end, width)
        line_end, next_start = _not_before_closing(text, start, line_end, next_start, width)
        spans.append((start, line_end))
        start = next_start
        while start < length and text[start] == " ":
            start += 1
    return spans


def _break(text: str, start: int, end: int, width: int) -> tuple[int, int]:
    """Where the line text[start:…] ends, and where the next one starts."""
    if end < len(text) and text[end] == " ":
        return _without_trailing_spaces(text, start, end), end + 1
    space = text.rfind(" ", start, end)
    if space > start and (
        display_width(text[start:space]) * 2 >= width or not _unspaced(text[end - 1])
    ):
        return _without_trailing_spaces(text, start, space), space + 1
    word_end = _thai_word_break(text, start, end)
    if word_end is not None:
        return word_end, word_end
    # A long run without spaces (a URL, a path): after a separator if one is near.
    separator = max(text.rfind(char, start, end) for char in _BREAK_AFTER)
    if separator >= 0 and display_width(text[start : separator + 1]) * 2 >= width:
        return separator + 1, separator + 1
    return end, end


def _not_before_closing(
    text: str, start: int, line_end: int, next_start: int, width: int
) -> tuple[int, int]:
    """Move a break back so that no line starts with closing punctuation.

    A trailing ellipsis, a full stop (. or the Burmese ။) or the Thai repetition
    mark ๆ belongs to the word before it.
    """
    for _ in range(4):
        if next_start >= len(text) or text[next_start] not in _NO_BREAK_BEFORE:
            break
        earlier = segment.safe_cut(text, line_end - 1, forward=False)
        if earlier <= start:
            break
        line_end, next_start = _break(text, start, earlier, width)
    return line_end, next_start


def _unspaced(char: str) -> bool:
    """True for a letter of a script written without spaces between words."""
    return scripts.is_thai(char) or scripts.is_myanmar(char)


def _without_trailing_spaces(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] == " ":
        end -= 1
    return end


def _thai_word_break(text: str, start: int, end: int) -> int | None:
    """The last Thai word boundary in text[start:end] that cuts inside a Thai run, if any."""
    if end >= len(text) or not (scripts.is_thai(text[end - 1]) and scripts.is_thai(text[end])):
        return None
    run_start = end
    while run_start > start and scripts.is_thai(text[run_start - 1]):
        run_start -= 1
    run_end = end
    while run_end < len(text) and scripts.is_thai(text[run_end]):
        run_end += 1
    # Loading the word list costs about 0.2 s once, so it happens only when a
    # Thai run really has to be broken.
    boundary = run_start
    for word in segment.thai_words(text[run_start:run_end]):
        if boundary + len(word) > end:
            break
        boundary += len(word)
    return boundary if boundary > start else None
