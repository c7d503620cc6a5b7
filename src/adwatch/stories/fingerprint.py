"""MinHash signatures that find syndicated copies in Thai and Burmese as well as in
Latin scripts.

Word shingles need word boundaries, which Thai and Burmese do not write; trafilatura's
Simhash drops every Thai and Burmese token (`str.isalnum()` is false on their combining
marks). So the text is reduced to its letters, marks and digits (case folded, no spaces
or punctuation) and cut into overlapping 5-character shingles; 128 hash functions keep
each one's smallest value. The share of equal values between two signatures estimates
the Jaccard similarity of the two shingle sets: near 1 for a copy with other
boilerplate, low for a rewrite, near 0 for another story.
"""

from __future__ import annotations

import unicodedata
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Signature = npt.NDArray[np.uint32]

SHINGLE = 5
HASHES = 128
BANDS = 32  # for candidate search: two texts sharing one band of 4 values are compared
_PRIME = (1 << 31) - 1  # a * x + b stays below 2**63 for x, a, b below it


def _parameters() -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    generator = np.random.default_rng(20261205)  # fixed: signatures are stored
    a = generator.integers(1, _PRIME, HASHES, dtype=np.uint64)
    b = generator.integers(0, _PRIME, HASHES, dtype=np.uint64)
    return a, b


_A_B: tuple[np.ndarray, np.ndarray] | None = None


def reduced(text: str) -> str:
    """Letters, marks and digits only, case folded: what shingles are cut from."""
    kept = (
        char
        for char in unicodedata.normalize("NFC", text).casefold()
        if unicodedata.category(char)[0] in "LMN"
    )
    return "".join(kept)


def shingle_hashes(text: str) -> list[int]:
    """CRC-32 of every distinct 5-character shingle (stable across runs and machines)."""
    letters = reduced(text)
    if len(letters) <= SHINGLE:
        return [zlib.crc32(letters.encode())] if letters else []
    shingles = {letters[i : i + SHINGLE] for i in range(len(letters) - SHINGLE + 1)}
    return [zlib.crc32(shingle.encode()) for shingle in shingles]


def signature(text: str) -> Signature:
    """The 128 minimum hash values of the text's shingles (all 0xFFFFFFFF if it has none)."""
    import numpy as np

    global _A_B
    if _A_B is None:
        _A_B = _parameters()
    a, b = _A_B
    hashes = np.array(shingle_hashes(text), dtype=np.uint64) % _PRIME
    if hashes.size == 0:
        return np.full(HASHES, 0xFFFFFFFF, dtype=np.uint32)
    values = (np.outer(hashes, a) + b) % _PRIME
    return values.min(axis=0).astype(np.uint32)  # type: ignore[no-any-return]


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float((first == second).mean())


def band_keys(sig: Signature) -> list[int]:
    """One key per band of 4 values: texts sharing a key are candidates (LSH)."""
    rows = HASHES // BANDS
    return [zlib.crc32(sig[i * rows : (i + 1) * rows].tobytes()) ^ (i << 24) for i in range(BANDS)]
