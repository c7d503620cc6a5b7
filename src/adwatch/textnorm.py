"""Normalise article text for matching, keeping a map back to the original offsets.

Matching runs on ``normalize(text).text``; every normalised character knows which
original characters it came from, so a hit found in the normalised text is reported
with offsets into the stored text (``NormalizedText.span``).

The rules (NFC, invisible characters, case folding, typographic punctuation, digits,
whitespace, Vietnamese tone placement, Thai sara am, Burmese mark order, optional
diacritic folding) are described with examples in ``docs/text-normalisation.md``.

How the offset map stays exact: the original is cut into clusters (a base character
and the combining marks after it).  Every rule works inside one cluster, or rewrites a
few neighbouring clusters as one unit, and every normalised character maps to the whole
original cluster (or unit) it came from.  So a span never cuts a cluster, and the
original slice of a span normalises back to the same normalised text.

Burmese in the Zawgyi font encoding is converted separately, before storing, by
``fix_zawgyi``: that changes the stored text itself, so it needs no offset map.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import ne
from typing import Any

__all__ = [
    "NormalizedText",
    "fix_zawgyi",
    "normalize",
    "normalize_term",
    "zawgyi_probability",
]


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, per normalised character, the original range it comes from."""

    text: str
    source_starts: list[int]
    source_ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text offsets covering normalised ``text[start:end]`` (end > start)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(
                f"span {start!r}:{end!r} is empty or outside normalised text of length {len(self.text)}"
            )
        return self.source_starts[start], self.source_ends[end - 1]


# --- character classes -------------------------------------------------------------

# Removed for matching; they map nowhere, so a span around them still covers them.
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2039\u203a"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def _char_fold_table() -> dict[int, str]:
    """One character to one character: punctuation, digits, fullwidth ASCII, spaces."""
    table: dict[int, str] = {}
    table.update(dict.fromkeys(map(ord, _SINGLE_QUOTES), "'"))
    table.update(dict.fromkeys(map(ord, _DOUBLE_QUOTES), '"'))
    table.update(dict.fromkeys(map(ord, _DASHES), "-"))
    for digit in range(10):
        table[0x0E50 + digit] = str(digit)  # Thai digits
        table[0x1040 + digit] = str(digit)  # Myanmar digits
    for code in range(0xFF01, 0xFF5F):  # fullwidth ASCII, as NFKC would
        table[code] = chr(code - 0xFEE0)
    for code in range(0x3001):  # the last space character is U+3000
        if chr(code).isspace():
            table[code] = " "
    return table


_CHAR_FOLD = _char_fold_table()
_LATIN_STROKE_D = {ord("đ"): "d"}

# After NFD, combining marks that follow a Latin letter: the diacritics fold_diacritics drops.
_LATIN_MARKS_RE = re.compile(
    "([A-Za-z\u00aa\u00ba\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff])"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)

# Thai: a tone mark typed before an above vowel (NFC cannot fix it: the vowels have class 0).
_THAI_TONE_FIRST_RE = re.compile("([\u0e48-\u0e4b])([\u0e31\u0e34-\u0e37])")
# Burmese: medials in any order are sorted (ျ ြ ွ ှ); lower vowel before upper vowel and
# anusvara before lower vowel are swapped.  NFC already puts ့ before ် (classes 7 < 9).
_MYANMAR_MEDIALS_RE = re.compile("[\u103b-\u103e]{2,}")
_MYANMAR_LOWER_FIRST_RE = re.compile("([\u102f\u1030])([\u102d\u102e\u1032])")
_MYANMAR_ANUSVARA_FIRST_RE = re.compile("(\u1036)([\u102f\u1030])")


def _vietnamese_tone_moves() -> dict[str, str]:
    """Old placement -> main-vowel placement: òa -> oà, óe -> oé, ủy -> uỷ (all five tones)."""
    moves = {}
    for tone in "\u0300\u0301\u0309\u0303\u0323":
        for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
            old = unicodedata.normalize("NFC", first + tone) + second
            moves[old] = first + unicodedata.normalize("NFC", second + tone)
    return moves


_VIETNAMESE_TONE_MOVES = _vietnamese_tone_moves()

# Rewrites across clusters, applied to the normalised text; each match becomes one unit.
_UNIT_RE = re.compile(
    "|".join(
        [
            "  +",  # whitespace runs (already single spaces) collapse to one
            "\u0e4d[\u0e48-\u0e4b]*\u0e32",  # nikhahit + sara aa -> sara am
            "\u0e40\u0e40",  # sara e typed twice -> sara ae
            *sorted(_VIETNAMESE_TONE_MOVES),
        ]
    )
)


def _rewrite_unit(unit: str) -> str:
    if unit[0] == " ":
        return " "
    if unit[0] == "\u0e4d":
        return unit[1:-1] + "\u0e33"
    if unit == "\u0e40\u0e40":
        return "\u0e41"
    return _VIETNAMESE_TONE_MOVES[unit]


@functools.cache
def _mark_table() -> dict[int, str]:
    """Maps every combining mark (and Hangul V/T jamo, which NFC joins to the L before) to NUL.

    NUL itself maps to U+0001 so that only marks come out as NUL.  Built on first use:
    scanning the code points costs about 20 ms, which a cron run without Burmese or
    Thai text should not pay at import.
    """
    table: dict[int, str] = {0: "\x01"}
    codes = chain(range(0x20000), range(0xE0100, 0xE01F0))
    table.update((code, "\x00") for code in codes if unicodedata.category(chr(code))[0] == "M")
    for code in chain(range(0x1160, 0x1200), range(0xD7B0, 0xD800)):
        table[code] = "\x00"
    return table


@functools.cache
def _extra_bases() -> dict[str, int]:
    """Characters whose case folding yields a different number of base characters (ß -> ss)."""
    table = _mark_table()
    extra = {}
    for code in chain(range(0x590), range(0x1E00, 0x2000), range(0xFB00, 0xFB18)):
        char = chr(code)
        folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", char).casefold())
        bases = sum(1 for c in folded if table.get(ord(c)) != "\x00")
        if bases != (table.get(code) != "\x00"):
            extra[char] = bases
    return extra


@functools.cache
def _extra_bases_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(map(re.escape, _extra_bases())) + "]")


# --- the per-cluster transformation ----------------------------------------------------


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _sort_medials(match: re.Match[str]) -> str:
    return "".join(sorted(match.group()))


def _fold_clusters(text: str, fold_diacritics: bool) -> str:
    """Applies every rule that works inside a cluster; the result has one base per input base.

    (Except case foldings like ß -> ss, which ``_extra_bases`` accounts for.)
    Works on any concatenation of whole clusters and gives the same result as on each
    cluster alone.
    """
    text = _nfc(text).casefold().translate(_CHAR_FOLD)
    text = _nfc(text)
    text = _THAI_TONE_FIRST_RE.sub(r"\2\1", text)
    text = _MYANMAR_MEDIALS_RE.sub(_sort_medials, text)
    text = _MYANMAR_LOWER_FIRST_RE.sub(r"\2\1", text)
    text = _MYANMAR_ANUSVARA_FIRST_RE.sub(r"\2\1", text)
    if fold_diacritics:
        text = unicodedata.normalize("NFD", text)
        text = _LATIN_MARKS_RE.sub(r"\1", text).translate(_LATIN_STROKE_D)
        text = unicodedata.normalize("NFC", text)
    return text


# --- offsets ------------------------------------------------------------------------


def _base_flags(text: str) -> list[bool]:
    """True for each base character, False for each combining mark."""
    return list(map(ne, text.translate(_mark_table()), repeat("\x00")))


def _without_invisible(text: str) -> tuple[str, list[int] | None]:
    """The text without invisible characters, and the original index of each kept one."""
    positions = [match.start() for match in _INVISIBLE_RE.finditer(text)]
    if not positions:
        return text, None
    kept: list[int] = []
    previous = 0
    for position in positions:
        kept.extend(range(previous, position))
        previous = position + 1
    kept.extend(range(previous, len(text)))
    return text.translate(dict.fromkeys(map(ord, _INVISIBLE))), kept


def _cluster_starts(flags: list[bool]) -> list[int]:
    """Index of the first character of each cluster, then the text length."""
    flags = flags.copy()
    if flags:
        flags[0] = True  # marks at the very start form a cluster of their own
    return [*compress(range(len(flags)), flags), len(flags)]


def _cluster_ranges(positions: list[int], kept: list[int] | None) -> tuple[list[int], list[int]]:
    """Original start and end of each cluster, numbered from 1 (index 0 is unused)."""
    starts, ends = positions[:-1], positions[1:]
    if kept is None:
        return [0, *starts], [0, *ends]
    kept_end = [index + 1 for index in kept]
    return [0, *map(kept.__getitem__, starts)], [0, *(kept_end[end - 1] for end in ends)]


def _normalize_fast(text: str, fold_diacritics: bool) -> NormalizedText | None:
    """Whole-text transformation, then offsets by counting base characters on both sides.

    Returns None when the base counts disagree (a case the counting does not model);
    the caller then takes the cluster-by-cluster path.
    """
    visible, kept = _without_invisible(text)
    out = _fold_clusters(visible, fold_diacritics)
    in_flags = _base_flags(visible)
    out_flags = _base_flags(out)
    n_in, n_out = len(visible), len(out)
    if n_in == n_out and kept is None and all(in_flags) and all(out_flags):
        identity = list(range(n_in))
        return NormalizedText(out, identity, list(range(1, n_in + 1)))
    cluster_starts, cluster_ends = _cluster_ranges(_cluster_starts(in_flags), kept)
    cluster_of_char = list(accumulate(in_flags, initial=0))[1:]
    if in_flags and not in_flags[0]:
        cluster_of_char = [number + 1 for number in cluster_of_char]
    weights: list[int] = list(map(int, in_flags))
    for match in _extra_bases_re().finditer(visible):
        weights[match.start()] = _extra_bases()[match.group()]
    # Cluster of the k-th base of the output; position 0 is for marks before any base.
    cluster_of_base = [1, *chain.from_iterable(map(repeat, cluster_of_char, weights))]
    if len(cluster_of_base) - 1 != sum(out_flags):
        return None
    clusters = list(map(cluster_of_base.__getitem__, accumulate(out_flags)))
    return NormalizedText(
        out,
        list(map(cluster_starts.__getitem__, clusters)),
        list(map(cluster_ends.__getitem__, clusters)),
    )


def _normalize_by_cluster(text: str, fold_diacritics: bool) -> NormalizedText:
    """Reference path: transform each cluster on its own.  Slower, same result."""
    visible, kept = _without_invisible(text)
    positions = _cluster_starts(_base_flags(visible))
    cluster_starts, cluster_ends = _cluster_ranges(positions, kept)
    parts, starts, ends = [], [], []
    for number in range(1, len(positions)):
        folded = _fold_clusters(visible[positions[number - 1] : positions[number]], fold_diacritics)
        parts.append(folded)
        starts.extend(repeat(cluster_starts[number], len(folded)))
        ends.extend(repeat(cluster_ends[number], len(folded)))
    return NormalizedText("".join(parts), starts, ends)


def _merge_units(normalized: NormalizedText) -> NormalizedText:
    """Applies the rewrites that span clusters; each rewritten unit maps to all it covers."""
    text, starts, ends = normalized.text, normalized.source_starts, normalized.source_ends
    matches = list(_UNIT_RE.finditer(text))
    if not matches:
        return normalized
    parts: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    units: list[tuple[int, int]] = []
    previous = 0
    for match in matches:
        first, last = match.start(), match.end()
        parts.append(text[previous:first])
        new_starts.extend(starts[previous:first])
        new_ends.extend(ends[previous:first])
        replacement = _rewrite_unit(match.group())
        unit_start = len(new_starts)
        parts.append(replacement)
        new_starts.extend(repeat(starts[first], len(replacement)))
        new_ends.extend(repeat(ends[last - 1], len(replacement)))
        units.append((unit_start, len(new_starts)))
        previous = last
    parts.append(text[previous:])
    new_starts.extend(starts[previous:])
    new_ends.extend(ends[previous:])
    for unit_start, unit_end in units:
        _widen_unit(new_starts, new_ends, unit_start, unit_end)
    return NormalizedText("".join(parts), new_starts, new_ends)


def _widen_unit(starts: list[int], ends: list[int], first: int, last: int) -> None:
    """Gives one range to a unit and to neighbours whose ranges overlap it (same cluster)."""
    low, high = starts[first], ends[last - 1]
    while first > 0 and ends[first - 1] > low:
        first -= 1
        low = min(low, starts[first])
    while last < len(starts) and starts[last] < high:
        high = max(high, ends[last])
        last += 1
    starts[first:last] = repeat(low, last - first)
    ends[first:last] = repeat(high, last - first)


def normalize(text: str, *, fold_diacritics: bool = False) -> NormalizedText:
    """Returns the matching form of ``text`` with a map back to offsets in ``text``."""
    normalized = _normalize_fast(text, fold_diacritics)
    if normalized is None:
        normalized = _normalize_by_cluster(text, fold_diacritics)
    return _merge_units(normalized)


def normalize_term(term: str, *, fold_diacritics: bool = False) -> str:
    """Returns the matching form of a watchlist term: ``normalize(term).text``."""
    return normalize(term, fold_diacritics=fold_diacritics).text


# --- Zawgyi ----------------------------------------------------------------------------

ZAWGYI_THRESHOLD = 0.95
_MYANMAR_RE = re.compile("[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]")
_LINE_RE = re.compile(r"[^\n]+")


@functools.cache
def _zawgyi_detector() -> Any:
    from myanmartools import ZawgyiDetector

    return ZawgyiDetector()


@functools.cache
def _zawgyi_converter() -> Any:
    import icu

    return icu.Transliterator.createInstance("Zawgyi-my")


def zawgyi_probability(text: str) -> float:
    """Returns the probability that ``text`` is Zawgyi-encoded Burmese (0.0 with no Burmese)."""
    probability = float(_zawgyi_detector().get_zawgyi_probability(text))
    return 0.0 if math.isinf(probability) or math.isnan(probability) else probability


def fix_zawgyi(text: str) -> tuple[str, bool]:
    """Returns ``text`` with its Zawgyi lines converted to Unicode, and whether any was.

    Decided line by line: a page may mix Unicode and Zawgyi paragraphs.
    """
    if not _MYANMAR_RE.search(text):
        return text, False
    converted_any = False

    def convert_line(match: re.Match[str]) -> str:
        nonlocal converted_any
        line = match.group()
        if not _MYANMAR_RE.search(line) or zawgyi_probability(line) <= ZAWGYI_THRESHOLD:
            return line
        converted_any = True
        return unicodedata.normalize("NFC", _zawgyi_converter().transliterate(line))

    fixed = _LINE_RE.sub(convert_line, text)
    return fixed, converted_any
