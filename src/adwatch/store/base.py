"""What the rest of adwatch may ask of a store, whichever engine keeps it.

`Store` lists every question and every write the pipeline, the commands and the
report make, with adwatch's dataclasses in and out: nothing outside `adwatch.store`
sees a connection, a cursor or a row tuple. Statements both engines accept are
written here once, with `?` placeholders; an engine supplies the few primitives
that run them (`_fetch`, `_stream`, `_execute`, `_execute_many`, `transaction`)
and overrides what its dialect says differently (text search, JSON aggregation,
planner hints, locking).

    Store (this module)             statements written once, the API
    ├── SQLiteStore (sqlite.py)     one file, sqlite-utils migrations, FTS5, flock
    └── PostgresStore (postgres.py) a server, pg_trgm, leases for several scanners
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from adwatch.errors import UsageError
from adwatch.models import (
    SEVERITIES,
    Alert,
    Article,
    ArticleHits,
    ArticleRow,
    ArticleVector,
    DeliveryState,
    EvidenceRef,
    FailedSource,
    Filters,
    Hit,
    HitAlert,
    HitChange,
    HitRecord,
    IndicatorSummary,
    Match,
    PageRetry,
    PendingDelivery,
    PivotRow,
    RetryCandidate,
    RobotsFile,
    SavedArticle,
    Source,
    SourceHealth,
    SpikeAlert,
    StoredText,
    StoryArticleRow,
    StoryCandidate,
    StoryFingerprint,
    StoryInput,
    StorySummary,
    TriageChange,
    TriageEntry,
)
from adwatch.text.dates import utc_now

if TYPE_CHECKING:
    from adwatch.search import Search

T = TypeVar("T")

TRIAGE_STATUSES = ("new", "reviewing", "escalated", "dismissed")
# A hit an analyst has looked at: a status other than new, or a note. Such hits are
# never deleted by a scan or a rematch. One definition, used by both.
UNTRIAGED = "status = 'new' AND (note IS NULL OR note = '')"
CHUNK = 500  # values bound in one IN (...): well under either engine's limit

_ARTICLE_COLUMNS = (
    "url", "source", "market", "title", "text", "language", "published_at", "fetched_at",
    "content_hash", "extractor", "entry_id", "zawgyi", "author", "tone",
)  # fmt: skip
_HIT_INSERT = """INSERT INTO hits (article_id, watchlist, category, severity, term,
    matched_text, start, "end", snippet, market, language, found_at, status, source, score,
    event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)
    ON CONFLICT DO NOTHING"""


# The tables of semantic watchlists, for both engines: `semantic_tables("BIGINT", "BYTEA")`.
_SEMANTIC_TABLES = (
    """CREATE TABLE article_vectors (
        article_id {id} PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        lead_end INTEGER NOT NULL,
        vector {blob} NOT NULL
    )""",
    # Descriptions embedded once per model, not at every scan.
    """CREATE TABLE description_vectors (
        model TEXT NOT NULL,
        text TEXT NOT NULL,
        vector {blob} NOT NULL,
        PRIMARY KEY (model, text)
    )""",
    # `adwatch calibrate`: the store's own ordinary news, per model and language.
    """CREATE TABLE semantic_background (
        model TEXT NOT NULL,
        language TEXT NOT NULL,
        articles INTEGER NOT NULL,
        vectors {blob} NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (model, language)
    )""",
)


# robots.txt per origin, kept between scans for up to 24 hours (RFC 9309 2.4); both engines.
ROBOTS_TABLE = """CREATE TABLE robots (
    origin TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
)"""


# Early warning (design.md section 11, docs/alerts.md), for both engines.
ALERT_TABLES = (
    "ALTER TABLE hits ADD COLUMN event TEXT",
    # What a scan raised: critical hits, spikes (emerging risks), digests; one row each.
    """CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        run_id INTEGER,
        watchlist TEXT,
        market TEXT,
        day TEXT,
        observed INTEGER,
        expected REAL,
        p_value REAL,
        why TEXT,
        payload TEXT NOT NULL
    )""",
    # Each alert once per target: pending until delivered, retried with backoff.
    """CREATE TABLE deliveries (
        target TEXT NOT NULL,
        alert_key TEXT NOT NULL REFERENCES alerts(key) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT,
        created_at TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        PRIMARY KEY (target, alert_key)
    )""",
    "CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at)",
    # The spike test counts articles per day by when they were fetched.
    "CREATE INDEX articles_fetched_at ON articles(fetched_at)",
)


# Evidence and indicators (design.md section 12, docs/evidence.md, docs/indicators.md), for
# both engines: {key} is the type of a new row's id, {id} of a reference.
_EVIDENCE_TABLES = (
    "ALTER TABLE articles ADD COLUMN warc_file TEXT",
    "ALTER TABLE articles ADD COLUMN warc_offset {id}",
    "ALTER TABLE articles ADD COLUMN sha256 TEXT",
    """CREATE TABLE indicators (
        id {key} PRIMARY KEY,
        article_id {id} NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        raw TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        UNIQUE (article_id, kind, value, start)
    )""",
    "CREATE INDEX indicators_value ON indicators(kind, value)",
    "CREATE INDEX indicators_article ON indicators(article_id)",
)


def evidence_tables(key_type: str, id_type: str) -> list[str]:
    """The evidence columns and the indicators table in an engine's types."""
    return [sql.format(key=key_type, id=id_type) for sql in _EVIDENCE_TABLES]


# Stories (design.md section 9), for both engines: {key} is the type of a new row's id.
_STORY_TABLES = (
    """CREATE TABLE stories (
        id {key} PRIMARY KEY,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        language TEXT,
        markets TEXT NOT NULL DEFAULT '',
        articles INTEGER NOT NULL DEFAULT 0,
        sources INTEGER NOT NULL DEFAULT 0,
        languages INTEGER NOT NULL DEFAULT 0
    )""",
    "ALTER TABLE articles ADD COLUMN story_id {id} REFERENCES stories(id)",
    # A story's articles, and whether one from this source or in this language is among
    # them yet (joining a story looks these up instead of reading the story).
    "CREATE INDEX articles_story ON articles(story_id, source)",
    "CREATE INDEX articles_story_language ON articles(story_id, language)",
    # What linking compares besides vectors: a MinHash signature and the numbers stated.
    """CREATE TABLE article_fingerprints (
        article_id {id} PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        signature {blob} NOT NULL,
        numbers TEXT NOT NULL DEFAULT ''
    )""",
)


def story_tables(key_type: str, id_type: str, blob_type: str) -> list[str]:
    """The story tables and columns in an engine's types."""
    return [sql.format(key=key_type, id=id_type, blob=blob_type) for sql in _STORY_TABLES]


def semantic_tables(id_type: str, blob_type: str) -> list[str]:
    """CREATE TABLE statements of the semantic tables in an engine's types."""
    return [sql.format(id=id_type, blob=blob_type) for sql in _SEMANTIC_TABLES]


STORY_FIELDS = {
    "id": "s.id", "first_seen": "s.first_seen", "last_seen": "s.last_seen",
    "title": "s.title", "language": "s.language", "markets": "s.markets",
    "articles": "s.articles", "sources": "s.sources", "languages": "s.languages",
}  # fmt: skip
STORY_ARTICLE_FIELDS = {
    "id": "a.id", "url": "a.url", "source": "a.source", "language": "a.language",
    "market": "a.market", "published_at": "a.published_at", "fetched_at": "a.fetched_at",
    "title": "a.title", "hits": "(SELECT COUNT(*) FROM hits h WHERE h.article_id = a.id)",
}  # fmt: skip
# When an article was seen, for stories: its publication date, else when it was fetched.
SEEN_AT = "COALESCE(a.published_at, a.fetched_at)"


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def marks(count: int) -> str:
    """`?, ?, ?` for `count` bound values."""
    return ", ".join("?" * count)


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield list(values[i : i + size])


class Store(ABC):
    """An open adwatch store. Open one with `adwatch.store.open_store`."""

    #: "sqlite" or "postgresql"
    engine: str = ""
    #: where the store is, for messages (a path, or a URL without its password)
    location: str = ""

    # --- what an engine provides ----------------------------------------------------------

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query (`?` placeholders)."""

    @abstractmethod
    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, one at a time, without holding them all."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row; the number of rows changed in all."""

    @abstractmethod
    def transaction(self, *, immediate: bool = False) -> AbstractContextManager[None]:
        """All or nothing. `immediate` takes the write lock before the first read.

        A transaction inside a transaction joins the outer one.
        """

    # A group: the calls of a moment in one transaction, each in a savepoint of its own (the
    # scan's writer, adwatch.store_writer). Inside a group `transaction` joins the group.

    @abstractmethod
    def begin_group(self) -> None:
        """Open the group's transaction, unless one is open; it holds the write lock."""

    @abstractmethod
    def commit_group(self) -> None:
        """Commit the group's transaction, if one is open (on failure it is rolled back)."""

    @abstractmethod
    def savepoint(self) -> AbstractContextManager[None]:
        """A part of the open group that an error undoes alone (outside a group: a
        transaction of its own)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._fetch(sql, params)
        return rows[0] if rows else None

    # --- scanning: one scanner at a time, or several with leases --------------------------

    @contextmanager
    def scan_session(self) -> Iterator[None]:
        """Held for a whole scan. SQLite: the store's file lock (one scan at a time);
        PostgreSQL: nothing, since several scanners share the store with leases."""
        yield

    @contextmanager
    def exclusive_session(self) -> Iterator[None]:
        """Held by work that must not run beside any scan (`rematch`). SQLite: the scan
        lock, as for a scan; PostgreSQL: no scanner may hold a scan session meanwhile."""
        with self.scan_session():
            yield

    def claim_source(
        self, name: str, scanner: str, *, window_seconds: int, ttl_seconds: int
    ) -> bool:
        """Whether this scanner should fetch `name` now (another may hold or have done it)."""
        return True

    def release_source(self, name: str, scanner: str) -> None:  # noqa: B027 - optional hook
        """Give back a source claimed with `claim_source` (engines without leases: nothing)."""

    # --- sources -------------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Make the `sources` table list the configured sources, keeping health columns."""
        with self.transaction():
            self._execute_many(
                """
                INSERT INTO sources (name, url, market, language, type)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET
                    url = excluded.url, market = excluded.market,
                    language = excluded.language, type = excluded.type,
                    -- a new URL starts with no validators: they belonged to the old one
                    etag = CASE WHEN sources.url = excluded.url THEN sources.etag END,
                    last_modified = CASE WHEN sources.url = excluded.url
                                    THEN sources.last_modified END
                """,
                [(s.name, s.url, s.market, s.language, s.type) for s in sources],
            )

    def source_validators(self, name: str) -> tuple[str | None, str | None]:
        """The source's stored ETag and Last-Modified, for a conditional request."""
        row = self._fetch_one("SELECT etag, last_modified FROM sources WHERE name = ?", [name])
        return (row[0], row[1]) if row else (None, None)

    def unfetched_sources(self, names: Sequence[str]) -> list[str]:
        """Those of `names` that no scan has fetched yet: every entry of theirs is new."""
        found: list[str] = []
        for chunk in chunks(names):
            found.extend(
                row[0]
                for row in self._fetch(
                    f"SELECT name FROM sources WHERE last_checked_at IS NULL "
                    f"AND name IN ({marks(len(chunk))})",
                    chunk,
                )
            )
        return found

    def record_source_result(
        self,
        name: str,
        *,
        ok: bool,
        status: int | None,
        error: str | None,
        etag: str | None = None,
        last_modified: str | None = None,
        pages: int = 0,
        pages_failed: int = 0,
        page_error: str | None = None,
    ) -> None:
        """Update a source's health after a scan.

        `ok` false counts as one more failure in a row. `etag`/`last_modified` are
        stored whenever given: the feed itself was read even when its pages failed.
        """
        now = utc_now()
        with self.transaction():
            self._execute(
                """UPDATE sources SET last_pages = ?, last_pages_failed = ?, last_page_error = ?,
                   etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified)
                   WHERE name = ?""",
                [pages, pages_failed, page_error, etag, last_modified, name],
            )
            if ok:
                self._execute(
                    """UPDATE sources SET last_status = ?, last_error = NULL,
                       last_checked_at = ?, last_ok_at = ?, failures = 0
                       WHERE name = ?""",
                    [status, now, now, name],
                )
            else:
                self._execute(
                    """UPDATE sources SET last_status = ?, last_error = ?,
                       last_checked_at = ?, failures = failures + 1 WHERE name = ?""",
                    [status, error, now, name],
                )

    # --- articles and hits ------------------------------------------------------------

    def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Those of `urls` already stored as articles."""
        found: set[str] = set()
        for chunk in chunks(urls):
            found.update(
                row[0]
                for row in self._fetch(
                    f"SELECT url FROM articles WHERE url IN ({marks(len(chunk))})", chunk
                )
            )
        return found

    def find_article(self, *, url: str, source: str, entry_id: str | None) -> dict[str, Any] | None:
        """The stored article with this feed entry id in this source, else with this URL."""
        columns = "SELECT id, url, content_hash, title FROM articles"
        row = None
        if entry_id:
            row = self._fetch_one(
                f"{columns} WHERE source = ? AND entry_id = ? LIMIT 1", [source, entry_id]
            )
        if row is None:
            row = self._fetch_one(f"{columns} WHERE url = ?", [url])
        if row is None:
            return None
        return {"id": row[0], "url": row[1], "content_hash": row[2], "title": row[3]}

    def save_article(
        self,
        article: Article,
        matches: Sequence[Match],
        *,
        totals: dict[str, int] | None = None,
        page_retry: PageRetry | None = None,
        vector: ArticleVector | None = None,
        fingerprint: StoryFingerprint | None = None,
        place_story: bool = False,
        story_id: int | None = None,
        indicators: Sequence[Any] | None = None,
        evidence: EvidenceRef | None = None,
    ) -> SavedArticle:
        """Store an article and its hits (and its lead's vector) in one transaction.

        An article already stored (same feed entry id in the same source, or same
        URL) is updated in place; its untriaged hits are replaced by `matches`,
        and hits an analyst has triaged are kept. `totals` holds the hit count of
        each watchlist whose hits `matches` holds only some of (the cap).
        `page_retry` says the page failed and when to try it again; None clears it.
        Two scanners saving the same new article at once store it once.
        """
        now = utc_now()
        values = [
            article.url, article.source, article.market, article.title, article.text,
            article.language, article.published_at, article.fetched_at, article.content_hash,
            article.extractor, article.entry_id, int(article.zawgyi), article.author,
            article.tone,
        ]  # fmt: skip
        columns = list(_ARTICLE_COLUMNS)
        if evidence is not None:  # where the page is kept as served (docs/evidence.md)
            columns += ["warc_file", "warc_offset", "sha256"]
            values += [evidence.warc_file, evidence.warc_offset, evidence.sha256]
        with self.transaction():
            existing = self.find_article(
                url=article.url, source=article.source, entry_id=article.entry_id
            )
            created = False
            placed: int | None = None
            if existing is None:
                # A new article goes into its story as it is inserted (`place_story`),
                # not by an update of the row just written.
                if place_story:
                    placed = story_id
                    if placed is None:
                        seen_at = article.published_at or article.fetched_at
                        placed = self._new_story(
                            seen_at, article.title, article.language, article.market
                        )
                inserted = self._fetch_one(
                    f"INSERT INTO articles ({', '.join(columns)}, story_id) "
                    f"VALUES ({marks(len(values) + 1)}) ON CONFLICT (url) DO NOTHING "
                    "RETURNING id",
                    [*values, placed],
                )
                if inserted is not None:
                    article_id, created = int(inserted[0]), True
                    if placed is not None and story_id is not None:
                        # Its story_id is set by the insert: counted in, not set again.
                        self._join(int(inserted[0]), story_id, set_row=False)
                else:  # another scanner stored it a moment ago: an update, then
                    if placed is not None and story_id is None:
                        self._execute("DELETE FROM stories WHERE id = ?", [placed])
                    placed = None
                    existing = self.find_article(
                        url=article.url, source=article.source, entry_id=article.entry_id
                    )
                    assert existing is not None
            if not created:
                assert existing is not None
                article_id = int(existing["id"])
                if existing["content_hash"] == article.content_hash:
                    self._set_page_retry(article_id, page_retry)
                    return SavedArticle(article_id, created=False, changed=False, hits_new=0)
                if existing["url"] != article.url:
                    # An updated entry moved to a new URL; a different article may
                    # already hold that URL, and it is the same story: drop it.
                    self._execute(
                        "DELETE FROM articles WHERE url = ? AND id != ?", [article.url, article_id]
                    )
                assignments = ", ".join(f"{name} = ?" for name in columns)
                self._execute(
                    f"UPDATE articles SET {assignments}, updated_at = ? WHERE id = ?",
                    [*values, now, article_id],
                )
            if created:  # nothing stored of it yet: no hits, totals or retry to replace
                hits_new = self._insert_hits(
                    article_id, matches, article.market, article.language, article.source, now
                )
            else:
                changes = self.replace_hits(
                    article_id,
                    matches,
                    market=article.market,
                    language=article.language,
                    source=article.source,
                    found_at=now,
                )
                hits_new = sum(change.added for change in changes.values())
                self._clear_hit_totals(article_id)
            self._insert_hit_totals(article_id, matches, totals or {})
            if vector is not None:
                self.save_vector(article_id, vector, replace=not created)
            if fingerprint is not None:  # the article's story is found at the scan's end
                self.save_fingerprint(article_id, fingerprint, replace=not created)
            if indicators is not None:
                if not created:
                    self._execute("DELETE FROM indicators WHERE article_id = ?", [article_id])
                self._insert_indicators(article_id, indicators)
            if page_retry is not None or not created:
                self._set_page_retry(article_id, page_retry)
        return SavedArticle(
            article_id, created=created, changed=True, hits_new=hits_new, story_id=placed
        )

    # --- stories (docs/stories.md) ---------------------------------------------------------

    def save_fingerprint(
        self, article_id: int, fingerprint: StoryFingerprint, *, replace: bool = True
    ) -> None:
        with self.transaction():
            if replace:
                self._execute("DELETE FROM article_fingerprints WHERE article_id = ?", [article_id])
            self._execute(
                "INSERT INTO article_fingerprints (article_id, signature, numbers) "
                "VALUES (?, ?, ?)",
                [article_id, fingerprint.signature, ",".join(map(str, fingerprint.numbers))],
            )

    def join_story(
        self,
        article_id: int,
        fingerprint: StoryFingerprint | None,
        story_id: int | None,
        *,
        reuse: int | None = None,
    ) -> int:
        """Keep a new article's fingerprint (None: kept already) and put it in a story
        (None: a story of its own, made from the article at once); the story's id."""
        with self.transaction():
            if fingerprint is not None:
                self.save_fingerprint(article_id, fingerprint)
            if story_id is not None or reuse is not None:
                return self.set_story(article_id, story_id, reuse=reuse)
            row = self._fetch_one(
                f"SELECT {SEEN_AT}, a.title, a.language, a.market FROM articles a WHERE a.id = ?",
                [article_id],
            )
            assert row is not None
            created = self._new_story(*row)
            self._execute("UPDATE articles SET story_id = ? WHERE id = ?", [created, article_id])
            return created

    def story_candidates(self, *, since: str, until: str) -> list[StoryCandidate]:
        """Articles seen in [since, until] that have a story and a fingerprint."""
        rows = self._fetch(
            f"""SELECT a.id, a.story_id, a.language, {SEEN_AT}, f.signature, f.numbers,
                       v.model, v.lead_end, v.vector
                FROM articles a
                JOIN article_fingerprints f ON f.article_id = a.id
                LEFT JOIN article_vectors v ON v.article_id = a.id
                WHERE a.story_id IS NOT NULL AND {SEEN_AT} >= ? AND {SEEN_AT} <= ?
                ORDER BY a.id""",
            [since, until],
        )
        return [
            StoryCandidate(
                article_id=int(row[0]),
                story_id=int(row[1]),
                language=row[2],
                seen_at=row[3],
                fingerprint=StoryFingerprint(bytes(row[4]), _numbers(row[5])),
                vector=ArticleVector(row[6], int(row[7]), bytes(row[8])) if row[6] else None,
            )
            for row in rows
        ]

    def set_story(self, article_id: int, story_id: int | None, *, reuse: int | None = None) -> int:
        """Put an article in a story (None: a new story of its own); its story's id.

        A new story takes the id `reuse` when no story has it (restory keeps the ids
        analysts know). The story's counts, dates, markets and title are brought up to
        date, and so are those of the story the article leaves."""
        with self.transaction():
            before = self._fetch_one("SELECT story_id FROM articles WHERE id = ?", [article_id])
            if story_id is None and reuse is not None:
                taken = self._fetch_one("SELECT 1 FROM stories WHERE id = ?", [reuse])
                if taken is None:
                    self._execute(
                        "INSERT INTO stories (id, first_seen, last_seen) VALUES (?, '', '')",
                        [reuse],
                    )
                    story_id = reuse
            if story_id is None:
                created = self._fetch_one(
                    "INSERT INTO stories (first_seen, last_seen) VALUES ('', '') RETURNING id"
                )
                assert created is not None
                story_id = int(created[0])
            left = int(before[0]) if before is not None and before[0] is not None else None
            joining = left is None and self._fetch_one(
                "SELECT 1 FROM stories WHERE id = ? AND articles > 0", [story_id]
            )
            if joining:
                self._join(article_id, story_id)
            else:
                self._execute(
                    "UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id]
                )
                self.refresh_story(story_id)
            if left is not None and left != story_id:
                self.refresh_story(left)
        return story_id

    def _new_story(self, seen_at: str, title: str, language: str | None, market: str) -> int:
        """A story of one article, made from the article's fields; its id."""
        created = self._fetch_one(
            """INSERT INTO stories (first_seen, last_seen, title, language, markets,
               articles, sources, languages) VALUES (?, ?, ?, ?, ?, 1, 1, ?) RETURNING id""",
            [seen_at, seen_at, title, language, market, 1 if language else 0],
        )
        assert created is not None
        return int(created[0])

    def _join(self, article_id: int, story_id: int, *, set_row: bool = True) -> None:
        """Add an article to a story with its counts updated in place: a story of 500
        articles is not read again for its 501st."""
        row = self._fetch_one(
            f"SELECT {SEEN_AT}, a.title, a.language, a.market, a.source FROM articles a "
            "WHERE a.id = ?",
            [article_id],
        )
        story = self._fetch_one(
            "SELECT first_seen, last_seen, markets FROM stories WHERE id = ?", [story_id]
        )
        assert row is not None and story is not None
        seen_at, title, language, market, source = row
        new_source = not self._fetch_one(
            "SELECT 1 FROM articles WHERE story_id = ? AND source = ? AND id != ? LIMIT 1",
            [story_id, source, article_id],
        )
        new_language = language is not None and not self._fetch_one(
            "SELECT 1 FROM articles WHERE story_id = ? AND language = ? AND id != ? LIMIT 1",
            [story_id, language, article_id],
        )
        markets = ",".join(sorted({*filter(None, story[2].split(",")), market}))
        earliest = seen_at < story[0]
        if set_row:
            self._execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        self._execute(
            """UPDATE stories SET articles = articles + 1, sources = sources + ?,
               languages = languages + ?, markets = ?, first_seen = ?, last_seen = ?,
               title = CASE WHEN ? THEN ? ELSE title END,
               language = CASE WHEN ? THEN ? ELSE language END
               WHERE id = ?""",
            [
                int(new_source), int(new_language), markets,
                min(seen_at, story[0]), max(seen_at, story[1]),
                earliest, title, earliest, language, story_id,
            ],
        )  # fmt: skip

    def refresh_story(self, story_id: int) -> None:
        """Recount a story from its articles; delete it when it has none left."""
        rows = self._fetch(
            f"""SELECT {SEEN_AT}, a.title, a.language, a.market, a.source FROM articles a
                WHERE a.story_id = ? ORDER BY {SEEN_AT}, a.id""",
            [story_id],
        )
        if not rows:
            self._execute("DELETE FROM stories WHERE id = ?", [story_id])
            return
        first = rows[0]
        self._execute(
            """UPDATE stories SET first_seen = ?, last_seen = ?, title = ?, language = ?,
               markets = ?, articles = ?, sources = ?, languages = ? WHERE id = ?""",
            [
                first[0],
                max(row[0] for row in rows),
                first[1],
                first[2],
                ",".join(sorted({row[3] for row in rows})),
                len(rows),
                len({row[4] for row in rows}),
                len({row[2] for row in rows if row[2]}),
                story_id,
            ],
        )

    def articles_for_stories(
        self, *, since: str | None, fingerprinted: bool = False
    ) -> list[StoryInput]:
        """Articles without a story (seen since `since`; only those with a fingerprint:
        `fingerprinted`), oldest first."""
        condition, params = (f"AND {SEEN_AT} >= ?", [since]) if since else ("", [])
        if fingerprinted:
            condition += " AND f.article_id IS NOT NULL"
        rows = self._fetch(
            f"""SELECT a.id, {SEEN_AT}, a.language,
                       CASE WHEN f.article_id IS NULL THEN a.text ELSE '' END,
                       f.signature, f.numbers, v.model, v.lead_end, v.vector
                FROM articles a
                LEFT JOIN article_fingerprints f ON f.article_id = a.id
                LEFT JOIN article_vectors v ON v.article_id = a.id
                WHERE a.story_id IS NULL {condition}
                ORDER BY {SEEN_AT}, a.id""",
            params,
        )
        return [
            StoryInput(
                article_id=int(row[0]),
                seen_at=row[1],
                language=row[2],
                text=row[3],
                fingerprint=StoryFingerprint(bytes(row[4]), _numbers(row[5]))
                if row[4] is not None
                else None,
                vector=ArticleVector(row[6], int(row[7]), bytes(row[8])) if row[6] else None,
            )
            for row in rows
        ]

    def story_ids(self, *, since: str | None = None) -> dict[int, int]:
        """article id -> story id, of the articles seen since `since` (all: None)."""
        condition, params = (f"WHERE {SEEN_AT} >= ?", [since]) if since else ("", [])
        rows = self._fetch(f"SELECT a.id, a.story_id FROM articles a {condition}", params)
        return {int(row[0]): int(row[1]) for row in rows if row[1] is not None}

    def clear_stories(self, *, since: str | None = None) -> int:
        """Take articles seen since `since` (all: None) out of their stories, for restory."""
        with self.transaction():
            condition, params = (f"WHERE {SEEN_AT} >= ?", [since]) if since else ("", [])
            touched = [
                int(row[0])
                for row in self._fetch(
                    f"SELECT DISTINCT a.story_id FROM articles a {condition}", params
                )
                if row[0] is not None
            ]
            count = self._execute(
                "UPDATE articles SET story_id = NULL"
                + (" WHERE id IN (SELECT a.id FROM articles a " + condition + ")" if since else ""),
                params,
            )
            for story_id in touched:
                self.refresh_story(story_id)
        return count

    def story_summaries(self, filters: Filters, *, limit: int | None) -> list[StorySummary]:
        """Stories with hits matching `filters`: the widest (most outlets, then articles)
        and newest first."""
        conditions, params = self.hit_conditions(filters)
        rows = self._fetch(
            f"""SELECT {select_list(STORY_FIELDS)}, COUNT(h.id)
                FROM stories s
                JOIN articles a ON a.story_id = s.id
                JOIN hits h ON h.article_id = a.id
                {where(conditions)}
                GROUP BY s.id, s.first_seen, s.last_seen, s.title, s.language, s.markets,
                         s.articles, s.sources, s.languages
                ORDER BY s.sources DESC, s.articles DESC, s.last_seen DESC, s.id DESC
                {"LIMIT ?" if limit is not None else ""}""",
            [*params, *([limit] if limit is not None else [])],
        )
        fired = self._story_watchlists([int(row[0]) for row in rows], filters)
        return [
            build(
                StorySummary,
                STORY_FIELDS,
                row[:-1],
                hits=int(row[-1]),
                watchlists=fired.get(int(row[0]), ()),
            )
            for row in rows
        ]

    def _story_watchlists(
        self, story_ids: Sequence[int], filters: Filters
    ) -> dict[int, tuple[str, ...]]:
        conditions, params = self.hit_conditions(filters)
        found: dict[int, set[str]] = {}
        for chunk in chunks(list(story_ids)):
            rows = self._fetch(
                f"""SELECT DISTINCT a.story_id, h.watchlist FROM hits h
                    JOIN articles a ON a.id = h.article_id
                    {where([*conditions, f"a.story_id IN ({marks(len(chunk))})"])}""",
                [*params, *chunk],
            )
            for story_id, watchlist in rows:
                found.setdefault(int(story_id), set()).add(watchlist)
        return {story_id: tuple(sorted(names)) for story_id, names in found.items()}

    def story(self, story_id: int) -> StorySummary | None:
        row = self._fetch_one(
            f"SELECT {select_list(STORY_FIELDS)} FROM stories s WHERE s.id = ?", [story_id]
        )
        if row is None:
            return None
        hits = self._fetch_one(
            "SELECT COUNT(*) FROM hits h JOIN articles a ON a.id = h.article_id "
            "WHERE a.story_id = ?",
            [story_id],
        )
        fired = self._story_watchlists([story_id], Filters())
        return build(
            StorySummary,
            STORY_FIELDS,
            row,
            hits=int(hits[0]) if hits else 0,
            watchlists=fired.get(story_id, ()),
        )

    def story_articles(self, story_id: int) -> list[StoryArticleRow]:
        rows = self._fetch(
            f"""SELECT {select_list(STORY_ARTICLE_FIELDS)}
                FROM articles a WHERE a.story_id = ? ORDER BY {SEEN_AT}, a.id""",
            [story_id],
        )
        return [build(StoryArticleRow, STORY_ARTICLE_FIELDS, row) for row in rows]

    def story_hits(self, story_id: int) -> list[Hit]:
        """Every hit of the story, article by article as `story_articles` lists them, each
        article's in text order."""
        rows = self._fetch(
            f"SELECT {HIT_COLUMNS} FROM hits h JOIN articles a ON a.id = h.article_id "
            f"WHERE a.story_id = ? ORDER BY {SEEN_AT}, a.id, h.start, h.id",
            [story_id],
        )
        return [build(Hit, HIT_FIELDS, row) for row in rows]

    def story_of_articles(self, story_ids: Sequence[int]) -> dict[int, int]:
        """The story of each article in one of `story_ids`: article id -> story id."""
        found: dict[int, int] = {}
        for chunk in chunks(list(story_ids)):
            rows = self._fetch(
                f"SELECT id, story_id FROM articles WHERE story_id IN ({marks(len(chunk))})",
                chunk,
            )
            found.update((int(row[0]), int(row[1])) for row in rows)
        return found

    def story_hit_ids(self, story_id: int) -> list[int]:
        rows = self._fetch(
            "SELECT h.id FROM hits h JOIN articles a ON a.id = h.article_id "
            "WHERE a.story_id = ? ORDER BY h.id",
            [story_id],
        )
        return [int(row[0]) for row in rows]

    # --- vectors (docs/semantic.md) -----------------------------------------------------

    def save_vector(self, article_id: int, vector: ArticleVector, *, replace: bool = True) -> None:
        """Keep the vector of an article's lead (one per article: a new one replaces it)."""
        with self.transaction():  # joins the caller's, if there is one
            if replace:
                self._execute("DELETE FROM article_vectors WHERE article_id = ?", [article_id])
            self._execute(
                "INSERT INTO article_vectors (article_id, model, lead_end, vector) "
                "VALUES (?, ?, ?, ?)",
                [article_id, vector.model, vector.lead_end, vector.vector],
            )

    def set_tone(self, article_id: int, tone: float | None) -> None:
        with self.transaction():
            self._execute("UPDATE articles SET tone = ? WHERE id = ?", [tone, article_id])

    def article_vectors(self, article_ids: Sequence[int]) -> dict[int, ArticleVector]:
        """The stored vectors of these articles, by article id (those that have one)."""
        found: dict[int, ArticleVector] = {}
        for chunk in chunks(list(article_ids)):
            for row in self._fetch(
                "SELECT article_id, model, lead_end, vector FROM article_vectors "
                f"WHERE article_id IN ({marks(len(chunk))})",
                chunk,
            ):
                found[int(row[0])] = ArticleVector(row[1], int(row[2]), bytes(row[3]))
        return found

    def background_vectors(self, model: str, language: str, *, limit: int) -> list[bytes]:
        """Vectors of the newest `limit` articles in `language` that no watchlist hit:
        the store's own ordinary news, for `adwatch calibrate`."""
        rows = self._fetch(
            """SELECT v.vector FROM article_vectors v JOIN articles a ON a.id = v.article_id
               WHERE v.model = ? AND a.language = ?
                 AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.article_id = a.id)
               ORDER BY a.id DESC LIMIT ?""",
            [model, language, limit],
        )
        return [bytes(row[0]) for row in rows]

    def cached_query_vectors(self, model: str, texts: Sequence[str]) -> dict[str, bytes]:
        """Vectors of watchlist descriptions embedded by an earlier scan, by text."""
        found: dict[str, bytes] = {}
        for chunk in chunks(list(texts)):
            for row in self._fetch(
                "SELECT text, vector FROM description_vectors "
                f"WHERE model = ? AND text IN ({marks(len(chunk))})",
                [model, *chunk],
            ):
                found[row[0]] = bytes(row[1])
        return found

    def cache_query_vectors(self, model: str, vectors: dict[str, bytes]) -> None:
        with self.transaction():
            self._execute_many(
                "INSERT INTO description_vectors (model, text, vector) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(model, text, vector) for text, vector in vectors.items()],
            )

    def save_background(self, model: str, language: str, vectors: bytes, articles: int) -> None:
        """Make these vectors the store's background for `language` (`adwatch calibrate`)."""
        with self.transaction():
            self._execute(
                "DELETE FROM semantic_background WHERE model = ? AND language = ?",
                [model, language],
            )
            self._execute(
                "INSERT INTO semantic_background (model, language, articles, vectors, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [model, language, articles, vectors, utc_now()],
            )

    def stored_background(self, model: str) -> dict[str, tuple[bytes, int, str]]:
        """language -> (vectors, articles, created_at) saved by `adwatch calibrate`."""
        return {
            row[0]: (bytes(row[1]), int(row[2]), row[3])
            for row in self._fetch(
                "SELECT language, vectors, articles, created_at FROM semantic_background "
                "WHERE model = ?",
                [model],
            )
        }

    # --- robots.txt kept between scans (docs/fetching.md) -----------------------------------

    def kept_robots(self, *, fetched_since: str) -> list[RobotsFile]:
        """The robots.txt files fetched at or after `fetched_since`, one per origin."""
        return [
            RobotsFile(row[0], int(row[1]), row[2], row[3])
            for row in self._fetch(
                "SELECT origin, status, body, fetched_at FROM robots WHERE fetched_at >= ?",
                [fetched_since],
            )
        ]

    def keep_robots(self, files: Sequence[RobotsFile]) -> None:
        """Keep these robots.txt files for later scans, each replacing its origin's."""
        if not files:
            return
        with self.transaction():
            self._execute_many(
                "INSERT INTO robots (origin, status, body, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET status = excluded.status, "
                "body = excluded.body, fetched_at = excluded.fetched_at",
                [(f.origin, f.status, f.body, f.fetched_at) for f in files],
            )

    def set_hit_totals(
        self,
        article_id: int,
        matches: Sequence[Match],
        totals: dict[str, int],
        *,
        scope: Iterable[str] | None = None,
    ) -> None:
        """Record, per watchlist, how many hits the article had beyond those kept.

        `scope` limits the change to those watchlists (a rematch of some of them).
        """
        self._clear_hit_totals(article_id, scope)
        if scope is not None:
            totals = {name: total for name, total in totals.items() if name in scope}
        self._insert_hit_totals(article_id, matches, totals)

    def _clear_hit_totals(self, article_id: int, scope: Iterable[str] | None = None) -> None:
        if scope is None:
            self._execute("DELETE FROM hit_totals WHERE article_id = ?", [article_id])
            return
        names = sorted(scope)
        self._execute(
            f"DELETE FROM hit_totals WHERE article_id = ? AND watchlist IN ({marks(len(names))})",
            [article_id, *names],
        )

    def _insert_hit_totals(
        self, article_id: int, matches: Sequence[Match], totals: dict[str, int]
    ) -> None:
        kept: dict[str, int] = {}
        for match in matches:
            kept[match.watchlist] = kept.get(match.watchlist, 0) + 1
        rows = [
            (article_id, name, total, kept.get(name, 0))
            for name, total in totals.items()
            if total > kept.get(name, 0)
        ]
        if rows:
            self._execute_many(
                "INSERT INTO hit_totals (article_id, watchlist, total, kept) VALUES (?, ?, ?, ?)",
                rows,
            )

    def _set_page_retry(self, article_id: int, retry: PageRetry | None) -> None:
        if retry is None:
            self._execute(
                "UPDATE articles SET page_attempts = 0, page_retry_at = NULL, page_error = NULL"
                " WHERE id = ? AND (page_attempts != 0 OR page_error IS NOT NULL)",
                [article_id],
            )
        else:
            self._execute(
                "UPDATE articles SET page_attempts = ?, page_retry_at = ?, page_error = ?"
                " WHERE id = ?",
                [retry.attempts, retry.retry_at, retry.error, article_id],
            )

    def record_page_retry(self, article_id: int, retry: PageRetry) -> None:
        """A retried page failed again: keep the article as it is, note the try."""
        with self.transaction():
            self._set_page_retry(article_id, retry)

    def pages_to_retry(
        self, source: str, *, now: str, fetched_since: str, limit: int
    ) -> list[RetryCandidate]:
        """Articles of `source` whose page failed and is due for another try, oldest due first."""
        rows = self._fetch(
            f"""SELECT {select_list(RETRY_FIELDS)} FROM articles
               WHERE source = ? AND page_retry_at IS NOT NULL AND page_retry_at <= ?
                 AND fetched_at >= ?
               ORDER BY page_retry_at LIMIT ?""",
            [source, now, fetched_since, limit],
        )
        return [build(RetryCandidate, RETRY_FIELDS, row) for row in rows]

    def replace_hits(
        self,
        article_id: int,
        matches: Sequence[Match],
        *,
        market: str,
        language: str | None,
        source: str,
        found_at: str,
        scope: Iterable[str] | None = None,
    ) -> dict[str, HitChange]:
        """Bring an article's stored hits (of the `scope` watchlists, or all) to `matches`.

        A hit found again keeps its id, status and found_at (an edited page does not
        present old hits as new) and takes the watchlist's current category,
        severity and snippet; a new one is inserted; one no longer found is deleted
        unless an analyst triaged it, and then it is kept and counted. The scan and
        `rematch` both come here, so both treat hits alike. Returns what changed per
        watchlist.
        """
        plan = self.plan_hits(article_id, matches, scope=scope)
        for chunk in chunks([hit.id for hit in plan.removed]):
            self._execute(f"DELETE FROM hits WHERE id IN ({marks(len(chunk))})", chunk)
        if plan.again:
            self._execute_many(
                """UPDATE hits SET category = ?, severity = ?, matched_text = ?, "end" = ?,
                   snippet = ?, score = ?, event = ? WHERE id = ? AND (category != ?
                   OR severity != ? OR matched_text != ? OR "end" != ? OR snippet != ?
                   OR coalesce(score, -9) != coalesce(?, -9)
                   OR coalesce(event, '') != coalesce(?, ''))""",
                [
                    (m.category, m.severity, m.matched_text, m.end, m.snippet, m.score, m.event,
                     hit_id, m.category, m.severity, m.matched_text, m.end, m.snippet, m.score,
                     m.event)
                    for hit_id, m in plan.again
                ],
            )  # fmt: skip
        self._insert_hits(article_id, plan.added, market, language, source, found_at)
        return plan.changes()

    def plan_hits(
        self, article_id: int, matches: Sequence[Match], *, scope: Iterable[str] | None = None
    ) -> HitPlan:
        """What `replace_hits` would do with `matches`, without doing it (`rematch --dry-run`)."""
        names = sorted(scope) if scope is not None else None
        where = "article_id = ?"
        params: list[Any] = [article_id]
        if names is not None:
            where += f" AND watchlist IN ({marks(len(names))})"
            params += names
        stored = {
            (row[1], row[2], row[3]): (
                StoredHit(row[0], row[1], row[2], row[6], row[3]),
                row[4] != "new" or bool(row[5]),
            )
            for row in self._fetch(
                "SELECT id, watchlist, term, start, status, note, matched_text FROM hits "
                f"WHERE {where}",
                params,
            )
        }
        current = {(m.watchlist, m.term, m.start): m for m in matches}
        plan = HitPlan(article_id)
        for key, (hit, triaged) in stored.items():
            if key not in current:
                (plan.kept_triaged if triaged else plan.removed).append(hit)
        plan.again = [(stored[key][0].id, match) for key, match in current.items() if key in stored]
        plan.added = [match for key, match in current.items() if key not in stored]
        return plan

    def _insert_hits(
        self,
        article_id: int,
        matches: Sequence[Match],
        market: str,
        language: str | None,
        source: str,
        found_at: str,
    ) -> int:
        """Insert the hits not stored yet; how many were new."""
        return self._execute_many(
            _HIT_INSERT,
            [
                (
                    article_id,
                    m.watchlist,
                    m.category,
                    m.severity,
                    m.term,
                    m.matched_text,
                    m.start,
                    m.end,
                    m.snippet,
                    market,
                    language,
                    found_at,
                    source,
                    m.score,
                    m.event,
                )
                for m in matches
            ],  # fmt: skip
        )

    def article_texts(self, *, after_id: int, since: str | None, limit: int) -> list[StoredText]:
        """Up to `limit` articles with ids above `after_id` (fetched since `since`), in id order."""
        since_clause = "AND fetched_at >= ?" if since else ""
        rows = self._fetch(
            f"""SELECT id, text, market, language, source, published_at, fetched_at
                FROM articles WHERE id > ? {since_clause} ORDER BY id LIMIT ?""",
            [after_id, *([since] if since else []), limit],
        )
        return [
            StoredText(row[0], row[1] or "", row[2], row[3], row[4], row[5], row[6]) for row in rows
        ]

    # --- runs ---------------------------------------------------------------------------

    def mark_interrupted_runs(self) -> None:
        """Runs still 'running' were killed: the caller holds the scan lock, so none is alive."""
        with self.transaction():
            self._execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")

    def start_run(self) -> int:
        with self.transaction():
            row = self._fetch_one(
                "INSERT INTO runs (started_at, status) VALUES (?, 'running') RETURNING id",
                [utc_now()],
            )
        assert row is not None
        return int(row[0])

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        sources_ok: int,
        sources_failed: int,
        articles_new: int,
        hits_new: int,
        details: dict[str, Any],
    ) -> None:
        with self.transaction():
            self._execute(
                """UPDATE runs SET finished_at = ?, status = ?, sources_ok = ?,
                   sources_failed = ?, articles_new = ?, hits_new = ?, details = ?
                   WHERE id = ?""",
                [
                    utc_now(), status, sources_ok, sources_failed, articles_new, hits_new,
                    json.dumps(details, ensure_ascii=False), run_id,
                ],
            )  # fmt: skip

    # --- evidence and indicators (docs/evidence.md, docs/indicators.md) ----------------------

    def replace_indicators(self, article_id: int, indicators: Sequence[Any]) -> None:
        """An article's indicators (anything with kind, value, raw, start, end) now."""
        with self.transaction():
            self._execute("DELETE FROM indicators WHERE article_id = ?", [article_id])
            self._insert_indicators(article_id, indicators)

    def _insert_indicators(self, article_id: int, indicators: Sequence[Any]) -> None:
        self._execute_many(
            """INSERT INTO indicators (article_id, kind, value, raw, start, "end")
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [(article_id, i.kind, i.value, i.raw, i.start, i.end) for i in indicators],
        )

    def set_evidence(self, article_id: int, evidence: EvidenceRef) -> None:
        with self.transaction():
            self._execute(
                "UPDATE articles SET warc_file = ?, warc_offset = ?, sha256 = ? WHERE id = ?",
                [evidence.warc_file, evidence.warc_offset, evidence.sha256, article_id],
            )

    def evidence_of(self, article_ids: Sequence[int]) -> dict[int, EvidenceRef]:
        """Where each of these articles' pages is kept, for those kept."""
        found: dict[int, EvidenceRef] = {}
        for chunk in chunks(list(article_ids)):
            for article_id, warc_file, offset, sha256 in self._fetch(
                f"""SELECT id, warc_file, warc_offset, sha256 FROM articles
                    WHERE id IN ({marks(len(chunk))}) AND warc_file IS NOT NULL""",
                chunk,
            ):
                found[int(article_id)] = EvidenceRef(warc_file, int(offset), sha256)
        return found

    def forget_evidence(self, warc_files: Sequence[str]) -> int:
        """Files retention deleted: their articles keep their SHA-256, not a place."""
        forgotten = 0
        with self.transaction():
            for chunk in chunks(list(warc_files)):
                forgotten += self._execute(
                    "UPDATE articles SET warc_file = NULL, warc_offset = NULL "
                    f"WHERE warc_file IN ({marks(len(chunk))})",
                    chunk,
                )
        return forgotten

    def kept_sha256(self, url: str) -> str | None:
        """The SHA-256 of the page kept for the article at `url`: an unchanged page is not
        kept twice."""
        row = self._fetch_one("SELECT sha256 FROM articles WHERE url = ?", [url])
        return row[0] if row else None

    def pivot(self, pairs: Sequence[tuple[str, str]], *, limit: int | None) -> list[PivotRow]:
        """Every mention of any (kind, value) of `pairs`, newest article first."""
        if not pairs:
            return []
        condition = " OR ".join("(i.kind = ? AND i.value = ?)" for _ in pairs)
        params: list[Any] = [part for pair in pairs for part in pair]
        sql = (
            "SELECT i.article_id, a.url, a.title, a.source, a.market, a.language, "
            'a.published_at, a.fetched_at, a.story_id, i.kind, i.value, i.raw, i.start, i."end" '
            f"FROM indicators i JOIN articles a ON a.id = i.article_id WHERE {condition} "
            "ORDER BY a.fetched_at DESC, i.article_id DESC, i.start"
        )
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [PivotRow(*row) for row in self._fetch(sql, params)]

    def article_indicators(self, article_id: int) -> list[PivotRow]:
        """The indicators one article names, in text order, each value once."""
        rows = self._fetch(
            "SELECT i.article_id, a.url, a.title, a.source, a.market, a.language, "
            'a.published_at, a.fetched_at, a.story_id, i.kind, i.value, i.raw, i.start, i."end" '
            "FROM indicators i JOIN articles a ON a.id = i.article_id WHERE i.article_id = ? "
            "ORDER BY i.start",
            [article_id],
        )
        seen: set[tuple[str, str]] = set()
        found = []
        for row in rows:
            if (row[9], row[10]) not in seen:
                seen.add((row[9], row[10]))
                found.append(PivotRow(*row))
        return found

    def indicator_summaries(
        self,
        *,
        kinds: Sequence[str] = (),
        markets: Sequence[str] = (),
        since: str | None = None,
        min_articles: int = 2,
        min_stories: int = 1,
        limit: int | None = None,
    ) -> list[IndicatorSummary]:
        """Indicator values seen in at least `min_articles` articles (of at least
        `min_stories` stories), newest first."""
        conditions: list[str] = []
        params: list[Any] = []
        if kinds:
            conditions.append(in_values("i.kind", kinds))
            params += kinds
        if markets:
            conditions.append(in_values("a.market", markets))
            params += markets
        if since:
            conditions.append("a.fetched_at >= ?")
            params.append(since)
        sql = (
            "SELECT i.kind, i.value, COUNT(DISTINCT i.article_id), COUNT(DISTINCT a.source), "
            "COUNT(DISTINCT a.story_id), MIN(a.fetched_at), MAX(a.fetched_at) "
            f"FROM indicators i JOIN articles a ON a.id = i.article_id {where(conditions)} "
            "GROUP BY i.kind, i.value HAVING COUNT(DISTINCT i.article_id) >= ? "
            "AND COUNT(DISTINCT a.story_id) >= ? "
            "ORDER BY MAX(a.fetched_at) DESC, COUNT(DISTINCT i.article_id) DESC, i.kind, i.value"
        )
        params += [min_articles, min_stories]
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            IndicatorSummary(kind, value, int(n), int(sources), int(stories), first, last)
            for kind, value, n, sources, stories, first, last in self._fetch(sql, params)
        ]

    # --- early warning (docs/alerts.md) ------------------------------------------------------

    def spike_counts(
        self, *, since: str, until: str, stories: bool = False
    ) -> dict[tuple[str, str], dict[str, int]]:
        """Per (watchlist, market), per UTC day of fetching in [since, until): the articles
        (or stories) with a hit of the watchlist that an analyst has not dismissed.

        Counted by when the article was fetched, not when the hit was found, so a
        `rematch` does not pile a store's history onto one day."""
        counted = "a.story_id" if stories else "a.id"
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for day, watchlist, market, count in self._fetch(
            f"""SELECT substr(a.fetched_at, 1, 10) AS day, h.watchlist, a.market,
                       COUNT(DISTINCT {counted})
                FROM hits h JOIN articles a ON a.id = h.article_id
                WHERE a.fetched_at >= ? AND a.fetched_at < ? AND h.status != 'dismissed'
                GROUP BY day, h.watchlist, a.market""",
            [since, until],
        ):
            counts.setdefault((watchlist, market), {})[day] = int(count)
        return counts

    def scanned_counts(
        self, *, since: str, until: str, stories: bool = False
    ) -> dict[str, dict[str, int]]:
        """Per market, per UTC day in [since, until): the articles (or stories) fetched,
        the spike test's denominator."""
        counted = "story_id" if stories else "id"
        counts: dict[str, dict[str, int]] = {}
        for day, market, count in self._fetch(
            f"""SELECT substr(fetched_at, 1, 10) AS day, market, COUNT(DISTINCT {counted})
                FROM articles WHERE fetched_at >= ? AND fetched_at < ?
                GROUP BY day, market""",
            [since, until],
        ):
            counts.setdefault(market, {})[day] = int(count)
        return counts

    def day_top_stories(
        self, watchlist: str, market: str, *, since: str, until: str, limit: int = 3
    ) -> list[int]:
        """The stories most of a watchlist's articles in a market in [since, until) belong to."""
        rows = self._fetch(
            """SELECT a.story_id, COUNT(DISTINCT a.id) AS n
               FROM hits h JOIN articles a ON a.id = h.article_id
               WHERE h.watchlist = ? AND a.market = ? AND a.fetched_at >= ?
                 AND a.fetched_at < ? AND a.story_id IS NOT NULL AND h.status != 'dismissed'
               GROUP BY a.story_id ORDER BY n DESC, a.story_id LIMIT ?""",
            [watchlist, market, since, until, limit],
        )
        return [int(row[0]) for row in rows]

    def critical_hits(self, *, found_since: str, limit: int) -> list[HitAlert]:
        """The first critical hit of each article and watchlist found since `found_since`
        (not dismissed), oldest first, at most `limit`.

        One per article and watchlist: an article that says "scam ad" five times is one
        alert, not five."""
        first = """SELECT MIN(id) FROM hits WHERE severity = 'critical' AND found_at >= ?
                   AND status != 'dismissed' GROUP BY article_id, watchlist"""
        rows = self._fetch(
            f"""SELECT h.id, a.title, a.url, h.source, h.watchlist, h.severity,
                       h.matched_text, h.market, h.language, h.found_at, a.published_at,
                       h.event
                FROM hits h JOIN articles a ON a.id = h.article_id
                WHERE h.id IN ({first}) ORDER BY h.id LIMIT ?""",
            [found_since, limit],
        )
        return [HitAlert(int(r[0]), r[1] or "", r[2], r[3] or "", *r[4:12]) for r in rows]

    def story_count(self, filters: Filters) -> int:
        """Stories with a hit matching `filters`."""
        sql_conditions, params = self.hit_conditions(filters)
        row = self._fetch_one(
            "SELECT COUNT(DISTINCT a.story_id) FROM hits h JOIN articles a ON a.id = "
            f"h.article_id {where([*sql_conditions, 'a.story_id IS NOT NULL'])}",
            params,
        )
        return int(row[0]) if row else 0

    def record_alerts(
        self, alerts: Sequence[Alert], *, run_id: int | None, now: str
    ) -> list[Alert]:
        """Store the alerts not stored yet (by key) and return them: an alert is raised once,
        also when two scanners of a shared store raise it at the same moment (each row is
        inserted or skipped by the database, and only the insert counts)."""
        new: list[Alert] = []
        with self.transaction():
            for alert in {alert.key: alert for alert in alerts}.values():
                spike = alert if isinstance(alert, SpikeAlert) else None
                inserted = self._execute(
                    """INSERT INTO alerts (key, kind, raised_at, run_id, watchlist, market, day,
                       observed, expected, p_value, why, payload)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                    [
                        alert.key,
                        alert.kind,
                        now,
                        run_id,
                        getattr(alert, "watchlist", None),
                        getattr(alert, "market", None),
                        getattr(alert, "day", None),
                        spike.observed if spike else None,
                        spike.expected if spike else None,
                        spike.p_value if spike else None,
                        spike.why if spike else None,
                        json.dumps(alert.as_dict(), ensure_ascii=False),
                    ],
                )
                if inserted:
                    new.append(alert)
        return new

    def has_alert(self, key: str) -> bool:
        return self._fetch_one("SELECT 1 FROM alerts WHERE key = ?", [key]) is not None

    def alert_payloads(self, *, kind: str, raised_since: str) -> list[str]:
        """The JSON of the alerts of `kind` raised since `raised_since`, oldest first."""
        rows = self._fetch(
            "SELECT payload FROM alerts WHERE kind = ? AND raised_at >= ? ORDER BY raised_at, key",
            [kind, raised_since],
        )
        return [row[0] for row in rows]

    def queue_deliveries(self, rows: Sequence[tuple[str, str]], *, now: str) -> None:
        """(target, alert key) pairs to deliver, due at once; one already queued stays as it is."""
        with self.transaction():
            self._execute_many(
                """INSERT INTO deliveries (target, alert_key, status, attempts, created_at,
                   next_attempt_at) VALUES (?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING""",
                [(target, key, now, now) for target, key in rows],
            )

    def due_deliveries(self, target: str, *, now: str, limit: int) -> list[PendingDelivery]:
        """A target's pending deliveries due by `now`, oldest first."""
        rows = self._fetch(
            """SELECT d.alert_key, a.kind, a.payload, d.attempts, d.created_at
               FROM deliveries d JOIN alerts a ON a.key = d.alert_key
               WHERE d.target = ? AND d.status = 'pending' AND d.next_attempt_at <= ?
               ORDER BY d.created_at, d.alert_key LIMIT ?""",
            [target, now, limit],
        )
        return [PendingDelivery(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows]

    def claim_deliveries(
        self, target: str, due: Sequence[PendingDelivery], *, now: str, until: str
    ) -> list[PendingDelivery]:
        """Of `due`, those this process may send now: each is moved to `until` (when another
        scanner may take it, should this one die sending), and a row another scanner moved
        first is left to it. Several scanners of one store never send an alert twice."""
        claimed = []
        with self.transaction():
            for item in due:
                moved = self._execute(
                    """UPDATE deliveries SET next_attempt_at = ? WHERE target = ?
                       AND alert_key = ? AND status = 'pending' AND next_attempt_at <= ?""",
                    [until, target, item.alert_key, now],
                )
                if moved:
                    claimed.append(item)
        return claimed

    def record_delivery(
        self,
        target: str,
        outcomes: Sequence[tuple[str, str, str | None]],
        *,
        now: str,
        ok: bool,
        error: str | None,
    ) -> None:
        """After one attempt: `outcomes` are (alert key, new status, next attempt time)."""
        with self.transaction():
            self._execute_many(
                """UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?,
                   delivered_at = ?, next_attempt_at = coalesce(?, next_attempt_at)
                   WHERE target = ? AND alert_key = ?""",
                [
                    (status, None if ok else error, now if ok else None, retry_at, target, key)
                    for key, status, retry_at in outcomes
                ],
            )

    def delivery_states(self) -> list[DeliveryState]:
        """Each target's deliveries: how many wait, arrived, were given up; its last error."""
        rows = self._fetch(
            """SELECT d.target,
                      SUM(CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END),
                      SUM(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END),
                      SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
                      (SELECT e.last_error FROM deliveries e WHERE e.target = d.target
                         AND e.last_error IS NOT NULL AND e.status != 'delivered'
                       ORDER BY e.next_attempt_at DESC LIMIT 1),
                      MAX(d.delivered_at)
               FROM deliveries d GROUP BY d.target ORDER BY d.target"""
        )
        return [
            DeliveryState(target, int(pending or 0), int(delivered or 0), int(failed or 0),
                          error, last_delivered)
            for target, pending, delivered, failed, error, last_delivered in rows
        ]  # fmt: skip

    # --- the analyst's questions -----------------------------------------------------------

    # Which table and column name markets, languages, watchlists, sources, categories.
    NAMED: dict[str, tuple[tuple[str, str], ...]] = {
        "markets": (("sources", "market"), ("hits", "market")),
        "languages": (("hits", "language"), ("articles", "language")),
        "watchlists": (("hits", "watchlist"),),
        "sources": (("sources", "name"), ("hits", "source")),
        "categories": (("hits", "category"),),
        "events": (("hits", "event"),),
    }

    def has_value(self, field_name: str, value: str) -> bool:
        """Whether the store names this market, language, watchlist, source or category."""
        return any(
            self._fetch_one(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [value])
            for table, column in self.NAMED[field_name]
        )

    def known_values(self, field_name: str) -> set[str]:
        """Every market, language, watchlist, source or category the store names."""
        known: set[str] = set()
        for table, column in self.NAMED[field_name]:
            known |= {
                row[0]
                for row in self._fetch(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
                )
            }
        return known

    # Filters become conditions on indexed columns with bound parameters (values never
    # become SQL text).

    def _conditions(self, filters: Filters, alias: str = "h") -> list[Condition]:
        out: list[Condition] = []
        if filters.since:
            out.append(Condition(f"{alias}.found_at >= ?", (filters.since,)))
        if filters.until:
            out.append(Condition(f"{alias}.found_at <= ?", (filters.until,)))
        for column, values in equality_values(filters):
            out.append(Condition(in_values(f"{alias}.{column}", values), values, column, values))
        if filters.text:
            sql, params = self._text_condition(filters.text, f"{alias}.article_id")
            out.append(Condition(sql, tuple(params)))
        return out

    def hit_conditions(self, filters: Filters, alias: str = "h") -> tuple[list[str], list[Any]]:
        """SQL conditions on `hits` (as `alias`) and their parameters, one per filter."""
        conditions = self._conditions(filters, alias)
        return [c.sql for c in conditions], [p for c in conditions for p in c.params]

    @abstractmethod
    def _text_condition(self, query: str, column: str) -> tuple[str, list[Any]]:
        """A condition that the article whose id is in `column` matches a search `query`."""

    def hits_query(
        self, filters: Filters, *, columns: str, limit: int | None
    ) -> tuple[str, list[Any]]:
        """The SELECT behind `hits` and `export`, newest first, and its parameters."""
        sql_conditions, params = self.hit_conditions(filters)
        sql = (
            f"SELECT {columns} FROM hits h JOIN articles a ON a.id = h.article_id "
            f"{where(sql_conditions)} ORDER BY h.found_at DESC, h.id DESC"
        )
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    def iter_hits(self, filters: Filters, *, limit: int | None = None) -> Iterator[Hit]:
        """Hits matching `filters`, newest first, streamed (`limit` 0/None: all)."""
        sql, params = self.hits_query(filters, columns=HIT_COLUMNS, limit=limit)
        for row in self._stream(sql, params):
            yield build(Hit, HIT_FIELDS, row)

    def iter_export_rows(
        self, filters: Filters, *, limit: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of the export columns (design.md) as plain tuples, newest first, streamed."""
        sql, params = self.hits_query(filters, columns=EXPORT_SELECT, limit=limit)
        yield from self._stream(sql, params)

    def hit_ids(self, filters: Filters) -> list[int]:
        """Ids of every hit matching `filters`, newest first."""
        sql, params = self.hits_query(filters, columns="h.id", limit=None)
        return [row[0] for row in self._stream(sql, params)]

    def _json_list(self, expression: str, *, distinct: bool = False) -> str:
        """An aggregate that collects `expression` into a JSON array (as text)."""
        inner = f"DISTINCT {expression}" if distinct else expression
        return f"json_group_array({inner})"

    def articles_with_hits(self, filters: Filters, *, limit: int | None = 50) -> list[ArticleHits]:
        """One row per article with hits matching `filters`, newest hit first."""
        sql_conditions, params = self.hit_conditions(filters)
        rank = SEVERITY_RANK.format(col="h.severity")
        sql = (
            "SELECT h.article_id, MAX(h.found_at) AS newest, a.market, a.language, a.title, "
            f"a.url, a.source, a.published_at, MAX({rank}), "
            f"{self._json_list('h.watchlist', distinct=True)}, {self._json_list('h.id')} "
            "FROM hits h JOIN articles a ON a.id = h.article_id "
            f"{where(sql_conditions)} GROUP BY h.article_id, a.market, a.language, a.title, "
            "a.url, a.source, a.published_at ORDER BY newest DESC, h.article_id DESC"
        )
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            ArticleHits(
                article_id=row[0],
                found_at=row[1],
                market=row[2],
                language=row[3],
                title=row[4],
                url=row[5],
                source=row[6],
                published_at=row[7],
                severity=SEVERITIES[row[8]],
                watchlists=tuple(sorted(_as_list(row[9]))),
                hit_ids=tuple(sorted(_as_list(row[10]), reverse=True)),
            )
            for row in self._fetch(sql, params)
        ]

    def hit_record(self, hit_id: int) -> HitRecord | None:
        """The hit with its article's fetch time and text, or None."""
        row = self._fetch_one(
            f"SELECT {HIT_COLUMNS}, a.fetched_at, a.text FROM hits h "
            "JOIN articles a ON a.id = h.article_id WHERE h.id = ?",
            [hit_id],
        )
        if row is None:
            return None
        return HitRecord(build(Hit, HIT_FIELDS, row[:-2]), fetched_at=row[-2], text=row[-1])

    def other_hits(self, article_id: int, *, besides: int, limit: int) -> tuple[list[Hit], int]:
        """The first `limit` hits of an article in text order but `besides`, and how many."""
        rows = self._fetch(
            f"SELECT {HIT_COLUMNS} FROM hits h JOIN articles a ON a.id = h.article_id "
            "WHERE h.article_id = ? AND h.id != ? ORDER BY h.start, h.id LIMIT ?",
            [article_id, besides, limit],
        )
        total = self._fetch_one(
            "SELECT COUNT(*) FROM hits WHERE article_id = ? AND id != ?", [article_id, besides]
        )
        return [build(Hit, HIT_FIELDS, row) for row in rows], int(total[0]) if total else 0

    def triage_history(self, hit_id: int) -> list[TriageEntry]:
        rows = self._fetch(
            f"SELECT {select_list(TRIAGE_FIELDS)} FROM triage_log WHERE hit_id = ? ORDER BY at, id",
            [hit_id],
        )
        return [build(TriageEntry, TRIAGE_FIELDS, row) for row in rows]

    #: appended to the SELECT that reads statuses before a triage (row locks, where needed)
    _LOCK_ROWS = ""

    def set_triage(
        self, ids: Sequence[int], *, status: str, note: str | None, who: str, at: str
    ) -> list[TriageChange]:
        """Set status (and note) of hits `ids`, logging each change; all or nothing.

        Raises UsageError naming the ids that do not exist (nothing changed). The
        statuses are read under the write lock, so two analysts triaging one hit at
        once log old -> new exactly, one after the other.
        """
        changes: list[TriageChange] = []
        with self.transaction(immediate=True):
            current: dict[int, str] = {}
            for chunk in chunks(list(ids)):
                for hit_id, old in self._fetch(
                    f"SELECT id, status FROM hits WHERE id IN ({marks(len(chunk))})"
                    f"{self._LOCK_ROWS}",
                    chunk,
                ):
                    current[hit_id] = old
            missing = [i for i in ids if i not in current]
            if missing:
                shown = ", ".join(str(i) for i in missing[:10]) + (
                    " …" if len(missing) > 10 else ""
                )
                raise UsageError(f"no hit with id {shown} in {self.location} (nothing changed)")
            for hit_id in ids:
                old = current[hit_id]
                if old == status and note is None:
                    continue
                changes.append(TriageChange(hit_id, old, status, note))
            self._execute_many(
                "UPDATE hits SET status = ?, note = COALESCE(?, note) WHERE id = ?",
                [(c.new_status, c.note, c.hit_id) for c in changes],
            )
            self._execute_many(
                "INSERT INTO triage_log (hit_id, old_status, new_status, note, who, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(c.hit_id, c.old_status, c.new_status, c.note, who, at) for c in changes],
            )
        return changes

    # --- search -------------------------------------------------------------------------

    @abstractmethod
    def iter_search_candidates(self, search: Search, filters: Filters) -> Iterator[ArticleRow]:
        """Articles that may match `search` (the index's candidates), newest stored first.

        The caller verifies each with the watchlists' matcher and stops when it has
        enough, so an engine streams and never sorts every candidate.
        """

    def raw_fts_rows(self, query: str, filters: Filters, *, limit: int | None) -> list[ArticleRow]:
        """`search --fts`: the engine's own full-text syntax, unverified (SQLite only)."""
        raise UsageError(f"search: --fts is SQLite FTS5 syntax; {self.engine} has no FTS5")

    def _article_conditions(self, filters: Filters) -> tuple[list[str], list[Any]]:
        """Filters as conditions on `articles a` (since/until on the fetch time)."""
        conditions: list[str] = []
        params: list[Any] = []
        if filters.since:
            conditions.append("a.fetched_at >= ?")
            params.append(filters.since)
        if filters.until:
            conditions.append("a.fetched_at <= ?")
            params.append(filters.until)
        for column, values in (
            ("market", filters.markets),
            ("language", filters.languages),
            ("source", filters.sources),
        ):
            if values:
                conditions.append(in_values(f"a.{column}", values))
                params.extend(values)
        hit_only = Filters(
            watchlists=filters.watchlists,
            categories=filters.categories,
            severity=filters.severity,
            statuses=filters.statuses,
        )
        if not hit_only.is_empty():
            hit_sql, hit_params = self.hit_conditions(hit_only, alias="hx")
            conditions.append(
                "EXISTS (SELECT 1 FROM hits hx WHERE hx.article_id = a.id AND "
                f"{' AND '.join(hit_sql)})"
            )
            params.extend(hit_params)
        if filters.text:
            text_sql, text_params = self._text_condition(filters.text, "a.id")
            conditions.append(text_sql)
            params.extend(text_params)
        return conditions, params

    # --- trends, sources, the report ------------------------------------------------------

    def day_counts(
        self, by: str, bounds: Sequence[tuple[str, str]], filters: Filters
    ) -> dict[str, list[int]]:
        """Hits per `by` group per day (`bounds`: each day's [start, end)), groups that have any."""
        sql_conditions, params = self.hit_conditions(filters)
        sql_conditions[:0] = ["h.found_at >= ?", "h.found_at < ?"]
        params[:0] = [bounds[0][0], bounds[-1][1]]
        sql = (
            f"SELECT substr(h.found_at, 1, 10) AS day, COALESCE(h.{by}, '') AS grp, COUNT(*) "
            f"FROM hits h {where(sql_conditions)} GROUP BY day, grp"
        )
        index = {low[:10]: i for i, (low, _) in enumerate(bounds)}
        counts: dict[str, list[int]] = {}
        for day, group, count in self._fetch(sql, params):
            if day in index:
                counts.setdefault(group, [0] * len(bounds))[index[day]] += count
        return counts

    def day_story_counts(
        self, by: str, bounds: Sequence[tuple[str, str]], filters: Filters
    ) -> dict[str, list[int]]:
        """Stories with a hit matching `filters` per `by` group per day (`bounds`: each
        day's [start, end)), groups that have any. A story counts once a day per group
        however many of its hits were found that day; articles without a story do not count."""
        sql_conditions, params = self.hit_conditions(filters)
        sql_conditions[:0] = ["h.found_at >= ?", "h.found_at < ?", "a.story_id IS NOT NULL"]
        params[:0] = [bounds[0][0], bounds[-1][1]]
        sql = (
            f"SELECT substr(h.found_at, 1, 10) AS day, COALESCE(h.{by}, '') AS grp, "
            "COUNT(DISTINCT a.story_id) FROM hits h JOIN articles a ON a.id = h.article_id "
            f"{where(sql_conditions)} GROUP BY day, grp"
        )
        index = {low[:10]: i for i, (low, _) in enumerate(bounds)}
        counts: dict[str, list[int]] = {}
        for day, group, count in self._fetch(sql, params):
            if day in index:
                counts.setdefault(group, [0] * len(bounds))[index[day]] += int(count)
        return counts

    def day_tones(
        self, by: str, bounds: Sequence[tuple[str, str]], filters: Filters
    ) -> dict[str, list[tuple[float | None, int]]]:
        """Mean tone and number of toned articles per `by` group per day (`bounds`: each
        day's [start, end)), for groups with any: (None, 0) on a day without one.

        Only articles with a hit matching `filters` count, once per group, on the day
        their first such hit was found; articles without a tone are left out.
        """
        sql_conditions, params = self.hit_conditions(filters)
        sql_conditions[:0] = ["h.found_at >= ?", "h.found_at < ?"]
        params[:0] = [bounds[0][0], bounds[-1][1]]
        sql = (
            "SELECT substr(f.first_found, 1, 10) AS day, f.grp, AVG(a.tone), COUNT(*) "
            f"FROM (SELECT h.article_id, COALESCE(h.{by}, '') AS grp, "
            f"MIN(h.found_at) AS first_found FROM hits h {where(sql_conditions)} "
            "GROUP BY h.article_id, grp) f "
            "JOIN articles a ON a.id = f.article_id WHERE a.tone IS NOT NULL GROUP BY day, f.grp"
        )
        index = {low[:10]: i for i, (low, _) in enumerate(bounds)}
        tones: dict[str, list[tuple[float | None, int]]] = {}
        for day, group, mean, count in self._fetch(sql, params):
            if day in index:
                series = tones.setdefault(group, [(None, 0)] * len(bounds))
                series[index[day]] = (float(mean), int(count))
        return tones

    def source_health(self, *, since: str) -> list[SourceHealth]:
        """Every source the store knows, with its health and articles and hits since `since`."""
        rows = self._fetch(
            f"SELECT {select_list(SOURCE_HEALTH_FIELDS)} FROM sources s ORDER BY s.name",
            [since, since],
        )
        return [build(SourceHealth, SOURCE_HEALTH_FIELDS, row, configured=False) for row in rows]

    def count_hits(self, filters: Filters) -> tuple[int, int]:
        """How many hits match `filters`, and in how many articles."""
        sql_conditions, params = self.hit_conditions(filters)
        row = self._fetch_one(
            f"SELECT COUNT(*), COUNT(DISTINCT h.article_id) FROM hits h {where(sql_conditions)}",
            params,
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def grouped_counts(self, column: str, filters: Filters) -> dict[str, int]:
        """Hits matching `filters` per value of `column`, most first."""
        sql_conditions, params = self.hit_conditions(filters)
        sql = (
            f"SELECT h.{column}, COUNT(*) FROM hits h {where(sql_conditions)} "
            f"GROUP BY h.{column} ORDER BY 2 DESC, 1"
        )
        return {str(key or ""): count for key, count in self._fetch(sql, params)}

    def worst_hits(self, filters: Filters, *, limit: int) -> list[HitRecord]:
        """Escalated or critical hits (not dismissed), worst and newest first, with text."""
        sql_conditions, params = self.hit_conditions(filters)
        sql_conditions += [
            "(h.status = 'escalated' OR h.severity = 'critical')",
            "h.status != 'dismissed'",
        ]
        sql = (
            f"SELECT {HIT_COLUMNS}, a.fetched_at, a.text FROM hits h "
            f"JOIN articles a ON a.id = h.article_id {where(sql_conditions)} "
            "ORDER BY CASE WHEN h.status = 'escalated' THEN 0 ELSE 1 END, "
            "CASE WHEN h.severity = 'critical' THEN 0 ELSE 1 END, h.found_at DESC, h.id DESC "
            "LIMIT ?"
        )
        return [
            HitRecord(build(Hit, HIT_FIELDS, row[:-2]), fetched_at=row[-2], text=row[-1])
            for row in self._fetch(sql, [*params, limit])
        ]

    def has_hits_between(self, column: str, value: str, start: str, end: str) -> bool:
        """Whether `column` = `value` has hits found in [start, end)."""
        return (
            self._fetch_one(
                f"SELECT 1 FROM hits WHERE {column} = ? AND found_at >= ? AND found_at < ? LIMIT 1",
                [value, start, end],
            )
            is not None
        )

    def failed_sources(self) -> list[FailedSource]:
        rows = self._fetch(
            f"SELECT {select_list(FAILED_SOURCE_FIELDS)} FROM sources "
            "WHERE failures > 0 ORDER BY failures DESC, name"
        )
        return [build(FailedSource, FAILED_SOURCE_FIELDS, row) for row in rows]

    def last_run(self) -> dict[str, Any] | None:
        row = self._fetch_one(f"SELECT {', '.join(RUN_KEYS)} FROM runs ORDER BY id DESC LIMIT 1")
        return dict(zip(RUN_KEYS, row, strict=True)) if row else None

    # --- copying a store (adwatch migrate) ----------------------------------------------

    @abstractmethod
    def table_columns(self, table: str) -> list[str]:
        """The columns of one of the store's tables, in their order."""

    def export_rows(self, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """`columns` of every row of `table` as stored, ordered by the first, streamed."""
        names = ", ".join(f'"{column}"' for column in columns)
        yield from self._stream(f"SELECT {names} FROM {table} ORDER BY 1")

    def import_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Insert rows as they are (ids kept), skipping any already there; how many were new."""
        names = ", ".join(f'"{column}"' for column in columns)
        with self.transaction():
            return self._execute_many(
                f"INSERT INTO {table} ({names}) VALUES ({marks(len(columns))}) "
                "ON CONFLICT DO NOTHING",
                rows,
            )


# --- statements and helpers shared by the engines --------------------------------------------

# Typed rows, not positions: each dataclass a query returns is built from a map of its
# field names to the SQL that reads them, and the SELECT list is made from the same map.
HIT_FIELDS = {
    "id": "h.id", "found_at": "h.found_at", "published_at": "a.published_at",
    "market": "h.market", "language": "h.language", "watchlist": "h.watchlist",
    "category": "h.category", "severity": "h.severity", "term": "h.term",
    "matched_text": "h.matched_text", "snippet": "h.snippet", "title": "a.title",
    "url": "a.url", "source": "h.source", "status": "h.status", "note": "h.note",
    "article_id": "h.article_id", "start": "h.start", "end": 'h."end"', "score": "h.score",
    "event": "h.event",
}  # fmt: skip
# What `iter_search_candidates` and `raw_fts_rows` read of each article.
ARTICLE_ROW_FIELDS = {
    "article_id": "a.id", "title": "a.title", "url": "a.url", "source": "a.source",
    "market": "a.market", "language": "a.language", "published_at": "a.published_at",
    "fetched_at": "a.fetched_at",
    "hits": "(SELECT COUNT(*) FROM hits hc WHERE hc.article_id = a.id)", "text": "a.text",
}  # fmt: skip
RETRY_FIELDS = {
    "article_id": "id", "url": "url", "entry_id": "entry_id", "title": "title",
    "text": "text", "published_at": "published_at", "language": "language",
    "attempts": "page_attempts",
}  # fmt: skip
TRIAGE_FIELDS = {name: name for name in ("at", "who", "old_status", "new_status", "note")}
FAILED_SOURCE_FIELDS = {
    name: name
    for name in ("name", "market", "failures", "last_error", "last_ok_at", "last_checked_at")
}
SOURCE_HEALTH_FIELDS = {
    "name": "s.name", "url": "s.url", "market": "s.market", "type": "s.type",
    "last_status": "s.last_status", "last_error": "s.last_error",
    "last_checked_at": "s.last_checked_at", "last_ok_at": "s.last_ok_at",
    "failures": "s.failures",
    "articles_recent": "(SELECT COUNT(*) FROM articles a WHERE a.source = s.name "
    "AND a.fetched_at >= ?)",
    "hits_recent": "(SELECT COUNT(*) FROM hits h WHERE h.source = s.name AND h.found_at >= ?)",
    "last_pages": "s.last_pages", "last_pages_failed": "s.last_pages_failed",
    "last_page_error": "s.last_page_error",
}  # fmt: skip
# Columns of the export (design.md section 3): the first 16 of a hit, in that order,
# then a semantic hit's score and the event a hit fell in.
EXPORT_FIELDS = {
    **dict(list(HIT_FIELDS.items())[:16]),
    "score": HIT_FIELDS["score"],
    "event": HIT_FIELDS["event"],
}


def select_list(fields: dict[str, str]) -> str:
    """The SELECT list that reads `fields` (field name -> SQL expression)."""
    return ", ".join(fields.values())


def build(kind: type[T], fields: dict[str, str], row: Sequence[Any], **extra: Any) -> T:
    """A `kind` from a row read with `select_list(fields)`, field by field name."""
    return kind(**dict(zip(fields, row, strict=True)), **extra)


HIT_COLUMNS = select_list(HIT_FIELDS)
EXPORT_SELECT = select_list(EXPORT_FIELDS)
ARTICLE_ROW_COLUMNS = select_list(ARTICLE_ROW_FIELDS)
SEVERITY_RANK = (
    "CASE {col} WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END"
)
RUN_KEYS = (
    "started_at", "finished_at", "status", "sources_ok", "sources_failed", "articles_new",
    "hits_new",
)  # fmt: skip


@dataclass(frozen=True)
class StoredHit:
    """A stored hit as a plan of changes names it."""

    id: int
    watchlist: str
    term: str
    matched_text: str
    start: int


@dataclass
class HitPlan:
    """What bringing one article's hits up to date changes (`Store.plan_hits`)."""

    article_id: int
    added: list[Match] = field(default_factory=list)
    removed: list[StoredHit] = field(default_factory=list)  # untriaged, no longer matching
    kept_triaged: list[StoredHit] = field(default_factory=list)  # triaged: kept all the same
    again: list[tuple[int, Match]] = field(default_factory=list)  # found again: updated

    def changes(self) -> dict[str, HitChange]:
        changes: dict[str, HitChange] = {}
        for match in self.added:
            changes.setdefault(match.watchlist, HitChange()).added += 1
        for hit in self.removed:
            changes.setdefault(hit.watchlist, HitChange()).removed += 1
        for hit in self.kept_triaged:
            changes.setdefault(hit.watchlist, HitChange()).kept_triaged += 1
        return changes


@dataclass(frozen=True)
class Condition:
    """One filter as SQL. `column`/`values` are set for the equality filters."""

    sql: str
    params: tuple[Any, ...]
    column: str | None = None
    values: tuple[str, ...] = ()


def equality_values(filters: Filters) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (column, values)
        for column, values in (
            ("market", filters.markets),
            ("language", filters.languages),
            ("watchlist", filters.watchlists),
            ("category", filters.categories),
            ("severity", filters.severities()),
            ("status", filters.statuses),
            ("source", filters.sources),
            ("event", filters.events),
        )
        if values
    ]


def in_values(column: str, values: Sequence[str]) -> str:
    if len(values) == 1:
        return f"{column} = ?"
    return f"{column} IN ({marks(len(values))})"


def where(conditions: Sequence[str]) -> str:
    return ("WHERE " + " AND ".join(conditions)) if conditions else ""


def _as_list(value: Any) -> list[Any]:
    """A JSON array from SQLite (text) or PostgreSQL (already a list)."""
    return list(value) if isinstance(value, list) else list(json.loads(value))
