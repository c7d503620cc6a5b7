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

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Signature = npt.NDArray[np.uint32]

SHINGLE = 5
HASHES = 128


def _parameters() -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    generator = np.random.default_rng(20261205)  # fixed: signatures are stored
    a = generator.integers(0, 2**63, HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = generator.integers(0, 2**63, HASHES, dtype=np.uint64)
    return a, b  # a odd, as multiply-shift hashing needs


_A_B: tuple[np.ndarray, np.ndarray] | None = None


# Everything but word characters goes, except that Thai and Myanmar marks stay (Python's
# \w leaves out combining marks, which those scripts are full of).
_DROPPED = re.compile(r"[^\w\u0E00-\u0E7F\u1000-\u109F\uA9E0-\uA9FF\uAA60-\uAA7F]|_")


def reduced(text: str) -> str:
    """Letters, marks and digits only, case folded: what shingles are cut from."""
    return _DROPPED.sub("", unicodedata.normalize("NFC", text).casefold())


# A syndicated copy is recognised by its first thousands of characters as well as by all
# of them (copies differ at the end: trimmed, a "Read more" line), and a long page then
# costs what a short one does.
MAX_LETTERS = 3000


def shingle_hashes(text: str) -> npt.NDArray[np.uint64]:
    """A hash of every distinct 5-character shingle of the text's first MAX_LETTERS
    letters: a polynomial over the code points, computed for all shingles at once
    (stable across runs and machines, unlike Python's own hash of a string)."""
    import numpy as np

    letters = reduced(text[: 2 * MAX_LETTERS])[:MAX_LETTERS]  # spaces and marks go
    points = np.frombuffer(letters.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if points.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if points.size < SHINGLE:
        points = np.concatenate([points, np.zeros(SHINGLE - points.size, dtype=np.uint64)])
    count = points.size - SHINGLE + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):  # wraps around 2**64 on purpose: a hash, not a sum
        hashes = hashes * np.uint64(1_000_003) + points[offset : offset + count]
    return np.unique(hashes)


def signature(text: str) -> Signature:
    """The 128 minimum hash values of the text's shingles (all 0xFFFFFFFF if it has none)."""
    import numpy as np

    global _A_B
    if _A_B is None:
        _A_B = _parameters()
    a, b = _A_B
    hashes = shingle_hashes(text)
    if hashes.size == 0:
        return np.full(HASHES, 0xFFFFFFFF, dtype=np.uint32)
    # Multiply-shift hashing: a * x + b wraps around 2**64 and its high 32 bits are the
    # hash; no division. A block of shingles at a time, in one reused buffer: all 3 000
    # shingles of a page at once make a 3 MB array, and the page cost 1.9 ms, not 0.6.
    lowest = np.full(HASHES, np.iinfo(np.uint64).max, dtype=np.uint64)
    buffer = np.empty((_BLOCK, HASHES), dtype=np.uint64)
    for start in range(0, hashes.size, _BLOCK):
        block = hashes[start : start + _BLOCK]
        values = buffer[: block.size]
        np.multiply.outer(block, a, out=values)
        values += b
        values >>= np.uint64(32)
        np.minimum(lowest, values.min(axis=0), out=lowest)
    return lowest.astype(np.uint32)


_BLOCK = 256  # shingles a block: 256 KB of values, which stays in the CPU's cache


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float((first == second).mean())
