"""Normalise article text for matching, keeping a map back to the original offsets.

Matching runs on ``normalize(text).text``; every normalised character knows which
original characters it came from, so a hit found in the normalised text is reported
with offsets into the stored text (``NormalizedText.span``).

The rules (NFC, invisible characters, case folding, typographic punctuation, digits,
whitespace, Vietnamese tone placement, Thai sara am, Burmese mark order, spaces between
Burmese syllables, optional diacritic folding) are described with examples in
``docs/text-normalisation.md``.

How the offset map stays exact: the original is cut into clusters (a base character
and the combining marks after it).  Every rule works inside one cluster, or rewrites a
few neighbouring clusters as one unit, and every normalised character maps to the whole
original cluster (or unit) it came from.  So a span never cuts a cluster, and the
original slice of a span normalises back to the same normalised text.

Burmese in the Zawgyi font encoding is converted separately, before storing, by
``adwatch.text.zawgyi.fix_zawgyi``: that changes the stored text itself, so it needs
no offset map.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import ne
from typing import TYPE_CHECKING

from adwatch.text.segment import MYANMAR_OPTIONAL_SPACE

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "NormalizedText",
    "normalize",
    "normalize_term",
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


def _char_fold_table() -> dict[str, str]:
    """One character to one character: punctuation, digits, fullwidth ASCII."""
    table: dict[str, str] = {}
    table.update(dict.fromkeys(_SINGLE_QUOTES, "'"))
    table.update(dict.fromkeys(_DOUBLE_QUOTES, '"'))
    table.update(dict.fromkeys(_DASHES, "-"))
    for digit in range(10):
        table[chr(0x0E50 + digit)] = str(digit)  # Thai digits
        table[chr(0x1040 + digit)] = str(digit)  # Myanmar digits
    for code in range(0xFF01, 0xFF5F):  # fullwidth ASCII, as NFKC would
        table[chr(code)] = chr(code - 0xFEE0)
    return table


_CHAR_FOLD = _char_fold_table()
# A regex finds the few characters to fold: str.translate looks up every character.
_CHAR_FOLD_RE = re.compile("[" + "".join(map(re.escape, _CHAR_FOLD)) + "]")

# After NFD, combining marks that follow a Latin letter: the diacritics fold_diacritics drops.
# A lookbehind, not a group put back with r"\1": that template costs a Python call per
# accented letter, two thirds of the time to fold a Vietnamese article.
_LATIN_MARKS_RE = re.compile(
    "(?<=[A-Za-z\u00aa\u00ba\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff])"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)

# Mark order NFC cannot fix because the marks have combining class 0:
# Thai: a tone mark typed before an above vowel (่ิ -> ิ่).
# Burmese: medials in any order (sorted: ျ ြ ွ ှ), a lower vowel before an upper vowel
# (ုိ -> ို), anusvara before a lower vowel (ံု -> ုံ).  NFC already puts ့ before ် (7 < 9).
_MARK_ORDER_RE = re.compile(
    "[\u0e48-\u0e4b][\u0e31\u0e34-\u0e37]"
    "|[\u103b-\u103e][\u103b-\u103e]+"
    "|[\u102f\u1030][\u102d\u102e\u1032]"
    "|\u1036[\u102f\u1030]"
)
_MARK_ORDER_FIRSTS = "\u0e48\u0e49\u0e4a\u0e4b\u103b\u103c\u103d\u103e\u102f\u1030\u1036"


def _fix_mark_order(match: re.Match[str]) -> str:
    marks = match.group()
    return "".join(sorted(marks)) if marks[0] in "\u103b\u103c\u103d\u103e" else marks[::-1]


def _vietnamese_tone_moves() -> dict[str, str]:
    """Old placement -> main-vowel placement: òa -> oà, óe -> oé, ủy -> uỷ (all five tones)."""
    moves = {}
    for tone in "\u0300\u0301\u0309\u0303\u0323":
        for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
            old = unicodedata.normalize("NFC", first + tone) + second
            moves[old] = first + unicodedata.normalize("NFC", second + tone)
    return moves


_VIETNAMESE_TONE_MOVES = _vietnamese_tone_moves()
_TONED_O = "".join(sorted({old[0] for old in _VIETNAMESE_TONE_MOVES if old[1] != "y"}))
_TONED_U = "".join(sorted({old[0] for old in _VIETNAMESE_TONE_MOVES if old[1] == "y"}))

# Rewrites across clusters, applied to the normalised text; each match becomes one unit
# that maps to everything it covers.  Whitespace runs and line breaks become one space
# (then nothing between two Burmese syllables: `_drop_burmese_spaces`).
_WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
_WHITESPACE_UNIT = "[{0}][{1}]*| [{1}]+".format(
    re.escape(_WHITESPACE.replace(" ", "")), re.escape(_WHITESPACE)
)
_WHITESPACE_UNIT_RE = re.compile(_WHITESPACE_UNIT)
_UNIT_RE = re.compile(
    _WHITESPACE_UNIT + "|\u0e4d[\u0e48-\u0e4b]*\u0e32"  # nikhahit (+ tone) + sara aa -> sara am
    "|\u0e40\u0e40"  # sara e typed twice -> sara ae
    f"|[{_TONED_O}][ae]|[{_TONED_U}]y"  # Vietnamese tone on the main vowel
)
# Regexes with alternatives scan slower than `in`: use the full one only when needed.
_UNIT_FIRSTS = "\u0e4d\u0e40" + _TONED_O + _TONED_U


def _rewrite_unit(unit: str) -> str:
    if unit.isspace():
        return " "
    if unit[0] == "\u0e4d":
        return unit[1:-1] + "\u0e33"
    if unit == "\u0e40\u0e40":
        return "\u0e41"
    return _VIETNAMESE_TONE_MOVES[unit]


# --- clusters: a base character and the combining marks after it -----------------------


def _class_of(codes: Iterable[int]) -> str:
    """A regex character class for sorted code points, as ranges."""
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    body = "".join(
        re.escape(chr(low)) + ("" if low == high else "-" + re.escape(chr(high)))
        for low, high in ranges
    )
    return f"[{body}]"


@functools.cache
def _mark_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Regexes for one combining mark: (BMP only, any plane).

    Hangul vowel and final jamo count as marks because NFC joins them to the jamo before.
    Built on first use from this Python's Unicode tables (about 15 ms): a cron run that
    never normalises should not pay it at import.  The BMP-only pattern exists because
    re checks a class with astral ranges one range at a time, 40x slower.
    """
    hangul = chain(range(0x1160, 0x1200), range(0xD7B0, 0xD800))
    bmp = sorted({*hangul, *(c for c in range(0x10000) if unicodedata.category(chr(c))[0] == "M")})
    astral_range = chain(range(0x10000, 0x20000), range(0xE0100, 0xE01F0))
    astral = [c for c in astral_range if unicodedata.category(chr(c))[0] == "M"]
    return re.compile(_class_of(bmp)), re.compile(f"{_class_of(bmp)}|{_class_of(astral)}")


def _mark_re(text: str) -> re.Pattern[str]:
    bmp_only, any_plane = _mark_patterns()
    # UTF-16 is two bytes a character exactly when there is no astral character.
    has_astral = len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)
    return any_plane if has_astral else bmp_only


def _base_flags(text: str) -> list[bool]:
    """True for each base character, False for each combining mark."""
    marked = _mark_re(text).sub("\x00", text.replace("\x00", "\x01"))
    return list(map(ne, marked, repeat("\x00")))


def _is_base(char: str) -> bool:
    return _mark_re(char).fullmatch(char) is None


@functools.cache
def _extra_bases() -> dict[str, int]:
    """Characters whose case folding yields other than one base character (ß -> ss)."""
    extra = {}
    for code in chain(range(0x590), range(0x1E00, 0x2000), range(0xFB00, 0xFB18)):
        char = chr(code)
        if char.casefold() == char:
            continue
        folded = _fold_clusters(char, fold_diacritics=False)
        bases = sum(map(_is_base, folded))
        if bases != _is_base(char):
            extra[char] = bases
    return extra


@functools.cache
def _extra_bases_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(map(re.escape, _extra_bases())) + "]")


# --- the per-cluster transformation ----------------------------------------------------


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _fold_char(match: re.Match[str]) -> str:
    return _CHAR_FOLD[match.group()]


def _fold_clusters(text: str, fold_diacritics: bool) -> str:
    """Applies every rule that works inside a cluster.

    Gives the same result on a concatenation of whole clusters as on each cluster alone,
    and one base character per input base (except case foldings like ß -> ss, which
    ``_extra_bases`` lists).
    """
    text = _CHAR_FOLD_RE.sub(_fold_char, _nfc(text).casefold())
    text = _nfc(text)
    if any(char in text for char in _MARK_ORDER_FIRSTS):
        # Moving a mark can bring two marks with combining classes together
        # (a Thai tone mark next to a stray Burmese asat): NFC sorts them again.
        text = _nfc(_MARK_ORDER_RE.sub(_fix_mark_order, text))
    if fold_diacritics:
        text = unicodedata.normalize("NFD", text)
        text = _LATIN_MARKS_RE.sub("", text).replace("đ", "d")
        text = unicodedata.normalize("NFC", text)
    return text


# --- offsets ------------------------------------------------------------------------


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
    return _INVISIBLE_RE.sub("", text), kept


def _cluster_starts(flags: list[bool]) -> list[int]:
    """Index of the first character of each cluster, then the text length."""
    flags = flags.copy()
    if flags:
        flags[0] = True  # marks at the very start form a cluster of their own
    return [*compress(range(len(flags)), flags), len(flags)]


def _cluster_ranges(positions: list[int], kept: list[int] | None) -> tuple[list[int], list[int]]:
    """Original start and end of each cluster, from its position in the visible text."""
    starts, ends = positions[:-1], positions[1:]
    if kept is None:
        return starts, ends
    kept_end = [index + 1 for index in kept]
    return list(map(kept.__getitem__, starts)), [kept_end[end - 1] for end in ends]


def _normalize_fast(text: str, fold_diacritics: bool) -> NormalizedText | None:
    """Whole-text transformation, then offsets by counting base characters on both sides.

    The k-th base of the output comes from the k-th cluster of the input.  Returns None
    when the counts disagree (a case the counting does not model); the caller then takes
    the cluster-by-cluster path.
    """
    visible, kept = _without_invisible(text)
    out = _fold_clusters(visible, fold_diacritics)
    if len(out) == len(visible) and not _mark_re(visible).search(visible + out):
        # One base in, one base out: the common case for English and NFC Vietnamese.
        if kept is None:
            return NormalizedText(out, list(range(len(out))), list(range(1, len(out) + 1)))
        return NormalizedText(out, kept, [index + 1 for index in kept])
    in_flags = _base_flags(visible)
    cluster_starts, cluster_ends = _cluster_ranges(_cluster_starts(in_flags), kept)
    if in_flags and in_flags[0]:
        # Output marks before any base only come from marks at the very start.
        cluster_starts.insert(0, -1)
        cluster_ends.insert(0, -1)
    extra = list(_extra_bases_re().finditer(visible))
    if extra:
        cluster_starts, cluster_ends = _repeat_for_extra_bases(
            cluster_starts, cluster_ends, in_flags, extra
        )
    out_flags = _base_flags(out)
    if len(cluster_starts) != sum(out_flags) + 1:
        return None
    clusters = list(accumulate(out_flags, initial=0))[1:]
    return NormalizedText(
        out,
        list(map(cluster_starts.__getitem__, clusters)),
        list(map(cluster_ends.__getitem__, clusters)),
    )


def _repeat_for_extra_bases(
    starts: list[int], ends: list[int], flags: list[bool], extra: list[re.Match[str]]
) -> tuple[list[int], list[int]]:
    """Repeats a cluster's range once per output base it yields (ß gives two)."""
    weights = list(map(int, flags))
    for match in extra:
        weights[match.start()] = _extra_bases()[match.group()]
    cluster_of_char = list(accumulate(flags, initial=0))[1:]
    per_cluster = [0] * len(starts)
    for number, weight in zip(cluster_of_char, weights, strict=True):
        per_cluster[number] += weight
    lead = [starts[0]], [ends[0]]
    return (
        lead[0] + list(chain.from_iterable(map(repeat, starts[1:], per_cluster[1:]))),
        lead[1] + list(chain.from_iterable(map(repeat, ends[1:], per_cluster[1:]))),
    )


def _normalize_by_cluster(text: str, fold_diacritics: bool) -> NormalizedText:
    """Reference path: transform each cluster on its own.  Slower, same result."""
    visible, kept = _without_invisible(text)
    positions = _cluster_starts(_base_flags(visible))
    cluster_starts, cluster_ends = _cluster_ranges(positions, kept)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for number, (first, last) in enumerate(zip(positions, positions[1:], strict=False)):
        folded = _fold_clusters(visible[first:last], fold_diacritics)
        parts.append(folded)
        starts.extend(repeat(cluster_starts[number], len(folded)))
        ends.extend(repeat(cluster_ends[number], len(folded)))
    return NormalizedText("".join(parts), starts, ends)


def _merge_units(normalized: NormalizedText) -> NormalizedText:
    """Applies the rewrites that span clusters; each rewritten unit maps to all it covers."""
    text, starts, ends = normalized.text, normalized.source_starts, normalized.source_ends
    parts: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    units: list[tuple[int, int]] = []
    previous = 0
    needs_all = any(char in text for char in _UNIT_FIRSTS)
    for match in (_UNIT_RE if needs_all else _WHITESPACE_UNIT_RE).finditer(text):
        first, last = match.span()
        parts.append(text[previous:first])
        new_starts += starts[previous:first]
        new_ends += ends[previous:first]
        replacement = _rewrite_unit(match.group())
        unit_start = len(new_starts)
        parts.append(replacement)
        new_starts += repeat(starts[first], len(replacement))
        new_ends += repeat(ends[last - 1], len(replacement))
        units.append((unit_start, len(new_starts)))
        previous = last
    if not units:
        return _drop_burmese_spaces(normalized)
    parts.append(text[previous:])
    new_starts += starts[previous:]
    new_ends += ends[previous:]
    for unit_start, unit_end in units:
        _widen_unit(new_starts, new_ends, unit_start, unit_end)
    return _drop_burmese_spaces(NormalizedText("".join(parts), new_starts, new_ends))


def _drop_burmese_spaces(normalized: NormalizedText) -> NormalizedText:
    """Removes each space that only separates two Burmese syllables; it then maps nowhere.

    Burmese writers put a space between some syllables and words and not others, so
    terms and text alike lose it (docs/matching.md, Burmese). Runs after the whitespace
    units, so any run of whitespace there is one space, which stands for the whole run.
    The rule reads only the character before the space and the first cluster after it
    (segment.myanmar_space_is_optional), and removing the space moves no syllable
    boundary, so the offsets of everything else stay as they were.
    """
    text = normalized.text
    spaces = [match.end() - 1 for match in MYANMAR_OPTIONAL_SPACE.finditer(text)]
    if not spaces:
        return normalized
    pieces = list(zip([-1, *spaces], [*spaces, len(text)], strict=True))
    starts, ends = normalized.source_starts, normalized.source_ends
    if len(spaces) * 16 < len(text):
        # A few Burmese words in a long article: copy the offsets by slices.
        starts = list(chain.from_iterable([starts[before + 1 : after] for before, after in pieces]))
        ends = list(chain.from_iterable([ends[before + 1 : after] for before, after in pieces]))
    else:
        # Burmese text, a space every few syllables: one pass with a mask is quicker.
        keep = bytearray(b"\x01") * len(text)
        for space in spaces:
            keep[space] = 0
        starts, ends = list(compress(starts, keep)), list(compress(ends, keep))
    return NormalizedText(
        "".join([text[before + 1 : after] for before, after in pieces]), starts, ends
    )


def _widen_unit(starts: list[int], ends: list[int], first: int, last: int) -> None:
    """Gives one range to a unit and to neighbours whose ranges overlap it (same cluster)."""
    low, high = starts[first], ends[last - 1]
    if (first == 0 or ends[first - 1] <= low) and (last == len(starts) or starts[last] >= high):
        return  # the usual case: the unit already starts and ends on cluster boundaries
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
