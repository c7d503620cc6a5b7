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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adwatch.errors import UsageError
from adwatch.match import ArticleMatches, Matcher
from adwatch.models import Match, Watchlist
from adwatch.store import Store, open_store, scan_lock
from adwatch.text.dates import utc_now

CHUNK_SIZE = 50  # articles per task and per write transaction

# (id, text, market, language): what a worker needs to match one article
ArticleRow = tuple[int, str, str, str | None]
_HitKey = tuple[str, str, int]  # watchlist, term, start: unique per article


@dataclass(frozen=True)
class RematchChange:
    """What a rematch did to one watchlist's hits."""

    watchlist: str
    added: int
    removed: int
    kept_triaged: int  # triaged hits that no longer match, kept


@dataclass(frozen=True)
class RematchReport:
    articles: int
    changes: list[RematchChange]


def rematch(
    store_path: Path,
    watchlists: Sequence[Watchlist],
    *,
    only: Sequence[str] = (),
    since: str | None = None,
    workers: int = 2,
) -> RematchReport:
    """Match stored articles again and bring their hits up to date.

    `only` limits the run to those watchlists (other hits are left alone);
    without it, hits of watchlists no longer configured count as no longer
    matching. `since` (an adwatch timestamp) limits it to articles fetched since.
    `workers` <= 1 matches in this process. Takes the store's scan lock.
    """
    selected = _select(watchlists, only)
    scope = {w.name for w in selected} if only else None
    tally = _Tally([w.name for w in selected])
    with open_store(store_path, create=False) as store, scan_lock(store_path):
        chunks = _article_chunks(store, since)
        if workers <= 1:
            matcher = Matcher.build(selected)
            for rows, sources in chunks:
                _apply(store, _match_rows(matcher, rows), rows, sources, scope, tally)
        else:
            with ProcessPoolExecutor(
                max_workers=workers, initializer=_init_worker, initargs=(selected,)
            ) as pool:
                _run_in_pool(pool, workers, chunks, store, scope, tally)
    return RematchReport(articles=tally.articles, changes=tally.changes())


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

    def __init__(self, names: list[str]) -> None:
        self.articles = 0
        self.counts: dict[str, list[int]] = {name: [0, 0, 0] for name in names}

    def add(self, watchlist: str, column: int) -> None:
        self.counts.setdefault(watchlist, [0, 0, 0])[column] += 1

    def changes(self) -> list[RematchChange]:
        return [RematchChange(name, *counts) for name, counts in self.counts.items()]


_ADDED, _REMOVED, _KEPT = range(3)


# --- reading ------------------------------------------------------------------------------


def _article_chunks(
    store: Store, since: str | None
) -> Iterator[tuple[list[ArticleRow], dict[int, str]]]:
    """Articles in id order, CHUNK_SIZE at a time, with each article's source."""
    last_id = 0
    since_clause = "AND fetched_at >= ?" if since else ""
    while True:
        params: list[Any] = [last_id, *([since] if since else []), CHUNK_SIZE]
        found = store.db.execute(
            f"""SELECT id, text, market, language, source FROM articles
                WHERE id > ? {since_clause} ORDER BY id LIMIT ?""",
            params,
        ).fetchall()
        if not found:
            return
        last_id = found[-1][0]
        yield [(r[0], r[1] or "", r[2], r[3]) for r in found], {r[0]: r[4] for r in found}


# --- matching -----------------------------------------------------------------------------

_worker_matcher: Matcher | None = None


def _init_worker(watchlists: Sequence[Watchlist]) -> None:
    """Build the matcher once per worker process."""
    global _worker_matcher
    _worker_matcher = Matcher.build(watchlists)


def _match_in_worker(rows: list[ArticleRow]) -> list[ArticleMatches]:
    if _worker_matcher is None:
        raise RuntimeError("the rematch worker was started without its matcher")
    return _match_rows(_worker_matcher, rows)


def _match_rows(matcher: Matcher, rows: list[ArticleRow]) -> list[ArticleMatches]:
    # The same per-watchlist cap as the scan, so a rematch gives the scan's hits.
    return [
        matcher.match_article(text, market=market, language=language)
        for _, text, market, language in rows
    ]


def _run_in_pool(
    pool: ProcessPoolExecutor,
    workers: int,
    chunks: Iterator[tuple[list[ArticleRow], dict[int, str]]],
    store: Store,
    scope: set[str] | None,
    tally: _Tally,
) -> None:
    # A few chunks in flight keep the workers busy while this process writes;
    # never more, so memory does not grow with the store.
    in_flight: deque[tuple[Future[list[ArticleMatches]], list[ArticleRow], dict[int, str]]] = (
        deque()
    )
    for rows, sources in chunks:
        in_flight.append((pool.submit(_match_in_worker, rows), rows, sources))
        if len(in_flight) >= 2 * workers:
            future, done_rows, done_sources = in_flight.popleft()
            _apply(store, future.result(), done_rows, done_sources, scope, tally)
    while in_flight:
        future, done_rows, done_sources = in_flight.popleft()
        _apply(store, future.result(), done_rows, done_sources, scope, tally)


# --- writing ------------------------------------------------------------------------------


def _apply(
    store: Store,
    matches: list[ArticleMatches],
    rows: list[ArticleRow],
    sources: dict[int, str],
    scope: set[str] | None,
    tally: _Tally,
) -> None:
    """Write one chunk's changes in one transaction."""
    ids = [row[0] for row in rows]
    existing = _existing_hits(store, ids, scope)
    now = utc_now()
    with store.db.conn:
        for (article_id, _, market, language), result in zip(rows, matches, strict=True):
            stored = existing.get(article_id, {})
            current = {(m.watchlist, m.term, m.start): m for m in result.matches}
            store.set_hit_totals(article_id, result.matches, result.capped(), scope=scope)
            for key, (hit_id, triaged) in stored.items():
                if key in current:
                    continue
                if triaged:
                    tally.add(key[0], _KEPT)
                else:
                    store.db.execute("DELETE FROM hits WHERE id = ?", [hit_id])
                    tally.add(key[0], _REMOVED)
            for key, match in current.items():
                if key in stored:
                    _refresh(store, stored[key][0], match)
                elif _insert(store, article_id, match, market, language, sources[article_id], now):
                    tally.add(key[0], _ADDED)
            tally.articles += 1


def _existing_hits(
    store: Store, ids: list[int], scope: set[str] | None
) -> dict[int, dict[_HitKey, tuple[int, bool]]]:
    """Stored hits of these articles in scope: key -> (hit id, triaged)."""
    marks = ",".join("?" * len(ids))
    params: list[Any] = list(ids)
    scope_clause = ""
    if scope is not None:
        scope_clause = f"AND watchlist IN ({','.join('?' * len(scope))})"
        params.extend(sorted(scope))
    existing: dict[int, dict[_HitKey, tuple[int, bool]]] = {}
    for hit_id, article_id, watchlist, term, start, status, note in store.db.execute(
        f"""SELECT id, article_id, watchlist, term, start, status, note FROM hits
            WHERE article_id IN ({marks}) {scope_clause}""",
        params,
    ):
        triaged = status != "new" or bool(note)
        existing.setdefault(article_id, {})[(watchlist, term, start)] = (hit_id, triaged)
    return existing


def _refresh(store: Store, hit_id: int, match: Match) -> None:
    """A hit found again keeps its id, status and found_at; its watchlist details follow the config."""
    store.db.execute(
        """UPDATE hits SET category = ?, severity = ?, matched_text = ?, "end" = ?, snippet = ?
           WHERE id = ? AND (category != ? OR severity != ? OR matched_text != ? OR "end" != ?
                             OR snippet != ?)""",
        [
            match.category,
            match.severity,
            match.matched_text,
            match.end,
            match.snippet,
            hit_id,
            match.category,
            match.severity,
            match.matched_text,
            match.end,
            match.snippet,
        ],
    )


def _insert(
    store: Store,
    article_id: int,
    match: Match,
    market: str,
    language: str | None,
    source: str,
    found_at: str,
) -> bool:
    cursor = store.db.execute(
        """INSERT OR IGNORE INTO hits (article_id, watchlist, category, severity, term,
           matched_text, start, "end", snippet, market, language, found_at, status, source)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)""",
        [
            article_id,
            match.watchlist,
            match.category,
            match.severity,
            match.term,
            match.matched_text,
            match.start,
            match.end,
            match.snippet,
            market,
            language,
            found_at,
            source,
        ],
    )
    return cursor.rowcount > 0
