"""Bytes as legacy Vietnamese sites write them, for fixtures."""

from __future__ import annotations

import unicodedata

# Windows-1258 keeps Vietnamese tone marks as separate combining characters.
VIETNAMESE_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Vietnamese text as a Windows-1258 encoder writes it: base letters precomposed
    (â, ơ, ư …), tone marks as combining characters after them."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        base = "".join(c for c in parts if c not in VIETNAMESE_TONES)
        tones = "".join(c for c in parts if c in VIETNAMESE_TONES)
        out.append(unicodedata.normalize("NFC", base) + tones)
    return "".join(out).encode("cp1258")
