"""The SQLite engine: one file, its schema and upgrades, the scan lock.

The file stays plain SQLite with readable names, so sqlite-utils and Datasette
open it directly. What differs from PostgreSQL lives here: FTS5 full-text search,
the planner hints that keep `hits` listings on their indexes, the file lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from adwatch.errors import LockHeld, NoStoreYet, NotAStore, StoreError, UsageError
from adwatch.files import create_private
from adwatch.models import ArticleRow, Filters
from adwatch.store.base import (
    ALERT_TABLES,
    ARTICLE_ROW_COLUMNS,
    ARTICLE_ROW_FIELDS,
    ROBOTS_TABLE,
    Condition,
    Store,
    build,
    evidence_tables,
    semantic_tables,
    story_tables,
    where,
)
from adwatch.store.fts import iter_candidates, register_functions, text_condition
from adwatch.text.dates import utc_now
from adwatch.text.scripts import unspaced_characters

if TYPE_CHECKING:
    import sqlite_utils

    from adwatch.search import Search

BUSY_TIMEOUT_MS = 10_000
# sqlite-utils' table of applied migrations (Migrations.migrations_table).
MIGRATIONS_TABLE = "_sqlite_migrations"
_MigrationT = TypeVar("_MigrationT", bound=Callable[[Any], None])


class _LazyMigrations:
    """adwatch's schema migrations, registered like sqlite-utils' `Migrations`.

    sqlite-utils (with numpy when it is installed: 120 ms) is imported only when a file
    needs a migration or a caller asks for the sqlite-utils object (`apply`, `pending`):
    a store already at this version opens without it (docs/scan.md, Speed).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.names: list[str] = []
        self._registered: list[tuple[str, Callable[[Any], None]]] = []

    def __call__(self, *, name: str) -> Callable[[_MigrationT], _MigrationT]:
        def register(function: _MigrationT) -> _MigrationT:
            self.names.append(name)
            self._registered.append((name, function))
            return function

        return register

    @cached_property
    def _migrations_object(self) -> sqlite_utils.Migrations:
        from sqlite_utils import Migrations

        assert Migrations.migrations_table == MIGRATIONS_TABLE
        built = Migrations(self.name)
        for name, function in self._registered:
            built(name=name)(function)
        return built

    def __getattr__(self, attribute: str) -> Any:
        # apply(), pending(), applied(), _migrations: sqlite-utils' own.
        return getattr(self._migrations_object, attribute)


migrations = _LazyMigrations("adwatch")


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


@migrations(name="m005_semantic")
def _m005_semantic(db: sqlite_utils.Database) -> None:
    """Schema version 5: article vectors, semantic hits' scores, tone (docs/semantic.md)."""
    db.execute("ALTER TABLE hits ADD COLUMN score REAL")
    db.execute("ALTER TABLE articles ADD COLUMN tone REAL")
    for statement in semantic_tables("INTEGER", "BLOB"):
        db.execute(statement)


@migrations(name="m006_robots")
def _m006_robots(db: sqlite_utils.Database) -> None:
    """Schema version 6: robots.txt kept between scans (docs/fetching.md)."""
    db.execute(ROBOTS_TABLE)


@migrations(name="m007_stories")
def _m007_stories(db: sqlite_utils.Database) -> None:
    """Schema version 7: stories, each article's story, its fingerprint (docs/stories.md)."""
    for statement in story_tables("INTEGER", "INTEGER", "BLOB"):
        db.execute(statement)


@migrations(name="m008_alerts")
def _m008_alerts(db: sqlite_utils.Database) -> None:
    """Schema version 8: alerts, their deliveries, hits' events (docs/alerts.md)."""
    for statement in ALERT_TABLES:
        db.execute(statement)


@migrations(name="m009_evidence_indicators")
def _m009_evidence_indicators(db: sqlite_utils.Database) -> None:
    """Schema version 9: pages kept as WARC, scam indicators (docs/evidence.md)."""
    for statement in evidence_tables("INTEGER", "INTEGER"):
        db.execute(statement)


@migrations(name="m010_trigram_update_of_text")
def _m010_trigram_update_of_text(db: sqlite_utils.Database) -> None:
    """Schema version 10: the trigram index is rewritten only when the title or text change.

    sqlite-utils' trigger (m001) fired on an update of any column, and rewrote the
    article's index entries when only its story or the place its page is kept changed:
    0.53 ms an update of a 4 800-character article, against 0.01 ms. The folded index's
    trigger (m004) was written this way from the start."""
    db.execute('DROP TRIGGER IF EXISTS "articles_au"')
    db.execute(
        'CREATE TRIGGER "articles_au" AFTER UPDATE OF "title", "text" ON "articles" BEGIN '
        'INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text") '
        'VALUES (\'delete\', old.rowid, old."title", old."text"); '
        'INSERT INTO "articles_fts" (rowid, "title", "text") '
        'VALUES (new.rowid, new."title", new."text"); END'
    )


SCHEMA_VERSION = len(migrations.names)


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


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    """Settings every connection uses; run only once the file is known to be ours."""
    register_functions(conn)  # the --text filter verifies matches in SQL
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL lets the analyst query while a scan writes.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # As sqlite-utils' Database sets it, which opened every store until it became lazy.
        conn.execute("PRAGMA recursive_triggers = ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the store: {exc}") from exc


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
        if MIGRATIONS_TABLE in tables:
            applied = [
                row[0]
                for row in conn.execute(
                    f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?",
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
    known = set(migrations.names)
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


class SQLiteStore(Store):
    """An adwatch store in one SQLite file. Open it with `adwatch.store.open_store`."""

    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.location = str(path)

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """The connection as a sqlite-utils Database (for tests and tools; adwatch uses SQL)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()

    def table_columns(self, table: str) -> list[str]:
        return [row[0] for row in self._fetch("SELECT name FROM pragma_table_info(?)", [table])]

    def __exit__(self, *exc: object) -> None:
        self.close()
        error = exc[1] if len(exc) > 1 else None
        if isinstance(error, sqlite3.DatabaseError):
            failure = _write_failure(error, self.path)
            if failure is not None:
                raise failure from error

    # --- primitives ------------------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._errors():
            return self.conn.execute(sql, list(params)).fetchall()

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._errors():
            cursor = self.conn.execute(sql, list(params))
        while True:
            with self._errors():
                rows = cursor.fetchmany(256)
            if not rows:
                return
            yield from rows

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._errors():
            return self.conn.execute(sql, list(params)).rowcount

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self._errors():
            return self.conn.executemany(sql, rows).rowcount

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[None]:
        if self.conn.in_transaction:
            yield  # joins the outer transaction
            return
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        with self._errors():
            self.conn.commit()

    def begin_group(self) -> None:
        if self.conn.in_transaction:
            return
        with self._errors():
            # IMMEDIATE: the write lock is taken (or waited for) now, so a write after a
            # read in the group never finds its snapshot changed by another writer.
            self.conn.execute("BEGIN IMMEDIATE")

    def commit_group(self) -> None:
        if not self.conn.in_transaction:
            return
        try:
            with self._errors():
                self.conn.commit()
        except BaseException:
            if self.conn.in_transaction:  # a full disk can leave it open
                self.conn.rollback()
            raise

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        if not self.conn.in_transaction:
            with self.transaction():
                yield
            return
        with self._errors():
            self.conn.execute("SAVEPOINT adwatch_part")
        try:
            yield
        except BaseException:
            with self._errors():
                self.conn.execute("ROLLBACK TO adwatch_part")
                self.conn.execute("RELEASE adwatch_part")
            raise
        with self._errors():
            self.conn.execute("RELEASE adwatch_part")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's errors as one-line StoreErrors: read-only, disk full, query failed."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            failure = _write_failure(exc, self.path)
            if failure is None:
                raise
            raise failure from exc

    # --- scanning --------------------------------------------------------------------

    @contextmanager
    def scan_session(self) -> Iterator[None]:
        """One scan at a time per file: the store's flock (see `scan_lock`)."""
        with scan_lock(self.path):
            yield

    # --- what SQLite says its own way ---------------------------------------------------

    def _text_condition(self, query: str, column: str) -> tuple[str, list[Any]]:
        # FTS5 narrows, adwatch_search_match() verifies each article once (store/fts.py).
        return text_condition(query, column)

    def iter_search_candidates(self, search: Search, filters: Filters) -> Iterator[ArticleRow]:
        conditions, params = self._article_conditions(filters)
        for row in iter_candidates(
            self._stream, search, columns=ARTICLE_ROW_COLUMNS, conditions=conditions, params=params
        ):
            yield build(ArticleRow, ARTICLE_ROW_FIELDS, row)

    def raw_fts_rows(self, query: str, filters: Filters, *, limit: int | None) -> list[ArticleRow]:
        if not query.strip():
            raise UsageError("search: the query is empty")
        conditions, params = self._article_conditions(filters)
        # Driven by the FTS index in descending rowid order: the newest articles
        # come first and LIMIT stops the search early, however common the word.
        sql = (
            f"SELECT {ARTICLE_ROW_COLUMNS} FROM articles_fts CROSS JOIN articles a "
            f"ON a.id = articles_fts.rowid {where(['articles_fts MATCH ?', *conditions])} "
            "ORDER BY articles_fts.rowid DESC"
        )
        params = [query, *params]
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        try:
            rows = self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise UsageError(f"search: the query is not valid FTS5 syntax: {exc}") from exc
        return [build(ArticleRow, ARTICLE_ROW_FIELDS, row) for row in rows]

    def hits_query(
        self, filters: Filters, *, columns: str, limit: int | None
    ) -> tuple[str, list[Any]]:
        """The SELECT behind `hits` and `export`, planned to stream in time order.

        Every `hits_<column>_found_at` index yields its rows already in time order
        for one value, so the plan is chosen to keep that order and stop after
        `limit` rows instead of sorting every match:
        - an equality filter with one value drives the query through its index (the
          other equality filters are marked `+` so SQLite does not pick them instead);
        - else, with a limit, a filter with several values (`--severity high` is high
          or critical) becomes one ordered, limited branch per value, merged;
        - else the `hits_found_at` index gives the order.
        """
        conditions = self._conditions(filters)
        driver: Condition | None = next(
            (c for c in conditions if c.column and len(c.values) == 1), None
        )
        if driver is None and limit:
            driver = next((c for c in conditions if c.column), None)
        others = [c for c in conditions if c is not driver]
        clauses = [("+" + c.sql) if c.column else c.sql for c in others]
        params = [p for c in others for p in c.params]
        # CROSS JOIN keeps hits as the outer loop, so the index order is the output order.
        join = "CROSS JOIN articles a ON a.id = h.article_id"
        order = "ORDER BY h.found_at DESC, h.id DESC"
        if driver is None or len(driver.values) == 1:
            if driver is not None:
                clauses.insert(0, driver.sql)
                params[:0] = driver.params
            sql = f"SELECT {columns} FROM hits h {join} {where(clauses)} {order}"
        else:
            assert driver.column and limit
            branch = (
                f"SELECT * FROM (SELECT h.id FROM hits h "
                f"{where([f'h.{driver.column} = ?', *clauses])} {order} LIMIT ?)"
            )
            branch_params: list[Any] = []
            for value in driver.values:
                branch_params += [value, *params, limit]
            sql = (
                f"SELECT {columns} FROM ({' UNION ALL '.join([branch] * len(driver.values))}) "
                f"pick CROSS JOIN hits h ON h.id = pick.id {join} {order}"
            )
            params = branch_params
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    def day_counts(
        self, by: str, bounds: Sequence[tuple[str, str]], filters: Filters
    ) -> dict[str, list[int]]:
        if not filters.is_empty():
            return super().day_counts(by, bounds, filters)
        # Without filters, from the covering `hits_<by>_found_at` index alone: the
        # groups from a skip-scan (one seek per distinct value), then one COUNT per
        # group and day over an index range. No table row is read, so 30 days of a
        # million hits take milliseconds.
        groups: list[str | None] = [
            row[0]
            for row in self._fetch(
                f"WITH RECURSIVE g(v) AS (SELECT MIN({by}) FROM hits UNION ALL "
                f"SELECT (SELECT MIN({by}) FROM hits WHERE {by} > g.v) FROM g "
                "WHERE g.v IS NOT NULL) SELECT v FROM g WHERE v IS NOT NULL"
            )
        ]
        groups.append(None)
        counts: dict[str, list[int]] = {}
        for group in groups:
            match = f"{by} IS NULL" if group is None else f"{by} = ?"
            sql = f"SELECT COUNT(*) FROM hits WHERE {match} AND found_at >= ? AND found_at < ?"
            key = [] if group is None else [group]
            series = [self._fetch(sql, [*key, low, high])[0][0] for low, high in bounds]
            if any(series):
                counts[group or ""] = series
        return counts


def open_sqlite(path: str | Path, *, create: bool = True) -> SQLiteStore:
    """Open (and create or upgrade) the SQLite store at `path`."""
    path = Path(path)
    if not create and not path.exists():
        raise NoStoreYet(f"{path}: no store here yet (run `adwatch scan` first)")
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
        _configure(conn, path)
        if len(applied) < SCHEMA_VERSION:
            import sqlite_utils

            migrations.apply(sqlite_utils.Database(conn))
    except sqlite3.OperationalError as exc:
        conn.close()
        raise StoreError(f"{path}: cannot upgrade the store's schema: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not an adwatch store or damaged: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return SQLiteStore(conn, path)


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
