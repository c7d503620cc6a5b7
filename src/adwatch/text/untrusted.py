"""Untrusted text from the web made safe to store, print, export and render.

Feed titles and page text can carry terminal escapes (`ESC]0;…BEL` retitles the
terminal, `ESC[2J` clears it), other control characters, and bidi overrides that
make a line read differently from what it holds. `strip_unsafe` removes them; it
runs where text enters the store and where stored text leaves it (exports), so a
store written by an older adwatch is safe to read too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# C0 controls but tab and newline (CR is kept out: it rewrites a terminal line),
# DEL, C1 controls, and the bidi embeddings, overrides, isolates and marks. Zero-width
# joiners and non-joiners stay: Burmese and other scripts need them.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def strip_unsafe(text: str) -> str:
    """`text` without control characters (tab and newline kept) and bidi controls."""
    if not UNSAFE_CHARACTERS.search(text):
        return text
    # A carriage return ends a line in text from Windows sites: keep the break.
    return UNSAFE_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def terminal_line(value: object) -> str:
    """`value` as one line safe to show in a terminal: unsafe characters removed, tabs and
    line breaks as spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return strip_unsafe(text)


def safe_value(value: object) -> object:
    """`value` with `strip_unsafe` applied to every string in it (dicts, lists, tuples)."""
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, dict):
        return {key: safe_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(item) for item in value]
    return value


def safe_row(row: Sequence[object]) -> Sequence[object]:
    """An export row with unsafe characters stripped; the same row when it has none."""
    if any(isinstance(v, str) and UNSAFE_CHARACTERS.search(v) for v in row):
        return [strip_unsafe(v) if isinstance(v, str) else v for v in row]
    return row
