"""The PostgreSQL engine: a store that several scanners and many analysts share.

Open it with `adwatch.store.open_store("postgresql://…")`. psycopg is imported
only here, and only when such a store is opened: a SQLite user never pays for it.

What PostgreSQL says its own way (the rest is `base.py`'s shared SQL):

- placeholders: the shared statements' `?` become psycopg's `%s` (`_pg_sql`);
- search: pg_trgm indexes instead of FTS5 (`pg_search.py`), and the `--text`
  filter verified in Python before the query, not by an SQL function inside it;
- several scanners: no file lock; each source is claimed with a lease
  (`claim_source`), a run holds an advisory lock while it is alive, and triage
  locks the hits it reads (`FOR UPDATE`) so every change is logged exactly;
- the schema and its upgrades: `pg_schema.py`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from adwatch.errors import LockHeld, NoStoreYet, NotAStore, StoreError
from adwatch.models import ArticleRow, Filters
from adwatch.search import Search, cached_search, needs
from adwatch.store import pg_schema
from adwatch.store.base import (
    ARTICLE_ROW_COLUMNS,
    ARTICLE_ROW_FIELDS,
    Condition,
    Store,
    build,
)
from adwatch.store.pg_search import need_condition
from adwatch.urls import redact_url

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
STREAM_BATCH = 500  # rows fetched at a time from a server-side cursor
# Advisory locks taken by a live run (classid, run id): a run whose lock is free
# belongs to a scanner that died, and `mark_interrupted_runs` may close it.
RUN_LOCK_CLASS = 0x6164  # "ad"
SESSION_LOCK_CLASS = 0x6173  # scans (shared) against rematch (exclusive)


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """`sql` with `?` placeholders as psycopg's `%s` and a literal `%` doubled.

    Quoted strings, quoted names and comments are copied as they are.
    """
    out: list[str] = []
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            end = sql.find(char, i + 1)
            end = len(sql) if end == -1 else end + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end == -1 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        out.append("%s" if char == "?" else "%%" if char == "%" else char)
        i += 1
    return "".join(out)


def _one_line(exc: BaseException) -> str:
    """A driver message on one line: libpq's come with hints on further lines."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


class PostgresStore(Store):
    """An adwatch store in a PostgreSQL database. Open it with `adwatch.store.open_store`."""

    engine = "postgresql"

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], location: str) -> None:
        self.conn = conn
        self.location = location
        self._depth = 0  # transactions open; inner ones join the outer one
        self._group: AbstractContextManager[Any] | None = None  # open from begin_group
        self._cursors = itertools.count()
        self._verified: dict[tuple[Any, ...], list[int]] = {}  # --text: article ids

    def close(self) -> None:
        self.conn.close()

    # --- primitives ------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str = "the store failed") -> Iterator[None]:
        """psycopg's errors as one-line StoreErrors naming the store."""
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {doing}: {_one_line(exc)}") from exc

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._errors():
            cursor = self.conn.execute(_pg_sql(sql), list(params))
            return cursor.fetchall() if cursor.description else []

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        # A server-side cursor, read in batches: the connection stays free for other
        # statements between batches, as a SQLite cursor would be. It needs a
        # transaction, which ends when the rows do (or the reader stops).
        with self.transaction():
            with self._errors():
                cursor = self.conn.cursor(name=f"adwatch_rows_{next(self._cursors)}")
                cursor.execute(_pg_sql(sql), list(params))
            try:
                # A few rows first: a search often stops after its first dozens.
                for size in itertools.chain((32, 128), itertools.repeat(STREAM_BATCH)):
                    with self._errors():
                        rows = cursor.fetchmany(size)
                    if not rows:
                        return
                    yield from rows
            finally:
                with self._errors():
                    cursor.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._verified.clear()
        with self._errors():
            return self.conn.execute(_pg_sql(sql), list(params)).rowcount

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        self._verified.clear()
        rows = [list(row) for row in rows]
        if not rows:
            return 0
        with self._errors(), self.conn.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), rows)
            return max(cursor.rowcount, 0)

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[None]:
        # `immediate` needs nothing here: writers lock rows, not the database, and
        # the reads that must not race a writer say FOR UPDATE (see _LOCK_ROWS).
        if self._depth:
            yield  # joins the outer transaction
            return
        with self._errors():
            transaction = self.conn.transaction()
            transaction.__enter__()
        self._depth += 1
        try:
            yield
        except BaseException as exc:
            self._depth -= 1
            with self._errors():
                transaction.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._depth -= 1
        with self._errors():
            transaction.__exit__(None, None, None)

    def begin_group(self) -> None:
        if self._depth:
            return
        with self._errors():
            group = self.conn.transaction()
            group.__enter__()
        self._group = group
        self._depth += 1

    def commit_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        self._depth -= 1
        with self._errors():
            group.__exit__(None, None, None)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        if self._group is None:
            with self.transaction():
                yield
            return
        # psycopg makes a transaction block inside another one a savepoint.
        with self._errors():
            part = self.conn.transaction()
            part.__enter__()
        try:
            yield
        except BaseException as exc:
            with self._errors():
                part.__exit__(type(exc), exc, exc.__traceback__)
            raise
        with self._errors():
            part.__exit__(None, None, None)

    # --- what PostgreSQL says its own way ---------------------------------------------

    # Triage reads the statuses it changes with their rows locked, in id order (two
    # analysts triaging the same hits wait for each other instead of deadlocking).
    _LOCK_ROWS = " ORDER BY id FOR UPDATE"

    def _json_list(self, expression: str, *, distinct: bool = False) -> str:
        inner = f"DISTINCT {expression}" if distinct else expression
        return f"json_agg({inner})"

    def iter_search_candidates(self, search: Search, filters: Filters) -> Iterator[ArticleRow]:
        condition, params = need_condition(needs(search.node))
        conditions, filter_params = self._article_conditions(filters)
        sql = (
            f"SELECT {ARTICLE_ROW_COLUMNS} FROM articles a "
            f"WHERE {' AND '.join([condition, *conditions])} ORDER BY a.id DESC"
        )
        for row in self._stream(sql, [*params, *filter_params]):
            yield build(ArticleRow, ARTICLE_ROW_FIELDS, row)

    def _conditions(self, filters: Filters, alias: str = "h") -> list[Condition]:
        # No adwatch code runs inside PostgreSQL, so the `--text` filter is verified
        # here, before the query: only the articles that have hits the other filters
        # keep (`--text deepfake --since 24h` reads a day's articles, not the store's).
        if not filters.text:
            return super()._conditions(filters, alias)
        others = replace(filters, text=None)
        narrowing: list[str] = []
        params: list[Any] = []
        if not others.is_empty():
            sql, params = self.hit_conditions(others, alias="hv")
            narrowing = [
                f"EXISTS (SELECT 1 FROM hits hv WHERE hv.article_id = a.id AND {' AND '.join(sql)})"
            ]
        ids = self._matching_article_ids(filters.text, narrowing, params)
        condition = Condition(f"{alias}.article_id = ANY(?)", (ids,))
        return [*super()._conditions(others, alias), condition]

    def _text_condition(self, query: str, column: str) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [self._matching_article_ids(query)]

    def _matching_article_ids(
        self, query: str, conditions: Sequence[str] = (), params: Sequence[Any] = ()
    ) -> list[int]:
        """Ids of the articles (meeting `conditions` on `articles a`) that match `query`.

        Remembered until this store next writes: a report asks the same several times.
        """
        key = (query, tuple(conditions), tuple(params))
        if key not in self._verified:
            search = cached_search(query)
            need, need_params = need_condition(needs(search.node))
            rows = self._stream(
                f"SELECT a.id, a.title, a.text FROM articles a "
                f"WHERE {' AND '.join([need, *conditions])}",
                [*need_params, *params],
            )
            self._verified[key] = [
                row[0] for row in rows if search.find(row[1] or "", row[2] or "") is not None
            ]
        return self._verified[key]

    # --- several scanners ---------------------------------------------------------------

    def claim_source(
        self, name: str, scanner: str, *, window_seconds: int, ttl_seconds: int
    ) -> bool:
        """Whether `scanner` should fetch source `name` now; if so it holds the lease.

        No: another scanner is claiming it this instant (its row is locked, and
        SKIP LOCKED does not wait), holds a lease that has not expired, or fetched
        it less than `window_seconds` ago. A lease not released within
        `ttl_seconds` belongs to a scanner that died: it may be taken over. Times
        are the database's, so the boxes' clocks need not agree.
        """
        lease = "(?, ?, now(), now() + make_interval(secs => ?), NULL)"
        with self.transaction():
            if self._fetch_one(
                "INSERT INTO source_leases (source, scanner, claimed_at, expires_at, released_at) "
                f"VALUES {lease} ON CONFLICT (source) DO NOTHING RETURNING source",
                [name, scanner, ttl_seconds],
            ):
                return True
            row = self._fetch_one(
                "SELECT scanner = ?, expires_at IS NOT NULL AND expires_at > now(), "
                "expires_at IS NULL AND claimed_at > now() - make_interval(secs => ?) "
                "FROM source_leases WHERE source = ? FOR UPDATE SKIP LOCKED",
                [scanner, window_seconds, name],
            )
            if row is None:
                return False
            mine, held, fetched_lately = row
            if not mine and (held or fetched_lately):
                return False
            self._execute(
                "UPDATE source_leases SET scanner = ?, claimed_at = now(), "
                "expires_at = now() + make_interval(secs => ?), released_at = NULL "
                "WHERE source = ?",
                [scanner, ttl_seconds, name],
            )
            return True

    def release_source(self, name: str, scanner: str) -> None:
        """The scanner is done with `name`; the fetch counts for the rest of the window."""
        with self.transaction():
            self._execute(
                "UPDATE source_leases SET expires_at = NULL, released_at = now() "
                "WHERE source = ? AND scanner = ? AND expires_at IS NOT NULL",
                [name, scanner],
            )

    # --- runs: several at once --------------------------------------------------------

    def mark_interrupted_runs(self) -> None:
        """Runs still 'running' whose scanner is gone (its advisory lock is free)."""
        with self.transaction():
            self._execute(
                "UPDATE runs SET status = 'interrupted' WHERE status = 'running' "
                "AND pg_try_advisory_xact_lock(?, id::integer)",
                [RUN_LOCK_CLASS],
            )

    # Scans share the store (a shared lock each); `rematch` rewrites every article's hits
    # and must not interleave with them (an exclusive lock): it would deadlock with a
    # scan's writes, so one of the two stops at once with LockHeld instead, as on SQLite.
    @contextmanager
    def scan_session(self) -> Iterator[None]:
        with self._session_lock(shared=True, holder="a rematch"):
            yield

    @contextmanager
    def exclusive_session(self) -> Iterator[None]:
        with self._session_lock(shared=False, holder="a scan"):
            yield

    @contextmanager
    def _session_lock(self, *, shared: bool, holder: str) -> Iterator[None]:
        kind = "_shared" if shared else ""
        got = self._fetch_one(f"SELECT pg_try_advisory_lock{kind}(?, 0)", [SESSION_LOCK_CLASS])
        if not got or not got[0]:
            raise LockHeld(f"{self.location}: {holder} is running on this store")
        try:
            yield
        finally:
            self._fetch(f"SELECT pg_advisory_unlock{kind}(?, 0)", [SESSION_LOCK_CLASS])

    def start_run(self) -> int:
        run_id = super().start_run()
        # Held by this connection until the run finishes or the scanner dies.
        self._fetch("SELECT pg_advisory_lock(?, ?)", [RUN_LOCK_CLASS, run_id])
        return run_id

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
        super().finish_run(
            run_id, status=status, sources_ok=sources_ok, sources_failed=sources_failed,
            articles_new=articles_new, hits_new=hits_new, details=details,
        )  # fmt: skip
        self._fetch("SELECT pg_advisory_unlock(?, ?)", [RUN_LOCK_CLASS, run_id])

    # --- copying a store (adwatch migrate) ---------------------------------------------

    def table_columns(self, table: str) -> list[str]:
        """The columns of one of the store's tables, in their order; not generated ones."""
        return [
            row[0]
            for row in self._fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position",
                [table],
            )
        ]

    def import_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Insert rows as they are (ids kept), skipping those already there; how many were new.

        Each identity sequence then moves past the highest id, so the rows adwatch
        adds later never collide with copied ones.
        """
        with self.transaction():
            added = super().import_rows(
                table, columns, [[_pg_value(value) for value in row] for row in rows]
            )
            for (column,) in self._fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? AND is_identity = 'YES'",
                [table],
            ):
                self._fetch(
                    "SELECT setval(pg_get_serial_sequence(?, ?), "
                    f'COALESCE((SELECT max("{column}") FROM {table}), 0) + 1, false)',
                    [table, column],
                )
        return added


def _pg_value(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL, which SQLite text can.
    return value.replace("\x00", "") if isinstance(value, str) else value


# --- opening --------------------------------------------------------------------------


def open_postgres(url: str, *, create: bool = True) -> PostgresStore:
    """Open (and create or upgrade) the store in the PostgreSQL database at `url`.

    The database must exist (adwatch creates tables, not databases). `create`
    false: it must hold an adwatch store already.
    """
    location = redact_url(url)
    conn = _connect(url, location)
    try:
        store = PostgresStore(conn, location)
        _check_encoding(store)
        applied = _applied_migrations(store)
        if not applied and not create:
            raise NoStoreYet(f"{location}: no store here yet (run `adwatch scan` first)")
        if len(applied) < pg_schema.SCHEMA_VERSION:
            _migrate(store)
    except BaseException:
        conn.close()
        raise
    return store


def _connect(url: str, location: str) -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise StoreError(f"{location}: not a PostgreSQL URL: {_one_line(exc)}") from exc
    settings: dict[str, Any] = {}
    if "connect_timeout" not in given:
        settings["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in given:
        settings["application_name"] = "adwatch"
    try:
        # Autocommit: a read holds no transaction open; writes say `transaction()`.
        # No server-side prepared statements: search conditions must be planned with
        # their values, so the trigram indexes are used.
        conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, **settings)
    except psycopg.Error as exc:
        raise StoreError(f"{location}: cannot connect to the store: {_one_line(exc)}") from exc
    try:
        # Plan the statements behind streams (server-side cursors) for every row, as
        # any other query: planned for the first tenth, a search for a word in 422 of
        # 30 000 articles read them all backwards by id (50 ms instead of 6).
        conn.execute("SET cursor_tuple_fraction = 1")
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"{location}: cannot use the store: {_one_line(exc)}") from exc
    return conn


def _check_encoding(store: PostgresStore) -> None:
    row = store._fetch_one("SHOW server_encoding")
    if row is None or row[0] != "UTF8":
        raise NotAStore(
            f"{store.location}: the database's encoding is {row[0] if row else None!r}; "
            "adwatch stores Thai, Vietnamese and Burmese text and needs a UTF8 database"
        )


def _applied_migrations(store: PostgresStore) -> list[str]:
    """The adwatch migrations this database has; raise NotAStore when it is not ours.

    A schema with tables but no adwatch migrations is someone else's, and one with
    migrations this adwatch does not know was written by a newer adwatch: adwatch
    neither reads nor writes either (docs/postgres.md).
    """
    tables = {
        row[0]
        for row in store._fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    }
    if pg_schema.MIGRATIONS_TABLE not in tables:
        if tables:
            raise NotAStore(
                f"{store.location}: not an adwatch store (a database with other tables); "
                "nothing was changed"
            )
        return []
    applied = [
        row[0]
        for row in store._fetch(f"SELECT name FROM {pg_schema.MIGRATIONS_TABLE} ORDER BY name")
    ]
    known = [migration.name for migration in pg_schema.MIGRATIONS]
    newer = [name for name in applied if name not in known]
    if newer:
        raise NotAStore(
            f"{store.location}: written by a newer adwatch (schema {len(applied)}, this one "
            f"knows {len(known)}; unknown {newer[0]!r}): upgrade adwatch to use it"
        )
    return applied


def _migrate(store: PostgresStore, migrations: Sequence[pg_schema.Migration] | None = None) -> None:
    """Apply the migrations this database lacks, each in its own transaction.

    An advisory lock makes a second adwatch starting at the same moment wait, and
    then find nothing left to do.
    """
    doing = "cannot upgrade the store's schema"
    for migration in pg_schema.MIGRATIONS if migrations is None else migrations:
        with store._errors(doing), store.conn.transaction():
            store.conn.execute("SELECT pg_advisory_xact_lock(%s)", [pg_schema.MIGRATION_LOCK])
            store.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {pg_schema.MIGRATIONS_TABLE} "
                "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = store.conn.execute(
                f"SELECT 1 FROM {pg_schema.MIGRATIONS_TABLE} WHERE name = %s", [migration.name]
            ).fetchone()
            if done:
                continue
            for statement in migration.statements:
                store.conn.execute(statement)
            store.conn.execute(
                f"INSERT INTO {pg_schema.MIGRATIONS_TABLE} (name) VALUES (%s)", [migration.name]
            )
