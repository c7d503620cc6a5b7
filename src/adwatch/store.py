"""The SQLite store: schema, upgrades, the scan lock, and the writes a scan makes.

The file stays plain SQLite with readable names, so sqlite-utils and Datasette
open it directly. Queries for the analyst's commands live in `query.py`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from adwatch.errors import LockHeld, NotAStore, StoreError
from adwatch.files import create_private
from adwatch.models import Article, Match, Source
from adwatch.search import register_functions
from adwatch.text.dates import utc_now
from adwatch.text.scripts import unspaced_characters

BUSY_TIMEOUT_MS = 10_000
TRIAGE_STATUSES = ("new", "reviewing", "escalated", "dismissed")

migrations = Migrations("adwatch")


@migrations(name="m001_initial")
def _m001_initial(db: sqlite_utils.Database) -> None:
    """Schema version 1: the tables of the design."""
    db.execute(
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            market TEXT NOT NULL,
            language TEXT,
            type TEXT NOT NULL DEFAULT 'rss',
            etag TEXT,
            last_modified TEXT,
            last_status INTEGER,
            last_error TEXT,
            last_checked_at TEXT,
            last_ok_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            market TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            language TEXT,
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            extractor TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE hits (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            watchlist TEXT NOT NULL,
            category TEXT NOT NULL,
            severity TEXT NOT NULL,
            term TEXT NOT NULL,
            matched_text TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            snippet TEXT NOT NULL,
            market TEXT NOT NULL,
            language TEXT,
            found_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',
            note TEXT,
            UNIQUE (article_id, watchlist, term, start)
        )"""
    )
    db.execute(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            sources_ok INTEGER NOT NULL DEFAULT 0,
            sources_failed INTEGER NOT NULL DEFAULT 0,
            articles_new INTEGER NOT NULL DEFAULT 0,
            hits_new INTEGER NOT NULL DEFAULT 0,
            details TEXT
        )"""
    )
    db.execute("CREATE INDEX hits_found_at ON hits(found_at)")
    db.execute("CREATE INDEX hits_article ON hits(article_id)")
    db.execute("CREATE INDEX articles_source ON articles(source)")
    # Trigram FTS finds substrings of 3+ characters, so Thai and Burmese words
    # (not separated by spaces) are found too.
    db.table("articles").enable_fts(["title", "text"], tokenize="trigram", create_triggers=True)


@migrations(name="m002_zawgyi_entries_triage")
def _m002_zawgyi_entries_triage(db: sqlite_utils.Database) -> None:
    """Schema version 2: Zawgyi flag, feed entry ids, hit source, triage log, filter indexes."""
    db.execute("ALTER TABLE articles ADD COLUMN entry_id TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN zawgyi INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE articles ADD COLUMN author TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN updated_at TEXT")
    db.execute("ALTER TABLE hits ADD COLUMN source TEXT")
    db.execute(
        "UPDATE hits SET source = (SELECT source FROM articles WHERE articles.id = hits.article_id)"
    )
    db.execute(
        """
        CREATE TABLE triage_log (
            id INTEGER PRIMARY KEY,
            hit_id INTEGER NOT NULL REFERENCES hits(id) ON DELETE CASCADE,
            old_status TEXT,
            new_status TEXT NOT NULL,
            note TEXT,
            who TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX triage_log_hit ON triage_log(hit_id)")
    db.execute("CREATE INDEX articles_entry ON articles(source, entry_id)")
    db.execute("CREATE INDEX articles_published_at ON articles(published_at)")
    for column in ("market", "language", "watchlist", "category", "severity", "status", "source"):
        db.execute(f"CREATE INDEX hits_{column}_found_at ON hits({column}, found_at)")


@migrations(name="m003_page_retries_hit_totals")
def _m003_page_retries_hit_totals(db: sqlite_utils.Database) -> None:
    """Schema version 3: page retries, page failures per source, capped hit totals."""
    # An article stored from its feed summary because its page failed is retried
    # on later scans: how many tries so far, when the next is due, why it failed.
    db.execute("ALTER TABLE articles ADD COLUMN page_attempts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE articles ADD COLUMN page_retry_at TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN page_error TEXT")
    db.execute("CREATE INDEX articles_page_retry ON articles(source, page_retry_at)")
    # Page fetches of the source's last scan, so `sources` shows failing pages.
    db.execute("ALTER TABLE sources ADD COLUMN last_pages INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sources ADD COLUMN last_pages_failed INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sources ADD COLUMN last_page_error TEXT")
    # Hits kept per article and watchlist are capped; the true count stays known.
    db.execute(
        """
        CREATE TABLE hit_totals (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            watchlist TEXT NOT NULL,
            total INTEGER NOT NULL,
            kept INTEGER NOT NULL,
            PRIMARY KEY (article_id, watchlist)
        )"""
    )


@migrations(name="m004_folded_search")
def _m004_folded_search(db: sqlite_utils.Database) -> None:
    """Schema version 4: a word index of the Latin-script text without diacritics, for search."""
    # `search "ngo doc"` finds "ngộ độc": words in lower case, diacritics removed by
    # the tokenizer, đ written d (the tokenizer keeps it: it has no decomposition).
    # Thai and Burmese are separators (articles_fts has them). Contentless: only
    # article ids are read from it. Kept by triggers in plain SQL, so any client's
    # writes keep it right; a 'delete' must repeat the values that were inserted.
    unspaced = unspaced_characters()
    tokenizer = f"unicode61 remove_diacritics 2 separators '{unspaced}'"
    db.execute(
        "CREATE VIRTUAL TABLE articles_folded_fts USING fts5(title, text, content='', "
        f'tokenize="{tokenizer}")'
    )
    folded = "replace(replace({0}, 'đ', 'd'), 'Đ', 'D')"
    new = f"new.id, {folded.format('new.title')}, {folded.format('new.text')}"
    old = f"old.id, {folded.format('old.title')}, {folded.format('old.text')}"
    insert = f"INSERT INTO articles_folded_fts (rowid, title, text) VALUES ({new});"
    delete = (
        "INSERT INTO articles_folded_fts (articles_folded_fts, rowid, title, text) "
        f"VALUES ('delete', {old});"
    )
    db.execute(f"CREATE TRIGGER articles_folded_ai AFTER INSERT ON articles BEGIN {insert} END")
    db.execute(f"CREATE TRIGGER articles_folded_ad AFTER DELETE ON articles BEGIN {delete} END")
    db.execute(
        "CREATE TRIGGER articles_folded_au AFTER UPDATE OF title, text ON articles "
        f"BEGIN {delete} {insert} END"
    )
    db.execute(
        "INSERT INTO articles_folded_fts (rowid, title, text) SELECT "
        f"id, {folded.format('title')}, {folded.format('text')} FROM articles"
    )


SCHEMA_VERSION = len(migrations._migrations)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # The scan writes from one dedicated thread, not the one that opened the store.
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA schema_version")  # SQLite opens the file lazily: open it now
    except sqlite3.DatabaseError as exc:
        if not isinstance(exc, sqlite3.OperationalError):  # "file is not a database"
            raise NotAStore(
                f"{path}: not an adwatch store (not an SQLite database: {exc})"
            ) from exc
        if not (_refused_write(exc) and path.exists()):
            raise StoreError(f"{path}: cannot open the store: {exc}") from exc
        conn = _connect_read_only(path)
    return conn


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads, for a store whose file or folder this user cannot write.

    SQLite reads a WAL store through its -shm file, which a read-only folder cannot get.
    Without a -wal file no writer is active (a writer keeps one), so the file is then read
    as immutable: the whole store is in it.
    """
    uri = path.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            conn.execute("PRAGMA schema_version")
        except sqlite3.DatabaseError:
            if path.with_name(path.name + "-wal").exists():
                raise
            conn = sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read the store: {exc}") from exc
    return conn


def _refused_write(exc: sqlite3.DatabaseError) -> bool:
    """SQLite could not open a file for writing: it or its folder is read-only for this user."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith("SQLITE_READONLY") or name == "SQLITE_CANTOPEN"


def _write_failure(exc: sqlite3.DatabaseError, path: Path) -> StoreError | None:
    """The one-line StoreError for a write that failed for want of permission or space."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY"):
        return StoreError(
            f"{path}: cannot write to the store, it is read-only for this user: {exc}"
        )
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR"):
        return StoreError(f"{path}: cannot write to the store: {exc}")
    return None


def _configure(conn: sqlite3.Connection, path: Path) -> sqlite_utils.Database:
    """Settings every connection uses; run only once the file is known to be ours."""
    register_functions(conn)  # the --text filter verifies matches in SQL
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL lets the analyst query while a scan writes.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the store: {exc}") from exc
    return sqlite_utils.Database(conn)


def _check_identity(conn: sqlite3.Connection, path: Path) -> list[str]:
    """The adwatch migrations this file has; raise StoreError when it is not ours to touch.

    A file with tables but no adwatch migrations is someone else's database, and a
    file with migrations this adwatch does not know was written by a newer one:
    adwatch neither reads nor writes either (docs/store.md).
    """
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        applied: list[str] = []
        if Migrations.migrations_table in tables:
            applied = [
                row[0]
                for row in conn.execute(
                    f"SELECT name FROM {Migrations.migrations_table} WHERE migration_set = ?",
                    [migrations.name],
                )
            ]
    except sqlite3.DatabaseError as exc:
        raise NotAStore(f"{path}: not an adwatch store (not an SQLite database: {exc})") from exc
    if tables and not applied:
        raise NotAStore(
            f"{path}: not an adwatch store (an SQLite database with other tables); "
            "nothing was changed"
        )
    known = {m.name for m in migrations._migrations}
    newer = [name for name in applied if name not in known]
    if newer:
        raise NotAStore(
            f"{path}: written by a newer adwatch (schema {len(applied)}, this one knows "
            f"{len(known)}; unknown {newer[0]!r}): upgrade adwatch to use it"
        )
    return applied


def schema_version(db: sqlite_utils.Database) -> int:
    """How many of adwatch's schema migrations this file has."""
    return len(migrations.applied(db))


@dataclass(frozen=True)
class PageRetry:
    """An article stored from its feed text because its page failed: when to try again."""

    attempts: int  # page fetches tried so far, this one included
    retry_at: str | None  # None: no more tries
    error: str


@dataclass(frozen=True)
class RetryCandidate:
    """A stored article whose page is due for another try."""

    article_id: int
    url: str
    entry_id: str | None
    title: str
    text: str
    published_at: str | None
    language: str | None
    attempts: int


@dataclass(frozen=True)
class SavedArticle:
    """What saving one article did."""

    article_id: int
    created: bool  # a new row, not an update of an earlier one
    changed: bool  # text or title differ from what was stored
    hits_new: int


class Store:
    """An open adwatch store. Create it with `open_store`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        error = exc[1] if len(exc) > 1 else None
        if isinstance(error, sqlite3.DatabaseError):
            failure = _write_failure(error, self.path)
            if failure is not None:
                raise failure from error

    # --- sources -------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Make the `sources` table list the configured sources, keeping health columns."""
        with self.db.conn:
            for source in sources:
                self.db.execute(
                    """
                    INSERT INTO sources (name, url, market, language, type)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET
                        url = excluded.url, market = excluded.market,
                        language = excluded.language, type = excluded.type,
                        -- a new URL starts with no validators: they belonged to the old one
                        etag = CASE WHEN sources.url = excluded.url THEN sources.etag END,
                        last_modified = CASE WHEN sources.url = excluded.url
                                        THEN sources.last_modified END
                    """,
                    [source.name, source.url, source.market, source.language, source.type],
                )

    def source_row(self, name: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM sources WHERE name = ?", [name]))
        return rows[0] if rows else None

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
        """Update a source's health after a scan; validators only change on success.

        `ok` false counts as one more failure in a row. `etag`/`last_modified` are
        stored whenever given: the feed itself was read even when its pages failed.
        """
        now = utc_now()
        with self.db.conn:
            self.db.execute(
                """UPDATE sources SET last_pages = ?, last_pages_failed = ?, last_page_error = ?,
                   etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified)
                   WHERE name = ?""",
                [pages, pages_failed, page_error, etag, last_modified, name],
            )
            if ok:
                self.db.execute(
                    """UPDATE sources SET last_status = ?, last_error = NULL,
                       last_checked_at = ?, last_ok_at = ?, failures = 0
                       WHERE name = ?""",
                    [status, now, now, name],
                )
            else:
                self.db.execute(
                    """UPDATE sources SET last_status = ?, last_error = ?,
                       last_checked_at = ?, failures = failures + 1 WHERE name = ?""",
                    [status, error, now, name],
                )

    # --- articles and hits -----------------------------------------------------------

    def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Those of `urls` already stored as articles."""
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = list(urls[i : i + 500])
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT url FROM articles WHERE url IN ({marks})", chunk
                )
            )
        return found

    def find_article(self, *, url: str, source: str, entry_id: str | None) -> dict[str, Any] | None:
        """The stored article with this feed entry id in this source, else with this URL."""
        if entry_id:
            rows = list(
                self.db.query(
                    "SELECT id, url, content_hash, title FROM articles"
                    " WHERE source = ? AND entry_id = ? LIMIT 1",
                    [source, entry_id],
                )
            )
            if rows:
                return rows[0]
        rows = list(
            self.db.query("SELECT id, url, content_hash, title FROM articles WHERE url = ?", [url])
        )
        return rows[0] if rows else None

    def save_article(
        self,
        article: Article,
        matches: Sequence[Match],
        *,
        totals: dict[str, int] | None = None,
        page_retry: PageRetry | None = None,
    ) -> SavedArticle:
        """Store an article and its hits in one transaction.

        An article already stored (same feed entry id in the same source, or same
        URL) is updated in place; its untriaged hits are replaced by `matches`,
        and hits an analyst has triaged are kept. `totals` holds the hit count of
        each watchlist whose hits `matches` holds only some of (the cap).
        `page_retry` says the page failed and when to try it again; None clears it.
        """
        now = utc_now()
        values = {
            "url": article.url,
            "source": article.source,
            "market": article.market,
            "title": article.title,
            "text": article.text,
            "language": article.language,
            "published_at": article.published_at,
            "fetched_at": article.fetched_at,
            "content_hash": article.content_hash,
            "extractor": article.extractor,
            "entry_id": article.entry_id,
            "zawgyi": int(article.zawgyi),
            "author": article.author,
        }
        with self.db.conn:
            existing = self.find_article(
                url=article.url, source=article.source, entry_id=article.entry_id
            )
            if existing is None:
                cursor = self.db.execute(
                    f"INSERT INTO articles ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    list(values.values()),
                )
                article_id = int(cursor.lastrowid or 0)
                created = changed = True
            else:
                article_id = int(existing["id"])
                created = False
                changed = existing["content_hash"] != article.content_hash
                if not changed:
                    self._set_page_retry(article_id, page_retry)
                    return SavedArticle(article_id, created=False, changed=False, hits_new=0)
                if existing["url"] != article.url:
                    # An updated entry moved to a new URL; a different article may
                    # already hold that URL, and it is the same story: drop it.
                    self.db.execute(
                        "DELETE FROM articles WHERE url = ? AND id != ?", [article.url, article_id]
                    )
                assignments = ", ".join(f"{name} = ?" for name in values)
                self.db.execute(
                    f"UPDATE articles SET {assignments}, updated_at = ? WHERE id = ?",
                    [*values.values(), now, article_id],
                )
                self._drop_stale_hits(article_id, matches)
            hits_new = self._insert_hits(article_id, article, matches, now)
            self.set_hit_totals(article_id, matches, totals or {})
            self._set_page_retry(article_id, page_retry)
        return SavedArticle(article_id, created=created, changed=changed, hits_new=hits_new)

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
        kept: dict[str, int] = {}
        for match in matches:
            kept[match.watchlist] = kept.get(match.watchlist, 0) + 1
        if scope is None:
            self.db.execute("DELETE FROM hit_totals WHERE article_id = ?", [article_id])
        else:
            names = sorted(scope)
            self.db.execute(
                f"DELETE FROM hit_totals WHERE article_id = ? AND watchlist IN "
                f"({', '.join('?' * len(names))})",
                [article_id, *names],
            )
            totals = {name: total for name, total in totals.items() if name in names}
        rows = [
            (article_id, name, total, kept.get(name, 0))
            for name, total in totals.items()
            if total > kept.get(name, 0)
        ]
        if rows:
            self.db.conn.executemany(
                "INSERT INTO hit_totals (article_id, watchlist, total, kept) VALUES (?, ?, ?, ?)",
                rows,
            )

    def _set_page_retry(self, article_id: int, retry: PageRetry | None) -> None:
        if retry is None:
            self.db.execute(
                "UPDATE articles SET page_attempts = 0, page_retry_at = NULL, page_error = NULL"
                " WHERE id = ? AND (page_attempts != 0 OR page_error IS NOT NULL)",
                [article_id],
            )
        else:
            self.db.execute(
                "UPDATE articles SET page_attempts = ?, page_retry_at = ?, page_error = ?"
                " WHERE id = ?",
                [retry.attempts, retry.retry_at, retry.error, article_id],
            )

    def record_page_retry(self, article_id: int, retry: PageRetry) -> None:
        """A retried page failed again: keep the article as it is, note the try."""
        with self.db.conn:
            self._set_page_retry(article_id, retry)

    def pages_to_retry(
        self, source: str, *, now: str, fetched_since: str, limit: int
    ) -> list[RetryCandidate]:
        """Articles of `source` whose page failed and is due for another try, oldest due first."""
        rows = self.db.execute(
            """SELECT id, url, entry_id, title, text, published_at, language, page_attempts
               FROM articles
               WHERE source = ? AND page_retry_at IS NOT NULL AND page_retry_at <= ?
                 AND fetched_at >= ?
               ORDER BY page_retry_at LIMIT ?""",
            [source, now, fetched_since, limit],
        ).fetchall()
        return [RetryCandidate(*row) for row in rows]

    def _drop_stale_hits(self, article_id: int, matches: Sequence[Match]) -> None:
        """Delete the untriaged hits of an article that `matches` no longer contains.

        Hits found again keep their id and found_at, so an edited page does not
        present old hits as new; triaged hits are never deleted.
        """
        current = {(m.watchlist, m.term, m.start) for m in matches}
        rows = self.db.execute(
            """SELECT id, watchlist, term, start FROM hits
               WHERE article_id = ? AND status = 'new' AND note IS NULL""",
            [article_id],
        ).fetchall()
        stale = [row[0] for row in rows if (row[1], row[2], row[3]) not in current]
        for i in range(0, len(stale), 500):
            chunk = stale[i : i + 500]
            self.db.execute(f"DELETE FROM hits WHERE id IN ({','.join('?' * len(chunk))})", chunk)

    def _insert_hits(
        self, article_id: int, article: Article, matches: Sequence[Match], found_at: str
    ) -> int:
        rows = [
            [
                article_id, m.watchlist, m.category, m.severity, m.term, m.matched_text,
                m.start, m.end, m.snippet, article.market, article.language, found_at,
                article.source,
            ]
            for m in matches
        ]  # fmt: skip
        before = self.db.conn.total_changes
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO hits (article_id, watchlist, category, severity, term,
               matched_text, start, "end", snippet, market, language, found_at, status,
               source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)""",
            rows,
        )
        inserted = self.db.conn.total_changes - before
        return inserted

    # --- runs ------------------------------------------------------------------------

    def mark_interrupted_runs(self) -> None:
        """Runs still 'running' were killed: the caller holds the scan lock, so none is alive."""
        with self.db.conn:
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")

    def start_run(self) -> int:
        with self.db.conn:
            cursor = self.db.execute(
                "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [utc_now()]
            )
        return int(cursor.lastrowid or 0)

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
        with self.db.conn:
            self.db.execute(
                """UPDATE runs SET finished_at = ?, status = ?, sources_ok = ?,
                   sources_failed = ?, articles_new = ?, hits_new = ?, details = ?
                   WHERE id = ?""",
                [
                    utc_now(),
                    status,
                    sources_ok,
                    sources_failed,
                    articles_new,
                    hits_new,
                    json.dumps(details, ensure_ascii=False),
                    run_id,
                ],
            )


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open (and create or upgrade) the store at `path`."""
    path = Path(path)
    if not create and not path.exists():
        raise NotAStore(f"{path}: no store here yet (run `adwatch scan` first)")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the store's folder: {exc.strerror}") from exc
        try:
            # Before SQLite creates it world-readable; its -wal and -shm files copy its mode.
            create_private(path)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the store: {exc.strerror}") from exc
    conn = _connect(path)
    try:
        applied = _check_identity(conn, path)
        if not applied and not create:
            # An empty file: a read command never makes it a store.
            raise NotAStore(f"{path}: not an adwatch store (an empty file)")
        db = _configure(conn, path)
        if migrations.pending(db):
            migrations.apply(db)
    except sqlite3.OperationalError as exc:
        conn.close()
        raise StoreError(f"{path}: cannot upgrade the store's schema: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not an adwatch store or damaged: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return Store(db, path)


# --- the scan lock --------------------------------------------------------------------

_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@contextmanager
def scan_lock(store_path: str | Path) -> Iterator[None]:
    """Hold the store's scan lock, or raise LockHeld naming the holder.

    An OS file lock (flock) on a side file: the kernel drops it when the holder
    exits, however it exits, so a killed scan never leaves a stale lock. Readers
    never take it.
    """
    path = lock_path(Path(store_path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        create_private(path)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole scan
    except OSError as exc:
        why = "the store is read-only for this user: " if exc.errno in _DENIED else ""
        raise StoreError(
            f"{store_path}: {why}cannot open the scan lock {str(path)!r}: {exc.strerror}"
        ) from exc
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise LockHeld(
                f"{store_path}: another scan is running on this store ({holder})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {utc_now()}")
        handle.flush()
        try:
            yield
        except sqlite3.DatabaseError as exc:
            failure = _write_failure(exc, Path(store_path))
            if failure is None:
                raise
            raise failure from exc
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
