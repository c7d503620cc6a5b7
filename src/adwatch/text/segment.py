"""Where words start and end in Thai and Burmese, and where text may be cut.

Thai and Burmese write words without spaces, so "is this a whole word?" needs
more than a look at the neighbouring characters:

- Thai: a dictionary segmenter (nlpo3, newmm over PyThaiNLP's word list) says
  where words are; Thai Character Clusters (TCC) say where text can be cut at
  all. `thai_spans_ok` applies the rule that docs/matching.md explains.
- Burmese: syllables are found by rule (a consonant that is neither stacked
  under a virama nor killed by an asat starts one), so a term must start and end
  on a syllable boundary. A space between two syllables is optional
  (`myanmar_space_is_optional`): normalisation drops it from terms and text.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache

from adwatch.text.scripts import MYANMAR_BLOCKS, is_myanmar, is_thai

# A term shorter than this (ตา, ยา, หวย) is one syllable: inside a longer
# dictionary word it is nearly always a coincidence (ตา in ตาราง), so it only
# matches as a whole word. Longer terms also match as a part of a dictionary
# compound whose other parts are words too (พนัน in การพนัน).
MIN_THAI_INNER_TERM = 4
# Dictionary words built from other words whose meaning is not theirs: a term
# never matches inside them. Loanwords (ออนไลน์ "online" is not ออน + ไลน์ "LINE")
# and lexicalised compounds (โฆษณาชวนเชื่อ is propaganda, not an advertisement).
THAI_WHOLE_WORDS = frozenset(
    {
        "ออนไลน์",  # online, not the LINE app
        "ออฟไลน์",  # offline
        "ไลน์แมน",  # LINE MAN delivery
        "โฆษณาชวนเชื่อ",  # propaganda
        "ไลฟ์สไตล์",  # lifestyle, not a live stream
        "ดีเอ็นเอ",  # DNA
    }
)

_MYANMAR_SYLLABLE_START = frozenset(
    [chr(c) for c in range(0x1000, 0x102B)]  # consonants and independent vowels
    + ["\u103f"]  # great sa
    + [chr(c) for c in range(0x1040, 0x104A)]  # digits
    + [chr(c) for c in range(0x104C, 0x1056)]  # ၌ ၍ ၎ ၏ and the Pali letters
    + [chr(c) for c in (*range(0x105A, 0x105E), 0x1061, 0x1065, 0x1066, *range(0x106E, 0x1071))]
    + [chr(c) for c in (*range(0x1075, 0x1082), 0x108E)]  # Mon and Shan letters
)
_MYANMAR_PUNCTUATION = frozenset("\u104a\u104b")  # ၊ ။
_VIRAMA, _ASAT, _DOT_BELOW = "\u1039", "\u103a", "\u1037"


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(map(re.escape, sorted(chars))) + "]"


# Where a space between two Burmese syllables may be dropped (`myanmar_space_is_optional`).
# Digits are left out: normalisation reads Myanmar digits as 0-9, not as Burmese.
_MYANMAR_DIGITS = frozenset(
    chr(c) for first, last in MYANMAR_BLOCKS for c in range(first, last + 1) if chr(c).isdigit()
)
_BEFORE_SPACE_CLASS = _char_class(
    chr(c)
    for first, last in MYANMAR_BLOCKS
    for c in range(first, last + 1)
    if chr(c) not in _MYANMAR_PUNCTUATION | _MYANMAR_DIGITS | {_VIRAMA}
)
_AFTER_SPACE = (
    _char_class(_MYANMAR_SYLLABLE_START - _MYANMAR_DIGITS)
    + f"(?![{_ASAT}{_VIRAMA}]|{_DOT_BELOW}{_ASAT})"  # not killed, not stacked
)
_BEFORE_OPTIONAL_SPACE = re.compile(_BEFORE_SPACE_CLASS)
_AFTER_OPTIONAL_SPACE = re.compile(_AFTER_SPACE)
# A Burmese letter or sign and one space after it that `myanmar_space_is_optional`
# holds for. It starts with the letter, not a look back, so that a search skips
# everything else (spaces between Latin words included) at C speed.
MYANMAR_OPTIONAL_SPACE = re.compile(f"{_BEFORE_SPACE_CLASS} (?={_AFTER_SPACE})")


# --- Thai character clusters ----------------------------------------------------------

# The TCC rules of Theeramunkong et al. (2000), as PyThaiNLP writes them
# (pythainlp/tokenize/tcc.py, Apache-2.0): c consonant, t tone mark, k karan tail.
_TCC_RULES = """
c[ั]([่-๋]c)?
c[ั]([่-๋]c)?k
เc็ck
เcctาะk
เccีtยะk
เccีtย(?=[เ-ไก-ฮ]|$)k
เc[ิีุู]tย(?=[เ-ไก-ฮ]|$)k
เcc็ck
เcิc์ck
เcิtck
เcีtยะ?k
เcืtอะk
เcื
เctา?ะ?k
c[ึื]tck
c[ะ-ู]tk
c[ิุู]์
cรรc์
c็
ct[ะาำ]?k
แc็ck
แcc์k
แctะk
แcc็ck
แccc์k
โctะk
[เ-ไ]ctk
ก็
อึ
หึ
"""
_TCC = re.compile(
    "|".join(
        rule.replace("k", "(cc?[ุูิ]?[์])?").replace("c", "[ก-ฮ]").replace("t", "[่-๋]?")
        for rule in _TCC_RULES.split()
    )
)


def thai_cluster_boundaries(text: str) -> set[int]:
    """Every offset of `text` where a Thai Character Cluster (or any other character) ends."""
    boundaries = {0}
    position = 0
    while position < len(text):
        found = _TCC.match(text, position)
        position = found.end() if found and found.end() > position else position + 1
        boundaries.add(position)
    return boundaries


def thai_clusters(text: str) -> list[str]:
    """`text` cut into Thai Character Clusters (other characters one by one)."""
    edges = sorted(thai_cluster_boundaries(text))
    return [text[a:b] for a, b in zip(edges, edges[1:], strict=False)]


# --- Burmese syllables ---------------------------------------------------------------


def myanmar_syllable_boundary(text: str, index: int) -> bool:
    """True when a Burmese syllable (or a run of other text) starts or ends at `index`."""
    if index <= 0 or index >= len(text):
        return True
    char, before = text[index], text[index - 1]
    if not is_myanmar(char) or not is_myanmar(before):
        return True
    if char in _MYANMAR_PUNCTUATION or before in _MYANMAR_PUNCTUATION:
        return True
    if char not in _MYANMAR_SYLLABLE_START or before == _VIRAMA:
        return False  # a vowel sign or medial, or a consonant stacked under the one before
    after = text[index + 1 : index + 3]
    # A consonant killed by asat (or stacked with virama) closes the syllable
    # before it; NFC puts a dot below ahead of the asat (ည့်).
    return not (after[:1] in (_ASAT, _VIRAMA) or after == _DOT_BELOW + _ASAT)


def myanmar_space_is_optional(before: str, after: str) -> bool:
    """True when a space between `before` and `after` only separates two Burmese syllables.

    Burmese writers put a space between some syllables and words and not others
    (အွန်လိုင်း လောင်းကစား and အွန်လိုင်းလောင်းကစား are one phrase), so matching
    reads such a space as nothing. `before` is the character before the space,
    `after` at least the three after it. Only where `after` starts a new syllable
    (a consonant neither killed by asat nor stacked) and `before` is a Burmese
    letter or sign (not ၊, ။, a digit or a virama): there, removing the space keeps
    every syllable boundary of the text as it was and the join is a boundary too,
    so a term still cannot end inside a syllable. `MYANMAR_OPTIONAL_SPACE` finds
    such spaces in a text.
    """
    return _BEFORE_OPTIONAL_SPACE.fullmatch(before) is not None and (
        _AFTER_OPTIONAL_SPACE.match(after) is not None
    )


def myanmar_space_free_pieces(text: str) -> list[str]:
    """`text` cut wherever a space could stand without changing what a term matches.

    The pieces a Burmese term must find in a text, in order, with or without spaces
    between them (`myanmar_space_is_optional`): လောင်းကစား gives လောင်း, က, စား.
    """
    cuts = [
        index
        for index in range(1, len(text))
        if myanmar_space_is_optional(text[index - 1], text[index : index + 3])
    ]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if text[a:b]]


def myanmar_syllables(text: str) -> list[str]:
    """`text` cut at Burmese syllable boundaries (other characters one by one)."""
    edges = [i for i in range(len(text) + 1) if myanmar_syllable_boundary(text, i)]
    return [text[a:b] for a, b in zip(edges, edges[1:], strict=False) if text[a:b]]


# --- safe places to cut text -----------------------------------------------------------

_ZWJ = "\u200d"


def safe_cut(text: str, index: int, *, forward: bool) -> int:
    """The nearest offset to `index` (moving forward or back) that cuts no cluster or syllable."""
    index = max(0, min(index, len(text)))
    if 0 < index < len(text) and (is_thai(text[index]) or is_thai(text[index - 1])):
        return _thai_safe_cut(text, index, forward=forward)
    step = 1 if forward else -1
    for _ in range(32):
        if _cuttable(text, index):
            return index
        index += step
    return max(0, min(index, len(text)))


def _cuttable(text: str, index: int) -> bool:
    if index <= 0 or index >= len(text):
        return True
    char, before = text[index], text[index - 1]
    if is_myanmar(char) or is_myanmar(before):
        return myanmar_syllable_boundary(text, index)
    if before == _ZWJ or char == _ZWJ:
        return False
    category = unicodedata.category(char)
    # Marks, variation selectors and emoji skin tones belong to the character before.
    return not (category.startswith("M") or "\U0001f3fb" <= char <= "\U0001f3ff")


def _thai_safe_cut(text: str, index: int, *, forward: bool) -> int:
    # Clusters are a few characters long and the rules find their way back into
    # step within one or two of them, so a short stretch on each side is enough.
    start = index
    while start > 0 and index - start < 24 and is_thai(text[start - 1]):
        start -= 1
    end = min(len(text), index + 16)
    boundaries = sorted(start + b for b in thai_cluster_boundaries(text[start:end]))
    if forward:
        return next((b for b in boundaries if b >= index), end)
    return next((b for b in reversed(boundaries) if b <= index), start)


# --- Thai words ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def thai_dictionary() -> frozenset[str]:
    """PyThaiNLP's Thai word list (about 62 000 words)."""
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


@lru_cache(maxsize=1)
def _nlpo3_dictionary() -> str:
    """Load the word list into nlpo3 once per process; return its name there."""
    import nlpo3

    name = "adwatch-thai"
    # nlpo3 reads a word list from a file and keeps it in memory (about 47 MB),
    # so the file lives only as long as the load.
    handle, path = tempfile.mkstemp(prefix="adwatch-thai-", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(sorted(thai_dictionary())))
        message, ok = nlpo3.load_dict(path, name)
        if not ok and "already exists" not in message:
            raise RuntimeError(f"nlpo3 could not load the Thai word list: {message!r}")
    finally:
        os.unlink(path)
    return name


def load_thai_dictionary() -> None:
    """Read the word list now (about 170 ms), as the scan's forkserver does once for every
    worker it forks (adwatch.text.preload), instead of at each worker's first Thai page."""
    _nlpo3_dictionary()


def thai_words(text: str) -> list[str]:
    """`text` cut into dictionary words (newmm); the pieces join back into `text`."""
    import nlpo3

    tokens: list[str] = nlpo3.segment(text, _nlpo3_dictionary())
    if "".join(tokens) != text:  # never seen; clusters keep us safe if it happens
        return thai_clusters(text)
    return tokens


def thai_spans_ok(
    window: str, spans: Sequence[tuple[int, int]], *, breaks: Collection[int] = ()
) -> list[bool]:
    """For each span of `window`: does it start and end on a Thai word boundary?

    An edge is a boundary where the dictionary segmenter cuts `window`. Where it
    does not, the edge must at least fall between two character clusters, and:
    - inside text the dictionary does not know (a loanword such as ดีพเฟค), that is enough;
    - a span shorter than MIN_THAI_INNER_TERM (ตา, ยา) must be cut out exactly;
    - a span inside one dictionary word matches only when the rest of that word
      is made of dictionary words too (พนัน in การพนัน, never ตา in ตาราง), and
      the word is not one whose parts mean something else (ไลน์ never matches in
      ออนไลน์, โฆษณา never in โฆษณาชวนเชื่อ: see THAI_WHOLE_WORDS);
    - a span that runs across the segmenter's words is another reading of the same
      letters; it wins when it needs at most one word more than the segmenter's
      reading of the words it touches (maximal matching, with one word of slack
      because the dictionary does not hold the term): ติ๊กต็อก|ร้องเรียน (2) beats
      ติ๊ก|ต็อ|กร้อ|ง|เรียน (5), เล่น|การ|พนันออนไลน์ (3) is close enough to
      เล่นการพนัน|ออนไลน์ (2), but อยู่|ดีอี|กค|รั้ง (4) loses to อยู่ดี|อีกครั้ง (2).

    `breaks` are offsets that are boundaries whatever the dictionary says (where
    a line break was).
    """
    tokens = thai_words(window)
    edges = [0]
    for token in tokens:
        edges.append(edges[-1] + len(token))
    cuts = set(edges) | set(breaks)
    clusters: set[int] | None = None
    results = []
    for start, end in spans:
        ok = True
        for edge in (start, end):
            if edge in cuts:
                continue
            if clusters is None:
                clusters = thai_cluster_boundaries(window)
            if edge not in clusters or not _inner_edge_ok(window, edges, edge, start, end):
                ok = False
                break
        results.append(ok)
    return results


def _term_reading_no_worse(window: str, edges: list[int], start: int, end: int) -> bool:
    """Is reading [start, end) as one word at least as good as the segmenter's reading?

    Over the segmenter's words that the span touches, the reading with the span
    as a word must need no more words than the segmenter's (maximal matching,
    the principle of the segmenter itself; a tie goes to the term).
    """
    first = bisect_right(edges, start) - 1
    last = bisect_right(edges, end - 1) - 1
    region_start, region_end = edges[first], edges[last + 1]
    before = window[region_start:start]
    after = window[end:region_end]
    term_reading = 1 + (len(thai_words(before)) if before else 0)
    term_reading += len(thai_words(after)) if after else 0
    # One word of slack: the segmenter's dictionary does not hold the term, so its
    # own reading is slightly favoured (เล่น|การ|พนันออนไลน์ against
    # เล่นการพนัน|ออนไลน์ must still match).
    return term_reading <= last - first + 2


def _inner_edge_ok(window: str, edges: list[int], edge: int, start: int, end: int) -> bool:
    """May the edge of span [start, end) fall inside the segmenter's word that covers it?"""
    i = bisect_right(edges, edge) - 1
    token_start, token_end = edges[i], edges[i + 1]
    words = thai_dictionary()
    if window[token_start:token_end] not in words:
        return True  # text the dictionary does not know: cluster boundaries decide
    if end - start < MIN_THAI_INNER_TERM:
        return False
    if start < token_start or token_end < end:
        return _term_reading_no_worse(window, edges, start, end)
    if window[token_start:token_end] in THAI_WHOLE_WORDS:
        return False
    rest = window[token_start:edge] if edge == start else window[edge:token_end]
    return all(piece in words for piece in thai_words(rest))
