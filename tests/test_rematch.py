from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from store_sql import execute, rows, value

from adwatch.errors import LockHeld, StoreError, UsageError
from adwatch.match import Matcher
from adwatch.models import Article, Match, Watchlist
from adwatch.rematch import RematchChange, rematch
from adwatch.store import open_store, scan_lock

TEXTS = {
    "en": "A scam ad on TikTok promised crypto riches. Regulators fined the platform.",
    "th": "ตำรวจเตือนโฆษณาหลอกลวงบนติ๊กต็อก และเว็บพนันออนไลน์",
    "vi": "Cảnh báo quảng cáo lừa đảo trên mạng xã hội",
}


def _watchlist(name: str, *terms: str, **fields: object) -> Watchlist:
    return Watchlist(name=name, category="fraud", severity="high", terms={"any": terms}, **fields)  # type: ignore[arg-type]


def _article(number: int, language: str, *, fetched_at: str = "2026-11-01T00:00:00Z") -> Article:
    return Article(
        url=f"https://news.example/{number}",
        source="example-news",
        market={"en": "TH", "th": "TH", "vi": "VN"}[language],
        title=f"Story {number}",
        text=TEXTS[language],
        language=language,
        published_at=None,
        fetched_at=fetched_at,
        content_hash=f"hash-{number}",
        extractor="trafilatura",
    )


@pytest.fixture
def store_path(store_at: str) -> str:
    """A store with three articles, matched with the first version of the watchlists."""
    path = store_at
    first = [_watchlist("scam-ads", "scam ad", "โฆษณาหลอกลวง"), _watchlist("old", "crypto")]
    matcher = Matcher.build(first)
    with open_store(path) as store:
        for number, language in enumerate(("en", "th", "vi"), start=1):
            article = _article(number, language, fetched_at=f"2026-11-0{number}T00:00:00Z")
            matches = matcher.match(article.text, market=article.market, language=language)
            store.save_article(article, matches)
    return path


def _hits(path: str | Path) -> set[tuple[int, str, str, str]]:
    return {
        (row["article_id"], row["watchlist"], row["term"], row["status"])
        for row in rows(path, "SELECT * FROM hits")
    }


def _triage(path: str | Path, term: str, *, status: str = "new", note: str | None = None) -> None:
    execute(path, "UPDATE hits SET status = ?, note = ? WHERE term = ?", [status, note, term])


def test_the_fixture_store_has_the_first_hits(store_path: str) -> None:
    assert _hits(store_path) == {
        (1, "scam-ads", "scam ad", "new"),
        (1, "old", "crypto", "new"),
        (2, "scam-ads", "โฆษณาหลอกลวง", "new"),
    }


def test_rematch_adds_new_hits_and_removes_stale_ones(store_path: str) -> None:
    now = [
        _watchlist("scam-ads", "scam ad", "quảng cáo lừa đảo"),  # Thai term dropped
        _watchlist("gambling", "พนันออนไลน์"),
    ]
    report = rematch(store_path, now, workers=1)
    assert report.articles == 3
    assert report.changes == [
        RematchChange("scam-ads", added=1, removed=1, kept_triaged=0),
        RematchChange("gambling", added=1, removed=0, kept_triaged=0),
        # No longer configured: its hits no longer match.
        RematchChange("old", added=0, removed=1, kept_triaged=0),
    ]
    assert _hits(store_path) == {
        (1, "scam-ads", "scam ad", "new"),
        (3, "scam-ads", "quảng cáo lừa đảo", "new"),
        (2, "gambling", "พนันออนไลน์", "new"),
    }


def test_new_hits_carry_article_details(store_path: str) -> None:
    rematch(store_path, [_watchlist("gambling", "พนันออนไลน์")], workers=1)
    [row] = rows(store_path, "SELECT * FROM hits WHERE watchlist = 'gambling'")
    assert (row["market"], row["language"], row["source"], row["status"]) == (
        "TH",
        "th",
        "example-news",
        "new",
    )
    assert row["matched_text"] == "พนันออนไลน์"
    assert TEXTS["th"][row["start"] : row["end"]] == "พนันออนไลน์"
    assert row["found_at"].endswith("Z") and row["note"] is None


def test_triaged_hits_that_no_longer_match_are_kept(store_path: str) -> None:
    _triage(store_path, "โฆษณาหลอกลวง", status="escalated")
    _triage(store_path, "crypto", note="check with policy")
    report = rematch(store_path, [_watchlist("scam-ads", "scam ad")], workers=1)
    assert report.changes == [
        RematchChange("scam-ads", added=0, removed=0, kept_triaged=1),
        RematchChange("old", added=0, removed=0, kept_triaged=1),
    ]
    assert _hits(store_path) == {
        (1, "scam-ads", "scam ad", "new"),
        (1, "old", "crypto", "new"),
        (2, "scam-ads", "โฆษณาหลอกลวง", "escalated"),
    }


def test_an_empty_note_is_not_triage(store_path: str) -> None:
    _triage(store_path, "crypto", note="")
    rematch(store_path, [_watchlist("scam-ads", "scam ad", "โฆษณาหลอกลวง")], workers=1)
    assert (1, "old", "crypto", "new") not in _hits(store_path)


def test_hits_found_again_keep_their_id_and_status(store_path: str) -> None:
    _triage(store_path, "scam ad", status="reviewing")
    before = rows(store_path, "SELECT id, found_at FROM hits WHERE term = 'scam ad'")
    changed = _watchlist("scam-ads", "scam ad", "โฆษณาหลอกลวง")
    critical = Watchlist(**{**changed.__dict__, "severity": "critical"})
    report = rematch(store_path, [critical, _watchlist("old", "crypto")], workers=1)
    assert all(c.added == c.removed == 0 for c in report.changes)
    after = rows(
        store_path, "SELECT id, found_at, status, severity FROM hits WHERE term = 'scam ad'"
    )
    assert [(r["id"], r["found_at"]) for r in after] == [(r["id"], r["found_at"]) for r in before]
    assert (after[0]["status"], after[0]["severity"]) == ("reviewing", "critical")


def test_only_leaves_other_watchlists_alone(store_path: str) -> None:
    now = [_watchlist("scam-ads", "scam ad"), _watchlist("gambling", "พนันออนไลน์")]
    report = rematch(store_path, now, only=["gambling"], workers=1)
    assert report.changes == [RematchChange("gambling", added=1, removed=0, kept_triaged=0)]
    # The Thai scam-ads hit and the unconfigured "old" hit stay: not in scope.
    assert _hits(store_path) == {
        (1, "scam-ads", "scam ad", "new"),
        (1, "old", "crypto", "new"),
        (2, "scam-ads", "โฆษณาหลอกลวง", "new"),
        (2, "gambling", "พนันออนไลน์", "new"),
    }


def test_only_names_a_configured_watchlist(store_path: str) -> None:
    with pytest.raises(UsageError, match="'nope'"):
        rematch(store_path, [_watchlist("scam-ads", "scam ad")], only=["nope"], workers=1)


def test_since_limits_the_articles(store_path: str) -> None:
    report = rematch(
        store_path,
        [_watchlist("gambling", "พนันออนไลน์", "scam ad")],
        since="2026-11-02T00:00:00Z",
        workers=1,
    )
    assert report.articles == 2
    hits = _hits(store_path)
    # Article 1 is older: its hits are untouched, and it gets no new ones.
    assert (1, "scam-ads", "scam ad", "new") in hits
    assert (1, "gambling", "scam ad", "new") not in hits
    assert (2, "gambling", "พนันออนไลน์", "new") in hits


def test_worker_processes_give_the_same_result(store_path: str, tmp_path: Path) -> None:
    now = [
        _watchlist("scam-ads", "scam ad", "quảng cáo lừa đảo"),
        _watchlist("gambling", "พนันออนไลน์"),
    ]
    report = rematch(store_path, now, workers=2)
    assert report.articles == 3
    assert _hits(store_path) == {
        (1, "scam-ads", "scam ad", "new"),
        (3, "scam-ads", "quảng cáo lừa đảo", "new"),
        (2, "gambling", "พนันออนไลน์", "new"),
    }


def test_rematch_streams_more_articles_than_one_chunk(store_at: str) -> None:
    path = store_at
    with open_store(path) as store:
        for number in range(1, 131):
            store.save_article(_article(number, "en"), [])
    report = rematch(path, [_watchlist("scam-ads", "scam ad")], workers=1)
    assert report.articles == 130
    assert report.changes == [RematchChange("scam-ads", added=130, removed=0, kept_triaged=0)]
    assert len(_hits(path)) == 130


@pytest.mark.sqlite_only
def test_rematch_waits_for_no_scan(store_path: str) -> None:
    with scan_lock(store_path), pytest.raises(LockHeld):
        rematch(store_path, [_watchlist("scam-ads", "scam ad")], workers=1)


def test_rematch_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here yet"):
        rematch(tmp_path / "missing.db", [], workers=1)


def test_rematch_trims_an_old_flood_of_hits_to_the_cap_and_keeps_the_total(store_at: str) -> None:
    # A store from before the cap: one page, 300 hits of one watchlist, plus a
    # shorter term at the same place as a longer one (two rows for one place).
    path = store_at
    text = "Warning: " + " ".join(["another scam ad here."] * 300)
    article = replace(_article(1, "en"), text=text)
    flood = _watchlist("scam-ads", "scam ad", "scam")
    old_matches = [
        Match("scam-ads", "fraud", "high", "scam", "scam", m.start, m.start + 4, m.snippet)
        for m in Matcher.build([flood]).match(text, market="TH", language="en")
    ] + Matcher.build([flood]).match(text, market="TH", language="en")
    with open_store(path) as store:
        store.save_article(article, old_matches)
    assert value(path, "SELECT COUNT(*) FROM hits") == 600

    report = rematch(path, [flood], workers=1)
    assert report.changes == [RematchChange("scam-ads", 0, 575, 0)]
    assert value(path, "SELECT COUNT(*) FROM hits") == 25
    terms = {row["term"] for row in rows(path, "SELECT term FROM hits")}
    assert terms == {"scam ad"}  # the longest per place
    assert rows(path, "SELECT * FROM hit_totals") == [
        {"article_id": 1, "watchlist": "scam-ads", "total": 300, "kept": 25}
    ]
