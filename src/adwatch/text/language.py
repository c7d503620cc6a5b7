"""Detect an article's language: th, my, vi or en (design section 5).

The script decides first: an article whose letters are mostly Thai is ``th`` and mostly
Myanmar is ``my``, English brand names inside notwithstanding.  For Latin script, vi vs
en: Vietnamese letters (ă â đ ê ô ơ ư and the tone-marked vowels) and, for Vietnamese
typed without diacritics, a list of very common Vietnamese syllables against a list of
English function words; langdetect (seeded, restricted to en/vi) decides what that
evidence leaves open.  ``benchmarks/language_id.py`` measures the choice; the numbers
are in ``docs/text-normalisation.md``.

The feed's language (``hint``) only breaks ties and decides very short text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "detect_language",
    "langdetect_probabilities",
    "latin_language",
    "script_of",
    "vietnamese_evidence",
]

# A longer sample changes no verdict on the labelled set and costs langdetect time.
_SAMPLE_CHARS = 3000
# Words of evidence enough for a verdict: the first 100 give the verdict of the whole
# sample on every text we have (the labelled lines, the four accuracy sets, the test and
# demo pages, 200 benchmark pages), and a 3 000-character page holds about 400.
_EVIDENCE_WORDS = 100
# Fewer Latin words than this and the hint, if any, decides.
_SHORT_TEXT_WORDS = 3

_THAI_LETTERS = "\u0e01-\u0e3a\u0e40-\u0e4e"  # without the baht sign, digits, marks
_MYANMAR_LETTERS = "\u1000-\u103f\u1050-\u108f\u109a-\u109f\ua9e0-\ua9ef\ua9fa-\ua9fe\uaa60-\uaa7f"
_LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\u0300-\u036f"
# Runs of letters, not single letters: the count is the same (the runs' lengths) and
# findall builds a few dozen strings instead of one per letter of the sample.
_SCRIPT_LETTERS = {
    "thai": re.compile(f"[{_THAI_LETTERS}]+"),
    "myanmar": re.compile(f"[{_MYANMAR_LETTERS}]+"),
    "latin": re.compile(f"[{_LATIN_LETTERS}]+"),
    "other": re.compile(f"(?:(?![{_THAI_LETTERS}{_MYANMAR_LETTERS}{_LATIN_LETTERS}])[^\\W\\d_])+"),
}

# Letters only Vietnamese uses among en/vi: breve, circumflex, horn, stroke d, and the
# hook above and dot below tones (after NFD, as marks).
_VIETNAMESE_MARKS = re.compile("[\u0306\u0302\u031b\u0309\u0323\u0303]|[đĐ]")

# Very common Vietnamese syllables written without diacritics (function words and news
# vocabulary), leaving out those that are also English words (to, an, do, me, ban, can,
# hay, den, long, man, song, pho, ten, tin, van, the) and those common in the Vietnamese
# names that English news prints (Ho Chi Minh, Viet Nam, Nguyen, Tran, Dong Nai, Nha
# Trang, Ha Noi, Da Nang).
_VIETNAMESE_SYLLABLES = frozenset(
    """
    cua va cac la duoc trong cho khong nguoi nhung voi mot nay khi ngay theo tu tai ve
    lam nhieu se dang nhu thi bi tren sau cung hon nhat phai viec nha nuoc cong dan
    chinh phu xa hoi tinh moi hien tien cao gia dau quoc lai rat vao nen neu vi su
    thong di biet len truoc ong chung toi gi nao sao bao nhieu roi deu het giua qua
    ngoai duoi thang tuan gio phut hoc sinh truong benh vien kinh te xe duong cuoc thao
    bong khach chu
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the of and to in is for on with that by at from as are was were be has have it its
    this will over after about says said new into than more who which their they or
    not but been had would could after before against amid says after warns
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+")
# Onset, vowels, coda of a Vietnamese syllable written without diacritics.
_VIETNAMESE_ONLY_SHAPE = re.compile(
    "(?:(?:ngh|ng|nh|kh|ph|x)[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
    "|(?:ch|gh|gi|qu|th|tr|[bcdghklmnpqrstv])?[aeiouy]{1,3}nh"
    "|(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?(?:uo|ieu)[iy]?(?:ng|[cmnpt])?)"
)
_VIETNAMESE_SYLLABLE_SHAPE = re.compile(
    "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)


def script_of(text: str) -> str:
    """Returns the script most letters of ``text`` are in.

    "thai", "myanmar", "latin", "other", or "none" when there are no letters.  Thai and
    Myanmar vowel signs (and Vietnamese tone marks typed as combining marks) count as
    letters of their script; digits and punctuation count for nothing.
    """
    counts = {
        script: sum(map(len, pattern.findall(text))) for script, pattern in _SCRIPT_LETTERS.items()
    }
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count else "none"


def detect_language(
    text: str,
    *,
    title: str = "",
    hint: str | None = None,
    candidates: Sequence[str] = ("en", "th", "vi", "my"),
) -> str | None:
    """Returns the language code of an article among ``candidates``, or None.

    None when the text has no letters, its script is none of the candidates' (Chinese,
    say), or it is Latin and neither en nor vi is a candidate.
    """
    sample = _sample(text, title)
    script = script_of(sample)
    if script == "thai":
        return "th" if "th" in candidates else None
    if script == "myanmar":
        return "my" if "my" in candidates else None
    if script != "latin":
        return None
    # Decomposed Vietnamese (NFD pages, windows-1258) must read as Vietnamese too. Only
    # Latin text needs it, and NFC costs as much as the rest on 3 000 Burmese characters.
    sample = unicodedata.normalize("NFC", sample)
    latin = [code for code in ("vi", "en") if code in candidates]
    if len(latin) < 2:
        return latin[0] if latin else None
    hinted = hint if hint in latin else None
    if hinted and len(_WORD.findall(sample)) < _SHORT_TEXT_WORDS:
        return hinted
    verdict, sure = latin_language(sample)
    return verdict if sure or hinted is None else hinted


def _sample(text: str, title: str) -> str:
    """Title and the start of the text (once: the pipeline puts the title in the text)."""
    text = text[:_SAMPLE_CHARS]
    if title and not text.startswith(title.strip()):
        text = f"{title}\n{text}"
    return text


def latin_language(
    sample: str,
    *,
    model: Callable[[str], dict[str, float]] | None = None,
) -> tuple[str, bool]:
    """Returns ("vi" or "en", whether the verdict is firm) for Latin-script text.

    ``model`` gives en/vi probabilities where the word evidence is not clear (langdetect
    by default; the benchmark swaps in lingua).
    """
    vietnamese, english = vietnamese_evidence(sample)
    if vietnamese + english >= 2 and vietnamese >= 2 * english:
        return "vi", True
    if vietnamese + english >= 2 and english >= 2 * vietnamese:
        return "en", True
    probabilities = (model or langdetect_probabilities)(sample)
    vi, en = probabilities.get("vi", 0.0), probabilities.get("en", 0.0)
    if vietnamese != english:
        # Some evidence one way, and langdetect not firmly the other way.
        lean = "vi" if vietnamese > english else "en"
        if abs(vi - en) < 0.9 or (vi > en) == (lean == "vi"):
            return lean, False
    return ("vi" if vi > en else "en"), abs(vi - en) > 0.5


def vietnamese_evidence(sample: str) -> tuple[int, int]:
    """(words that look Vietnamese, words that look English) in ``sample``.

    Vietnamese: a word with Vietnamese letters, a common Vietnamese syllable, or one
    spelled as only Vietnamese spells (onset ng, nh, kh, ph or x, final nh, vowels uo or
    ieu: nguoi, khong, phat, xu, thanh, duoc, nhieu).
    English: an English function word, or a lower-case word no Vietnamese syllable can
    spell (Vietnamese has no f, j, w or z, no final s, and few consonant clusters).
    Capitalised words other than a line's first are names: they count for neither.
    Counting stops at ``_EVIDENCE_WORDS`` words of evidence.
    """
    vietnamese = english = 0
    for line in sample.splitlines():
        for index, word in enumerate(_WORD.findall(line)):
            if index and word[0].isupper():
                continue
            verdict = _word_evidence(word.lower())
            if verdict > 0:
                vietnamese += 1
            elif verdict < 0:
                english += 1
            if vietnamese + english >= _EVIDENCE_WORDS:
                return vietnamese, english
    return vietnamese, english


# News text repeats its words: the verdict on a word is worked out once per worker.
@functools.lru_cache(maxsize=8192)
def _word_evidence(word: str) -> int:
    """1 when a lower-cased word looks Vietnamese, -1 when it looks English, 0 for neither."""
    if word.isascii():
        plain = word  # no Vietnamese letter, nothing to decompose
    else:
        decomposed = unicodedata.normalize("NFD", word)
        if _VIETNAMESE_MARKS.search(decomposed):
            return 1
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    if plain in _VIETNAMESE_SYLLABLES or _VIETNAMESE_ONLY_SHAPE.fullmatch(plain):
        return 1
    if plain in _ENGLISH_WORDS or not _VIETNAMESE_SYLLABLE_SHAPE.fullmatch(plain):
        return -1
    return 0


def langdetect_probabilities(sample: str) -> dict[str, float]:
    """langdetect's en and vi probabilities, seeded so that a text always gets the same."""
    from langdetect.lang_detect_exception import (
        LangDetectException,
    )

    detector = _langdetect_factory().create()
    detector.append(sample)
    try:
        return {result.lang: result.prob for result in detector.get_probabilities()}
    except LangDetectException:  # no features in the text
        return {}


@functools.cache
def _langdetect_factory() -> Any:
    """A langdetect factory with only the en and vi profiles.

    Loading two profiles takes about 15 ms, all 55 about 450 ms; and a detector that
    knows only en and vi is the restriction we want anyway.
    """
    from langdetect.detector_factory import (
        PROFILES_DIRECTORY,
        DetectorFactory,
    )

    factory = DetectorFactory()
    factory.seed = 0
    profiles = [
        (Path(PROFILES_DIRECTORY) / code).read_text(encoding="utf-8") for code in ("en", "vi")
    ]
    factory.load_json_profile(profiles)
    return factory
