"""The numbers an article states: two reports of one incident share some of them.

Digits of every script are read (Thai ๔๘ and Burmese ၄၈ are 48), numbers are cut at
separators (so 1.2 and 1,2 give the same parts whatever the language's decimal mark),
and years are left out (a Thai report writes 2568 where an English one writes 2025). A
number below 10 says too little (five people, two platforms) and is left out too.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = re.compile(r"\d+")


# Thai and Myanmar digits (and Myanmar Shan digits) as ASCII, by str.translate.
_DIGITS_TABLE = {
    ord(char): str(unicodedata.digit(char))
    for start in (0x0E50, 0x1040, 0x1090)
    for char in map(chr, range(start, start + 10))
}


def _ascii_digits(text: str) -> str:
    return text.translate(_DIGITS_TABLE)


def _is_year(value: int) -> bool:
    return 1900 <= value <= 2100 or 2440 <= value <= 2650  # Common Era or Buddhist Era


def numbers(text: str) -> frozenset[int]:
    """The numbers of 10 or more the text states, years left out."""
    found = set()
    for match in _DIGITS.finditer(_ascii_digits(text)):
        value = int(match.group())
        if value >= 10 and not _is_year(value):
            found.add(value)
    return frozenset(found)


def conflict(first: frozenset[int], second: frozenset[int]) -> bool:
    """Whether two articles that both state numbers share none: two incidents.

    One number each is enough: on stories-dev, requiring two let look-alikes join
    (same-language precision 0.58 against 0.82) and lost no true pair."""
    return bool(first) and bool(second) and not first & second
