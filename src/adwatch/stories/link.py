"""The rules by which two articles report the same incident (adwatch.stories.index
applies them to many at once).

Two signals, in order. A near-duplicate (MinHash similarity at or above NEAR_DUPLICATE)
is a syndicated copy whatever the vectors say. Otherwise the leads' vectors, each centred
on its language's mean of ordinary news: a rewrite in the same language needs
SAME_LANGUAGE, a report in another language CROSS_LANGUAGE (cosines across languages run
lower). Either way, two articles that state numbers but share none are two incidents
(two scam-ad arrests in one week), and articles further apart than the window are never
compared. A new article joins the story of the earlier article it matches best: a
near-duplicate before any match by meaning, then the higher score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Tuned on benchmarks/data/stories-dev.jsonl (benchmarks/stories.py). A near-duplicate
# at 0.25: trimmed and re-titled copies keep a quarter of their shingles at least, and
# a look-alike that shares that much wording is kept apart by its numbers.
NEAR_DUPLICATE = 0.25
SAME_LANGUAGE = 0.65
CROSS_LANGUAGE = 0.45
WINDOW = timedelta(hours=96)


@dataclass(frozen=True)
class StoryArticle:
    """What linking needs of an article."""

    key: int  # the article's id
    language: str | None
    published: datetime
    signature: npt.NDArray[np.uint32]
    vector: npt.NDArray[np.float32] | None  # centred, unit length; None when not embedded
    numbers: frozenset[int]
