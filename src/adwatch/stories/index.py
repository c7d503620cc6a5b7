"""The articles a new one may join, held as arrays so that one comparison covers them all.

A scan keeps one index: the stored articles of the last weeks (read once) and those it
adds. Matching a new article against a few thousand costs one array comparison of the
signatures and one matrix product of the vectors, then the rules of `link` on the few
that pass a threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adwatch.models import StoryCandidate
from adwatch.stories.facts import conflict
from adwatch.stories.link import (
    CROSS_LANGUAGE,
    NEAR_DUPLICATE,
    SAME_LANGUAGE,
    WINDOW,
    StoryArticle,
)
from adwatch.text.dates import parse_timestamp

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def story_article(
    candidate: StoryCandidate, means: Mapping[str, npt.NDArray[np.float32]] | None, model: str
) -> StoryArticle:
    """A stored article as linking compares it; its vector centred on its language's mean
    (no vector when it has none, or one of another model, or no means are known)."""
    import numpy as np

    from adwatch.semantic.score import background_key, centred
    from adwatch.semantic.stage import vector_from

    vector = None
    if candidate.vector is not None and means and candidate.vector.model == model:
        raw = vector_from(candidate.vector.vector)
        vector = centred(raw, means[background_key(candidate.language, means)])
    return StoryArticle(
        key=candidate.article_id,
        language=candidate.language,
        published=parse_timestamp(candidate.seen_at),
        signature=np.frombuffer(candidate.fingerprint.signature, dtype="<u4"),
        vector=vector,
        numbers=frozenset(candidate.fingerprint.numbers),
    )


class StoryIndex:
    """Articles with their stories, and the best match of a new article among them.

    The arrays grow by doubling, so adding an article costs no copy of the others, and
    `forget_before` drops what a window can no longer reach (restory goes in order of
    time, so it keeps a few days in hand however large the store).
    """

    def __init__(self, *, window: timedelta = WINDOW) -> None:
        self.window = window
        self._articles: list[StoryArticle] = []
        self._stories: list[int] = []
        self._first = 0  # articles before this one are forgotten
        self._size = 0
        self._signatures: Any = None
        self._vectors: Any = None
        self._has_vector: Any = None
        self._times: Any = None
        self._languages: Any = None  # a small code per article: one comparison for all
        self._language_codes: dict[str | None, int] = {}

    def __len__(self) -> int:
        return self._size - self._first

    def add(self, article: StoryArticle, story_id: int) -> None:
        import numpy as np

        if self._signatures is None or self._size == len(self._times):
            self._grow(np, article)
        row = self._size
        self._signatures[row] = article.signature
        if article.vector is not None:
            self._vectors[row] = article.vector
            self._has_vector[row] = True
        self._times[row] = article.published.timestamp()
        self._languages[row] = self._code(article.language)
        self._articles.append(article)
        self._stories.append(story_id)
        self._size += 1

    def _code(self, language: str | None) -> int:
        return self._language_codes.setdefault(language, len(self._language_codes))

    def _grow(self, np: Any, article: StoryArticle) -> None:
        capacity = max(1024, 2 * (len(self._times) if self._times is not None else 0))
        dim = len(article.vector) if article.vector is not None else 384
        signatures = np.zeros((capacity, len(article.signature)), dtype=np.uint32)
        vectors = np.zeros((capacity, dim), dtype=np.float32)
        has_vector = np.zeros(capacity, dtype=bool)
        times = np.zeros(capacity, dtype=np.float64)
        languages = np.zeros(capacity, dtype=np.int32)
        if self._signatures is not None:
            signatures[: self._size] = self._signatures[: self._size]
            vectors[: self._size] = self._vectors[: self._size]
            has_vector[: self._size] = self._has_vector[: self._size]
            times[: self._size] = self._times[: self._size]
            languages[: self._size] = self._languages[: self._size]
        self._signatures, self._vectors = signatures, vectors
        self._has_vector, self._times, self._languages = has_vector, times, languages

    def extend(self, pairs: Iterable[tuple[StoryArticle, int]]) -> None:
        for article, story_id in pairs:
            self.add(article, story_id)

    def forget_before(self, moment: datetime) -> None:
        """Stop comparing with articles seen before `moment` (added in order of time)."""
        stamp = moment.timestamp()
        while self._first < self._size and self._times[self._first] < stamp:
            self._first += 1

    def best(self, article: StoryArticle) -> int | None:
        """The story of the indexed article `article` matches best (None: none)."""
        import numpy as np

        if len(self) == 0:
            return None
        live = slice(self._first, self._size)
        near = (self._signatures[live] == article.signature).mean(axis=1)
        score = np.where(near >= NEAR_DUPLICATE, 2.0 + near, -1.0)
        if article.vector is not None and len(self._vectors[0]) == len(article.vector):
            cosines = self._vectors[live] @ article.vector
            same = self._languages[live] == self._code(article.language)
            needed = np.where(same, SAME_LANGUAGE, CROSS_LANGUAGE)
            meaning = self._has_vector[live] & (cosines >= needed)
            score = np.where((score < 0) & meaning, cosines, score)
        stamp = article.published.timestamp()
        reach = np.abs(self._times[live] - stamp) <= self.window.total_seconds()
        score = np.where(reach, score, -1.0)
        for offset in np.argsort(-score):
            if score[offset] < 0:
                return None
            index = self._first + int(offset)
            if conflict(article.numbers, self._articles[index].numbers):
                continue
            return self._stories[index]
        return None


def assign(articles: Iterable[StoryArticle], *, window: timedelta = WINDOW) -> dict[int, int]:
    """Story of every article, in order of publication: key -> the key of the story's
    first article. What a scan does one article at a time, for a batch."""
    index = StoryIndex(window=window)
    story: dict[int, int] = {}
    for article in sorted(articles, key=lambda a: (a.published, a.key)):
        index.forget_before(article.published - window)
        found = index.best(article)
        story[article.key] = article.key if found is None else found
        index.add(article, story[article.key])
    return story
