"""The analyst's queries over the store: filters, hit listings, one hit, triage,
full-text search, trends and source health.

Every filter becomes an SQL condition on an indexed column with bound
parameters (the values never become SQL text). Listings stream from the cursor,
so a million hits cost no more memory than fifty.
"""

from __future__ import annotations

import getpass
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adwatch import search
from adwatch.errors import StoreError, UsageError
from adwatch.models import SEVERITIES, Source
from adwatch.search import parse_search
from adwatch.store import TRIAGE_STATUSES, Store
from adwatch.text.dates import iso_utc, parse_when, utc_now

# Columns of `export` and of `hits --format csv`, in the order of the design.
EXPORT_COLUMNS = (
    "id", "found_at", "published_at", "market", "language", "watchlist", "category",
    "severity", "term", "matched_text", "snippet", "title", "url", "source", "status", "note",
)  # fmt: skip

TREND_GROUPS = ("market", "category", "watchlist", "source", "language", "severity")

_SEVERITY_RANK_SQL = (
    "CASE {col} WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END"
)


# --- filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the analyst asked for. Empty fields do not filter.

    Filters compose with AND; the values of one field with OR. `severity` is a
    minimum: `high` keeps high and critical.
    """

    since: str | None = None  # adwatch timestamps, inclusive
    until: str | None = None
    markets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    watchlists: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severity: str | None = None
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    text: str | None = None  # a search query over the article's title and text

    def severities(self) -> tuple[str, ...]:
        """The severities at or above `severity`."""
        if self.severity is None:
            return ()
        return SEVERITIES[SEVERITIES.index(self.severity) :]

    def is_empty(self) -> bool:
        return self == Filters()


def make_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    market: Sequence[str] | None = None,
    language: Sequence[str] | None = None,
    watchlist: Sequence[str] | None = None,
    category: Sequence[str] | None = None,
    severity: Sequence[str] | str | None = None,
    status: Sequence[str] | None = None,
    source: Sequence[str] | None = None,
    text: str | None = None,
    now: datetime | None = None,
) -> Filters:
    """Validate command-line filter values into Filters; raise UsageError naming the option."""
    since_iso = parse_when(since, "--since", now=now) if since is not None else None
    until_iso = parse_when(until, "--until", upper=True, now=now) if until is not None else None
    if since_iso and until_iso and since_iso > until_iso:
        raise UsageError(f"--until: {until!r} is before --since {since!r}")
    if isinstance(severity, str):
        severity = [severity]
    minimum = None
    for value in severity or ():
        level = _one_of(value.strip().lower(), SEVERITIES, "--severity")
        # Repeated values are ORed: at least the lowest of them.
        if minimum is None or SEVERITIES.index(level) < SEVERITIES.index(minimum):
            minimum = level
    statuses = tuple(_one_of(v.strip().lower(), TRIAGE_STATUSES, "--status") for v in status or ())
    query = None
    if text is not None:
        query = text.strip()
        if not query:
            raise UsageError("--text: the search text is empty")
        parse_search(query, option_name="--text")
    return Filters(
        since=since_iso,
        until=until_iso,
        markets=_values(market, "--market", str.upper),
        languages=_values(language, "--language", str.lower),
        watchlists=_values(watchlist, "--watchlist"),
        categories=_values(category, "--category"),
        severity=minimum,
        statuses=statuses,
        sources=_values(source, "--source"),
        text=query,
    )


def _one_of(value: str, allowed: Sequence[str], option_name: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option_name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _values(values: Sequence[str] | None, option_name: str, fold: Any = None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        item = value.strip()
        if not item:
            raise UsageError(f"{option_name}: empty value")
        item = fold(item) if fold else item
        if item not in out:
            out.append(item)
    return tuple(out)


# Languages adwatch detects; a store may also hold a hint a feed declared.
KNOWN_LANGUAGES = ("en", "my", "th", "vi")

# filter field -> (the option that sets it, what it names, where the store names them)
_NAMED_FILTERS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "markets": ("--market", "market", (("sources", "market"), ("hits", "market"))),
    "languages": ("--language", "language", (("hits", "language"), ("articles", "language"))),
    "watchlists": ("--watchlist", "watchlist", (("hits", "watchlist"),)),
    "sources": ("--source", "source", (("sources", "name"), ("hits", "source"))),
    "categories": ("--category", "category", (("hits", "category"),)),
}


def check_filter_names(
    store: Store, filters: Filters, configured: Callable[[], dict[str, set[str]]]
) -> None:
    """Raise UsageError for a market, language, watchlist, source or category nobody knows.

    A name is known when the store has it or the config defines it (`configured()`,
    called only when the store does not know a name, since reading the config costs
    more than these indexed look-ups). "No hits match" must mean no hits, not a typo.
    """
    conn = _connection(store)
    for field_name, (option, noun, places) in _NAMED_FILTERS.items():
        values: tuple[str, ...] = getattr(filters, field_name)
        if field_name == "languages":
            values = tuple(v for v in values if v not in KNOWN_LANGUAGES)
        for value in values:
            if any(
                conn.execute(
                    f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [value]
                ).fetchone()
                for table, column in places
            ):
                continue
            known = set(configured().get(field_name, set()))
            if value in known:
                continue
            for table, column in places:
                known |= {
                    row[0]
                    for row in conn.execute(
                        f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
                    )
                }
            if field_name == "languages":
                known |= set(KNOWN_LANGUAGES)
            listed = ", ".join(sorted(known)[:30]) or "none yet"
            raise UsageError(f"{option}: unknown {noun} {value!r} (known: {listed})")


@dataclass(frozen=True)
class _Condition:
    """One filter as SQL. `column`/`values` are set for the equality filters."""

    sql: str
    params: tuple[Any, ...]
    column: str | None = None
    values: tuple[str, ...] = ()


def _equality_values(filters: Filters) -> list[tuple[str, tuple[str, ...]]]:
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
        )
        if values
    ]


def _in(column: str, values: Sequence[str]) -> str:
    if len(values) == 1:
        return f"{column} = ?"
    return f"{column} IN ({', '.join('?' * len(values))})"


def _conditions(filters: Filters, alias: str = "h") -> list[_Condition]:
    out: list[_Condition] = []
    if filters.since:
        out.append(_Condition(f"{alias}.found_at >= ?", (filters.since,)))
    if filters.until:
        out.append(_Condition(f"{alias}.found_at <= ?", (filters.until,)))
    for column, values in _equality_values(filters):
        out.append(_Condition(_in(f"{alias}.{column}", values), values, column, values))
    if filters.text:
        sql, params = search.text_condition(filters.text, f"{alias}.article_id")
        out.append(_Condition(sql, tuple(params)))
    return out


def hit_conditions(filters: Filters, alias: str = "h") -> tuple[list[str], list[Any]]:
    """SQL conditions on `hits` (as `alias`) and their parameters, one per filter.

    Each can use an index: `hits_<column>_found_at` for the equality filters,
    `hits_found_at` for the time range, the FTS table for `text`.
    """
    conditions = _conditions(filters, alias)
    return [c.sql for c in conditions], [p for c in conditions for p in c.params]


def _where(conditions: Sequence[str]) -> str:
    return ("WHERE " + " AND ".join(conditions)) if conditions else ""


def _connection(store: Store) -> sqlite3.Connection:
    """The store's connection (its SQL functions are registered when it is opened)."""
    return store.db.conn


# --- hits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One hit with the article fields an analyst reads next to it."""

    id: int
    found_at: str
    published_at: str | None
    market: str
    language: str | None
    watchlist: str
    category: str
    severity: str
    term: str
    matched_text: str
    snippet: str
    title: str
    url: str
    source: str | None
    status: str
    note: str | None
    article_id: int
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


HIT_SELECT = (
    "h.id, h.found_at, a.published_at, h.market, h.language, h.watchlist, h.category, "
    "h.severity, h.term, h.matched_text, h.snippet, a.title, a.url, h.source, h.status, "
    'h.note, h.article_id, h.start, h."end"'
)
_EXPORT_SELECT = (
    "h.id, h.found_at, a.published_at, h.market, h.language, h.watchlist, h.category, "
    "h.severity, h.term, h.matched_text, h.snippet, a.title, a.url, h.source, h.status, h.note"
)


def hits_sql(
    filters: Filters, *, columns: str = HIT_SELECT, limit: int | None = None
) -> tuple[str, list[Any]]:
    """The SELECT behind `hits` and `export`, newest first, and its parameters.

    Every `hits_<column>_found_at` index yields its rows already in time order
    for one value, so the plan is chosen to keep that order and stop after
    `limit` rows instead of sorting every match:
    - an equality filter with one value drives the query through its index (the
      other equality filters are marked `+` so SQLite does not pick them instead);
    - else, with a limit, a filter with several values (`--severity high` is high
      or critical) becomes one ordered, limited branch per value, merged;
    - else the `hits_found_at` index gives the order.
    """
    conditions = _conditions(filters)
    driver = next((c for c in conditions if c.column and len(c.values) == 1), None)
    if driver is None and limit:
        driver = next((c for c in conditions if c.column), None)
    others = [c for c in conditions if c is not driver]
    where = [("+" + c.sql) if c.column else c.sql for c in others]
    params = [p for c in others for p in c.params]
    # CROSS JOIN keeps hits as the outer loop, so the index order is the output order.
    join = "CROSS JOIN articles a ON a.id = h.article_id"
    order = "ORDER BY h.found_at DESC, h.id DESC"
    if driver is None or len(driver.values) == 1:
        if driver is not None:
            where.insert(0, driver.sql)
            params[:0] = driver.params
        sql = f"SELECT {columns} FROM hits h {join} {_where(where)} {order}"
    else:
        assert driver.column and limit
        branch = (
            f"SELECT * FROM (SELECT h.id FROM hits h "
            f"{_where([f'h.{driver.column} = ?', *where])} {order} LIMIT ?)"
        )
        branch_params = []
        for value in driver.values:
            branch_params += [value, *params, limit]
        sql = (
            f"SELECT {columns} FROM ({' UNION ALL '.join([branch] * len(driver.values))}) pick "
            f"CROSS JOIN hits h ON h.id = pick.id {join} {order}"
        )
        params = branch_params
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def iter_hits(store: Store, filters: Filters, *, limit: int | None = None) -> Iterator[Hit]:
    """Hits matching `filters`, newest first, streamed from the cursor (`limit` 0/None: all)."""
    sql, params = hits_sql(filters, limit=limit)
    for row in _execute(store, sql, params):
        yield Hit(*row)


def list_hits(store: Store, filters: Filters, *, limit: int | None = 50) -> list[Hit]:
    """The newest `limit` hits matching `filters` (0 or None: all of them)."""
    return list(iter_hits(store, filters, limit=limit))


def iter_export_rows(
    store: Store, filters: Filters, *, limit: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """Rows of EXPORT_COLUMNS as plain tuples, newest first, streamed from the cursor."""
    sql, params = hits_sql(filters, columns=_EXPORT_SELECT, limit=limit)
    yield from _execute(store, sql, params)


def _execute(
    store: Store, sql: str, params: Sequence[Any], *, raw_fts: bool = False
) -> sqlite3.Cursor:
    """Run a query; `raw_fts` says an analyst's FTS5 text is in it, so a failure is theirs."""
    try:
        return _connection(store).execute(sql, list(params))
    except sqlite3.OperationalError as exc:
        if raw_fts or "fts5" in str(exc).lower():
            raise UsageError(f"search: the query is not valid FTS5 syntax: {exc}") from exc
        raise StoreError(f"{store.path}: query failed: {exc}") from exc


@dataclass(frozen=True)
class ArticleHits:
    """The hits of one article, for `hits --group-by article`."""

    article_id: int
    found_at: str  # the newest of its hits
    market: str
    language: str | None
    title: str
    url: str
    source: str
    severity: str  # the highest of its hits
    watchlists: tuple[str, ...]
    hit_ids: tuple[int, ...]
    published_at: str | None = None  # the article's own date, when its feed or page gave one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_articles_with_hits(
    store: Store, filters: Filters, *, limit: int | None = 50
) -> list[ArticleHits]:
    """One row per article with hits matching `filters`, newest hit first."""
    conditions, params = hit_conditions(filters)
    rank = _SEVERITY_RANK_SQL.format(col="h.severity")
    sql = (
        "SELECT h.article_id, MAX(h.found_at) AS newest, a.market, a.language, a.title, a.url, "
        f"a.source, MAX({rank}), json_group_array(DISTINCT h.watchlist), json_group_array(h.id), "
        "a.published_at FROM hits h CROSS JOIN articles a ON a.id = h.article_id "
        f"{_where(conditions)} GROUP BY h.article_id ORDER BY newest DESC, h.article_id DESC"
    )
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    rows = []
    for row in _execute(store, sql, params):
        rows.append(
            ArticleHits(
                article_id=row[0],
                found_at=row[1],
                market=row[2],
                language=row[3],
                title=row[4],
                url=row[5],
                source=row[6],
                severity=SEVERITIES[row[7]],
                watchlists=tuple(sorted(json.loads(row[8]))),
                hit_ids=tuple(sorted(json.loads(row[9]), reverse=True)),
                published_at=row[10],
            )
        )
    return rows


def hit_ids(store: Store, filters: Filters) -> list[int]:
    """Ids of every hit matching `filters`, newest first."""
    sql, params = hits_sql(filters, columns="h.id")
    return [row[0] for row in _execute(store, sql, params)]


# --- one hit ------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The matched text inside its surrounding article text."""

    before: str
    match: str
    after: str


@dataclass(frozen=True)
class TriageEntry:
    """One line of a hit's triage history."""

    at: str
    who: str
    old_status: str | None
    new_status: str
    note: str | None


@dataclass(frozen=True)
class HitDetail:
    """Everything `show` displays about one hit."""

    hit: Hit
    fetched_at: str
    context: Context
    other_hits: list[Hit]  # the first OTHER_HITS_SHOWN in text order
    history: list[TriageEntry]
    other_hits_total: int = 0  # all other hits of the article, shown or not

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.hit.as_dict(),
            "fetched_at": self.fetched_at,
            "context": asdict(self.context),
            "other_hits": [h.as_dict() for h in self.other_hits],
            "other_hits_total": self.other_hits_total,
            "history": [asdict(e) for e in self.history],
        }


CONTEXT_CHARS = 160
# One page once held 45 912 hits and `show` printed them all: list a screenful.
OTHER_HITS_SHOWN = 30


def get_hit(store: Store, hit_id: int) -> HitDetail:
    """The hit with id `hit_id` and its article, other hits and triage history."""
    sql = (
        f"SELECT {HIT_SELECT}, a.fetched_at, a.text FROM hits h "
        "JOIN articles a ON a.id = h.article_id WHERE h.id = ?"
    )
    row = _execute(store, sql, [hit_id]).fetchone()
    if row is None:
        raise UsageError(f"no hit with id {hit_id!r} in {store.path}")
    hit = Hit(*row[:-2])
    fetched_at, text = row[-2], row[-1]
    others_sql = (
        f"SELECT {HIT_SELECT} FROM hits h JOIN articles a ON a.id = h.article_id "
        "WHERE h.article_id = ? AND h.id != ? ORDER BY h.start, h.id LIMIT ?"
    )
    others = [
        Hit(*r) for r in _execute(store, others_sql, [hit.article_id, hit.id, OTHER_HITS_SHOWN])
    ]
    total = _execute(
        store,
        "SELECT COUNT(*) FROM hits WHERE article_id = ? AND id != ?",
        [hit.article_id, hit.id],
    ).fetchone()[0]
    return HitDetail(
        hit=hit,
        fetched_at=fetched_at,
        context=match_context(text, hit),
        other_hits=others,
        history=triage_history(store, hit.id),
        other_hits_total=total,
    )


def match_context(text: str, hit: Hit, width: int = CONTEXT_CHARS) -> Context:
    """The matched text with up to `width` characters either side, cut at spaces."""
    start, end = hit.start, hit.end
    if text[start:end] != hit.matched_text:
        # The article changed since the hit was found: fall back to the stored snippet.
        found = hit.snippet.find(hit.matched_text)
        if found < 0:
            return Context(hit.snippet, "", "")
        text, start, end = hit.snippet, found, found + len(hit.matched_text)
    left = max(0, start - width)
    right = min(len(text), end + width)
    # Never cut between a letter and its vowel or tone marks (Thai, Burmese,
    # Vietnamese written with combining accents): a stray mark renders broken.
    while 0 < left < start and _joined(text[left - 1], text[left]):
        left += 1
    while end < right < len(text) and _joined(text[right - 1], text[right]):
        right += 1
    before, after = text[left:start], text[end:right]
    if left > 0:
        cut = before.find(" ")
        before = "…" + (before[cut + 1 :] if 0 <= cut < width // 3 else before)
    if right < len(text):
        cut = after.rfind(" ")
        after = (after[:cut] if cut > len(after) - width // 3 else after) + "…"
    return Context(before, text[start:end], after)


# Thai vowels written after their consonant that Unicode does not class as marks
# (sara a, aa, am, lakkhangyao), and those written before it (e, ae, o, ai, ai).
_THAI_FOLLOWING = frozenset("\u0e30\u0e32\u0e33\u0e45")
_THAI_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


def _joined(previous: str, char: str) -> bool:
    """Whether a cut between `previous` and `char` would split one written syllable."""
    return (
        unicodedata.category(char).startswith("M")
        or char in _THAI_FOLLOWING
        or previous in _THAI_LEADING
    )


def triage_history(store: Store, hit_id: int) -> list[TriageEntry]:
    rows = _execute(
        store,
        "SELECT at, who, old_status, new_status, note FROM triage_log WHERE hit_id = ? "
        "ORDER BY at, id",
        [hit_id],
    )
    return [TriageEntry(*row) for row in rows]


# --- triage -------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageChange:
    hit_id: int
    old_status: str
    new_status: str
    note: str | None


def current_user() -> str:
    """The OS user, recorded as `who` in the triage log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def triage_hits(
    store: Store,
    ids: Sequence[int],
    *,
    status: str,
    note: str | None = None,
    who: str | None = None,
) -> list[TriageChange]:
    """Set the status (and note) of hits `ids`, logging each change; all or nothing.

    A hit already in `status` with no new note is left alone (nothing to log).
    The hit's `note` column keeps the latest note; every note stays in triage_log.
    """
    status = _one_of(status, TRIAGE_STATUSES, "--status")
    if note is not None and not note.strip():
        raise UsageError("--note: the note is empty")
    unique_ids = list(dict.fromkeys(ids))
    if not unique_ids:
        raise UsageError("triage: no hit ids given")
    who = who or current_user()
    now = utc_now()
    conn = _connection(store)
    changes: list[TriageChange] = []
    with conn:
        # Take the write lock before reading the statuses: two analysts triaging one
        # hit at once then log old -> new exactly, one after the other.
        conn.execute("BEGIN IMMEDIATE")
        current = _current_statuses(conn, unique_ids)
        missing = [i for i in unique_ids if i not in current]
        if missing:
            shown = ", ".join(str(i) for i in missing[:10]) + (" …" if len(missing) > 10 else "")
            raise UsageError(f"no hit with id {shown} in {store.path} (nothing changed)")
        for hit_id in unique_ids:
            old = current[hit_id]
            if old == status and note is None:
                continue
            changes.append(TriageChange(hit_id, old, status, note))
        conn.executemany(
            "UPDATE hits SET status = ?, note = COALESCE(?, note) WHERE id = ?",
            [(c.new_status, c.note, c.hit_id) for c in changes],
        )
        conn.executemany(
            "INSERT INTO triage_log (hit_id, old_status, new_status, note, who, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(c.hit_id, c.old_status, c.new_status, c.note, who, now) for c in changes],
        )
    return changes


def _current_statuses(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        marks = ", ".join("?" * len(chunk))
        for hit_id, status in conn.execute(
            f"SELECT id, status FROM hits WHERE id IN ({marks})", chunk
        ):
            found[hit_id] = status
    return found


# --- search -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """One article found by `search`, with the first match in context."""

    article_id: int
    title: str
    url: str
    source: str
    market: str
    language: str | None
    published_at: str | None
    fetched_at: str
    hits: int
    context: Context

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "context": asdict(self.context)}


def search_articles(
    store: Store,
    query: str,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    *,
    fts: bool = False,
    limit: int | None = 50,
) -> list[SearchResult]:
    """Articles matching `query` (our query language, or raw FTS5 with `fts`), newest first.

    The trigram indexes find candidates newest stored first (article ids grow as
    scans store articles); each is verified with the watchlists' matcher, and the
    search stops at `limit` verified articles, so a common word costs no more
    than a rare one. With `fts` the query goes to the index as it is, unverified.

    Article filters (market, language, source, since/until on fetched_at) apply to
    the article; hit filters (watchlist, category, severity, status) keep articles
    with at least one such hit.
    """
    conditions, params = _article_conditions(filters)
    columns = (
        "a.id, a.title, a.url, a.source, a.market, a.language, a.published_at, a.fetched_at, "
        "(SELECT COUNT(*) FROM hits hc WHERE hc.article_id = a.id), a.text"
    )
    if fts:
        return _raw_fts_search(store, query, columns, conditions, params, limit)
    compiled = search.compile_search(query)
    candidates = search.iter_candidates(
        lambda sql, sql_params: _execute(store, sql, sql_params),
        compiled,
        columns=columns,
        conditions=conditions,
        params=params,
    )
    results: list[SearchResult] = []
    for row in candidates:
        found = compiled.find(row[1], row[9])
        if found is None:
            continue
        results.append(_search_result(row, _found_context(row[9], row[1], found)))
        if limit and len(results) >= limit:
            break
    return results


def _raw_fts_search(
    store: Store,
    query: str,
    columns: str,
    conditions: list[str],
    params: list[Any],
    limit: int | None,
) -> list[SearchResult]:
    """`search --fts`: the analyst's FTS5 query on `articles_fts`, as it is."""
    if not query.strip():
        raise UsageError("search: the query is empty")
    highlight = [w.strip('"*') for w in re.findall(r'"[^"]+"|[^\s()"]+', query)]
    highlight = [w for w in highlight if w not in ("AND", "OR", "NOT")]
    # Driven by the FTS index in descending rowid order: the newest articles
    # come first and LIMIT stops the search early, however common the word.
    sql = (
        f"SELECT {columns} FROM articles_fts CROSS JOIN articles a "
        f"ON a.id = articles_fts.rowid {_where(['articles_fts MATCH ?', *conditions])} "
        "ORDER BY articles_fts.rowid DESC"
    )
    params = [query, *params]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [
        _search_result(row, _body_context(row[9], row[1], highlight))
        for row in _execute(store, sql, params, raw_fts=True)
    ]


def _search_result(row: Sequence[Any], context: Context) -> SearchResult:
    return SearchResult(
        article_id=row[0],
        title=row[1],
        url=row[2],
        source=row[3],
        market=row[4],
        language=row[5],
        published_at=row[6],
        fetched_at=row[7],
        hits=row[8],
        context=context,
    )


def _found_context(text: str, title: str, found: search.Found) -> Context:
    """The first verified match in the article's body: the title is shown anyway.

    The stored text often starts with the headline, so a match there comes
    after one further down; a match only in the title shows the body's start.
    """
    headline = title.strip()
    body_start = 0
    if headline and text.startswith(headline):
        body_start = len(headline)
    spans = [s for s in found.text_spans if s[0] >= body_start] or list(found.text_spans)
    if not spans:
        return _no_match_context(text)
    return _span_context(text, *spans[0])


def _no_match_context(text: str, width: int = 80) -> Context:
    head = text[: 2 * width]
    return Context(head + ("…" if len(text) > len(head) else ""), "", "")


def _span_context(text: str, start: int, end: int, width: int = 80) -> Context:
    stand_in = Hit(
        0, "", None, "", None, "", "", "", "", text[start:end], "", "", "", None,
        "", None, 0, start, end,
    )  # fmt: skip
    return match_context(text, stand_in, width)


def _article_conditions(filters: Filters) -> tuple[list[str], list[Any]]:
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
            conditions.append(_in(f"a.{column}", values))
            params.extend(values)
    hit_only = Filters(
        watchlists=filters.watchlists,
        categories=filters.categories,
        severity=filters.severity,
        statuses=filters.statuses,
    )
    if not hit_only.is_empty():
        hit_sql, hit_params = hit_conditions(hit_only, alias="hx")
        conditions.append(
            f"EXISTS (SELECT 1 FROM hits hx WHERE hx.article_id = a.id AND {' AND '.join(hit_sql)})"
        )
        params.extend(hit_params)
    if filters.text:
        text_sql, text_params = search.text_condition(filters.text, "a.id")
        conditions.append(text_sql)
        params.extend(text_params)
    return conditions, params


def _body_context(text: str, title: str, terms: Sequence[str]) -> Context:
    """The match in the article's body when there is one: the title is shown anyway.

    The stored text starts with the headline, so the first match is often in it.
    """
    headline = title.strip()
    if headline and text.startswith(headline):
        body = text[len(headline) :].lstrip()
        context = find_context(body, terms)
        if context.match:
            return context
    return find_context(text, terms)


def find_context(text: str, terms: Sequence[str], width: int = 80) -> Context:
    """The first place in `text` where one of `terms` occurs, case-insensitively.

    A whole-word occurrence wins over one inside a word (`ad` in "an ad", not in
    "had"); in Thai and Burmese, which have no spaces, any occurrence is taken.
    """
    lowered = text.lower()
    # lower() can change a string's length (rare letters); then offsets would
    # drift, so search the text as it is.
    haystack = lowered if len(lowered) == len(text) else text
    best: tuple[int, int] | None = None
    for whole_word in (True, False):
        for term in terms:
            needle = term.lower() if haystack is lowered else term
            if not needle:
                continue
            at = _find(haystack, needle, whole_word=whole_word)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, at + len(needle))
        if best is not None:
            break
    if best is None:
        return _no_match_context(text, width)
    return _span_context(text, *best, width)


def _find(haystack: str, needle: str, *, whole_word: bool) -> int:
    if not whole_word:
        return haystack.find(needle)
    found = re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack)
    return found.start() if found else -1


# --- trends -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    """Hits per day of one group, and how its last day compares with the days before."""

    group: str
    counts: list[int]
    total: int
    mean: float  # mean per day over the days before the last
    last: int

    @property
    def change(self) -> float | None:
        """The last day against the mean of the days before, in percent (None: no base)."""
        if self.mean == 0:
            return None
        return (self.last - self.mean) / self.mean * 100

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change_pct": self.change}


@dataclass(frozen=True)
class Trends:
    by: str
    days: list[str]
    rows: list[TrendRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "days": self.days, "rows": [r.as_dict() for r in self.rows]}


def day_range(days: int, *, until: datetime | None = None) -> list[str]:
    """The last `days` UTC days ending today (or on `until`), oldest first, as YYYY-MM-DD."""
    end = (until or datetime.now(UTC)).astimezone(UTC).date()
    return [(end - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def hit_trends(
    store: Store,
    *,
    by: str = "market",
    days: int = 14,
    filters: Filters = Filters(),  # noqa: B008 - frozen, never mutated
    now: datetime | None = None,
) -> Trends:
    """Hits per UTC day per `by` group over the last `days` days, busiest group first."""
    if by not in TREND_GROUPS:
        raise UsageError(f"--by: expected one of {', '.join(TREND_GROUPS)}, got {by!r}")
    if days < 1:
        raise UsageError(f"--days: expected at least 1, got {days!r}")
    axis = day_range(days, until=now)
    if filters.is_empty():
        counts = _day_counts_by_index(store, by, axis)
    else:
        counts = _day_counts_grouped(store, by, axis, filters)
    rows = []
    for group, series in counts.items():
        before = series[:-1]
        mean = sum(before) / len(before) if before else 0.0
        rows.append(TrendRow(group, series, sum(series), mean, series[-1]))
    rows.sort(key=lambda r: (-r.total, r.group))
    return Trends(by=by, days=axis, rows=rows)


def _day_bounds(axis: Sequence[str]) -> list[tuple[str, str]]:
    nexts = [*axis[1:], (date.fromisoformat(axis[-1]) + timedelta(days=1)).isoformat()]
    return [
        (f"{day}T00:00:00Z", f"{after}T00:00:00Z") for day, after in zip(axis, nexts, strict=True)
    ]


def _day_counts_by_index(store: Store, by: str, axis: Sequence[str]) -> dict[str, list[int]]:
    """Counts per group and day read from the covering `hits_<by>_found_at` index alone.

    The groups come from a skip-scan of that index (one seek per distinct value),
    then one COUNT per group and day over an index range: no table row is read,
    so 30 days of a million hits take milliseconds, not a scan of the table.
    """
    conn = _connection(store)
    groups: list[str | None] = [
        row[0]
        for row in conn.execute(
            f"WITH RECURSIVE g(v) AS (SELECT MIN({by}) FROM hits UNION ALL "
            f"SELECT (SELECT MIN({by}) FROM hits WHERE {by} > g.v) FROM g WHERE g.v IS NOT NULL) "
            "SELECT v FROM g WHERE v IS NOT NULL"
        )
    ]
    groups.append(None)
    bounds = _day_bounds(axis)
    counts: dict[str, list[int]] = {}
    for group in groups:
        match = f"{by} IS NULL" if group is None else f"{by} = ?"
        sql = f"SELECT COUNT(*) FROM hits WHERE {match} AND found_at >= ? AND found_at < ?"
        key = [] if group is None else [group]
        series = [conn.execute(sql, [*key, low, high]).fetchone()[0] for low, high in bounds]
        if any(series):
            counts[group or ""] = series
    return counts


def _day_counts_grouped(
    store: Store, by: str, axis: Sequence[str], filters: Filters
) -> dict[str, list[int]]:
    """Counts per group and day with filters: one GROUP BY over the matching hits."""
    conditions, params = hit_conditions(filters)
    bounds = _day_bounds(axis)
    conditions[:0] = ["h.found_at >= ?", "h.found_at < ?"]
    params[:0] = [bounds[0][0], bounds[-1][1]]
    sql = (
        f"SELECT substr(h.found_at, 1, 10) AS day, COALESCE(h.{by}, '') AS grp, COUNT(*) "
        f"FROM hits h {_where(conditions)} GROUP BY day, grp"
    )
    index = {day: i for i, day in enumerate(axis)}
    counts: dict[str, list[int]] = {}
    for day, group, count in _execute(store, sql, params):
        if day in index:
            counts.setdefault(group, [0] * len(axis))[index[day]] += count
    return counts


# --- sources ------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceHealth:
    """A source with its health from the store and its recent yield."""

    name: str
    url: str
    market: str
    type: str
    configured: bool
    last_status: int | None = None
    last_error: str | None = None
    last_checked_at: str | None = None
    last_ok_at: str | None = None
    failures: int = 0  # consecutive failed scans: the current failure streak
    articles_recent: int = 0
    hits_recent: int = 0
    last_pages: int = 0  # article pages fetched in its last scan
    last_pages_failed: int = 0
    last_page_error: str | None = None  # the most common reason they failed

    @property
    def state(self) -> str:
        if self.last_checked_at is None:
            return "never checked"
        if not self.failures:
            return "ok"
        if (
            self.last_error
            and self.last_pages_failed
            and self.last_error.endswith(str(self.last_page_error))
        ):
            return "pages failing"
        return "failing"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


def source_health(
    store: Store | None,
    configured: Sequence[Source],
    *,
    days: int = 7,
    now: datetime | None = None,
) -> list[SourceHealth]:
    """Configured sources (then any only in the store) with health and last-`days` counts.

    With no store yet, the configured sources come back with empty health.
    """
    stored: dict[str, tuple[Any, ...]] = {}
    if store is not None:
        since = iso_utc((now or datetime.now(UTC)) - timedelta(days=days))
        sql = (
            "SELECT s.name, s.url, s.market, s.type, s.last_status, s.last_error, "
            "s.last_checked_at, s.last_ok_at, s.failures, "
            "(SELECT COUNT(*) FROM articles a WHERE a.source = s.name AND a.fetched_at >= ?), "
            "(SELECT COUNT(*) FROM hits h WHERE h.source = s.name AND h.found_at >= ?), "
            "s.last_pages, s.last_pages_failed, s.last_page_error "
            "FROM sources s ORDER BY s.name"
        )
        for row in _execute(store, sql, [since, since]):
            stored[row[0]] = row
    out: list[SourceHealth] = []
    for source in configured:
        row = stored.pop(source.name, None)
        health = row[4:] if row else ()
        out.append(SourceHealth(source.name, source.url, source.market, source.type, True, *health))
    for row in stored.values():
        out.append(SourceHealth(row[0], row[1], row[2], row[3], False, *row[4:]))
    return out
