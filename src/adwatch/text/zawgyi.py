"""Burmese in the Zawgyi font encoding: detected line by line and converted to Unicode.

Much Burmese on the web is still typed in Zawgyi, which reuses Unicode's Myanmar code
points for other letters. myanmartools' detector decides, ICU's `Zawgyi-my` transform
converts (63 of 63 real lines exact, against 32 for python-myanmar: docs/text-normalisation.md).
"""

from __future__ import annotations

import functools
import math
import unicodedata
import warnings
from typing import Any

from adwatch.text.scripts import MYANMAR_CHAR

ZAWGYI_THRESHOLD = 0.95
UNICODE_THRESHOLD = 0.05


@functools.cache
def _zawgyi_detector() -> Any:
    from myanmartools import ZawgyiDetector

    with warnings.catch_warnings():
        # myanmartools 1.2 loads its model with importlib.resources.open_binary.
        warnings.simplefilter("ignore", DeprecationWarning)
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

    Decided line by line, since a page may mix Unicode and Zawgyi paragraphs: a line
    above ``ZAWGYI_THRESHOLD`` is converted, one below ``UNICODE_THRESHOLD`` is kept, and
    a line in between (short lines often are: "ကမ႓ာ" scores 0.28) follows the nearest
    decided line before it, else after it, else is kept.
    """
    if not MYANMAR_CHAR.search(text):
        return text, False
    lines = text.splitlines(keepends=True)
    is_zawgyi = _decide_lines([_zawgyi_verdict(line) for line in lines])
    if not any(is_zawgyi):
        return text, False
    converter = _zawgyi_converter()
    fixed = [
        unicodedata.normalize("NFC", converter.transliterate(line)) if zawgyi else line
        for line, zawgyi in zip(lines, is_zawgyi, strict=True)
    ]
    return "".join(fixed), True


_UNSURE = "unsure"


# Characters of a line the detector reads first, from its first Burmese letter. The
# detector is pure Python, about 2 µs a character (a Burmese page of 380-character
# paragraphs: 2.6 ms of a scan's worker CPU); a paragraph is typed in one encoding, and
# its head decides it: on 590 real Zawgyi and Unicode lines (a government notice and
# the UDHR in both encodings, also joined into whole-text lines) a window of 60, 100 or
# 150 characters gave every line the whole line's verdict. A window that cannot decide
# sends the whole line to the detector.
DETECTION_WINDOW = 150


def _zawgyi_verdict(line: str) -> bool | str | None:
    """True for Zawgyi, False for Unicode, _UNSURE in between, None without Burmese."""
    first = MYANMAR_CHAR.search(line)
    if not first:
        return None
    if len(line) - first.start() > DETECTION_WINDOW:
        head = zawgyi_probability(line[first.start() : first.start() + DETECTION_WINDOW])
        if head > ZAWGYI_THRESHOLD:
            return True
        if head < UNICODE_THRESHOLD:
            return False
    probability = zawgyi_probability(line)
    if probability > ZAWGYI_THRESHOLD:
        return True
    if probability < UNICODE_THRESHOLD:
        return False
    return _UNSURE


def _decide_lines(verdicts: list[bool | str | None]) -> list[bool]:
    """Unsure lines take the nearest decided Burmese line's verdict, before first, then after."""
    before: list[bool | None] = []
    last: bool | None = None
    for verdict in verdicts:
        if isinstance(verdict, bool):
            last = verdict
        before.append(last)
    after: list[bool | None] = []
    following: bool | None = None
    for verdict in reversed(verdicts):
        if isinstance(verdict, bool):
            following = verdict
        after.append(following)
    after.reverse()
    decided = []
    for verdict, previous, next_ in zip(verdicts, before, after, strict=True):
        if verdict == _UNSURE:
            verdict = previous if previous is not None else bool(next_)
        decided.append(verdict is True)
    return decided
