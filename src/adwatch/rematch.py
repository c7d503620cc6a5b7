"""Run the current watchlists over the articles already stored (no network).

New hits are added; hits that no longer match are removed unless an analyst has
triaged them (a status other than 'new', or a note): those stay, counted as
"kept, no longer matching". Articles stream from the store in chunks of ids, are
matched in worker processes, and each chunk's changes are written in one
transaction in this process, so memory stays flat however large the store is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adwatch.alerts.events import EventCalendar
from adwatch.embedding import semantic_settings
from adwatch.errors import UsageError
from adwatch.match import ArticleMatches, Matcher
from adwatch.models import (
    ArticleVector,
    EmbeddingSettings,
    Event,
    HitChange,
    Match,
    StoredText,
    Watchlist,
)
from adwatch.store import Store, open_store
from adwatch.store.base import HitPlan
from adwatch.text.dates import utc_now
from adwatch.workers import worker_pool

CHUNK_SIZE = 50  # articles per task and per write transaction


@dataclass(frozen=True)
class RematchChange:
    """What a rematch did to one watchlist's hits."""

    watchlist: str
    added: int
    removed: int
    kept_triaged: int  # triaged hits that no longer match, kept


@dataclass(frozen=True)
class PlannedHit:
    """One hit a `rematch --dry-run` would add, remove, or keep although it no longer matches."""

    action: str  # "add", "remove" or "keep" (triaged, so kept)
    watchlist: str
    article_id: int
    hit_id: int | None  # None for a hit not stored yet
    term: str
    matched_text: str


MAX_PLANNED = 1000  # hits a dry run lists; the counts cover all of them


@dataclass(frozen=True)
class RematchReport:
    articles: int
    changes: list[RematchChange]
    dry_run: bool = False
    planned: list[PlannedHit] = field(default_factory=list)  # a dry run's first MAX_PLANNED


def rematch(
    location: str | Path,
    watchlists: Sequence[Watchlist],
    *,
    only: Sequence[str] = (),
    since: str | None = None,
    workers: int = 2,
    embeddings: EmbeddingSettings | None = None,
    events: Sequence[Event] = (),
    dry_run: bool = False,
) -> RematchReport:
    """Match stored articles again and bring their hits up to date.

    `dry_run` writes nothing: the report says what would change, hit by hit (the
    first MAX_PLANNED), and it may run beside a scan.

    `only` limits the run to those watchlists (other hits are left alone);
    without it, hits of watchlists no longer configured count as no longer
    matching. `since` (an adwatch timestamp) limits it to articles fetched since.
    `workers` <= 1 matches in this process. Semantic watchlists score the stored
    vectors (an article without one, or with another model's, is embedded again).
    `events` raise the severity of hits inside them, as in a scan (an article's time is
    when it was first fetched, or published).
    Never runs beside a scan: raises LockHeld when one is running (either engine).
    """
    selected = _select(watchlists, only)
    scope = {w.name for w in selected} if only else None
    # Indicators are stored again only by a run over every watchlist that writes.
    indicators = scope is None and not dry_run
    tally = _Tally([w.name for w in selected], dry_run=dry_run)
    calendar = EventCalendar(events)
    with (
        open_store(location, create=False) as store,
        nullcontext() if dry_run else store.exclusive_session(),
    ):
        semantic = semantic_settings(selected, embeddings or EmbeddingSettings(), store)
        chunks = _article_chunks(store, since, semantic is not None)
        if workers <= 1:
            _init_worker(selected, semantic, indicators)
            for rows in chunks:
                _apply(store, _match_in_worker(rows), rows, scope, tally, calendar)
        else:
            with worker_pool(
                _init_worker, [selected, semantic, indicators], workers=workers
            ) as pool:
                _run_in_pool(pool, workers, chunks, store, scope, tally, calendar)
    return RematchReport(
        articles=tally.articles, changes=tally.changes(), dry_run=dry_run, planned=tally.planned
    )


def _select(watchlists: Sequence[Watchlist], only: Sequence[str]) -> list[Watchlist]:
    if not only:
        return list(watchlists)
    by_name = {w.name: w for w in watchlists}
    for name in only:
        if name not in by_name:
            raise UsageError(f"no watchlist named {name!r} to rematch")
    return [by_name[name] for name in dict.fromkeys(only)]


class _Tally:
    """Counts per watchlist, in config order, then watchlists no longer configured."""

    def __init__(self, names: list[str], *, dry_run: bool = False) -> None:
        self.articles = 0
        self.counts: dict[str, HitChange] = {name: HitChange() for name in names}
        self.dry_run = dry_run
        self.planned: list[PlannedHit] = []

    def plan(self, plan: HitPlan) -> None:
        """A dry run's hits, as the analyst reads them: what would come and go."""
        self.add(plan.changes())
        room = MAX_PLANNED - len(self.planned)
        planned = [
            *(PlannedHit("add", m.watchlist, plan.article_id, None, m.term, m.matched_text)
              for m in plan.added),
            *(PlannedHit("remove", h.watchlist, plan.article_id, h.id, h.term, h.matched_text)
              for h in plan.removed),
            *(PlannedHit("keep", h.watchlist, plan.article_id, h.id, h.term, h.matched_text)
              for h in plan.kept_triaged),
        ]  # fmt: skip
        self.planned.extend(planned[: max(room, 0)])

    def add(self, changes: dict[str, HitChange]) -> None:
        for name, change in changes.items():
            total = self.counts.setdefault(name, HitChange())
            total.added += change.added
            total.removed += change.removed
            total.kept_triaged += change.kept_triaged

    def changes(self) -> list[RematchChange]:
        return [
            RematchChange(name, c.added, c.removed, c.kept_triaged)
            for name, c in self.counts.items()
        ]


# --- reading ------------------------------------------------------------------------------


def _article_chunks(
    store: Store, since: str | None, with_vectors: bool
) -> Iterator[list[tuple[StoredText, ArticleVector | None]]]:
    """Articles in id order (with their stored vectors), CHUNK_SIZE at a time."""
    last_id = 0
    while True:
        found = store.article_texts(after_id=last_id, since=since, limit=CHUNK_SIZE)
        if not found:
            return
        last_id = found[-1].article_id
        vectors = store.article_vectors([row.article_id for row in found]) if with_vectors else {}
        yield [(row, vectors.get(row.article_id)) for row in found]


# --- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rematched:
    """One article matched again: its hits, and its vector and tone when they are new."""

    found: ArticleMatches
    matches: list[Match]
    vector: ArticleVector | None = None  # embedded again (none stored, or another model)
    tone: float | None = None
    # Found again (the extractor may have improved), when the run stores them.
    indicators: list[Any] | None = None


_worker_matcher: Matcher | None = None
_worker_semantic: Any = None
_worker_indicators = False  # whether to find each article's indicators again


def _init_worker(
    watchlists: Sequence[Watchlist], semantic: Any = None, indicators: bool = False
) -> None:
    """Build the matcher (and the semantic stage) once per worker process."""
    global _worker_matcher, _worker_semantic, _worker_indicators
    _worker_matcher = Matcher.build(watchlists)
    _worker_indicators = indicators
    _worker_semantic = None
    if semantic is not None:
        from adwatch.semantic.stage import SemanticStage

        _worker_semantic = SemanticStage(semantic)


def _match_in_worker(rows: list[tuple[StoredText, ArticleVector | None]]) -> list[_Rematched]:
    if _worker_matcher is None:
        raise RuntimeError("the rematch worker was started without its matcher")
    from adwatch.indicators import extract_indicators

    done = []
    for row, stored in rows:
        # The same per-watchlist cap as the scan, so a rematch gives the scan's hits.
        found = _worker_matcher.match_article(row.text, market=row.market, language=row.language)
        indicators = (
            extract_indicators(row.text, market=row.market, language=row.language)
            if _worker_indicators
            else None
        )
        if _worker_semantic is None:
            done.append(_Rematched(found, found.matches, indicators=indicators))
            continue
        vector, semantic, tone = _worker_semantic.apply(
            row.text,
            market=row.market,
            language=row.language,
            keyword_matches=found.matches,
            stored=stored,
        )
        done.append(
            _Rematched(
                found,
                [*found.matches, *semantic],
                vector=None if vector == stored else vector,
                tone=tone,
                indicators=indicators,
            )
        )
    return done


def _run_in_pool(
    pool: ProcessPoolExecutor,
    workers: int,
    chunks: Iterator[list[tuple[StoredText, ArticleVector | None]]],
    store: Store,
    scope: set[str] | None,
    tally: _Tally,
    calendar: EventCalendar,
) -> None:
    # A few chunks in flight keep the workers busy while this process writes;
    # never more, so memory does not grow with the store.
    in_flight: deque[tuple[Future[list[_Rematched]], list[Any]]] = deque()
    for rows in chunks:
        in_flight.append((pool.submit(_match_in_worker, rows), rows))
        if len(in_flight) >= 2 * workers:
            future, done_rows = in_flight.popleft()
            _apply(store, future.result(), done_rows, scope, tally, calendar)
    while in_flight:
        future, done_rows = in_flight.popleft()
        _apply(store, future.result(), done_rows, scope, tally, calendar)


# --- writing ------------------------------------------------------------------------------


def _apply(
    store: Store,
    results: list[_Rematched],
    rows: list[tuple[StoredText, ArticleVector | None]],
    scope: set[str] | None,
    tally: _Tally,
    calendar: EventCalendar,
) -> None:
    """Write one chunk's changes in one transaction (a dry run: plan them, write nothing)."""
    now = utc_now()
    with nullcontext() if tally.dry_run else store.transaction():
        for (row, _), result in zip(rows, results, strict=True):
            matches, totals = calendar.apply_with_totals(
                result.matches,
                result.found.capped(),
                market=row.market,
                found_at=row.fetched_at or now,
                published_at=row.published_at,
            )
            if tally.dry_run:
                tally.plan(store.plan_hits(row.article_id, matches, scope=scope))
                tally.articles += 1
                continue
            if result.vector is not None:
                store.save_vector(row.article_id, result.vector)
            if result.tone is not None:
                store.set_tone(row.article_id, result.tone)
            if result.indicators is not None:
                store.replace_indicators(row.article_id, result.indicators)
            changes = store.replace_hits(
                row.article_id,
                matches,
                market=row.market,
                language=row.language,
                source=row.source,
                found_at=now,
                scope=scope,
            )
            store.set_hit_totals(row.article_id, result.found.matches, totals, scope=scope)
            tally.add(changes)
            tally.articles += 1
