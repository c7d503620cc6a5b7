"""The query library on a real store file: filters, plans, show, triage, search, trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from query_fixtures import NOW, Planted, fill_store
from store_sql import execute, rows

from adwatch import query
from adwatch.errors import QueryError, UsageError
from adwatch.models import Source
from adwatch.query import Filters, make_filters
from adwatch.store import open_store
from adwatch.store.base import HIT_COLUMNS
from adwatch.text.dates import parse_when
from adwatch.text.snippets import joined

Planted_store = tuple[str, list[Planted]]


@pytest.fixture
def planted_store(store_at: str) -> Planted_store:
    return store_at, fill_store(store_at)


def ids(store_path: Path, **options: object) -> list[int]:
    with open_store(store_path, create=False) as store:
        return [h.id for h in query.list_hits(store, make_filters(**options), limit=0)]


# --- parse_when -------------------------------------------------------------------------

FIXED = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90m", "2026-11-25T10:30:00Z"),
        ("24h", "2026-11-24T12:00:00Z"),
        ("7d", "2026-11-18T12:00:00Z"),
        ("2w", "2026-11-11T12:00:00Z"),
        ("2026-11-01", "2026-11-01T00:00:00Z"),
        ("2026-11-01T08:30", "2026-11-01T08:30:00Z"),
        ("2026-11-01 08:30:15", "2026-11-01T08:30:15Z"),
        ("2026-11-01T08:30:00+07:00", "2026-11-01T01:30:00Z"),
        ("2026-11-01T08:30:00Z", "2026-11-01T08:30:00Z"),
    ],
)
def test_parse_when_reads_dates_times_and_ages(value: str, expected: str) -> None:
    assert parse_when(value, "since", now=FIXED) == expected


def test_until_a_bare_date_includes_that_whole_day() -> None:
    assert parse_when("2026-11-01", "until", upper=True) == "2026-11-01T23:59:59Z"


@pytest.mark.parametrize("value", ["3x", "", "yesterday", "2026-13-01", "7 days", "-5d"])
def test_a_bad_time_is_a_usage_error_naming_the_field(value: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_when(value, "until")
    message = str(caught.value)
    assert caught.value.field == "until"
    assert message.startswith("until: ") and repr(value) in message and "\n" not in message


# The library names fields; only the CLI names options (test_cli_query checks those).
@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"severity": ["urgent"]}, "severity: expected one of low, medium, high, critical"),
        ({"status": ["done"]}, "status: expected one of new, reviewing, escalated, dismissed"),
        ({"market": [" "]}, "market: empty value"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until: '2026-11-01' is before"),
        ({"text": '"unclosed'}, "text: bad query"),
        ({"text": "  "}, "text: the search text is empty"),
    ],
)
def test_bad_filter_values_are_usage_errors(options: dict[str, object], problem: str) -> None:
    with pytest.raises((UsageError, QueryError)) as caught:
        make_filters(**options)  # type: ignore[arg-type]
    assert str(caught.value).startswith(problem)
    assert caught.value.exit_code == 2


def test_severity_is_a_minimum_and_repeated_values_take_the_lowest() -> None:
    assert make_filters(severity="high").severities() == ("high", "critical")
    assert make_filters(severity=["critical", "medium"]).severities() == (
        "medium",
        "high",
        "critical",
    )


def test_market_and_language_values_are_normalised() -> None:
    filters = make_filters(market=["th", "TH", "vn"], language=["TH"])
    assert filters.markets == ("TH", "VN") and filters.languages == ("th",)


# --- each filter, composed --------------------------------------------------------------


def test_hits_come_newest_first(planted_store: Planted_store) -> None:
    path, planted = planted_store
    found = ids(path)
    assert sorted(found) == sorted(p.id for p in planted)
    ages = {p.id: p.found_at for p in planted}
    assert [ages[i] for i in found] == sorted(ages.values(), reverse=True)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"since": "24h"}, {1, 2, 3}),
        ({"since": "5d", "until": "90m"}, {2, 3, 4}),
        ({"market": ["MM"]}, {4}),
        ({"market": ["MM", "VN"]}, {2, 3, 4, 8}),
        ({"language": ["en"]}, {5, 6, 7, 8}),
        ({"watchlist": ["scam-ads"]}, {1, 2, 4}),
        ({"watchlist": ["scam-ads", "regulator-fines"]}, {1, 2, 4, 8}),
        ({"category": ["elections"]}, {5, 6}),
        ({"severity": "critical"}, {3, 5, 6}),
        ({"severity": "high"}, {1, 2, 3, 4, 5, 6}),
        ({"severity": "low"}, {1, 2, 3, 4, 5, 6, 7, 8}),
        ({"status": ["dismissed"]}, {8}),
        ({"status": ["new"]}, {1, 2, 3, 4, 5, 6, 7}),
        ({"source": ["vn-news"]}, {2, 3, 8}),
        ({"text": "deepfake"}, {2, 3}),
        ({"text": "หลอกลวง"}, {1}),
        ({"text": "လိမ်လည်"}, {4}),
        ({"text": "POLITICAL AD"}, {5, 6, 7}),
        ({"market": ["VN"], "severity": "critical"}, {3}),
        ({"market": ["TH"], "since": "30d", "watchlist": ["election-political-ads"]}, {5, 6}),
        ({"severity": "high", "since": "24h", "source": ["vn-news"]}, {2, 3}),
        ({"market": ["TH", "MM"], "severity": "high"}, {1, 4, 5, 6}),
    ],
)
def test_each_filter_and_their_combinations(
    planted_store: Planted_store, options: dict[str, object], expected: set[int]
) -> None:
    path, _ = planted_store
    assert set(ids(path, **options)) == expected


def test_a_short_thai_text_filter_uses_the_documented_fallback(
    planted_store: Planted_store,
) -> None:
    # "บน" (on) is two characters: trigrams cannot find it, instr() does.
    path, _ = planted_store
    assert set(ids(path, text="บน")) == {1}
    assert set(ids(path, text="บน AND ติ๊กต็อก")) == {1}
    assert set(ids(path, text="บน NOT ติ๊กต็อก")) == set()


def test_limit_keeps_the_newest(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        # Hits 2 and 3 were found at the same second: the higher id comes first.
        assert [h.id for h in query.list_hits(store, Filters(), limit=2)] == [1, 3]
        # A multi-valued filter takes the per-value merged plan: same order.
        high = query.list_hits(store, make_filters(severity="high"), limit=3)
        assert [h.id for h in high] == [1, 3, 2]


# --- plans: every filter uses an index ---------------------------------------------------


def plan(store_path: Path, filters: Filters, *, limit: int | None = 50) -> str:
    with open_store(store_path, create=False) as store:
        sql, params = store.hits_query(filters, columns=HIT_COLUMNS, limit=limit)
        rows = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(row[3] for row in rows)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("options", "index"),
    [
        ({"since": "24h"}, "hits_found_at"),
        ({"until": "2026-11-01"}, "hits_found_at"),
        ({"market": ["TH"]}, "hits_market_found_at"),
        ({"language": ["th"]}, "hits_language_found_at"),
        ({"watchlist": ["scam-ads"]}, "hits_watchlist_found_at"),
        ({"category": ["fraud"]}, "hits_category_found_at"),
        ({"severity": "high"}, "hits_severity_found_at"),
        ({"status": ["new"]}, "hits_status_found_at"),
        ({"source": ["th-news"]}, "hits_source_found_at"),
        ({"market": ["TH", "VN"]}, "hits_market_found_at"),
        ({"market": ["TH"], "since": "7d"}, "hits_market_found_at (market=? AND found_at>?)"),
        ({"text": "deepfake"}, "articles_folded_fts VIRTUAL TABLE INDEX"),
    ],
)
def test_every_filter_is_answered_through_an_index(
    planted_store: Planted_store, options: dict[str, object], index: str
) -> None:
    path, _ = planted_store
    text = plan(path, make_filters(**options))
    assert index in text, text
    assert "SCAN h\n" not in text + "\n" and not text.startswith("SCAN h "), text


@pytest.mark.sqlite_only
def test_a_single_value_filter_gives_the_order_without_sorting(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    text = plan(path, make_filters(market=["TH"], severity="high", since="7d"))
    assert "hits_market_found_at" in text and "TEMP B-TREE" not in text, text


@pytest.mark.sqlite_only
def test_no_filter_walks_the_time_index_for_export(planted_store: Planted_store) -> None:
    path, _ = planted_store
    text = plan(path, Filters(), limit=None)
    assert "hits_found_at" in text and "TEMP B-TREE" not in text, text


def test_filter_values_are_bound_never_spliced(planted_store: Planted_store) -> None:
    path, _ = planted_store
    hostile = "x' OR '1'='1"
    with open_store(path, create=False) as store:
        sql, params = store.hits_query(
            make_filters(market=[hostile], watchlist=[hostile]), columns=HIT_COLUMNS, limit=None
        )
    assert hostile.upper() not in sql.upper() and hostile not in sql
    assert ids(path, watchlist=[hostile]) == []


# --- grouping, show --------------------------------------------------------------------------


def test_group_by_article_lists_each_article_once_with_its_watchlists(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        groups = query.list_articles_with_hits(store, Filters(), limit=0)
    by_article = {g.article_id: g for g in groups}
    assert len(groups) == 5
    assert by_article[2].watchlists == ("deepfake-investment", "scam-ads")
    assert by_article[2].severity == "critical" and by_article[2].hit_ids == (3, 2)
    assert by_article[4].watchlists == ("election-political-ads", "formula-bait")
    assert [g.article_id for g in groups] == [1, 2, 3, 4, 5]


def test_get_hit_returns_the_match_in_context_other_hits_and_history(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        detail = query.get_hit(store, 2)
    assert detail.context.match == "quảng cáo lừa đảo"
    assert detail.context.before.endswith("cảnh báo ")
    assert detail.context.after.startswith(" đầu tư")
    assert [h.id for h in detail.other_hits] == [3]
    assert detail.hit.url == "https://vn.example/1" and detail.history == []


def test_get_hit_falls_back_to_the_snippet_when_the_article_changed(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    execute(path, "UPDATE articles SET text = 'rewritten' WHERE id = 1")
    with open_store(path, create=False) as store:
        detail = query.get_hit(store, 1)
    assert detail.context.match == "โฆษณาหลอกลวง"


def test_an_unknown_hit_id_is_a_usage_error(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with (
        open_store(path, create=False) as store,
        pytest.raises(UsageError, match="no hit with id 99"),
    ):
        query.get_hit(store, 99)


# --- triage --------------------------------------------------------------------------------


def test_triage_updates_status_and_logs_every_change_with_notes(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        first = query.triage_hits(store, [1, 2], status="reviewing", note="checking", who="ana")
        second = query.triage_hits(store, [1], status="escalated", note="sent to policy", who="bo")
        # The same status with no note changes nothing and logs nothing.
        third = query.triage_hits(store, [1], status="escalated", who="bo")
        history = query.triage_history(store, 1)
    assert [(c.hit_id, c.old_status, c.new_status) for c in first] == [
        (1, "new", "reviewing"),
        (2, "new", "reviewing"),
    ]
    assert len(second) == 1 and third == []
    assert [(e.who, e.old_status, e.new_status, e.note) for e in history] == [
        ("ana", "new", "reviewing", "checking"),
        ("bo", "reviewing", "escalated", "sent to policy"),
    ]
    assert rows(path, "SELECT status, note FROM hits WHERE id = 1") == [
        {"status": "escalated", "note": "sent to policy"}
    ]


def test_triage_records_the_os_user_when_no_one_is_named(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        query.triage_hits(store, [3], status="dismissed")
        assert query.triage_history(store, 3)[0].who == query.current_user() != ""


def test_triage_with_an_unknown_id_changes_nothing(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        with pytest.raises(UsageError, match="no hit with id 404, 405 .*nothing changed"):
            query.triage_hits(store, [1, 404, 405], status="dismissed")
        assert query.triage_history(store, 1) == []
    assert ids(path, status=["dismissed"]) == [8]


@pytest.mark.parametrize(("status", "note"), [("closed", None), ("new", "  ")])
def test_triage_rejects_a_bad_status_or_an_empty_note(
    planted_store: Planted_store, status: str, note: str | None
) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store, pytest.raises(UsageError):
        query.triage_hits(store, [1], status=status, note=note)


# --- search --------------------------------------------------------------------------------


def search(path: Path, text: str, **kwargs: object) -> list[int]:
    with open_store(path, create=False) as store:
        return [r.article_id for r in query.search_articles(store, text, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("หลอกลวง", [1]),  # Thai inside a longer run of Thai
        ("ติ๊กต็อก", [1]),
        ("လိမ်လည်", [3]),  # Burmese
        ("lừa đảo", [2]),  # Vietnamese
        ("Deepfake", [2]),  # case-insensitive
        ("political ad", [4]),  # plain words are ANDed
        ('"ad platform"', [5]),
        ("regulator OR deepfake", [5, 2]),
        ("ad NOT regulator", [4]),  # a two-letter word: the instr fallback
        ("(election OR scam) AND NOT Facebook", [5]),
        ("advert*", []),
        ("fine*", [5]),
        ("บน", [1]),  # short Thai: instr finds it where LIKE would not
    ],
)
def test_search_uses_the_watchlist_language(
    planted_store: Planted_store, text: str, expected: list[int]
) -> None:
    path, _ = planted_store
    assert search(path, text) == expected


def test_search_results_come_newest_stored_first_with_the_match_highlighted(
    planted_store: Planted_store,
) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        results = query.search_articles(store, "ad")
    assert [r.article_id for r in results] == [5, 4]
    assert results[0].context.match.lower() == "ad"
    assert results[1].hits == 3


@pytest.mark.sqlite_only
def test_search_filters_and_raw_fts(planted_store: Planted_store) -> None:
    path, _ = planted_store
    assert search(path, "ad", filters=make_filters(market=["TH"])) == [4]
    assert search(path, "ad", filters=make_filters(status=["dismissed"])) == [5]
    assert search(path, '"political" NOT "facebook"', fts=True) == []
    assert search(path, "politic", fts=True) == [4]
    with pytest.raises(UsageError, match="not valid FTS5 syntax"):
        search(path, '"unclosed', fts=True)


def test_a_bad_search_query_names_the_problem(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with pytest.raises(QueryError, match="search: bad query at position"):
        search(path, "scam AND")


# --- trends --------------------------------------------------------------------------------


def test_trends_count_hits_per_day_per_group(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        trends = query.hit_trends(store, by="market", days=14)
    assert trends.days[-1] == NOW.date().isoformat() and len(trends.days) == 14
    rows = {row.group: row for row in trends.rows}
    assert set(rows) == {"TH", "VN", "MM"}  # the 30-day-old VN hit is outside
    assert rows["TH"].total == 4 and rows["VN"].total == 2 and rows["MM"].total == 1
    ten_days_ago = trends.days.index((NOW - timedelta(days=10)).date().isoformat())
    assert rows["TH"].counts[ten_days_ago] == 3


def test_the_index_path_and_the_filtered_path_agree(planted_store: Planted_store) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store:
        for by in query.TREND_GROUPS:
            fast = query.hit_trends(store, by=by, days=40)
            # severity "low" keeps every hit, but forces the GROUP BY path.
            slow = query.hit_trends(store, by=by, days=40, filters=make_filters(severity="low"))
            assert fast.as_dict() == slow.as_dict(), by


def test_the_change_compares_the_last_day_with_the_mean_before_it() -> None:
    spike = query.TrendRow("TH", [1, 1, 1, 5], 8, 1.0, 5)
    assert spike.change == 400
    assert query.TrendRow("VN", [0, 0, 3], 3, 0.0, 3).change is None


@pytest.mark.parametrize(("by", "days"), [("colour", 7), ("market", 0)])
def test_bad_trend_options(planted_store: Planted_store, by: str, days: int) -> None:
    path, _ = planted_store
    with open_store(path, create=False) as store, pytest.raises(UsageError):
        query.hit_trends(store, by=by, days=days)


# --- sources --------------------------------------------------------------------------------


def test_source_health_joins_config_and_store(planted_store: Planted_store) -> None:
    path, _ = planted_store
    configured = [
        Source("th-news", "https://th.example/rss", "TH"),
        Source("mm-news", "https://mm.example/rss", "MM"),
        Source("brand-new", "https://new.example/rss", "VN"),
    ]
    with open_store(path, create=False) as store:
        health = {h.name: h for h in query.source_health(store, configured)}
    assert health["th-news"].state == "ok" and health["th-news"].hits_recent == 1
    assert health["th-news"].articles_recent == 1
    assert health["mm-news"].state == "failing" and health["mm-news"].failures == 4
    assert health["mm-news"].last_error == "HTTP 500 after 3 tries"
    assert health["brand-new"].state == "never checked" and health["brand-new"].configured
    # In the store but no longer configured: still listed, flagged.
    assert not health["vn-news"].configured and health["vn-news"].hits_recent == 2


def test_source_health_without_a_store() -> None:
    health = query.source_health(None, [Source("a", "https://a.example/rss", "TH")])
    assert [(h.name, h.state, h.hits_recent) for h in health] == [("a", "never checked", 0)]


def test_context_is_never_cut_inside_a_written_syllable() -> None:
    text = "ตำรวจไซเบอร์เตือนประชาชนระวังโฆษณาหลอกลวงชวนลงทุนที่ใช้ภาพคนดังปลอม เมียนမြန်မာ"
    for width in range(1, 40):
        context = query.find_context(text, ["หลอกลวง"], width=width)
        assert context.match == "หลอกลวง"
        first = context.before.removeprefix("…")[:1]
        last = context.after.removesuffix("…")[-1:]
        if first:
            assert not joined("", first), (width, context)
        if last and context.after.endswith("…"):
            assert last not in "เแโใไ", (width, context)
        assert (context.before + context.match + context.after).replace("…", "") in text


def test_the_context_prefers_a_whole_word() -> None:
    text = "The ministry had fined an ad platform."
    assert query.find_context(text, ["ad"]).before.endswith("fined an ")
    # No whole word: any occurrence will do (Thai has no spaces between words).
    assert query.find_context("shadow", ["ad"]).before == "sh"
