"""Which earlier article a new one reports the same incident as, if any.

Two signals, in order. A near-duplicate (MinHash similarity at or above NEAR_DUPLICATE)
is a syndicated copy whatever the vectors say. Otherwise the leads' vectors, each centred
on its language's mean of ordinary news: a rewrite in the same language needs
SAME_LANGUAGE, a report in another language CROSS_LANGUAGE (cosines across languages run
lower). Either way, two articles that state numbers but share none are two incidents
(two scam-ad arrests in one week), and articles further apart than the window are never
compared. A new article joins the story of the earlier article it matches best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adwatch.stories.facts import conflict
from adwatch.stories.fingerprint import similarity

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

NEAR_DUPLICATE = 0.5
# Tuned on benchmarks/data/stories-dev.jsonl (benchmarks/stories.py).
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


@dataclass(frozen=True)
class Link:
    """Why a new article joins an earlier one's story."""

    other: int  # the earlier article's key
    by: str  # "near-duplicate" or "meaning"
    score: float


def best_link(
    article: StoryArticle, earlier: Sequence[StoryArticle], *, window: timedelta = WINDOW
) -> Link | None:
    """The earlier article (within the window) that `article` reports the same incident as."""
    best: Link | None = None
    for other in earlier:
        if abs(article.published - other.published) > window:
            continue
        if conflict(article.numbers, other.numbers):
            continue
        link = _link(article, other)
        if link is not None and (best is None or _rank(link) > _rank(best)):
            best = link
    return best


def _link(article: StoryArticle, other: StoryArticle) -> Link | None:
    near = similarity(article.signature, other.signature)
    if near >= NEAR_DUPLICATE:
        return Link(other.key, "near-duplicate", near)
    if article.vector is None or other.vector is None:
        return None
    cosine = float(article.vector @ other.vector)
    needed = SAME_LANGUAGE if article.language == other.language else CROSS_LANGUAGE
    return Link(other.key, "meaning", cosine) if cosine >= needed else None


def _rank(link: Link) -> tuple[int, float]:
    return (link.by == "near-duplicate", link.score)


def assign(articles: Sequence[StoryArticle], *, window: timedelta = WINDOW) -> dict[int, int]:
    """Story of every article, in order of publication: key -> the key of the story's
    first article. What a scan does one article at a time, for a batch (restory)."""
    story: dict[int, int] = {}
    seen: list[StoryArticle] = []
    for article in sorted(articles, key=lambda a: (a.published, a.key)):
        link = best_link(article, seen, window=window)
        story[article.key] = story[link.other] if link else article.key
        seen.append(article)
    return story
