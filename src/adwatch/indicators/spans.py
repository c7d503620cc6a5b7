"""Which parts of a text an earlier finder has already claimed."""

from __future__ import annotations

import bisect
from collections.abc import Iterable


class Spans:
    """A set of half-open [start, end) spans, merged, asked about overlaps in log time.

    A long text can hold thousands of URLs and thousands of numbers: comparing every
    pair would make the whole extraction quadratic.
    """

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def overlaps(self, start: int, end: int) -> bool:
        """Whether [start, end) shares a character with a span of the set."""
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start
