"""Putting stored articles into stories: one at a time as a scan stores them, or all
again (`adwatch restory`). Reads and writes the store; the rules are adwatch.stories'.

The scan's assigner reads once the stored articles of the last LOOKBACK days that have a
story, then matches each new article against them and against those it added. An
article dated outside that span (a feed that republishes an old story) is matched
against the store directly, within its own window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from adwatch.models import (
    ArticleVector,
    EmbeddingSettings,
    StoryCandidate,
    StoryFingerprint,
    StoryInput,
    Watchlist,
)
from adwatch.stories.index import StoryIndex, story_article
from adwatch.stories.link import WINDOW, StoryArticle
from adwatch.text.dates import iso_utc, parse_timestamp

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from adwatch.semantic.stage import SemanticSettings
    from adwatch.store import Store

LOOKBACK = timedelta(days=30)  # what a scan reads of the stored stories


def fingerprint(text: str) -> StoryFingerprint:
    """What linking compares of an article besides its vector (runs in a worker)."""
    from adwatch.stories.facts import numbers
    from adwatch.stories.fingerprint import signature

    return StoryFingerprint(signature(text).astype("<u4").tobytes(), tuple(sorted(numbers(text))))


def centring_means(
    settings: SemanticSettings | None,
) -> Mapping[str, npt.NDArray[np.float32]] | None:
    """Each language's mean of ordinary news, as the semantic stage centres leads with."""
    if settings is None:
        return None
    from adwatch.semantic.stage import settings_background

    background = settings_background(settings).pooled()
    return {language: rows.mean(axis=0) for language, rows in background.vectors.items()}


class StoryAssigner:
    """Each new article into the story it matches, else a story of its own.

    `known_since`: stored articles seen from then on that have a story are read once and
    matched against; an article whose window reaches further back is matched against the
    store directly. None: nothing is read (restory of a whole store).
    """

    def __init__(
        self,
        store: Store,
        settings: SemanticSettings | None,
        *,
        known_since: datetime | None,
        window: timedelta = WINDOW,
    ) -> None:
        self.store = store
        self.window = window
        self.model = settings.model if settings is not None else ""
        self.means = centring_means(settings)
        self.known_since = known_since
        self.index = StoryIndex(window=window)
        if known_since is not None:
            candidates = store.story_candidates(since=iso_utc(known_since), until="9999")
            self.index.extend((self._article(c), c.story_id) for c in candidates)

    def _article(self, candidate: StoryCandidate) -> StoryArticle:
        return story_article(candidate, self.means, self.model)

    def assign(
        self,
        article_id: int,
        *,
        seen_at: str,
        language: str | None,
        fingerprint: StoryFingerprint,
        vector: ArticleVector | None,
        reuse: int | None = None,
        stored: bool = False,
    ) -> int:
        """Store the article's fingerprint and put it in a story; the story's id (`reuse`:
        the id a story it starts should take, if free)."""
        article = self.linkable(
            article_id, seen_at=seen_at, language=language, fingerprint=fingerprint, vector=vector
        )
        story_id = self.store.join_story(
            article_id, None if stored else fingerprint, self.choose(article), reuse=reuse
        )
        self.remember(article, story_id)
        return story_id

    def linkable(
        self,
        article_id: int,
        *,
        seen_at: str,
        language: str | None,
        fingerprint: StoryFingerprint,
        vector: ArticleVector | None,
    ) -> StoryArticle:
        """An article as linking compares it (`article_id` 0: not stored yet)."""
        candidate = StoryCandidate(article_id, 0, language, seen_at, fingerprint, vector)
        return self._article(candidate)

    def choose(self, article: StoryArticle) -> int | None:
        """The story the article reports, among those known; None: a story of its own."""
        index = self.index
        if self.known_since is not None and article.published - self.window < self.known_since:
            index = StoryIndex(window=self.window)  # older than what was read: ask the store
            nearby = self.store.story_candidates(
                since=iso_utc(article.published - self.window),
                until=iso_utc(article.published + self.window),
            )
            index.extend((self._article(c), c.story_id) for c in nearby)
        return index.best(article)

    def remember(self, article: StoryArticle, story_id: int) -> None:
        """Compare later articles with this one too."""
        self.index.add(article, story_id)


def unplaced_articles(store: Store, *, now: datetime) -> list[StoryInput]:
    """Articles of the last LOOKBACK days with a fingerprint but no story, oldest first:
    what a scan stored since it last placed stories, or an interrupted scan left."""
    return store.articles_for_stories(since=iso_utc(now - LOOKBACK), fingerprinted=True)


def place(assigner: StoryAssigner, pending: Sequence[StoryInput]) -> int:
    """Put `pending` into stories, in order, in one transaction; how many."""
    with assigner.store.transaction():
        for row in pending:
            assert row.fingerprint is not None
            assigner.assign(
                row.article_id,
                seen_at=row.seen_at,
                language=row.language,
                fingerprint=row.fingerprint,
                vector=row.vector,
                stored=True,
            )
    return len(pending)


@dataclass(frozen=True)
class RestoryReport:
    articles: int  # articles put into stories
    stories: int  # stories they make


def restory(
    location: str | Path,
    watchlists: Sequence[Watchlist],
    embeddings: EmbeddingSettings,
    *,
    since: str | None = None,
    window: timedelta = WINDOW,
) -> RestoryReport:
    """Put every article (seen since `since`, or all) into stories again, oldest first,
    with the current rules: after a change of settings, or for a store that had articles
    before stories existed. Articles without a fingerprint get one from their text; those
    seen before `since` keep their stories, and newer ones may join them."""
    from adwatch.embedding import semantic_settings
    from adwatch.store import open_store

    with open_store(location, create=False) as store, store.exclusive_session():
        settings = semantic_settings(watchlists, embeddings, store)
        before = store.story_ids(since=since)  # a story found again keeps its id
        store.clear_stories(since=since)
        pending = store.articles_for_stories(since=since)
        known = parse_timestamp(since) - window if since else None
        assigner = StoryAssigner(store, settings, known_since=known, window=window)
        stories = set()
        for row in pending:  # oldest first: what a window no longer reaches is dropped
            assigner.index.forget_before(parse_timestamp(row.seen_at) - window)
            stories.add(
                assigner.assign(
                    row.article_id,
                    seen_at=row.seen_at,
                    language=row.language,
                    fingerprint=row.fingerprint or fingerprint(row.text),
                    vector=row.vector,
                    reuse=before.get(row.article_id),
                    stored=row.fingerprint is not None,  # kept already: not written again
                )
            )
    return RestoryReport(len(pending), len(stories))
